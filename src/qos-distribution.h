/*
 * qos-distribution.h - the node annotation temper.io/qos-distribution.
 *
 * Pure.  Compact JSON, one key per tier in tier order, each with the pods
 * in that tier and their CPU requests:
 *   {"critical":{"pods":1,"cpu_millis":2000},"high":{...},...}
 * The agent writes it; the scheduler extender reads it.
 */
#ifndef TEMPER_QOS_DISTRIBUTION_H
#define TEMPER_QOS_DISTRIBUTION_H

#include <stdbool.h>
#include <stdint.h>

#include "tier.h"

#define QOS_DISTRIBUTION_KEY "temper.io/qos-distribution"
#define QOS_DISTRIBUTION_LEGACY_KEY "infera.io/qos-distribution"

struct buf;

struct qos_distribution {
	struct {
		unsigned pods;
		int64_t cpu_millis;
	} tiers[TIER_COUNT];
};

int qos_distribution_render(const struct qos_distribution *distribution,
    struct buf *out);
/* 0, or -EINVAL with *cause; every tier key must be present. */
int qos_distribution_parse(const char *text, struct qos_distribution *out,
    char **cause);
bool qos_distribution_equal(const struct qos_distribution *a,
    const struct qos_distribution *b);

#endif
