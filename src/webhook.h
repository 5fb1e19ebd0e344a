/*
 * webhook.h - the webhook role: a mutating admission webhook that scales
 * the CPU requests of pods in opted-in namespaces (admission.c decides).
 *
 * Serves POST /mutate (AdmissionReview v1; the apiserver appends
 * ?timeout=Ns, which the router ignores).  The apiserver only calls
 * https:// URLs, so the daemon must listen with --tls-cert/--tls-key; the
 * webhook says so at start when it does not.  It needs no Kubernetes API:
 * the MutatingWebhookConfiguration's namespaceSelector selects the
 * namespaces labelled temper.io/overcommit=enabled (a second entry with
 * infera.io/overcommit=enabled serves the legacy label; a pod both match is
 * scaled once).
 *
 * Register it with failurePolicy: Ignore.  Overcommit is an optimisation:
 * while the webhook is down pods are admitted with the requests they ask
 * for (t/90 shows it), where Fail would stop every pod creation in opted-in
 * namespaces.  reinvocationPolicy: IfNeeded is safe, the webhook being
 * idempotent.  Reversal: remove the namespace label (no new mutations);
 * workloads get their original requests back on the next rollout, since
 * templates are never changed; a bare pod is recreated from its
 * temper.io/original-cpu-requests annotation with
 *   kubectl get pod P -o json | jq '(.metadata.annotations["temper.io/
 *   original-cpu-requests"] | fromjson) as $o | .spec.containers |= map(if
 *   $o[.name] then .resources.requests.cpu = $o[.name] else . end) | del(
 *   .metadata.annotations["temper.io/original-cpu-requests"],
 *   .metadata.resourceVersion, .metadata.uid, .status)' |
 *   kubectl replace --force -f -
 * (t/90 runs this filter, with initContainers handled the same way).
 */
#ifndef TEMPER_WEBHOOK_H
#define TEMPER_WEBHOOK_H

#include <stdbool.h>
#include <uv.h>

struct cluster_config;
struct engine_config;
struct http_server;
struct metrics;
struct readiness;

struct webhook_options {
	const struct engine_config *engine;	/* priority thresholds */
	const struct cluster_config *cluster;	/* ratio, floor, Guaranteed pods */
	struct http_server *http;
	struct readiness *readiness;
	bool tls;				/* the listener speaks TLS */
};

struct webhook;

struct webhook *webhook_new(uv_loop_t *loop, struct metrics *metrics,
    const struct webhook_options *options, char **cause);
int webhook_start(struct webhook *webhook);
void webhook_stop(struct webhook *webhook, void (*done)(void *arg), void *arg);
void webhook_free(struct webhook *webhook);

#endif
