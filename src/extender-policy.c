/* extender-policy.c - the scheduler extender's decisions, pure. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cause.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "extender-policy.h"
#include "kube-node.h"
#include "kube-pod.h"
#include "pod.h"

static const char *const extender_reason_names[EXTENDER_REASON_COUNT] = {
	[EXTENDER_REASON_FITS] = "fits",
	[EXTENDER_REASON_UNPROTECTED_TIER] = "unprotected_tier",
	[EXTENDER_REASON_FENCEABLE_EXHAUSTED] = "fenceable_exhausted",
	[EXTENDER_REASON_SAFE_MODE] = "safe_mode",
	[EXTENDER_REASON_UNANNOTATED] = "unannotated",
	[EXTENDER_REASON_UNKNOWN_NODE] = "unknown_node",
};

const char *
extender_reason_name(enum extender_reason reason)
{
	return (unsigned)reason < EXTENDER_REASON_COUNT ?
	    extender_reason_names[reason] : "unknown";
}

const char *
extender_outcome_name(enum extender_outcome outcome)
{
	switch (outcome) {
	case EXTENDER_PASS: return "pass";
	case EXTENDER_FAILED: return "failed";
	default: return "unresolvable";
	}
}

void
extender_node_state_from(const struct kube_node *node,
    struct extender_node_state *state)
{
	memset(state, 0, sizeof *state);
	state->allocatable_millis = node->allocatable.cpu_millis >= 0 ?
	    node->allocatable.cpu_millis : node->capacity.cpu_millis;
	state->safe_mode = node->safe_mode_requested != NULL &&
	    strcmp(node->safe_mode_requested, "true") == 0;
	state->annotated = node->qos_distribution != NULL &&
	    qos_distribution_parse(node->qos_distribution,
	    &state->distribution, NULL) == 0;
	if (!state->annotated)
		memset(&state->distribution, 0, sizeof state->distribution);
}

static unsigned
extender_round_up(unsigned value, unsigned unit)
{
	return (value + unit - 1) / unit * unit;
}

/* Whole cores, in CPUs, that millis of Critical requests take; at least one. */
static unsigned
extender_critical_cpus(int64_t millis, unsigned threads)
{
	uint64_t cpus = millis > 0 ? ((uint64_t)millis + 999) / 1000 : 0;

	if (cpus > UINT32_MAX / 2)
		cpus = UINT32_MAX / 2;
	return extender_round_up(cpus > 0 ? (unsigned)cpus : 1, threads);
}

void
extender_policy_budget(const struct extender_policy *policy,
    const struct extender_node_state *state, struct extender_budget *budget)
{
	const struct engine_config *engine = policy->engine;
	unsigned threads = policy->cluster->extender_threads_per_core;
	const struct qos_distribution *d = &state->distribution;
	unsigned cpus, system, reserve, by_percent, used;
	int64_t millis = state->allocatable_millis;

	if (threads == 0)
		threads = 1;
	memset(budget, 0, sizeof *budget);
	if (millis < 0)
		millis = 0;
	cpus = millis / 1000 > UINT32_MAX / 4 ? UINT32_MAX / 4 : (unsigned)(millis / 1000);
	budget->cpus = cpus;
	system = engine->system_layer_cpus < cpus ? engine->system_layer_cpus : cpus;
	by_percent = (unsigned)(((uint64_t)cpus * engine->open_reserve_percent + 99) / 100);
	reserve = engine->open_reserve_cpus > by_percent ? engine->open_reserve_cpus :
	    by_percent;
	reserve = extender_round_up(reserve, threads);
	if (reserve > cpus)
		reserve = cpus;
	used = system + reserve;
	budget->fenceable_cpus = used >= cpus ? 0 : (cpus - used) - (cpus - used) % threads;
	if (d->tiers[TIER_CRITICAL].pods > 0)
		budget->critical_millis = (int64_t)extender_critical_cpus(
		    d->tiers[TIER_CRITICAL].cpu_millis, threads) * 1000;
	budget->high_millis = d->tiers[TIER_HIGH].cpu_millis > 0 ?
	    d->tiers[TIER_HIGH].cpu_millis : 0;
	for (enum tier t = TIER_NORMAL; t <= TIER_BACKGROUND; t++) {
		if (d->tiers[t].cpu_millis > 0)
			budget->batch_millis += d->tiers[t].cpu_millis;
		budget->batch_pods += d->tiers[t].pods;
	}
}

