/*
 * observe-trace.h - a scheduling trace in the Chrome JSON trace format,
 * which Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * Pure: decoded runs in, JSON text out, within a byte cap fixed at the
 * start, so a capture never holds more memory than it was allowed.  Each
 * run becomes a complete event ("ph":"X") on its thread's track, with its
 * CPU, previous CPU and runqueue latency as arguments; each thread gets a
 * thread_name metadata event the first time it appears.
 */
#ifndef TEMPER_OBSERVE_TRACE_H
#define TEMPER_OBSERVE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct observe_event;
struct observe_trace;

/* The smallest cap that holds the framing and one event. */
#define OBSERVE_TRACE_MIN_BYTES 1024

/*
 * origin_ns (CLOCK_MONOTONIC) becomes time 0.  NULL with errno (EINVAL for
 * a cap below OBSERVE_TRACE_MIN_BYTES, ENOMEM).
 */
struct observe_trace *observe_trace_new(size_t max_bytes, uint64_t origin_ns);

/* 0, or -ENOSPC once the cap is reached (the event and later ones are dropped), -ENOMEM. */
int observe_trace_add(struct observe_trace *trace,
    const struct observe_event *event);

size_t observe_trace_event_count(const struct observe_trace *trace);
size_t observe_trace_dropped(const struct observe_trace *trace);
bool observe_trace_full(const struct observe_trace *trace);

/*
 * Close the JSON, noting why the capture stopped, and hand the text over
 * (malloc'd, NUL-terminated, *len without the NUL).  The trace is spent:
 * only observe_trace_free may follow.  NULL with errno ENOMEM.
 */
char *observe_trace_finish(struct observe_trace *trace, const char *stopped,
    size_t *len);

void observe_trace_free(struct observe_trace *trace);

#endif
