/* t/test-engine-config.c - [priority_mapping] and [planner] from TOML. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-config.h"
#include "toml.h"
#include "tap.h"

/* Parse text and read the engine sections; returns the engine's result. */
static int
read_config(const char *text, struct engine_config *config, char **cause)
{
	struct toml_value *root;
	char *parse_cause = NULL;
	int error;

	engine_config_defaults(config);
	if ((root = toml_parse(text, strlen(text), &parse_cause)) == NULL) {
		diag("TOML did not parse: %s", parse_cause ? parse_cause : "?");
		free(parse_cause);
		return -999;
	}
	error = engine_config_from_toml(root, config, cause);
	toml_free(root);
	return error;
}

/* The config must be refused with exactly this cause. */
static void
refused(const char *text, const char *expected_cause, const char *what)
{
	struct engine_config config;
	char *cause = NULL;

	is_int(read_config(text, &config, &cause), -EINVAL, "refused: %s", what);
	is_str(cause, expected_cause, "  cause");
	free(cause);
}

static void
test_defaults(void)
{
	struct engine_config config;
	char *cause = NULL;

	engine_config_defaults(&config);
	is_int(config.thresholds.critical, 1000000, "default critical 1000000");
	is_int(config.thresholds.high, 100000, "default high 100000");
	is_int(config.thresholds.normal, 0, "default normal 0");
	is_int(config.thresholds.low, -100, "default low -100");
	is_int(config.debounce_ms, 100, "default debounce 100 ms");
	is_int(config.system_layer_cpus, 1, "default system layer 1 CPU");
	is_int(config.open_reserve_cpus, 1, "default reserve 1 CPU");
	is_int(config.open_reserve_percent, 10, "default reserve 10%%");
	is_int(config.hysteresis_percent, 10, "default hysteresis 10%%");
	is_int(config.membership, ENGINE_MEMBERSHIP_CGROUP, "default membership cgroup");
	is_int(config.slice_us[TIER_CRITICAL], 5000, "critical slice 5 ms");
	is_int(config.slice_us[TIER_HIGH], 10000, "high slice 10 ms");
	is_int(config.slice_us[TIER_NORMAL], 20000, "normal slice 20 ms");
	is_int(config.slice_us[TIER_LOW], 30000, "low slice 30 ms");
	is_int(config.slice_us[TIER_BACKGROUND], 5000, "background slice 5 ms");

	is_int(read_config("[server]\nlisten = \"x\"\n", &config, &cause), 0,
	    "sections of other readers are left alone");
	is_int(config.thresholds.critical, 1000000, "  defaults stay");
	free(cause);
}

static void
test_full(void)
{
	struct engine_config config;
	char *cause = NULL;

	is_int(read_config(
	    "[priority_mapping]\n"
	    "critical = 5000\n"
	    "high = 1000\n"
	    "normal = 10\n"
	    "low = -10\n"
	    "\n"
	    "[planner]\n"
	    "debounce_ms = 250\n"
	    "system_layer_cpus = 2\n"
	    "open_reserve_cpus = 4\n"
	    "open_reserve_percent = 25\n"
	    "hysteresis_percent = 15\n"
	    "membership = \"hint\"\n"
	    "\n"
	    "[planner.slice_us]\n"
	    "critical = 2000\n"
	    "background = 50000\n", &config, &cause), 0, "a full config reads");
	if (cause != NULL)
		diag("  %s", cause);
	free(cause);
	is_int(config.thresholds.critical, 5000, "  critical threshold");
	is_int(config.thresholds.high, 1000, "  high threshold");
	is_int(config.thresholds.normal, 10, "  normal threshold");
	is_int(config.thresholds.low, -10, "  low threshold");
	is_int(config.debounce_ms, 250, "  debounce_ms");
	is_int(config.system_layer_cpus, 2, "  system_layer_cpus");
	is_int(config.open_reserve_cpus, 4, "  open_reserve_cpus");
	is_int(config.open_reserve_percent, 25, "  open_reserve_percent");
	is_int(config.hysteresis_percent, 15, "  hysteresis_percent");
	is_int(config.membership, ENGINE_MEMBERSHIP_HINT, "  membership hint");
	is_int(config.slice_us[TIER_CRITICAL], 2000, "  critical slice");
	is_int(config.slice_us[TIER_HIGH], 10000, "  high slice default kept");
	is_int(config.slice_us[TIER_BACKGROUND], 50000, "  background slice");

	cause = NULL;
	is_int(read_config("[planner]\nslice_us = { low = 40000 }\n"
	    "membership = \"cgroup\"\n", &config, &cause), 0,
	    "inline slice table");
	is_int(config.slice_us[TIER_LOW], 40000, "  low slice");
	free(cause);
}

