/*
 * layered-schema.c - a strict checker for scx_layered JSON configs.
 *
 * Written against scx_layered 1.1 (config.rs, main.rs verify_layer_specs(),
 * bpf/intf.h); see reference/scx_layered.md.  One known gap: cJSON gives
 * every number as a double, so "5.0" where serde wants an integer passes
 * here although serde_json refuses it; layered-gen.c never writes one.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layered-schema.h"

#define LAYERED_SCHEMA_MAX_LAYERS 16
#define LAYERED_SCHEMA_MAX_OR_BLOCKS 32
#define LAYERED_SCHEMA_MAX_AND_CONDITIONS 26
#define LAYERED_SCHEMA_MAX_PATH 4095
#define LAYERED_SCHEMA_MAX_COMM 15
#define LAYERED_SCHEMA_MAX_NAME 127
#define LAYERED_SCHEMA_MAX_HINT 1024
#define LAYERED_SCHEMA_MAX_REGEXES 16
#define LAYERED_SCHEMA_MAX_WEIGHT 10000
#define LAYERED_SCHEMA_MAX_PERF 1024
#define LAYERED_SCHEMA_MAX_NUMA_NODES 32
#define LAYERED_SCHEMA_MAX_LLCS 64

enum layered_schema_type {
	LAYERED_SCHEMA_BOOL,
	LAYERED_SCHEMA_U32,
	LAYERED_SCHEMA_U64,
	LAYERED_SCHEMA_F64,
	LAYERED_SCHEMA_F64_PAIR,	/* (f64, f64) */
	LAYERED_SCHEMA_USIZE_PAIR,	/* (usize, usize) */
	LAYERED_SCHEMA_USIZE_LIST,	/* Vec<usize> */
	LAYERED_SCHEMA_GROWTH_ALGO,
	LAYERED_SCHEMA_PLACEMENT,
};

/* Which kinds accept a field. */
#define LAYERED_SCHEMA_OPEN 1
#define LAYERED_SCHEMA_GROUPED 2
#define LAYERED_SCHEMA_CONFINED 4
#define LAYERED_SCHEMA_ALL 7
#define LAYERED_SCHEMA_SIZED (LAYERED_SCHEMA_GROUPED | LAYERED_SCHEMA_CONFINED)

static const struct {
	const char *name;
	enum layered_schema_type type;
	unsigned kinds;
} layered_schema_fields[] = {
	/* Confined and Grouped */
	{ "util_range", LAYERED_SCHEMA_F64_PAIR, LAYERED_SCHEMA_SIZED },
	{ "cpus_range", LAYERED_SCHEMA_USIZE_PAIR, LAYERED_SCHEMA_SIZED },
	{ "cpus_range_frac", LAYERED_SCHEMA_F64_PAIR, LAYERED_SCHEMA_SIZED },
	{ "membw_gb", LAYERED_SCHEMA_F64, LAYERED_SCHEMA_SIZED },
	{ "protected", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_SIZED },
	/* Grouped */
	{ "util_includes_open_cputime", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_GROUPED },
	{ "idle_confined", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_GROUPED },
	/* LayerCommon, flattened into every kind */
	{ "min_exec_us", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "yield_ignore", LAYERED_SCHEMA_F64, LAYERED_SCHEMA_ALL },
	{ "slice_us", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "fifo", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "preempt", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "preempt_first", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "exclusive", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "skip_remote_node", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "prev_over_idle_core", LAYERED_SCHEMA_BOOL, LAYERED_SCHEMA_ALL },
	{ "weight", LAYERED_SCHEMA_U32, LAYERED_SCHEMA_ALL },
	{ "disallow_open_after_us", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "disallow_preempt_after_us", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "xllc_mig_min_us", LAYERED_SCHEMA_F64, LAYERED_SCHEMA_ALL },
	{ "growth_algo", LAYERED_SCHEMA_GROWTH_ALGO, LAYERED_SCHEMA_ALL },
	/* Needs util_range, which Open layers lack. */
	{ "util_peak_half_life_ms", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_SIZED },
	{ "perf", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "idle_resume_us", LAYERED_SCHEMA_U32, LAYERED_SCHEMA_ALL },
	{ "nodes", LAYERED_SCHEMA_USIZE_LIST, LAYERED_SCHEMA_ALL },
	{ "llcs", LAYERED_SCHEMA_USIZE_LIST, LAYERED_SCHEMA_ALL },
	{ "placement", LAYERED_SCHEMA_PLACEMENT, LAYERED_SCHEMA_ALL },
	{ "member_expire_ms", LAYERED_SCHEMA_U64, LAYERED_SCHEMA_ALL },
	{ "xnuma_threshold", LAYERED_SCHEMA_F64_PAIR, LAYERED_SCHEMA_ALL },
	{ "xnuma_threshold_delta", LAYERED_SCHEMA_F64_PAIR, LAYERED_SCHEMA_ALL },
};

