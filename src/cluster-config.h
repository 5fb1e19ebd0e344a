/*
 * cluster-config.h - the cluster roles' settings: [extender], [webhook] and
 * [controller] of temper.conf.
 *
 * Pure: a parsed TOML tree in, a struct out, like engine-config.  Unknown
 * keys are refused with their line and column.  The extender's idea of a
 * node's fenceable CPUs also needs [planner]'s reserve rule, which it takes
 * from struct engine_config, so the two can never disagree.
 */
#ifndef TEMPER_CLUSTER_CONFIG_H
#define TEMPER_CLUSTER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct toml_value;

/* What the webhook does with a Guaranteed pod (requests == limits). */
enum cluster_guaranteed {
	CLUSTER_GUARANTEED_SKIP,	/* leave it whole: it keeps its QoS class */
	CLUSTER_GUARANTEED_SCALE,	/* scale anyway: it becomes Burstable */
};

struct cluster_config {
	/* [extender] */
	bool extender_admit_unannotated;	/* protected pods on nodes no agent reports */
	unsigned extender_threads_per_core;	/* fenceable CPUs come in whole cores */

	/* [webhook] */
	double webhook_ratio;			/* requests scaled by this, (0, 1] */
	int64_t webhook_floor_millis;		/* ... but never below this */
	enum cluster_guaranteed webhook_guaranteed;

	/* [controller] */
	unsigned controller_resync_seconds;	/* full reconcile even without events */
};

#define CLUSTER_DEFAULT_RATIO 0.5
#define CLUSTER_DEFAULT_FLOOR_MILLIS 10
#define CLUSTER_DEFAULT_THREADS_PER_CORE 1
#define CLUSTER_DEFAULT_RESYNC_SECONDS 60
#define CLUSTER_MAX_THREADS_PER_CORE 8
#define CLUSTER_MAX_FLOOR_MILLIS 1000000
#define CLUSTER_MAX_RESYNC_SECONDS 86400

void cluster_config_defaults(struct cluster_config *config);

/* True for the sections this module reads (conf.c skips them). */
bool cluster_config_section(const char *name);

/*
 * Read [extender], [webhook] and [controller] from the document root (any
 * may be absent: defaults stay).  On error returns -EINVAL, leaves *config
 * untouched and fills *cause with "line L, column C: ...".
 */
int cluster_config_from_toml(const struct toml_value *root,
    struct cluster_config *config, char **cause);

const char *cluster_guaranteed_name(enum cluster_guaranteed guaranteed);

#endif
