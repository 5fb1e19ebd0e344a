/*
 * profile-train.h - training mode: watch a pod's threads for a while and
 * synthesize a profile from what they did.
 *
 * Two snapshots of every thread of the pod, some seconds apart, give each
 * thread's CPU time, runqueue wait, runs and voluntary sleeps in between
 * (the kernel's per-task scheduler statistics: /proc/PID/task/TID/schedstat
 * and status - the figures the observation layer's BPF program sums per
 * cgroup).  Threads are grouped by their name without its trailing number
 * ("ib_io_rd-3" -> "ib_io_rd-"), and each group is classified:
 *
 *   exclusive  a hot loop: running or runnable (waiting for a CPU) most
 *              of the window, rarely sleeping - what it wanted, not what a
 *              busy node let it have;
 *   latency    a wake chain: woken often for short runs;
 *   yield      housekeeping: little CPU, few wakeups;
 *   (none)     anything else stays in the tier's layer.
 *
 * profile_train_snapshot() does the reading (small synchronous /proc
 * reads); profile_train_synthesize() is pure.
 */
#ifndef TEMPER_PROFILE_TRAIN_H
#define TEMPER_PROFILE_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"

struct profile_train_thread {
	pid_t tid;
	pid_t tgid;
	char comm[16];
	uint64_t run_ns;		/* on-CPU time */
	uint64_t wait_ns;		/* runnable, waiting for a CPU */
	uint64_t runs;			/* timeslices run */
	uint64_t voluntary;		/* sleeps: each one ended by a wakeup */
	uint64_t involuntary;		/* preemptions */
};

struct profile_train_snapshot {
	struct profile_train_thread *threads;	/* sorted by tid */
	size_t count;
	uint64_t taken_ns;		/* CLOCK_MONOTONIC */
};

/* Thresholds of the classification (defaults in profile-train.c). */
struct profile_train_rules {
	double hot_demand_share;	/* exclusive: running or runnable this share ... */
	double hot_max_wakeups;		/* ... and fewer wakeups per second */
	double chain_min_wakeups;	/* latency: at least this many wakeups per second ... */
	double chain_max_run_us;	/* ... each running at most this long on average */
	double idle_cpu_share;		/* yield: less than this share of a CPU ... */
	double idle_max_wakeups;	/* ... and fewer wakeups per second */
};

void profile_train_rules_default(struct profile_train_rules *rules);

/*
 * Every thread of every process listed in the cgroup directory's
 * cgroup.procs (cgroup v2 or a v1 hierarchy), read under proc_root
 * ("/proc").  Threads that exit while being read are skipped.  0 or a
 * negative errno (of opening cgroup.procs); *cause when not NULL.
 */
int profile_train_snapshot(const char *cgroup_dir, const char *proc_root,
    struct profile_train_snapshot *snapshot, char **cause);
/* The same for a list of processes (tests, and pods found another way). */
int profile_train_snapshot_pids(const pid_t *pids, size_t count,
    const char *proc_root, struct profile_train_snapshot *snapshot);
void profile_train_snapshot_free(struct profile_train_snapshot *snapshot);

/* One synthesized group, with the evidence behind it. */
struct profile_train_group {
	char key[16];			/* the comm without its trailing digits */
	bool leader;			/* the threads are their processes' leaders */
	bool leader_condition;		/* the key is shared by leaders and others */
	size_t threads;
	double cpu_share;		/* per thread, of one CPU: on it */
	double demand_share;		/* on it or runnable */
	double wakeups_per_second;	/* per thread */
	double run_us;			/* mean run per timeslice */
	double wait_us;			/* mean runqueue wait per timeslice */
	int treatment;			/* enum profile_treatment, or -1: none */
	pid_t first_tid;
};

struct profile_train_result {
	struct profile_train_group *groups;
	size_t count;
	double seconds;
};

/*
 * Classify the threads seen in both snapshots.  0, -EINVAL (no time
 * between them), -ENOMEM.
 */
int profile_train_classify(const struct profile_train_snapshot *before,
    const struct profile_train_snapshot *after,
    const struct profile_train_rules *rules,
    struct profile_train_result *result);
void profile_train_result_free(struct profile_train_result *result);

/*
 * The profile as TOML, the evidence in comments; what profile_parse()
 * reads.  name is the profile's name; about names the pod.  NULL with
 * errno (ENOENT when no group was classified).
 */
char *profile_train_render(const struct profile_train_result *result,
    const char *name, const char *about);

#endif
