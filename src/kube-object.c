/* kube-object.c - shared helpers of the Kubernetes object decoders. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube-object.h"

const cJSON *
kube_object_get(const cJSON *json, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, json);
	while (json != NULL && (key = va_arg(ap, const char *)) != NULL) {
		if (!cJSON_IsObject(json))
			json = NULL;
		else
			json = cJSON_GetObjectItemCaseSensitive(json, key);
	}
	va_end(ap);
	return json;
}

const char *
kube_object_string(const cJSON *json, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, json);
	while (json != NULL && (key = va_arg(ap, const char *)) != NULL) {
		if (!cJSON_IsObject(json))
			json = NULL;
		else
			json = cJSON_GetObjectItemCaseSensitive(json, key);
	}
	va_end(ap);
	if (!cJSON_IsString(json))
		return NULL;
	return json->valuestring;
}

void
kube_strings_init(struct kube_strings *strings)
{
	memset(strings, 0, sizeof *strings);
}

void
kube_strings_add(struct kube_strings *strings, const char **destination,
    const char *source)
{
	struct kube_strings_item *items;
	size_t capacity;

	*destination = NULL;
	if (source == NULL || strings->failed)
		return;
	if (strings->count == strings->capacity) {
		capacity = strings->capacity ? strings->capacity * 2 : 16;
		items = reallocarray(strings->items, capacity, sizeof *items);
		if (items == NULL) {
			strings->failed = true;
			return;
		}
		strings->items = items;
		strings->capacity = capacity;
	}
	strings->items[strings->count].destination = destination;
	strings->items[strings->count].source = source;
	strings->count++;
	strings->total += strlen(source) + 1;
}

int
kube_strings_pack(struct kube_strings *strings, char **block)
{
	char *at;
	size_t i, len;

	*block = NULL;
	if (strings->failed)
		return -ENOMEM;
	if ((*block = malloc(strings->total ? strings->total : 1)) == NULL)
		return -ENOMEM;
	at = *block;
	for (i = 0; i < strings->count; i++) {
		len = strlen(strings->items[i].source) + 1;
		memcpy(at, strings->items[i].source, len);
		*strings->items[i].destination = at;
		at += len;
	}
	return 0;
}

void
kube_strings_free(struct kube_strings *strings)
{
	free(strings->items);
	memset(strings, 0, sizeof *strings);
}

void
kube_object_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}
