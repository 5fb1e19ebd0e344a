/*
 * engine-config.h - the node engine's settings: [priority_mapping] and
 * [planner] of temper.conf.
 *
 * Pure: a parsed TOML tree in, a struct out.  Unknown keys are refused with
 * their line and column, because a misspelt knob silently keeping its
 * default is the failure this config must never have.
 */
#ifndef TEMPER_ENGINE_CONFIG_H
#define TEMPER_ENGINE_CONFIG_H

#include <stdint.h>

#include "tier.h"

struct toml_value;

/* How scx_layered learns which tasks belong to a tier. */
enum engine_membership {
	ENGINE_MEMBERSHIP_CGROUP,	/* CgroupPrefix per pod: a new pod restarts the scheduler */
	ENGINE_MEMBERSHIP_HINT,		/* HintEquals on the task-hint map: zero-gap */
};

struct engine_config {
	struct tier_thresholds thresholds;	/* [priority_mapping] */

	/* [planner] */
	unsigned debounce_ms;		/* pod churn settles this long before planning */
	unsigned system_layer_cpus;	/* the scheduler's and the agent's own layer */
	unsigned open_reserve_cpus;	/* never fenced by Critical ... */
	unsigned open_reserve_percent;	/* ... nor this share of the node, whichever is larger */
	unsigned hysteresis_percent;	/* sizing moves less than this: no restart */
	enum engine_membership membership;
	uint64_t slice_us[TIER_COUNT];	/* [planner.slice_us] critical = 5000, ... */
};

#define ENGINE_DEFAULT_DEBOUNCE_MS 100
#define ENGINE_DEFAULT_SYSTEM_LAYER_CPUS 1
#define ENGINE_DEFAULT_OPEN_RESERVE_CPUS 1
#define ENGINE_DEFAULT_OPEN_RESERVE_PERCENT 10
#define ENGINE_DEFAULT_HYSTERESIS_PERCENT 10

/* Bounds a config value must respect (scx_layered's own, or sanity). */
#define ENGINE_MAX_DEBOUNCE_MS 60000
#define ENGINE_MAX_SYSTEM_LAYER_CPUS 64
#define ENGINE_MIN_SLICE_US 100
#define ENGINE_MAX_SLICE_US 1000000

void engine_config_defaults(struct engine_config *config);

/*
 * Read [priority_mapping] and [planner] from the document root (either may
 * be absent: defaults stay).  On error returns -EINVAL, leaves *config
 * untouched and fills *cause with "line L, column C: ..." when it can.
 */
int engine_config_from_toml(const struct toml_value *root,
    struct engine_config *config, char **cause);

const char *engine_membership_name(enum engine_membership membership);

#endif
