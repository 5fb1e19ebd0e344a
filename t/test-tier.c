/* t/test-tier.c - tiers from priority values, QoS defaults and the why. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "pod.h"
#include "tier.h"
#include "tap.h"

static struct pod
make_pod(const char *class_name, bool has_priority, int32_t priority,
    enum pod_qos qos)
{
	struct pod pod = { 0 };

	pod.uid = "uid";
	pod.namespace = "ns";
	pod.name = "pod";
	pod.priority_class_name = class_name;
	pod.has_priority = has_priority;
	pod.priority = priority;
	pod.qos_class = qos;
	return pod;
}

/* Classify and check both the tier and the exact sentence. */
static void
check(const struct tier_thresholds *thresholds, const char *class_name,
    bool has_priority, int32_t priority, enum pod_qos qos,
    enum tier expected, const char *expected_why)
{
	struct pod pod = make_pod(class_name, has_priority, priority, qos);
	enum tier tier = TIER_COUNT;
	char *why = NULL;

	is_int(tier_classify(thresholds, &pod, &tier, &why), 0,
	    "classify priority %d class %s", priority,
	    class_name ? class_name : "(none)");
	is_str(tier_name(tier), tier_name(expected), "  tier is %s",
	    tier_name(expected));
	is_str(why, expected_why, "  why");
	free(why);
}

static void
test_default_boundaries(void)
{
	struct tier_thresholds t;
	static const struct {
		int64_t priority;
		enum tier tier;
	} cases[] = {
		{ INT32_MAX, TIER_CRITICAL },
		{ 2000001000, TIER_CRITICAL },	/* system-node-critical */
		{ 1000000, TIER_CRITICAL },
		{ 999999, TIER_HIGH },
		{ 100000, TIER_HIGH },
		{ 99999, TIER_NORMAL },
		{ 1, TIER_NORMAL },
		{ 0, TIER_NORMAL },
		{ -1, TIER_LOW },
		{ -100, TIER_LOW },
		{ -101, TIER_BACKGROUND },
		{ -1000, TIER_BACKGROUND },
		{ INT32_MIN, TIER_BACKGROUND },
	};

	tier_thresholds_defaults(&t);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(tier_name(tier_of_priority(&t, cases[i].priority)),
		    tier_name(cases[i].tier), "default thresholds: %lld is %s",
		    (long long)cases[i].priority, tier_name(cases[i].tier));
}

static void
test_why(void)
{
	struct tier_thresholds t;

	tier_thresholds_defaults(&t);
	check(&t, "temper-critical", true, 1000000, POD_QOS_GUARANTEED,
	    TIER_CRITICAL,
	    "priority 1000000 (class temper-critical) >= critical threshold 1000000");
	check(&t, "temper-high", true, 100000, POD_QOS_BURSTABLE, TIER_HIGH,
	    "priority 100000 (class temper-high) >= high threshold 100000");
	check(&t, "temper-normal", true, 0, POD_QOS_BESTEFFORT, TIER_NORMAL,
	    "priority 0 (class temper-normal) >= normal threshold 0");
	check(&t, "temper-low", true, -100, POD_QOS_BURSTABLE, TIER_LOW,
	    "priority -100 (class temper-low) >= low threshold -100");
	check(&t, "temper-background", true, -1000, POD_QOS_GUARANTEED,
	    TIER_BACKGROUND,
	    "priority -1000 (class temper-background) < low threshold -100");
	/* A priority without a class (admission plugin off, value set). */
	check(&t, NULL, true, 999999, POD_QOS_GUARANTEED, TIER_HIGH,
	    "priority 999999 (no PriorityClass) >= high threshold 100000");
	check(&t, "", true, -101, POD_QOS_BURSTABLE, TIER_BACKGROUND,
	    "priority -101 (no PriorityClass) < low threshold -100");
}

static void
test_qos_defaults(void)
{
	struct tier_thresholds t;

	tier_thresholds_defaults(&t);
	check(&t, NULL, true, 0, POD_QOS_GUARANTEED, TIER_NORMAL,
	    "priority 0 without a PriorityClass, QoS class Guaranteed: normal by default");
	check(&t, NULL, true, 0, POD_QOS_BURSTABLE, TIER_NORMAL,
	    "priority 0 without a PriorityClass, QoS class Burstable: normal by default");
	check(&t, NULL, true, 0, POD_QOS_BESTEFFORT, TIER_BACKGROUND,
	    "priority 0 without a PriorityClass, QoS class BestEffort: background by default");
	check(&t, NULL, false, 0, POD_QOS_BESTEFFORT, TIER_BACKGROUND,
	    "priority unset without a PriorityClass, QoS class BestEffort: background by default");
	/* Status not yet reported: the thresholds decide. */
	check(&t, NULL, false, 0, POD_QOS_UNKNOWN, TIER_NORMAL,
	    "priority unset, taken as 0 (no PriorityClass) >= normal threshold 0");
	/* A class whose value is 0 is an explicit choice, not a default. */
	check(&t, "default-zero", true, 0, POD_QOS_BESTEFFORT, TIER_NORMAL,
	    "priority 0 (class default-zero) >= normal threshold 0");
}

