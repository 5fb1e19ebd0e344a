/* qos-distribution.c - the node annotation temper.io/qos-distribution. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cause.h"
#include "qos-distribution.h"

int
qos_distribution_render(const struct qos_distribution *distribution,
    struct buf *out)
{
	int error = buf_puts(out, "{");

	for (int tier = 0; tier < TIER_COUNT && error == 0; tier++)
		error = buf_printf(out, "%s\"%s\":{\"pods\":%u,\"cpu_millis\":%lld}",
		    tier ? "," : "", tier_name((enum tier)tier),
		    distribution->tiers[tier].pods,
		    (long long)distribution->tiers[tier].cpu_millis);
	if (error == 0)
		error = buf_puts(out, "}");
	return error;
}

/* A JSON number that is a whole, non-negative value within range. */
static bool
qos_distribution_count(const cJSON *item, double max, int64_t *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!(v >= 0 && v <= max) || v != floor(v))
		return false;
	*out = (int64_t)v;
	return true;
}

int
qos_distribution_parse(const char *text, struct qos_distribution *out,
    char **cause)
{
	struct qos_distribution parsed = { 0 };
	cJSON *json;
	int error = 0;

	if ((json = cJSON_Parse(text)) == NULL || !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		cause_set(cause, "not a JSON object");
		return -EINVAL;
	}
	for (int tier = 0; tier < TIER_COUNT && error == 0; tier++) {
		const char *name = tier_name((enum tier)tier);
		const cJSON *entry = cJSON_GetObjectItemCaseSensitive(json, name);
		int64_t pods, millis;

		if (!cJSON_IsObject(entry)) {
			cause_set(cause, "tier \"%s\" missing", name);
			error = -EINVAL;
		} else if (!qos_distribution_count(cJSON_GetObjectItemCaseSensitive(entry, "pods"),
		    1e6, &pods) ||
		    !qos_distribution_count(cJSON_GetObjectItemCaseSensitive(entry, "cpu_millis"),
		    1e12, &millis)) {
			cause_set(cause,
			    "tier \"%s\" needs whole non-negative \"pods\" and \"cpu_millis\"", name);
			error = -EINVAL;
		} else {
			parsed.tiers[tier].pods = (unsigned)pods;
			parsed.tiers[tier].cpu_millis = millis;
		}
	}
	cJSON_Delete(json);
	if (error == 0)
		*out = parsed;
	return error;
}

bool
qos_distribution_equal(const struct qos_distribution *a,
    const struct qos_distribution *b)
{
	/* Field by field: the struct has padding. */
	for (int tier = 0; tier < TIER_COUNT; tier++) {
		if (a->tiers[tier].pods != b->tiers[tier].pods ||
		    a->tiers[tier].cpu_millis != b->tiers[tier].cpu_millis)
			return false;
	}
	return true;
}
