/*
 * extender.h - the extender role: kube-scheduler's HTTP(S) extender.
 *
 * Serves POST /filter and POST /prioritize (extender-policy.c decides).
 * With a Kubernetes configuration it lists and watches every Node, so that
 * nodeCacheCapable schedulers, which send only NodeNames, get answers from
 * the nodes' current annotations; without one it still answers schedulers
 * that send whole Nodes, and says on /readyz why it has no cache.
 */
#ifndef TEMPER_EXTENDER_H
#define TEMPER_EXTENDER_H

#include <uv.h>

struct cluster_config;
struct engine_config;
struct http_server;
struct metrics;
struct readiness;

struct extender_options {
	const struct engine_config *engine;	/* thresholds and the reserve rule */
	const struct cluster_config *cluster;
	const char *kubeconfig;			/* NULL: in-cluster service account */
	struct http_server *http;		/* routes are added here */
	struct readiness *readiness;
};

struct extender;

struct extender *extender_new(uv_loop_t *loop, struct metrics *metrics,
    const struct extender_options *options, char **cause);
int extender_start(struct extender *extender);
void extender_stop(struct extender *extender, void (*done)(void *arg),
    void *arg);
void extender_free(struct extender *extender);

#endif
