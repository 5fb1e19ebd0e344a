/* extender.c - the extender role: filter and prioritize over HTTP(S). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "buf.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "extender-index.h"
#include "extender-policy.h"
#include "extender.h"
#include "http-server.h"
#include "kube-client.h"
#include "kube-node.h"
#include "kube-reflector.h"
#include "log.h"
#include "metrics.h"
#include "pod.h"
#include "readiness.h"

#define EXTENDER_RETRY_MIN_MS 1000
#define EXTENDER_RETRY_MAX_MS 60000
#define EXTENDER_HOUSEKEEPING_MS 1000

struct extender {
	uv_loop_t *loop;
	struct extender_options options;
	struct extender_policy policy;

	struct kube_client client;
	bool client_open;
	struct kube_reflector nodes;
	bool reflector_open;
	bool synced;
	/* The nodes' states by name, beside the store; stale after ENOMEM. */
	struct extender_index index;
	bool index_stale;
	char *config_error;
	struct backoff backoff;
	uv_timer_t retry_timer;
	uv_timer_t housekeeping;
	bool timers_open;

	unsigned open_parts;
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;

	struct metric_family *decisions;	/* by verb and reason */
	struct metric_series *node_decisions[2][EXTENDER_REASON_COUNT];
	struct metric_series *requests_ok[2];
	struct metric_series *requests_bad[2];
	struct metric_series *latency[2];
	struct metric_series *cached_nodes;
};

/* The cache keeps each node's decoded state beside the node. */
struct extender_node {
	struct kube_node *node;
	struct extender_node_state state;
};

static void *
extender_node_decode(const cJSON *json, struct kube_meta *meta, char **cause)
{
	struct extender_node *entry;

	if ((entry = calloc(1, sizeof *entry)) == NULL)
		return NULL;
	if ((entry->node = kube_node_decode(json, cause)) == NULL) {
		free(entry);
		return NULL;
	}
	extender_node_state_from(entry->node, &entry->state);
	kube_node_kind.meta(entry->node, meta);
	return entry;
}

static void
extender_node_free(void *object)
{
	struct extender_node *entry = object;

	if (entry == NULL)
		return;
	kube_node_free(entry->node);
	free(entry);
}

static void
extender_node_meta(const void *object, struct kube_meta *meta)
{
	const struct extender_node *entry = object;

	kube_node_kind.meta(entry->node, meta);
}

static const struct kube_kind extender_node_kind = {
	.name = "nodes",
	.decode = extender_node_decode,
	.free = extender_node_free,
	.meta = extender_node_meta,
};

static const struct extender_node_state *
extender_lookup(const struct extender_node_name *name, void *arg)
{
	struct extender *extender = arg;
	const struct extender_node *entry;

	if (!extender->reflector_open)
		return NULL;
	if (!extender->index_stale)
		return extender_index_get(&extender->index, name);
	entry = kube_store_get_name(&extender->nodes.store, "", name->text);
	return entry != NULL ? &entry->state : NULL;
}

/* --- HTTP ------------------------------------------------------------------ */

enum { EXTENDER_FILTER, EXTENDER_PRIORITIZE };
static const char *const extender_verbs[2] = { "filter", "prioritize" };

/*
 * Each node's decision and why, at debug level only: 5,000 lines a call
 * would cost more than the call.  Decided again here, off the hot path.
 */
static void
extender_log_nodes(struct extender *extender, const struct extender_args *args,
    int verb)
{
	struct extender_decision d;
	char why[256];

	for (size_t i = 0; i < args->node_count; i++) {
		const struct extender_node_name *name = &args->names[i];

		if (name->text == NULL)
			continue;
		extender_policy_decide(&extender->policy, args->tier, args->request_millis,
		    args->node_cache ? extender_lookup(name, extender) : &args->states[i], &d);
		extender_policy_explain(&d, args->tier, args->request_millis, why, sizeof why);
		if (verb == EXTENDER_FILTER)
			log_debug("extender: filter %s/%s: node %s %s (%s): %s",
			    args->pod->namespace, args->pod->name, name->text,
			    extender_outcome_name(d.outcome), extender_reason_name(d.reason), why);
		else
			log_debug("extender: prioritize %s/%s: node %s scores %d (%s): %s",
			    args->pod->namespace, args->pod->name, name->text,
			    d.outcome == EXTENDER_PASS ? d.score : 0,
			    extender_reason_name(d.reason), why);
	}
}

