/*
 * kube-store.h - decoded objects of one kind, indexed by uid and by
 * namespace/name.
 *
 * The store owns its objects (freed with the kind's free).  Pure: the
 * reflector feeds it, the engine reads it.
 */
#ifndef TEMPER_KUBE_STORE_H
#define TEMPER_KUBE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kube-object.h"

struct kube_store_entry {
	struct kube_store_entry *next_by_uid;
	struct kube_store_entry *next_by_name;
	uint32_t uid_hash;
	uint32_t name_hash;
	struct kube_meta meta;		/* points into object */
	void *object;
};

struct kube_store {
	const struct kube_kind *kind;
	struct kube_store_entry **by_uid;
	struct kube_store_entry **by_name;
	size_t buckets;
	size_t count;
};

void kube_store_init(struct kube_store *store, const struct kube_kind *kind);
/* Free every object and the indexes; the store can be used again. */
void kube_store_clear(struct kube_store *store);

void *kube_store_get_uid(const struct kube_store *store, const char *uid);
void *kube_store_get_name(const struct kube_store *store,
    const char *namespace, const char *name);

/*
 * Insert object (the store takes it).  An object with the same uid is
 * replaced and handed back in *replaced; another uid holding the same
 * namespace/name (a delete the store never saw) is removed and handed back
 * in *displaced.  The caller frees what it gets back.  0 or -ENOMEM (then
 * the object is still the caller's).
 */
int kube_store_put(struct kube_store *store, void *object, void **replaced,
    void **displaced);

/* Remove by uid and hand the object back (NULL when absent). */
void *kube_store_remove(struct kube_store *store, const char *uid);

/* Visit every object; the callback must not change the store. */
void kube_store_foreach(const struct kube_store *store,
    void (*callback)(void *object, const struct kube_meta *meta, void *arg),
    void *arg);

/* Swap two stores' contents (same kind), for a relist's full replace. */
void kube_store_swap(struct kube_store *a, struct kube_store *b);

#endif
