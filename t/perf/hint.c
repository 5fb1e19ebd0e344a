/*
 * t/perf/hint.c - zero-gap membership beside the restart it replaces.
 *
 * A pod event reaching the task-hint map, three ways, each timed until the
 * hint reads back through a pidfd lookup on the pinned map:
 *   table  - the pod's cgroup listed (hint_map_set: table update and a
 *            walk of that cgroup's tasks), its 4-thread process already
 *            inside; beside it the full sweep over every task that a
 *            large change (more than 64 cgroups) takes instead;
 *   attach - a process moved into a listed cgroup (cgroup.procs write);
 *   fork   - a process forked inside a listed cgroup.
 * Beside them the restart path a pod event costs without hints: the
 * supervisor restarting t/scx-standin (SIGTERM to the new one attached).
 * The stand-in loads no BPF, so that gap is a floor: the real scx_layered
 * also loads and verifies its BPF program before attaching.  When the real
 * binary is built, its time from spawn to giving up at this kernel's
 * missing sched_ext is printed too (parsing, BTF, topology: still short of
 * a load).
 *
 *     make t/perf/hint t/scx-standin src/temper-scx-exec
 *     sudo TOP_BUILDDIR=$PWD t/perf/hint [RUNS]
 *
 * Prints medians and p90s; never fails on timing.  Needs root, cgroup2
 * and a bpffs (mounted in a temporary directory when /sys/fs/bpf is not).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hint-map.h"
#include "log.h"
#include "supervisor.h"
#include "../supervisor-lib.h"

static char cgroup2[256], base[512];
static char bpffs[] = "/tmp/perf-hint-bpf.XXXXXX";
static int bpffs_mounted;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *label, double *samples, int n, const char *unit, double scale)
{
	qsort(samples, (size_t)n, sizeof *samples, compare_doubles);
	printf("%-54s median %9.1f %s   p90 %9.1f %s   min %9.1f %s   (n=%d)\n", label,
	    samples[n / 2] / scale, unit, samples[n * 9 / 10] / scale, unit,
	    samples[0] / scale, unit, n);
}

static void
write_pid(const char *relative, pid_t pid)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/cgroup.procs", base, relative);
	if ((f = fopen(path, "w")) == NULL || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0) {
		fprintf(stderr, "move %d to %s: %s\n", (int)pid, path, strerror(errno));
		exit(1);
	}
}

static void *
sleeper_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static pid_t
sleeper(int threads)
{
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t t;

		for (int i = 1; i < threads; i++)
			pthread_create(&t, NULL, sleeper_thread, NULL);
		for (;;)
			pause();
	}
	return pid;
}

static uint64_t
id_of(const char *relative)
{
	char path[700];
	uint64_t id = 0;

	snprintf(path, sizeof path, "%s/%s", base, relative);
	if (hint_map_cgroup_id(path, &id) != 0)
		exit(1);
	return id;
}

static int
has_hint(int fd, pid_t pid, uint64_t want)
{
	uint64_t hint;

	return hint_map_lookup(fd, pid, &hint) == 0 && hint == want;
}

static void
cleanup(void)
{
	char command[2048];
	int removed = 0;

	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (wait(NULL) > 0)
		;
	/* Exited tasks leave their cgroup a moment later. */
	snprintf(command, sizeof command,
	    "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", base);
	for (int i = 0; i < 100 && !removed; i++) {
		if (system(command) != 0)
			usleep(10000);
		removed = access(base, F_OK) != 0;
	}
	if (!removed)
		fprintf(stderr, "could not remove %s\n", base);
	if (bpffs_mounted)
		umount(bpffs);
	rmdir(bpffs);
}

struct waiter {
	struct supervisor *supervisor;
	int not_pid;
};

static int
attached_anew(void *arg)
{
	struct waiter *w = arg;

	return supervisor_state(w->supervisor) == SUPERVISOR_ENFORCING &&
	    supervisor_pid(w->supervisor) != w->not_pid;
}

