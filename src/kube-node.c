/* kube-node.c - a Node's JSON into a compact struct. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube-node.h"
#include "kube-quantity.h"

static const char *
kube_node_annotation(const cJSON *annotations, const char *temper_key,
    const char *legacy_key)
{
	const char *value;

	if ((value = kube_object_string(annotations, temper_key, NULL)) == NULL)
		value = kube_object_string(annotations, legacy_key, NULL);
	return value;
}

static int
kube_node_quantity(const cJSON *list, const char *which, const char *resource,
    int scale, int64_t *out, char **cause)
{
	const char *text;
	int error;

	*out = -1;
	if ((text = kube_object_string(list, resource, NULL)) == NULL)
		return 0;
	if ((error = kube_quantity_parse(text, strlen(text), scale, out)) != 0) {
		kube_object_cause(cause, "status.%s.%s \"%s\" is not a quantity",
		    which, resource, text);
		*out = -1;
	}
	return error;
}

static int
kube_node_resources(const cJSON *status, const char *which,
    struct kube_node_resources *resources, char **cause)
{
	const cJSON *list = kube_object_get(status, which, NULL);
	int error;

	if ((error = kube_node_quantity(list, which, "cpu", 3,
	    &resources->cpu_millis, cause)) != 0 ||
	    (error = kube_node_quantity(list, which, "memory", 0,
	    &resources->memory_bytes, cause)) != 0 ||
	    (error = kube_node_quantity(list, which, "pods", 0,
	    &resources->pods, cause)) != 0)
		return error;
	return 0;
}

struct kube_node *
kube_node_decode(const cJSON *json, char **cause)
{
	struct kube_strings strings;
	struct kube_node *node = NULL;
	const cJSON *metadata, *labels, *annotations, *status;
	int error = -EINVAL;

	kube_strings_init(&strings);
	metadata = kube_object_get(json, "metadata", NULL);
	if (!cJSON_IsObject(json) || !cJSON_IsObject(metadata) ||
	    kube_object_string(metadata, "name", NULL) == NULL ||
	    kube_object_string(metadata, "uid", NULL) == NULL) {
		kube_object_cause(cause, "not an object with metadata.uid and name");
		goto out;
	}
	if ((node = calloc(1, sizeof *node)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	labels = kube_object_get(metadata, "labels", NULL);
	annotations = kube_object_get(metadata, "annotations", NULL);
	status = kube_object_get(json, "status", NULL);

	kube_strings_add(&strings, &node->uid,
	    kube_object_string(metadata, "uid", NULL));
	kube_strings_add(&strings, &node->name,
	    kube_object_string(metadata, "name", NULL));
	kube_strings_add(&strings, &node->resource_version,
	    kube_object_string(metadata, "resourceVersion", NULL));
	kube_strings_add(&strings, &node->hostname,
	    kube_object_string(labels, "kubernetes.io/hostname", NULL));
	kube_strings_add(&strings, &node->arch,
	    kube_object_string(labels, "kubernetes.io/arch", NULL));
	kube_strings_add(&strings, &node->os,
	    kube_object_string(labels, "kubernetes.io/os", NULL));
	kube_strings_add(&strings, &node->instance_type,
	    kube_object_string(labels, "node.kubernetes.io/instance-type", NULL));
	kube_strings_add(&strings, &node->qos_distribution, kube_node_annotation(
	    annotations, "temper.io/qos-distribution", "infera.io/qos-distribution"));
	kube_strings_add(&strings, &node->safe_mode_requested,
	    kube_node_annotation(annotations, "temper.io/safe-mode-requested",
	    "infera.io/safe-mode-requested"));
	node->unschedulable = cJSON_IsTrue(kube_object_get(json, "spec",
	    "unschedulable", NULL));

	if ((error = kube_node_resources(status, "allocatable",
	    &node->allocatable, cause)) != 0 ||
	    (error = kube_node_resources(status, "capacity", &node->capacity,
	    cause)) != 0)
		goto out;
	if ((error = kube_strings_pack(&strings, &node->strings)) != 0)
		goto out;
	error = 0;
out:
	kube_strings_free(&strings);
	if (error != 0) {
		if (error == -ENOMEM)
			kube_object_cause(cause, "out of memory");
		kube_node_free(node);
		errno = -error;
		return NULL;
	}
	return node;
}

struct kube_node *
kube_node_decode_text(const char *text, size_t len, char **cause)
{
	struct kube_node *node;
	cJSON *json;

	if ((json = cJSON_ParseWithLength(text, len)) == NULL) {
		kube_object_cause(cause, "not JSON");
		errno = EINVAL;
		return NULL;
	}
	node = kube_node_decode(json, cause);
	cJSON_Delete(json);
	return node;
}

void
kube_node_free(struct kube_node *node)
{
	if (node == NULL)
		return;
	free(node->strings);
	free(node);
}

static void
kube_node_meta(const void *object, struct kube_meta *meta)
{
	const struct kube_node *node = object;

	meta->uid = node->uid;
	meta->namespace = "";
	meta->name = node->name;
	meta->resource_version = node->resource_version ?
	    node->resource_version : "";
}

static void *
kube_node_kind_decode(const cJSON *json, struct kube_meta *meta, char **cause)
{
	struct kube_node *node;

	if ((node = kube_node_decode(json, cause)) != NULL)
		kube_node_meta(node, meta);
	return node;
}

static void
kube_node_kind_free(void *object)
{
	kube_node_free(object);
}

const struct kube_kind kube_node_kind = {
	.name = "nodes",
	.decode = kube_node_kind_decode,
	.free = kube_node_kind_free,
	.meta = kube_node_meta,
};