static int
extender_clamp_score(double score)
{
	if (!(score > 0))
		return 0;
	if (score >= EXTENDER_MAX_SCORE)
		return EXTENDER_MAX_SCORE;
	return (int)(score + 0.5);
}

void
extender_policy_decide(const struct extender_policy *policy, enum tier tier,
    int64_t request_millis, const struct extender_node_state *state,
    struct extender_decision *out)
{
	unsigned threads = policy->cluster->extender_threads_per_core;
	bool protected = tier == TIER_CRITICAL || tier == TIER_HIGH;
	struct extender_budget budget;
	int64_t allocatable;
	double share;

	if (threads == 0)
		threads = 1;
	if (request_millis < 0)
		request_millis = 0;
	memset(out, 0, sizeof *out);
	if (state == NULL) {
		/* Not in the cache yet: only a protected pod has a reason to wait. */
		out->reason = EXTENDER_REASON_UNKNOWN_NODE;
		out->outcome = protected && !policy->cluster->extender_admit_unannotated ?
		    EXTENDER_UNRESOLVABLE : EXTENDER_PASS;
		return;
	}
	extender_policy_budget(policy, state, &budget);
	out->fenceable_millis = (int64_t)budget.fenceable_cpus * 1000;

	if (!protected) {
		out->reason = EXTENDER_REASON_UNPROTECTED_TIER;
		out->outcome = EXTENDER_PASS;
		if (!state->annotated)
			return;
		allocatable = state->allocatable_millis > 0 ? state->allocatable_millis : 1;
		if (budget.batch_pods > 0) {
			share = (double)(budget.batch_millis + request_millis) / allocatable;
			out->score = 5 + extender_clamp_score(5.0 * (share > 1 ? 1 : share));
		} else {
			share = (double)(budget.critical_millis + budget.high_millis) / allocatable;
			out->score = extender_clamp_score(4.0 * (share > 1 ? 1 : share));
		}
		if (out->score > EXTENDER_MAX_SCORE)
			out->score = EXTENDER_MAX_SCORE;
		return;
	}

	if (!state->annotated && !policy->cluster->extender_admit_unannotated) {
		out->reason = EXTENDER_REASON_UNANNOTATED;
		out->outcome = EXTENDER_UNRESOLVABLE;
		return;
	}
	if (state->safe_mode) {
		out->reason = EXTENDER_REASON_SAFE_MODE;
		out->outcome = EXTENDER_UNRESOLVABLE;
		return;
	}
	if (tier == TIER_CRITICAL) {
		int64_t critical_requests = state->distribution.tiers[TIER_CRITICAL].cpu_millis;

		if (critical_requests < 0)
			critical_requests = 0;
		out->protected_after_millis = (int64_t)extender_critical_cpus(
		    critical_requests + request_millis, threads) * 1000 + budget.high_millis;
	} else {
		out->protected_after_millis = budget.critical_millis + budget.high_millis +
		    request_millis;
	}
	if (out->protected_after_millis > out->fenceable_millis) {
		out->reason = EXTENDER_REASON_FENCEABLE_EXHAUSTED;
		out->outcome = EXTENDER_FAILED;
		return;
	}
	out->reason = EXTENDER_REASON_FITS;
	out->outcome = EXTENDER_PASS;
	share = out->fenceable_millis > 0 ?
	    1.0 - (double)out->protected_after_millis / out->fenceable_millis : 0;
	out->score = extender_clamp_score(10.0 * share);
}

