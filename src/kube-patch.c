/* kube-patch.c - metadata merge patches with conflict retry. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kube-object.h"
#include "kube-patch.h"
#include "log.h"

struct kube_patch {
	struct kube_client *client;
	struct kube_client_call *call;
	char *path;
	cJSON *changes;			/* {"annotations":{...},"labels":{...}} */
	unsigned attempts;
	unsigned max_attempts;
	kube_patch_done_cb done;
	void *arg;
};

static int
kube_patch_add_changes(cJSON *metadata, const char *name,
    const struct kube_patch_change *changes, size_t count)
{
	cJSON *map, *value;
	size_t i;

	if (count == 0)
		return 0;
	if ((map = cJSON_AddObjectToObject(metadata, name)) == NULL)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		value = changes[i].value != NULL ?
		    cJSON_CreateString(changes[i].value) : cJSON_CreateNull();
		if (value == NULL)
			return -ENOMEM;
		cJSON_DeleteItemFromObjectCaseSensitive(map, changes[i].key);
		cJSON_AddItemToObject(map, changes[i].key, value);
	}
	return 0;
}

static cJSON *
kube_patch_changes(const struct kube_patch_change *annotations,
    size_t annotation_count, const struct kube_patch_change *labels,
    size_t label_count)
{
	cJSON *metadata;

	if ((metadata = cJSON_CreateObject()) == NULL)
		return NULL;
	if (kube_patch_add_changes(metadata, "annotations", annotations,
	    annotation_count) != 0 || kube_patch_add_changes(metadata, "labels",
	    labels, label_count) != 0) {
		cJSON_Delete(metadata);
		return NULL;
	}
	return metadata;
}

static char *
kube_patch_render(const cJSON *changes, const char *resource_version)
{
	cJSON *root, *metadata;
	char *text = NULL;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((metadata = cJSON_Duplicate(changes, true)) == NULL)
		goto out;
	cJSON_AddItemToObject(root, "metadata", metadata);
	if (resource_version != NULL && cJSON_AddStringToObject(metadata,
	    "resourceVersion", resource_version) == NULL)
		goto out;
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	if (text == NULL)
		errno = ENOMEM;
	return text;
}

char *
kube_patch_body(const char *resource_version,
    const struct kube_patch_change *annotations, size_t annotation_count,
    const struct kube_patch_change *labels, size_t label_count)
{
	cJSON *changes;
	char *text;

	if ((changes = kube_patch_changes(annotations, annotation_count, labels,
	    label_count)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	text = kube_patch_render(changes, resource_version);
	cJSON_Delete(changes);
	return text;
}

static void
kube_patch_free(struct kube_patch *patch)
{
	if (patch == NULL)
		return;
	free(patch->path);
	cJSON_Delete(patch->changes);
	free(patch);
}

static void
kube_patch_finish(struct kube_patch *patch, int error, int status,
    struct buf *body)
{
	struct buf empty = BUF_INIT;

	patch->call = NULL;
	patch->done(error, status, patch->attempts, body ? body : &empty,
	    patch->arg);
	buf_free(&empty);
	kube_patch_free(patch);
}

static int kube_patch_get(struct kube_patch *patch);

static void
kube_patch_patched(int error, int status, struct buf *body, void *arg)
{
	struct kube_patch *patch = arg;

	patch->call = NULL;
	if (error == 0 && status == 409 && patch->attempts < patch->max_attempts) {
		log_info("kube patch: %s changed under us (409); reading it "
		    "again (attempt %u of %u)", patch->path, patch->attempts + 1,
		    patch->max_attempts);
		if ((error = kube_patch_get(patch)) == 0)
			return;
	}
	kube_patch_finish(patch, error, status, body);
}

/* 0, or -errno when the request could not start (done not called). */
static int
kube_patch_send(struct kube_patch *patch, const char *resource_version)
{
	char *text;

	if ((text = kube_patch_render(patch->changes, resource_version)) == NULL)
		return -ENOMEM;
	patch->attempts++;
	patch->call = kube_client_call(patch->client, "PATCH", patch->path,
	    "application/merge-patch+json", text, strlen(text), 0,
	    kube_patch_patched, patch);
	free(text);
	return patch->call == NULL ? -errno : 0;
}

static void
kube_patch_got(int error, int status, struct buf *body, void *arg)
{
	struct kube_patch *patch = arg;
	const char *rv;
	cJSON *json;

	patch->call = NULL;
	if (error != 0 || status != 200) {
		kube_patch_finish(patch, error, status, body);
		return;
	}
	json = cJSON_ParseWithLength(body->data, body->len);
	rv = kube_object_string(json, "metadata", "resourceVersion", NULL);
	if (rv == NULL) {
		cJSON_Delete(json);
		kube_patch_finish(patch, -EPROTO, status, body);
		return;
	}
	error = kube_patch_send(patch, rv);
	cJSON_Delete(json);
	if (error != 0)
		kube_patch_finish(patch, error, 0, NULL);
}

static int
kube_patch_get(struct kube_patch *patch)
{
	patch->call = kube_client_call(patch->client, "GET", patch->path, NULL,
	    NULL, 0, 0, kube_patch_got, patch);
	return patch->call == NULL ? -errno : 0;
}

struct kube_patch *
kube_patch_metadata(struct kube_client *client, const char *path,
    const char *resource_version,
    const struct kube_patch_change *annotations, size_t annotation_count,
    const struct kube_patch_change *labels, size_t label_count,
    unsigned max_attempts, kube_patch_done_cb done, void *arg)
{
	struct kube_patch *patch;
	int error;

	if ((patch = calloc(1, sizeof *patch)) == NULL)
		return NULL;
	patch->client = client;
	patch->done = done;
	patch->arg = arg;
	patch->max_attempts = max_attempts ? max_attempts : KUBE_PATCH_MAX_ATTEMPTS;
	if ((patch->path = strdup(path)) == NULL ||
	    (patch->changes = kube_patch_changes(annotations, annotation_count,
	    labels, label_count)) == NULL) {
		kube_patch_free(patch);
		errno = ENOMEM;
		return NULL;
	}
	if (resource_version != NULL)
		error = kube_patch_send(patch, resource_version);
	else
		error = kube_patch_get(patch);
	if (error != 0) {
		kube_patch_free(patch);
		errno = -error;
		return NULL;
	}
	return patch;
}

void
kube_patch_cancel(struct kube_patch *patch)
{
	if (patch == NULL)
		return;
	kube_client_call_cancel(patch->call);
	kube_patch_free(patch);
}
