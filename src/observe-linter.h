/*
 * observe-linter.h - the placement linter: observed placement against the
 * current plan.
 *
 * Pure: a window of observations, the plan and the topology in, verdicts
 * out.  Each invariant can be provoked by a constructed situation in a unit
 * test (t/test-observe-linter.c).  The CPUs each layer may use come from
 * observe_linter_layout(): without sched_ext that is the layout the plan
 * would enforce (Confined layers fenced on whole cores from the top of the
 * machine down, every other layer anywhere else).
 */
#ifndef TEMPER_OBSERVE_LINTER_H
#define TEMPER_OBSERVE_LINTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct plan;
struct topology;

#define OBSERVE_LINTER_MAX_CPUS 512

enum observe_invariant {
	/* A protected thread and an Open-layer thread on SMT siblings at once. */
	OBSERVE_INVARIANT_SMT_COLLISION,
	/* A protected thread ran outside its layer's CPUs. */
	OBSERVE_INVARIANT_PROTECTED_FALLBACK,
	/* Open layers got less than the reserve while they had work. */
	OBSERVE_INVARIANT_OPEN_RESERVE,
	/* A thread ran in a cgroup whose tier differs from its layer's. */
	OBSERVE_INVARIANT_LAYER_MISMATCH,
};
#define OBSERVE_INVARIANT_COUNT 4

struct observe_linter_cpus {
	uint64_t bits[OBSERVE_LINTER_MAX_CPUS / 64];
};

struct observe_linter_layout {
	struct observe_linter_cpus *allowed;	/* one per plan layer */
	size_t layer_count;
	struct observe_linter_cpus fenced;	/* held by Confined layers */
	struct observe_linter_cpus open;	/* where Open layers may run */
};

/* One watched cgroup (a pod) over the window. */
struct observe_linter_group {
	const char *pod_uid;
	const char *name;		/* "namespace/name", for verdicts */
	int tier;			/* enum tier from the agent's table; -1: none */
	uint64_t run_ns;
	uint64_t wait_ns;
	const uint64_t *cpu_run_ns;	/* per CPU id, cpu_limit entries */
};

struct observe_linter_input {
	const struct plan *plan;
	const struct topology *topology;
	const struct observe_linter_layout *layout;
	const struct observe_linter_group *groups;
	size_t group_count;
	/* Tasks in no watched cgroup: the catch-all Open layer. */
	uint64_t unattributed_run_ns;
	uint64_t unattributed_wait_ns;
	const uint64_t *smt_collisions;	/* per CPU id, or NULL */
	unsigned cpu_limit;		/* entries of the per-CPU arrays */
	uint64_t window_ns;
	uint64_t fallback_tolerance_ns;	/* forgiven run time outside a layer */
};

struct observe_verdict {
	enum observe_invariant invariant;
	char *subject;			/* a pod, a core, "plan", "open layers" */
	char *detail;
};

struct observe_verdicts {
	struct observe_verdict *items;
	size_t count;
	size_t counts[OBSERVE_INVARIANT_COUNT];
};

/* "smt_collision", "protected_fallback", "open_reserve", "layer_mismatch". */
const char *observe_linter_invariant_name(enum observe_invariant invariant);

void observe_linter_cpus_set(struct observe_linter_cpus *cpus, unsigned cpu);
bool observe_linter_cpus_has(const struct observe_linter_cpus *cpus, unsigned cpu);
unsigned observe_linter_cpus_count(const struct observe_linter_cpus *cpus);
/* "0-3,8" into a malloc'd string, or NULL with errno. */
char *observe_linter_cpus_format(const struct observe_linter_cpus *cpus);

/* The CPUs each layer of plan may use on topology.  0, -EINVAL, -ENOMEM. */
int observe_linter_layout(const struct plan *plan,
    const struct topology *topology, struct observe_linter_layout *layout);
void observe_linter_layout_free(struct observe_linter_layout *layout);

/* Judge one window.  0 or -ENOMEM (then *verdicts is empty). */
int observe_linter_run(const struct observe_linter_input *input,
    struct observe_verdicts *verdicts);
void observe_linter_verdicts_free(struct observe_verdicts *verdicts);

#endif
