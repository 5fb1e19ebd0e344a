/* controller-policy.c - the safe-mode controller's decisions, pure. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "controller-policy.h"

/* --- nodes ----------------------------------------------------------------- */

void
controller_node_free(struct controller_node *node)
{
	if (node == NULL)
		return;
	free(node->labels);
	free(node->strings);
	free(node);
}

struct controller_node *
controller_node_decode(const cJSON *json, char **cause)
{
	const cJSON *metadata = kube_object_get(json, "metadata", NULL);
	const cJSON *labels, *annotations, *label;
	struct controller_node *node;
	struct kube_strings strings;
	size_t count = 0;

	if (!cJSON_IsObject(metadata) || kube_object_string(metadata, "name", NULL) == NULL ||
	    kube_object_string(metadata, "uid", NULL) == NULL) {
		kube_object_cause(cause, "not an object with metadata.uid and name");
		errno = EINVAL;
		return NULL;
	}
	labels = kube_object_get(metadata, "labels", NULL);
	annotations = kube_object_get(metadata, "annotations", NULL);
	cJSON_ArrayForEach(label, labels)
		if (cJSON_IsString(label))
			count++;
	if (count > CONTROLLER_MAX_LABELS) {
		kube_object_cause(cause, "%zu labels, more than %d", count, CONTROLLER_MAX_LABELS);
		errno = EINVAL;
		return NULL;
	}
	if ((node = calloc(1, sizeof *node)) == NULL)
		return NULL;
	if (count > 0 && (node->labels = calloc(count, sizeof *node->labels)) == NULL) {
		free(node);
		return NULL;
	}
	kube_strings_init(&strings);
	kube_strings_add(&strings, &node->uid, kube_object_string(metadata, "uid", NULL));
	kube_strings_add(&strings, &node->name, kube_object_string(metadata, "name", NULL));
	kube_strings_add(&strings, &node->resource_version,
	    kube_object_string(metadata, "resourceVersion", NULL));
	kube_strings_add(&strings, &node->safe_mode,
	    kube_object_string(annotations, CONTROLLER_SAFE_MODE_KEY, NULL));
	kube_strings_add(&strings, &node->owner,
	    kube_object_string(annotations, CONTROLLER_OWNER_KEY, NULL));
	cJSON_ArrayForEach(label, labels) {
		if (!cJSON_IsString(label) || label->string == NULL)
			continue;
		kube_strings_add(&strings, &node->labels[node->label_count].key, label->string);
		kube_strings_add(&strings, &node->labels[node->label_count].value,
		    label->valuestring);
		node->label_count++;
	}
	if (kube_strings_pack(&strings, &node->strings) != 0) {
		kube_strings_free(&strings);
		controller_node_free(node);
		errno = ENOMEM;
		return NULL;
	}
	kube_strings_free(&strings);
	return node;
}

static const char *
controller_node_label(const struct controller_node *node, const char *key)
{
	for (size_t i = 0; i < node->label_count; i++)
		if (strcmp(node->labels[i].key, key) == 0)
			return node->labels[i].value;
	return NULL;
}

/* --- policies -------------------------------------------------------------- */

void
controller_policy_free(struct controller_policy *policy)
{
	if (policy == NULL)
		return;
	cJSON_Delete(policy->selector);
	free(policy->strings);
	free(policy);
}

static bool
controller_string_list(const cJSON *values)
{
	const cJSON *value;

	if (!cJSON_IsArray(values))
		return false;
	cJSON_ArrayForEach(value, values)
		if (!cJSON_IsString(value))
			return false;
	return true;
}

