/*
 * kube-yaml.h - a strict reader for the YAML subset kubeconfig files use.
 *
 * Block mappings, block sequences (also the "key:\n- item" form kubectl
 * writes), plain, single- and double-quoted scalars on one line, empty
 * flow collections ({} and []), comments and one optional "---".
 * Everything else (anchors, aliases, tags, block scalars, flow content,
 * multi-line scalars, tabs in indentation, duplicate keys) is refused with
 * the line and the reason: a kubeconfig is untrusted input.
 */
#ifndef TEMPER_KUBE_YAML_H
#define TEMPER_KUBE_YAML_H

#include <stddef.h>

enum kube_yaml_type {
	KUBE_YAML_NULL,		/* empty, null or ~ */
	KUBE_YAML_SCALAR,
	KUBE_YAML_MAPPING,
	KUBE_YAML_SEQUENCE,
};

struct kube_yaml_node {
	enum kube_yaml_type type;
	char *key;			/* this node's key in its parent mapping */
	char *scalar;			/* KUBE_YAML_SCALAR: the text, unescaped */
	size_t line;			/* where it starts, 1-based */
	struct kube_yaml_node *child;	/* first entry or item */
	struct kube_yaml_node *next;	/* next sibling */
};

/* Bounds on hostile input. */
#define KUBE_YAML_MAX_BYTES (4 * 1024 * 1024)
#define KUBE_YAML_MAX_DEPTH 32

/* The document's root node, or NULL and *cause ("line 3: tab in indentation"). */
struct kube_yaml_node *kube_yaml_parse(const char *text, size_t len,
    char **cause);
void kube_yaml_free(struct kube_yaml_node *node);

/* The value of key in a mapping; NULL when absent or node is not a mapping. */
const struct kube_yaml_node *kube_yaml_get(const struct kube_yaml_node *node,
    const char *key);
/* The text of a scalar; NULL for anything else. */
const char *kube_yaml_scalar(const struct kube_yaml_node *node);

#endif
