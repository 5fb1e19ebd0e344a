/* kube-store.c - decoded objects indexed by uid and by namespace/name. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube-store.h"

static uint32_t
kube_store_hash(uint32_t hash, const char *text)
{
	/* FNV-1a: short keys, no adversary that can pick uids. */
	for (; *text != '\0'; text++) {
		hash ^= (unsigned char)*text;
		hash *= 16777619u;
	}
	return hash;
}

static uint32_t
kube_store_name_hash(const char *namespace, const char *name)
{
	uint32_t hash = kube_store_hash(2166136261u, namespace);

	hash ^= '/';
	hash *= 16777619u;
	return kube_store_hash(hash, name);
}

void
kube_store_init(struct kube_store *store, const struct kube_kind *kind)
{
	memset(store, 0, sizeof *store);
	store->kind = kind;
}

void
kube_store_clear(struct kube_store *store)
{
	struct kube_store_entry *entry, *next;
	size_t i;

	for (i = 0; i < store->buckets; i++) {
		for (entry = store->by_uid[i]; entry != NULL; entry = next) {
			next = entry->next_by_uid;
			store->kind->free(entry->object);
			free(entry);
		}
	}
	free(store->by_uid);
	free(store->by_name);
	kube_store_init(store, store->kind);
}

static struct kube_store_entry *
kube_store_find_uid(const struct kube_store *store, const char *uid,
    uint32_t hash)
{
	struct kube_store_entry *entry;

	if (store->buckets == 0)
		return NULL;
	for (entry = store->by_uid[hash & (store->buckets - 1)]; entry != NULL;
	    entry = entry->next_by_uid) {
		if (entry->uid_hash == hash && strcmp(entry->meta.uid, uid) == 0)
			return entry;
	}
	return NULL;
}

static struct kube_store_entry *
kube_store_find_name(const struct kube_store *store, const char *namespace,
    const char *name, uint32_t hash)
{
	struct kube_store_entry *entry;

	if (store->buckets == 0)
		return NULL;
	for (entry = store->by_name[hash & (store->buckets - 1)]; entry != NULL;
	    entry = entry->next_by_name) {
		if (entry->name_hash == hash &&
		    strcmp(entry->meta.name, name) == 0 &&
		    strcmp(entry->meta.namespace, namespace) == 0)
			return entry;
	}
	return NULL;
}

void *
kube_store_get_uid(const struct kube_store *store, const char *uid)
{
	struct kube_store_entry *entry;

	entry = kube_store_find_uid(store, uid, kube_store_hash(2166136261u, uid));
	return entry != NULL ? entry->object : NULL;
}

void *
kube_store_get_name(const struct kube_store *store, const char *namespace,
    const char *name)
{
	struct kube_store_entry *entry;

	if (namespace == NULL)
		namespace = "";
	entry = kube_store_find_name(store, namespace, name,
	    kube_store_name_hash(namespace, name));
	return entry != NULL ? entry->object : NULL;
}

static void
kube_store_link(struct kube_store *store, struct kube_store_entry *entry)
{
	size_t mask = store->buckets - 1;

	entry->next_by_uid = store->by_uid[entry->uid_hash & mask];
	store->by_uid[entry->uid_hash & mask] = entry;
	entry->next_by_name = store->by_name[entry->name_hash & mask];
	store->by_name[entry->name_hash & mask] = entry;
}

static void
kube_store_unlink(struct kube_store *store, struct kube_store_entry *entry)
{
	struct kube_store_entry **at;
	size_t mask = store->buckets - 1;

	for (at = &store->by_uid[entry->uid_hash & mask]; *at != entry;
	    at = &(*at)->next_by_uid)
		;
	*at = entry->next_by_uid;
	for (at = &store->by_name[entry->name_hash & mask]; *at != entry;
	    at = &(*at)->next_by_name)
		;
	*at = entry->next_by_name;
}

/* Keep about one entry per bucket; buckets stay a power of two. */
static int
kube_store_grow(struct kube_store *store)
{
	struct kube_store_entry **by_uid, **by_name, *entry, *next, *all = NULL;
	size_t buckets, i;

	if (store->count < store->buckets)
		return 0;
	buckets = store->buckets ? store->buckets * 2 : 64;
	by_uid = calloc(buckets, sizeof *by_uid);
	by_name = calloc(buckets, sizeof *by_name);
	if (by_uid == NULL || by_name == NULL) {
		free(by_uid);
		free(by_name);
		return -ENOMEM;
	}
	for (i = 0; i < store->buckets; i++) {
		for (entry = store->by_uid[i]; entry != NULL; entry = next) {
			next = entry->next_by_uid;
			entry->next_by_uid = all;
			all = entry;
		}
	}
	free(store->by_uid);
	free(store->by_name);
	store->by_uid = by_uid;
	store->by_name = by_name;
	store->buckets = buckets;
	for (entry = all; entry != NULL; entry = next) {
		next = entry->next_by_uid;
		kube_store_link(store, entry);
	}
	return 0;
}

int
kube_store_put(struct kube_store *store, void *object, void **replaced,
    void **displaced)
{
	struct kube_store_entry *entry, *same_uid, *same_name;
	struct kube_meta meta;
	int error;

	*replaced = NULL;
	*displaced = NULL;
	store->kind->meta(object, &meta);
	if ((error = kube_store_grow(store)) != 0)
		return error;
	if ((entry = calloc(1, sizeof *entry)) == NULL)
		return -ENOMEM;
	entry->meta = meta;
	entry->object = object;
	entry->uid_hash = kube_store_hash(2166136261u, meta.uid);
	entry->name_hash = kube_store_name_hash(meta.namespace, meta.name);

	same_uid = kube_store_find_uid(store, meta.uid, entry->uid_hash);
	if (same_uid != NULL) {
		kube_store_unlink(store, same_uid);
		*replaced = same_uid->object;
		free(same_uid);
		store->count--;
	}
	same_name = kube_store_find_name(store, meta.namespace, meta.name,
	    entry->name_hash);
	if (same_name != NULL) {
		kube_store_unlink(store, same_name);
		*displaced = same_name->object;
		free(same_name);
		store->count--;
	}
	kube_store_link(store, entry);
	store->count++;
	return 0;
}

void *
kube_store_remove(struct kube_store *store, const char *uid)
{
	struct kube_store_entry *entry;
	void *object;

	entry = kube_store_find_uid(store, uid, kube_store_hash(2166136261u, uid));
	if (entry == NULL)
		return NULL;
	kube_store_unlink(store, entry);
	object = entry->object;
	free(entry);
	store->count--;
	return object;
}

void
kube_store_foreach(const struct kube_store *store,
    void (*callback)(void *object, const struct kube_meta *meta, void *arg),
    void *arg)
{
	struct kube_store_entry *entry;
	size_t i;

	for (i = 0; i < store->buckets; i++) {
		for (entry = store->by_uid[i]; entry != NULL;
		    entry = entry->next_by_uid)
			callback(entry->object, &entry->meta, arg);
	}
}

void
kube_store_swap(struct kube_store *a, struct kube_store *b)
{
	struct kube_store scratch = *a;

	*a = *b;
	*b = scratch;
}
