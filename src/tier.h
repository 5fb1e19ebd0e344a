/*
 * tier.h - the five QoS tiers and how a pod lands in one.
 *
 * Pure: a pod and the [priority_mapping] thresholds in, a tier and a human
 * reason out.  Tiers come from the priority *value*, never from the class
 * name, so the legacy infera-* PriorityClasses work unchanged.
 */
#ifndef TEMPER_TIER_H
#define TEMPER_TIER_H

#include <stdint.h>

struct pod;

/* In precedence order: the planner emits layers in this order. */
enum tier {
	TIER_CRITICAL,
	TIER_HIGH,
	TIER_NORMAL,
	TIER_LOW,
	TIER_BACKGROUND,
};
#define TIER_COUNT 5

/* A pod is in the first tier whose threshold its priority reaches. */
struct tier_thresholds {
	int64_t critical;
	int64_t high;
	int64_t normal;
	int64_t low;
};

#define TIER_DEFAULT_CRITICAL 1000000
#define TIER_DEFAULT_HIGH 100000
#define TIER_DEFAULT_NORMAL 0
#define TIER_DEFAULT_LOW (-100)

void tier_thresholds_defaults(struct tier_thresholds *thresholds);
/* 0, or -EINVAL with *cause when the thresholds are not strictly descending. */
int tier_thresholds_check(const struct tier_thresholds *thresholds, char **cause);

/* "critical", "high", "normal", "low", "background". */
const char *tier_name(enum tier tier);
/* 0 and *tier set, or -EINVAL for a name that is not a tier. */
int tier_from_name(const char *name, enum tier *tier);

/* The tier of a bare priority value, ignoring QoS defaults. */
enum tier tier_of_priority(const struct tier_thresholds *thresholds,
    int64_t priority);

/*
 * The pod's tier.  Priority 0 (or none) without a PriorityClass takes the QoS
 * default: Guaranteed and Burstable are normal, BestEffort is background.
 * When why is not NULL it receives a malloc'd sentence saying which rule
 * decided, e.g. "priority 1000000 (class temper-critical) >= critical
 * threshold 1000000".  Returns 0, or -ENOMEM (only when why was asked for).
 */
int tier_classify(const struct tier_thresholds *thresholds,
    const struct pod *pod, enum tier *tier, char **why);

#endif
