/* profile-train.c - a profile synthesized from a pod's threads' behaviour. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "profile-train.h"

/* A process with more threads is read up to this many. */
#define PROFILE_TRAIN_MAX_THREADS 65536

void
profile_train_rules_default(struct profile_train_rules *rules)
{
	rules->hot_demand_share = 0.6;
	rules->hot_max_wakeups = 20;
	rules->chain_min_wakeups = 50;
	rules->chain_max_run_us = 2000;
	rules->idle_cpu_share = 0.05;
	rules->idle_max_wakeups = 20;
}

static int
profile_train_read_small(const char *path, char *out, size_t size)
{
	FILE *file = fopen(path, "re");
	size_t n;

	if (file == NULL)
		return -errno;
	n = fread(out, 1, size - 1, file);
	fclose(file);
	out[n] = '\0';
	return 0;
}

static uint64_t
profile_train_status_field(const char *status, const char *name)
{
	const char *at = strstr(status, name);

	return at != NULL ? strtoull(at + strlen(name), NULL, 10) : 0;
}

/* One thread's figures; -ENOENT when it exited meanwhile. */
static int
profile_train_read_thread(const char *proc_root, pid_t tgid, pid_t tid,
    struct profile_train_thread *thread)
{
	char path[512], text[4096];
	unsigned long long run = 0, wait = 0, runs = 0;
	size_t n;
	int error;

	memset(thread, 0, sizeof *thread);
	thread->tid = tid;
	thread->tgid = tgid;
	snprintf(path, sizeof path, "%s/%d/task/%d/comm", proc_root, tgid, tid);
	if ((error = profile_train_read_small(path, text, sizeof text)) != 0)
		return error;
	n = strcspn(text, "\n");
	if (n >= sizeof thread->comm)
		n = sizeof thread->comm - 1;
	memcpy(thread->comm, text, n);
	thread->comm[n] = '\0';
	snprintf(path, sizeof path, "%s/%d/task/%d/schedstat", proc_root, tgid,
	    tid);
	if ((error = profile_train_read_small(path, text, sizeof text)) != 0)
		return error;
	if (sscanf(text, "%llu %llu %llu", &run, &wait, &runs) != 3)
		return -EINVAL;
	thread->run_ns = run;
	thread->wait_ns = wait;
	thread->runs = runs;
	snprintf(path, sizeof path, "%s/%d/task/%d/status", proc_root, tgid, tid);
	if ((error = profile_train_read_small(path, text, sizeof text)) != 0)
		return error;
	thread->voluntary = profile_train_status_field(text,
	    "\nvoluntary_ctxt_switches:");
	thread->involuntary = profile_train_status_field(text,
	    "\nnonvoluntary_ctxt_switches:");
	return 0;
}