static const char *const layered_schema_growth_algos[] = {
	"Sticky", "Linear", "Reverse", "Random", "Topo", "RoundRobin",
	"BigLittle", "LittleBig", "NodeSpread", "NodeSpreadReverse",
	"NodeSpreadRandom", "CpuSetSpread", "CpuSetSpreadReverse",
	"CpuSetSpreadRandom", "RandomTopo", "StickyDynamic", NULL,
};

static const char *const layered_schema_placements[] = {
	"Standard", "Sticky", "Floating", NULL,
};

enum layered_schema_payload {
	LAYERED_SCHEMA_PATH,		/* string <= 4095 bytes */
	LAYERED_SCHEMA_REGEX,		/* string, counted */
	LAYERED_SCHEMA_COMM,		/* string <= 15 bytes */
	LAYERED_SCHEMA_I32,
	LAYERED_SCHEMA_ID,		/* u32 */
	LAYERED_SCHEMA_NSPID,		/* (u64, u32) */
	LAYERED_SCHEMA_FLAG,		/* bool */
	LAYERED_SCHEMA_RUNTIME,		/* (u64, u64) */
	LAYERED_SCHEMA_HINT,		/* u64 <= 1024, alone */
	LAYERED_SCHEMA_FRACTION,	/* f64 in [0, 1], with a hint */
	LAYERED_SCHEMA_NODE,		/* u32 */
};

static const struct {
	const char *name;
	enum layered_schema_payload payload;
} layered_schema_matches[] = {
	{ "CgroupPrefix", LAYERED_SCHEMA_PATH },
	{ "CgroupSuffix", LAYERED_SCHEMA_PATH },
	{ "CgroupContains", LAYERED_SCHEMA_PATH },
	{ "CgroupRegex", LAYERED_SCHEMA_REGEX },
	{ "CommPrefix", LAYERED_SCHEMA_COMM },
	{ "CommPrefixExclude", LAYERED_SCHEMA_COMM },
	{ "PcommPrefix", LAYERED_SCHEMA_COMM },
	{ "PcommPrefixExclude", LAYERED_SCHEMA_COMM },
	{ "NiceAbove", LAYERED_SCHEMA_I32 },
	{ "NiceBelow", LAYERED_SCHEMA_I32 },
	{ "NiceEquals", LAYERED_SCHEMA_I32 },
	{ "UIDEquals", LAYERED_SCHEMA_ID },
	{ "GIDEquals", LAYERED_SCHEMA_ID },
	{ "PIDEquals", LAYERED_SCHEMA_ID },
	{ "PPIDEquals", LAYERED_SCHEMA_ID },
	{ "TGIDEquals", LAYERED_SCHEMA_ID },
	{ "NSPIDEquals", LAYERED_SCHEMA_NSPID },
	{ "NSEquals", LAYERED_SCHEMA_ID },
	{ "CmdJoin", LAYERED_SCHEMA_COMM },
	{ "IsGroupLeader", LAYERED_SCHEMA_FLAG },
	{ "IsKthread", LAYERED_SCHEMA_FLAG },
	{ "UsedGpuTid", LAYERED_SCHEMA_FLAG },
	{ "UsedGpuPid", LAYERED_SCHEMA_FLAG },
	{ "AvgRuntime", LAYERED_SCHEMA_RUNTIME },
	{ "HintEquals", LAYERED_SCHEMA_HINT },
	{ "SystemCpuUtilBelow", LAYERED_SCHEMA_FRACTION },
	{ "DsqInsertBelow", LAYERED_SCHEMA_FRACTION },
	{ "NumaNode", LAYERED_SCHEMA_NODE },
};

struct layered_schema {
	char **cause;
	size_t layer;			/* 0-based, for messages */
	const char *layer_name;
	size_t regexes;
	/* hint value -> 1 + the layer using it */
	size_t hint_layer[LAYERED_SCHEMA_MAX_HINT + 1];
};

