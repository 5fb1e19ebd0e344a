/*
 * observe.h - the observation layer: where threads run, how long they wait
 * for a CPU, CPU pressure, and whether placement matches the plan.
 *
 * Always on and cheap: bpf/placement.bpf.c aggregates runqueue latency and
 * on-CPU time into log2 histograms per watched cgroup and per CPU in the
 * kernel; one timer reads those few maps every interval_ms, turns them into
 * per-pod, per-tier and per-CPU windows, reads PSI, runs the placement
 * linter (observe-linter.h) and fills the metrics.  Sampled runs arrive on
 * a ring buffer polled by the loop.  GET /observe shows the latest window;
 * POST /api/v1/trace captures every run for a few seconds into a Chrome
 * JSON trace (observe-trace.h).
 *
 * The agent owns the inputs and hands them over through setters: the
 * table of watched cgroups (a pod's cgroup id, name and tier), the current
 * plan, and whether sched_ext enforces it.
 */
#ifndef TEMPER_OBSERVE_H
#define TEMPER_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_router;
struct metrics;
struct plan;
struct planner_pod;
struct topology;
struct observe;

struct observe_options {
	const char *cgroup_root;	/* the cgroup2 hierarchy (hybrid hosts: found under unified/) */
	const char *proc_root;		/* /proc: pressure/cpu */
	const struct topology *topology;	/* borrowed; outlives the observer */
	unsigned interval_ms;		/* map reads, metrics, linter */
	unsigned sample_every;		/* 1 in N runs of watched threads sampled; 0: none */
	unsigned ring_kib;		/* ring buffer, a power of two >= 64 */
	unsigned max_groups;		/* watched cgroups */
	unsigned max_threads;		/* threads of watched cgroups tracked */
	unsigned top_threads;		/* busiest threads shown */
	uint64_t psi_stall_us;		/* trigger: this much stall ... */
	uint64_t psi_window_us;		/* ... within this window */
	unsigned trace_max_seconds;
	size_t trace_max_bytes;
	uint64_t fallback_tolerance_ns;	/* linter: forgiven run time outside a layer */
	bool bpf;			/* load the BPF program (false: PSI and plan checks only) */
	bool bpf_stats;			/* enable the kernel's BPF run-time statistics */
};

void observe_options_default(struct observe_options *options);

/* One row of the agent's table of watched cgroups. */
struct observe_group {
	uint64_t cgroup_id;		/* the cgroup2 directory's inode number */
	const char *pod_uid;
	const char *namespace;
	const char *name;
	int tier;			/* enum tier, or -1 when unknown */
	const char *cgroup;		/* relative to cgroup_root, for cpu.pressure; or NULL */
};

/* NULL with errno and *cause (EINVAL for unusable options). */
struct observe *observe_new(uv_loop_t *loop, struct metrics *metrics,
    const struct observe_options *options, char **cause);

/*
 * Load and attach the BPF program, arm PSI and the timer.  A BPF program
 * that will not load is logged and reported in /observe; the rest runs on.
 * 0 or a negative errno (a libuv failure).
 */
int observe_start(struct observe *observe);

/* Close every handle; done runs once all close callbacks have run. */
void observe_stop(struct observe *observe, void (*done)(void *arg), void *arg);
void observe_free(struct observe *observe);

/*
 * Replace the table of watched cgroups (copied).  Groups that stay keep
 * their figures.  0, -EINVAL (a cgroup id of 0 or twice), -ENOSPC (more
 * than max_groups), -ENOMEM.
 */
int observe_set_groups(struct observe *observe,
    const struct observe_group *groups, size_t count);

/*
 * The same from the planner's pods: each pod's cgroup is looked up under
 * cgroup_root for its id; pods without a cgroup (or whose directory is
 * gone) are left out and counted in *skipped when not NULL.
 */
int observe_set_pods(struct observe *observe, const struct planner_pod *pods,
    size_t count, size_t *skipped);

/* The plan to lint against; borrowed until replaced or the observer stops. */
void observe_set_plan(struct observe *observe, const struct plan *plan);
/* Whether sched_ext enforces the plan (otherwise the linter checks the plan it would enforce). */
void observe_set_enforcing(struct observe *observe, bool enforcing);

/* GET /observe and POST /api/v1/trace.  0 or -ENOMEM. */
int observe_register_routes(struct observe *observe, struct http_router *router);

/* Read the maps and recompute the window now (tests; the timer does this). */
void observe_refresh(struct observe *observe);

/* The whole /observe document (tests, temperctl); NULL with errno. */
struct cJSON *observe_report(struct observe *observe);

#endif
