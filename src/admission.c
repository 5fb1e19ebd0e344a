/* admission.c - the overcommit webhook's decisions, pure. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "buf.h"
#include "cause.h"
#include "kube-object.h"
#include "kube-quantity.h"
#include "pod.h"

static const char *const admission_action_names[ADMISSION_ACTION_COUNT] = {
	[ADMISSION_SCALED] = "scaled",
	[ADMISSION_SKIP_CRITICAL] = "skip_critical",
	[ADMISSION_SKIP_GUARANTEED] = "skip_guaranteed",
	[ADMISSION_SKIP_ALREADY_SCALED] = "skip_already_scaled",
	[ADMISSION_SKIP_NO_CPU_REQUESTS] = "skip_no_cpu_requests",
	[ADMISSION_SKIP_UNPARSABLE] = "skip_unparsable",
	[ADMISSION_SKIP_RESIZE] = "skip_resize",
	[ADMISSION_SKIP_OPERATION] = "skip_operation",
	[ADMISSION_SKIP_NOT_A_POD] = "skip_not_a_pod",
};

const char *
admission_action_name(enum admission_action action)
{
	return (unsigned)action < ADMISSION_ACTION_COUNT ?
	    admission_action_names[action] : "unknown";
}

int64_t
admission_scale(int64_t millis, double ratio, int64_t floor_millis)
{
	double scaled;
	int64_t result;

	if (millis <= 0)
		return millis;
	scaled = ceil((double)millis * ratio);
	result = scaled >= (double)millis ? millis : (int64_t)scaled;
	if (result < floor_millis)
		result = floor_millis;
	return result > millis ? millis : result;
}

static const char *
admission_string(const cJSON *json, const char *key)
{
	const char *value = kube_object_string(json, key, NULL);

	return value != NULL ? value : "";
}

void
admission_release(struct admission_request *request)
{
	if (request == NULL)
		return;
	cJSON_Delete(request->json);
	memset(request, 0, sizeof *request);
}

static int
admission_fail(char **cause, int error, const char *message)
{
	cause_set(cause, "%s", message);
	return error;
}

int
admission_decode(const char *body, size_t len,
    struct admission_request *request, char **cause)
{
	const cJSON *inner, *object;
	const char *name;

	memset(request, 0, sizeof *request);
	if (cause != NULL)
		*cause = NULL;
	if ((request->json = cJSON_ParseWithLength(body, len)) == NULL)
		return admission_fail(cause, -EINVAL, "body is not JSON");
	if (strcmp(admission_string(request->json, "apiVersion"), "admission.k8s.io/v1") != 0 ||
	    strcmp(admission_string(request->json, "kind"), "AdmissionReview") != 0) {
		admission_release(request);
		return admission_fail(cause, -EINVAL,
		    "not an admission.k8s.io/v1 AdmissionReview");
	}
	inner = cJSON_GetObjectItem(request->json, "request");
	if (!cJSON_IsObject(inner) || kube_object_string(inner, "uid", NULL) == NULL) {
		admission_release(request);
		return admission_fail(cause, -EINVAL, "no request with a uid");
	}
	request->uid = kube_object_string(inner, "uid", NULL);
	request->kind = admission_string(kube_object_get(inner, "kind", NULL), "kind");
	request->operation = admission_string(inner, "operation");
	request->sub_resource = admission_string(inner, "subResource");
	request->namespace = admission_string(inner, "namespace");
	object = cJSON_GetObjectItem(inner, "object");
	request->object = cJSON_IsObject(object) ? object : NULL;
	name = admission_string(inner, "name");
	if (name[0] == '\0' && request->object != NULL)
		name = admission_string(kube_object_get(request->object, "metadata", NULL), "name");
	if (name[0] != '\0')
		snprintf(request->name, sizeof request->name, "%s", name);
	else if (request->object != NULL)
		snprintf(request->name, sizeof request->name, "%s*", admission_string(
		    kube_object_get(request->object, "metadata", NULL), "generateName"));
	else
		snprintf(request->name, sizeof request->name, "(unnamed)");
	return 0;
}

void
admission_decision_release(struct admission_decision *decision)
{
	if (decision == NULL)
		return;
	free(decision->patch);
	decision->patch = NULL;
}

/* -1 when absent, -2 when unparsable. */
static int64_t
admission_quantity(const cJSON *list, const char *resource, int scale)
{
	const char *text = kube_object_string(list, resource, NULL);
	int64_t value;

	if (text == NULL)
		return -1;
	if (kube_quantity_parse(text, strlen(text), scale, &value) != 0)
		return -2;
	return value;
}