__attribute__((format(printf, 2, 3)))
static int
layered_schema_fail(struct layered_schema *schema, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	int n;

	if (schema->cause == NULL)
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*schema->cause = NULL;
		return -EINVAL;
	}
	if (schema->layer == SIZE_MAX)
		n = asprintf(schema->cause, "%s", message);
	else if (schema->layer_name != NULL)
		n = asprintf(schema->cause, "layer %zu (\"%.64s\"): %s",
		    schema->layer, schema->layer_name, message);
	else
		n = asprintf(schema->cause, "layer %zu: %s", schema->layer,
		    message);
	if (n < 0)
		*schema->cause = NULL;
	free(message);
	return -EINVAL;
}

/* cJSON keeps duplicate keys; serde would take the last.  Refuse them. */
static int
layered_schema_unique_keys(struct layered_schema *schema, const cJSON *object,
    const char *where)
{
	for (const cJSON *a = object->child; a != NULL; a = a->next)
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return layered_schema_fail(schema,
				    "%s: duplicate key \"%.64s\"", where, a->string);
	return 0;
}

static bool
layered_schema_is_integer(const cJSON *item, double min, double max)
{
	double value;

	if (!cJSON_IsNumber(item))
		return false;
	value = item->valuedouble;
	if (!(value >= min && value <= max))
		return false;
	/* Beyond 2^53 every double is an integer (and too big to cast). */
	if (value >= 9007199254740992.0 || value <= -9007199254740992.0)
		return true;
	return value == (double)(int64_t)value;
}

static bool
layered_schema_in_list(const char *text, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(text, list[i]) == 0)
			return true;
	return false;
}

static int
layered_schema_pair(struct layered_schema *schema, const cJSON *item,
    const char *where, bool integers, double max, double out[2])
{
	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2)
		return layered_schema_fail(schema, "%s must be a pair [a, b]",
		    where);
	for (int i = 0; i < 2; i++) {
		const cJSON *element = cJSON_GetArrayItem(item, i);

		if (!cJSON_IsNumber(element) || (integers &&
		    !layered_schema_is_integer(element, 0, max)))
			return layered_schema_fail(schema, "%s[%d] must be %s",
			    where, i, integers ? "a non-negative integer" :
			    "a number");
		out[i] = element->valuedouble;
	}
	return 0;
}

static int
layered_schema_field(struct layered_schema *schema, const cJSON *item,
    enum layered_schema_type type, const char *where)
{
	double pair[2];

	switch (type) {
	case LAYERED_SCHEMA_BOOL:
		if (!cJSON_IsBool(item))
			return layered_schema_fail(schema, "%s must be a boolean",
			    where);
		return 0;
	case LAYERED_SCHEMA_U32:
		if (!layered_schema_is_integer(item, 0, UINT32_MAX))
			return layered_schema_fail(schema, "%s must be an integer "
			    "in [0, 4294967295]", where);
		return 0;
	case LAYERED_SCHEMA_U64:
		if (!layered_schema_is_integer(item, 0, 18446744073709551615.0))
			return layered_schema_fail(schema, "%s must be a "
			    "non-negative integer", where);
		return 0;
	case LAYERED_SCHEMA_F64:
		if (!cJSON_IsNumber(item))
			return layered_schema_fail(schema, "%s must be a number",
			    where);
		return 0;
	case LAYERED_SCHEMA_F64_PAIR:
		return layered_schema_pair(schema, item, where, false, 0, pair);
	case LAYERED_SCHEMA_USIZE_PAIR:
		return layered_schema_pair(schema, item, where, true,
		    18446744073709551615.0, pair);
	case LAYERED_SCHEMA_USIZE_LIST:
		if (!cJSON_IsArray(item))
			return layered_schema_fail(schema, "%s must be an array",
			    where);
		for (const cJSON *element = item->child; element != NULL;
		    element = element->next)
			if (!layered_schema_is_integer(element, 0, 1 << 20))
				return layered_schema_fail(schema, "%s must hold "
				    "non-negative integers", where);
		return 0;
	case LAYERED_SCHEMA_GROWTH_ALGO:
		if (!cJSON_IsString(item) || !layered_schema_in_list(
		    item->valuestring, layered_schema_growth_algos))
			return layered_schema_fail(schema, "%s is not a known "
			    "growth algorithm", where);
		return 0;
	case LAYERED_SCHEMA_PLACEMENT:
		if (!cJSON_IsString(item) || !layered_schema_in_list(
		    item->valuestring, layered_schema_placements))
			return layered_schema_fail(schema, "%s must be Standard, "
			    "Sticky or Floating", where);
		return 0;
	}
	return 0;
}

