/* engine-config.c - [priority_mapping] and [planner] of temper.conf. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-config.h"
#include "toml.h"

void
engine_config_defaults(struct engine_config *config)
{
	static const uint64_t slices[TIER_COUNT] = {
		[TIER_CRITICAL] = 5000,
		[TIER_HIGH] = 10000,
		[TIER_NORMAL] = 20000,
		[TIER_LOW] = 30000,
		[TIER_BACKGROUND] = 5000,
	};

	memset(config, 0, sizeof *config);
	tier_thresholds_defaults(&config->thresholds);
	config->debounce_ms = ENGINE_DEFAULT_DEBOUNCE_MS;
	config->system_layer_cpus = ENGINE_DEFAULT_SYSTEM_LAYER_CPUS;
	config->open_reserve_cpus = ENGINE_DEFAULT_OPEN_RESERVE_CPUS;
	config->open_reserve_percent = ENGINE_DEFAULT_OPEN_RESERVE_PERCENT;
	config->hysteresis_percent = ENGINE_DEFAULT_HYSTERESIS_PERCENT;
	config->membership = ENGINE_MEMBERSHIP_CGROUP;
	memcpy(config->slice_us, slices, sizeof slices);
}

const char *
engine_membership_name(enum engine_membership membership)
{
	return membership == ENGINE_MEMBERSHIP_HINT ? "hint" : "cgroup";
}

/* Our own names, so this file needs nothing of toml.c beyond the tree. */
static const char *
engine_config_type_name(const struct toml_value *value)
{
	switch (value->type) {
	case TOML_TABLE:
		return "a table";
	case TOML_ARRAY:
		return "an array";
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOLEAN:
		return "a boolean";
	default:
		return "a date-time";
	}
}

static bool
engine_config_key_is(const struct toml_pair *pair, const char *name)
{
	return pair->key_len == strlen(name) &&
	    memcmp(pair->key, name, pair->key_len) == 0;
}

/* An integer in [min, max] at table.key, named for the message. */
static int
engine_config_integer(const struct toml_pair *pair, const char *table,
    int64_t min, int64_t max, int64_t *out, char **cause)
{
	const struct toml_value *value = pair->value;

	if (value->type != TOML_INTEGER)
		return toml_cause_at(cause, value, "[%s] %s must be an "
		    "integer, not %s", table, pair->key,
		    engine_config_type_name(value));
	if (value->u.integer < min || value->u.integer > max)
		return toml_cause_at(cause, value, "[%s] %s = %" PRId64
		    " is out of range [%" PRId64 ", %" PRId64 "]", table,
		    pair->key, value->u.integer, min, max);
	*out = value->u.integer;
	return 0;
}

static int
engine_config_unknown(const struct toml_pair *pair, const char *table,
    const char *known, char **cause)
{
	return toml_cause_at(cause, pair->value,
	    "[%s] unknown key \"%.*s\" (known: %s)", table,
	    pair->key_len > 64 ? 64 : (int)pair->key_len, pair->key, known);
}

static int
engine_config_priority_mapping(const struct toml_value *table,
    struct engine_config *config, char **cause)
{
	static const char *const name = "priority_mapping";
	int64_t value, *target;
	char *reason = NULL;
	int error;

	if (table->type != TOML_TABLE)
		return toml_cause_at(cause, table, "[%s] must be a table, "
		    "not %s", name, engine_config_type_name(table));
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (engine_config_key_is(pair, "critical"))
			target = &config->thresholds.critical;
		else if (engine_config_key_is(pair, "high"))
			target = &config->thresholds.high;
		else if (engine_config_key_is(pair, "normal"))
			target = &config->thresholds.normal;
		else if (engine_config_key_is(pair, "low"))
			target = &config->thresholds.low;
		else
			return engine_config_unknown(pair, name,
			    "critical, high, normal, low", cause);
		/* PriorityClass values are int32; anything wider is a typo. */
		if ((error = engine_config_integer(pair, name, INT32_MIN,
		    INT32_MAX, &value, cause)) != 0)
			return error;
		*target = value;
	}
	if (tier_thresholds_check(&config->thresholds, &reason) != 0) {
		error = toml_cause_at(cause, table, "[%s] %s", name,
		    reason ? reason : "thresholds out of order");
		free(reason);
		return error;
	}
	return 0;
}

