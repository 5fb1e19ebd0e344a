/*
 * t/test-supervisor-real.c - the supervisor driving the REAL scx_layered
 * (t/scx/build) on this kernel, which has no sched_ext.  The kernel gate
 * is passed with a fixture sysfs tree (the only thing faked), so the real
 * binary is spawned through temper-scx-exec with a real generated config;
 * it parses the config and then fails at the sched_ext boundary, exit
 * status 1.  What this shows honestly is the supervisor's side: exit-code
 * handling, the reason taken from the binary's own words, backoff, and the
 * stand-down after crash_limit failures.  Attaching is not shown here
 * (t/vm does that in a guest).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "supervisor.h"
#include "tap.h"
#include "supervisor-lib.h"

/* What scx_layered 1.1.x says when the kernel lacks sched_ext. */
#define NO_SCHED_EXT "sched_ext_ops.dump() missing, kernel too old?"

static const char config[] =
    "[{\"name\":\"critical\",\"matches\":[[{\"HintEquals\":1}]],"
    "\"kind\":{\"Confined\":{\"util_range\":[0.5,0.8],\"cpus_range\":[1,1],"
    "\"protected\":true,\"slice_us\":5000,\"preempt\":true,\"exclusive\":true,"
    "\"weight\":1000}}},"
    "{\"name\":\"open\",\"matches\":[[]],\"kind\":{\"Open\":{\"slice_us\":20000}}}]\n";

struct waiter {
	struct supervisor *supervisor;
	enum supervisor_state state;
};

static int
in_state(void *arg)
{
	struct waiter *w = arg;

	return supervisor_state(w->supervisor) == w->state;
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

/* The cached scx_layered, or NULL with the reason in why. */
static char *
find_scx_layered(char *why, size_t size)
{
	const char *top = getenv("TOP_SRCDIR");
	char command[4096], line[4096];
	FILE *p;

	if (getenv("SCX_LAYERED_BIN") != NULL)
		return strdup(getenv("SCX_LAYERED_BIN"));
	snprintf(command, sizeof command,
	    "bash -c '. \"%s/t/scx/versions.sh\" && if \"%s/t/scx/available\"; then "
	    "echo \"OK $SCX_LAYERED_BIN\"; fi' 2>&1", top != NULL ? top : ".",
	    top != NULL ? top : ".");
	if ((p = popen(command, "r")) == NULL || fgets(line, sizeof line, p) == NULL) {
		snprintf(why, size, "t/scx/available did not run");
		if (p != NULL)
			pclose(p);
		return NULL;
	}
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "OK ", 3) == 0)
		return strdup(line + 3);
	snprintf(why, size, "%s", line);
	return NULL;
}