void
extender_policy_explain(const struct extender_decision *decision,
    enum tier tier, int64_t request_millis, char *out, size_t size)
{
	switch (decision->reason) {
	case EXTENDER_REASON_FITS:
		snprintf(out, size, "%s pod requesting %" PRId64 "m fits: protected "
		    "load would be %" PRId64 "m of %" PRId64 "m fenceable; score %d",
		    tier_name(tier), request_millis, decision->protected_after_millis,
		    decision->fenceable_millis, decision->score);
		break;
	case EXTENDER_REASON_UNPROTECTED_TIER:
		snprintf(out, size, "%s pod needs no protection; packing score %d",
		    tier_name(tier), decision->score);
		break;
	/* Short: a 5,000-node answer carries one per refused node. */
	case EXTENDER_REASON_FENCEABLE_EXHAUSTED:
		snprintf(out, size, "temper: fenceable cores exhausted: %s %" PRId64
		    "m needs %" PRId64 "m protected of %" PRId64 "m", tier_name(tier),
		    request_millis, decision->protected_after_millis,
		    decision->fenceable_millis);
		break;
	case EXTENDER_REASON_SAFE_MODE:
		snprintf(out, size, "temper: node in safe mode");
		break;
	case EXTENDER_REASON_UNANNOTATED:
		snprintf(out, size, "temper: no qos-distribution (no agent)");
		break;
	default:
		snprintf(out, size, "temper: node not in the extender's cache");
		break;
	}
}

/* --- ExtenderArgs ---------------------------------------------------------- */

void
extender_args_release(struct extender_args *args)
{
	if (args == NULL)
		return;
	cJSON_Delete(args->json);
	pod_free(args->pod);
	free(args->names);
	free(args->items);
	free(args->states);
	memset(args, 0, sizeof *args);
}

static int
extender_args_fail(char **cause, int error, const char *message)
{
	cause_set(cause, "%s", message);
	return error;
}

