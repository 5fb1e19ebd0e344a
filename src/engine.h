/*
 * engine.h - the node engine on the loop: pods in, generations out.
 *
 * Pod and node events mark the plan dirty; a debounce timer coalesces a
 * burst into one planning pass: classify every pod (tier.c), plan the
 * layers (planner.c), render scx_layered's JSON (layered-gen.c).  A plan
 * whose JSON equals the last generation's makes no new generation.  The
 * engine never talks to Kubernetes: the agent hands it pods through the
 * collect callback and publishes what it reports.
 */
#ifndef TEMPER_ENGINE_H
#define TEMPER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine-config.h"
#include "generations.h"
#include "planner.h"
#include "pod.h"
#include "qos-distribution.h"

struct metrics;
struct topology;

/* What the engine knows of one pod after the last pass, for the API. */
struct engine_pod {
	char *uid;
	char *namespace;
	char *name;
	enum tier tier;
	char *why;
	char *cgroup;			/* NULL when not discovered */
	const char *layer;		/* in the current plan; NULL when none */
	int64_t cpu_request_millis;
	int64_t cpu_limit_millis;	/* -1 when a container has no limit */
	bool has_priority;
	int32_t priority;
	char *priority_class;		/* NULL when none */
	enum pod_qos qos_class;
	char *profile;			/* temper.io/profile, NULL when none */
};

struct engine_callbacks {
	/*
	 * The pods to plan now.  The array stays the collector's and must
	 * stay valid until the next call; the tier field is filled by the
	 * engine.
	 */
	size_t (*collect)(void *arg, struct planner_pod **pods);
	/* A new generation; restart says whether a running scheduler must
	 * restart to take it (planner_needs_restart: layer sizes moved beyond
	 * the hysteresis band, or matches changed). */
	void (*generation)(void *arg, const struct generation *generation,
	    const struct plan *plan, bool restart);
	/* The per-tier pod counts and CPU requests changed. */
	void (*distribution)(void *arg, const struct qos_distribution *distribution);
	/* Every successful pass, with each pod's tier filled in: what an
	 * enforcement backend applies (membership may change without a new
	 * generation). */
	void (*planned)(void *arg, const struct planner_pod *pods, size_t count,
	    const struct plan *plan);
};

struct engine_options {
	const struct engine_config *config;
	const struct topology *topology;
	const char *state_dir;		/* NULL: generations in memory only */
	const char *agent_cgroup;
	int64_t allocatable_millis;	/* 0: from the topology */
};

struct engine;

struct engine *engine_new(uv_loop_t *loop, struct metrics *metrics,
    const struct engine_options *options, const struct engine_callbacks *callbacks,
    void *arg, char **cause);

/* Something changed: plan once the debounce period is quiet. */
void engine_mark_dirty(struct engine *engine, const char *reason);
/* Plan now, skipping the debounce (POST /api/v1/reload). */
void engine_plan_now(struct engine *engine, const char *reason);

/* New thresholds and planner knobs (SIGHUP): plan again with them. */
void engine_set_config(struct engine *engine, const struct engine_config *config);

/* Node allocatable CPU as the Node object reports it. */
void engine_set_allocatable(struct engine *engine, int64_t millis);

/* Safe mode: enforcement stands down while it is on (the plan still runs). */
void engine_set_safe_mode(struct engine *engine, bool on, const char *source);
bool engine_safe_mode(const struct engine *engine, const char **source);

const struct plan *engine_plan(const struct engine *engine);
const struct generations *engine_generations(const struct engine *engine);
const struct engine_pod *engine_pods(const struct engine *engine, size_t *count);
const struct qos_distribution *engine_distribution(const struct engine *engine);
/* The last planning failure, or NULL. */
const char *engine_last_error(const struct engine *engine);
uint64_t engine_passes(const struct engine *engine);

void engine_stop(struct engine *engine, void (*done)(void *arg), void *arg);
void engine_free(struct engine *engine);

#endif