/* NULL when the selector is usable, else why not (a static string). */
static const char *
controller_selector_check(const cJSON *selector)
{
	const cJSON *labels, *expressions, *item, *values;
	const char *operator;

	if (!cJSON_IsObject(selector))
		return "spec.nodeSelector is not an object";
	labels = cJSON_GetObjectItem(selector, "matchLabels");
	expressions = cJSON_GetObjectItem(selector, "matchExpressions");
	if (labels != NULL && !cJSON_IsNull(labels)) {
		if (!cJSON_IsObject(labels))
			return "matchLabels is not an object";
		cJSON_ArrayForEach(item, labels)
			if (!cJSON_IsString(item))
				return "a matchLabels value is not a string";
	}
	if (expressions == NULL || cJSON_IsNull(expressions))
		return NULL;
	if (!cJSON_IsArray(expressions))
		return "matchExpressions is not a list";
	cJSON_ArrayForEach(item, expressions) {
		if (kube_object_string(item, "key", NULL) == NULL ||
		    (operator = kube_object_string(item, "operator", NULL)) == NULL)
			return "a matchExpressions entry lacks key or operator";
		values = cJSON_GetObjectItem(item, "values");
		if (strcmp(operator, "In") == 0 || strcmp(operator, "NotIn") == 0) {
			if (!controller_string_list(values) || cJSON_GetArraySize(values) == 0)
				return "In and NotIn need a non-empty list of values";
		} else if (strcmp(operator, "Exists") == 0 ||
		    strcmp(operator, "DoesNotExist") == 0) {
			if (values != NULL && !cJSON_IsNull(values) &&
			    cJSON_GetArraySize(values) > 0)
				return "Exists and DoesNotExist take no values";
		} else {
			return "operator must be In, NotIn, Exists or DoesNotExist";
		}
	}
	return NULL;
}

struct controller_policy *
controller_policy_decode(const cJSON *json, char **cause)
{
	const cJSON *metadata = kube_object_get(json, "metadata", NULL);
	const cJSON *spec = kube_object_get(json, "spec", NULL);
	const cJSON *status = kube_object_get(json, "status", NULL);
	const cJSON *selector, *safe_mode, *generation, *condition, *number;
	struct controller_policy *policy;
	struct kube_strings strings;
	const char *invalid = NULL;

	if (!cJSON_IsObject(metadata) || kube_object_string(metadata, "name", NULL) == NULL ||
	    kube_object_string(metadata, "uid", NULL) == NULL) {
		kube_object_cause(cause, "not an object with metadata.uid and name");
		errno = EINVAL;
		return NULL;
	}
	if ((policy = calloc(1, sizeof *policy)) == NULL)
		return NULL;
	generation = cJSON_GetObjectItem(metadata, "generation");
	policy->generation = cJSON_IsNumber(generation) ? (int64_t)generation->valuedouble : 0;
	safe_mode = cJSON_GetObjectItem(spec, "safeMode");
	policy->safe_mode = true;
	if (cJSON_IsBool(safe_mode))
		policy->safe_mode = cJSON_IsTrue(safe_mode);
	else if (safe_mode != NULL && !cJSON_IsNull(safe_mode))
		invalid = "spec.safeMode is not a boolean";
	selector = cJSON_GetObjectItem(spec, "nodeSelector");
	if (invalid == NULL && selector != NULL && !cJSON_IsNull(selector)) {
		if ((invalid = controller_selector_check(selector)) == NULL &&
		    (policy->selector = cJSON_Duplicate(selector, true)) == NULL) {
			controller_policy_free(policy);
			errno = ENOMEM;
			return NULL;
		}
	}
	kube_strings_init(&strings);
	kube_strings_add(&strings, &policy->uid, kube_object_string(metadata, "uid", NULL));
	kube_strings_add(&strings, &policy->name, kube_object_string(metadata, "name", NULL));
	kube_strings_add(&strings, &policy->resource_version,
	    kube_object_string(metadata, "resourceVersion", NULL));
	kube_strings_add(&strings, &policy->invalid, invalid);
	if (cJSON_IsObject(status)) {
		policy->has_status = true;
		number = cJSON_GetObjectItem(status, "observedGeneration");
		policy->status_generation = cJSON_IsNumber(number) ? (int64_t)number->valuedouble : -1;
		number = cJSON_GetObjectItem(status, "matchedNodes");
		policy->status_matched = cJSON_IsNumber(number) ? (int64_t)number->valuedouble : -1;
		number = cJSON_GetObjectItem(status, "appliedNodes");
		policy->status_applied = cJSON_IsNumber(number) ? (int64_t)number->valuedouble : -1;
		cJSON_ArrayForEach(condition, cJSON_GetObjectItem(status, "conditions")) {
			const char *type = kube_object_string(condition, "type", NULL);

			if (type == NULL || strcmp(type, "Applied") != 0)
				continue;
			kube_strings_add(&strings, &policy->status_condition,
			    kube_object_string(condition, "status", NULL));
			kube_strings_add(&strings, &policy->status_reason,
			    kube_object_string(condition, "reason", NULL));
			kube_strings_add(&strings, &policy->status_message,
			    kube_object_string(condition, "message", NULL));
			kube_strings_add(&strings, &policy->status_time,
			    kube_object_string(condition, "lastTransitionTime", NULL));
			break;
		}
	}
	if (kube_strings_pack(&strings, &policy->strings) != 0) {
		kube_strings_free(&strings);
		controller_policy_free(policy);
		errno = ENOMEM;
		return NULL;
	}
	kube_strings_free(&strings);
	return policy;
}

