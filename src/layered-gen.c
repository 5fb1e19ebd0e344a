/*
 * layered-gen.c - a layer plan as scx_layered's JSON config.
 *
 * The keys and their spelling follow scx_layered 1.1's serde structs
 * (LayerSpec, LayerKind, LayerCommon, LayerMatch in config.rs); see
 * reference/scx_layered.md.  Layers are written in plan order, one key per
 * line for the kind's fields, so generations diff line by line.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "layered-gen.h"
#include "planner.h"

/* A JSON string; the planner keeps names and paths ASCII. */
static int
layered_gen_string_literal(struct buf *out, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text, *run;
	int error;

	if ((error = buf_puts(out, "\"")) != 0)
		return error;
	while (*p != '\0') {
		char escaped[7] = { '\\', 'u', '0', '0', 0, 0, 0 };

		/* Copy plain runs whole: paths are long and rarely escaped. */
		for (run = p; *p >= 0x20 && *p != '"' && *p != '\\'; p++)
			;
		if (p > run && (error = buf_append(out, run,
		    (size_t)(p - run))) != 0)
			return error;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			escaped[1] = (char)*p;
			escaped[2] = '\0';
		} else {
			escaped[4] = hex[*p >> 4];
			escaped[5] = hex[*p & 0xf];
		}
		if ((error = buf_puts(out, escaped)) != 0)
			return error;
		p++;
	}
	return buf_puts(out, "\"");
}

/* 0.55 from 550 permille, exactly: no floating point on the way. */
static int
layered_gen_permille(struct buf *out, unsigned permille)
{
	unsigned fraction = permille % 1000, digits = 3;

	if (fraction == 0)
		return buf_printf(out, "%u.0", permille / 1000);
	while (fraction % 10 == 0) {
		fraction /= 10;
		digits--;
	}
	return buf_printf(out, "%u.%0*u", permille / 1000, (int)digits, fraction);
}

static const char *
layered_gen_match_key(enum plan_match_kind kind)
{
	switch (kind) {
	case PLAN_MATCH_CGROUP_PREFIX:
		return "CgroupPrefix";
	case PLAN_MATCH_COMM_PREFIX:
		return "CommPrefix";
	case PLAN_MATCH_PCOMM_PREFIX:
		return "PcommPrefix";
	case PLAN_MATCH_CMD_JOIN:
		return "CmdJoin";
	case PLAN_MATCH_IS_GROUP_LEADER:
		return "IsGroupLeader";
	default:
		return "HintEquals";
	}
}

/* One condition: {"Key": value}. */
static int
layered_gen_condition(struct buf *out, const struct plan_match *match)
{
	int error = buf_printf(out, "{\"%s\": ",
	    layered_gen_match_key(match->kind));

	if (error != 0)
		return error;
	if (match->kind == PLAN_MATCH_HINT_EQUALS)
		error = buf_printf(out, "%u", match->hint);
	else if (match->kind == PLAN_MATCH_IS_GROUP_LEADER)
		error = buf_puts(out, match->hint ? "true" : "false");
	else
		error = layered_gen_string_literal(out, match->text);
	if (error == 0)
		error = buf_puts(out, "}");
	return error;
}

static int
layered_gen_matches(struct buf *out, const struct plan_layer *layer)
{
	int error = 0;

	if (layer->match_count == 0)
		return buf_puts(out, "    \"matches\": [[]],\n");
	error = buf_puts(out, "    \"matches\": [\n");
	for (size_t i = 0; i < layer->match_count && error == 0; i++) {
		const struct plan_match *match = &layer->matches[i];

		/* A profile block ANDs the pod's cgroup with a thread group's
		 * conditions. */
		error = buf_puts(out, "      [");
		if (error == 0)
			error = layered_gen_condition(out, match);
		for (size_t c = 0; c < match->also_count && error == 0; c++) {
			error = buf_puts(out, ", ");
			if (error == 0)
				error = layered_gen_condition(out,
				    &match->also[c]);
		}
		if (error == 0)
			error = buf_puts(out, i + 1 < layer->match_count ?
			    "],\n" : "]\n");
	}
	if (error == 0)
		error = buf_puts(out, "    ],\n");
	return error;
}

static int
layered_gen_kind(struct buf *out, const struct plan_layer *layer)
{
	int error;

	error = buf_printf(out, "    \"kind\": {\n      \"%s\": {\n",
	    planner_kind_name(layer->kind));
	if (error == 0 && layer->kind != PLAN_KIND_OPEN) {
		error = buf_puts(out, "        \"util_range\": [");
		if (error == 0)
			error = layered_gen_permille(out, layer->util_low_permille);
		if (error == 0)
			error = buf_puts(out, ", ");
		if (error == 0)
			error = layered_gen_permille(out, layer->util_high_permille);
		if (error == 0)
			error = buf_printf(out, "],\n"
			    "        \"cpus_range\": [%u, %u],\n"
			    "        \"protected\": %s,\n", layer->cpus_min,
			    layer->cpus_max, layer->protected ? "true" : "false");
	}
	if (error == 0)
		error = buf_printf(out,
		    "        \"slice_us\": %" PRIu64 ",\n"
		    "        \"preempt\": %s,\n"
		    "        \"exclusive\": %s,\n"
		    "        \"weight\": %u\n"
		    "      }\n"
		    "    }\n", layer->slice_us, layer->preempt ? "true" : "false",
		    layer->exclusive ? "true" : "false", layer->weight);
	return error;
}

int
layered_gen(const struct plan *plan, struct buf *out)
{
	int error;

	/* scx_layered refuses a config without layers ("No layer spec"). */
	if (plan == NULL || plan->layer_count == 0)
		return -EINVAL;
	error = buf_puts(out, "[\n");
	for (size_t i = 0; i < plan->layer_count && error == 0; i++) {
		const struct plan_layer *layer = &plan->layers[i];

		error = buf_puts(out, "  {\n    \"name\": ");
		if (error == 0)
			error = layered_gen_string_literal(out, layer->name);
		if (error == 0 && layer->comment != NULL) {
			error = buf_puts(out, ",\n    \"comment\": ");
			if (error == 0)
				error = layered_gen_string_literal(out,
				    layer->comment);
		}
		if (error == 0)
			error = buf_puts(out, ",\n");
		if (error == 0)
			error = layered_gen_matches(out, layer);
		if (error == 0)
			error = layered_gen_kind(out, layer);
		if (error == 0)
			error = buf_puts(out, i + 1 < plan->layer_count ?
			    "  },\n" : "  }\n");
	}
	if (error == 0)
		error = buf_puts(out, "]\n");
	return error;
}

char *
layered_gen_string(const struct plan *plan)
{
	struct buf out = BUF_INIT;
	int error;

	if ((error = layered_gen(plan, &out)) != 0) {
		buf_free(&out);
		errno = -error;
		return NULL;
	}
	return buf_detach(&out);
}
