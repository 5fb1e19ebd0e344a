/*
 * t/test-supervisor.c - the scheduler supervisor on a real loop, driving
 * t/scx-standin, a STAND-IN for scx_layered (this kernel has no sched_ext,
 * so the real binary cannot stay attached: t/test-supervisor-real.c drives
 * it to its honest failure).  The stand-in plays sched_ext's part in a
 * fixture sysfs tree, so everything on the supervisor's side is real:
 * uv_spawn through temper-scx-exec, the config written to the state
 * directory, attach seen in sysfs, restart on a sizing change with its gap,
 * no restart inside the band, safe mode, crashes with backoff and the
 * stand-down, SIGKILL after an ignored SIGTERM, the stats socket, the hint
 * table (with root and a bpffs), PR_SET_PDEATHSIG when the agent is killed,
 * SIGTERM on shutdown, and the kernel gate's refusals.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"
#include "tap.h"
#include "supervisor-lib.h"

#define CONFIG_A "[{\"name\":\"tier0\",\"matches\":[[{\"HintEquals\":1}]],\"kind\":{\"Open\":{}}},{\"name\":\"open\",\"matches\":[[]],\"kind\":{\"Open\":{}}}]\n"
#define CONFIG_B "[{\"name\":\"tier0\",\"matches\":[[{\"HintEquals\":1}]],\"kind\":{\"Open\":{\"weight\":200}}},{\"name\":\"open\",\"matches\":[[]],\"kind\":{\"Open\":{}}}]\n"

static char helper[600], standin[600], standin_log[400], stats_path[400];
static char bpffs[] = "/tmp/test-supervisor-bpf.XXXXXX";
static char pin[700];
static int bpffs_mounted;

struct waiter {
	struct supervisor *supervisor;
	enum supervisor_state state;
	int not_pid;
};

static int
in_state(void *arg)
{
	struct waiter *w = arg;

	return supervisor_state(w->supervisor) == w->state &&
	    (w->not_pid == 0 || supervisor_pid(w->supervisor) != w->not_pid);
}

static int
wait_state(struct supervisor *supervisor, uv_loop_t *loop, enum supervisor_state state,
    int not_pid, uint64_t timeout_ms)
{
	struct waiter w = { supervisor, state, not_pid };

	if (test_run_until(loop, in_state, &w, timeout_ms))
		return 1;
	diag("still %s (%s), waited for %s", supervisor_state_name(supervisor_state(supervisor)),
	    supervisor_reason(supervisor), supervisor_state_name(state));
	return 0;
}

static int
has_layers(void *arg)
{
	cJSON *status = supervisor_status_json(arg);
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(status, "layers"));

	cJSON_Delete(status);
	return n > 0;
}

static double
status_number(struct supervisor *supervisor, const char *object, const char *name)
{
	cJSON *status = supervisor_status_json(supervisor);
	cJSON *item = cJSON_GetObjectItem(object != NULL ?
	    cJSON_GetObjectItem(status, object) : status, name);
	double value = cJSON_IsNumber(item) ? item->valuedouble : -1;

	cJSON_Delete(status);
	return value;
}

static int
log_count(const char *word, int pid)
{
	char *text = test_read(standin_log), needle[64];
	int count = 0;

	snprintf(needle, sizeof needle, "%s %d", word, pid);
	for (char *p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		if ((p == text || p[-1] == '\n') &&
		    (p[strlen(needle)] == '\n' || p[strlen(needle)] == ' '))
			count++;
	return count;
}

static int
process_gone(int pid)
{
	char path[64], *stat;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	stat = test_read(path);
	/* A zombie nobody reaped yet is dead too. */
	return stat == NULL || strstr(stat, ") Z ") != NULL;
}