static bool
controller_value_in(const cJSON *values, const char *value)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, values)
		if (cJSON_IsString(item) && strcmp(item->valuestring, value) == 0)
			return true;
	return false;
}

bool
controller_policy_selects(const struct controller_policy *policy,
    const struct controller_node *node)
{
	const cJSON *item;

	if (policy->invalid != NULL)
		return false;
	if (policy->selector == NULL)
		return true;
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(policy->selector, "matchLabels")) {
		const char *value = controller_node_label(node, item->string);

		if (value == NULL || strcmp(value, item->valuestring) != 0)
			return false;
	}
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(policy->selector, "matchExpressions")) {
		const char *operator = kube_object_string(item, "operator", NULL);
		const char *value = controller_node_label(node,
		    kube_object_string(item, "key", NULL));
		const cJSON *values = cJSON_GetObjectItem(item, "values");

		if (strcmp(operator, "In") == 0) {
			if (value == NULL || !controller_value_in(values, value))
				return false;
		} else if (strcmp(operator, "NotIn") == 0) {
			if (value != NULL && controller_value_in(values, value))
				return false;
		} else if (strcmp(operator, "Exists") == 0) {
			if (value == NULL)
				return false;
		} else if (value != NULL) {
			return false;	/* DoesNotExist */
		}
	}
	return true;
}

/* --- decisions ------------------------------------------------------------- */

const char *
controller_node_action_name(enum controller_node_action action)
{
	switch (action) {
	case CONTROLLER_NODE_SET: return "set";
	case CONTROLLER_NODE_CLEAR: return "clear";
	case CONTROLLER_NODE_FOREIGN: return "foreign";
	default: return "keep";
	}
}

enum controller_node_action
controller_node_plan(const struct controller_node *node, const char *owners)
{
	bool wanted = owners[0] != '\0';
	bool owned = node->owner != NULL;
	bool on = node->safe_mode != NULL && strcmp(node->safe_mode, "true") == 0;

	if (wanted) {
		if (owned)
			return on && strcmp(node->owner, owners) == 0 ?
			    CONTROLLER_NODE_KEEP : CONTROLLER_NODE_SET;
		return on ? CONTROLLER_NODE_FOREIGN : CONTROLLER_NODE_SET;
	}
	return owned ? CONTROLLER_NODE_CLEAR : CONTROLLER_NODE_KEEP;
}

