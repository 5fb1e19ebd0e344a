/* extender-policy.c - the scheduler extender's decisions, pure. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "extender-policy.h"
#include "kube-node.h"

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

/*
 * Room for n more bytes and the NUL, or NULL.  The answers reserve for
 * every node at once, so this is a compare per write, not a call.
 */
static inline char *
extender_room(struct buf *out, size_t n)
{
	if (out->cap - out->len <= n && buf_reserve(out, n) != 0)
		return NULL;
	return out->data + out->len;
}

static inline int
extender_put(struct buf *out, char c)
{
	char *d;

	if ((d = extender_room(out, 1)) == NULL)
		return -ENOMEM;
	d[0] = c;
	d[1] = '\0';
	out->len++;
	return 0;
}

static inline int
extender_append(struct buf *out, const char *data, size_t len)
{
	char *d;

	if ((d = extender_room(out, len)) == NULL)
		return -ENOMEM;
	memcpy(d, data, len);
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/* A name from the request, quoted; escaped only if it must be. */
static int
extender_json_name(struct buf *out, const struct extender_node_name *name)
{
	char *d;

	if (name->escape)
		return extender_json_string(out, name->text);
	if ((d = extender_room(out, (size_t)name->length + 2)) == NULL)
		return -ENOMEM;
	d[0] = '"';
	memcpy(d + 1, name->text, name->length);
	d[name->length + 1] = '"';
	out->len += (size_t)name->length + 2;
	out->data[out->len] = '\0';
	return 0;
}

static const struct extender_node_state *
extender_state(const struct extender_args *args, size_t i,
    extender_lookup_fn lookup, void *arg)
{
	if (!args->node_cache)
		return &args->states[i];
	return lookup != NULL ? lookup(&args->names[i], arg) : NULL;
}

/*
 * Refusal reasons, quoted, by reason: nodes refused for the same reason
 * and the same figures (most of them, on a cluster of like nodes) share
 * one text, formatted and escaped once per call.  The key is all that
 * extender_policy_explain reads but the tier and request, fixed per call.
 */
struct extender_reason_texts {
	struct {
		bool valid;
		int score;
		int64_t protected_after_millis;
		int64_t fenceable_millis;
		size_t offset;
		size_t len;
	} last[EXTENDER_REASON_COUNT];
	struct buf texts;
};

static int
extender_reason_text(struct extender_reason_texts *cache,
    const struct extender_decision *d, enum tier tier, int64_t request_millis,
    const char **text, size_t *len)
{
	char reason[256];
	size_t offset = cache->texts.len;

	if (!cache->last[d->reason].valid || cache->last[d->reason].score != d->score ||
	    cache->last[d->reason].protected_after_millis != d->protected_after_millis ||
	    cache->last[d->reason].fenceable_millis != d->fenceable_millis) {
		extender_policy_explain(d, tier, request_millis, reason, sizeof reason);
		if (extender_json_string(&cache->texts, reason) != 0)
			return -ENOMEM;
		cache->last[d->reason].valid = true;
		cache->last[d->reason].score = d->score;
		cache->last[d->reason].protected_after_millis = d->protected_after_millis;
		cache->last[d->reason].fenceable_millis = d->fenceable_millis;
		cache->last[d->reason].offset = offset;
		cache->last[d->reason].len = cache->texts.len - offset;
	}
	*text = cache->texts.data + cache->last[d->reason].offset;
	*len = cache->last[d->reason].len;
	return 0;
}

int
extender_filter(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary)
{
	struct extender_reason_texts reasons;
	struct buf failed = BUF_INIT, unresolvable = BUF_INIT;
	size_t size = 0;
	int error = 0;

	memset(summary, 0, sizeof *summary);
	memset(&reasons, 0, sizeof reasons);
	/* The passing set goes out as it is decided, into room for all. */
	for (size_t i = 0; args->node_cache && i < args->node_count; i++)
		size += (size_t)args->names[i].length + 3;
	error |= buf_reserve(out, size + 160);
	/* Always name the passing set: an absent list filters every node out. */
	error |= buf_puts(out, args->node_cache ? "{\"Nodes\":null,\"NodeNames\":[" :
	    "{\"Nodes\":{\"metadata\":{},\"items\":[");
	for (size_t i = 0; i < args->node_count && error == 0; i++) {
		const struct extender_node_name *name = &args->names[i];
		struct extender_decision d;
		struct buf *target;
		const char *text;
		char *printed;
		size_t len;

		if (name->text == NULL) {
			/* A node without a name cannot be named back: refuse it. */
			summary->unresolvable++;
			continue;
		}
		extender_policy_decide(policy, args->tier, args->request_millis,
		    extender_state(args, i, lookup, arg), &d);
		summary->by_reason[d.reason]++;
		if (d.outcome == EXTENDER_PASS) {
			if (summary->passed++ > 0)
				error |= extender_put(out, ',');
			if (args->node_cache) {
				error |= extender_json_name(out, name);
			} else if ((printed = cJSON_PrintUnformatted(args->items[i])) != NULL) {
				error |= buf_puts(out, printed);
				free(printed);
			} else {
				error = -ENOMEM;
			}
			continue;
		}
		if (d.outcome == EXTENDER_FAILED) {
			target = &failed;
			summary->failed++;
		} else {
			target = &unresolvable;
			summary->unresolvable++;
		}
		if (summary->first_refused == NULL) {
			summary->first_refused = name->text;
			extender_policy_explain(&d, args->tier, args->request_millis,
			    summary->first_reason, sizeof summary->first_reason);
		}
		if ((error = extender_reason_text(&reasons, &d, args->tier,
		    args->request_millis, &text, &len)) != 0)
			break;
		error |= extender_put(target, target->len > 0 ? ',' : '{');
		error |= extender_json_name(target, name);
		error |= extender_put(target, ':');
		error |= extender_append(target, text, len);
	}
	if (error != 0)
		goto out;
	error |= buf_puts(out, args->node_cache ? "]" : "]},\"NodeNames\":null");
	error |= buf_puts(out, ",\"FailedNodes\":");
	error |= buf_append(out, failed.len > 0 ? failed.data : "{", failed.len > 0 ? failed.len : 1);
	error |= buf_puts(out, "},\"FailedAndUnresolvableNodes\":");
	error |= buf_append(out, unresolvable.len > 0 ? unresolvable.data : "{",
	    unresolvable.len > 0 ? unresolvable.len : 1);
	error |= buf_puts(out, "},\"Error\":\"\"}");
out:
	buf_free(&failed);
	buf_free(&unresolvable);
	buf_free(&reasons.texts);
	return error ? -ENOMEM : 0;
}

int
extender_prioritize(const struct extender_policy *policy,
    const struct extender_args *args, extender_lookup_fn lookup, void *arg,
    struct buf *out, struct extender_summary *summary)
{
	static const char host[] = "{\"Host\":", score[] = ",\"Score\":";
	size_t size = 0;
	int error = 0;

	memset(summary, 0, sizeof *summary);
	summary->best_score = -1;
	for (size_t i = 0; i < args->node_count; i++)
		size += (size_t)args->names[i].length + sizeof host + sizeof score + 4;
	error |= buf_reserve(out, size + 2);
	error |= buf_append(out, "[", 1);
	for (size_t i = 0; i < args->node_count && error == 0; i++) {
		const struct extender_node_name *name = &args->names[i];
		struct extender_decision d;
		char *p;

		if (name->text == NULL)
			continue;
		extender_policy_decide(policy, args->tier, args->request_millis,
		    extender_state(args, i, lookup, arg), &d);
		/* A refused node scores nothing, should the filter be bypassed. */
		if (d.outcome != EXTENDER_PASS)
			d.score = 0;
		summary->by_reason[d.reason]++;
		if (d.score > summary->best_score) {
			summary->best_score = d.score;
			summary->best = name->text;
		}
		if ((p = extender_room(out, sizeof host)) == NULL) {
			error = -ENOMEM;
			break;
		}
		if (summary->passed++ > 0)
			*p++ = ',';
		memcpy(p, host, sizeof host - 1);
		out->len = (size_t)(p - out->data) + sizeof host - 1;
		if ((error = extender_json_name(out, name)) != 0 ||
		    (p = extender_room(out, sizeof score + 3)) == NULL) {
			error = -ENOMEM;
			break;
		}
		memcpy(p, score, sizeof score - 1);
		p += sizeof score - 1;
		/* 0..10: no printf in a loop over every node. */
		if (d.score >= 10)
			*p++ = '1';
		*p++ = (char)('0' + (d.score > 0 ? d.score % 10 : 0));
		*p++ = '}';
		*p = '\0';
		out->len = (size_t)(p - out->data);
	}
	error |= buf_append(out, "]", 1);
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
