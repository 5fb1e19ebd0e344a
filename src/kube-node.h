/*
 * kube-node.h - a Node's JSON into a compact struct.
 *
 * Only what Temper reads: identity, a few well-known labels, Temper's own
 * annotations (temper.io/ wins over the legacy infera.io/ key) and the
 * node's CPU, memory and pod capacity.  Pure, like kube-pod.
 */
#ifndef TEMPER_KUBE_NODE_H
#define TEMPER_KUBE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube-object.h"

struct kube_node_resources {
	int64_t cpu_millis;	/* -1 when the node does not report it */
	int64_t memory_bytes;
	int64_t pods;
};

struct kube_node {
	const char *uid;
	const char *name;
	const char *resource_version;

	/* Labels. */
	const char *hostname;		/* kubernetes.io/hostname */
	const char *arch;		/* kubernetes.io/arch */
	const char *os;			/* kubernetes.io/os */
	const char *instance_type;	/* node.kubernetes.io/instance-type */

	/* Annotations (NULL when absent). */
	const char *qos_distribution;	/* temper.io/qos-distribution */
	const char *safe_mode_requested;	/* temper.io/safe-mode-requested */

	bool unschedulable;		/* spec.unschedulable */
	struct kube_node_resources allocatable;
	struct kube_node_resources capacity;

	/* All strings above live in this one allocation. */
	char *strings;
};

struct kube_node *kube_node_decode(const cJSON *json, char **cause);
struct kube_node *kube_node_decode_text(const char *text, size_t len,
    char **cause);
void kube_node_free(struct kube_node *node);

extern const struct kube_kind kube_node_kind;

#endif
