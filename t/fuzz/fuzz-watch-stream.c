/*
 * t/fuzz/fuzz-watch-stream.c - libFuzzer target for the watch-stream parser
 * and the pod and node decoders behind it.
 *
 * Beyond "no crash, no leak, no undefined behaviour": the input is fed once
 * whole and once cut into chunks whose sizes come from the input's first
 * bytes, and both runs must see the same events in the same order (chunk
 * boundaries are not event boundaries).  Every well-formed event's object
 * goes through the pod and node decoders; a refusal must carry a cause.
 * The same bytes are read as a LIST page item by item (kube-list.c): what
 * that accepts must be a JSON object for cJSON too, with as many items.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kube-list.h"
#include "kube-node.h"
#include "kube-pod.h"
#include "kube-stream.h"
#include "log.h"
#include "pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-watch-stream: %s\n", what);
	abort();
}

static int
fuzz_event(const struct kube_stream_event *event, void *arg)
{
	struct buf *seen = arg;
	struct kube_node *node;
	struct pod *pod;
	char *cause = NULL, *text;

	text = cJSON_PrintUnformatted(event->object);
	buf_printf(seen, "%s %d %s\n", kube_stream_type_name(event->type),
	    event->code, text ? text : "?");
	free(text);

	if ((pod = kube_pod_decode(event->object, &cause)) == NULL) {
		if (cause == NULL)
			fuzz_fail("a pod refused without a cause");
	} else {
		/* Exercise what the engine reads. */
		(void)pod_cpu_request_millis(pod);
		(void)pod_cpu_limit_millis(pod);
		if (pod->uid == NULL || pod->name == NULL || pod->namespace == NULL)
			fuzz_fail("a decoded pod without identity");
	}
	pod_free(pod);
	free(cause);
	cause = NULL;
	if ((node = kube_node_decode(event->object, &cause)) == NULL &&
	    cause == NULL)
		fuzz_fail("a node refused without a cause");
	kube_node_free(node);
	free(cause);
	return 0;
}

static int
fuzz_count_item(const cJSON *item, void *arg)
{
	(void)item;
	(*(size_t *)arg)++;
	return 0;
}

/* Item by item must agree with one cJSON tree wherever it accepts. */
static void
fuzz_list(const char *text, size_t len)
{
	struct kube_list_page page;
	const cJSON *child;
	const char *end = NULL;
	size_t counted = 0, expected = 0, i;
	char *cause = NULL;
	cJSON *whole;
	int result;

	result = kube_list_parse(text, len, fuzz_count_item, &counted, &page,
	    &cause);
	if (result != 0 && result != -EINVAL && result != -ENOMEM)
		fuzz_fail("a list refused with an unexpected error");
	if (result == -EINVAL && cause == NULL)
		fuzz_fail("a list refused without a cause");
	free(cause);
	if (result == 0) {
		whole = cJSON_ParseWithLengthOpts(text, len, &end, false);
		if (whole == NULL || !cJSON_IsObject(whole))
			fuzz_fail("a list accepted item by item is not a JSON object");
		for (i = (size_t)(end - text); i < len; i++) {
			if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' &&
			    text[i] != '\t')
				fuzz_fail("a list accepted with text after it");
		}
		cJSON_ArrayForEach(child, whole) {
			if (child->string != NULL && strcmp(child->string, "items") == 0 &&
			    cJSON_IsArray(child))
				expected += (size_t)cJSON_GetArraySize(child);
		}
		if (expected != counted || page.items != counted)
			fuzz_fail("item by item counted other items than cJSON");
		cJSON_Delete(whole);
	}
	kube_list_page_free(&page);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_stream whole, pieces;
	struct buf seen_whole = BUF_INIT, seen_pieces = BUF_INIT;
	size_t at = 0, n, step = 0;
	unsigned char seed;

	log_init("fuzz-watch-stream", LOG_LEVEL_ERROR);
	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;

	kube_stream_init(&whole, fuzz_event, &seen_whole);
	kube_stream_feed(&whole, (const char *)data, size);

	kube_stream_init(&pieces, fuzz_event, &seen_pieces);
	while (at < size) {
		/* Chunk sizes 1..16 in a pattern the seed picks. */
		n = 1 + ((seed >> (step++ % 8)) ^ (at * 7)) % 16;
		if (n > size - at)
			n = size - at;
		kube_stream_feed(&pieces, (const char *)data + at, n);
		at += n;
	}
	if (seen_whole.len != seen_pieces.len || (seen_whole.len > 0 &&
	    memcmp(seen_whole.data, seen_pieces.data, seen_whole.len) != 0))
		fuzz_fail("chunking changed the events");
	if (whole.events != pieces.events)
		fuzz_fail("chunking changed the event count");

	fuzz_list((const char *)data, size);

	kube_stream_free(&whole);
	kube_stream_free(&pieces);
	buf_free(&seen_whole);
	buf_free(&seen_pieces);
	return 0;
}