static struct supervisor_options
options_for(enum conf_enforcement enforcement)
{
	struct supervisor_options options;

	memset(&options, 0, sizeof options);
	options.enforcement = enforcement;
	options.scheduler_bin = standin;
	options.exec_helper = helper;
	options.state_dir = test_state;
	options.sysfs_root = test_sysfs;
	options.kernel_release = "6.12.0-test";
	options.hint_pin_path = pin[0] != '\0' ? pin : NULL;
	options.stats_path = stats_path;
	options.crash_limit = 3;
	options.crash_window_ms = 60000;
	options.backoff_initial_ms = 40;
	options.backoff_max_ms = 200;
	options.stop_timeout_ms = 300;
	options.attach_timeout_ms = 3000;
	options.stats_interval_ms = 50;
	options.random_seed = 42;
	return options;
}

static void
stopped(void *arg)
{
	*(int *)arg = 1;
}

static int
flag_set(void *arg)
{
	return *(int *)arg;
}

static void
stop_and_free(struct supervisor *supervisor, uv_loop_t *loop)
{
	int done = 0;

	supervisor_stop(supervisor, stopped, &done);
	ok(test_run_until(loop, flag_set, &done, 3000), "the supervisor stops and closes its handles");
	supervisor_free(supervisor);
}

static void
gate_refusals(uv_loop_t *loop, struct metrics *metrics)
{
	struct supervisor_options options = options_for(CONF_ENFORCEMENT_SCX);
	struct supervisor *supervisor;
	char *cause = NULL, path[4096];

	/* No sched_ext in the fixture for a moment. */
	snprintf(path, sizeof path, "mv %s/kernel/sched_ext %s/kernel/sched_ext.away",
	    test_sysfs, test_sysfs);
	if (system(path) != 0)
		abort();

	supervisor = supervisor_new(loop, metrics, &options, &cause);
	ok(supervisor == NULL && errno == ENOTSUP, "--enforcement=scx with a refusing gate: no supervisor");
	ok(cause != NULL && strstr(cause, "--enforcement=scx, but the kernel gate refuses "
	    "scx_layered: the kernel has no sched_ext") != NULL, "the cause says why: %s",
	    cause != NULL ? cause : "(none)");
	free(cause);
	cause = NULL;

	options.enforcement = CONF_ENFORCEMENT_AUTO;
	supervisor = supervisor_new(loop, metrics, &options, &cause);
	ok(supervisor != NULL, "--enforcement=auto with a refusing gate: a supervisor");
	is_str(supervisor_state_name(supervisor_state(supervisor)), "observe", "in observe state");
	ok(strstr(supervisor_reason(supervisor), "no sched_ext") != NULL &&
	    strstr(supervisor_reason(supervisor), "nothing is enforced") != NULL,
	    "saying why: %s", supervisor_reason(supervisor));
	{
		struct test_plan plan;
		enum tier tiers[] = { TIER_CRITICAL };
		struct generation generation = test_generation(1, CONFIG_A);

		test_plan_make(&plan, tiers, 1);
		ok(supervisor_apply(supervisor, &generation, &plan.plan, true) == 0 &&
		    supervisor_pid(supervisor) == 0 && supervisor_state(supervisor) == SUPERVISOR_OBSERVE,
		    "a generation in observe state starts nothing");
	}
	{
		cJSON *status = supervisor_status_json(supervisor);
		char *text = cJSON_PrintUnformatted(status);

		ok(text != NULL && strstr(text, "\"state\":\"observe\"") != NULL &&
		    strstr(text, "\"state_code\":1") != NULL &&
		    strstr(text, "\"failures\":[\"no-sched-ext\"]") != NULL,
		    "/api/v1/status material says observe and why");
		free(text);
		cJSON_Delete(status);
	}
	/* sched_ext appears (on demand recheck): the supervisor goes on. */
	snprintf(path, sizeof path, "mv %s/kernel/sched_ext.away %s/kernel/sched_ext",
	    test_sysfs, test_sysfs);
	if (system(path) != 0)
		abort();
	supervisor_recheck(supervisor);
	ok(supervisor_state(supervisor) == SUPERVISOR_STARTING ||
	    supervisor_state(supervisor) == SUPERVISOR_ENFORCING,
	    "a recheck that passes starts the pending generation (%s)",
	    supervisor_state_name(supervisor_state(supervisor)));
	ok(wait_state(supervisor, loop, SUPERVISOR_ENFORCING, 0, 3000), "and it attaches");
	stop_and_free(supervisor, loop);

	options.enforcement = CONF_ENFORCEMENT_CGROUP;
	supervisor = supervisor_new(loop, metrics, &options, &cause);
	is_str(supervisor_state_name(supervisor_state(supervisor)), "off",
	    "--enforcement=cgroup: the supervisor is off");
	stop_and_free(supervisor, loop);
}

