// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.bpf.c - the smallest real BPF program: proves the pipeline
 * (vmlinux.h, clang -target bpf, skeleton, load, attach) end to end.  It
 * counts getpgid() calls made by one process, set through rodata.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "selftest.h"

const volatile int target_tgid = 0;

int calls = 0;
int last_pid_arg = 0;

SEC("tracepoint/syscalls/sys_enter_getpgid")
int selftest_getpgid(struct trace_event_raw_sys_enter *ctx)
{
	int tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid != target_tgid)
		return 0;
	if (calls < SELFTEST_MAX_CALLS)
		__sync_fetch_and_add(&calls, 1);
	last_pid_arg = (int)ctx->args[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
