/*
 * observe-record.h - the ring-buffer records of bpf/placement.bpf.c, decoded
 * and checked.
 *
 * Pure: bytes in, a struct out.  The bytes come from the kernel, but the
 * decoder trusts nothing about them (length, version, CPU numbers, the
 * command name's bytes), because whatever it passes on ends up in JSON
 * answers and trace files.  Fuzzed by t/fuzz/fuzz-placement-record.c.
 */
#ifndef TEMPER_OBSERVE_RECORD_H
#define TEMPER_OBSERVE_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* Command names: 15 bytes and a NUL, printable ASCII after decoding. */
#define OBSERVE_COMM_SIZE 16

struct observe_event {
	uint32_t tid;
	uint32_t tgid;
	uint64_t cgroup_id;
	uint64_t group;		/* the watched cgroup it counts under, 0: none */
	int32_t cpu;
	int32_t prev_cpu;	/* -1: no previous run known */
	uint64_t start_ns;	/* CLOCK_MONOTONIC */
	uint64_t run_ns;
	uint64_t latency_ns;
	char comm[OBSERVE_COMM_SIZE];
};

/*
 * Decode one record of len bytes.  cpu_limit bounds CPU numbers (the
 * possible CPUs).  0, or -EINVAL (too short, unknown version or kind, a CPU
 * out of range, a run ending past the clock's range), with *event untouched.
 */
int observe_record_decode(const void *data, size_t len, unsigned cpu_limit,
    struct observe_event *event);

#endif
