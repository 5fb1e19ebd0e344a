/*
 * kube-list.h - a LIST response read item by item.
 *
 * Parsing a page of 500 pods into one cJSON tree and then walking it makes
 * the decoder chase pointers through megabytes of cold nodes.  Here the
 * top-level object is scanned, each item's bytes are parsed alone (a small
 * tree, still in cache) and handed over, then freed; the page's metadata
 * (resourceVersion, continue) is parsed on its own.  Every value is still
 * parsed by cJSON, so what is accepted is exactly valid JSON.  Pure.
 */
#ifndef TEMPER_KUBE_LIST_H
#define TEMPER_KUBE_LIST_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct kube_list_page {
	char *resource_version;		/* metadata.resourceVersion, or NULL */
	char *continue_token;		/* metadata.continue, NULL when "" or absent */
	size_t items;			/* items handed to the callback */
};

/*
 * Call on_item for each element of the top-level "items" array (the item
 * is freed after the call; a non-zero return stops and is returned).
 * 0, -EINVAL for text that is not a JSON object (with *cause), -ENOMEM.
 */
int kube_list_parse(const char *text, size_t len,
    int (*on_item)(const cJSON *item, void *arg), void *arg,
    struct kube_list_page *page, char **cause);

void kube_list_page_free(struct kube_list_page *page);

#endif
