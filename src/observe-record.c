/* observe-record.c - decode and check bpf/placement.bpf.c's ring-buffer records. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "observe-record.h"
#include "placement.h"

int
observe_record_decode(const void *data, size_t len, unsigned cpu_limit,
    struct observe_event *event)
{
	struct placement_record record;
	struct observe_event out;
	size_t i;

	/* A longer record is a newer kernel side adding fields at the end. */
	if (data == NULL || len < sizeof record)
		return -EINVAL;
	memcpy(&record, data, sizeof record);	/* ring data need not be aligned */
	if (record.version != PLACEMENT_RECORD_VERSION ||
	    record.kind != PLACEMENT_RECORD_RUN)
		return -EINVAL;
	if (record.cpu < 0 || (uint64_t)record.cpu >= cpu_limit)
		return -EINVAL;
	if (record.prev_cpu < -1 || (record.prev_cpu >= 0 &&
	    (uint64_t)record.prev_cpu >= cpu_limit))
		return -EINVAL;
	if (record.run_ns > UINT64_MAX - record.start_ns)
		return -EINVAL;

	memset(&out, 0, sizeof out);
	out.tid = record.tid;
	out.tgid = record.tgid;
	out.cgroup_id = record.cgroup_id;
	out.group = record.group;
	out.cpu = record.cpu;
	out.prev_cpu = record.prev_cpu;
	out.start_ns = record.start_ns;
	out.run_ns = record.run_ns;
	out.latency_ns = record.latency_ns;
	/* Up to the NUL; a command name may hold any byte, JSON may not. */
	for (i = 0; i < sizeof record.comm && record.comm[i] != '\0'; i++) {
		unsigned char c = (unsigned char)record.comm[i];

		out.comm[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out.comm[i < OBSERVE_COMM_SIZE ? i : OBSERVE_COMM_SIZE - 1] = '\0';
	*event = out;
	return 0;
}