static int
controller_compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
controller_owners(struct controller_policy *const *policies, size_t count,
    const struct controller_node *node, struct buf *out)
{
	const char **names;
	size_t n = 0;
	int error = 0;

	buf_reset(out);
	if (buf_puts(out, "") != 0)
		return -ENOMEM;
	if (count == 0)
		return 0;
	if ((names = calloc(count, sizeof *names)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		if (policies[i]->safe_mode && controller_policy_selects(policies[i], node))
			names[n++] = policies[i]->name;
	qsort(names, n, sizeof *names, controller_compare_names);
	for (size_t i = 0; i < n && error == 0; i++) {
		if (i > 0)
			error = buf_puts(out, ",");
		if (error == 0)
			error = buf_puts(out, names[i]);
	}
	free(names);
	return error;
}

void
controller_status_compute(const struct controller_policy *policy,
    int64_t matched, int64_t applied, struct controller_status *status)
{
	memset(status, 0, sizeof *status);
	status->generation = policy->generation;
	status->matched = matched;
	status->applied = applied;
	if (policy->invalid != NULL) {
		status->condition = "False";
		status->reason = "InvalidSpec";
		snprintf(status->message, sizeof status->message, "%s; no node selected",
		    policy->invalid);
	} else if (!policy->safe_mode) {
		status->condition = "True";
		status->reason = "SafeModeNotRequested";
		snprintf(status->message, sizeof status->message, "%" PRId64 " node%s "
		    "selected; spec.safeMode is false, nothing requested", matched,
		    matched == 1 ? "" : "s");
	} else if (matched == 0) {
		status->condition = "True";
		status->reason = "NoNodesSelected";
		snprintf(status->message, sizeof status->message, "the selector matches no node");
	} else if (applied < matched) {
		status->condition = "False";
		status->reason = "Pending";
		snprintf(status->message, sizeof status->message, "safe mode requested on %"
		    PRId64 " of %" PRId64 " selected nodes", applied, matched);
	} else {
		status->condition = "True";
		status->reason = "SafeModeRequested";
		snprintf(status->message, sizeof status->message, "safe mode requested on "
		    "all %" PRId64 " selected node%s", matched, matched == 1 ? "" : "s");
	}
}

static bool
controller_same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

bool
controller_status_changed(const struct controller_policy *policy,
    const struct controller_status *status)
{
	return !policy->has_status || policy->status_generation != status->generation ||
	    policy->status_matched != status->matched ||
	    policy->status_applied != status->applied ||
	    !controller_same(policy->status_condition, status->condition) ||
	    !controller_same(policy->status_reason, status->reason) ||
	    !controller_same(policy->status_message, status->message);
}

int
controller_status_patch(const struct controller_policy *policy,
    const struct controller_status *status, const char *now, struct buf *out)
{
	cJSON *root, *body, *conditions, *condition;
	const char *time = now;
	char *text;
	int error = -ENOMEM;

	/* The transition time moves only when the condition's status does. */
	if (controller_same(policy->status_condition, status->condition) &&
	    policy->status_time != NULL)
		time = policy->status_time;
	if ((root = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	if ((body = cJSON_AddObjectToObject(root, "status")) == NULL ||
	    cJSON_AddNumberToObject(body, "observedGeneration", (double)status->generation) == NULL ||
	    cJSON_AddNumberToObject(body, "matchedNodes", (double)status->matched) == NULL ||
	    cJSON_AddNumberToObject(body, "appliedNodes", (double)status->applied) == NULL ||
	    (conditions = cJSON_AddArrayToObject(body, "conditions")) == NULL ||
	    (condition = cJSON_CreateObject()) == NULL)
		goto out;
	cJSON_AddItemToArray(conditions, condition);
	if (cJSON_AddStringToObject(condition, "type", "Applied") == NULL ||
	    cJSON_AddStringToObject(condition, "status", status->condition) == NULL ||
	    cJSON_AddStringToObject(condition, "reason", status->reason) == NULL ||
	    cJSON_AddStringToObject(condition, "message", status->message) == NULL ||
	    cJSON_AddStringToObject(condition, "lastTransitionTime", time) == NULL ||
	    cJSON_AddNumberToObject(condition, "observedGeneration",
	    (double)status->generation) == NULL)
		goto out;
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		goto out;
	error = buf_puts(out, text);
	free(text);
out:
	cJSON_Delete(root);
	return error;
}

/* --- kinds for the reflectors ---------------------------------------------- */

static void
controller_node_meta(const void *object, struct kube_meta *meta)
{
	const struct controller_node *node = object;

	meta->uid = node->uid;
	meta->namespace = "";
	meta->name = node->name;
	meta->resource_version = node->resource_version ? node->resource_version : "";
}

static void *
controller_node_kind_decode(const cJSON *json, struct kube_meta *meta, char **cause)
{
	struct controller_node *node = controller_node_decode(json, cause);

	if (node != NULL)
		controller_node_meta(node, meta);
	return node;
}

static void
controller_node_kind_free(void *object)
{
	controller_node_free(object);
}

const struct kube_kind controller_node_kind = {
	.name = "nodes",
	.decode = controller_node_kind_decode,
	.free = controller_node_kind_free,
	.meta = controller_node_meta,
};

static void
controller_policy_meta(const void *object, struct kube_meta *meta)
{
	const struct controller_policy *policy = object;

	meta->uid = policy->uid;
	meta->namespace = "";
	meta->name = policy->name;
	meta->resource_version = policy->resource_version ? policy->resource_version : "";
}

static void *
controller_policy_kind_decode(const cJSON *json, struct kube_meta *meta, char **cause)
{
	struct controller_policy *policy = controller_policy_decode(json, cause);

	if (policy != NULL)
		controller_policy_meta(policy, meta);
	return policy;
}

static void
controller_policy_kind_free(void *object)
{
	controller_policy_free(object);
}

const struct kube_kind controller_policy_kind = {
	.name = "temperpolicies",
	.decode = controller_policy_kind_decode,
	.free = controller_policy_kind_free,
	.meta = controller_policy_meta,
};