static void
extender_answer(struct http_request *request, struct extender *extender,
    int verb)
{
	struct extender_args args;
	struct extender_summary summary;
	struct buf out = BUF_INIT;
	uint64_t started = uv_hrtime();
	const char *body;
	char *cause = NULL;
	size_t len;
	int error;

	body = http_request_body(request, &len);
	error = extender_args_decode(body, len, &extender->options.engine->thresholds,
	    &args, &cause);
	if (error != 0) {
		metric_inc(extender->requests_bad[verb]);
		log_warn("extender: %s: refusing a request: %s", extender_verbs[verb],
		    cause ? cause : "undecodable");
		http_respond_error(request, error == -ENOMEM ? 500 : 400, "%s",
		    cause ? cause : "undecodable ExtenderArgs");
		free(cause);
		return;
	}
	if (args.node_cache && !extender->synced)
		log_warn("extender: %s of %s/%s: NodeNames sent but the node cache "
		    "is not synced yet; unknown nodes are treated as such",
		    extender_verbs[verb], args.pod->namespace, args.pod->name);
	if (verb == EXTENDER_FILTER)
		error = extender_filter(&extender->policy, &args, extender_lookup,
		    extender, &out, &summary);
	else
		error = extender_prioritize(&extender->policy, &args, extender_lookup,
		    extender, &out, &summary);
	if (error != 0) {
		http_respond_error(request, 500, "out of memory");
		goto out;
	}
	http_respond(request, 200, "application/json", out.data, out.len);
	metric_inc(extender->requests_ok[verb]);
	metric_observe(extender->latency[verb], (double)(uv_hrtime() - started) / 1e9);
	for (int r = 0; r < EXTENDER_REASON_COUNT; r++)
		if (summary.by_reason[r] > 0)
			metric_add(extender->node_decisions[verb][r], (double)summary.by_reason[r]);
	if (verb == EXTENDER_FILTER)
		log_info("extender: filter %s/%s (%s, %" PRId64 "m): %zu of %zu "
		    "nodes pass, %zu refused, %zu unresolvable%s%s%s%s",
		    args.pod->namespace, args.pod->name, tier_name(args.tier),
		    args.request_millis, summary.passed, args.node_count,
		    summary.failed, summary.unresolvable,
		    summary.first_refused ? "; e.g. " : "",
		    summary.first_refused ? summary.first_refused : "",
		    summary.first_refused ? ": " : "",
		    summary.first_refused ? summary.first_reason : "");
	else
		log_info("extender: prioritize %s/%s (%s, %" PRId64 "m): %zu nodes "
		    "scored, best %s with %d (%s)", args.pod->namespace,
		    args.pod->name, tier_name(args.tier), args.request_millis,
		    summary.passed, summary.best ? summary.best : "none",
		    summary.best_score,
		    args.tier <= TIER_HIGH ? "contention-aware: least protected load" :
		    "packing-aware: nodes carrying batch first");
	if (log_get_level() >= LOG_LEVEL_DEBUG)
		extender_log_nodes(extender, &args, verb);
out:
	buf_free(&out);
	extender_args_release(&args);
}

static void
extender_filter_route(struct http_request *request, void *arg)
{
	extender_answer(request, arg, EXTENDER_FILTER);
}

static void
extender_prioritize_route(struct http_request *request, void *arg)
{
	extender_answer(request, arg, EXTENDER_PRIORITIZE);
}

/* --- the node cache -------------------------------------------------------- */

static void
extender_update_readiness(struct extender *extender)
{
	struct readiness *readiness = extender->options.readiness;

	if (readiness == NULL)
		return;
	if (!extender->client_open)
		readiness_set(readiness, "extender", false, "no Kubernetes API "
		    "configuration (%s): no node cache for nodeCacheCapable "
		    "schedulers; retrying with backoff",
		    extender->config_error ? extender->config_error : "not loaded yet");
	else if (!extender->synced)
		readiness_set(readiness, "extender", false, "listing nodes: %lu errors so far",
		    extender->nodes.stats.errors);
	else
		readiness_set(readiness, "extender", true, NULL);
}

static void
extender_nodes_synced(void *arg)
{
	struct extender *extender = arg;

	if (!extender->synced)
		log_info("extender: listed %zu nodes; watching", extender->nodes.store.count);
	extender->synced = true;
	extender_update_readiness(extender);
}

/*
 * The index follows the store.  Should it miss a change for want of
 * memory, lookups go to the store until housekeeping rebuilds it.
 */
static void
extender_cache_set(struct extender *extender, const struct extender_node *entry)
{
	if (extender->index_stale)
		return;
	if (extender_index_put(&extender->index, entry->node->name, &entry->state) != 0) {
		extender->index_stale = true;
		log_warn("extender: out of memory indexing node %s; looking nodes up "
		    "in the store until the index is rebuilt", entry->node->name);
	}
}

static void
extender_cache_rebuild_one(void *object, const struct kube_meta *meta, void *arg)
{
	struct extender *extender = arg;
	const struct extender_node *entry = object;

	(void)meta;
	if (extender_index_put(&extender->index, entry->node->name, &entry->state) != 0)
		extender->index_stale = true;
}