static int
extender_name_compare(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

/*
 * A node name listed twice, or NULL.  Names are unique in a cluster; an
 * answer to a list with twins would pass and fail the same name at once.
 */
static const char *
extender_args_twin(const struct extender_args *args)
{
	const char **sorted;
	const char *twin = NULL;

	if (args->node_count < 2)
		return NULL;
	if ((sorted = malloc(args->node_count * sizeof *sorted)) == NULL)
		return NULL;
	memcpy(sorted, args->names, args->node_count * sizeof *sorted);
	qsort(sorted, args->node_count, sizeof *sorted, extender_name_compare);
	for (size_t i = 1; i < args->node_count && twin == NULL; i++)
		if (sorted[i] != NULL && sorted[i - 1] != NULL &&
		    strcmp(sorted[i], sorted[i - 1]) == 0)
			twin = sorted[i];
	free(sorted);
	return twin;
}

int
extender_args_decode(const char *body, size_t len,
    const struct tier_thresholds *thresholds, struct extender_args *args,
    char **cause)
{
	const cJSON *pod, *names, *nodes, *items, *item;
	const char *twin;
	char *why = NULL;
	size_t count, i;
	int error;

	memset(args, 0, sizeof *args);
	if (cause != NULL)
		*cause = NULL;
	if ((args->json = cJSON_ParseWithLength(body, len)) == NULL)
		return extender_args_fail(cause, -EINVAL, "body is not JSON");
	if (!cJSON_IsObject(args->json)) {
		error = extender_args_fail(cause, -EINVAL, "body is not an object");
		goto fail;
	}
	/* Go's decoder ignores case; the scheduler sends exactly these names. */
	pod = cJSON_GetObjectItem(args->json, "Pod");
	names = cJSON_GetObjectItem(args->json, "NodeNames");
	nodes = cJSON_GetObjectItem(args->json, "Nodes");
	if (!cJSON_IsObject(pod)) {
		error = extender_args_fail(cause, -EINVAL, "no Pod object");
		goto fail;
	}
	if ((args->pod = kube_pod_decode(pod, &why)) == NULL) {
		error = errno == ENOMEM ? -ENOMEM : -EINVAL;
		cause_set(cause, "Pod: %s", why ? why : "undecodable");
		free(why);
		goto fail;
	}
	if ((error = tier_classify(thresholds, args->pod, &args->tier, NULL)) != 0) {
		extender_args_fail(cause, error, "out of memory");
		goto fail;
	}
	args->request_millis = pod_cpu_request_millis(args->pod);

	if (cJSON_IsArray(names)) {
		args->node_cache = true;
		items = names;
	} else if (cJSON_IsObject(nodes)) {
		items = cJSON_GetObjectItem(nodes, "items");
		if (!cJSON_IsArray(items) && !cJSON_IsNull(items) && items != NULL) {
			error = extender_args_fail(cause, -EINVAL, "Nodes.items is not a list");
			goto fail;
		}
	} else {
		error = extender_args_fail(cause, -EINVAL, "neither NodeNames nor Nodes");
		goto fail;
	}
	count = cJSON_IsArray(items) ? (size_t)cJSON_GetArraySize(items) : 0;
	if (count > EXTENDER_MAX_NODES) {
		error = extender_args_fail(cause, -EINVAL, "too many nodes");
		goto fail;
	}
	args->node_count = count;
	if (count == 0)
		return 0;
	if ((args->names = calloc(count, sizeof *args->names)) == NULL)
		goto nomem;
	if (!args->node_cache && ((args->items = calloc(count, sizeof *args->items)) == NULL ||
	    (args->states = calloc(count, sizeof *args->states)) == NULL))
		goto nomem;
	i = 0;
	cJSON_ArrayForEach(item, items) {
		if (args->node_cache) {
			if (!cJSON_IsString(item)) {
				error = extender_args_fail(cause, -EINVAL,
				    "NodeNames holds a non-string");
				goto fail;
			}
			args->names[i] = item->valuestring;
		} else {
			struct kube_node *node = kube_node_decode(item, &why);
			const char *name;

			if (node == NULL) {
				error = errno == ENOMEM ? -ENOMEM : -EINVAL;
				cause_set(cause, "Nodes.items[%zu]: %s", i,
				    why ? why : "undecodable");
				free(why);
				goto fail;
			}
			extender_node_state_from(node, &args->states[i]);
			kube_node_free(node);
			/* The name from the tree: it lives as long as the args. */
			name = kube_object_string(item, "metadata", "name", NULL);
			args->names[i] = name;
			args->items[i] = item;
		}
		i++;
	}
	if ((twin = extender_args_twin(args)) != NULL) {
		error = -EINVAL;
		cause_set(cause, "node %s is listed twice", twin);
		goto fail;
	}
	return 0;
nomem:
	error = extender_args_fail(cause, -ENOMEM, "out of memory");
fail:
	extender_args_release(args);
	return error;
}

/* --- answers --------------------------------------------------------------- */

static int
extender_json_string(struct buf *out, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *run = p;
	int error = 0;

	if (buf_reserve(out, strlen(text) + 2) != 0)
		return -ENOMEM;
	out->data[out->len++] = '"';
	for (; *p != '\0'; p++) {
		char escape[7];

		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		if (p > run)
			error |= buf_append(out, run, (size_t)(p - run));
		escape[0] = '\\';
		if (*p == '"' || *p == '\\') {
			escape[1] = (char)*p;
			error |= buf_append(out, escape, 2);
		} else {
			memcpy(escape + 1, "u00", 3);
			escape[4] = hex[*p >> 4];
			escape[5] = hex[*p & 15];
			error |= buf_append(out, escape, 6);
		}
		run = p + 1;
	}
	if (p > run)
		error |= buf_append(out, run, (size_t)(p - run));
	error |= buf_append(out, "\"", 1);
	return error ? -ENOMEM : 0;
}

static const struct extender_node_state *
extender_state(const struct extender_args *args, size_t i,
    extender_lookup_fn lookup, void *arg)
{
	if (!args->node_cache)
		return &args->states[i];
	return lookup != NULL ? lookup(args->names[i], arg) : NULL;
}

int
extender_filter(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary)
{
	struct extender_decision *decisions = NULL;
	struct buf failed = BUF_INIT, unresolvable = BUF_INIT;
	char reason[256];
	bool first = true;
	int error = 0;

	memset(summary, 0, sizeof *summary);
	if (args->node_count > 0 &&
	    (decisions = calloc(args->node_count, sizeof *decisions)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < args->node_count; i++) {
		struct extender_decision *d = &decisions[i];
		struct buf *target;

		if (args->names[i] == NULL) {
			/* A node without a name cannot be named back: refuse it. */
			d->outcome = EXTENDER_UNRESOLVABLE;
			d->reason = EXTENDER_REASON_UNKNOWN_NODE;
			summary->unresolvable++;
			continue;
		}
		extender_policy_decide(policy, args->tier, args->request_millis,
		    extender_state(args, i, lookup, arg), d);
		summary->by_reason[d->reason]++;
		if (d->outcome == EXTENDER_PASS) {
			summary->passed++;
			continue;
		}
		target = d->outcome == EXTENDER_FAILED ? &failed : &unresolvable;
		if (d->outcome == EXTENDER_FAILED)
			summary->failed++;
		else
			summary->unresolvable++;
		extender_policy_explain(d, args->tier, args->request_millis,
		    reason, sizeof reason);
		if (summary->first_refused == NULL) {
			summary->first_refused = args->names[i];
			snprintf(summary->first_reason, sizeof summary->first_reason,
			    "%s", reason);
		}
		error |= buf_puts(target, target->len > 0 ? "," : "{");
		error |= extender_json_string(target, args->names[i]);
		error |= buf_puts(target, ":");
		error |= extender_json_string(target, reason);
	}

	/* Always name the passing set: an absent list filters every node out. */
	if (args->node_cache) {
		error |= buf_puts(out, "{\"Nodes\":null,\"NodeNames\":[");
		for (size_t i = 0; i < args->node_count; i++) {
			if (decisions[i].outcome != EXTENDER_PASS)
				continue;
			if (!first)
				error |= buf_puts(out, ",");
			first = false;
			error |= extender_json_string(out, args->names[i]);
		}
		error |= buf_puts(out, "]");
	} else {
		error |= buf_puts(out, "{\"Nodes\":{\"metadata\":{},\"items\":[");
		for (size_t i = 0; i < args->node_count; i++) {
			char *text;

			if (decisions[i].outcome != EXTENDER_PASS)
				continue;
			if ((text = cJSON_PrintUnformatted(args->items[i])) == NULL) {
				error = -ENOMEM;
				break;
			}
			if (!first)
				error |= buf_puts(out, ",");
			first = false;
			error |= buf_puts(out, text);
			free(text);
		}
		error |= buf_puts(out, "]},\"NodeNames\":null");
	}
	error |= buf_puts(out, ",\"FailedNodes\":");
	error |= buf_puts(out, failed.len > 0 ? failed.data : "{");
	error |= buf_puts(out, "},\"FailedAndUnresolvableNodes\":");
	error |= buf_puts(out, unresolvable.len > 0 ? unresolvable.data : "{");
	error |= buf_puts(out, "},\"Error\":\"\"}");
	buf_free(&failed);
	buf_free(&unresolvable);
	free(decisions);
	return error ? -ENOMEM : 0;
}

int
extender_prioritize(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary)
{
	struct extender_decision d;
	bool first = true;
	int error = 0;

	memset(summary, 0, sizeof *summary);
	summary->best_score = -1;
	error |= buf_puts(out, "[");
	for (size_t i = 0; i < args->node_count; i++) {
		if (args->names[i] == NULL)
			continue;
		extender_policy_decide(policy, args->tier, args->request_millis,
		    extender_state(args, i, lookup, arg), &d);
		/* A refused node scores nothing, should the filter be bypassed. */
		if (d.outcome != EXTENDER_PASS)
			d.score = 0;
		summary->by_reason[d.reason]++;
		summary->passed++;
		if (d.score > summary->best_score) {
			summary->best_score = d.score;
			summary->best = args->names[i];
		}
		if (!first)
			error |= buf_puts(out, ",");
		first = false;
		error |= buf_puts(out, "{\"Host\":");
		error |= extender_json_string(out, args->names[i]);
		/* 0..10: no printf in a loop over every node. */
		error |= buf_puts(out, d.score >= 10 ? ",\"Score\":10}" : ",\"Score\":");
		if (d.score < 10) {
			char digit[3] = { (char)('0' + (d.score > 0 ? d.score : 0)), '}', '\0' };

			error |= buf_append(out, digit, 2);
		}
	}
	error |= buf_puts(out, "]");
	return error ? -ENOMEM : 0;
}

int
extender_filter_error(const char *message, struct buf *out)
{
	int error = 0;

	error |= buf_puts(out, "{\"Nodes\":null,\"NodeNames\":null,\"FailedNodes\":{},"
	    "\"FailedAndUnresolvableNodes\":{},\"Error\":");
	error |= extender_json_string(out, message);
	error |= buf_puts(out, "}");
	return error ? -ENOMEM : 0;
}
