/* webhook.c - the webhook role: POST /mutate. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "buf.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "readiness.h"
#include "webhook.h"

struct webhook {
	uv_loop_t *loop;
	struct webhook_options options;
	struct metric_series *actions[ADMISSION_ACTION_COUNT];
	struct metric_series *bad_requests;
	struct metric_series *latency;
};

static void
webhook_mutate(struct http_request *request, void *arg)
{
	struct webhook *webhook = arg;
	const struct cluster_config *cluster = webhook->options.cluster;
	struct admission_options options = {
		.thresholds = &webhook->options.engine->thresholds,
		.ratio = cluster->webhook_ratio,
		.floor_millis = cluster->webhook_floor_millis,
		.guaranteed = cluster->webhook_guaranteed,
	};
	struct admission_request review;
	struct admission_decision decision;
	struct buf out = BUF_INIT;
	uint64_t started = uv_hrtime();
	const char *body;
	char *cause = NULL;
	size_t len;
	int error;

	body = http_request_body(request, &len);
	if ((error = admission_decode(body, len, &review, &cause)) != 0) {
		metric_inc(webhook->bad_requests);
		log_warn("webhook: refusing a request: %s", cause ? cause : "undecodable");
		http_respond_error(request, error == -ENOMEM ? 500 : 400, "%s",
		    cause ? cause : "undecodable AdmissionReview");
		free(cause);
		return;
	}
	if (admission_decide(&options, &review, &decision) != 0 ||
	    admission_render(&review, &decision, &out) != 0) {
		/* failurePolicy decides what the apiserver does with a 500. */
		http_respond_error(request, 500, "out of memory");
		log_warn("webhook: %s %s/%s: out of memory; answered 500",
		    review.operation, review.namespace, review.name);
		goto out;
	}
	http_respond(request, 200, "application/json", out.data, out.len);
	metric_inc(webhook->actions[decision.action]);
	metric_observe(webhook->latency, (double)(uv_hrtime() - started) / 1e9);
	if (decision.action == ADMISSION_SCALED)
		log_info("webhook: pod %s/%s (%s): %s", review.namespace, review.name,
		    tier_name(decision.tier), decision.message);
	else if (decision.action == ADMISSION_SKIP_NOT_A_POD)
		log_debug("webhook: %s %s/%s: %s", review.kind, review.namespace,
		    review.name, decision.message);
	else
		log_info("webhook: pod %s/%s (%s) %s: %s", review.namespace, review.name,
		    tier_name(decision.tier), admission_action_name(decision.action),
		    decision.message);
out:
	buf_free(&out);
	admission_decision_release(&decision);
	admission_release(&review);
}

struct webhook *
webhook_new(uv_loop_t *loop, struct metrics *metrics,
    const struct webhook_options *options, char **cause)
{
	struct metric_family *admissions, *latency;
	struct webhook *webhook;

	(void)cause;
	if ((webhook = calloc(1, sizeof *webhook)) == NULL)
		return NULL;
	webhook->loop = loop;
	webhook->options = *options;
	admissions = metrics_family(metrics, METRIC_COUNTER, "temper_webhook_admissions_total",
	    "Admission requests answered, by what the webhook did.",
	    (const char *const[]){ "action", NULL }, NULL, 0);
	for (int a = 0; a < ADMISSION_ACTION_COUNT; a++)
		webhook->actions[a] = metrics_series(admissions, (const char *const[]){
		    admission_action_name((enum admission_action)a), NULL });
	webhook->bad_requests = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_webhook_bad_requests_total", "Bodies that were no AdmissionReview v1.",
	    NULL, NULL, 0));
	latency = metrics_family(metrics, METRIC_HISTOGRAM, "temper_webhook_request_seconds",
	    "Time to decide an admission request.", NULL, metrics_latency_buckets,
	    metrics_latency_bucket_count);
	webhook->latency = metrics_series0(latency);
	return webhook;
}

int
webhook_start(struct webhook *webhook)
{
	const struct cluster_config *cluster = webhook->options.cluster;
	int error;

	if ((error = http_router_add(http_server_router(webhook->options.http), "POST",
	    "/mutate", webhook_mutate, webhook)) != 0)
		return error;
	if (!webhook->options.tls)
		log_warn("webhook: listening without TLS; the apiserver calls only "
		    "https:// webhooks (set --tls-cert and --tls-key)");
	if (webhook->options.readiness != NULL)
		readiness_set(webhook->options.readiness, "webhook", true, NULL);
	log_info("webhook: serving POST /mutate; CPU requests scaled by %g, floor %" PRId64
	    "m, Guaranteed pods: %s", cluster->webhook_ratio, cluster->webhook_floor_millis,
	    cluster_guaranteed_name(cluster->webhook_guaranteed));
	return 0;
}

void
webhook_stop(struct webhook *webhook, void (*done)(void *arg), void *arg)
{
	/* No handles of its own: the server closes the connections. */
	(void)webhook;
	if (done != NULL)
		done(arg);
}

void
webhook_free(struct webhook *webhook)
{
	free(webhook);
}