/* The per-kind rules of verify_layer_specs() and Layer::new(). */
static int
layered_schema_sizing(struct layered_schema *schema, const cJSON *fields,
    const char *kind, unsigned kind_bit)
{
	const cJSON *item;
	double pair[2];
	char where[96];
	int error;

	if (kind_bit == LAYERED_SCHEMA_OPEN)
		return 0;
	snprintf(where, sizeof where, "kind.%s.util_range", kind);
	if ((item = cJSON_GetObjectItemCaseSensitive(fields, "util_range")) == NULL)
		return layered_schema_fail(schema, "kind.%s: missing field "
		    "util_range", kind);
	if ((error = layered_schema_pair(schema, item, where, false, 0, pair)) != 0)
		return error;
	if (pair[0] < 0 || pair[0] >= pair[1])
		return layered_schema_fail(schema, "%s must be 0 <= low < high",
		    where);
	if ((item = cJSON_GetObjectItemCaseSensitive(fields, "cpus_range")) != NULL) {
		snprintf(where, sizeof where, "kind.%s.cpus_range", kind);
		if ((error = layered_schema_pair(schema, item, where, true,
		    18446744073709551615.0, pair)) != 0)
			return error;
		if (pair[0] > pair[1] || pair[1] == 0)
			return layered_schema_fail(schema, "%s must be min <= max "
			    "and max > 0", where);
		if (cJSON_GetObjectItemCaseSensitive(fields, "cpus_range_frac"))
			return layered_schema_fail(schema, "kind.%s: cpus_range "
			    "and cpus_range_frac are exclusive", kind);
	}
	if ((item = cJSON_GetObjectItemCaseSensitive(fields,
	    "cpus_range_frac")) != NULL) {
		snprintf(where, sizeof where, "kind.%s.cpus_range_frac", kind);
		if ((error = layered_schema_pair(schema, item, where, false, 0,
		    pair)) != 0)
			return error;
		if (pair[0] < 0 || pair[1] > 1 || pair[0] > pair[1])
			return layered_schema_fail(schema, "%s must be within "
			    "[0, 1], low <= high", where);
	}
	return 0;
}

static int
layered_schema_kind(struct layered_schema *schema, const cJSON *kind)
{
	const cJSON *fields, *item;
	unsigned kind_bit;
	char where[96];
	size_t i;
	int error;

	if (!cJSON_IsObject(kind) || kind->child == NULL ||
	    kind->child->next != NULL)
		return layered_schema_fail(schema, "kind must be an object with "
		    "exactly one of Confined, Grouped, Open");
	fields = kind->child;
	if (strcmp(fields->string, "Confined") == 0)
		kind_bit = LAYERED_SCHEMA_CONFINED;
	else if (strcmp(fields->string, "Grouped") == 0)
		kind_bit = LAYERED_SCHEMA_GROUPED;
	else if (strcmp(fields->string, "Open") == 0)
		kind_bit = LAYERED_SCHEMA_OPEN;
	else
		return layered_schema_fail(schema, "kind: unknown variant "
		    "\"%.64s\"", fields->string);
	if (!cJSON_IsObject(fields))
		return layered_schema_fail(schema, "kind.%s must be an object",
		    fields->string);
	snprintf(where, sizeof where, "kind.%s", fields->string);
	if ((error = layered_schema_unique_keys(schema, fields, where)) != 0)
		return error;
	for (item = fields->child; item != NULL; item = item->next) {
		for (i = 0; i < sizeof layered_schema_fields /
		    sizeof layered_schema_fields[0]; i++)
			if (strcmp(item->string, layered_schema_fields[i].name) == 0)
				break;
		if (i == sizeof layered_schema_fields /
		    sizeof layered_schema_fields[0] ||
		    (layered_schema_fields[i].kinds & kind_bit) == 0)
			return layered_schema_fail(schema, "kind.%s: unknown key "
			    "\"%.64s\"", fields->string, item->string);
		snprintf(where, sizeof where, "kind.%s.%s", fields->string,
		    item->string);
		if ((error = layered_schema_field(schema, item,
		    layered_schema_fields[i].type, where)) != 0)
			return error;
	}
	item = cJSON_GetObjectItemCaseSensitive(fields, "weight");
	if (item != NULL && item->valuedouble > LAYERED_SCHEMA_MAX_WEIGHT)
		return layered_schema_fail(schema, "kind.%s.weight must be at "
		    "most %d", fields->string, LAYERED_SCHEMA_MAX_WEIGHT);
	item = cJSON_GetObjectItemCaseSensitive(fields, "perf");
	if (item != NULL && item->valuedouble > LAYERED_SCHEMA_MAX_PERF)
		return layered_schema_fail(schema, "kind.%s.perf must be at most "
		    "%d", fields->string, LAYERED_SCHEMA_MAX_PERF);
	item = cJSON_GetObjectItemCaseSensitive(fields, "nodes");
	if (item != NULL && cJSON_GetArraySize(item) > LAYERED_SCHEMA_MAX_NUMA_NODES)
		return layered_schema_fail(schema, "kind.%s.nodes lists more "
		    "than %d nodes", fields->string, LAYERED_SCHEMA_MAX_NUMA_NODES);
	item = cJSON_GetObjectItemCaseSensitive(fields, "llcs");
	if (item != NULL && cJSON_GetArraySize(item) > LAYERED_SCHEMA_MAX_LLCS)
		return layered_schema_fail(schema, "kind.%s.llcs lists more than "
		    "%d LLCs", fields->string, LAYERED_SCHEMA_MAX_LLCS);
	return layered_schema_sizing(schema, fields, fields->string, kind_bit);
}