static void
extender_cache_rebuild(struct extender *extender)
{
	extender_index_clear(&extender->index);
	extender->index_stale = false;
	kube_store_foreach(&extender->nodes.store, extender_cache_rebuild_one, extender);
	if (extender->index_stale)
		extender_index_clear(&extender->index);
	else
		log_info("extender: node index rebuilt, %zu nodes", extender->index.count);
}

static void
extender_node_added(void *object, void *arg)
{
	extender_cache_set(arg, object);
}

static void
extender_node_changed(void *old_object, void *new_object, void *arg)
{
	const struct extender_node *old = old_object, *new = new_object;
	struct extender *extender = arg;

	if (old->state.annotated != new->state.annotated ||
	    old->state.safe_mode != new->state.safe_mode)
		log_info("extender: node %s: distribution %s, safe mode %s",
		    new->node->name, new->state.annotated ? "known" : "unknown",
		    new->state.safe_mode ? "on" : "off");
	/* Names do not change; should one, the old one goes. */
	if (strcmp(old->node->name, new->node->name) != 0 && !extender->index_stale)
		extender_index_remove(&extender->index, old->node->name);
	extender_cache_set(extender, new);
}

static void
extender_node_deleted(void *object, void *arg)
{
	const struct extender_node *entry = object;
	struct extender *extender = arg;

	if (!extender->index_stale)
		extender_index_remove(&extender->index, entry->node->name);
}

static int
extender_open_client(struct extender *extender)
{
	static const struct kube_reflector_callbacks callbacks = {
		.on_add = extender_node_added,
		.on_update = extender_node_changed,
		.on_delete = extender_node_deleted,
		.on_synced = extender_nodes_synced,
	};
	struct kube_config *config;
	char *cause = NULL;
	int error;

	config = extender->options.kubeconfig != NULL ?
	    kube_config_from_kubeconfig(extender->options.kubeconfig, NULL, false, &cause) :
	    kube_config_in_cluster(NULL, &cause);
	if (config == NULL) {
		free(extender->config_error);
		extender->config_error = cause ? cause : strdup(strerror(errno));
		return -EINVAL;
	}
	if ((error = kube_client_init(&extender->client, extender->loop, config, 0,
	    &cause)) != 0) {
		free(extender->config_error);
		extender->config_error = cause ? cause : strdup(strerror(-error));
		return error;
	}
	extender->client_open = true;
	free(extender->config_error);
	extender->config_error = NULL;
	if ((error = kube_reflector_init(&extender->nodes, &extender->client,
	    &extender_node_kind, "/api/v1/nodes", NULL, 0, 0, &callbacks,
	    extender)) != 0)
		return error;
	extender->reflector_open = true;
	if ((error = kube_reflector_start(&extender->nodes)) == 0)
		log_info("extender: watching nodes through %s", extender->client.config->server);
	return error;
}

static void
extender_retry(uv_timer_t *timer)
{
	struct extender *extender = timer->data;
	uint64_t delay;

	if (extender->stopping || extender->client_open)
		return;
	if (extender_open_client(extender) == 0)
		return;
	delay = backoff_next(&extender->backoff);
	log_warn("extender: no Kubernetes API configuration: %s; retrying in %" PRIu64 " ms",
	    extender->config_error ? extender->config_error : "unknown error", delay);
	uv_timer_start(&extender->retry_timer, extender_retry, delay, 0);
	extender_update_readiness(extender);
}

static void
extender_housekeeping(uv_timer_t *timer)
{
	struct extender *extender = timer->data;

	if (extender->index_stale && extender->reflector_open)
		extender_cache_rebuild(extender);
	extender_update_readiness(extender);
	metric_set(extender->cached_nodes, extender->reflector_open ?
	    (double)extender->nodes.store.count : 0);
}

/* --- life cycle ------------------------------------------------------------ */

