/* kube-stream.c - the watch event stream, parsed incrementally. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube-object.h"
#include "kube-stream.h"
#include "log.h"

void
kube_stream_init(struct kube_stream *stream, kube_stream_event_cb callback,
    void *arg)
{
	memset(stream, 0, sizeof *stream);
	stream->callback = callback;
	stream->arg = arg;
	stream->max_event = KUBE_STREAM_MAX_EVENT;
}

void
kube_stream_reset(struct kube_stream *stream)
{
	buf_reset(&stream->pending);
	stream->scanned = 0;
	stream->depth = 0;
	stream->in_string = false;
	stream->skipping = false;
}

void
kube_stream_free(struct kube_stream *stream)
{
	buf_free(&stream->pending);
}

bool
kube_stream_partial(const struct kube_stream *stream)
{
	size_t i;

	for (i = 0; i < stream->pending.len; i++) {
		if (stream->pending.data[i] != ' ' && stream->pending.data[i] != '\n' &&
		    stream->pending.data[i] != '\r' && stream->pending.data[i] != '\t')
			return true;
	}
	return false;
}

const char *
kube_stream_type_name(enum kube_stream_type type)
{
	static const char *const names[] = {
		[KUBE_STREAM_ADDED] = "ADDED",
		[KUBE_STREAM_MODIFIED] = "MODIFIED",
		[KUBE_STREAM_DELETED] = "DELETED",
		[KUBE_STREAM_BOOKMARK] = "BOOKMARK",
		[KUBE_STREAM_ERROR] = "ERROR",
	};

	if ((unsigned)type >= sizeof names / sizeof names[0])
		return "?";
	return names[type];
}

static int
kube_stream_type(const char *text, enum kube_stream_type *type)
{
	enum kube_stream_type t;

	for (t = KUBE_STREAM_ADDED; t <= KUBE_STREAM_ERROR; t++) {
		if (strcmp(text, kube_stream_type_name(t)) == 0) {
			*type = t;
			return 0;
		}
	}
	return -EINVAL;
}

int
kube_stream_decode(const char *text, size_t len, kube_stream_event_cb callback,
    void *arg, char **cause)
{
	struct kube_stream_event event = { 0 };
	const cJSON *code;
	const char *type;
	cJSON *json;
	int result;

	if ((json = cJSON_ParseWithLength(text, len)) == NULL) {
		kube_object_cause(cause, "not JSON");
		return -EINVAL;
	}
	type = kube_object_string(json, "type", NULL);
	event.object = kube_object_get(json, "object", NULL);
	if (type == NULL || kube_stream_type(type, &event.type) != 0) {
		kube_object_cause(cause, "no known event type");
		result = -EINVAL;
		goto out;
	}
	if (!cJSON_IsObject(event.object)) {
		kube_object_cause(cause, "%s event without an object", type);
		result = -EINVAL;
		goto out;
	}
	if (event.type == KUBE_STREAM_ERROR) {
		code = kube_object_get(event.object, "code", NULL);
		event.code = cJSON_IsNumber(code) && code->valuedouble >= 0 &&
		    code->valuedouble < 1000 ? (int)code->valuedouble : 0;
		event.reason = kube_object_string(event.object, "reason", NULL);
		event.message = kube_object_string(event.object, "message", NULL);
	}
	result = callback(&event, arg);
out:
	cJSON_Delete(json);
	return result;
}

/* One complete object: decode it; a malformed one is logged and skipped. */
static int
kube_stream_emit(struct kube_stream *stream, const char *text, size_t len)
{
	char *cause = NULL;
	int result;

	result = kube_stream_decode(text, len, stream->callback, stream->arg,
	    &cause);
	if (cause != NULL) {
		stream->malformed++;
		log_warn("watch stream: skipping a malformed event (%s, %zu bytes)",
		    cause, len);
		free(cause);
		return 0;
	}
	stream->events++;
	return result;
}

int
kube_stream_feed(struct kube_stream *stream, const char *data, size_t len)
{
	const char *text, *newline, *quote;
	size_t i, start, backslashes;
	int error, result = 0;
	char c;

	while (stream->skipping && len > 0) {
		/* After a refused event, resynchronize on the next newline. */
		if ((newline = memchr(data, '\n', len)) == NULL)
			return 0;
		len -= (size_t)(newline + 1 - data);
		data = newline + 1;
		stream->skipping = false;
	}
	if ((error = buf_append(&stream->pending, data, len)) != 0)
		return error;

	text = stream->pending.data;
	start = 0;
	for (i = stream->scanned; i < stream->pending.len; i++) {
		if (stream->in_string) {
			/*
			 * Most of an object is string contents: jump to the next
			 * quote; it closes the string unless an odd run of
			 * backslashes precedes it (all inside this string, which
			 * stays in pending until its event is complete).
			 */
			quote = memchr(text + i, '"', stream->pending.len - i);
			if (quote == NULL) {
				i = stream->pending.len - 1;
				continue;
			}
			i = (size_t)(quote - text);
			for (backslashes = 0; text[i - 1 - backslashes] == '\\';
			    backslashes++)
				;
			if (backslashes % 2 == 0)
				stream->in_string = false;
			continue;
		}
		c = text[i];
		if (stream->depth == 0) {
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
				start = i + 1;
				continue;
			}
			if (c != '{') {
				/* Junk between events: skip the rest of its line. */
				stream->malformed++;
				log_warn("watch stream: skipping bytes that do not "
				    "start an event");
				newline = memchr(text + i, '\n', stream->pending.len - i);
				if (newline == NULL) {
					stream->skipping = true;
					i = stream->pending.len;
					start = i;
					break;
				}
				i = (size_t)(newline - text);
				start = i + 1;
				continue;
			}
		}
		if (c == '"') {
			stream->in_string = true;
		} else if (c == '{' || c == '[') {
			stream->depth++;
		} else if (c == '}' || c == ']') {
			if (stream->depth > 0 && --stream->depth == 0) {
				result = kube_stream_emit(stream, text + start,
				    i + 1 - start);
				start = i + 1;
				if (result != 0) {
					i++;
					break;
				}
			}
		}
	}
	buf_consume(&stream->pending, start);
	stream->scanned = i - start;

	if (stream->pending.len > stream->max_event) {
		stream->malformed++;
		log_warn("watch stream: an event exceeds %zu bytes; skipping it",
		    stream->max_event);
		kube_stream_reset(stream);
		stream->skipping = true;
	}
	return result;
}
