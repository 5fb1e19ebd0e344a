/*
 * t/test-observe.c - the observation subsystem without BPF (no root
 * needed): options refused with a reason, the groups table's rules, the
 * /observe document's shape, the plan handed to the linter, metrics, and a
 * start/tick/stop cycle after which the loop closes cleanly.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "observe.h"
#include "planner-scenario.h"
#include "tap.h"

static int stopped;

static void
test_stopped(void *arg)
{
	(void)arg;
	stopped++;
}

static void
test_tick_done(uv_timer_t *timer)
{
	uv_stop(timer->loop);
}

static const char *
json_string(const cJSON *json, const char *a, const char *b)
{
	const cJSON *item = cJSON_GetObjectItem(json, a);

	if (b != NULL)
		item = cJSON_GetObjectItem(item, b);
	return cJSON_GetStringValue(item);
}

int
main(void)
{
	struct observe_options options;
	struct observe_group rows[3];
	struct observe *observe;
	struct metrics *metrics;
	struct scenario *scenario;
	struct plan *plan;
	struct buf text = BUF_INIT;
	uv_loop_t loop;
	uv_timer_t wait;
	char *cause = NULL;
	size_t skipped = 0;
	cJSON *json;

	log_init("test-observe", LOG_LEVEL_ERROR);
	uv_loop_init(&loop);
	metrics = metrics_new();

	observe_options_default(&options);
	options.ring_kib = 100;
	observe = observe_new(&loop, metrics, &options, &cause);
	ok(observe == NULL && errno == EINVAL, "a ring size that is no power of two is refused");
	ok(cause != NULL && strstr(cause, "power of two") != NULL, "with the reason (%s)",
	    cause ? cause : "");
	free(cause);
	cause = NULL;
	observe_options_default(&options);
	options.psi_stall_us = options.psi_window_us + 1;
	ok(observe_new(&loop, metrics, &options, NULL) == NULL && errno == EINVAL,
	    "a PSI stall longer than its window is refused");

	observe_options_default(&options);
	options.bpf = false;
	options.interval_ms = 100;
	options.max_groups = 2;
	options.cgroup_root = "/nonexistent-cgroup-root";
	options.proc_root = "/nonexistent-proc";
	scenario = scenario_new(3, topology_synthetic(1, 1, 2, 2));
	options.topology = scenario->topology;
	observe = observe_new(&loop, metrics, &options, &cause);
	if (!ok(observe != NULL, "a BPF-less observer is made (%s)", cause ? cause : "ok"))
		return done_testing();

	memset(rows, 0, sizeof rows);
	rows[0] = (struct observe_group){ 100, "uid-a", "ns", "a", TIER_CRITICAL, "a" };
	rows[1] = (struct observe_group){ 200, "uid-b", "ns", "b", TIER_LOW, NULL };
	rows[2] = (struct observe_group){ 300, "uid-c", "ns", "c", TIER_HIGH, NULL };
	is_int(observe_set_groups(observe, rows, 3), -ENOSPC, "more groups than max_groups: -ENOSPC");
	rows[1].cgroup_id = 100;
	is_int(observe_set_groups(observe, rows, 2), -EINVAL, "a cgroup id twice: -EINVAL");
	rows[1].cgroup_id = 0;
	is_int(observe_set_groups(observe, rows, 2), -EINVAL, "cgroup id 0: -EINVAL");
	rows[1].cgroup_id = 200;
	is_int(observe_set_groups(observe, rows, 2), 0, "two groups are taken");
	is_int(observe_set_groups(observe, rows, 2), 0, "and the same table again");

	json = observe_report(observe);
	ok(json != NULL, "the /observe document builds");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(json, "pods")), 2, "with two pods");
	is_str(json_string(cJSON_GetArrayItem(cJSON_GetObjectItem(json, "pods"), 0), "tier", NULL),
	    "critical", "the first pod's tier");
	is_str(json_string(json, "bpf", "state"), "off", "BPF is off, and says so");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(json, "tiers")), 6,
	    "five tiers and the unattributed");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(json, "cpus")),
	    cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "machine"),
	    "possible_cpus")), "one entry per possible CPU");
	ok(strstr(json_string(json, "linter", "note"), "no plan yet") != NULL,
	    "the linter waits for a plan");
	cJSON_Delete(json);

	/* Pods from the planner: a cgroup that does not exist is left out. */
	scenario_guaranteed(scenario, "temper-critical", 1000000, 1000);
	is_int(observe_set_pods(observe, scenario->inputs, scenario->count, &skipped), 0,
	    "set_pods takes the planner's pods");
	is_int(skipped, 1, "and leaves out the one whose cgroup is missing");

	plan = scenario_plan(scenario, &cause);
	observe_set_plan(observe, plan);
	json = observe_report(observe);
	ok(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "linter"),
	    "layout")) == (int)plan->layer_count, "the plan's layout is shown, one entry per layer");
	ok(strstr(json_string(json, "linter", "note"), "sched_ext is not active") != NULL,
	    "without sched_ext the linter checks the plan it would enforce");
	cJSON_Delete(json);
	observe_set_enforcing(observe, true);
	json = observe_report(observe);
	is_str(json_string(json, "linter", "checks"), "enforced plan", "with sched_ext it says so");
	cJSON_Delete(json);

	/* A few ticks on the loop, then a clean stop. */
	is_int(observe_start(observe), 0, "the observer starts");
	uv_timer_init(&loop, &wait);
	uv_timer_start(&wait, test_tick_done, 350, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	json = observe_report(observe);
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "window"),
	    "ticks")) >= 2, "the timer ticked");
	is_str(json_string(cJSON_GetObjectItem(json, "psi"), "node", "mode"), "periodic",
	    "no pressure file: periodic mode");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "linter"),
	    "runs")) >= 2, "the linter ran each tick");
	cJSON_Delete(json);
	ok(metrics_render(metrics, &text) == 0 &&
	    strstr(text.data, "temper_runqueue_latency_seconds_bucket{tier=\"critical\",le=\"1.024e-06\"}") &&
	    strstr(text.data, "temper_linter_runs_total"),
	    "the metrics are registered and render");
	buf_free(&text);

	observe_stop(observe, test_stopped, NULL);
	uv_close((uv_handle_t *)&wait, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(stopped, 1, "stop's callback ran once every handle closed");
	is_int(uv_loop_close(&loop), 0, "the loop closes: no handle left behind");
	observe_free(observe);
	observe_free(NULL);
	planner_free(plan);
	scenario_free(scenario);
	metrics_free(metrics);
	return done_testing();
}
