// SPDX-License-Identifier: GPL-2.0
/*
 * hint.bpf.c - each task's scx_layered hint, written in the kernel.
 *
 * The agent keeps a table from pod cgroup id to hint (a tier's HintEquals
 * value); this program keeps scx_layered's pinned task-hint map in step
 * with it, so a pod joining or leaving a tier is a table update, never a
 * scheduler restart.  Three entry points share one rule ("the hint of the
 * nearest listed ancestor of the task's cgroup-v2 cgroup, or no entry"):
 *
 *   - sched_process_fork: a new task, in its final cgroup (clone3 with
 *     CLONE_INTO_CGROUP included, cgroup_post_fork has run);
 *   - cgroup_attach_task: a task or a whole thread group moved; the
 *     tracepoint fires once for the leader, so a group move walks the
 *     leader's threads with the task iterator kfuncs;
 *   - iter/cgroup: user space runs it over the subtree of each cgroup whose
 *     entry it changed, for the tasks already inside (cost: that pod's
 *     tasks, not the node's);
 *   - iter/task: the same over every task, when a change is too large to
 *     walk cgroup by cgroup (and at start).
 *
 * All are BTF-typed (tp_btf, iter), so no tracefs and no kprobes.  The
 * task-hint map itself is created (or reused) at the pin path by user
 * space: scx_layered opens the same pin and only reads it.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hint.h"

/* libbpf 1.1's headers predate the open-coded task iterator (kernel 6.7). */
extern int bpf_iter_task_new(struct bpf_iter_task *it,
    struct task_struct *task, unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it,
    struct cgroup_subsys_state *css, unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hint_task_value);
} scx_layered_task_hint_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HINT_MAX_CGROUPS);
	__type(key, __u64);		/* cgroup id (kernfs id, the directory's inode) */
	__type(value, __u32);		/* hint */
} cgroup_hints SEC(".maps");

struct hint_counters counters = { 0 };

/* The hint of the nearest listed ancestor (or self), or -1 for none. */
static __always_inline long
hint_of_task(struct task_struct *task)
{
	struct cgroup *cgroup = BPF_CORE_READ(task, cgroups, dfl_cgrp);

	for (int level = 0; level < HINT_MAX_DEPTH && cgroup; level++) {
		__u64 id = BPF_CORE_READ(cgroup, kn, id);
		__u32 *hint = bpf_map_lookup_elem(&cgroup_hints, &id);

		if (hint)
			return *hint <= HINT_MAX_VALUE ? *hint : -1;
		/* self is struct cgroup's first member: the parent css is the
		 * parent cgroup (NULL at the root). */
		cgroup = (struct cgroup *)BPF_CORE_READ(cgroup, self.parent);
	}
	return -1;
}

static __always_inline void
hint_apply(struct task_struct *task)
{
	long hint = hint_of_task(task);
	struct hint_task_value *value;

	if (hint < 0) {
		/* Only clear what exists: a delete of nothing still locks. */
		if (bpf_task_storage_get(&scx_layered_task_hint_map, task, 0, 0) &&
		    bpf_task_storage_delete(&scx_layered_task_hint_map, task) == 0)
			__sync_fetch_and_add(&counters.cleared, 1);
		return;
	}
	value = bpf_task_storage_get(&scx_layered_task_hint_map, task, 0,
	    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!value) {
		__sync_fetch_and_add(&counters.failed, 1);
		return;
	}
	if (value->hint != (__u64)hint) {
		value->hint = hint;
		__sync_fetch_and_add(&counters.written, 1);
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(hint_fork, struct task_struct *parent, struct task_struct *child)
{
	__sync_fetch_and_add(&counters.forks, 1);
	hint_apply(child);
	return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(hint_attach, struct cgroup *destination, const char *path,
    struct task_struct *task, bool threadgroup)
{
	struct bpf_iter_task threads;
	struct task_struct *thread;

	__sync_fetch_and_add(&counters.attaches, 1);
	/* Whatever hierarchy moved (v1 ones too on a hybrid host), the rule
	 * reads the task's cgroup-v2 cgroup, so recomputing is harmless. */
	if (!threadgroup) {
		hint_apply(task);
		return 0;
	}
	/* The verifier bounds an iterator loop itself: no counter. */
	bpf_iter_task_new(&threads, task, BPF_TASK_ITER_PROC_THREADS);
	while ((thread = bpf_iter_task_next(&threads)))
		hint_apply(thread);
	bpf_iter_task_destroy(&threads);
	return 0;
}

SEC("iter/cgroup")
int hint_sweep_cgroup(struct bpf_iter__cgroup *context)
{
	struct cgroup *cgroup = context->cgroup;
	struct bpf_iter_css_task tasks;
	struct task_struct *task;

	if (!cgroup)
		return 0;
	/* Flags 0: every task (thread) of this cgroup; the walk's order
	 * brings the descendants. */
	bpf_iter_css_task_new(&tasks, &cgroup->self, 0);
	while ((task = bpf_iter_css_task_next(&tasks)))
		hint_apply(task);
	bpf_iter_css_task_destroy(&tasks);
	return 0;
}

SEC("iter/task")
int hint_sweep(struct bpf_iter__task *context)
{
	struct task_struct *task = context->task;

	if (task)
		hint_apply(task);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
