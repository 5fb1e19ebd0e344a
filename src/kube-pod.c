/* kube-pod.c - a Pod's JSON into the compact struct pod. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kube-pod.h"
#include "kube-quantity.h"

/* Annotations Temper reads; the temper.io/ key wins over the infera.io/ one. */
static const char *
kube_pod_annotation(const cJSON *annotations, const char *temper_key,
    const char *legacy_key)
{
	const char *value;

	value = kube_object_string(annotations, temper_key, NULL);
	if (value == NULL && legacy_key != NULL)
		value = kube_object_string(annotations, legacy_key, NULL);
	return value;
}

static int
kube_pod_quantity(const cJSON *resources, const char *group,
    const char *resource, int scale, const char *container, int64_t *out,
    char **cause)
{
	const cJSON *item;
	int error;

	*out = -1;
	item = kube_object_get(resources, group, resource, NULL);
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item)) {
		kube_object_cause(cause, "container %s: %s.%s is not a string",
		    container, group, resource);
		return -EINVAL;
	}
	error = kube_quantity_parse(item->valuestring, strlen(item->valuestring),
	    scale, out);
	if (error != 0) {
		kube_object_cause(cause, "container %s: %s.%s \"%s\": %s",
		    container, group, resource, item->valuestring,
		    error == -ERANGE ? "out of range" : "not a quantity");
		*out = -1;
	}
	return error;
}

/* The status entry of a container by name: its containerID. */
static const char *
kube_pod_container_id(const cJSON *statuses, const char *name)
{
	const cJSON *status;
	const char *status_name;

	cJSON_ArrayForEach(status, statuses) {
		status_name = kube_object_string(status, "name", NULL);
		if (status_name != NULL && strcmp(status_name, name) == 0)
			return kube_object_string(status, "containerID", NULL);
	}
	return NULL;
}

static int
kube_pod_container(const cJSON *json, const cJSON *statuses, bool in_init_list,
    struct pod_container *container, struct kube_strings *strings,
    char **cause)
{
	const cJSON *resources;
	const char *name, *restart_policy;
	int error;

	name = kube_object_string(json, "name", NULL);
	if (name == NULL) {
		kube_object_cause(cause, "a container has no name");
		return -EINVAL;
	}
	kube_strings_add(strings, &container->name, name);
	kube_strings_add(strings, &container->image,
	    kube_object_string(json, "image", NULL));
	kube_strings_add(strings, &container->id,
	    kube_pod_container_id(statuses, name));

	/* A restartable init container is a sidecar: it runs for good. */
	restart_policy = kube_object_string(json, "restartPolicy", NULL);
	container->init = in_init_list && (restart_policy == NULL ||
	    strcmp(restart_policy, "Always") != 0);

	resources = kube_object_get(json, "resources", NULL);
	if ((error = kube_pod_quantity(resources, "requests", "cpu", 3, name,
	    &container->cpu_request_millis, cause)) != 0 ||
	    (error = kube_pod_quantity(resources, "limits", "cpu", 3, name,
	    &container->cpu_limit_millis, cause)) != 0 ||
	    (error = kube_pod_quantity(resources, "requests", "memory", 0, name,
	    &container->memory_request_bytes, cause)) != 0 ||
	    (error = kube_pod_quantity(resources, "limits", "memory", 0, name,
	    &container->memory_limit_bytes, cause)) != 0)
		return error;
	return 0;
}

static enum pod_qos
kube_pod_qos(const char *text)
{
	if (text == NULL)
		return POD_QOS_UNKNOWN;
	if (strcmp(text, "Guaranteed") == 0)
		return POD_QOS_GUARANTEED;
	if (strcmp(text, "Burstable") == 0)
		return POD_QOS_BURSTABLE;
	if (strcmp(text, "BestEffort") == 0)
		return POD_QOS_BESTEFFORT;
	return POD_QOS_UNKNOWN;
}

static enum pod_phase
kube_pod_phase(const char *text)
{
	if (text == NULL)
		return POD_PHASE_UNKNOWN;
	if (strcmp(text, "Pending") == 0)
		return POD_PHASE_PENDING;
	if (strcmp(text, "Running") == 0)
		return POD_PHASE_RUNNING;
	if (strcmp(text, "Succeeded") == 0)
		return POD_PHASE_SUCCEEDED;
	if (strcmp(text, "Failed") == 0)
		return POD_PHASE_FAILED;
	return POD_PHASE_UNKNOWN;
}