/* The pure parts: stats replies and the plan's hints. */
static void
pure_parts(void)
{
	struct supervisor_layer_stats *layers;
	struct test_plan plan;
	enum tier tiers[] = { TIER_LOW, TIER_CRITICAL };
	unsigned hints[8];
	size_t count;

	ok(supervisor_parse_stats("{\"errno\":0,\"args\":{\"resp\":{\"layers\":{"
	    "\"open\":{\"util\":12.5,\"tasks\":40,\"cur_nr_cpus\":3,\"min_nr_cpus\":0,"
	    "\"max_nr_cpus\":8},\"critical\":{\"util\":-1,\"tasks\":2}}}}}",
	    &layers, &count) == 0 && count == 2, "a stats reply parses into two layers");
	if (count == 2) {
		is_str(layers[0].name, "critical", "sorted by name");
		ok(layers[0].util == 0 && layers[0].tasks == 2, "a negative figure reads as 0");
		ok(layers[1].util == 12.5 && layers[1].tasks == 40 && layers[1].cpus == 3 &&
		    layers[1].max_cpus == 8, "figures: util, tasks, cpus");
	}
	supervisor_layer_stats_free(layers, count);
	ok(supervisor_parse_stats("{\"errno\":22,\"args\":{\"resp\":\"bad target\"}}",
	    &layers, &count) == -EINVAL && layers == NULL, "an error reply is refused");
	ok(supervisor_parse_stats("not json", &layers, &count) == -EINVAL, "garbage is refused");
	ok(supervisor_parse_stats("{\"errno\":0,\"args\":{\"resp\":{}}}", &layers, &count) == -EINVAL,
	    "a reply without layers is refused");
	test_plan_make(&plan, tiers, 2);
	count = supervisor_plan_hints(&plan.plan, hints, 8);
	ok(count == 2 && hints[0] == planner_tier_hint(TIER_LOW) &&
	    hints[1] == planner_tier_hint(TIER_CRITICAL), "the plan's HintEquals values");
	is_int(supervisor_plan_hints(NULL, hints, 8), 0, "no plan, no hints");
}