/* One condition {"Variant": payload}; counts hints and fractions. */
static int
layered_schema_condition(struct layered_schema *schema, const cJSON *condition,
    const char *where, size_t *hints, size_t *fractions, double *hint)
{
	const cJSON *payload;
	double pair[2];
	char inner[128];
	size_t i, len;

	if (!cJSON_IsObject(condition) || condition->child == NULL ||
	    condition->child->next != NULL)
		return layered_schema_fail(schema, "%s must be an object with "
		    "exactly one match variant", where);
	payload = condition->child;
	for (i = 0; i < sizeof layered_schema_matches /
	    sizeof layered_schema_matches[0]; i++)
		if (strcmp(payload->string, layered_schema_matches[i].name) == 0)
			break;
	if (i == sizeof layered_schema_matches / sizeof layered_schema_matches[0])
		return layered_schema_fail(schema, "%s: unknown match variant "
		    "\"%.64s\"", where, payload->string);
	snprintf(inner, sizeof inner, "%s.%s", where, payload->string);
	switch (layered_schema_matches[i].payload) {
	case LAYERED_SCHEMA_PATH:
	case LAYERED_SCHEMA_REGEX:
	case LAYERED_SCHEMA_COMM:
		if (!cJSON_IsString(payload))
			return layered_schema_fail(schema, "%s must be a string",
			    inner);
		len = strlen(payload->valuestring);
		if (layered_schema_matches[i].payload == LAYERED_SCHEMA_PATH &&
		    len > LAYERED_SCHEMA_MAX_PATH)
			return layered_schema_fail(schema, "%s is longer than %d "
			    "bytes", inner, LAYERED_SCHEMA_MAX_PATH);
		if (layered_schema_matches[i].payload == LAYERED_SCHEMA_COMM &&
		    len > LAYERED_SCHEMA_MAX_COMM)
			return layered_schema_fail(schema, "%s is longer than %d "
			    "bytes (a task's comm)", inner, LAYERED_SCHEMA_MAX_COMM);
		if (layered_schema_matches[i].payload == LAYERED_SCHEMA_REGEX &&
		    ++schema->regexes > LAYERED_SCHEMA_MAX_REGEXES)
			return layered_schema_fail(schema, "%s: more than %d "
			    "CgroupRegex matches", inner,
			    LAYERED_SCHEMA_MAX_REGEXES);
		return 0;
	case LAYERED_SCHEMA_I32:
		if (!layered_schema_is_integer(payload, INT32_MIN, INT32_MAX))
			return layered_schema_fail(schema, "%s must be a 32-bit "
			    "integer", inner);
		return 0;
	case LAYERED_SCHEMA_ID:
	case LAYERED_SCHEMA_NODE:
		if (!layered_schema_is_integer(payload, 0, UINT32_MAX))
			return layered_schema_fail(schema, "%s must be an "
			    "unsigned 32-bit integer", inner);
		return 0;
	case LAYERED_SCHEMA_NSPID:
		if (layered_schema_pair(schema, payload, inner, true,
		    18446744073709551615.0, pair) != 0)
			return -EINVAL;
		if (pair[1] > UINT32_MAX)
			return layered_schema_fail(schema, "%s: pid must fit 32 "
			    "bits", inner);
		return 0;
	case LAYERED_SCHEMA_RUNTIME:
		return layered_schema_pair(schema, payload, inner, true,
		    18446744073709551615.0, pair);
	case LAYERED_SCHEMA_FLAG:
		if (!cJSON_IsBool(payload))
			return layered_schema_fail(schema, "%s must be a boolean",
			    inner);
		return 0;
	case LAYERED_SCHEMA_HINT:
		if (!layered_schema_is_integer(payload, 0,
		    LAYERED_SCHEMA_MAX_HINT))
			return layered_schema_fail(schema, "%s must be an integer "
			    "in [0, %d]", inner, LAYERED_SCHEMA_MAX_HINT);
		(*hints)++;
		*hint = payload->valuedouble;
		return 0;
	case LAYERED_SCHEMA_FRACTION:
		if (!cJSON_IsNumber(payload) || payload->valuedouble < 0 ||
		    payload->valuedouble > 1)
			return layered_schema_fail(schema, "%s must be a number "
			    "in [0, 1]", inner);
		(*fractions)++;
		return 0;
	}
	return 0;
}

