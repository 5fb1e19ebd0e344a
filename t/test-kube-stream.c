/* t/test-kube-stream.c - the watch stream parser, cut at every byte. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "kube-stream.h"
#include "log.h"
#include "tap.h"

static const char stream_text[] =
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
	"\"resourceVersion\":\"10\",\"annotations\":{\"x\":\"} { \\\" [ ]\"}}}}\n"
	"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
	"\"resourceVersion\":\"11\"},\"spec\":{\"list\":[{},[],\"}\"]}}}\n"
	/* Self-framing: no newline between two objects is fine too. */
	"{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"12\"}}}"
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
	"\"metadata\":{\"resourceVersion\":\"12746\",\"creationTimestamp\":null}}}\r\n"
	"  \n"
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	"\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
	"version: 1 (2)\",\"reason\":\"Expired\",\"code\":410}}\n";

/* What the callback saw, one line per event. */
static struct buf seen = BUF_INIT;

static int
record(const struct kube_stream_event *event, void *arg)
{
	const cJSON *rv;

	(void)arg;
	rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    event->object, "metadata"), "resourceVersion");
	buf_printf(&seen, "%s %s", kube_stream_type_name(event->type),
	    cJSON_IsString(rv) ? rv->valuestring : "-");
	if (event->type == KUBE_STREAM_ERROR)
		buf_printf(&seen, " %d %s", event->code, event->reason);
	buf_puts(&seen, "\n");
	return 0;
}

static const char expected[] =
	"ADDED 10\nMODIFIED 11\nDELETED 12\nBOOKMARK 12746\nERROR - 410 Expired\n";

static void
test_every_split(void)
{
	struct kube_stream stream;
	size_t len = sizeof stream_text - 1, cut, cut2, bad = 0;

	for (cut = 0; cut <= len; cut++) {
		kube_stream_init(&stream, record, NULL);
		buf_reset(&seen);
		kube_stream_feed(&stream, stream_text, cut);
		kube_stream_feed(&stream, stream_text + cut, len - cut);
		if (strcmp(seen.data ? seen.data : "", expected) != 0 ||
		    stream.malformed != 0 || kube_stream_partial(&stream)) {
			if (bad++ == 0)
				diag("cut at %zu: %s", cut, seen.data);
		}
		kube_stream_free(&stream);
	}
	is_int(bad, 0, "two chunks cut at each of %zu offsets give the same events", len + 1);

	bad = 0;
	for (cut = 0; cut <= len; cut += 7) {
		for (cut2 = cut; cut2 <= len; cut2 += 3) {
			kube_stream_init(&stream, record, NULL);
			buf_reset(&seen);
			kube_stream_feed(&stream, stream_text, cut);
			kube_stream_feed(&stream, stream_text + cut, cut2 - cut);
			kube_stream_feed(&stream, stream_text + cut2, len - cut2);
			if (strcmp(seen.data ? seen.data : "", expected) != 0)
				bad++;
			kube_stream_free(&stream);
		}
	}
	is_int(bad, 0, "three chunks give the same events");

	kube_stream_init(&stream, record, NULL);
	buf_reset(&seen);
	for (cut = 0; cut < len; cut++)
		kube_stream_feed(&stream, stream_text + cut, 1);
	is_str(seen.data, expected, "one byte at a time");
	is_int(stream.events, 5, "five events counted");
	kube_stream_free(&stream);
}

static int
stop_on_error(const struct kube_stream_event *event, void *arg)
{
	record(event, arg);
	return event->type == KUBE_STREAM_DELETED ? 1 : 0;
}

static void
test_malformed(void)
{
	static const char text[] =
		"garbage line\n"
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}\n"
		"{\"type\":\"SURPRISE\",\"object\":{}}\n"
		"{\"type\":\"ADDED\"}\n"
		"{\"type\":\"ADDED\",\"object\":[]}\n"
		"{\"type\":\"ADDED\",\"object\":{\"a\":tru}}\n"
		"{\"type\":\"ADDED\",\"object\":{]}\n"
		"]]]\n"
		"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"2\"}}}\n";
	struct kube_stream stream;
	struct buf big = BUF_INIT;
	size_t i;

	kube_stream_init(&stream, record, NULL);
	buf_reset(&seen);
	kube_stream_feed(&stream, text, sizeof text - 1);
	is_str(seen.data, "ADDED 1\nMODIFIED 2\n", "malformed events are skipped, good ones kept");
	ok(stream.malformed >= 6, "malformed events counted (%lu)", stream.malformed);
	kube_stream_free(&stream);

	/* An event larger than the bound is dropped up to the next newline. */
	kube_stream_init(&stream, record, NULL);
	stream.max_event = 4096;
	buf_reset(&seen);
	buf_puts(&big, "{\"type\":\"ADDED\",\"object\":{\"pad\":\"");
	for (i = 0; i < 10000; i++)
		buf_puts(&big, "x");
	buf_puts(&big, "\"}}\n{\"type\":\"DELETED\",\"object\":{\"metadata\":"
	    "{\"resourceVersion\":\"3\"}}}\n");
	for (i = 0; i < big.len; i += 1000)
		kube_stream_feed(&stream, big.data + i,
		    big.len - i < 1000 ? big.len - i : 1000);
	is_str(seen.data, "DELETED 3\n", "an oversized event is dropped, the next one kept");
	ok(stream.pending.cap <= 16384, "the buffer stayed bounded (%zu bytes)",
	    stream.pending.cap);
	kube_stream_free(&stream);
	buf_free(&big);

	/* A callback's non-zero return stops the feed and is returned. */
	kube_stream_init(&stream, stop_on_error, NULL);
	buf_reset(&seen);
	is_int(kube_stream_feed(&stream, stream_text, sizeof stream_text - 1), 1,
	    "the callback's verdict is returned");
	is_str(seen.data, "ADDED 10\nMODIFIED 11\nDELETED 12\n", "no event after the stop");
	kube_stream_reset(&stream);
	ok(!kube_stream_partial(&stream), "reset forgets the rest");
	kube_stream_feed(&stream, "{\"type\":", 8);
	ok(kube_stream_partial(&stream), "a truncated event is visible");
	kube_stream_free(&stream);
}

int
main(void)
{
	log_init("test-kube-stream", LOG_LEVEL_ERROR);
	test_every_split();
	test_malformed();
	buf_free(&seen);
	return done_testing();
}
