// SPDX-License-Identifier: GPL-2.0
/*
 * placement.bpf.c - where threads run and how long they wait for a CPU.
 *
 * Four BTF tracepoints (no tracefs, no kprobes): a wakeup stamps the task,
 * the switch that puts it on a CPU turns the stamp into a runqueue latency,
 * the switch that takes it off turns its start into on-CPU time.  Both go
 * into log2 histograms per watched cgroup (a pod) and per CPU, in the
 * kernel, so user space reads a few small maps per tick whatever the event
 * rate.  A ring buffer carries sampled runs of watched threads, or every
 * run while a trace capture is on.
 *
 * The hot path is sched_switch: two task-storage lookups and a few per-CPU
 * array lookups, no atomics (per-CPU values), no allocation but the first
 * time a task is seen; a thread's hash entry is touched once per
 * millisecond of its run time, not once per run.  A task's group is resolved once per
 * cgroup change or groups-table generation and cached in its storage.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "placement.h"

/* Tunables set before load. */
const volatile __u32 sample_every = 64;	/* 1 in N runs of watched threads; 0: none */
const volatile __u32 smt_check = 0;	/* the machine has SMT siblings */
const volatile __s32 sibling_of[PLACEMENT_MAX_CPUS] = { 0 };	/* -1: none */

/* Knobs user space flips while running (mmap'd .bss). */
__u32 generation = 0;		/* bumped whenever the groups map changes */
__u32 capture = 0;		/* emit every run, for a trace capture */

struct placement_task {
	__u64 wake_ns;
	__u64 start_ns;
	__u64 latency_ns;
	__u64 cgroup_id;
	__u64 group;
	__u64 unflushed_ns;	/* run time not yet in the threads map */
	__u64 unflushed_cpus;	/* and the CPUs 0..63 it ran on */
	__u32 slot;
	__u32 generation;
	__u32 class;
	__s32 last_cpu;
	__s32 prev_cpu;
	__s32 run_cpu;
	__u32 resolved;
	__u32 has_run;		/* last_cpu means something */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct placement_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct placement_group);
} groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1025);
	__type(key, __u32);
	__type(value, struct placement_stats);
} group_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct placement_cpu);
} cpu_stats SEC(".maps");

/* What each CPU runs now, read across CPUs by the SMT check. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PLACEMENT_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u32);
} cpu_class SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct placement_thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} records SEC(".maps");

static __always_inline __u32
placement_slot(__u64 ns)
{
	__u32 slot = 0;

	/* Branch-free enough for the verifier: a bounded binary search. */
	if (ns >> 32) return PLACEMENT_SLOTS - 1;
	if (ns >> 16) { ns >>= 16; slot += 16; }
	if (ns >> 8) { ns >>= 8; slot += 8; }
	if (ns >> 4) { ns >>= 4; slot += 4; }
	if (ns >> 2) { ns >>= 2; slot += 2; }
	if (ns >> 1) { slot += 1; }
	return slot < PLACEMENT_SLOTS ? slot : PLACEMENT_SLOTS - 1;
}

static __always_inline void
placement_resolve(struct task_struct *task, struct placement_task *state)
{
	/*
	 * Direct loads through the BTF-typed task (the verifier turns them
	 * into guarded loads): this runs on every switch, where the helper
	 * calls of BPF_CORE_READ would cost more than the rest together.
	 */
	struct cgroup *cgroup = task->cgroups->dfl_cgrp;
	__u64 id = cgroup->kn->id;
	__u32 now_generation = generation;

	if (state->resolved && state->cgroup_id == id &&
	    state->generation == now_generation)
		return;
	state->resolved = 1;
	state->cgroup_id = id;
	state->generation = now_generation;
	state->group = 0;
	state->slot = 0;
	state->class = PLACEMENT_CLASS_OPEN;	/* the catch-all layer is Open */
	for (int level = 0; level < PLACEMENT_MAX_DEPTH && cgroup; level++) {
		struct placement_group *group;

		id = BPF_CORE_READ(cgroup, kn, id);
		group = bpf_map_lookup_elem(&groups, &id);
		if (group) {
			state->group = id;
			state->slot = group->slot;
			state->class = group->class;
			return;
		}
		/* self is the first member: its parent css is the parent cgroup. */
		cgroup = (struct cgroup *)BPF_CORE_READ(cgroup, self.parent);
	}
}