/* PR_SET_PDEATHSIG: an agent process killed outright takes scx_layered along. */
static void
pdeathsig(void)
{
	int pipes[2], scheduler = 0, status;
	pid_t agent;

	if (pipe(pipes) != 0)
		abort();
	if ((agent = fork()) == 0) {
		struct supervisor_options options = options_for(CONF_ENFORCEMENT_AUTO);
		struct test_plan plan;
		enum tier tiers[] = { TIER_CRITICAL };
		struct generation generation = test_generation(1, CONFIG_A);
		struct supervisor *supervisor;
		uv_loop_t loop;
		char *cause = NULL;
		int pid;

		uv_loop_init(&loop);
		options.hint_pin_path = NULL;
		supervisor = supervisor_new(&loop, NULL, &options, &cause);
		test_plan_make(&plan, tiers, 1);
		supervisor_apply(supervisor, &generation, &plan.plan, true);
		{
			struct waiter w = { supervisor, SUPERVISOR_ENFORCING, 0 };

			test_run_until(&loop, in_state, &w, 3000);
		}
		pid = supervisor_pid(supervisor);
		if (write(pipes[1], &pid, sizeof pid) != sizeof pid)
			_exit(1);
		for (;;)
			uv_run(&loop, UV_RUN_ONCE);
	}
	close(pipes[1]);
	if (read(pipes[0], &scheduler, sizeof scheduler) != sizeof scheduler)
		scheduler = 0;
	close(pipes[0]);
	ok(scheduler > 0 && !process_gone(scheduler),
	    "an agent process runs the stand-in (pid %d) through temper-scx-exec", scheduler);
	kill(agent, SIGKILL);
	waitpid(agent, &status, 0);
	for (int i = 0; i < 400 && scheduler > 0 && !process_gone(scheduler); i++)
		usleep(5000);
	ok(scheduler > 0 && process_gone(scheduler),
	    "SIGKILL to the agent kills the scheduler too (PR_SET_PDEATHSIG)");
	is_int(log_count("stop", scheduler), 0,
	    "by SIGKILL: it never ran its SIGTERM path (the kernel would detach it)");
}

static void
mount_bpffs(void)
{
	struct statfs st;

	if (geteuid() != 0) {
		diag("not root: the hint table is left out");
		return;
	}
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == 0xcafe4a11) {
		snprintf(pin, sizeof pin, "/sys/fs/bpf/temper-test-supervisor-%d/task_hint_map",
		    (int)getpid());
		return;
	}
	if (mkdtemp(bpffs) == NULL || mount("bpf", bpffs, "bpf", 0, NULL) != 0) {
		diag("no bpffs: the hint table is left out");
		return;
	}
	bpffs_mounted = 1;
	snprintf(pin, sizeof pin, "%s/temper/task_hint_map", bpffs);
}