static void
bench_restart(int runs)
{
	const char *top = getenv("TOP_BUILDDIR");
	char helper[600], standin[600];
	struct supervisor_options options;
	struct supervisor *supervisor;
	struct test_plan plan;
	enum tier tiers[] = { TIER_CRITICAL };
	struct generation generation;
	double *gaps = calloc((size_t)runs, sizeof *gaps);
	char *cause = NULL;
	uv_loop_t loop;
	int n = 0;

	snprintf(helper, sizeof helper, "%s/src/temper-scx-exec", top != NULL ? top : ".");
	snprintf(standin, sizeof standin, "%s/t/scx-standin", top != NULL ? top : ".");
	if (access(helper, X_OK) != 0 || access(standin, X_OK) != 0) {
		printf("restart path: skipped (%s or %s not built)\n", helper, standin);
		return;
	}
	test_fixture();
	setenv("STANDIN_SYSFS", test_sysfs, 1);
	uv_loop_init(&loop);
	memset(&options, 0, sizeof options);
	options.enforcement = CONF_ENFORCEMENT_SCX;
	options.scheduler_bin = standin;
	options.exec_helper = helper;
	options.state_dir = test_state;
	options.sysfs_root = test_sysfs;
	options.kernel_release = "6.12.0-bench";
	options.poll_ms = 1;
	supervisor = supervisor_new(&loop, NULL, &options, &cause);
	if (supervisor == NULL) {
		printf("restart path: %s\n", cause);
		return;
	}
	test_plan_make(&plan, tiers, 1);
	for (int i = 0; i <= runs; i++) {
		struct waiter w = { supervisor, supervisor_pid(supervisor) };
		cJSON *status, *gap;

		generation = test_generation((uint64_t)i + 1,
		    "[{\"name\":\"open\",\"matches\":[[]],\"kind\":{\"Open\":{}}}]\n");
		supervisor_apply(supervisor, &generation, &plan.plan, true);
		if (!test_run_until(&loop, attached_anew, &w, 5000))
			break;
		status = supervisor_status_json(supervisor);
		gap = cJSON_GetObjectItem(cJSON_GetObjectItem(status, "scheduler"), "last_gap_seconds");
		if (i > 0 && cJSON_IsNumber(gap))
			gaps[n++] = gap->valuedouble * 1e6;
		cJSON_Delete(status);
	}
	if (n > 0)
		report("restart (stand-in; a floor for scx_layered)", gaps, n, "ms", 1e3);
	{
		int done = 0;

		supervisor_stop(supervisor, NULL, NULL);
		while (uv_run(&loop, UV_RUN_ONCE) != 0 && !done)
			;
	}
	supervisor_free(supervisor);
	uv_loop_close(&loop);
	test_fixture_remove();
	free(gaps);
}