static int
layered_schema_matches_of(struct layered_schema *schema, const cJSON *matches,
    bool last)
{
	const cJSON *block, *condition;
	size_t blocks, index = 0;
	char where[64];
	int error;

	if (!cJSON_IsArray(matches))
		return layered_schema_fail(schema, "matches must be an array of "
		    "arrays");
	blocks = (size_t)cJSON_GetArraySize(matches);
	if (last) {
		/* First match wins and an unmatched task aborts the scheduler. */
		block = matches->child;
		if (blocks != 1 || !cJSON_IsArray(block) || block->child != NULL)
			return layered_schema_fail(schema, "the last layer must "
			    "match everything: matches must be [[]]");
		return 0;
	}
	if (blocks == 0)
		return layered_schema_fail(schema, "a layer before the last needs "
		    "matches (scx_layered: \"has NULL matches\")");
	if (blocks > LAYERED_SCHEMA_MAX_OR_BLOCKS)
		return layered_schema_fail(schema, "%zu OR blocks, more than "
		    "scx_layered's %d", blocks, LAYERED_SCHEMA_MAX_OR_BLOCKS);
	for (block = matches->child; block != NULL; block = block->next, index++) {
		size_t conditions, hints = 0, fractions = 0;
		double hint = 0;

		snprintf(where, sizeof where, "matches[%zu]", index);
		if (!cJSON_IsArray(block))
			return layered_schema_fail(schema, "%s must be an array",
			    where);
		conditions = (size_t)cJSON_GetArraySize(block);
		if (conditions == 0)
			return layered_schema_fail(schema, "%s is empty: it would "
			    "match every task, hiding the layers after it", where);
		if (conditions > LAYERED_SCHEMA_MAX_AND_CONDITIONS)
			return layered_schema_fail(schema, "%s has %zu conditions, "
			    "more than scx_layered's %d", where, conditions,
			    LAYERED_SCHEMA_MAX_AND_CONDITIONS);
		size_t position = 0;

		for (condition = block->child; condition != NULL;
		    condition = condition->next, position++) {
			char inner[80];

			snprintf(inner, sizeof inner, "%s[%zu]", where, position);
			if ((error = layered_schema_condition(schema, condition,
			    inner, &hints, &fractions, &hint)) != 0)
				return error;
		}
		if (hints > 1 || (hints == 1 && conditions != 1 + fractions))
			return layered_schema_fail(schema, "%s: HintEquals must be "
			    "alone in its block (bar SystemCpuUtilBelow or "
			    "DsqInsertBelow)", where);
		if (fractions > 0 && hints != 1)
			return layered_schema_fail(schema, "%s: SystemCpuUtilBelow "
			    "and DsqInsertBelow need exactly one HintEquals", where);
		if (hints == 1) {
			size_t *owner = &schema->hint_layer[(size_t)hint];

			if (*owner != 0 && *owner != schema->layer + 1)
				return layered_schema_fail(schema, "%s: hint %zu "
				    "already maps to layer %zu", where,
				    (size_t)hint, *owner - 1);
			*owner = schema->layer + 1;
		}
	}
	return 0;
}

