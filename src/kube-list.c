/* kube-list.c - a LIST response read item by item. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kube-list.h"
#include "kube-object.h"

static size_t
kube_list_skip_space(const char *text, size_t len, size_t at)
{
	while (at < len && (text[at] == ' ' || text[at] == '\t' ||
	    text[at] == '\n' || text[at] == '\r'))
		at++;
	return at;
}

/* Where the value starting at `at` ends; cJSON checks its contents later. */
static int
kube_list_value_end(const char *text, size_t len, size_t at, size_t *end)
{
	unsigned long depth = 0;
	bool in_string = false;
	size_t i;
	char c;

	if (at >= len)
		return -EINVAL;
	c = text[at];
	if (c != '"' && c != '{' && c != '[') {
		for (i = at; i < len; i++) {
			c = text[i];
			if (c == ',' || c == '}' || c == ']' || c == ' ' ||
			    c == '\t' || c == '\n' || c == '\r')
				break;
		}
		*end = i;
		return i > at ? 0 : -EINVAL;
	}
	for (i = at; i < len; i++) {
		c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			else
				continue;
			if (depth == 0 && !in_string) {
				*end = i + 1;
				return 0;
			}
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0 || --depth == 0) {
				*end = i + 1;
				return 0;
			}
		}
	}
	return -EINVAL;
}

static int
kube_list_metadata(const cJSON *metadata, struct kube_list_page *page)
{
	const char *rv, *next;

	rv = kube_object_string(metadata, "resourceVersion", NULL);
	next = kube_object_string(metadata, "continue", NULL);
	free(page->resource_version);
	free(page->continue_token);
	page->resource_version = rv != NULL ? strdup(rv) : NULL;
	page->continue_token = next != NULL && next[0] != '\0' ? strdup(next) : NULL;
	if ((rv != NULL && page->resource_version == NULL) ||
	    (next != NULL && next[0] != '\0' && page->continue_token == NULL))
		return -ENOMEM;
	return 0;
}

/* Parse exactly text[start, end) as one JSON value. */
static cJSON *
kube_list_parse_value(const char *text, size_t start, size_t end)
{
	const char *stop = NULL;
	cJSON *json;

	json = cJSON_ParseWithLengthOpts(text + start, end - start, &stop, false);
	if (json != NULL && stop != text + end) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

int
kube_list_parse(const char *text, size_t len,
    int (*on_item)(const cJSON *item, void *arg), void *arg,
    struct kube_list_page *page, char **cause)
{
	size_t at, key_end, value_end;
	bool first = true, first_item, is_items, is_metadata;
	cJSON *json;
	int result;

	memset(page, 0, sizeof *page);
	at = kube_list_skip_space(text, len, 0);
	if (at >= len || text[at] != '{')
		goto bad;
	at++;
	for (;;) {
		at = kube_list_skip_space(text, len, at);
		if (at < len && text[at] == '}' && first) {
			at++;
			break;
		}
		if (!first) {
			if (at < len && text[at] == '}') {
				at++;
				break;
			}
			if (at >= len || text[at] != ',')
				goto bad;
			at = kube_list_skip_space(text, len, at + 1);
		}
		first = false;
		if (at >= len || text[at] != '"' ||
		    kube_list_value_end(text, len, at, &key_end) != 0)
			goto bad;
		/* The key as cJSON reads it, escapes and all, so that both
		 * agree on which member is "items". */
		if ((json = kube_list_parse_value(text, at, key_end)) == NULL)
			goto bad;
		is_items = strcmp(json->valuestring, "items") == 0;
		is_metadata = strcmp(json->valuestring, "metadata") == 0;
		cJSON_Delete(json);
		at = kube_list_skip_space(text, len, key_end);
		if (at >= len || text[at] != ':')
			goto bad;
		at = kube_list_skip_space(text, len, at + 1);

		if (is_items && at < len && text[at] == '[') {
			at++;
			first_item = true;
			for (;;) {
				at = kube_list_skip_space(text, len, at);
				if (at < len && text[at] == ']') {
					at++;
					break;
				}
				if (!first_item) {
					if (at >= len || text[at] != ',')
						goto bad;
					at = kube_list_skip_space(text, len, at + 1);
				}
				first_item = false;
				if (kube_list_value_end(text, len, at, &value_end) != 0 ||
				    (json = kube_list_parse_value(text, at,
				    value_end)) == NULL)
					goto bad;
				page->items++;
				result = on_item(json, arg);
				cJSON_Delete(json);
				if (result != 0)
					return result;
				at = value_end;
			}
			continue;
		}
		if (kube_list_value_end(text, len, at, &value_end) != 0 ||
		    (json = kube_list_parse_value(text, at, value_end)) == NULL)
			goto bad;
		result = 0;
		if (is_metadata)
			result = kube_list_metadata(json, page);
		cJSON_Delete(json);
		if (result != 0)
			return result;
		at = value_end;
	}
	if (kube_list_skip_space(text, len, at) != len)
		goto bad;
	return 0;
bad:
	kube_object_cause(cause, "the list is not a JSON object (byte %zu)",
	    at < len ? at : len);
	return -EINVAL;
}

void
kube_list_page_free(struct kube_list_page *page)
{
	free(page->resource_version);
	free(page->continue_token);
	memset(page, 0, sizeof *page);
}