static void
bench_real_scx(int runs)
{
	char command[8192], line[4096];
	const char *top = getenv("TOP_SRCDIR");
	double *times;
	FILE *p;
	int n = 0;

	snprintf(command, sizeof command, "bash -c '. \"%s/t/scx/versions.sh\" && "
	    "\"%s/t/scx/available\" >/dev/null && echo $SCX_LAYERED_BIN' 2>/dev/null",
	    top != NULL ? top : ".", top != NULL ? top : ".");
	if ((p = popen(command, "r")) == NULL || fgets(line, sizeof line, p) == NULL) {
		if (p != NULL)
			pclose(p);
		printf("real scx_layered: not built (t/scx/build); skipped\n");
		return;
	}
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (access("/sys/kernel/sched_ext", F_OK) == 0) {
		printf("real scx_layered: this kernel has sched_ext; not run\n");
		return;
	}
	times = calloc((size_t)runs, sizeof *times);
	snprintf(command, sizeof command, "'%s' --run-example >/dev/null 2>&1", line);
	for (int i = 0; i < runs; i++) {
		double t0 = now_us();

		if (system(command) == -1)
			break;
		times[n++] = now_us() - t0;
	}
	if (n > 0)
		report("real scx_layered: spawn to sched_ext refusal", times, n, "ms", 1e3);
	free(times);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 50;
	struct hint_map_entry entry;
	struct hint_map *map;
	struct statfs st;
	char pin[700], *cause = NULL, path[700];
	double *table, *attach, *fork_times;
	pid_t pod, mover, tasks;
	int fd, tasks_count = 0;

	log_init("perf-hint", LOG_LEVEL_ERROR);
	if (runs < 2)
		runs = 2;
	if (geteuid() != 0) {
		fprintf(stderr, "perf-hint: needs root (BPF, cgroups)\n");
		return 0;
	}
	if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270)
		snprintf(cgroup2, sizeof cgroup2, "/sys/fs/cgroup");
	else
		snprintf(cgroup2, sizeof cgroup2, "/sys/fs/cgroup/unified");
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == 0xcafe4a11) {
		snprintf(pin, sizeof pin, "/sys/fs/bpf/temper-perf-hint-%d", (int)getpid());
	} else {
		if (mkdtemp(bpffs) == NULL || mount("bpf", bpffs, "bpf", 0, NULL) != 0) {
			fprintf(stderr, "perf-hint: no bpffs\n");
			return 0;
		}
		bpffs_mounted = 1;
		snprintf(pin, sizeof pin, "%s/task_hint_map", bpffs);
	}
	setpgid(0, 0);
	snprintf(base, sizeof base, "%s/temper-perf-hint-%d", cgroup2, (int)getpid());
	atexit(cleanup);
	mkdir(base, 0755);
	snprintf(path, sizeof path, "%s/pod", base);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/other", base);
	mkdir(path, 0755);
	if ((map = hint_map_open(pin, &cause)) == NULL) {
		fprintf(stderr, "perf-hint: %s\n", cause);
		return 0;
	}
	fd = hint_map_fd(map);
	{
		char command[] = "ls /proc/*/task 2>/dev/null | grep -c '^[0-9]'";
		FILE *p = popen(command, "r");

		if (p != NULL && fscanf(p, "%d", &tasks_count) != 1)
			tasks_count = 0;
		if (p != NULL)
			pclose(p);
	}
	table = calloc((size_t)runs, sizeof *table);
	attach = calloc((size_t)runs, sizeof *attach);
	fork_times = calloc((size_t)runs, sizeof *fork_times);

	printf("# %s, %ld CPUs online, %d tasks on the machine (a full sweep visits each), "
	    "load %s", "t/perf/hint", sysconf(_SC_NPROCESSORS_ONLN), tasks_count, "");
	{
		FILE *f = fopen("/proc/loadavg", "r");
		char load[64] = "";

		if (f != NULL && fgets(load, sizeof load, f) != NULL)
			printf("%s", load);
		else
			printf("\n");
		if (f != NULL)
			fclose(f);
	}

	/* table: list the pod's cgroup, its 4-thread process already inside. */
	pod = sleeper(4);
	usleep(50000);
	write_pid("pod", pod);
	entry.cgroup_id = id_of("pod");
	for (int i = 0; i < runs; i++) {
		double t0;

		entry.hint = 1 + (unsigned)(i % 5);
		t0 = now_us();
		if (hint_map_set(map, &entry, 1, &cause) != 0) {
			fprintf(stderr, "perf-hint: %s\n", cause);
			return 1;
		}
		while (!has_hint(fd, pod, entry.hint))
			;
		table[i] = now_us() - t0;
	}
	report("pod event -> hint: table update + its cgroup", table, runs, "us", 1);
	for (int i = 0; i < runs; i++) {
		double t0 = now_us();

		hint_map_sweep(map);
		table[i] = now_us() - t0;
	}
	report("(full sweep over every task, for >64 changes)", table, runs, "us", 1);

	/* attach: a process moved into the listed cgroup. */
	mover = sleeper(1);
	usleep(50000);
	for (int i = 0; i < runs; i++) {
		double t0;

		write_pid("other", mover);
		t0 = now_us();
		write_pid("pod", mover);
		while (!has_hint(fd, mover, entry.hint))
			;
		attach[i] = now_us() - t0;
	}
	report("pod event -> hint: cgroup move (in kernel)", attach, runs, "us", 1);

	/* fork: a process created inside the listed cgroup. */
	write_pid("pod", getpid());
	for (int i = 0; i < runs; i++) {
		double t0 = now_us();

		if ((tasks = fork()) == 0) {
			pause();
			_exit(0);
		}
		while (!has_hint(fd, tasks, entry.hint))
			;
		fork_times[i] = now_us() - t0;
		kill(tasks, SIGKILL);
		waitpid(tasks, NULL, 0);
	}
	report("task creation -> hint: fork (in kernel, fork included)", fork_times, runs, "us", 1);
	snprintf(path, sizeof path, "%s/cgroup.procs", cgroup2);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	hint_map_close(map);
	unlink(pin);

	bench_restart(runs < 20 ? runs : 20);
	bench_real_scx(runs < 10 ? runs : 10);
	printf("# target: pod event -> hint < 1 ms; figures only, timing never fails a build\n");
	free(table);
	free(attach);
	free(fork_times);
	return 0;
}