int
main(void)
{
	const char *top = getenv("TOP_BUILDDIR");
	struct metrics *metrics = metrics_new();
	struct supervisor_options options;
	struct supervisor *supervisor;
	struct test_plan plan_a, plan_b;
	enum tier tiers_a[] = { TIER_CRITICAL, TIER_LOW };
	enum tier tiers_b[] = { TIER_CRITICAL, TIER_NORMAL, TIER_LOW };
	struct generation generation;
	struct buf rendered = BUF_INIT;
	uv_loop_t loop;
	char *cause = NULL, *text, expected[4096];
	int pid, old_pid;
	double gap;

	log_init("test-supervisor", getenv("TEST_VERBOSE") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	log_route_libbpf();
	if (top == NULL)
		top = ".";
	snprintf(helper, sizeof helper, "%s/src/temper-scx-exec", top);
	snprintf(standin, sizeof standin, "%s/t/scx-standin", top);
	if (access(helper, X_OK) != 0 || access(standin, X_OK) != 0)
		skip_all("%s or %s is not built", helper, standin);
	signal(SIGPIPE, SIG_IGN);
	test_fixture();
	snprintf(standin_log, sizeof standin_log, "%s/standin.log", test_root);
	snprintf(stats_path, sizeof stats_path, "%s/stats", test_root);
	setenv("STANDIN_SYSFS", test_sysfs, 1);
	setenv("STANDIN_LOG", standin_log, 1);
	setenv("STANDIN_STATS", stats_path, 1);
	mount_bpffs();
	uv_loop_init(&loop);

	pure_parts();
	gate_refusals(&loop, metrics);

	/* Start. */
	options = options_for(CONF_ENFORCEMENT_SCX);
	supervisor = supervisor_new(&loop, metrics, &options, &cause);
	if (!ok(supervisor != NULL, "--enforcement=scx with a passing gate%s",
	    pin[0] ? " and the hint writer loaded" : "")) {
		diag("%s", cause);
		return done_testing();
	}
	is_str(supervisor_state_name(supervisor_state(supervisor)), "waiting", "waiting for a generation");
	test_plan_make(&plan_a, tiers_a, 2);
	test_plan_make(&plan_b, tiers_b, 3);
	generation = test_generation(1, CONFIG_A);
	ok(supervisor_apply(supervisor, &generation, &plan_a.plan, true) == 0, "generation 1 applied");
	snprintf(expected, sizeof expected, "%s/scx_layered.json", test_state);
	is_str(test_read(expected), CONFIG_A, "its JSON is in the state directory");
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, 0, 3000), "the scheduler attaches");
	pid = supervisor_pid(supervisor);
	if (pin[0])
		snprintf(expected, sizeof expected, "start %d f:%s/scx_layered.json --task-hint-map %s\n",
		    pid, test_state, pin);
	else
		snprintf(expected, sizeof expected, "start %d f:%s/scx_layered.json\n", pid, test_state);
	ok((text = test_read(standin_log)) != NULL && strstr(text, expected) != NULL,
	    "it ran with f:STATE_DIR/scx_layered.json%s", pin[0] ? " and --task-hint-map PIN" : "");
	snprintf(expected, sizeof expected, "%s/kernel/sched_ext/state", test_sysfs);
	is_str(test_read(expected), "enabled\n", "the fixture's sched_ext state reads enabled");
	ok(status_number(supervisor, "scheduler", "last_attach_seconds") >= 0,
	    "spawn to attached: %.3f s", status_number(supervisor, "scheduler", "last_attach_seconds"));
	ok(test_run_until(&loop, has_layers, supervisor, 3000),
	    "per-layer statistics arrive from the stats socket");
	{
		cJSON *status = supervisor_status_json(supervisor);
		cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItem(status, "layers"), 0);

		is_str(cJSON_GetStringValue(cJSON_GetObjectItem(layer, "name")), "open",
		    "layers by name (open first)");
		is_int((int)cJSON_GetNumberValue(cJSON_GetObjectItem(layer, "tasks")), 3,
		    "with their task counts");
		cJSON_Delete(status);
	}

	/* Hints: only tiers the running plan has a layer for. */
	if (pin[0]) {
		uint64_t ids[] = { 101, 102, 103 };
		enum tier tiers[] = { TIER_CRITICAL, TIER_NORMAL, TIER_LOW };

		ok(supervisor_set_cgroup_tiers(supervisor, ids, tiers, 3) == 0, "three pod cgroups listed");
		is_int((int)status_number(supervisor, "hints", "cgroups"), 2,
		    "two reach the table: normal has no layer in this plan");
		is_int((int)status_number(supervisor, "hints", "updates"), 2, "two updates counted");
		ok(supervisor_set_cgroup_tiers(supervisor, ids, tiers, 3) == 0 &&
		    status_number(supervisor, "hints", "updates") == 2,
		    "the same list again changes nothing");
	}

	/* Inside the band: no restart. */
	generation = test_generation(2, CONFIG_B);
	ok(supervisor_apply(supervisor, &generation, &plan_a.plan, false) == 0,
	    "generation 2 within the hysteresis band");
	snprintf(expected, sizeof expected, "%s/scx_layered.json", test_state);
	is_str(test_read(expected), CONFIG_B, "its JSON replaced the file");
	uv_run(&loop, UV_RUN_NOWAIT);
	is_int(supervisor_pid(supervisor), pid, "the scheduler was not restarted");
	is_str(supervisor_state_name(supervisor_state(supervisor)), "enforcing", "still enforcing");

	/* A sizing change: restart, with its gap. */
	generation = test_generation(3, CONFIG_A);
	ok(supervisor_apply(supervisor, &generation, &plan_b.plan, true) == 0,
	    "generation 3 changes sizing");
	is_str(supervisor_state_name(supervisor_state(supervisor)), "restarting", "restarting");
	if (pin[0])
		is_int((int)status_number(supervisor, "hints", "cgroups"), 3,
		    "the new plan's normal layer lets the third cgroup into the table first");
	old_pid = pid;
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, old_pid, 3000),
	    "a new scheduler attaches");
	pid = supervisor_pid(supervisor);
	is_int(log_count("stop", old_pid), 1, "the old one got SIGTERM and exited cleanly");
	gap = status_number(supervisor, "scheduler", "last_gap_seconds");
	ok(gap > 0 && gap < 3, "the restart gap was measured: %.3f s (stand-in)", gap);
	is_int((int)status_number(supervisor, "scheduler", "restarts"), 1, "one restart counted");

	/* The kernel disables the old scheduler asynchronously: an old one
	 * still shown enabled is not the new one attached (enable_seq). */
	setenv("STANDIN_LEAVE_ENABLED", "1", 1);
	generation = test_generation(3, CONFIG_B);
	supervisor_apply(supervisor, &generation, &plan_b.plan, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, pid, 3000),
	    "restarted into a scheduler that will leave sched_ext enabled when it goes");
	pid = supervisor_pid(supervisor);
	setenv("STANDIN_ATTACH_MS", "300", 1);
	generation = test_generation(3, CONFIG_A);
	supervisor_apply(supervisor, &generation, &plan_b.plan, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, pid, 3000),
	    "restarted again: the new one attaches 300 ms after its start");
	gap = status_number(supervisor, "scheduler", "last_gap_seconds");
	ok(gap >= 0.3, "the gap (%.3f s) counts those 300 ms although the old "
	    "one left the state \"enabled\" behind", gap);
	unsetenv("STANDIN_LEAVE_ENABLED");
	unsetenv("STANDIN_ATTACH_MS");
	pid = supervisor_pid(supervisor);
	generation = test_generation(3, CONFIG_B);
	supervisor_apply(supervisor, &generation, &plan_b.plan, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, pid, 3000),
	    "and once more, into a stand-in that disables sched_ext when it goes");
	pid = supervisor_pid(supervisor);

	/* Safe mode. */
	supervisor_safe_mode(supervisor, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_SAFE_MODE, 0, 3000), "safe mode stands it down");
	ok(log_count("stop", pid) == 1 && process_gone(pid), "by SIGTERM (pid %d gone)", pid);
	snprintf(expected, sizeof expected, "%s/kernel/sched_ext/state", test_sysfs);
	is_str(test_read(expected), "disabled\n", "sched_ext is disabled: the stock scheduler runs");
	generation = test_generation(4, CONFIG_B);
	supervisor_apply(supervisor, &generation, &plan_b.plan, true);
	uv_run(&loop, UV_RUN_NOWAIT);
	is_int(supervisor_pid(supervisor), 0, "a generation during safe mode starts nothing");
	supervisor_safe_mode(supervisor, false);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, 0, 3000), "safe mode off: enforcing again");
	snprintf(expected, sizeof expected, "%s/scx_layered.json", test_state);
	is_str(test_read(expected), CONFIG_B, "with the generation that came meanwhile");

	/* A crash: backoff, then back. */
	pid = supervisor_pid(supervisor);
	kill(pid, SIGKILL);
	ok(wait_state(supervisor, &loop, SUPERVISOR_BACKOFF, 0, 3000), "killed under it: backoff");
	ok(strstr(supervisor_reason(supervisor), "killed by signal 9") != NULL,
	    "the reason: %s", supervisor_reason(supervisor));
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, pid, 3000),
	    "restarted after the backoff");
	is_int((int)status_number(supervisor, "scheduler", "crashes"), 1, "one crash counted");

	/* SIGTERM ignored: SIGKILL after stop_timeout_ms. */
	setenv("STANDIN_IGNORE_TERM", "1", 1);
	supervisor_safe_mode(supervisor, true);
	supervisor_safe_mode(supervisor, false);
	pid = supervisor_pid(supervisor);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, pid, 3000),
	    "a scheduler that ignores SIGTERM runs");
	pid = supervisor_pid(supervisor);
	supervisor_safe_mode(supervisor, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_SAFE_MODE, 0, 3000) && process_gone(pid),
	    "safe mode still stands it down (SIGKILL after 300 ms)");
	is_int(log_count("stop", pid), 0, "it never ran its SIGTERM path");
	unsetenv("STANDIN_IGNORE_TERM");
	snprintf(expected, sizeof expected, "%s/kernel/sched_ext/state", test_sysfs);
	test_put(expected, "disabled\n");	/* what the kernel does on its own */

	/* Crash loop: backoff, then the stand-down. */
	setenv("STANDIN_EXIT_AFTER_MS", "30", 1);
	supervisor_safe_mode(supervisor, false);
	ok(wait_state(supervisor, &loop, SUPERVISOR_STOOD_DOWN, 0, 5000),
	    "a scheduler that keeps crashing: stood down");
	ok(strstr(supervisor_reason(supervisor), "failed 3 times within 60 s") != NULL &&
	    strstr(supervisor_reason(supervisor), "runnable task stall (the stand-in's crash)") != NULL,
	    "saying why: %s", supervisor_reason(supervisor));
	/* The SIGKILL above counts in the window: it and two more make three. */
	is_int((int)status_number(supervisor, "scheduler", "crashes"), 3,
	    "three crashes in all (the earlier kill is still in the window)");
	is_int(supervisor_pid(supervisor), 0, "nothing runs");
	unsetenv("STANDIN_EXIT_AFTER_MS");
	generation = test_generation(5, CONFIG_A);
	supervisor_apply(supervisor, &generation, &plan_b.plan, false);
	is_str(supervisor_state_name(supervisor_state(supervisor)), "stood-down",
	    "a generation inside the band does not lift it");
	generation = test_generation(6, CONFIG_B);
	supervisor_apply(supervisor, &generation, &plan_a.plan, true);
	ok(wait_state(supervisor, &loop, SUPERVISOR_ENFORCING, 0, 3000),
	    "a sizing change tries again, and it attaches");

	/* Metrics. */
	metrics_render(metrics, &rendered);
	ok(rendered.data != NULL &&
	    strstr(rendered.data, "temper_enforcement_state{state=\"enforcing\"} 1") != NULL &&
	    strstr(rendered.data, "temper_enforcement_state{state=\"observe\"} 0") != NULL,
	    "temper_enforcement_state{state=\"enforcing\"} is 1, the others 0");
	ok(strstr(rendered.data, "temper_scheduler_restarts_total 4\n") != NULL &&
	    strstr(rendered.data, "temper_scheduler_crashes_total 3\n") != NULL &&
	    strstr(rendered.data, "temper_scheduler_gap_seconds_count 4\n") != NULL,
	    "restarts, crashes and the gap histogram");
	if (pin[0]) {
		char line[128];

		/* 2 listed, +1 when normal got a layer, -1 when it lost it. */
		snprintf(line, sizeof line, "temper_hint_updates_total %d\n",
		    (int)status_number(supervisor, "hints", "updates"));
		ok(strstr(rendered.data, line) != NULL &&
		    status_number(supervisor, "hints", "updates") == 4, "hint updates: %s", line);
	}
	buf_free(&rendered);

	/* Shutdown: SIGTERM. */
	pid = supervisor_pid(supervisor);
	stop_and_free(supervisor, &loop);
	is_int(log_count("stop", pid), 1, "shutdown stopped the scheduler with SIGTERM");

	pdeathsig();

	is_int(uv_loop_close(&loop), 0, "every handle closed");
	metrics_free(metrics);
	free(cause);
	if (pin[0])
		unlink(pin);
	if (bpffs_mounted) {
		umount(bpffs);
		rmdir(bpffs);
	}
	test_fixture_remove();
	return done_testing();
}