int
main(void)
{
	const char *top = getenv("TOP_BUILDDIR");
	struct supervisor_options options;
	struct supervisor *supervisor;
	struct test_plan plan;
	enum tier tiers[] = { TIER_CRITICAL };
	struct generation generation;
	struct waiter w;
	char helper[600], why[4096], *binary, *cause = NULL;
	uv_loop_t loop;
	cJSON *status;
	int done = 0;
	unsigned spawned = 0, last_pid = 0;

	log_init("test-supervisor-real", getenv("TEST_VERBOSE") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	if (geteuid() != 0)
		skip_all("scx_layered reads BTF and loads BPF only as root");
	if ((binary = find_scx_layered(why, sizeof why)) == NULL)
		skip_all("%s", why);
	snprintf(helper, sizeof helper, "%s/src/temper-scx-exec", top != NULL ? top : ".");
	if (access(helper, X_OK) != 0)
		skip_all("%s is not built", helper);
	if (access("/sys/kernel/sched_ext", F_OK) == 0)
		skip_all("this kernel has sched_ext: the real binary could attach and "
		    "take over the machine's scheduling; not in a unit test");
	test_fixture();
	uv_loop_init(&loop);

	memset(&options, 0, sizeof options);
	options.enforcement = CONF_ENFORCEMENT_SCX;
	options.scheduler_bin = binary;
	options.exec_helper = helper;
	options.state_dir = test_state;
	options.sysfs_root = test_sysfs;	/* the gate's only fixture */
	options.kernel_release = "6.12.0-test";
	options.crash_limit = 3;
	options.crash_window_ms = 60000;
	options.backoff_initial_ms = 50;
	options.backoff_max_ms = 200;
	options.attach_timeout_ms = 20000;
	options.random_seed = 7;
	supervisor = supervisor_new(&loop, NULL, &options, &cause);
	if (!ok(supervisor != NULL, "a supervisor for %s", binary)) {
		diag("%s", cause);
		return done_testing();
	}
	test_plan_make(&plan, tiers, 1);
	generation = test_generation(1, config);
	ok(supervisor_apply(supervisor, &generation, &plan.plan, true) == 0 &&
	    supervisor_pid(supervisor) > 0, "the real scx_layered is spawned");

	/* Watch every attempt until it stands down. */
	w = (struct waiter){ supervisor, SUPERVISOR_STOOD_DOWN };
	while (!in_state(&w) && spawned < 10) {
		struct waiter starting = { supervisor, SUPERVISOR_STARTING };

		if (supervisor_pid(supervisor) > 0 && (unsigned)supervisor_pid(supervisor) != last_pid) {
			last_pid = (unsigned)supervisor_pid(supervisor);
			spawned++;
		}
		test_run_until(&loop, in_state, &w, 50);
		if (!in_state(&w))
			test_run_until(&loop, in_state, &starting, 50);
	}
	ok(in_state(&w), "after its failures the supervisor stood down (%s)",
	    supervisor_state_name(supervisor_state(supervisor)));
	is_int(spawned, 3, "it was spawned exactly crash_limit (3) times");
	ok(strstr(supervisor_reason(supervisor), "failed 3 times") != NULL &&
	    strstr(supervisor_reason(supervisor), "exit status 1") != NULL,
	    "exit status 1, three times: %s", supervisor_reason(supervisor));
	ok(strstr(supervisor_reason(supervisor), NO_SCHED_EXT) != NULL,
	    "the reason carries scx_layered's own words: \"%s\" (it parsed the config "
	    "and failed only at the sched_ext boundary)", NO_SCHED_EXT);
	status = supervisor_status_json(supervisor);
	is_int((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(status, "scheduler"), "crashes")), 3, "three crashes counted");
	cJSON_Delete(status);
	test_run_until(&loop, flag_set, &done, 400);
	is_int(supervisor_pid(supervisor), 0, "standing down: nothing is respawned");

	/* A config the parser rejects: a different failure, same handling. */
	generation = test_generation(2, "[{\"name\":\"x\",\"matches\":[[]],\"kind\":{\"Confned\":{}}}]");
	supervisor_apply(supervisor, &generation, &plan.plan, true);
	w.state = SUPERVISOR_STOOD_DOWN;
	for (int i = 0; i < 3; i++) {
		struct waiter backing = { supervisor, SUPERVISOR_BACKOFF };

		test_run_until(&loop, in_state, i < 2 ? &backing : &w, 20000);
		if (i < 2)
			test_run_until(&loop, in_state, &(struct waiter){ supervisor, SUPERVISOR_STARTING }, 2000);
	}
	ok(in_state(&w) && strstr(supervisor_reason(supervisor), "unknown variant") != NULL,
	    "a rejected config is reported in the parser's words: %s", supervisor_reason(supervisor));

	supervisor_stop(supervisor, stopped, &done);
	ok(test_run_until(&loop, flag_set, &done, 3000), "the supervisor stops");
	supervisor_free(supervisor);
	is_int(uv_loop_close(&loop), 0, "every handle closed");
	free(binary);
	free(cause);
	test_fixture_remove();
	return done_testing();
}
