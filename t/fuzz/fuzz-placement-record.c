/*
 * fuzz-placement-record.c - the ring-buffer record decoder given arbitrary
 * bytes, and whatever it accepts written into a trace, as the loop does.
 *
 * The first input byte chooses the possible-CPU count the decoder checks
 * against; the rest is the record.  Every accepted event must satisfy what
 * its consumers rely on: CPUs in range, a NUL-terminated printable name.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "observe-record.h"
#include "observe-trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct observe_trace *trace;
	struct observe_event event;
	unsigned cpu_limit;
	size_t len;

	if (size < 1)
		return 0;
	cpu_limit = 1 + data[0] % 64;
	if (observe_record_decode(data + 1, size - 1, cpu_limit, &event) != 0)
		return 0;
	if (event.cpu < 0 || (unsigned)event.cpu >= cpu_limit ||
	    event.prev_cpu < -1 || event.prev_cpu >= (int32_t)cpu_limit)
		__builtin_trap();
	len = strnlen(event.comm, sizeof event.comm);
	if (len == sizeof event.comm)
		__builtin_trap();
	for (size_t i = 0; i < len; i++)
		if (event.comm[i] < 0x20 || event.comm[i] > 0x7e)
			__builtin_trap();
	if (event.run_ns > UINT64_MAX - event.start_ns)
		__builtin_trap();

	/* A long capture: the trace fills up, is finished and starts again. */
	if (trace == NULL && (trace = observe_trace_new(64 * 1024, 0)) == NULL)
		return 0;
	observe_trace_add(trace, &event);
	if (!observe_trace_full(trace))
		return 0;
	{
		size_t text_len;
		char *text = observe_trace_finish(trace, "fuzz", &text_len);

		if (text != NULL && (text_len > 64 * 1024 || strlen(text) != text_len))
			__builtin_trap();
		free(text);
	}
	observe_trace_free(trace);
	trace = NULL;
	return 0;
}
