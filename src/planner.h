/*
 * planner.h - from the node's pods, tiers and topology to a layer plan.
 *
 * Pure: planner_plan() takes structs and returns a struct; layered-gen.c
 * turns the plan into scx_layered's JSON.  A plan is deterministic: the
 * same pods (in any order), topology and config give an identical plan.
 *
 * Layer order (scx_layered matches first to last): the profile layers of
 * profiled pods' thread groups, if any (a pod's workload profile, see
 * profile.h: "critical-exclusive", "normal-yield", ...), then one layer per
 * non-empty tier, critical first (a tier that needs more than 32 match blocks may
 * take extra layers, "high-2", ...), then "system" (the scheduler's and the
 * agent's own threads, and the agent's pod when it is listed), then "open",
 * the catch-all [[]].
 *
 * Deciding on a new scx_layered generation: identical layered_gen() bytes
 * mean nothing to do.  In hint mode membership never reaches the JSON, and
 * planner_sizing_changed() with the hysteresis band says whether the small
 * sizing drift a pod brings is worth a restart; in cgroup mode a pod
 * arriving changes the matches themselves, which always takes a restart
 * (planner_needs_restart()).
 */
#ifndef TEMPER_PLANNER_H
#define TEMPER_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine-config.h"
#include "tier.h"

struct pod;
struct profile;
struct topology;

/* scx_layered's limits (scheds/rust/scx_layered/src/bpf/intf.h). */
#define PLANNER_MAX_LAYERS 16
#define PLANNER_MAX_OR_BLOCKS 32
#define PLANNER_MAX_AND_CONDITIONS 26
#define PLANNER_MAX_COMM 15		/* TASK_COMM_LEN - 1 */
#define PLANNER_MAX_NAME 127		/* char[128] with its NUL */
#define PLANNER_MAX_CGROUP_PATH 4095	/* char[4096] with its NUL */
#define PLANNER_MAX_HINT 1024

/* One input pod: its tier (tier.c) and its cgroup (cgroup discovery). */
struct planner_pod {
	const struct pod *pod;
	enum tier tier;
	/* cgroup-v2 path relative to the hierarchy root ("kubepods.slice/
	 * kubepods-burstable.slice/kubepods-burstable-podUID.slice/"), a
	 * leading slash and a missing trailing slash tolerated; NULL when not
	 * yet known. */
	const char *cgroup;
	/* The pod's workload profile (profiles_select()), or NULL: its thread
	 * groups get profile layers within the tier's bounds. */
	const struct profile *profile;
};

struct planner_options {
	const struct engine_config *config;	/* NULL: engine_config_defaults() */
	const char *agent_cgroup;	/* the agent's own cgroup, or NULL */
	int64_t allocatable_millis;	/* node allocatable CPU; 0: online CPUs x 1000 */
};

enum plan_kind {
	PLAN_KIND_CONFINED,
	PLAN_KIND_GROUPED,
	PLAN_KIND_OPEN,
};

enum plan_role {
	PLAN_ROLE_TIER,
	PLAN_ROLE_SYSTEM,
	PLAN_ROLE_CATCH_ALL,
	PLAN_ROLE_PROFILE,		/* thread groups of profiled pods of one tier */
};

enum plan_match_kind {
	PLAN_MATCH_CGROUP_PREFIX,
	PLAN_MATCH_COMM_PREFIX,
	PLAN_MATCH_PCOMM_PREFIX,
	PLAN_MATCH_HINT_EQUALS,
	PLAN_MATCH_CMD_JOIN,
	PLAN_MATCH_IS_GROUP_LEADER,
};

/*
 * One OR block: one condition, and for profile layers the conditions it is
 * ANDed with (a pod's cgroup AND a thread group's comm, ...).
 */
struct plan_match {
	enum plan_match_kind kind;
	char *text;		/* the prefix or name; NULL for HintEquals, IsGroupLeader */
	unsigned hint;		/* HintEquals; IsGroupLeader: 1 true, 0 false */
	struct plan_match *also;	/* ANDed conditions (no further also), or NULL */
	size_t also_count;
};

struct plan_layer {
	char *name;
	char *comment;
	enum plan_role role;
	enum tier tier;			/* PLAN_ROLE_TIER and PLAN_ROLE_PROFILE */
	int treatment;			/* PLAN_ROLE_PROFILE: enum profile_treatment */
	enum plan_kind kind;
	bool demoted;			/* a Critical layer planned as Grouped */

	/* Confined and Grouped only. */
	unsigned cpus_min, cpus_max;
	unsigned util_low_permille, util_high_permille;
	bool protected;

	uint64_t slice_us;
	bool preempt;
	bool exclusive;
	unsigned weight;		/* 1 .. 10000 */

	struct plan_match *matches;	/* none for the catch-all: [[]] */
	size_t match_count;

	char **members;			/* uids of the pods this layer holds */
	size_t member_count;
	int64_t request_millis;		/* their CPU requests */
	int64_t limit_millis;		/* their CPU limits; -1 if one is unlimited */
};

enum plan_note_level {
	PLAN_NOTE_INFO,
	PLAN_NOTE_WARNING,
};

struct plan_note {
	enum plan_note_level level;
	char *pod_uid;			/* the pod it is about, or NULL */
	char *text;
};

struct plan {
	struct plan_layer *layers;
	size_t layer_count;
	struct plan_note *notes;
	size_t note_count;

	enum engine_membership membership;
	unsigned cpu_count;
	unsigned threads_per_core;
	unsigned system_cpus;
	unsigned reserve_cpus;		/* never fenced for Critical */
	unsigned fenceable_cpus;	/* most CPUs Critical may confine */
	int64_t allocatable_millis;
};

/* The task-hint value of a tier's layer in hint membership mode. */
unsigned planner_tier_hint(enum tier tier);

/*
 * Plan the layers.  Every pod ends up in exactly one layer's members or in
 * a note naming it; none is dropped silently.  NULL with errno (ENOMEM, or
 * EINVAL with *cause for an unusable config or topology).
 */
struct plan *planner_plan(const struct planner_pod *pods, size_t pod_count,
    const struct topology *topology, const struct planner_options *options,
    char **cause);
void planner_free(struct plan *plan);

/* Every field equal: layers, sizing, matches, members and notes. */
bool planner_equal(const struct plan *a, const struct plan *b);

/*
 * Whether the layers' sizing moved beyond band_percent: a layer appeared,
 * vanished or changed kind or flags, or a CPU range, utilisation target or
 * weight moved by more than band_percent of its old value.  Membership
 * alone is not sizing (in hint mode it needs no restart).
 */
bool planner_sizing_changed(const struct plan *old, const struct plan *new,
    unsigned band_percent);

/*
 * Whether a running scx_layered must be restarted to take new: its sizing
 * moved beyond the band, or a layer's matches changed.  scx_layered reads
 * its matches once, at start, so with cgroup membership a pod arriving or
 * leaving (its CgroupPrefix) needs a restart; with hint membership the tier
 * layers match constant HintEquals and pods move through the map instead.
 */
bool planner_needs_restart(const struct plan *old, const struct plan *new,
    unsigned band_percent);

/* The name of the layer holding the pod, or NULL. */
const char *planner_layer_of(const struct plan *plan, const char *pod_uid);

/* The notes, one "warning: ..." or "info: ..." line each; malloc'd. */
char *planner_render_notes(const struct plan *plan);

const char *planner_kind_name(enum plan_kind kind);

#endif
