/*
 * t/test-bpf-pipeline.c - load the selftest BPF program through its
 * generated skeleton on this kernel and watch it count real syscalls.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "selftest.h"
#include "selftest.skel.h"
#include "tap.h"

int
main(void)
{
	struct selftest_bpf *skel;
	int error;

	log_init("test-bpf-pipeline", LOG_LEVEL_WARN);
	log_route_libbpf();
	if (geteuid() != 0)
		skip_all("loading BPF programs needs root");

	skel = selftest_bpf__open();
	if (!ok(skel != NULL, "the skeleton opens"))
		return done_testing();
	skel->rodata->target_tgid = getpid();
	error = selftest_bpf__load(skel);
	if (!ok(error == 0, "the program loads and passes the verifier (%s)",
	    error ? strerror(-error) : "ok")) {
		selftest_bpf__destroy(skel);
		return done_testing();
	}
	error = selftest_bpf__attach(skel);
	ok(error == 0, "the program attaches to the sys_enter BTF tracepoint");

	ok(SYS_getpgid == SELFTEST_NR_GETPGID, "the program watches the right syscall number");
	for (int i = 0; i < 5; i++)
		syscall(SYS_getpgid, 4242 + i);
	is_int(skel->bss->calls, 5, "five getpgid() calls were counted in the kernel");
	is_int(skel->bss->last_pid_arg, 4246, "the last call's argument reached the program");

	selftest_bpf__destroy(skel);
	return done_testing();
}
