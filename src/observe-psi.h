/*
 * observe-psi.h - CPU pressure stall information: the node's
 * /proc/pressure/cpu and each pod's cgroup cpu.pressure.
 *
 * observe_psi_parse() is pure.  The rest is small synchronous file I/O on
 * procfs and cgroupfs (never blocking), and a trigger: a threshold written
 * into a pressure file, whose fd then polls POLLPRI when the stall exceeds
 * it within the window.  Kernels allow unprivileged triggers only with
 * windows that are multiples of 2 s, and some refuse triggers on
 * the files under /proc/pressure altogether: the caller falls back to
 * periodic reads.
 */
#ifndef TEMPER_OBSERVE_PSI_H
#define TEMPER_OBSERVE_PSI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct observe_psi_line {
	double avg10, avg60, avg300;	/* percent of wall time stalled */
	uint64_t total_us;
};

struct observe_psi {
	struct observe_psi_line some;
	struct observe_psi_line full;
	bool has_full;
};

/* "some avg10=... avg60=... avg300=... total=...\nfull ...". 0 or -EINVAL. */
int observe_psi_parse(const char *text, size_t len, struct observe_psi *psi);

/* Read and parse a pressure file. 0 or a negative errno. */
int observe_psi_read(const char *path, struct observe_psi *psi);

/*
 * Open path and arm a "some stall_us window_us" trigger on it.  The fd
 * (O_RDWR|O_NONBLOCK|O_CLOEXEC) is returned for polling POLLPRI, or a
 * negative errno with *cause (EINVAL: the kernel refused the trigger).
 */
int observe_psi_trigger_open(const char *path, uint64_t stall_us,
    uint64_t window_us, char **cause);

#endif
