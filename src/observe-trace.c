/* observe-trace.c - scheduling runs into a Chrome JSON trace, within a cap. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "observe-record.h"
#include "observe-trace.h"

/* Room kept for the closing text: the stop reason and the counts. */
#define OBSERVE_TRACE_TAIL_BYTES 512

struct observe_trace {
	struct buf out;
	size_t max_bytes;
	uint64_t origin_ns;
	size_t events;
	size_t dropped;
	bool full;
	bool finished;
	/* Threads already named: an open-addressing set of tids + 1. */
	uint32_t *named;
	size_t named_count;
	size_t named_size;
};

struct observe_trace *
observe_trace_new(size_t max_bytes, uint64_t origin_ns)
{
	struct observe_trace *trace;

	if (max_bytes < OBSERVE_TRACE_MIN_BYTES) {
		errno = EINVAL;
		return NULL;
	}
	if ((trace = calloc(1, sizeof *trace)) == NULL)
		return NULL;
	trace->max_bytes = max_bytes;
	trace->origin_ns = origin_ns;
	if (buf_puts(&trace->out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[") != 0) {
		observe_trace_free(trace);
		errno = ENOMEM;
		return NULL;
	}
	return trace;
}

/* Whether tid was named before; remembers it.  -ENOMEM when the set cannot grow. */
static int
observe_trace_seen(struct observe_trace *trace, uint32_t tid)
{
	uint32_t key = tid + 1, *grown;
	size_t slot, size;

	if (trace->named_count * 2 >= trace->named_size) {
		size = trace->named_size ? trace->named_size * 2 : 64;
		if ((grown = calloc(size, sizeof *grown)) == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < trace->named_size; i++) {
			if (trace->named[i] == 0)
				continue;
			slot = trace->named[i] * 2654435761u % size;
			while (grown[slot] != 0)
				slot = (slot + 1) % size;
			grown[slot] = trace->named[i];
		}
		free(trace->named);
		trace->named = grown;
		trace->named_size = size;
	}
	slot = key * 2654435761u % trace->named_size;
	while (trace->named[slot] != 0) {
		if (trace->named[slot] == key)
			return 1;
		slot = (slot + 1) % trace->named_size;
	}
	trace->named[slot] = key;
	trace->named_count++;
	return 0;
}

/* Command names are printable ASCII after decoding; JSON still needs \" and \\. */
static void
observe_trace_escape(char *out, size_t size, const char *comm)
{
	size_t at = 0;

	for (const char *p = comm; *p != '\0' && at + 3 < size; p++) {
		if (*p == '"' || *p == '\\')
			out[at++] = '\\';
		out[at++] = *p;
	}
	out[at] = '\0';
}

int
observe_trace_add(struct observe_trace *trace, const struct observe_event *event)
{
	char name[2 * OBSERVE_COMM_SIZE + 1], text[512];
	uint64_t start = event->start_ns, duration = event->run_ns;
	size_t len = 0;
	int seen, n;

	if (trace->full || trace->finished) {
		trace->dropped++;
		return -ENOSPC;
	}
	/* A run that began before the capture is cut at its start. */
	if (start < trace->origin_ns) {
		uint64_t cut = trace->origin_ns - start;

		duration = duration > cut ? duration - cut : 0;
		start = trace->origin_ns;
	}
	start -= trace->origin_ns;
	observe_trace_escape(name, sizeof name, event->comm);
	if ((seen = observe_trace_seen(trace, event->tid)) < 0)
		return seen;
	if (!seen) {
		n = snprintf(text, sizeof text, "%s{\"name\":\"thread_name\","
		    "\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ","
		    "\"args\":{\"name\":\"%s\"}}", trace->events ? "," : "",
		    event->tgid, event->tid, name);
		len = (size_t)n;
	}
	n = snprintf(text + len, sizeof text - len, "%s{\"name\":\"%s\","
	    "\"cat\":\"sched\",\"ph\":\"X\",\"ts\":%" PRIu64 ".%03" PRIu64 ","
	    "\"dur\":%" PRIu64 ".%03" PRIu64 ",\"pid\":%" PRIu32 ",\"tid\":%"
	    PRIu32 ",\"args\":{\"cpu\":%" PRId32 ",\"prev_cpu\":%" PRId32 ","
	    "\"latency_us\":%" PRIu64 ".%03" PRIu64 ",\"cgroup_id\":%" PRIu64 "}}",
	    trace->events || len ? "," : "", name, start / 1000, start % 1000,
	    duration / 1000, duration % 1000, event->tgid, event->tid, event->cpu,
	    event->prev_cpu, event->latency_ns / 1000, event->latency_ns % 1000,
	    event->cgroup_id);
	len += (size_t)n;
	if (trace->out.len + len + OBSERVE_TRACE_TAIL_BYTES > trace->max_bytes) {
		trace->full = true;
		trace->dropped++;
		return -ENOSPC;
	}
	if (buf_append(&trace->out, text, len) != 0)
		return -ENOMEM;
	trace->events++;
	return 0;
}

size_t
observe_trace_event_count(const struct observe_trace *trace)
{
	return trace->events;
}

size_t
observe_trace_dropped(const struct observe_trace *trace)
{
	return trace->dropped;
}

bool
observe_trace_full(const struct observe_trace *trace)
{
	return trace->full;
}

char *
observe_trace_finish(struct observe_trace *trace, const char *stopped,
    size_t *len)
{
	char reason[128];

	observe_trace_escape(reason, sizeof reason, stopped ? stopped : "");
	if (buf_printf(&trace->out, "],\"otherData\":{\"source\":\"temper\","
	    "\"stopped\":\"%s\",\"runs\":\"%zu\",\"dropped\":\"%zu\","
	    "\"max_bytes\":\"%zu\"}}\n", reason, trace->events, trace->dropped,
	    trace->max_bytes) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	trace->finished = true;
	*len = trace->out.len;
	return buf_detach(&trace->out);
}

void
observe_trace_free(struct observe_trace *trace)
{
	if (trace == NULL)
		return;
	buf_free(&trace->out);
	free(trace->named);
	free(trace);
}
