/*
 * extender-args.h - kube-scheduler's ExtenderArgs, decoded.
 *
 * Pure.  {"Pod":{...},"Nodes":{<NodeList>}|null,"NodeNames":[...]|null}.
 * In node-cache mode NodeNames lists every feasible node, 5,000 names on a
 * big cluster, once per filter and once per prioritize: the extender's hot
 * path.  So the body is read by a strict one-pass JSON scanner (RFC 8259,
 * nesting at most CJSON_NESTING_LIMIT deep) that decodes the names into
 * one arena, and only the Pod (and in whole-Nodes mode the Nodes) goes to
 * cJSON.  The meaning is cJSON's as the extender used it before: the first
 * key matching Pod, Nodes or NodeNames ignoring ASCII case wins (Go's
 * decoder ignores case too), escapes are decoded, bytes above 0x7f pass
 * through.  Stricter than cJSON: bytes after the object, raw control
 * characters in strings and malformed numbers are refused, and so is a
 * name holding U+0000 (cJSON would have cut it short and answered for
 * another name).  t/fuzz/fuzz-extender.c holds the scanner to cJSON's
 * reading of every body both accept.
 */
#ifndef TEMPER_EXTENDER_ARGS_H
#define TEMPER_EXTENDER_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tier.h"

struct extender_node_state;
struct pod;

/* More names than any cluster has nodes is a hostile request. */
#define EXTENDER_MAX_NODES 100000

/* A node's name as the request gave it. */
struct extender_node_name {
	const char *text;	/* NUL-terminated; NULL for a nameless Nodes item */
	uint32_t length;
	uint32_t hash;		/* extender_name_hash(text, length) */
	bool escape;		/* holds '"', '\\' or a control: JSON escapes it */
};

/* A decoded ExtenderArgs. */
struct extender_args {
	struct pod *pod;
	enum tier tier;
	int64_t request_millis;
	bool node_cache;		/* NodeNames were sent, not Nodes */
	size_t node_count;
	struct extender_node_name *names;
	char *arena;			/* node-cache mode: the names' bytes */
	cJSON *nodes_json;		/* Nodes mode: owns the names and items */
	const cJSON **items;		/* Nodes mode: each node, to echo back */
	struct extender_node_state *states;	/* Nodes mode: each node's state */
};

/*
 * Decode an ExtenderArgs body.  0, or -EINVAL (-ENOMEM) with *cause.
 * extender_args_release is safe on a failed or zeroed args.
 */
int extender_args_decode(const char *body, size_t len,
    const struct tier_thresholds *thresholds, struct extender_args *args,
    char **cause);
void extender_args_release(struct extender_args *args);

/*
 * FNV-1a.  Not keyed: the node cache's table is filled from the API
 * server's names, which a client of the extender cannot choose, and the
 * twin check of extender_args_decode bounds its probes.
 */
static inline uint32_t
extender_name_hash(const char *text, size_t length)
{
	uint32_t hash = 2166136261u;

	for (size_t i = 0; i < length; i++) {
		hash ^= (unsigned char)text[i];
		hash *= 16777619u;
	}
	return hash;
}

#endif
