/*
 * controller.h - the controller role: TemperPolicy objects into
 * temper.io/safe-mode-requested node annotations (controller-policy.c
 * decides), with status conditions on each policy.
 *
 * Lists and watches Nodes and TemperPolicies; any change, and a periodic
 * resync, runs a level-based pass: node patches (merge patches of the
 * metadata, guarded by resourceVersion, retried on conflict) and status
 * patches through the status subresource.  Without the CRD installed the
 * policy list fails with 404, /readyz says so, and it retries with backoff.
 */
#ifndef TEMPER_CONTROLLER_H
#define TEMPER_CONTROLLER_H

#include <uv.h>

struct cluster_config;
struct metrics;
struct readiness;

struct controller_options {
	const struct cluster_config *cluster;
	const char *kubeconfig;		/* NULL: in-cluster service account */
	struct readiness *readiness;
};

struct controller;

struct controller *controller_new(uv_loop_t *loop, struct metrics *metrics,
    const struct controller_options *options, char **cause);
int controller_start(struct controller *controller);
void controller_stop(struct controller *controller, void (*done)(void *arg),
    void *arg);
void controller_free(struct controller *controller);

#endif