static __always_inline struct placement_stats *
placement_group_stats(__u32 slot)
{
	return bpf_map_lookup_elem(&group_stats, &slot);
}

static __always_inline void
placement_wakeup(struct task_struct *task)
{
	struct placement_task *state;

	if (task->pid == 0)
		return;
	state = bpf_task_storage_get(&tasks, task, 0,
	    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (state)
		state->wake_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(placement_sched_wakeup, struct task_struct *task)
{
	placement_wakeup(task);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(placement_sched_wakeup_new, struct task_struct *task)
{
	placement_wakeup(task);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(placement_sched_migrate_task, struct task_struct *task, int dest_cpu)
{
	struct placement_task *state;
	struct placement_stats *stats;

	if (task->pid == 0)
		return 0;
	state = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!state || !state->resolved)
		return 0;
	stats = placement_group_stats(state->slot);
	if (stats)
		stats->migrations++;
	return 0;
}

static __always_inline void
placement_emit(struct task_struct *task, struct placement_task *state,
    __s32 cpu, __u64 now, __u64 run_ns)
{
	struct placement_record *record;
	__u64 flags = 0;

	if (!capture) {
		/* Sampled records are drained by the tick: wake nobody... */
		flags = BPF_RB_NO_WAKEUP;
		/* ...unless the buffer is half full. */
		if (bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >
		    bpf_ringbuf_query(&records, BPF_RB_RING_SIZE) / 2)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	record = bpf_ringbuf_reserve(&records, sizeof *record, 0);
	if (!record) {
		__u32 zero = 0;
		struct placement_cpu *cpu_stat = bpf_map_lookup_elem(&cpu_stats, &zero);

		if (cpu_stat)
			cpu_stat->records_lost++;
		return;
	}
	record->version = PLACEMENT_RECORD_VERSION;
	record->kind = PLACEMENT_RECORD_RUN;
	record->tid = task->pid;
	record->tgid = task->tgid;
	record->cgroup_id = state->cgroup_id;
	record->group = state->group;
	record->cpu = cpu;
	record->prev_cpu = state->prev_cpu;
	record->start_ns = state->start_ns;
	record->run_ns = run_ns;
	record->latency_ns = state->latency_ns;
	__builtin_memcpy(record->comm, task->comm, sizeof record->comm);
	bpf_ringbuf_submit(record, flags);
}

static __always_inline void
placement_thread_account(struct task_struct *task, struct placement_task *state,
    __s32 cpu, __u64 run_ns)
{
	struct placement_thread *thread, fresh = { 0 };
	__u32 tid = task->pid;

	/*
	 * Short runs pile up in the task's storage: the hash update is the
	 * dearest step of a switch, and only busy threads make a top list.
	 */
	state->unflushed_ns += run_ns;
	if (cpu >= 0 && cpu < 64)
		state->unflushed_cpus |= 1ULL << cpu;
	if (state->unflushed_ns < PLACEMENT_THREAD_FLUSH_NS)
		return;
	run_ns = state->unflushed_ns;
	state->unflushed_ns = 0;

	thread = bpf_map_lookup_elem(&threads, &tid);
	if (!thread) {
		fresh.tgid = task->tgid;
		__builtin_memcpy(fresh.comm, task->comm, sizeof fresh.comm);
		bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
		thread = bpf_map_lookup_elem(&threads, &tid);
		if (!thread)
			return;
	}
	thread->run_ns += run_ns;
	thread->group = state->group;
	thread->last_cpu = cpu;
	thread->cpu_mask |= state->unflushed_cpus;
	state->unflushed_cpus = 0;
}

static __always_inline void
placement_switch_out(struct task_struct *prev, unsigned int prev_state,
    bool preempt, __s32 cpu, __u64 now, struct placement_cpu *cpu_stat)
{
	struct placement_task *state;
	struct placement_stats *stats;
	__u64 run_ns;

	state = bpf_task_storage_get(&tasks, prev, 0,
	    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!state)
		return;
	/* Still runnable (preempted, yielded): it waits on a runqueue again. */
	if (preempt || prev_state == 0)
		state->wake_ns = now;
	if (!state->start_ns || state->run_cpu != cpu || !state->resolved)
		return;
	run_ns = now - state->start_ns;
	stats = placement_group_stats(state->slot);
	if (stats) {
		stats->run_ns += run_ns;
		stats->runs++;
		stats->run_slots[placement_slot(run_ns)]++;
	}
	if (cpu_stat)
		cpu_stat->busy_ns += run_ns;
	if (state->group)
		placement_thread_account(prev, state, cpu, run_ns);

	if (capture) {
		placement_emit(prev, state, cpu, now, run_ns);
	} else if (state->group && sample_every && cpu_stat) {
		if (cpu_stat->sample_countdown == 0) {
			cpu_stat->sample_countdown = sample_every - 1;
			placement_emit(prev, state, cpu, now, run_ns);
		} else {
			cpu_stat->sample_countdown--;
		}
	}
	state->start_ns = 0;
	state->latency_ns = 0;
}

static __always_inline void
placement_smt(__s32 cpu, __u32 class, struct placement_cpu *cpu_stat)
{
	__u32 key = cpu, *mine, *theirs;
	__s32 sibling;

	mine = bpf_map_lookup_elem(&cpu_class, &key);
	if (mine)
		*mine = class;
	if (!smt_check || cpu < 0 || cpu >= PLACEMENT_MAX_CPUS)
		return;
	sibling = sibling_of[cpu];
	if (sibling < 0)
		return;
	key = sibling;
	theirs = bpf_map_lookup_elem(&cpu_class, &key);
	if (!theirs || !cpu_stat)
		return;
	if ((class == PLACEMENT_CLASS_PROTECTED && *theirs == PLACEMENT_CLASS_OPEN) ||
	    (class == PLACEMENT_CLASS_OPEN && *theirs == PLACEMENT_CLASS_PROTECTED))
		cpu_stat->smt_collisions++;
}

static __always_inline void
placement_switch_in(struct task_struct *next, __s32 cpu, __u64 now,
    struct placement_cpu *cpu_stat)
{
	struct placement_task *state;
	struct placement_stats *stats;
	__u64 latency;

	state = bpf_task_storage_get(&tasks, next, 0,
	    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!state)
		return;
	placement_resolve(next, state);
	state->latency_ns = 0;
	if (state->wake_ns && now > state->wake_ns) {
		latency = now - state->wake_ns;
		state->latency_ns = latency;
		stats = placement_group_stats(state->slot);
		if (stats) {
			stats->wait_count++;
			stats->wait_ns += latency;
			if (latency > stats->wait_max_ns)
				stats->wait_max_ns = latency;
			stats->wait_slots[placement_slot(latency)]++;
		}
	}
	state->wake_ns = 0;
	state->start_ns = now;
	state->run_cpu = cpu;
	state->prev_cpu = state->has_run ? state->last_cpu : -1;
	state->last_cpu = cpu;
	state->has_run = 1;
	placement_smt(cpu, state->class, cpu_stat);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(placement_sched_switch, bool preempt, struct task_struct *prev,
    struct task_struct *next, unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	__s32 cpu = bpf_get_smp_processor_id();
	struct placement_cpu *cpu_stat;
	__u32 zero = 0;

	cpu_stat = bpf_map_lookup_elem(&cpu_stats, &zero);
	if (cpu_stat)
		cpu_stat->switches++;
	if (prev->pid != 0)
		placement_switch_out(prev, prev_state, preempt, cpu, now, cpu_stat);
	if (next->pid != 0)
		placement_switch_in(next, cpu, now, cpu_stat);
	else
		placement_smt(cpu, PLACEMENT_CLASS_IDLE, cpu_stat);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