/*
 * The QoS class the API will give the pod (the registry computes it after
 * admission): Guaranteed when every container has CPU and memory limits
 * and requests equal to them; BestEffort when none has any; else Burstable.
 */
static enum pod_qos
admission_qos(const cJSON *spec)
{
	static const char *const lists[] = { "initContainers", "containers" };
	static const char *const resources[] = { "cpu", "memory" };
	bool guaranteed = true, any = false;
	const cJSON *container;

	for (size_t l = 0; l < 2; l++) {
		cJSON_ArrayForEach(container, cJSON_GetObjectItem(spec, lists[l])) {
			const cJSON *requests = kube_object_get(container, "resources", "requests", NULL);
			const cJSON *limits = kube_object_get(container, "resources", "limits", NULL);

			for (size_t r = 0; r < 2; r++) {
				int64_t request = admission_quantity(requests, resources[r], r == 0 ? 3 : 0);
				int64_t limit = admission_quantity(limits, resources[r], r == 0 ? 3 : 0);

				if (request > 0 || limit > 0)
					any = true;
				if (limit < 0 || (request >= 0 && request != limit))
					guaranteed = false;
			}
		}
	}
	if (!any)
		return POD_QOS_BESTEFFORT;
	return guaranteed ? POD_QOS_GUARANTEED : POD_QOS_BURSTABLE;
}

static enum tier
admission_tier(const struct admission_options *options, const cJSON *spec,
    enum pod_qos qos)
{
	const cJSON *priority = cJSON_GetObjectItem(spec, "priority");
	struct pod pod = { 0 };
	enum tier tier = TIER_NORMAL;

	pod.priority_class_name = kube_object_string(spec, "priorityClassName", NULL);
	if (cJSON_IsNumber(priority) && priority->valuedouble >= INT32_MIN &&
	    priority->valuedouble <= INT32_MAX) {
		pod.priority = (int32_t)priority->valuedouble;
		pod.has_priority = true;
	}
	pod.qos_class = qos;
	tier_classify(options->thresholds, &pod, &tier, NULL);
	return tier;
}

