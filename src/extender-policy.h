/*
 * extender-policy.h - where the scheduler extender lets a pod go, and how
 * much it likes each place.  Pure: ExtenderArgs JSON in, filter and
 * prioritize answers out, no I/O, so tests and fuzzers call it directly.
 *
 * A node's budget follows the planner's rule (planner.c) from the node's
 * allocatable CPUs, since the extender cannot see the node's topology:
 *
 *   cpus      = allocatable millicores / 1000, rounded down
 *   system    = min([planner] system_layer_cpus, cpus)
 *   reserve   = max(open_reserve_cpus, open_reserve_percent of cpus),
 *               rounded up to whole cores of [extender] threads_per_core
 *   fenceable = cpus - system - reserve, rounded down to whole cores
 *
 * The protected tiers share the fenceable CPUs: Critical takes whole cores
 * (at least one) for its requests, High its requests.  From the node's
 * temper.io/qos-distribution annotation (what the agent counts there):
 *
 * filter    A critical or high pod is refused where, with it, Critical's
 *           cores plus High's requests exceed the fenceable CPUs
 *           (FailedNodes: preempting protected pods could make room); and,
 *           unresolvably, on a node in safe mode (temper.io/
 *           safe-mode-requested: Temper stands down there) or one with no
 *           readable annotation (no agent reports it), unless
 *           [extender] unannotated_nodes = "admit".  Normal, low and
 *           background pods pass everywhere: the default scheduler already
 *           checked that their requests fit.
 * prioritize 0..10.  Critical and high: contention-aware, 10 times the
 *           share of the fenceable CPUs still free once the pod is there,
 *           so the least protected load wins.  Normal, low and background:
 *           packing-aware, nodes already carrying such batch pods score
 *           5..10 (more batch load after placing the pod scores higher),
 *           nodes without score 0..4 by how loaded they already are, so
 *           empty nodes stay free for protected pods.  A node without a
 *           readable annotation scores 0.
 */
#ifndef TEMPER_EXTENDER_POLICY_H
#define TEMPER_EXTENDER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extender-args.h"
#include "qos-distribution.h"
#include "tier.h"

struct buf;
struct cluster_config;
struct engine_config;
struct kube_node;

#define EXTENDER_MAX_SCORE 10

/* What the extender keeps of a node. */
struct extender_node_state {
	bool annotated;			/* the distribution annotation parsed */
	bool safe_mode;			/* temper.io/safe-mode-requested is true */
	int64_t allocatable_millis;	/* -1 when the node does not report it */
	struct qos_distribution distribution;
};

/* The two configurations the decisions read. */
struct extender_policy {
	const struct engine_config *engine;
	const struct cluster_config *cluster;
};

/* One node's budget, for decisions and their explanations. */
struct extender_budget {
	unsigned cpus;
	unsigned fenceable_cpus;
	int64_t critical_millis;	/* whole cores Critical holds, in millicores */
	int64_t high_millis;
	int64_t batch_millis;		/* normal, low and background requests */
	unsigned batch_pods;
};

enum extender_outcome {
	EXTENDER_PASS,
	EXTENDER_FAILED,		/* FailedNodes */
	EXTENDER_UNRESOLVABLE,		/* FailedAndUnresolvableNodes */
};

enum extender_reason {
	EXTENDER_REASON_FITS,
	EXTENDER_REASON_UNPROTECTED_TIER,	/* normal, low, background: no check */
	EXTENDER_REASON_FENCEABLE_EXHAUSTED,
	EXTENDER_REASON_SAFE_MODE,
	EXTENDER_REASON_UNANNOTATED,
	EXTENDER_REASON_UNKNOWN_NODE,	/* node-cache mode: not in the cache */
};
#define EXTENDER_REASON_COUNT 6

struct extender_decision {
	enum extender_outcome outcome;
	enum extender_reason reason;
	int score;
	int64_t protected_after_millis;	/* Critical's cores + High with the pod */
	int64_t fenceable_millis;
};

void extender_node_state_from(const struct kube_node *node,
    struct extender_node_state *state);

void extender_policy_budget(const struct extender_policy *policy,
    const struct extender_node_state *state, struct extender_budget *budget);

/* state NULL: a node the extender does not know. */
void extender_policy_decide(const struct extender_policy *policy,
    enum tier tier, int64_t request_millis,
    const struct extender_node_state *state, struct extender_decision *out);

/* A sentence for the log and the FailedNodes answer. */
void extender_policy_explain(const struct extender_decision *decision,
    enum tier tier, int64_t request_millis, char *out, size_t size);

const char *extender_reason_name(enum extender_reason reason);
const char *extender_outcome_name(enum extender_outcome outcome);

/* A node's state in node-cache mode, NULL when the cache lacks it. */
typedef const struct extender_node_state *(*extender_lookup_fn)(
    const struct extender_node_name *name, void *arg);

/* What one call decided, for the log line and the metrics. */
struct extender_summary {
	size_t passed;
	size_t failed;
	size_t unresolvable;
	size_t by_reason[EXTENDER_REASON_COUNT];
	const char *best;		/* prioritize: the top node, or NULL */
	int best_score;
	const char *first_refused;	/* filter: a refused node and why */
	char first_reason[256];
};

/* ExtenderFilterResult JSON into out. 0 or -ENOMEM. */
int extender_filter(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary);
/* HostPriorityList JSON into out. 0 or -ENOMEM. */
int extender_prioritize(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary);
/* {"Error":"..."} style answers for a request that cannot be decided. */
int extender_filter_error(const char *message, struct buf *out);

#endif