struct pod *
kube_pod_decode(const cJSON *json, char **cause)
{
	struct kube_strings strings;
	struct pod *pod = NULL;
	const cJSON *metadata, *spec, *status, *annotations, *lists[2], *item;
	const cJSON *statuses[2], *priority;
	size_t count = 0, i;
	int error = -EINVAL, list;

	kube_strings_init(&strings);
	metadata = kube_object_get(json, "metadata", NULL);
	spec = kube_object_get(json, "spec", NULL);
	status = kube_object_get(json, "status", NULL);
	if (!cJSON_IsObject(json) || !cJSON_IsObject(metadata)) {
		kube_object_cause(cause, "not an object with metadata");
		goto out;
	}
	if ((pod = calloc(1, sizeof *pod)) == NULL) {
		error = -ENOMEM;
		goto out;
	}

	kube_strings_add(&strings, &pod->uid,
	    kube_object_string(metadata, "uid", NULL));
	kube_strings_add(&strings, &pod->namespace,
	    kube_object_string(metadata, "namespace", NULL));
	kube_strings_add(&strings, &pod->name,
	    kube_object_string(metadata, "name", NULL));
	kube_strings_add(&strings, &pod->resource_version,
	    kube_object_string(metadata, "resourceVersion", NULL));
	if (kube_object_string(metadata, "uid", NULL) == NULL ||
	    kube_object_string(metadata, "namespace", NULL) == NULL ||
	    kube_object_string(metadata, "name", NULL) == NULL) {
		kube_object_cause(cause, "metadata lacks uid, namespace or name");
		goto out;
	}
	pod->deleting = kube_object_get(metadata, "deletionTimestamp", NULL) !=
	    NULL && !cJSON_IsNull(kube_object_get(metadata,
	    "deletionTimestamp", NULL));

	annotations = kube_object_get(metadata, "annotations", NULL);
	kube_strings_add(&strings, &pod->profile, kube_pod_annotation(
	    annotations, "temper.io/profile", "infera.io/profile"));
	kube_strings_add(&strings, &pod->config_mirror, kube_pod_annotation(
	    annotations, "kubernetes.io/config.mirror", NULL));
	kube_strings_add(&strings, &pod->original_cpu_requests,
	    kube_pod_annotation(annotations, "temper.io/original-cpu-requests",
	    "infera.io/original-cpu-requests"));

	kube_strings_add(&strings, &pod->node_name,
	    kube_object_string(spec, "nodeName", NULL));
	kube_strings_add(&strings, &pod->priority_class_name,
	    kube_object_string(spec, "priorityClassName", NULL));
	priority = kube_object_get(spec, "priority", NULL);
	if (priority != NULL && !cJSON_IsNull(priority)) {
		if (!cJSON_IsNumber(priority) || priority->valuedouble < INT32_MIN ||
		    priority->valuedouble > INT32_MAX ||
		    priority->valuedouble != (double)(int32_t)priority->valuedouble) {
			kube_object_cause(cause, "spec.priority is not a 32-bit integer");
			goto out;
		}
		pod->priority = (int32_t)priority->valuedouble;
		pod->has_priority = true;
	}
	pod->qos_class = kube_pod_qos(kube_object_string(status, "qosClass", NULL));
	pod->phase = kube_pod_phase(kube_object_string(status, "phase", NULL));

	/* Init containers first: their order decides what a sidecar adds. */
	lists[0] = kube_object_get(spec, "initContainers", NULL);
	lists[1] = kube_object_get(spec, "containers", NULL);
	statuses[0] = kube_object_get(status, "initContainerStatuses", NULL);
	statuses[1] = kube_object_get(status, "containerStatuses", NULL);
	for (list = 0; list < 2; list++) {
		if (lists[list] != NULL && !cJSON_IsArray(lists[list]) &&
		    !cJSON_IsNull(lists[list])) {
			kube_object_cause(cause, "spec.%s is not a list",
			    list == 0 ? "initContainers" : "containers");
			goto out;
		}
		count += (size_t)cJSON_GetArraySize(lists[list]);
	}
	if (count > KUBE_POD_MAX_CONTAINERS) {
		kube_object_cause(cause, "%zu containers, more than %d", count,
		    KUBE_POD_MAX_CONTAINERS);
		goto out;
	}
	if (count > 0 &&
	    (pod->containers = calloc(count, sizeof *pod->containers)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	i = 0;
	for (list = 0; list < 2; list++) {
		cJSON_ArrayForEach(item, lists[list]) {
			if ((error = kube_pod_container(item, statuses[list],
			    list == 0, &pod->containers[i], &strings, cause)) != 0)
				goto out;
			i++;
		}
	}
	pod->container_count = count;

	if ((error = kube_strings_pack(&strings, &pod->strings)) != 0)
		goto out;
	error = 0;
out:
	kube_strings_free(&strings);
	if (error != 0) {
		if (error == -ENOMEM)
			kube_object_cause(cause, "out of memory");
		pod_free(pod);
		errno = -error;
		return NULL;
	}
	return pod;
}

struct pod *
kube_pod_decode_text(const char *text, size_t len, char **cause)
{
	struct pod *pod;
	cJSON *json;

	if ((json = cJSON_ParseWithLength(text, len)) == NULL) {
		kube_object_cause(cause, "not JSON");
		errno = EINVAL;
		return NULL;
	}
	pod = kube_pod_decode(json, cause);
	cJSON_Delete(json);
	return pod;
}

static void
kube_pod_meta(const void *object, struct kube_meta *meta)
{
	const struct pod *pod = object;

	meta->uid = pod->uid;
	meta->namespace = pod->namespace;
	meta->name = pod->name;
	meta->resource_version = pod->resource_version ? pod->resource_version : "";
}

static void *
kube_pod_kind_decode(const cJSON *json, struct kube_meta *meta, char **cause)
{
	struct pod *pod;

	if ((pod = kube_pod_decode(json, cause)) != NULL)
		kube_pod_meta(pod, meta);
	return pod;
}

static void
kube_pod_kind_free(void *object)
{
	pod_free(object);
}

const struct kube_kind kube_pod_kind = {
	.name = "pods",
	.decode = kube_pod_kind_decode,
	.free = kube_pod_kind_free,
	.meta = kube_pod_meta,
};
