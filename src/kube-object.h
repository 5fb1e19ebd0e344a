/*
 * kube-object.h - what every kind of Kubernetes object Temper keeps shares:
 * its identity, a decoder from the API's JSON into a compact struct, and
 * the helpers those decoders use to pack their strings into one block.
 */
#ifndef TEMPER_KUBE_OBJECT_H
#define TEMPER_KUBE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Identity of a decoded object; the strings live in the object itself. */
struct kube_meta {
	const char *uid;
	const char *namespace;		/* "" for cluster-scoped objects */
	const char *name;
	const char *resource_version;
};

/*
 * A kind the reflector can list and watch.  decode returns a new object
 * (NULL + *cause when the JSON does not describe one) and points meta at its
 * identity; free releases it; meta reads an object's identity again.
 */
struct kube_kind {
	const char *name;
	void *(*decode)(const cJSON *json, struct kube_meta *meta, char **cause);
	void (*free)(void *object);
	void (*meta)(const void *object, struct kube_meta *meta);
};

/* cJSON lookups by path, NULL-safe; NULL ends the path. */
const cJSON *kube_object_get(const cJSON *json, ...) __attribute__((sentinel));
/* The string at a path, NULL when absent or not a string. */
const char *kube_object_string(const cJSON *json, ...) __attribute__((sentinel));

/*
 * Packs many strings into one allocation: add each (destination, source)
 * pair, then pack once; destinations stay NULL until packing succeeds
 * (so check sources, not destinations, before packing).  A NULL source
 * leaves its destination NULL.
 */
struct kube_strings {
	struct kube_strings_item {
		const char **destination;
		const char *source;
	} *items;
	size_t count;
	size_t capacity;
	size_t total;
	bool failed;
};

void kube_strings_init(struct kube_strings *strings);
void kube_strings_add(struct kube_strings *strings, const char **destination,
    const char *source);
/* 0 and *block set (the caller frees it), or -ENOMEM. */
int kube_strings_pack(struct kube_strings *strings, char **block);
void kube_strings_free(struct kube_strings *strings);

/* Writes "reason" into *cause (malloc'd, printf-style); NULL cause is fine. */
void kube_object_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