/* "/spec/containers/3/resources/requests/cpu" */
static int
admission_add_replace(cJSON *patch, const char *list, int index, int64_t millis)
{
	char path[96], value[32];
	cJSON *op;

	snprintf(path, sizeof path, "/spec/%s/%d/resources/requests/cpu", list, index);
	snprintf(value, sizeof value, "%" PRId64 "m", millis);
	if ((op = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	cJSON_AddItemToArray(patch, op);
	if (cJSON_AddStringToObject(op, "op", "replace") == NULL ||
	    cJSON_AddStringToObject(op, "path", path) == NULL ||
	    cJSON_AddStringToObject(op, "value", value) == NULL)
		return -ENOMEM;
	return 0;
}

static int
admission_add_annotation(cJSON *patch, const cJSON *metadata, const char *value)
{
	cJSON *op, *annotations;

	if ((op = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	cJSON_AddItemToArray(patch, op);
	if (cJSON_AddStringToObject(op, "op", "add") == NULL)
		return -ENOMEM;
	/* "add" on a member of a missing object fails: create the object then. */
	if (cJSON_IsObject(cJSON_GetObjectItem(metadata, "annotations"))) {
		if (cJSON_AddStringToObject(op, "path",
		    "/metadata/annotations/temper.io~1original-cpu-requests") == NULL ||
		    cJSON_AddStringToObject(op, "value", value) == NULL)
			return -ENOMEM;
		return 0;
	}
	if (cJSON_AddStringToObject(op, "path", "/metadata/annotations") == NULL ||
	    (annotations = cJSON_AddObjectToObject(op, "value")) == NULL ||
	    cJSON_AddStringToObject(annotations, ADMISSION_ORIGINAL_KEY, value) == NULL)
		return -ENOMEM;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void
admission_say(struct admission_decision *decision, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(decision->message, sizeof decision->message, fmt, ap);
	va_end(ap);
}

int
admission_decide(const struct admission_options *options,
    const struct admission_request *request,
    struct admission_decision *decision)
{
	static const char *const lists[] = { "initContainers", "containers" };
	const cJSON *metadata, *spec, *annotations, *container;
	cJSON *patch = NULL, *originals = NULL;
	char *originals_text = NULL;
	enum pod_qos qos;
	int error = -ENOMEM;

	memset(decision, 0, sizeof *decision);
	decision->tier = TIER_NORMAL;
	if (strcmp(request->kind, "Pod") != 0 || request->object == NULL) {
		decision->action = ADMISSION_SKIP_NOT_A_POD;
		admission_say(decision, "not a pod (%s): nothing to do", request->kind);
		return 0;
	}
	if (strcmp(request->operation, "UPDATE") == 0 &&
	    strcmp(request->sub_resource, "resize") == 0) {
		decision->action = ADMISSION_SKIP_RESIZE;
		admission_say(decision, "resize: the new requests are taken as "
		    "asked; temper.io/original-cpu-requests keeps the values at creation");
		return 0;
	}
	if (strcmp(request->operation, "CREATE") != 0 || request->sub_resource[0] != '\0') {
		decision->action = ADMISSION_SKIP_OPERATION;
		admission_say(decision, "%s%s%s: only a pod's creation is scaled",
		    request->operation, request->sub_resource[0] ? " of " : "",
		    request->sub_resource);
		return 0;
	}
	metadata = cJSON_GetObjectItem(request->object, "metadata");
	spec = cJSON_GetObjectItem(request->object, "spec");
	annotations = cJSON_GetObjectItem(metadata, "annotations");
	qos = admission_qos(spec);
	decision->guaranteed = qos == POD_QOS_GUARANTEED;
	decision->tier = admission_tier(options, spec, qos);
	if (kube_object_string(annotations, ADMISSION_ORIGINAL_KEY, NULL) != NULL ||
	    kube_object_string(annotations, ADMISSION_ORIGINAL_LEGACY_KEY, NULL) != NULL) {
		decision->action = ADMISSION_SKIP_ALREADY_SCALED;
		admission_say(decision, "already scaled (%s present): unchanged",
		    ADMISSION_ORIGINAL_KEY);
		return 0;
	}
	if (decision->tier == TIER_CRITICAL) {
		decision->action = ADMISSION_SKIP_CRITICAL;
		admission_say(decision, "critical tier: requests never scaled");
		return 0;
	}
	if (decision->guaranteed && options->guaranteed == CLUSTER_GUARANTEED_SKIP) {
		decision->action = ADMISSION_SKIP_GUARANTEED;
		admission_say(decision, "Guaranteed QoS: left unscaled, since "
		    "scaling requests only would make it Burstable "
		    "([webhook] guaranteed = \"skip\")");
		return 0;
	}

	if ((patch = cJSON_CreateArray()) == NULL || (originals = cJSON_CreateObject()) == NULL)
		goto out;
	for (size_t l = 0; l < 2; l++) {
		const cJSON *list = cJSON_GetObjectItem(spec, lists[l]);
		int index = 0;

		if (cJSON_GetArraySize(list) > ADMISSION_MAX_CONTAINERS) {
			decision->action = ADMISSION_SKIP_UNPARSABLE;
			admission_say(decision, "more than %d %s: left alone",
			    ADMISSION_MAX_CONTAINERS, lists[l]);
			error = 0;
			goto out;
		}
		cJSON_ArrayForEach(container, list) {
			const cJSON *requests = kube_object_get(container, "resources",
			    "requests", NULL);
			const char *text = kube_object_string(requests, "cpu", NULL);
			const char *name = kube_object_string(container, "name", NULL);
			int64_t millis = admission_quantity(requests, "cpu", 3), scaled;

			if (millis == -2 || (text != NULL && name == NULL)) {
				decision->action = ADMISSION_SKIP_UNPARSABLE;
				admission_say(decision, "container %s: CPU request \"%s\" "
				    "unreadable: left alone", name ? name : "(unnamed)",
				    text ? text : "");
				error = 0;
				goto out;
			}
			if (millis > 0 && (scaled = admission_scale(millis, options->ratio,
			    options->floor_millis)) < millis) {
				if (admission_add_replace(patch, lists[l], index, scaled) != 0 ||
				    cJSON_AddStringToObject(originals, name, text) == NULL)
					goto out;
				decision->before_millis += millis;
				decision->after_millis += scaled;
				decision->changed++;
			}
			index++;
		}
	}
	if (decision->changed == 0) {
		decision->action = ADMISSION_SKIP_NO_CPU_REQUESTS;
		admission_say(decision, "no CPU request above the floor of %" PRId64
		    "m: unchanged", options->floor_millis);
		error = 0;
		goto out;
	}
	if ((originals_text = cJSON_PrintUnformatted(originals)) == NULL ||
	    admission_add_annotation(patch, metadata, originals_text) != 0 ||
	    (decision->patch = cJSON_PrintUnformatted(patch)) == NULL)
		goto out;
	decision->action = ADMISSION_SCALED;
	admission_say(decision, "CPU requests of %u container%s scaled by %g "
	    "(floor %" PRId64 "m): %" PRId64 "m -> %" PRId64 "m%s; originals in %s",
	    decision->changed, decision->changed == 1 ? "" : "s", options->ratio,
	    options->floor_millis, decision->before_millis, decision->after_millis,
	    decision->guaranteed ? "; Guaranteed pod becomes Burstable "
	    "([webhook] guaranteed = \"scale\")" : "", ADMISSION_ORIGINAL_KEY);
	error = 0;
out:
	cJSON_Delete(patch);
	cJSON_Delete(originals);
	free(originals_text);
	if (error != 0)
		admission_decision_release(decision);
	return error;
}

static int
admission_base64(struct buf *out, const char *data, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)data;
	char *w;
	size_t i;

	if (buf_reserve(out, (len + 2) / 3 * 4 + 1) != 0)
		return -ENOMEM;
	w = out->data + out->len;
	for (i = 0; i + 2 < len; i += 3) {
		*w++ = alphabet[p[i] >> 2];
		*w++ = alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*w++ = alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*w++ = alphabet[p[i + 2] & 63];
	}
	if (i < len) {
		*w++ = alphabet[p[i] >> 2];
		if (i + 1 < len) {
			*w++ = alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*w++ = alphabet[(p[i + 1] & 15) << 2];
		} else {
			*w++ = alphabet[(p[i] & 3) << 4];
			*w++ = '=';
		}
		*w++ = '=';
	}
	*w = '\0';
	out->len = (size_t)(w - out->data);
	return 0;
}

/* A JSON string literal of text, escaped by cJSON: text is untrusted. */
static char *
admission_json_string(const char *text)
{
	cJSON *item = cJSON_CreateString(text);
	char *printed = item != NULL ? cJSON_PrintUnformatted(item) : NULL;

	cJSON_Delete(item);
	return printed;
}

int
admission_render(const struct admission_request *request,
    const struct admission_decision *decision, struct buf *out)
{
	char *uid = NULL, *warning = NULL, text[sizeof decision->message + 16];
	int error = 0;

	if ((uid = admission_json_string(request->uid)) == NULL)
		return -ENOMEM;
	error |= buf_printf(out, "{\"apiVersion\":\"admission.k8s.io/v1\","
	    "\"kind\":\"AdmissionReview\",\"response\":{\"uid\":%s,\"allowed\":true", uid);
	if (decision->patch != NULL) {
		error |= buf_puts(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
		error |= admission_base64(out, decision->patch, strlen(decision->patch));
		error |= buf_puts(out, "\"");
	}
	/* kubectl shows warnings: say what happened to the pod's requests. */
	if (decision->action == ADMISSION_SCALED ||
	    decision->action == ADMISSION_SKIP_GUARANTEED) {
		snprintf(text, sizeof text, "temper: %s", decision->message);
		if ((warning = admission_json_string(text)) == NULL)
			error = -ENOMEM;
		else
			error |= buf_printf(out, ",\"warnings\":[%s]", warning);
	}
	error |= buf_puts(out, "}}");
	free(uid);
	free(warning);
	return error ? -ENOMEM : 0;
}
