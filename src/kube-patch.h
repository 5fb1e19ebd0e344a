/*
 * kube-patch.h - JSON merge patches of an object's metadata (annotations,
 * labels), guarded by its resourceVersion and retried on conflict.
 *
 * The patch carries metadata.resourceVersion as a precondition, so a
 * concurrent writer makes the server answer 409 instead of losing an
 * update; on 409 the object is read again and the patch retried, a bounded
 * number of times.
 */
#ifndef TEMPER_KUBE_PATCH_H
#define TEMPER_KUBE_PATCH_H

#include <stddef.h>

#include "buf.h"
#include "kube-client.h"

#define KUBE_PATCH_MAX_ATTEMPTS 5

struct kube_patch_change {
	const char *key;
	const char *value;		/* NULL removes the key */
};

/*
 * The merge-patch body (pure): {"metadata":{"resourceVersion":RV,
 * "annotations":{...},"labels":{...}}}; RV NULL for none.  NULL + errno.
 */
char *kube_patch_body(const char *resource_version,
    const struct kube_patch_change *annotations, size_t annotation_count,
    const struct kube_patch_change *labels, size_t label_count);

/* attempts: PATCH requests sent. body: the last response. */
typedef void (*kube_patch_done_cb)(int error, int status, unsigned attempts,
    struct buf *body, void *arg);

struct kube_patch;

/*
 * Patch the object at path (e.g. /api/v1/nodes/NAME).  resource_version is
 * the version the caller believes current (from its store), or NULL to
 * read the object first.  done runs once, unless cancelled.
 */
struct kube_patch *kube_patch_metadata(struct kube_client *client,
    const char *path, const char *resource_version,
    const struct kube_patch_change *annotations, size_t annotation_count,
    const struct kube_patch_change *labels, size_t label_count,
    unsigned max_attempts, kube_patch_done_cb done, void *arg);
void kube_patch_cancel(struct kube_patch *patch);

#endif