static int
layered_schema_layer(struct layered_schema *schema, const cJSON *layer,
    bool last)
{
	const cJSON *item, *name = NULL, *matches = NULL, *kind = NULL;
	int error;

	if (!cJSON_IsObject(layer))
		return layered_schema_fail(schema, "must be an object");
	if ((error = layered_schema_unique_keys(schema, layer, "layer")) != 0)
		return error;
	for (item = layer->child; item != NULL; item = item->next) {
		if (strcmp(item->string, "name") == 0)
			name = item;
		else if (strcmp(item->string, "matches") == 0)
			matches = item;
		else if (strcmp(item->string, "kind") == 0)
			kind = item;
		else if (strcmp(item->string, "comment") == 0) {
			if (!cJSON_IsString(item))
				return layered_schema_fail(schema, "comment must "
				    "be a string");
		} else if (strcmp(item->string, "template") == 0) {
			/* Expanded by walking /sys/fs/cgroup at startup: a
			 * generated config states its layers outright. */
			return layered_schema_fail(schema, "template is not "
			    "accepted: Temper generates explicit layers");
		} else
			return layered_schema_fail(schema, "unknown key \"%.64s\"",
			    item->string);
	}
	if (name == NULL || !cJSON_IsString(name))
		return layered_schema_fail(schema, "missing string field name");
	schema->layer_name = name->valuestring;
	if (name->valuestring[0] == '\0' ||
	    strlen(name->valuestring) > LAYERED_SCHEMA_MAX_NAME)
		return layered_schema_fail(schema, "name must be 1 to %d bytes",
		    LAYERED_SCHEMA_MAX_NAME);
	if (matches == NULL)
		return layered_schema_fail(schema, "missing field matches");
	if (kind == NULL)
		return layered_schema_fail(schema, "missing field kind");
	if ((error = layered_schema_matches_of(schema, matches, last)) != 0)
		return error;
	return layered_schema_kind(schema, kind);
}

int
layered_schema_check(const char *json, size_t len, char **cause)
{
	struct layered_schema *schema;
	const char *end = NULL;
	const cJSON *layer;
	cJSON *root = NULL;
	size_t count, index = 0;
	int error = 0;

	if (cause != NULL)
		*cause = NULL;
	if ((schema = calloc(1, sizeof *schema)) == NULL)
		return -ENOMEM;
	schema->cause = cause;
	schema->layer = SIZE_MAX;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL) {
		error = layered_schema_fail(schema, "not JSON (near byte %td)",
		    cJSON_GetErrorPtr() != NULL ? cJSON_GetErrorPtr() - json : 0);
		goto out;
	}
	for (; end != NULL && end < json + len; end++)
		if (*end != ' ' && *end != '\n' && *end != '\t' && *end != '\r') {
			error = layered_schema_fail(schema, "trailing bytes "
			    "after the JSON value");
			goto out;
		}
	if (!cJSON_IsArray(root)) {
		error = layered_schema_fail(schema, "the config must be a JSON "
		    "array of layers");
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(root);
	if (count == 0 || count > LAYERED_SCHEMA_MAX_LAYERS) {
		error = layered_schema_fail(schema, "%zu layers; scx_layered "
		    "takes 1 to %d", count, LAYERED_SCHEMA_MAX_LAYERS);
		goto out;
	}
	for (layer = root->child; layer != NULL; layer = layer->next, index++) {
		schema->layer = index;
		schema->layer_name = NULL;
		if ((error = layered_schema_layer(schema, layer,
		    index + 1 == count)) != 0)
			goto out;
		/* Stats and logs key layers by name. */
		for (const cJSON *before = root->child; before != layer;
		    before = before->next) {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(before,
			    "name");

			if (strcmp(a->valuestring, schema->layer_name) == 0) {
				error = layered_schema_fail(schema, "name is "
				    "already used by an earlier layer");
				goto out;
			}
		}
	}
out:
	cJSON_Delete(root);
	free(schema);
	return error;
}
