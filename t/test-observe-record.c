/*
 * t/test-observe-record.c - ring-buffer records decoded and refused, PSI
 * text parsed, and trace captures that parse as JSON within their cap.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "observe-psi.h"
#include "observe-record.h"
#include "observe-trace.h"
#include "placement.h"
#include "tap.h"

static struct placement_record
record_sample(void)
{
	struct placement_record record;

	memset(&record, 0, sizeof record);
	record.version = PLACEMENT_RECORD_VERSION;
	record.kind = PLACEMENT_RECORD_RUN;
	record.tid = 4243;
	record.tgid = 4242;
	record.cgroup_id = 77;
	record.group = 76;
	record.cpu = 1;
	record.prev_cpu = 0;
	record.start_ns = 1000000000;
	record.run_ns = 250000;
	record.latency_ns = 12345;
	memcpy(record.comm, "busy\"loop\\", 10);
	return record;
}

int
main(void)
{
	struct placement_record record = record_sample();
	struct observe_event event, untouched;
	struct observe_trace *trace;
	struct observe_psi psi;
	unsigned char bytes[sizeof record + 8];
	cJSON *json, *events, *item;
	char *text;
	size_t len;
	int xs = 0, names = 0, error;

	/* Records. */
	is_int(observe_record_decode(&record, sizeof record, 2, &event), 0,
	    "a well-formed record decodes");
	is_int(event.tid, 4243, "tid");
	is_int(event.tgid, 4242, "tgid");
	is_int(event.cgroup_id, 77, "cgroup id");
	is_int(event.cpu, 1, "cpu");
	is_int(event.prev_cpu, 0, "previous cpu");
	is_int(event.latency_ns, 12345, "latency");
	is_str(event.comm, "busy\"loop\\", "the command name");
	/* Unaligned, and longer (a newer kernel side). */
	memcpy(bytes + 1, &record, sizeof record);
	is_int(observe_record_decode(bytes + 1, sizeof record + 7, 2, &event), 0,
	    "an unaligned, longer record decodes");
	memset(&untouched, 0x5a, sizeof untouched);
	event = untouched;
	is_int(observe_record_decode(&record, sizeof record - 1, 2, &event), -EINVAL,
	    "a short record is refused");
	ok(memcmp(&event, &untouched, sizeof event) == 0, "and leaves the event untouched");
	record.version = 2;
	is_int(observe_record_decode(&record, sizeof record, 2, &event), -EINVAL,
	    "an unknown version is refused");
	record = record_sample();
	record.kind = 9;
	is_int(observe_record_decode(&record, sizeof record, 2, &event), -EINVAL,
	    "an unknown kind is refused");
	record = record_sample();
	record.cpu = 2;
	is_int(observe_record_decode(&record, sizeof record, 2, &event), -EINVAL,
	    "a CPU past the possible ones is refused");
	record = record_sample();
	record.prev_cpu = -2;
	is_int(observe_record_decode(&record, sizeof record, 2, &event), -EINVAL,
	    "a previous CPU below -1 is refused");
	record = record_sample();
	record.start_ns = UINT64_MAX - 5;
	is_int(observe_record_decode(&record, sizeof record, 2, &event), -EINVAL,
	    "a run ending past the clock's range is refused");
	record = record_sample();
	memset(record.comm, 0xff, sizeof record.comm);
	record.comm[3] = '\n';
	is_int(observe_record_decode(&record, sizeof record, 2, &event), 0,
	    "a command name without NUL still decodes");
	is_str(event.comm, "???????????????", "as printable text, 15 bytes");
	is_int(observe_record_decode(NULL, 0, 2, &event), -EINVAL, "NULL is refused");

	/* PSI text. */
	text = "some avg10=12.50 avg60=3.00 avg300=0.25 total=123456\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), 0, "PSI text parses");
	ok(psi.some.avg10 == 12.5 && psi.some.avg60 == 3.0 && psi.some.total_us == 123456,
	    "some: avg10, avg60, total");
	ok(psi.has_full && psi.full.total_us == 0, "full is there");
	text = "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), 0, "some alone parses (older kernels)");
	ok(!psi.has_full, "without full");
	text = "some avg10=1.00 avg60=2.00 total=4\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), -EINVAL, "a missing field is refused");
	text = "some avg10=101.00 avg60=2.00 avg300=3.00 total=4\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), -EINVAL, "above 100 per cent is refused");
	text = "full avg10=1.00 avg60=2.00 avg300=3.00 total=4\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), -EINVAL, "full without some is refused");
	text = "some avg10=1.00 avg60=2.00 avg300=3.00 total=4 extra\n";
	is_int(observe_psi_parse(text, strlen(text), &psi), -EINVAL, "trailing text is refused");
	error = observe_psi_read("/proc/pressure/cpu", &psi);
	ok(error == 0 || error == -ENOENT, "this machine's /proc/pressure/cpu reads (%d)", error);

	/* Traces. */
	ok(observe_trace_new(100, 0) == NULL && errno == EINVAL, "a tiny cap is refused");
	trace = observe_trace_new(1 << 20, 999000000);
	record = record_sample();
	observe_record_decode(&record, sizeof record, 2, &event);
	for (int i = 0; i < 10; i++) {
		event.tid = 4243 + (i % 2);
		event.start_ns = 1000000000 + (uint64_t)i * 300000;
		observe_trace_add(trace, &event);
	}
	/* A run that began before the capture is cut at its start. */
	event.start_ns = 998000000;
	event.run_ns = 1500000;
	observe_trace_add(trace, &event);
	is_int(observe_trace_event_count(trace), 11, "eleven runs in the trace");
	text = observe_trace_finish(trace, "time limit reached", &len);
	ok(text != NULL && strlen(text) == len, "the trace text is handed over");
	json = cJSON_Parse(text);
	ok(json != NULL, "the trace parses as JSON");
	events = cJSON_GetObjectItem(json, "traceEvents");
	cJSON_ArrayForEach(item, events) {
		const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(item, "ph"));

		if (ph && strcmp(ph, "X") == 0)
			xs++;
		if (ph && strcmp(ph, "M") == 0)
			names++;
	}
	is_int(xs, 11, "one complete event per run");
	is_int(names, 2, "one thread_name per thread");
	item = cJSON_GetArrayItem(events, 1);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(item, "name")), "busy\"loop\\",
	    "names survive JSON escaping");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(item, "ts")) == 1000.0,
	    "ts is microseconds from the capture's start");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(item, "dur")) == 250.0,
	    "dur is the run in microseconds");
	item = cJSON_GetArrayItem(events, cJSON_GetArraySize(events) - 1);
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(item, "ts")) == 0 &&
	    cJSON_GetNumberValue(cJSON_GetObjectItem(item, "dur")) == 500.0,
	    "a run begun before the capture starts at 0 with the rest of its time");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(json,
	    "otherData"), "stopped")), "time limit reached", "the stop reason is noted");
	cJSON_Delete(json);
	free(text);
	observe_trace_free(trace);

	/* The cap. */
	trace = observe_trace_new(OBSERVE_TRACE_MIN_BYTES * 2, 0);
	error = 0;
	for (int i = 0; i < 1000 && error == 0; i++) {
		event.tid = (uint32_t)i;
		error = observe_trace_add(trace, &event);
	}
	is_int(error, -ENOSPC, "a full trace says so");
	ok(observe_trace_full(trace), "and knows it");
	is_int(observe_trace_add(trace, &event), -ENOSPC, "and drops what follows");
	is_int(observe_trace_dropped(trace), 2, "counting the drops");
	text = observe_trace_finish(trace, "byte cap reached", &len);
	ok(len <= OBSERVE_TRACE_MIN_BYTES * 2, "the finished trace is within its cap (%zu)", len);
	json = cJSON_Parse(text);
	ok(json != NULL, "and still parses");
	cJSON_Delete(json);
	free(text);
	observe_trace_free(trace);
	observe_trace_free(NULL);
	return done_testing();
}
