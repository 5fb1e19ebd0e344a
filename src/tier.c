/* tier.c - the five QoS tiers and how a pod lands in one. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod.h"
#include "tier.h"

static const char *const tier_names[TIER_COUNT] = {
	[TIER_CRITICAL] = "critical",
	[TIER_HIGH] = "high",
	[TIER_NORMAL] = "normal",
	[TIER_LOW] = "low",
	[TIER_BACKGROUND] = "background",
};

__attribute__((format(printf, 2, 3)))
static int
tier_set_text(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out == NULL)
		return 0;
	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
tier_thresholds_defaults(struct tier_thresholds *thresholds)
{
	thresholds->critical = TIER_DEFAULT_CRITICAL;
	thresholds->high = TIER_DEFAULT_HIGH;
	thresholds->normal = TIER_DEFAULT_NORMAL;
	thresholds->low = TIER_DEFAULT_LOW;
}

int
tier_thresholds_check(const struct tier_thresholds *thresholds, char **cause)
{
	/* Equal thresholds would make a tier unreachable without saying so. */
	if (thresholds->critical > thresholds->high &&
	    thresholds->high > thresholds->normal &&
	    thresholds->normal > thresholds->low)
		return 0;
	tier_set_text(cause, "priority thresholds must descend strictly "
	    "(critical %" PRId64 " > high %" PRId64 " > normal %" PRId64
	    " > low %" PRId64 ")", thresholds->critical, thresholds->high,
	    thresholds->normal, thresholds->low);
	return -EINVAL;
}

const char *
tier_name(enum tier tier)
{
	if ((unsigned)tier >= TIER_COUNT)
		return "unknown";
	return tier_names[tier];
}

int
tier_from_name(const char *name, enum tier *tier)
{
	for (unsigned i = 0; i < TIER_COUNT; i++) {
		if (strcmp(name, tier_names[i]) == 0) {
			*tier = (enum tier)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum tier
tier_of_priority(const struct tier_thresholds *thresholds, int64_t priority)
{
	if (priority >= thresholds->critical)
		return TIER_CRITICAL;
	if (priority >= thresholds->high)
		return TIER_HIGH;
	if (priority >= thresholds->normal)
		return TIER_NORMAL;
	if (priority >= thresholds->low)
		return TIER_LOW;
	return TIER_BACKGROUND;
}

static int64_t
tier_threshold_of(const struct tier_thresholds *thresholds, enum tier tier)
{
	switch (tier) {
	case TIER_CRITICAL:
		return thresholds->critical;
	case TIER_HIGH:
		return thresholds->high;
	case TIER_NORMAL:
		return thresholds->normal;
	default:
		return thresholds->low;
	}
}

int
tier_classify(const struct tier_thresholds *thresholds, const struct pod *pod,
    enum tier *tier, char **why)
{
	bool has_class = pod->priority_class_name != NULL &&
	    pod->priority_class_name[0] != '\0';
	int64_t priority = pod->has_priority ? pod->priority : 0;
	char subject[384];

	/*
	 * A pod that says nothing about priority is ranked by what it asked
	 * for: requests (Guaranteed, Burstable) earn normal service, a pod
	 * without any request is the first to yield.
	 */
	if (priority == 0 && !has_class &&
	    (pod->qos_class == POD_QOS_GUARANTEED ||
	    pod->qos_class == POD_QOS_BURSTABLE ||
	    pod->qos_class == POD_QOS_BESTEFFORT)) {
		*tier = pod->qos_class == POD_QOS_BESTEFFORT ?
		    TIER_BACKGROUND : TIER_NORMAL;
		return tier_set_text(why, "priority %s without a PriorityClass, "
		    "QoS class %s: %s by default",
		    pod->has_priority ? "0" : "unset", pod_qos_name(pod->qos_class),
		    tier_name(*tier));
	}

	*tier = tier_of_priority(thresholds, priority);
	if (why == NULL)
		return 0;
	snprintf(subject, sizeof subject, "priority %s%" PRId64 " (%s%s)",
	    pod->has_priority ? "" : "unset, taken as ", priority,
	    has_class ? "class " : "no PriorityClass",
	    has_class ? pod->priority_class_name : "");
	if (*tier == TIER_BACKGROUND)
		return tier_set_text(why, "%s < low threshold %" PRId64, subject,
		    thresholds->low);
	return tier_set_text(why, "%s >= %s threshold %" PRId64, subject,
	    tier_name(*tier), tier_threshold_of(thresholds, *tier));
}