struct extender *
extender_new(uv_loop_t *loop, struct metrics *metrics,
    const struct extender_options *options, char **cause)
{
	static const char *const verb_reason[] = { "verb", "reason", NULL };
	static const char *const verb_result[] = { "verb", "result", NULL };
	static const char *const verb_only[] = { "verb", NULL };
	struct metric_family *requests, *latency;
	struct extender *extender;

	(void)cause;
	if ((extender = calloc(1, sizeof *extender)) == NULL)
		return NULL;
	extender->loop = loop;
	extender->options = *options;
	extender->policy.engine = options->engine;
	extender_index_init(&extender->index);
	extender->policy.cluster = options->cluster;
	backoff_init(&extender->backoff, EXTENDER_RETRY_MIN_MS, EXTENDER_RETRY_MAX_MS,
	    (uint64_t)getpid() ^ uv_hrtime());
	extender->decisions = metrics_family(metrics, METRIC_COUNTER,
	    "temper_extender_node_decisions_total",
	    "Per-node extender decisions, by verb and reason.", verb_reason, NULL, 0);
	requests = metrics_family(metrics, METRIC_COUNTER, "temper_extender_requests_total",
	    "Extender calls, by verb and result.", verb_result, NULL, 0);
	latency = metrics_family(metrics, METRIC_HISTOGRAM, "temper_extender_request_seconds",
	    "Time to decide an extender call.", verb_only, metrics_latency_buckets,
	    metrics_latency_bucket_count);
	for (int v = 0; v < 2; v++) {
		for (int r = 0; r < EXTENDER_REASON_COUNT; r++)
			extender->node_decisions[v][r] = metrics_series(extender->decisions,
			    (const char *const[]){ extender_verbs[v],
			    extender_reason_name((enum extender_reason)r), NULL });
		extender->requests_ok[v] = metrics_series(requests,
		    (const char *const[]){ extender_verbs[v], "ok", NULL });
		extender->requests_bad[v] = metrics_series(requests,
		    (const char *const[]){ extender_verbs[v], "bad_request", NULL });
		extender->latency[v] = metrics_series(latency,
		    (const char *const[]){ extender_verbs[v], NULL });
	}
	extender->cached_nodes = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_extender_cached_nodes", "Nodes in the extender's cache.", NULL, NULL, 0));
	return extender;
}

int
extender_start(struct extender *extender)
{
	struct http_router *router = http_server_router(extender->options.http);
	int error;

	if ((error = http_router_add(router, "POST", "/filter", extender_filter_route,
	    extender)) != 0 ||
	    (error = http_router_add(router, "POST", "/prioritize",
	    extender_prioritize_route, extender)) != 0)
		return error;
	uv_timer_init(extender->loop, &extender->retry_timer);
	uv_timer_init(extender->loop, &extender->housekeeping);
	extender->retry_timer.data = extender->housekeeping.data = extender;
	extender->timers_open = true;
	uv_timer_start(&extender->housekeeping, extender_housekeeping,
	    EXTENDER_HOUSEKEEPING_MS, EXTENDER_HOUSEKEEPING_MS);
	log_info("extender: serving POST /filter and /prioritize; unannotated nodes %s "
	    "protected pods; %u thread%s per core", extender->options.cluster->
	    extender_admit_unannotated ? "admit" : "refuse",
	    extender->options.cluster->extender_threads_per_core,
	    extender->options.cluster->extender_threads_per_core == 1 ? "" : "s");
	if (extender_open_client(extender) != 0) {
		log_warn("extender: no Kubernetes API configuration: %s; answering "
		    "whole-Nodes calls only, retrying with backoff",
		    extender->config_error ? extender->config_error : "unknown error");
		uv_timer_start(&extender->retry_timer, extender_retry,
		    backoff_next(&extender->backoff), 0);
	}
	extender_update_readiness(extender);
	return 0;
}

static void
extender_part_closed(struct extender *extender)
{
	if (--extender->open_parts > 0)
		return;
	if (extender->done != NULL)
		extender->done(extender->done_arg);
}

static void
extender_handle_closed(uv_handle_t *handle)
{
	extender_part_closed(handle->data);
}

static void
extender_client_closed(struct kube_client *client)
{
	struct extender *extender = (struct extender *)((char *)client -
	    offsetof(struct extender, client));

	extender->client_open = false;
	extender_part_closed(extender);
}

static void
extender_reflector_stopped(struct kube_reflector *reflector)
{
	struct extender *extender = reflector->arg;

	extender->reflector_open = false;
	extender_index_clear(&extender->index);
	kube_client_close(&extender->client, extender_client_closed);
}

void
extender_stop(struct extender *extender, void (*done)(void *arg), void *arg)
{
	extender->stopping = true;
	extender->done = done;
	extender->done_arg = arg;
	extender->open_parts = 1;
	if (extender->timers_open) {
		extender->open_parts += 2;
		uv_close((uv_handle_t *)&extender->retry_timer, extender_handle_closed);
		uv_close((uv_handle_t *)&extender->housekeeping, extender_handle_closed);
		extender->timers_open = false;
	}
	if (extender->reflector_open) {
		extender->open_parts++;		/* the client, closed after the reflector */
		kube_reflector_stop(&extender->nodes, extender_reflector_stopped);
	} else if (extender->client_open) {
		extender->open_parts++;
		kube_client_close(&extender->client, extender_client_closed);
	}
	extender_part_closed(extender);
}

void
extender_free(struct extender *extender)
{
	if (extender == NULL)
		return;
	free(extender->config_error);
	extender_index_clear(&extender->index);
	free(extender);
}
