/*
 * t/test-hint-map.c - the hint writer loaded on this kernel: real
 * processes and threads moved between real cgroup-v2 test cgroups, their
 * hints read back through pidfds on the pinned task-hint map.
 *
 * Needs root, a cgroup2 tree (/sys/fs/cgroup or /sys/fs/cgroup/unified)
 * and a bpffs: /sys/fs/bpf when mounted, otherwise one mounted here in a
 * temporary directory (unmounted at the end).
 */
#include "config.h"

#include <dirent.h>
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
#include <unistd.h>

#include <bpf/bpf.h>

#include "hint-map.h"
#include "log.h"
#include "tap.h"

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11

static char cgroup2[256];
static char base[512];
static char bpffs[] = "/tmp/test-hint-map.XXXXXX";
static int mounted;

static int
find_cgroup2(void)
{
	static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs st;

	for (size_t i = 0; i < 2; i++)
		if (statfs(candidates[i], &st) == 0 && st.f_type == 0x63677270) {
			snprintf(cgroup2, sizeof cgroup2, "%s", candidates[i]);
			return 0;
		}
	return -1;
}

static void
cgroup_make(const char *relative)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/%s", base, relative);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
		abort();
	}
}

static uint64_t
cgroup_id(const char *relative)
{
	char path[1024];
	uint64_t id = 0;

	snprintf(path, sizeof path, "%s/%s", base, relative);
	if (hint_map_cgroup_id(path, &id) != 0)
		abort();
	return id;
}

/* Move a process (cgroup.procs: every thread) or one thread (cgroup.threads). */
static int
cgroup_move(const char *relative, pid_t pid, const char *file)
{
	char path[1024];
	FILE *f;
	int error = 0;

	if (relative == NULL)
		snprintf(path, sizeof path, "%s/%s", cgroup2, file);
	else
		snprintf(path, sizeof path, "%s/%s/%s", base, relative, file);
	if ((f = fopen(path, "w")) == NULL)
		return -errno;
	if (fprintf(f, "%d\n", (int)pid) < 0)
		error = -EIO;
	if (fclose(f) != 0)
		error = -errno;
	return error;
}

static void *
thread_sleep(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A child sleeping with extra_threads more threads; it dies with us. */
static pid_t
spawn(int extra_threads)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (int i = 0; i < extra_threads; i++) {
			pthread_t thread;

			pthread_create(&thread, NULL, thread_sleep, NULL);
		}
		for (;;)
			pause();
	}
	return pid;
}

/* A child that moves itself into RELATIVE, then forks a sleeper. */
static pid_t
spawn_forker(const char *relative, int report_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		pid_t grandchild;

		if (cgroup_move(relative, getpid(), "cgroup.procs") != 0)
			_exit(1);
		if ((grandchild = fork()) == 0) {
			for (;;)
				pause();
		}
		if (write(report_fd, &grandchild, sizeof grandchild) != sizeof grandchild)
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

static int
threads_of(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *entry;
	DIR *dir;
	int count = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL && count < max)
		if (entry->d_name[0] != '.')
			tids[count++] = atoi(entry->d_name);
	closedir(dir);
	return count;
}

/* The hint, or -1 for none (-ENOENT), -2 for any other failure. */
static long long
hint_of(int fd, pid_t tid)
{
	uint64_t hint;
	int error = hint_map_lookup(fd, tid, &hint);

	if (error == -ENOENT)
		return -1;
	if (error != 0) {
		diag("lookup of %d: %s", (int)tid, strerror(-error));
		return -2;
	}
	return (long long)hint;
}

static int
all_threads_have(int fd, pid_t pid, long long hint, int expected_threads)
{
	pid_t tids[64];
	int count = threads_of(pid, tids, 64), good = 0;

	for (int i = 0; i < count; i++)
		good += hint_of(fd, tids[i]) == hint;
	if (good != count || count != expected_threads)
		diag("%d of %d threads (expected %d) have hint %lld", good, count,
		    expected_threads, hint);
	return good == count && count == expected_threads;
}

static void
cleanup(void)
{
	char command[2048];

	/* Children first (their cgroups cannot go while they live). */
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (wait(NULL) > 0)
		;
	if (base[0] != '\0') {
		snprintf(command, sizeof command,
		    "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", base);
		if (system(command) != 0)
			diag("could not remove %s", base);
	}
	if (mounted)
		umount(bpffs);
	rmdir(bpffs);
}

