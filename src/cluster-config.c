/* cluster-config.c - [extender], [webhook] and [controller] of temper.conf. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-config.h"
#include "toml.h"

void
cluster_config_defaults(struct cluster_config *config)
{
	memset(config, 0, sizeof *config);
	config->extender_admit_unannotated = false;
	config->extender_threads_per_core = CLUSTER_DEFAULT_THREADS_PER_CORE;
	config->webhook_ratio = CLUSTER_DEFAULT_RATIO;
	config->webhook_floor_millis = CLUSTER_DEFAULT_FLOOR_MILLIS;
	config->webhook_guaranteed = CLUSTER_GUARANTEED_SKIP;
	config->controller_resync_seconds = CLUSTER_DEFAULT_RESYNC_SECONDS;
}

const char *
cluster_guaranteed_name(enum cluster_guaranteed guaranteed)
{
	return guaranteed == CLUSTER_GUARANTEED_SCALE ? "scale" : "skip";
}

bool
cluster_config_section(const char *name)
{
	return strcmp(name, "extender") == 0 || strcmp(name, "webhook") == 0 ||
	    strcmp(name, "controller") == 0;
}

static bool
cluster_config_key_is(const struct toml_pair *pair, const char *name)
{
	return pair->key_len == strlen(name) &&
	    memcmp(pair->key, name, pair->key_len) == 0;
}

static int
cluster_config_integer(const struct toml_pair *pair, const char *table,
    int64_t min, int64_t max, int64_t *out, char **cause)
{
	const struct toml_value *value = pair->value;

	if (value->type != TOML_INTEGER)
		return toml_cause_at(cause, value, "[%s] %s must be an "
		    "integer, not %s", table, pair->key,
		    toml_type_name(value->type));
	if (value->u.integer < min || value->u.integer > max)
		return toml_cause_at(cause, value, "[%s] %s = %" PRId64
		    " is out of range [%" PRId64 ", %" PRId64 "]", table,
		    pair->key, value->u.integer, min, max);
	*out = value->u.integer;
	return 0;
}

static int
cluster_config_unknown(const struct toml_pair *pair, const char *table,
    const char *known, char **cause)
{
	return toml_cause_at(cause, pair->value,
	    "[%s] unknown key \"%.*s\" (known: %s)", table,
	    pair->key_len > 64 ? 64 : (int)pair->key_len, pair->key, known);
}

static int
cluster_config_extender(const struct toml_value *table,
    struct cluster_config *config, char **cause)
{
	int64_t value;
	int error;

	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (cluster_config_key_is(pair, "unannotated_nodes")) {
			const struct toml_value *v = pair->value;

			if (v->type == TOML_STRING && strcmp(v->u.string.text, "refuse") == 0)
				config->extender_admit_unannotated = false;
			else if (v->type == TOML_STRING && strcmp(v->u.string.text, "admit") == 0)
				config->extender_admit_unannotated = true;
			else
				return toml_cause_at(cause, v, "[extender] "
				    "unannotated_nodes must be \"refuse\" or \"admit\"");
		} else if (cluster_config_key_is(pair, "threads_per_core")) {
			if ((error = cluster_config_integer(pair, "extender", 1,
			    CLUSTER_MAX_THREADS_PER_CORE, &value, cause)) != 0)
				return error;
			config->extender_threads_per_core = (unsigned)value;
		} else {
			return cluster_config_unknown(pair, "extender",
			    "unannotated_nodes, threads_per_core", cause);
		}
	}
	return 0;
}

static int
cluster_config_webhook(const struct toml_value *table,
    struct cluster_config *config, char **cause)
{
	int64_t value;
	int error;

	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];
		const struct toml_value *v = pair->value;

		if (cluster_config_key_is(pair, "ratio")) {
			double ratio;

			if (v->type == TOML_FLOAT)
				ratio = v->u.floating;
			else if (v->type == TOML_INTEGER)
				ratio = (double)v->u.integer;
			else
				return toml_cause_at(cause, v, "[webhook] ratio "
				    "must be a number, not %s", toml_type_name(v->type));
			/* A ratio of 0 would erase requests; above 1 would inflate them. */
			if (!(ratio > 0.0 && ratio <= 1.0))
				return toml_cause_at(cause, v, "[webhook] ratio = %g "
				    "must be in (0, 1]", ratio);
			config->webhook_ratio = ratio;
		} else if (cluster_config_key_is(pair, "floor_millis")) {
			if ((error = cluster_config_integer(pair, "webhook", 1,
			    CLUSTER_MAX_FLOOR_MILLIS, &value, cause)) != 0)
				return error;
			config->webhook_floor_millis = value;
		} else if (cluster_config_key_is(pair, "guaranteed")) {
			if (v->type == TOML_STRING && strcmp(v->u.string.text, "skip") == 0)
				config->webhook_guaranteed = CLUSTER_GUARANTEED_SKIP;
			else if (v->type == TOML_STRING && strcmp(v->u.string.text, "scale") == 0)
				config->webhook_guaranteed = CLUSTER_GUARANTEED_SCALE;
			else
				return toml_cause_at(cause, v, "[webhook] "
				    "guaranteed must be \"skip\" or \"scale\"");
		} else {
			return cluster_config_unknown(pair, "webhook",
			    "ratio, floor_millis, guaranteed", cause);
		}
	}
	return 0;
}

static int
cluster_config_controller(const struct toml_value *table,
    struct cluster_config *config, char **cause)
{
	int64_t value;
	int error;

	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (cluster_config_key_is(pair, "resync_seconds")) {
			if ((error = cluster_config_integer(pair, "controller", 1,
			    CLUSTER_MAX_RESYNC_SECONDS, &value, cause)) != 0)
				return error;
			config->controller_resync_seconds = (unsigned)value;
		} else {
			return cluster_config_unknown(pair, "controller",
			    "resync_seconds", cause);
		}
	}
	return 0;
}

int
cluster_config_from_toml(const struct toml_value *root,
    struct cluster_config *config, char **cause)
{
	static const struct {
		const char *name;
		int (*parse)(const struct toml_value *, struct cluster_config *, char **);
	} sections[] = {
		{ "extender", cluster_config_extender },
		{ "webhook", cluster_config_webhook },
		{ "controller", cluster_config_controller },
	};
	struct cluster_config parsed = *config;
	const struct toml_value *table;
	int error;

	if (cause != NULL)
		*cause = NULL;
	if (root == NULL || root->type != TOML_TABLE)
		return 0;
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		if ((table = toml_get(root, sections[i].name)) == NULL)
			continue;
		if (table->type != TOML_TABLE)
			return toml_cause_at(cause, table, "[%s] must be a "
			    "table, not %s", sections[i].name,
			    toml_type_name(table->type));
		if ((error = sections[i].parse(table, &parsed, cause)) != 0)
			return error;
	}
	*config = parsed;
	return 0;
}