static void
test_refusals(void)
{
	struct engine_config config;
	char *cause = NULL;

	refused("[priority_mapping]\ncritical = 10\ncrtical = 5\n",
	    "line 3, column 11: [priority_mapping] unknown key \"crtical\" "
	    "(known: critical, high, normal, low)", "a misspelt threshold");
	refused("[planner]\ndebounce = 5\n",
	    "line 2, column 12: [planner] unknown key \"debounce\" (known: "
	    "debounce_ms, system_layer_cpus, open_reserve_cpus, "
	    "open_reserve_percent, hysteresis_percent, membership, slice_us)",
	    "a misspelt planner knob");
	refused("[planner.slice_us]\nurgent = 100\n",
	    "line 2, column 10: [planner.slice_us] unknown key \"urgent\" "
	    "(known: critical, high, normal, low, background)",
	    "a slice for a tier that does not exist");
	refused("[priority_mapping]\nhigh = \"100000\"\n",
	    "line 2, column 8: [priority_mapping] high must be an integer, "
	    "not a string", "a threshold as a string");
	refused("[priority_mapping]\nhigh = 2000000\n",
	    "line 1, column 1: [priority_mapping] priority thresholds must "
	    "descend strictly (critical 1000000 > high 2000000 > normal 0 > "
	    "low -100)", "thresholds out of order");
	refused("[priority_mapping]\nlow = 3000000000\n",
	    "line 2, column 7: [priority_mapping] low = 3000000000 is out of "
	    "range [-2147483648, 2147483647]", "a threshold beyond int32");
	refused("[planner]\nmembership = \"bpf\"\n",
	    "line 2, column 14: [planner] membership must be \"cgroup\" or "
	    "\"hint\"", "an unknown membership mode");
	refused("[planner]\nsystem_layer_cpus = 0\n",
	    "line 2, column 21: [planner] system_layer_cpus = 0 is out of "
	    "range [1, 64]", "a system layer of no CPU");
	refused("[planner]\nslice_us = 5000\n",
	    "line 2, column 12: [planner] slice_us must be a table of tier = "
	    "microseconds, not an integer", "slice_us not a table");
	refused("[planner.slice_us]\ncritical = 50\n",
	    "line 2, column 12: [planner.slice_us] critical = 50 is out of "
	    "range [100, 1000000]", "a slice below 100 us");
	refused("planner = 3\n",
	    "line 1, column 11: [planner] must be a table, not an integer",
	    "planner not a table");

	/* A refused config leaves the caller's struct as it was. */
	engine_config_defaults(&config);
	config.debounce_ms = 777;
	{
		static const char text[] = "[planner]\ndebounce_ms = 5\n"
		    "bogus = 1\n";
		struct toml_value *root = toml_parse(text, strlen(text), NULL);

		ok(root != NULL && engine_config_from_toml(root, &config,
		    &cause) == -EINVAL && config.debounce_ms == 777,
		    "a refused config changes nothing");
		free(cause);
		toml_free(root);
	}
	is_str(engine_membership_name(ENGINE_MEMBERSHIP_HINT), "hint",
	    "membership names");
}

int
main(void)
{
	test_defaults();
	test_full();
	test_refusals();
	return done_testing();
}