int
main(void)
{
	char pin[256], *cause = NULL;
	struct hint_map_entry entries[3];
	struct hint_counters counters;
	struct hint_map *map;
	struct statfs st;
	pid_t solo, threaded, forker, grandchild, tids[64];
	int pipes[2], fd, other;

	log_init("test-hint-map", LOG_LEVEL_WARN);
	log_route_libbpf();
	if (geteuid() != 0)
		skip_all("loading BPF programs and moving processes between cgroups needs root");
	if (find_cgroup2() != 0)
		skip_all("no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified");
	if (mkdtemp(bpffs) == NULL)
		skip_all("mkdtemp: %s", strerror(errno));
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC_NUMBER) {
		snprintf(pin, sizeof pin, "/sys/fs/bpf/temper-test-%d/task_hint_map", (int)getpid());
		diag("pinning under the mounted /sys/fs/bpf");
	} else {
		if (mount("bpf", bpffs, "bpf", 0, NULL) != 0)
			skip_all("no bpffs at /sys/fs/bpf and mounting one failed: %s", strerror(errno));
		mounted = 1;
		snprintf(pin, sizeof pin, "%s/temper/task_hint_map", bpffs);
		diag("/sys/fs/bpf is not a bpffs here: mounted one at %s", bpffs);
	}
	setpgid(0, 0);
	snprintf(base, sizeof base, "%s/temper-test-hint-%d", cgroup2, (int)getpid());
	atexit(cleanup);
	cgroup_make("");
	cgroup_make("critical-pod");
	cgroup_make("critical-pod/container");
	cgroup_make("low-pod");
	cgroup_make("unlisted");

	map = hint_map_open(pin, &cause);
	if (!ok(map != NULL, "the hint writer loads, attaches and pins the map at %s", pin)) {
		diag("%s", cause);
		free(cause);
		return done_testing();
	}
	fd = hint_map_fd(map);
	ok(access(pin, F_OK) == 0, "the map is pinned");

	solo = spawn(0);
	threaded = spawn(3);
	usleep(100000);
	ok(cgroup_move("critical-pod/container", solo, "cgroup.procs") == 0 &&
	    cgroup_move("critical-pod/container", threaded, "cgroup.procs") == 0,
	    "two processes moved into a container cgroup before its pod is listed");
	is_int(hint_of(fd, solo), -1, "a task in an unlisted cgroup has no hint");

	entries[0] = (struct hint_map_entry){ cgroup_id("critical-pod"), 1 };
	entries[1] = (struct hint_map_entry){ cgroup_id("low-pod"), 4 };
	ok(hint_map_set(map, entries, 2, &cause) == 0, "the pod cgroups are listed (critical 1, low 4)");
	is_int(hint_of(fd, solo), 1,
	    "the sweep gave the process already in a container below the critical pod hint 1");
	ok(all_threads_have(fd, threaded, 1, 4), "and each of the 4 threads of the other one");
	is_int(hint_of(fd, getpid()), -1, "this test process, in no listed cgroup, has none");

	/* Moves: the cgroup_attach_task path, no sweep. */
	ok(cgroup_move("low-pod", solo, "cgroup.procs") == 0, "a process moved to the low pod");
	is_int(hint_of(fd, solo), 4, "its hint is 4 at once (set in the kernel on attach)");
	ok(cgroup_move("low-pod", threaded, "cgroup.procs") == 0, "a 4-thread process moved");
	ok(all_threads_have(fd, threaded, 4, 4), "every thread has hint 4 (the group move walks the threads)");
	threads_of(threaded, tids, 64);
	other = tids[0] == threaded ? tids[1] : tids[0];
	ok(cgroup_move("critical-pod", threaded, "cgroup.procs") == 0,
	    "the process moved back to the critical pod");
	is_int(hint_of(fd, other), 1, "a non-leader thread followed: hint 1");
	ok(cgroup_move("unlisted", solo, "cgroup.procs") == 0, "a process moved to an unlisted cgroup");
	is_int(hint_of(fd, solo), -1, "its hint is gone");

	/* Fork: the child inherits its parent's cgroup and gets its hint at once. */
	if (pipe(pipes) != 0)
		abort();
	forker = spawn_forker("low-pod", pipes[1]);
	if (read(pipes[0], &grandchild, sizeof grandchild) != sizeof grandchild)
		abort();
	is_int(hint_of(fd, forker), 4, "a process that moved itself into the low pod has hint 4");
	is_int(hint_of(fd, grandchild), 4, "the child it forked there has hint 4 (set at fork)");

	/* Unlisting: the sweep clears what the table no longer holds. */
	entries[0] = (struct hint_map_entry){ cgroup_id("low-pod"), 5 };
	ok(hint_map_set(map, entries, 1, &cause) == 0,
	    "the table now holds only the low pod, as hint 5");
	is_int(hint_of(fd, threaded), -1, "the critical pod's process lost its hint");
	is_int(hint_of(fd, grandchild), 5, "the low pod's tasks have hint 5");

	/* A change past 64 cgroups takes one sweep over every task instead. */
	{
		struct hint_map_entry many[70];

		for (int i = 0; i < 69; i++)
			many[i] = (struct hint_map_entry){ 1000000 + (uint64_t)i, 2 };
		many[69] = (struct hint_map_entry){ cgroup_id("low-pod"), 3 };
		ok(hint_map_set(map, many, 70, &cause) == 0, "70 cgroups listed at once");
		is_int(hint_of(fd, grandchild), 3, "the full sweep gave the low pod's tasks hint 3");
		many[0] = (struct hint_map_entry){ cgroup_id("low-pod"), 5 };
		ok(hint_map_set(map, many, 1, &cause) == 0 && hint_of(fd, grandchild) == 5,
		    "back to one cgroup (69 unlisted, one changed): hint 5");
	}

	hint_map_counters(map, &counters);
	ok(counters.forks > 0 && counters.attaches >= 5 && counters.written >= 8 &&
	    counters.cleared >= 2 && counters.failed == 0,
	    "counters: %llu forks, %llu attaches, %llu written, %llu cleared, %llu failed",
	    (unsigned long long)counters.forks, (unsigned long long)counters.attaches,
	    (unsigned long long)counters.written, (unsigned long long)counters.cleared,
	    (unsigned long long)counters.failed);

	/* The pin outlives the writer; the next writer reuses it. */
	hint_map_close(map);
	fd = hint_map_open_pinned(pin);
	ok(fd >= 0, "the map stays pinned after the writer closes");
	is_int(hint_of(fd, grandchild), 5, "and keeps its hints");
	close(fd);
	map = hint_map_open(pin, &cause);
	ok(map != NULL, "a new writer reuses the pinned map");
	if (map != NULL) {
		is_int(hint_of(hint_map_fd(map), grandchild), 5, "through which the old hints read");
		ok(cgroup_move("unlisted", grandchild, "cgroup.procs") == 0 &&
		    hint_of(hint_map_fd(map), grandchild) == -1 &&
		    cgroup_move("low-pod", grandchild, "cgroup.procs") == 0 &&
		    hint_of(hint_map_fd(map), grandchild) == -1,
		    "the new writer starts with an empty table (moves clear, nothing set)");
		hint_map_close(map);
	}
	free(cause);
	cause = NULL;

	/* Something else pinned at the path is refused, not replaced. */
	{
		char other_pin[300];
		int other_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "other", 4, 4, 8, NULL);

		/* bpffs refuses dots in names. */
		snprintf(other_pin, sizeof other_pin, "%s_other", pin);
		if (other_fd >= 0 && bpf_obj_pin(other_fd, other_pin) == 0) {
			/* libbpf warns about the mismatch it is made to meet. */
			log_set_level(LOG_LEVEL_ERROR);
			map = hint_map_open(other_pin, &cause);
			log_set_level(LOG_LEVEL_WARN);
			ok(map == NULL && cause != NULL, "a hash map pinned at the path is refused: %s",
			    cause != NULL ? cause : "(opened)");
			hint_map_close(map);
			unlink(other_pin);
		} else
			ok(0, "a hash map could be pinned for the refusal test");
		if (other_fd >= 0)
			close(other_fd);
		free(cause);
	}
	unlink(pin);
	return done_testing();
}
