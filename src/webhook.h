/*
 * webhook.h - the webhook role: a mutating admission webhook that scales
 * the CPU requests of pods in opted-in namespaces (admission.c decides).
 *
 * Serves POST /mutate (AdmissionReview v1; the apiserver appends
 * ?timeout=Ns, which the router ignores).  The apiserver only calls
 * https:// URLs, so the daemon must listen with --tls-cert/--tls-key; the
 * webhook says so at start when it does not.  It needs no Kubernetes API:
 * the MutatingWebhookConfiguration's namespaceSelector selects the
 * namespaces labelled temper.io/overcommit=enabled.
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