static int
profile_train_compare_tid(const void *x, const void *y)
{
	const struct profile_train_thread *a = x, *b = y;

	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static uint64_t
profile_train_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int
profile_train_snapshot_pids(const pid_t *pids, size_t count,
    const char *proc_root, struct profile_train_snapshot *snapshot)
{
	struct profile_train_thread *threads = NULL, *grown;
	size_t used = 0, capacity = 0;
	char path[512];

	memset(snapshot, 0, sizeof *snapshot);
	snapshot->taken_ns = profile_train_now_ns();
	for (size_t p = 0; p < count; p++) {
		struct dirent *entry;
		DIR *dir;

		snprintf(path, sizeof path, "%s/%d/task", proc_root, pids[p]);
		if ((dir = opendir(path)) == NULL)
			continue;	/* the process exited */
		while ((entry = readdir(dir)) != NULL &&
		    used < PROFILE_TRAIN_MAX_THREADS) {
			char *end;
			long tid = strtol(entry->d_name, &end, 10);

			if (*end != '\0' || tid <= 0)
				continue;
			if (used == capacity) {
				capacity = capacity ? capacity * 2 : 64;
				if ((grown = realloc(threads,
				    capacity * sizeof *threads)) == NULL) {
					closedir(dir);
					free(threads);
					return -ENOMEM;
				}
				threads = grown;
			}
			if (profile_train_read_thread(proc_root, pids[p],
			    (pid_t)tid, &threads[used]) == 0)
				used++;
		}
		closedir(dir);
	}
	if (used > 0)
		qsort(threads, used, sizeof *threads, profile_train_compare_tid);
	snapshot->threads = threads;
	snapshot->count = used;
	return 0;
}

int
profile_train_snapshot(const char *cgroup_dir, const char *proc_root,
    struct profile_train_snapshot *snapshot, char **cause)
{
	pid_t *pids = NULL, *grown;
	size_t count = 0, capacity = 0;
	char path[4096];
	long pid;
	FILE *file;
	int error;

	snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
	if ((file = fopen(path, "re")) == NULL) {
		error = -errno;
		if (cause != NULL && asprintf(cause, "%s: %s", path,
		    strerror(-error)) < 0)
			*cause = NULL;
		return error;
	}
	while (fscanf(file, "%ld", &pid) == 1) {
		if (count == capacity) {
			capacity = capacity ? capacity * 2 : 16;
			if ((grown = realloc(pids, capacity * sizeof *pids)) == NULL) {
				fclose(file);
				free(pids);
				return -ENOMEM;
			}
			pids = grown;
		}
		pids[count++] = (pid_t)pid;
	}
	fclose(file);
	error = profile_train_snapshot_pids(pids, count, proc_root, snapshot);
	free(pids);
	return error;
}

void
profile_train_snapshot_free(struct profile_train_snapshot *snapshot)
{
	if (snapshot == NULL)
		return;
	free(snapshot->threads);
	snapshot->threads = NULL;
	snapshot->count = 0;
}

/* The name without its trailing instance number: "ib_io_rd-3" -> "ib_io_rd-". */
static void
profile_train_key(const char *comm, char key[16])
{
	size_t n = strlen(comm);

	snprintf(key, 16, "%s", comm);
	while (n > 0 && isdigit((unsigned char)key[n - 1]))
		n--;
	if (n > 0)
		key[n] = '\0';
}

struct profile_train_sums {
	uint64_t run_ns, wait_ns, runs, voluntary;
};

int
profile_train_classify(const struct profile_train_snapshot *before,
    const struct profile_train_snapshot *after,
    const struct profile_train_rules *rules,
    struct profile_train_result *result)
{
	struct profile_train_sums *sums = NULL;
	struct profile_train_group *groups = NULL;
	size_t count = 0;
	double seconds;

	memset(result, 0, sizeof *result);
	if (after->taken_ns <= before->taken_ns)
		return -EINVAL;
	seconds = (double)(after->taken_ns - before->taken_ns) / 1e9;
	if (after->count > 0 &&
	    ((groups = calloc(after->count, sizeof *groups)) == NULL ||
	    (sums = calloc(after->count, sizeof *sums)) == NULL)) {
		free(groups);
		return -ENOMEM;
	}
	for (size_t i = 0; i < after->count; i++) {
		const struct profile_train_thread *now = &after->threads[i], *then;
		struct profile_train_group *group = NULL;
		char key[16];
		bool leader = now->tid == now->tgid;
		size_t g;

		then = bsearch(now, before->threads, before->count,
		    sizeof *now, profile_train_compare_tid);
		/* A thread born during the window is not evidence of a habit. */
		if (then == NULL || strcmp(then->comm, now->comm) != 0)
			continue;
		profile_train_key(now->comm, key);
		for (g = 0; g < count; g++)
			if (strcmp(groups[g].key, key) == 0 &&
			    groups[g].leader == leader)
				break;
		group = &groups[g];
		if (g == count) {
			snprintf(group->key, sizeof group->key, "%s", key);
			group->leader = leader;
			group->first_tid = now->tid;
			count++;
		}
		group->threads++;
		sums[g].run_ns += now->run_ns - then->run_ns;
		sums[g].wait_ns += now->wait_ns - then->wait_ns;
		sums[g].runs += now->runs - then->runs;
		sums[g].voluntary += now->voluntary - then->voluntary;
	}
	for (size_t g = 0; g < count; g++) {
		struct profile_train_group *group = &groups[g];
		double threads = (double)group->threads;

		group->cpu_share = (double)sums[g].run_ns / 1e9 / seconds / threads;
		group->demand_share = (double)(sums[g].run_ns + sums[g].wait_ns) /
		    1e9 / seconds / threads;
		group->wakeups_per_second = (double)sums[g].voluntary / seconds /
		    threads;
		group->run_us = sums[g].runs ? (double)sums[g].run_ns / 1e3 /
		    (double)sums[g].runs : 0;
		group->wait_us = sums[g].runs ? (double)sums[g].wait_ns / 1e3 /
		    (double)sums[g].runs : 0;
		if (group->demand_share >= rules->hot_demand_share &&
		    group->wakeups_per_second < rules->hot_max_wakeups)
			group->treatment = PROFILE_TREATMENT_EXCLUSIVE;
		else if (group->wakeups_per_second >= rules->chain_min_wakeups &&
		    group->run_us <= rules->chain_max_run_us)
			group->treatment = PROFILE_TREATMENT_LATENCY;
		else if (group->cpu_share < rules->idle_cpu_share &&
		    group->wakeups_per_second < rules->idle_max_wakeups)
			group->treatment = PROFILE_TREATMENT_YIELD;
		else
			group->treatment = -1;
		for (size_t o = 0; o < count; o++)
			if (o != g && strcmp(groups[o].key, group->key) == 0)
				group->leader_condition = true;
	}
	free(sums);
	result->groups = groups;
	result->count = count;
	result->seconds = seconds;
	return 0;
}

void
profile_train_result_free(struct profile_train_result *result)
{
	if (result == NULL)
		return;
	free(result->groups);
	result->groups = NULL;
	result->count = 0;
}

/* A group name from its key: lower-case letters, digits and '-'. */
static void
profile_train_group_name(const struct profile_train_group *group, char *out,
    size_t size)
{
	size_t n = 0;

	if (!isalpha((unsigned char)group->key[0]))
		n = (size_t)snprintf(out, size, "t-");
	for (const char *p = group->key; *p != '\0' && n + 1 < size; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (!isalnum((unsigned char)c))
			c = '-';
		if (c == '-' && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = c;
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, size, "threads");
	if (group->leader_condition)
		snprintf(out + strlen(out), size - strlen(out), "%s",
		    group->leader ? "-leader" : "-others");
}

static const char *
profile_train_why(int treatment)
{
	switch (treatment) {
	case PROFILE_TREATMENT_EXCLUSIVE:
		return "a hot loop: busy, rarely sleeping";
	case PROFILE_TREATMENT_LATENCY:
		return "a wake chain: woken often for short runs";
	case PROFILE_TREATMENT_YIELD:
		return "housekeeping: little CPU, few wakeups";
	default:
		return "no clear pattern: stays in the tier's layer";
	}
}

static int
profile_train_evidence(struct buf *out, const struct profile_train_group *group)
{
	return buf_printf(out, "# \"%s\"%s: %zu thread%s (tid %d%s): ran %.3f "
	    "and wanted %.3f of a CPU, %.1f wakeups/s, %.0f us per run, %.0f us "
	    "runqueue wait per run: %s\n", group->key,
	    group->leader ? " (process leader)" : "",
	    group->threads, group->threads == 1 ? "" : "s",
	    (int)group->first_tid, group->threads > 1 ? ", ..." : "",
	    group->cpu_share, group->demand_share, group->wakeups_per_second,
	    group->run_us,
	    group->wait_us, profile_train_why(group->treatment));
}

char *
profile_train_render(const struct profile_train_result *result,
    const char *name, const char *about)
{
	char names[PROFILE_MAX_GROUPS][PROFILE_MAX_NAME + 1];
	char group_name[PROFILE_MAX_NAME + 1];
	struct buf out = BUF_INIT;
	size_t emitted = 0;
	int error;

	error = buf_printf(&out, "# Synthesized by temperd's training mode from "
	    "%s over %.1f s.\n# Evidence per thread group (name without its "
	    "number):\n", about, result->seconds);
	for (size_t i = 0; i < result->count && error == 0; i++)
		error = profile_train_evidence(&out, &result->groups[i]);
	if (error == 0)
		error = buf_printf(&out, "\nname = \"%s\"\ndescription = "
		    "\"trained on %s\"\n", name, about);
	for (int t = 0; t < PROFILE_TREATMENT_COUNT && error == 0; t++) {
		for (size_t i = 0; i < result->count && error == 0; i++) {
			const struct profile_train_group *group = &result->groups[i];

			bool plain = true;

			if (group->treatment != t || emitted == PROFILE_MAX_GROUPS)
				continue;
			/* A name a profile cannot hold is evidence only. */
			for (const char *p = group->key; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					plain = false;
			if (!plain)
				continue;
			profile_train_group_name(group, group_name,
			    sizeof group_name);
			/* Two keys may give one name ("a.b", "a-b"). */
			for (size_t n = 0; n < emitted; n++)
				if (strcmp(names[n], group_name) == 0)
					snprintf(group_name + strlen(group_name) -
					    (strlen(group_name) > 50 ? 10 : 0),
					    12, "-%zu", emitted + 1);
			snprintf(names[emitted], sizeof names[emitted], "%s",
			    group_name);
			error = buf_puts(&out, "\n[[group]]\n");
			if (error == 0)
				error = profile_train_evidence(&out, group);
			if (error == 0)
				error = buf_printf(&out, "name = \"%s\"\n",
				    group_name);
			if (error == 0) {
				error = buf_puts(&out, "comm_prefix = \"");
				for (const char *p = group->key; *p && !error; p++)
					error = (*p == '"' || *p == '\\') ?
					    buf_printf(&out, "\\%c", *p) :
					    buf_append(&out, p, 1);
				if (error == 0)
					error = buf_puts(&out, "\"\n");
			}
			if (error == 0 && group->leader_condition)
				error = buf_printf(&out, "group_leader = %s\n",
				    group->leader ? "true" : "false");
			if (error == 0)
				error = buf_printf(&out, "treatment = \"%s\"\n",
				    profile_treatment_name(t));
			emitted++;
		}
	}
	if (error == 0 && emitted == 0)
		error = -ENOENT;
	if (error != 0) {
		buf_free(&out);
		errno = -error;
		return NULL;
	}
	return buf_detach(&out);
}