static void
test_legacy_classes(void)
{
	struct tier_thresholds t;

	tier_thresholds_defaults(&t);
	check(&t, "infera-critical", true, 1000000, POD_QOS_GUARANTEED,
	    TIER_CRITICAL,
	    "priority 1000000 (class infera-critical) >= critical threshold 1000000");
	check(&t, "infera-high", true, 100000, POD_QOS_BURSTABLE, TIER_HIGH,
	    "priority 100000 (class infera-high) >= high threshold 100000");
	check(&t, "infera-normal", true, 0, POD_QOS_BURSTABLE, TIER_NORMAL,
	    "priority 0 (class infera-normal) >= normal threshold 0");
	check(&t, "infera-low", true, -100, POD_QOS_BESTEFFORT, TIER_LOW,
	    "priority -100 (class infera-low) >= low threshold -100");
	check(&t, "infera-background", true, -1000, POD_QOS_BESTEFFORT,
	    TIER_BACKGROUND,
	    "priority -1000 (class infera-background) < low threshold -100");
}

static void
test_custom_thresholds(void)
{
	struct tier_thresholds t = {
		.critical = 5000, .high = 1000, .normal = 10, .low = -10,
	};
	char *cause = NULL;

	is_int(tier_thresholds_check(&t, &cause), 0, "custom thresholds valid");
	is_str(tier_name(tier_of_priority(&t, 5000)), "critical", "5000 critical");
	is_str(tier_name(tier_of_priority(&t, 4999)), "high", "4999 high");
	is_str(tier_name(tier_of_priority(&t, 1000)), "high", "1000 high");
	is_str(tier_name(tier_of_priority(&t, 999)), "normal", "999 normal");
	is_str(tier_name(tier_of_priority(&t, 10)), "normal", "10 normal");
	is_str(tier_name(tier_of_priority(&t, 9)), "low", "9 low");
	is_str(tier_name(tier_of_priority(&t, -10)), "low", "-10 low");
	is_str(tier_name(tier_of_priority(&t, -11)), "background", "-11 background");
	/* With these thresholds temper-high (100000) is critical. */
	check(&t, "temper-high", true, 100000, POD_QOS_BURSTABLE, TIER_CRITICAL,
	    "priority 100000 (class temper-high) >= critical threshold 5000");
	/* The QoS default holds whatever the thresholds say about 0. */
	check(&t, NULL, true, 0, POD_QOS_BURSTABLE, TIER_NORMAL,
	    "priority 0 without a PriorityClass, QoS class Burstable: normal by default");
	check(&t, "zero", true, 0, POD_QOS_BURSTABLE, TIER_LOW,
	    "priority 0 (class zero) >= low threshold -10");

	t.high = t.critical;
	is_int(tier_thresholds_check(&t, &cause), -EINVAL,
	    "equal thresholds rejected");
	is_str(cause, "priority thresholds must descend strictly (critical 5000 "
	    "> high 5000 > normal 10 > low -10)", "  with a reason");
	free(cause);
}

static void
test_names(void)
{
	enum tier tier;

	for (unsigned i = 0; i < TIER_COUNT; i++) {
		is_int(tier_from_name(tier_name((enum tier)i), &tier), 0,
		    "name %s round-trips", tier_name((enum tier)i));
		is_int(tier, i, "  to its tier");
	}
	is_int(tier_from_name("Critical", &tier), -EINVAL, "names are exact");
	is_str(tier_name((enum tier)7), "unknown", "out of range is unknown");
}

int
main(void)
{
	struct tier_thresholds t;
	struct pod pod = make_pod("temper-low", true, -100, POD_QOS_BURSTABLE);
	enum tier tier;

	test_default_boundaries();
	test_why();
	test_qos_defaults();
	test_legacy_classes();
	test_custom_thresholds();
	test_names();

	tier_thresholds_defaults(&t);
	is_int(tier_classify(&t, &pod, &tier, NULL), 0, "why is optional");
	is_int(tier, TIER_LOW, "  tier still set");
	return done_testing();
}
