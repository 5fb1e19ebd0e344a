// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.bpf.c - the smallest real BPF program: proves the pipeline
 * (vmlinux.h, clang -target bpf, skeleton, load, attach) end to end.  It
 * counts getpgid() calls made by one process, set through rodata.  It uses
 * a BTF-typed tracepoint, as the observation layer does, so it needs
 * neither tracefs nor kprobes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "selftest.h"

const volatile int target_tgid = 0;

int calls = 0;
long last_pid_arg = 0;

SEC("tp_btf/sys_enter")
int BPF_PROG(selftest_sys_enter, struct pt_regs *regs, long id)
{
	int tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid != target_tgid || id != SELFTEST_NR_GETPGID)
		return 0;
	if (calls < SELFTEST_MAX_CALLS)
		__sync_fetch_and_add(&calls, 1);
	last_pid_arg = regs->di;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