static int
engine_config_slices(const struct toml_value *table,
    struct engine_config *config, char **cause)
{
	static const char *const name = "planner.slice_us";
	enum tier tier;
	int64_t value;
	int error;

	if (table->type != TOML_TABLE)
		return toml_cause_at(cause, table, "[planner] slice_us must "
		    "be a table of tier = microseconds, not %s",
		    engine_config_type_name(table));
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (strlen(pair->key) != pair->key_len ||
		    tier_from_name(pair->key, &tier) != 0)
			return engine_config_unknown(pair, name,
			    "critical, high, normal, low, background", cause);
		if ((error = engine_config_integer(pair, name,
		    ENGINE_MIN_SLICE_US, ENGINE_MAX_SLICE_US, &value, cause)) != 0)
			return error;
		config->slice_us[tier] = (uint64_t)value;
	}
	return 0;
}

static int
engine_config_planner(const struct toml_value *table,
    struct engine_config *config, char **cause)
{
	static const char *const name = "planner";
	static const struct {
		const char *key;
		int64_t min, max;
		size_t offset;
	} integers[] = {
		{ "debounce_ms", 0, ENGINE_MAX_DEBOUNCE_MS,
		    offsetof(struct engine_config, debounce_ms) },
		{ "system_layer_cpus", 1, ENGINE_MAX_SYSTEM_LAYER_CPUS,
		    offsetof(struct engine_config, system_layer_cpus) },
		{ "open_reserve_cpus", 0, 4096,
		    offsetof(struct engine_config, open_reserve_cpus) },
		{ "open_reserve_percent", 0, 90,
		    offsetof(struct engine_config, open_reserve_percent) },
		{ "hysteresis_percent", 0, 100,
		    offsetof(struct engine_config, hysteresis_percent) },
	};
	int64_t value;
	size_t j;
	int error;

	if (table->type != TOML_TABLE)
		return toml_cause_at(cause, table, "[%s] must be a table, "
		    "not %s", name, engine_config_type_name(table));
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];
		const struct toml_value *item = pair->value;

		for (j = 0; j < sizeof integers / sizeof integers[0]; j++)
			if (engine_config_key_is(pair, integers[j].key))
				break;
		if (j < sizeof integers / sizeof integers[0]) {
			if ((error = engine_config_integer(pair, name,
			    integers[j].min, integers[j].max, &value, cause)) != 0)
				return error;
			*(unsigned *)((char *)config + integers[j].offset) =
			    (unsigned)value;
		} else if (engine_config_key_is(pair, "membership")) {
			if (item->type == TOML_STRING &&
			    strcmp(item->u.string.text, "cgroup") == 0)
				config->membership = ENGINE_MEMBERSHIP_CGROUP;
			else if (item->type == TOML_STRING &&
			    strcmp(item->u.string.text, "hint") == 0)
				config->membership = ENGINE_MEMBERSHIP_HINT;
			else
				return toml_cause_at(cause, item, "[%s] "
				    "membership must be \"cgroup\" or \"hint\"",
				    name);
		} else if (engine_config_key_is(pair, "slice_us")) {
			if ((error = engine_config_slices(item, config,
			    cause)) != 0)
				return error;
		} else {
			return engine_config_unknown(pair, name,
			    "debounce_ms, system_layer_cpus, open_reserve_cpus, "
			    "open_reserve_percent, hysteresis_percent, "
			    "membership, slice_us", cause);
		}
	}
	return 0;
}

int
engine_config_from_toml(const struct toml_value *root,
    struct engine_config *config, char **cause)
{
	struct engine_config next = *config;
	const struct toml_value *table;
	int error;

	if (cause != NULL)
		*cause = NULL;
	if (root == NULL || root->type != TOML_TABLE) {
		if (cause != NULL)
			*cause = strdup("the configuration is not a TOML table");
		return -EINVAL;
	}
	/* Work on a copy so that a half-read config never leaks out. */
	for (size_t i = 0; i < root->u.table.count; i++) {
		const struct toml_pair *pair = &root->u.table.pairs[i];

		table = pair->value;
		if (engine_config_key_is(pair, "priority_mapping"))
			error = engine_config_priority_mapping(table, &next, cause);
		else if (engine_config_key_is(pair, "planner"))
			error = engine_config_planner(table, &next, cause);
		else
			continue;	/* other sections belong to other readers */
		if (error != 0)
			return error;
	}
	*config = next;
	return 0;
}
