/*
 * controller-policy.h - the safe-mode controller's decisions, pure:
 * TemperPolicy objects and Nodes in, per-node annotation changes and
 * per-policy status out.
 *
 * A TemperPolicy (temper.io/v1alpha1, cluster-scoped, deploy/crd/
 * temperpolicy.yaml) selects nodes with spec.nodeSelector, a standard
 * label selector (matchLabels, matchExpressions with In, NotIn, Exists,
 * DoesNotExist; absent or {} selects every node), and asks for safe mode
 * with spec.safeMode (default true).
 *
 * Ownership, so that deleting a policy clears what it set and nothing
 * else: the controller writes temper.io/safe-mode-requested=true together
 * with temper.io/safe-mode-policy=<the policies' names, sorted, comma-
 * separated>.  Only a node carrying temper.io/safe-mode-policy is ever
 * cleared; a node where someone else requested safe mode is left alone
 * and not taken over.  Reconciliation is level-based: what the current
 * policies want is compared with what each node carries, so a policy
 * deleted while the controller was down is cleared at its next start.
 */
#ifndef TEMPER_CONTROLLER_POLICY_H
#define TEMPER_CONTROLLER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kube-object.h"

struct buf;

#define CONTROLLER_SAFE_MODE_KEY "temper.io/safe-mode-requested"
#define CONTROLLER_OWNER_KEY "temper.io/safe-mode-policy"
#define CONTROLLER_POLICY_PATH "/apis/temper.io/v1alpha1/temperpolicies"
#define CONTROLLER_MAX_LABELS 1024

struct controller_label {
	const char *key;
	const char *value;
};

struct controller_node {
	const char *uid;
	const char *name;
	const char *resource_version;
	const char *safe_mode;		/* temper.io/safe-mode-requested, or NULL */
	const char *owner;		/* temper.io/safe-mode-policy, or NULL */
	struct controller_label *labels;
	size_t label_count;
	char *strings;
};

struct controller_policy {
	const char *uid;
	const char *name;
	const char *resource_version;
	int64_t generation;
	bool safe_mode;
	cJSON *selector;		/* spec.nodeSelector, NULL: every node */
	const char *invalid;		/* why the selector is unusable, or NULL */

	/* The status the API holds, to write only what changed. */
	bool has_status;
	int64_t status_generation;
	int64_t status_matched;
	int64_t status_applied;
	const char *status_condition;	/* "True" / "False" */
	const char *status_reason;
	const char *status_message;
	const char *status_time;	/* lastTransitionTime */
	char *strings;
};

struct controller_node *controller_node_decode(const cJSON *json, char **cause);
void controller_node_free(struct controller_node *node);
struct controller_policy *controller_policy_decode(const cJSON *json, char **cause);
void controller_policy_free(struct controller_policy *policy);

extern const struct kube_kind controller_node_kind;
extern const struct kube_kind controller_policy_kind;

/* Does the policy's selector pick the node?  Invalid selectors pick none. */
bool controller_policy_selects(const struct controller_policy *policy,
    const struct controller_node *node);

enum controller_node_action {
	CONTROLLER_NODE_KEEP,		/* already as wanted, or not ours */
	CONTROLLER_NODE_SET,		/* request safe mode, record the owners */
	CONTROLLER_NODE_CLEAR,		/* ours, no longer wanted: remove both keys */
	CONTROLLER_NODE_FOREIGN,	/* wanted, but someone else set it: left alone */
};

/*
 * What to do with node, given the sorted, comma-separated names of the
 * policies that want safe mode on it ("" for none).
 */
enum controller_node_action controller_node_plan(
    const struct controller_node *node, const char *owners);

/* The owners string for node from every policy (sorted, comma-separated). */
int controller_owners(struct controller_policy *const *policies, size_t count,
    const struct controller_node *node, struct buf *out);

/* A policy's computed status. */
struct controller_status {
	int64_t generation;
	int64_t matched;		/* nodes selected */
	int64_t applied;		/* of them, nodes now in safe mode */
	const char *condition;		/* "True" / "False" */
	const char *reason;
	char message[256];
};

void controller_status_compute(const struct controller_policy *policy,
    int64_t matched, int64_t applied, struct controller_status *status);
bool controller_status_changed(const struct controller_policy *policy,
    const struct controller_status *status);
/*
 * The merge patch for the status subresource; now is an RFC 3339 time,
 * used when the condition's status changed.  0 or -ENOMEM.
 */
int controller_status_patch(const struct controller_policy *policy,
    const struct controller_status *status, const char *now, struct buf *out);

const char *controller_node_action_name(enum controller_node_action action);

#endif
