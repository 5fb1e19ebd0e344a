/*
 * kube-stream.h - the watch event stream, parsed incrementally.
 *
 * A watch response body is a sequence of JSON objects
 * {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, each
 * normally followed by a newline, cut into chunks wherever the server
 * flushed: chunk boundaries are not event boundaries.  The splitter finds
 * whole objects with a string-aware brace scanner (so it needs neither the
 * newline nor one event per chunk), each byte scanned once, and hands each
 * object, parsed, to the owner; string contents are skipped with memchr.  Malformed events are counted, logged and
 * skipped; nothing the server sends can crash it or grow it without bound.
 */
#ifndef TEMPER_KUBE_STREAM_H
#define TEMPER_KUBE_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* One event bigger than this is refused (the apiserver caps objects lower). */
#define KUBE_STREAM_MAX_EVENT (16 * 1024 * 1024)

enum kube_stream_type {
	KUBE_STREAM_ADDED,
	KUBE_STREAM_MODIFIED,
	KUBE_STREAM_DELETED,
	KUBE_STREAM_BOOKMARK,
	KUBE_STREAM_ERROR,
};

struct kube_stream_event {
	enum kube_stream_type type;
	const cJSON *object;		/* valid during the callback only */
	/* For ERROR: the Status's code (410 for Expired/Gone) and reason. */
	int code;
	const char *reason;
	const char *message;
};

/*
 * Called per well-formed event.  A non-zero return stops kube_stream_feed,
 * which returns it (the owner uses it to end a watch on ERROR).
 */
typedef int (*kube_stream_event_cb)(const struct kube_stream_event *event,
    void *arg);

struct kube_stream {
	struct buf pending;	/* bytes of the event not yet complete */
	size_t scanned;		/* how far pending has been scanned */
	unsigned depth;		/* brace depth at scanned */
	bool in_string;
	bool skipping;		/* discarding a refused event up to a newline */
	size_t max_event;

	kube_stream_event_cb callback;
	void *arg;

	unsigned long events;
	unsigned long malformed;
};

void kube_stream_init(struct kube_stream *stream, kube_stream_event_cb callback,
    void *arg);
/* Forget any partial event (a new response starts). */
void kube_stream_reset(struct kube_stream *stream);
/* 0, -ENOMEM, or the callback's non-zero return. */
int kube_stream_feed(struct kube_stream *stream, const char *data, size_t len);
/* Whether bytes of an unfinished event are buffered (a truncated stream). */
bool kube_stream_partial(const struct kube_stream *stream);
void kube_stream_free(struct kube_stream *stream);

/* Decode one event's text; 0, or -EINVAL and *cause. For tests and tools. */
int kube_stream_decode(const char *text, size_t len, kube_stream_event_cb
    callback, void *arg, char **cause);

const char *kube_stream_type_name(enum kube_stream_type type);

#endif
