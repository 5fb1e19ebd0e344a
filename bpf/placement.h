/*
 * placement.h - shared between bpf/placement.bpf.c and the observation layer
 * (src/observe*.c): map values, the ring-buffer record and the limits.
 *
 * Every struct here crosses the kernel/user boundary, so fields are fixed
 * width and laid out without implicit padding.
 */
#ifndef TEMPER_BPF_PLACEMENT_H
#define TEMPER_BPF_PLACEMENT_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint32_t placement_u32;
typedef int32_t placement_s32;
typedef uint64_t placement_u64;
#else
typedef __u32 placement_u32;
typedef __s32 placement_s32;
typedef __u64 placement_u64;
#endif

/*
 * Log2 histograms of nanoseconds: slot 0 holds 0 and 1 ns, slot i holds
 * [2^i, 2^(i+1)) ns, the last slot everything from 2^31 ns (2.1 s) up.
 */
#define PLACEMENT_SLOTS 32
#define PLACEMENT_COMM_LEN 16
/* CPUs the SMT table covers; scx_layered's own MAX_CPUS. */
#define PLACEMENT_MAX_CPUS 512
/* Cgroup levels walked up from a task's cgroup to find its pod's. */
#define PLACEMENT_MAX_DEPTH 8
#define PLACEMENT_RECORD_VERSION 1

/* The tier index of a group, or none (the catch-all: system daemons). */
#define PLACEMENT_TIER_NONE 0xffu

/* What a CPU runs, as the SMT-collision check needs it. */
enum placement_class {
	PLACEMENT_CLASS_IDLE = 0,
	PLACEMENT_CLASS_OTHER = 1,	/* neither protected nor Open: Grouped, system */
	PLACEMENT_CLASS_PROTECTED = 2,
	PLACEMENT_CLASS_OPEN = 3,
};

/*
 * Value of the groups map: a watched cgroup (a pod's), keyed by cgroup id.
 * slot indexes its figures in the group_stats array (slot 0: every task
 * in no watched cgroup), so the hot path does an array lookup, not a hash.
 */
struct placement_group {
	placement_u32 tier;
	placement_u32 class;
	placement_u32 slot;
	placement_u32 unused;
};

/* A thread's run time reaches the threads map in pieces of at least this. */
#define PLACEMENT_THREAD_FLUSH_NS 1000000

/*
 * Per group slot and per CPU (a per-CPU array): slot 0 collects every task
 * in no watched cgroup.  The per-CPU split is the placement itself: run_ns on
 * CPU c is how long the group ran there.
 */
struct placement_stats {
	placement_u64 run_ns;
	placement_u64 runs;
	placement_u64 wait_count;
	placement_u64 wait_ns;
	placement_u64 wait_max_ns;
	placement_u64 migrations;
	placement_u64 wait_slots[PLACEMENT_SLOTS];
	placement_u64 run_slots[PLACEMENT_SLOTS];
};

/* Per CPU (a per-CPU array of one entry). */
struct placement_cpu {
	placement_u64 busy_ns;		/* on-CPU time of every task but idle */
	placement_u64 switches;
	placement_u64 smt_collisions;	/* protected and Open met on siblings */
	placement_u64 records_lost;	/* ring buffer full */
	placement_u64 sample_countdown;
};

/* Per thread of a watched group (an LRU hash keyed by tid). */
struct placement_thread {
	placement_u64 run_ns;
	placement_u64 group;
	placement_u32 tgid;
	placement_s32 last_cpu;
	placement_u64 cpu_mask;		/* CPUs 0..63 it ran on, for spread */
	char comm[PLACEMENT_COMM_LEN];
};

enum placement_record_kind {
	PLACEMENT_RECORD_RUN = 1,	/* a thread left a CPU after a run */
};

/*
 * A ring-buffer record: one run of a thread on a CPU, from start_ns (the
 * kernel's monotonic clock) for run_ns, after latency_ns on the runqueue
 * (0 when it was not woken for this run).
 */
struct placement_record {
	placement_u32 version;
	placement_u32 kind;
	placement_u32 tid;
	placement_u32 tgid;
	placement_u64 cgroup_id;
	placement_u64 group;
	placement_s32 cpu;
	placement_s32 prev_cpu;		/* where its previous run was, or -1 */
	placement_u64 start_ns;
	placement_u64 run_ns;
	placement_u64 latency_ns;
	char comm[PLACEMENT_COMM_LEN];
};

#endif
