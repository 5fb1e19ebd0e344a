/* cgroup-enforce.c - cpu.idle and cpuset partitions, journalled and undone. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cause.h"
#include "cgroup-enforce.h"
#include "log.h"
#include "planner.h"
#include "pod.h"
#include "topology.h"

/* Values Temper writes and reads back are short CPU lists and flags. */
#define CGROUP_ENFORCE_VALUE_MAX 4096
#define CGROUP_ENFORCE_JOURNAL_HEADER "# temper cgroup journal 1\n"

/* A journalled write: where, what was there, what Temper put. */
struct cgroup_enforce_entry {
	char *directory;	/* absolute */
	char *file;
	char *original;
	char *applied;
	char *pod_uid;		/* NULL for a shared ancestor */
	/*
	 * cpu.idle only: the group's weight (cpu.shares on v1, cpu.weight on
	 * v2) before Temper made it idle.  The kernel forces an idle group's
	 * weight to its minimum and resets it to the default when the group
	 * stops being idle, so the kubelet's value must be put back by hand.
	 */
	char *weight_file;	/* NULL when none */
	char *weight;
};

/* One write of the last applied plan, resolved to a directory. */
struct cgroup_enforce_target {
	char *directory;
	int error;		/* the last write's -errno, or 0 */
};

struct cgroup_enforce {
	char *state_dir;
	char *journal_path;
	char *cpu_manager_state;
	enum cgroup_layout layout;
	char *cpu_root;
	char *cpuset_root;
	bool exclusive_critical;
	unsigned reserve_cpus;

	struct cgroup_enforce_entry *journal;
	size_t journal_count;

	struct cgroup_enforce_plan *plan;	/* the last applied */
	struct cgroup_enforce_target *targets;	/* one per plan write */
};

static int
cgroup_enforce_compare_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

int
cgroup_enforce_parse_cpus(const char *text, unsigned **cpus, size_t *count)
{
	unsigned long first, last;
	unsigned *list = NULL, *grown;
	size_t n = 0, capacity = 0, kept = 0;
	const char *p = text;
	char *end;

	*cpus = NULL;
	*count = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0' && *p != '\n') {
		if (*p < '0' || *p > '9')
			goto invalid;
		errno = 0;
		first = strtoul(p, &end, 10);
		if (errno != 0 || first >= TOPOLOGY_MAX_CPUS)
			goto invalid;
		last = first;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				goto invalid;
			last = strtoul(p, &end, 10);
			if (errno != 0 || last >= TOPOLOGY_MAX_CPUS || last < first)
				goto invalid;
			p = end;
		}
		for (unsigned long id = first; id <= last; id++) {
			if (n == TOPOLOGY_MAX_CPUS * 2)
				goto invalid;
			if (n == capacity) {
				capacity = capacity ? capacity * 2 : 16;
				if ((grown = realloc(list,
				    capacity * sizeof *grown)) == NULL) {
					free(list);
					return -ENOMEM;
				}
				list = grown;
			}
			list[n++] = (unsigned)id;
		}
		if (*p == ',')
			p++;
		else if (*p != '\0' && *p != '\n')
			goto invalid;
	}
	if (n > 0) {
		qsort(list, n, sizeof *list, cgroup_enforce_compare_unsigned);
		for (size_t i = 0; i < n; i++)
			if (kept == 0 || list[kept - 1] != list[i])
				list[kept++] = list[i];
	}
	*cpus = list;
	*count = kept;
	return 0;

invalid:
	free(list);
	return -EINVAL;
}

char *
cgroup_enforce_format_cpus(const unsigned *cpus, size_t count)
{
	struct buf b = BUF_INIT;
	size_t i = 0, j;

	if (buf_puts(&b, "") != 0)
		return NULL;
	while (i < count) {
		for (j = i; j + 1 < count && cpus[j + 1] == cpus[j] + 1; j++)
			;
		if ((j == i ? buf_printf(&b, "%s%u", b.len ? "," : "", cpus[i]) :
		    buf_printf(&b, "%s%u-%u", b.len ? "," : "", cpus[i],
		    cpus[j])) != 0) {
			buf_free(&b);
			return NULL;
		}
		i = j + 1;
	}
	return buf_detach(&b);
}

void
cgroup_enforce_cpu_manager_clear(struct cgroup_enforce_cpu_manager *state)
{
	free(state->policy);
	for (size_t i = 0; i < state->pod_count; i++)
		free(state->pods[i]);
	free(state->pods);
	free(state->cpus);
	memset(state, 0, sizeof *state);
}

int
cgroup_enforce_parse_cpu_manager(const char *text,
    struct cgroup_enforce_cpu_manager *state, char **cause)
{
	cJSON *json, *policy, *entries, *pod, *container;
	unsigned *cpus, *all = NULL, *grown;
	size_t cpu_count, all_count = 0, kept = 0, pods = 0;
	int error = 0;

	memset(state, 0, sizeof *state);
	if ((json = cJSON_Parse(text)) == NULL || !cJSON_IsObject(json)) {
		cause_set(cause, "cpu manager state: not a JSON object");
		error = -EINVAL;
		goto out;
	}
	policy = cJSON_GetObjectItemCaseSensitive(json, "policyName");
	if (!cJSON_IsString(policy)) {
		cause_set(cause, "cpu manager state: no policyName");
		error = -EINVAL;
		goto out;
	}
	if ((state->policy = strdup(policy->valuestring)) == NULL)
		goto nomem;
	entries = cJSON_GetObjectItemCaseSensitive(json, "entries");
	if (entries == NULL || cJSON_IsNull(entries))
		goto out;
	if (!cJSON_IsObject(entries)) {
		cause_set(cause, "cpu manager state: entries is not an object");
		error = -EINVAL;
		goto out;
	}
	cJSON_ArrayForEach(pod, entries)
		pods++;
	if (pods > CGROUP_DISCOVERY_MAX_PODS ||
	    (pods > 0 && (state->pods = calloc(pods, sizeof *state->pods)) == NULL))
		goto nomem;
	cJSON_ArrayForEach(pod, entries) {
		if (!cJSON_IsObject(pod) || pod->string == NULL) {
			cause_set(cause,
			    "cpu manager state: an entry is not an object");
			error = -EINVAL;
			goto out;
		}
		if ((state->pods[state->pod_count] = strdup(pod->string)) == NULL)
			goto nomem;
		state->pod_count++;
		cJSON_ArrayForEach(container, pod) {
			if (!cJSON_IsString(container) ||
			    cgroup_enforce_parse_cpus(container->valuestring,
			    &cpus, &cpu_count) != 0) {
				cause_set(cause,
				    "cpu manager state: pod %s: a CPU set is not a CPU list",
				    pod->string);
				error = -EINVAL;
				goto out;
			}
			if (all_count + cpu_count > TOPOLOGY_MAX_CPUS * 4 ||
			    (cpu_count > 0 && (grown = realloc(all,
			    (all_count + cpu_count) * sizeof *grown)) == NULL)) {
				free(cpus);
				goto nomem;
			}
			if (cpu_count > 0) {
				all = grown;
				memcpy(all + all_count, cpus, cpu_count * sizeof *cpus);
				all_count += cpu_count;
			}
			free(cpus);
		}
	}
	if (all_count > 0) {
		qsort(all, all_count, sizeof *all, cgroup_enforce_compare_unsigned);
		for (size_t i = 0; i < all_count; i++)
			if (kept == 0 || all[kept - 1] != all[i])
				all[kept++] = all[i];
	}
	state->cpus = all;
	state->cpu_count = kept;
	all = NULL;
	goto out;

nomem:
	error = -ENOMEM;
out:
	free(all);
	cJSON_Delete(json);
	if (error != 0)
		cgroup_enforce_cpu_manager_clear(state);
	return error;
}

void
cgroup_enforce_plan_free(struct cgroup_enforce_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->write_count; i++) {
		free(plan->writes[i].pod_uid);
		free(plan->writes[i].relative);
		free(plan->writes[i].value);
	}
	free(plan->writes);
	for (size_t i = 0; i < plan->note_count; i++)
		free(plan->notes[i]);
	free(plan->notes);
	free(plan);
}

__attribute__((format(printf, 2, 3)))
static int
cgroup_enforce_note(struct cgroup_enforce_plan *plan, const char *fmt, ...)
{
	char **grown, *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if ((grown = realloc(plan->notes,
	    (plan->note_count + 1) * sizeof *grown)) == NULL) {
		free(text);
		return -ENOMEM;
	}
	plan->notes = grown;
	plan->notes[plan->note_count++] = text;
	return 0;
}

static int
cgroup_enforce_add_write(struct cgroup_enforce_plan *plan, const char *pod_uid,
    enum cgroup_enforce_controller controller, const char *relative,
    size_t relative_len, const char *file, const char *value)
{
	struct cgroup_enforce_write *grown, *write;

	if ((grown = realloc(plan->writes,
	    (plan->write_count + 1) * sizeof *grown)) == NULL)
		return -ENOMEM;
	plan->writes = grown;
	write = &plan->writes[plan->write_count];
	memset(write, 0, sizeof *write);
	write->controller = controller;
	write->file = file;
	if ((pod_uid != NULL && (write->pod_uid = strdup(pod_uid)) == NULL) ||
	    (write->relative = strndup(relative, relative_len)) == NULL ||
	    (write->value = strdup(value)) == NULL) {
		free(write->pod_uid);
		free(write->relative);
		return -ENOMEM;
	}
	plan->write_count++;
	return 0;
}

/*
 * The pod's cgroup as a clean relative path ("a/b/c"): no leading or
 * trailing slash, no "." or ".." component, no control characters (the
 * journal is line- and tab-separated).  Its length, or -EINVAL.
 */
static int
cgroup_enforce_clean_relative(const char *cgroup, const char **start)
{
	size_t len;

	while (*cgroup == '/')
		cgroup++;
	len = strnlen(cgroup, PLANNER_MAX_CGROUP_PATH + 1);
	if (len > PLANNER_MAX_CGROUP_PATH)
		return -EINVAL;
	while (len > 0 && cgroup[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)cgroup[i] < 0x20 || cgroup[i] == 0x7f)
			return -EINVAL;
		if ((i == 0 || cgroup[i - 1] == '/') && cgroup[i] == '.' &&
		    (i + 1 == len || cgroup[i + 1] == '/' ||
		    (cgroup[i + 1] == '.' && (i + 2 == len || cgroup[i + 2] == '/'))))
			return -EINVAL;
		if (cgroup[i] == '/' && i + 1 < len && cgroup[i + 1] == '/')
			return -EINVAL;
	}
	*start = cgroup;
	return (int)len;
}

static bool
cgroup_enforce_listed(const char *const *list, size_t count, const char *uid)
{
	for (size_t i = 0; i < count; i++)
		if (list[i] != NULL && strcmp(list[i], uid) == 0)
			return true;
	return false;
}

static int
cgroup_enforce_compare_pods(const void *a, const void *b)
{
	const struct planner_pod *x = *(const struct planner_pod *const *)a;
	const struct planner_pod *y = *(const struct planner_pod *const *)b;

	return strcmp(x->pod->uid ? x->pod->uid : "", y->pod->uid ? y->pod->uid : "");
}

static const char *
cgroup_enforce_pod_label(const struct pod *pod, char *label, size_t size)
{
	snprintf(label, size, "%s/%s", pod->namespace ? pod->namespace : "",
	    pod->name ? pod->name : (pod->uid ? pod->uid : ""));
	return label;
}

/* One fenced pod and where its CPUs go, before the writes are emitted. */
struct cgroup_enforce_fence {
	const struct planner_pod *pod;
	const char *relative;
	size_t relative_len;
	char *cpus;
	bool *mask;		/* by CPU id, for ancestors' unions */
};

/*
 * Hand whole cores to the Critical pods (uid order, so the same pods get
 * the same cores), highest cores first: the kernel and the reserve live on
 * the low ones.  Ancestors get cpuset.cpus.exclusive (a remote partition
 * needs the CPUs granted down the tree), top-down, before the pods.
 */
static int
cgroup_enforce_plan_fences(struct cgroup_enforce_plan *plan,
    const struct planner_pod *const *sorted, size_t pod_count,
    const struct topology *topology,
    const struct cgroup_enforce_plan_options *options)
{
	struct cgroup_enforce_fence *fences = NULL;
	bool *used = NULL, *union_mask = NULL;
	unsigned reserve, reserved = 0, max_id = 0, *ids = NULL;
	size_t fence_count = 0, free_cores = 0;
	char label[512];
	int error = 0;

	if (topology == NULL || topology->core_count == 0)
		return cgroup_enforce_note(plan,
		    "no CPU topology: Critical pods get no exclusive CPUs");
	for (size_t i = 0; i < topology->cpu_count; i++)
		if (topology->cpus[i].id > max_id)
			max_id = topology->cpus[i].id;
	if ((used = calloc(topology->core_count, sizeof *used)) == NULL ||
	    (fences = calloc(pod_count + 1, sizeof *fences)) == NULL ||
	    (union_mask = calloc(max_id + 1, sizeof *union_mask)) == NULL ||
	    (ids = calloc(max_id + 1, sizeof *ids)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	/* The reserve: the lowest cores, at least one. */
	reserve = options->reserve_cpus ? options->reserve_cpus :
	    topology->threads_per_core;
	for (size_t c = 0; c < topology->core_count && reserved < reserve; c++) {
		used[c] = true;
		reserved += topology->cores[c].cpu_count;
	}
	for (size_t c = 0; c < topology->core_count; c++) {
		for (size_t i = 0; i < topology->cpu_count && !used[c]; i++)
			if (topology->cpus[i].core == c &&
			    options->kubelet_cpu_count > 0 && bsearch(&topology->cpus[i].id, options->kubelet_cpus,
			    options->kubelet_cpu_count, sizeof (unsigned),
			    cgroup_enforce_compare_unsigned) != NULL)
				used[c] = true;
		if (!used[c])
			free_cores++;
	}

	for (size_t p = 0; p < pod_count; p++) {
		const struct planner_pod *pp = sorted[p];
		const char *relative, *uid = cgroup_discovery_cgroup_uid(pp->pod);
		struct cgroup_enforce_fence *fence;
		int64_t request;
		size_t cores, want, count = 0;
		int len;

		if (pp->tier != TIER_CRITICAL || pp->cgroup == NULL)
			continue;
		cgroup_enforce_pod_label(pp->pod, label, sizeof label);
		if (!options->v2) {
			error = cgroup_enforce_note(plan,
			    "pod %s: no exclusive CPUs on cgroup v1: cpuset.cpu_exclusive needs every "
			    "ancestor exclusive and no sibling sharing the CPUs, and Temper does not "
			    "rewrite the kubelet's and systemd's cpusets (use cgroup v2, or the "
			    "kubelet's static CPU manager)", label);
			if (error != 0)
				goto out;
			continue;
		}
		if (uid != NULL && cgroup_enforce_listed(options->kubelet_pinned,
		    options->kubelet_pinned_count, uid)) {
			if ((error = cgroup_enforce_note(plan,
			    "pod %s: the kubelet's CPU manager already pins its CPUs; left to it",
			    label)) != 0)
				goto out;
			continue;
		}
		request = pod_cpu_request_millis(pp->pod);
		if (request <= 0) {
			if ((error = cgroup_enforce_note(plan,
			    "pod %s: no CPU request to size exclusive CPUs by; not fenced",
			    label)) != 0)
				goto out;
			continue;
		}
		want = (size_t)((request + 999) / 1000);
		cores = (want + topology->threads_per_core - 1) /
		    topology->threads_per_core;
		if (cores > free_cores) {
			if ((error = cgroup_enforce_note(plan,
			    "pod %s: needs %zu whole cores for %lld millicores, %zu left to fence; not fenced",
			    label, cores, (long long)request, free_cores)) != 0)
				goto out;
			continue;
		}
		len = cgroup_enforce_clean_relative(pp->cgroup, &relative);
		fence = &fences[fence_count];
		if ((fence->mask = calloc(max_id + 1, sizeof *fence->mask)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
		fence->pod = pp;
		fence->relative = relative;
		fence->relative_len = (size_t)len;
		fence_count++;
		for (size_t c = topology->core_count; c-- > 0 && cores > 0;) {
			if (used[c])
				continue;
			used[c] = true;
			free_cores--;
			cores--;
			for (size_t i = 0; i < topology->cpu_count; i++)
				if (topology->cpus[i].core == c)
					fence->mask[topology->cpus[i].id] = true;
		}
		for (unsigned id = 0; id <= max_id; id++)
			if (fence->mask[id])
				ids[count++] = id;
		if ((fence->cpus = cgroup_enforce_format_cpus(ids, count)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
	}

	/* Ancestors, shallowest first: every prefix of some fenced pod. */
	for (size_t depth = 1; fence_count > 0; depth++) {
		bool any = false;

		for (size_t f = 0; f < fence_count; f++) {
			const struct cgroup_enforce_fence *fence = &fences[f];
			size_t slashes = 0, end = 0, count = 0;
			bool first = true;
			char *cpus;

			for (size_t i = 0; i < fence->relative_len && slashes < depth; i++)
				if (fence->relative[i] == '/' && ++slashes == depth)
					end = i;
			if (slashes < depth)
				continue;	/* the pod itself is deeper than this */
			any = true;
			/* Emit each ancestor once: at the first fence that has it. */
			for (size_t g = 0; g < f; g++)
				if (fences[g].relative_len > end &&
				    fences[g].relative[end] == '/' &&
				    strncmp(fences[g].relative, fence->relative, end) == 0)
					first = false;
			if (!first)
				continue;
			memset(union_mask, 0, (max_id + 1) * sizeof *union_mask);
			for (size_t g = f; g < fence_count; g++)
				if (fences[g].relative_len > end &&
				    fences[g].relative[end] == '/' &&
				    strncmp(fences[g].relative, fence->relative, end) == 0)
					for (unsigned id = 0; id <= max_id; id++)
						union_mask[id] |= fences[g].mask[id];
			for (unsigned id = 0; id <= max_id; id++)
				if (union_mask[id])
					ids[count++] = id;
			if ((cpus = cgroup_enforce_format_cpus(ids, count)) == NULL) {
				error = -ENOMEM;
				goto out;
			}
			error = cgroup_enforce_add_write(plan, NULL,
			    CGROUP_ENFORCE_CPUSET, fence->relative, end,
			    "cpuset.cpus.exclusive", cpus);
			free(cpus);
			if (error != 0)
				goto out;
		}
		if (!any)
			break;
	}
	for (size_t f = 0; f < fence_count; f++) {
		const struct cgroup_enforce_fence *fence = &fences[f];
		const char *uid = fence->pod->pod->uid;

		if ((error = cgroup_enforce_add_write(plan, uid, CGROUP_ENFORCE_CPUSET,
		    fence->relative, fence->relative_len, "cpuset.cpus",
		    fence->cpus)) != 0 ||
		    (error = cgroup_enforce_add_write(plan, uid, CGROUP_ENFORCE_CPUSET,
		    fence->relative, fence->relative_len, "cpuset.cpus.exclusive",
		    fence->cpus)) != 0 ||
		    (error = cgroup_enforce_add_write(plan, uid, CGROUP_ENFORCE_CPUSET,
		    fence->relative, fence->relative_len, "cpuset.cpus.partition",
		    "root")) != 0)
			goto out;
	}

out:
	for (size_t f = 0; fences != NULL && f < fence_count; f++) {
		free(fences[f].cpus);
		free(fences[f].mask);
	}
	free(fences);
	free(used);
	free(union_mask);
	free(ids);
	return error;
}

struct cgroup_enforce_plan *
cgroup_enforce_plan(const struct planner_pod *pods, size_t pod_count,
    const struct topology *topology,
    const struct cgroup_enforce_plan_options *options, char **cause)
{
	struct cgroup_enforce_plan *plan;
	const struct planner_pod **sorted = NULL;
	const char *relative;
	char label[512];
	int error = 0, len;

	if ((plan = calloc(1, sizeof *plan)) == NULL ||
	    (pod_count > 0 &&
	    (sorted = calloc(pod_count, sizeof *sorted)) == NULL)) {
		error = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < pod_count; i++) {
		sorted[i] = &pods[i];
		if (pods[i].pod == NULL) {
			cause_set(cause, "pod %zu: no pod", i);
			error = -EINVAL;
			goto out;
		}
		if (pods[i].cgroup != NULL &&
		    cgroup_enforce_clean_relative(pods[i].cgroup, &relative) < 0) {
			cause_set(cause,
			    "pod %s: cgroup \"%.200s\" is not a path below the hierarchy root",
			    cgroup_enforce_pod_label(pods[i].pod, label, sizeof label),
			    pods[i].cgroup);
			error = -EINVAL;
			goto out;
		}
	}
	if (pod_count > 0)
		qsort(sorted, pod_count, sizeof *sorted, cgroup_enforce_compare_pods);

	if (options->exclusive_critical &&
	    (error = cgroup_enforce_plan_fences(plan, sorted, pod_count, topology,
	    options)) != 0)
		goto out;
	for (size_t i = 0; i < pod_count; i++) {
		const struct planner_pod *pp = sorted[i];

		if (pp->tier != TIER_LOW && pp->tier != TIER_BACKGROUND)
			continue;
		if (pp->cgroup == NULL) {
			if ((error = cgroup_enforce_note(plan,
			    "pod %s: %s, but its cgroup is not known yet; nothing written",
			    cgroup_enforce_pod_label(pp->pod, label, sizeof label),
			    tier_name(pp->tier))) != 0)
				goto out;
			continue;
		}
		len = cgroup_enforce_clean_relative(pp->cgroup, &relative);
		if ((error = cgroup_enforce_add_write(plan, pp->pod->uid,
		    CGROUP_ENFORCE_CPU, relative, (size_t)len, "cpu.idle", "1")) != 0)
			goto out;
	}

out:
	free(sorted);
	if (error != 0) {
		cgroup_enforce_plan_free(plan);
		errno = -error;
		return NULL;
	}
	return plan;
}

/* Read a small cgroup file, trailing whitespace trimmed. */
static int
cgroup_enforce_read_value(const char *path, char **value)
{
	char text[CGROUP_ENFORCE_VALUE_MAX];
	ssize_t n;
	size_t len = 0;
	int fd;

	*value = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	while (len < sizeof text - 1) {
		n = read(fd, text + len, sizeof text - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	text[len] = '\0';
	if ((*value = strdup(text)) == NULL)
		return -ENOMEM;
	return 0;
}

/*
 * The value as Temper compares and restores it: a partition reads "root
 * invalid (reason)" when the kernel refused it; its first word is the
 * state that was asked for.
 */
static void
cgroup_enforce_normalize(const char *file, char *value)
{
	char *space;

	if (strcmp(file, "cpuset.cpus.partition") == 0 &&
	    (space = strchr(value, ' ')) != NULL)
		*space = '\0';
}

static int
cgroup_enforce_write_value(const char *path, const char *value)
{
	ssize_t n;
	int fd, error = 0;

	/* O_TRUNC as a shell's ">" does: kernfs ignores it, a fixture file
	 * standing in for a cgroup file needs it. */
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return -errno;
	/* An empty value ("inherit the parent's CPUs") is written as a newline:
	 * a zero-length write never reaches the kernel's handler. */
	if (*value == '\0')
		value = "\n";
	do
		n = write(fd, value, strlen(value));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		error = -errno;
	else if ((size_t)n != strlen(value))
		error = -EIO;
	if (close(fd) != 0 && error == 0)
		error = -errno;
	return error;
}

static char *
cgroup_enforce_join(const char *directory, const char *file)
{
	char *path;

	if (asprintf(&path, "%s/%s", directory, file) < 0)
		return NULL;
	return path;
}

static void
cgroup_enforce_entry_clear(struct cgroup_enforce_entry *entry)
{
	free(entry->directory);
	free(entry->file);
	free(entry->original);
	free(entry->applied);
	free(entry->pod_uid);
	free(entry->weight_file);
	free(entry->weight);
}

static void
cgroup_enforce_journal_free(struct cgroup_enforce_entry *journal, size_t count)
{
	for (size_t i = 0; i < count; i++)
		cgroup_enforce_entry_clear(&journal[i]);
	free(journal);
}

/* The journal's text: a header, then directory TAB file TAB original TAB
 * applied TAB pod-uid TAB weight-file TAB weight ("-" for none), one entry a
 * line, in the order applied. */
static int
cgroup_enforce_journal_text(const struct cgroup_enforce *enforce,
    struct buf *b)
{
	int error = buf_puts(b, CGROUP_ENFORCE_JOURNAL_HEADER);

	for (size_t i = 0; error == 0 && i < enforce->journal_count; i++) {
		const struct cgroup_enforce_entry *e = &enforce->journal[i];

		error = buf_printf(b, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    e->directory, e->file, e->original, e->applied,
		    e->pod_uid ? e->pod_uid : "-",
		    e->weight_file ? e->weight_file : "-",
		    e->weight ? e->weight : "-");
	}
	return error;
}

static int
cgroup_enforce_fsync_dir(const char *directory)
{
	int fd, error = 0;

	if ((fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if (fsync(fd) != 0)
		error = -errno;
	close(fd);
	return error;
}

/*
 * Make the journal on disk match memory: tmp + fsync + rename + fsync of
 * the directory, so a crash leaves the old journal or the new one, never
 * half of one.  No entries: the journal file goes away.
 */
static int
cgroup_enforce_journal_save(struct cgroup_enforce *enforce)
{
	struct buf text = BUF_INIT;
	char *tmp = NULL;
	size_t done = 0;
	ssize_t n;
	int fd = -1, error;

	if (enforce->journal_count == 0) {
		if (unlink(enforce->journal_path) != 0 && errno != ENOENT)
			return -errno;
		return cgroup_enforce_fsync_dir(enforce->state_dir);
	}
	if ((error = cgroup_enforce_journal_text(enforce, &text)) != 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp", enforce->journal_path) < 0) {
		tmp = NULL;
		error = -ENOMEM;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		error = -errno;
		goto out;
	}
	while (done < text.len) {
		n = write(fd, text.data + done, text.len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = -errno;
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		error = -errno;
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, enforce->journal_path) != 0) {
		error = -errno;
		goto out;
	}
	error = cgroup_enforce_fsync_dir(enforce->state_dir);

out:
	if (fd != -1)
		close(fd);
	if (error != 0 && tmp != NULL)
		unlink(tmp);
	if (error != 0)
		log_error("cgroup journal %s not saved: %s; cgroup files are left unchanged",
		    enforce->journal_path, strerror(-error));
	free(tmp);
	buf_free(&text);
	return error;
}

/* Read a whole file into b; 0 or -errno, -EFBIG beyond max bytes. */
static int
cgroup_enforce_read_file(const char *path, struct buf *b, size_t max)
{
	ssize_t n;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	for (;;) {
		if ((error = buf_reserve(b, 65536)) != 0)
			break;
		n = read(fd, b->data + b->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n < 0 ? -errno : 0;
			break;
		}
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (b->len > max) {
			error = -EFBIG;
			break;
		}
	}
	close(fd);
	return error;
}

static int
cgroup_enforce_journal_load(struct cgroup_enforce *enforce, char **cause)
{
	struct cgroup_enforce_entry *entries = NULL, *grown;
	struct buf text = BUF_INIT;
	size_t count = 0, line_number = 1;
	char *line, *next, *fields[7];
	int error;

	error = cgroup_enforce_read_file(enforce->journal_path, &text,
	    CGROUP_ENFORCE_FILE_MAX);
	if (error == -ENOENT)
		return 0;
	if (error != 0) {
		cause_set(cause, "%s: %s", enforce->journal_path,
		    strerror(-error));
		goto out;
	}
	if (text.len < strlen(CGROUP_ENFORCE_JOURNAL_HEADER) ||
	    strncmp(text.data, CGROUP_ENFORCE_JOURNAL_HEADER,
	    strlen(CGROUP_ENFORCE_JOURNAL_HEADER)) != 0) {
		cause_set(cause, "%s: not a Temper cgroup journal",
		    enforce->journal_path);
		error = -EINVAL;
		goto out;
	}
	for (line = text.data + strlen(CGROUP_ENFORCE_JOURNAL_HEADER);
	    *line != '\0'; line = next) {
		size_t field = 0;

		line_number++;
		if ((next = strchr(line, '\n')) == NULL) {
			/* A rename makes the journal whole: a torn line is corruption. */
			cause_set(cause, "%s:%zu: unterminated line",
			    enforce->journal_path, line_number);
			error = -EINVAL;
			goto out;
		}
		*next++ = '\0';
		fields[field++] = line;
		for (char *p = line; *p != '\0'; p++)
			if (*p == '\t') {
				*p = '\0';
				if (field == 7)
					break;
				fields[field++] = p + 1;
			}
		if (field != 7 || fields[0][0] != '/' || fields[1][0] == '\0' ||
		    strchr(fields[1], '/') != NULL || strchr(fields[5], '/') != NULL) {
			cause_set(cause, "%s:%zu: malformed entry",
			    enforce->journal_path, line_number);
			error = -EINVAL;
			goto out;
		}
		if ((grown = realloc(entries, (count + 1) * sizeof *grown)) == NULL)
			goto nomem;
		entries = grown;
		memset(&entries[count], 0, sizeof entries[count]);
		count++;
		if ((entries[count - 1].directory = strdup(fields[0])) == NULL ||
		    (entries[count - 1].file = strdup(fields[1])) == NULL ||
		    (entries[count - 1].original = strdup(fields[2])) == NULL ||
		    (entries[count - 1].applied = strdup(fields[3])) == NULL ||
		    (strcmp(fields[4], "-") != 0 &&
		    (entries[count - 1].pod_uid = strdup(fields[4])) == NULL) ||
		    (strcmp(fields[5], "-") != 0 &&
		    ((entries[count - 1].weight_file = strdup(fields[5])) == NULL ||
		    (entries[count - 1].weight = strdup(fields[6])) == NULL)))
			goto nomem;
	}
	cgroup_enforce_journal_free(enforce->journal, enforce->journal_count);
	enforce->journal = entries;
	enforce->journal_count = count;
	entries = NULL;
	count = 0;
	goto out;

nomem:
	error = -ENOMEM;
out:
	cgroup_enforce_journal_free(entries, count);
	buf_free(&text);
	return error;
}

/* After cpu.idle=0 the kernel has reset the weight: put the kubelet's back. */
static int
cgroup_enforce_restore_weight(const struct cgroup_enforce_entry *entry)
{
	char *path, *current = NULL;
	int error;

	if ((path = cgroup_enforce_join(entry->directory,
	    entry->weight_file)) == NULL)
		return -ENOMEM;
	if ((error = cgroup_enforce_read_value(path, &current)) == 0 &&
	    strcmp(current, entry->weight) != 0) {
		if ((error = cgroup_enforce_write_value(path, entry->weight)) != 0)
			log_warn("cgroup %s: putting back the weight %s (the kernel reset it to %s "
			    "when cpu.idle went to 0) failed: %s; kept to retry",
			    path, entry->weight, current, strerror(-error));
		else
			log_debug("cgroup %s: weight %s put back (the kernel had reset it to %s)",
			    path, entry->weight, current);
	}
	if (error == -ENOENT)
		error = 0;
	free(current);
	free(path);
	return error;
}

/*
 * Put one journalled value back if the file still holds what Temper wrote.
 * 0 when the entry is done with (restored, the cgroup is gone, or someone
 * else's value is there now), or the write's -errno to keep it for later.
 */
static int
cgroup_enforce_restore_entry(const struct cgroup_enforce_entry *entry)
{
	char *path, *current = NULL;
	int error;

	if ((path = cgroup_enforce_join(entry->directory, entry->file)) == NULL)
		return -ENOMEM;
	error = cgroup_enforce_read_value(path, &current);
	if (error == -ENOENT || error == -ENODEV) {
		log_debug("cgroup %s is gone; nothing to put back", path);
		error = 0;
		goto out;
	}
	if (error != 0) {
		log_warn("cgroup %s unreadable (%s); its journal entry is kept to retry",
		    path, strerror(-error));
		goto out;
	}
	cgroup_enforce_normalize(entry->file, current);
	if (strcmp(current, entry->applied) != 0) {
		log_info("cgroup %s holds \"%s\", not the \"%s\" Temper wrote; left as it is",
		    path, current, entry->applied);
		goto out;
	}
	if ((error = cgroup_enforce_write_value(path, entry->original)) != 0) {
		log_warn("cgroup %s: putting back \"%s\" failed: %s; the journal entry is kept to retry",
		    path, entry->original, strerror(-error));
		goto out;
	}
	log_debug("cgroup %s: put back \"%s\"", path, entry->original);
	if (entry->weight_file != NULL)
		error = cgroup_enforce_restore_weight(entry);
out:
	free(current);
	free(path);
	return error;
}

/* Restore the entries for which keep[i] is false, last applied first. */
static int
cgroup_enforce_restore_except(struct cgroup_enforce *enforce, const bool *keep)
{
	size_t kept = 0, count = enforce->journal_count;
	bool *drop;
	int error = 0, restore_error;

	if (count == 0)
		return 0;
	if ((drop = calloc(count, sizeof *drop)) == NULL)
		return -ENOMEM;
	for (size_t i = count; i-- > 0;) {
		if (keep != NULL && keep[i])
			continue;
		restore_error = cgroup_enforce_restore_entry(&enforce->journal[i]);
		if (restore_error == 0)
			drop[i] = true;
		else if (error == 0)
			error = restore_error;
	}
	for (size_t i = 0; i < count; i++) {
		if (drop[i])
			cgroup_enforce_entry_clear(&enforce->journal[i]);
		else
			enforce->journal[kept++] = enforce->journal[i];
	}
	enforce->journal_count = kept;
	free(drop);
	restore_error = cgroup_enforce_journal_save(enforce);
	return error != 0 ? error : restore_error;
}

int
cgroup_enforce_restore_all(struct cgroup_enforce *enforce)
{
	int error;

	error = cgroup_enforce_restore_except(enforce, NULL);
	if (enforce->journal_count == 0)
		log_info("cgroup enforcement stood down: every value Temper wrote is put back");
	return error;
}

size_t
cgroup_enforce_journal_count(const struct cgroup_enforce *enforce)
{
	return enforce->journal_count;
}

void
cgroup_enforce_free(struct cgroup_enforce *enforce)
{
	if (enforce == NULL)
		return;
	cgroup_enforce_journal_free(enforce->journal, enforce->journal_count);
	if (enforce->plan != NULL)
		for (size_t i = 0; i < enforce->plan->write_count; i++)
			free(enforce->targets[i].directory);
	free(enforce->targets);
	cgroup_enforce_plan_free(enforce->plan);
	free(enforce->state_dir);
	free(enforce->journal_path);
	free(enforce->cpu_manager_state);
	free(enforce->cpu_root);
	free(enforce->cpuset_root);
	free(enforce);
}

struct cgroup_enforce *
cgroup_enforce_new(const char *state_dir,
    const struct cgroup_enforce_options *options, char **cause)
{
	struct cgroup_enforce *enforce;
	const char *root = "/sys/fs/cgroup";
	char *v2 = NULL;
	int error;

	if ((enforce = calloc(1, sizeof *enforce)) == NULL)
		return NULL;
	if (options->cgroup_root != NULL)
		root = options->cgroup_root;
	enforce->layout = options->layout;
	enforce->exclusive_critical = options->exclusive_critical;
	enforce->reserve_cpus = options->reserve_cpus;
	if ((enforce->state_dir = strdup(state_dir)) == NULL ||
	    (enforce->cpu_manager_state = strdup(options->cpu_manager_state ?
	    options->cpu_manager_state : CGROUP_ENFORCE_CPU_MANAGER_STATE)) == NULL ||
	    asprintf(&enforce->journal_path, "%s/%s", state_dir,
	    CGROUP_ENFORCE_JOURNAL) < 0) {
		enforce->journal_path = NULL;
		error = -ENOMEM;
		goto fail;
	}
	if ((error = cgroup_discovery_detect(root, &enforce->layout, &v2,
	    &enforce->cpu_root, &enforce->cpuset_root, cause)) != 0)
		goto fail;
	free(v2);
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		error = -errno;
		cause_set(cause, "state directory %s: %s", state_dir,
		    strerror(errno));
		goto fail;
	}
	if ((error = cgroup_enforce_journal_load(enforce, cause)) != 0)
		goto fail;
	if (enforce->journal_count > 0) {
		log_warn("cgroup journal %s holds %zu values from an earlier run; putting them back first",
		    enforce->journal_path, enforce->journal_count);
		if (cgroup_enforce_restore_all(enforce) != 0)
			log_warn("cgroup journal %s: %zu values could not be put back yet; kept to retry",
			    enforce->journal_path, enforce->journal_count);
	}
	return enforce;

fail:
	cgroup_enforce_free(enforce);
	errno = -error;
	return NULL;
}

static const char *
cgroup_enforce_root_of(const struct cgroup_enforce *enforce,
    enum cgroup_enforce_controller controller)
{
	return controller == CGROUP_ENFORCE_CPU ? enforce->cpu_root :
	    enforce->cpuset_root;
}

static void
cgroup_enforce_drop_targets(struct cgroup_enforce *enforce)
{
	if (enforce->plan != NULL)
		for (size_t i = 0; i < enforce->plan->write_count; i++)
			free(enforce->targets[i].directory);
	free(enforce->targets);
	enforce->targets = NULL;
	cgroup_enforce_plan_free(enforce->plan);
	enforce->plan = NULL;
}

/* Record the weight cpu.idle=1 is about to destroy (see the entry). */
static int
cgroup_enforce_read_weight(const struct cgroup_enforce *enforce,
    struct cgroup_enforce_entry *entry)
{
	const char *file = enforce->layout == CGROUP_LAYOUT_V2 ? "cpu.weight" :
	    "cpu.shares";
	char *path;
	int error;

	if ((path = cgroup_enforce_join(entry->directory, file)) == NULL)
		return -ENOMEM;
	error = cgroup_enforce_read_value(path, &entry->weight);
	free(path);
	if (error != 0)
		return error;
	if ((entry->weight_file = strdup(file)) == NULL)
		return -ENOMEM;
	return 0;
}

/*
 * Whether the kubelet already narrows this Critical pod's CPUs: the pod's
 * cpuset, or a container's, differs from the pod parent's effective set.
 * The pod's own cpuset.cpus is ignored when Temper wrote it.
 */
static bool
cgroup_enforce_kubelet_narrowed(const struct cgroup_enforce *enforce,
    const char *relative)
{
	char *directory = NULL, *parent = NULL, *parent_cpus = NULL, *path;
	char *value = NULL, *slash;
	struct dirent *entry;
	bool narrowed = false, ours = false;
	DIR *dir;

	if (enforce->cpuset_root == NULL ||
	    asprintf(&directory, "%s/%s", enforce->cpuset_root, relative) < 0)
		return false;
	while (strlen(directory) > 1 && directory[strlen(directory) - 1] == '/')
		directory[strlen(directory) - 1] = '\0';
	if ((parent = strdup(directory)) == NULL ||
	    (slash = strrchr(parent, '/')) == NULL)
		goto out;
	*slash = '\0';
	path = cgroup_enforce_join(parent, enforce->layout == CGROUP_LAYOUT_V2 ?
	    "cpuset.cpus.effective" : "cpuset.cpus");
	if (path == NULL || cgroup_enforce_read_value(path, &parent_cpus) != 0) {
		free(path);
		goto out;
	}
	free(path);
	for (size_t i = 0; i < enforce->journal_count; i++)
		if (strcmp(enforce->journal[i].directory, directory) == 0 &&
		    strcmp(enforce->journal[i].file, "cpuset.cpus") == 0)
			ours = true;
	if (!ours && (path = cgroup_enforce_join(directory, "cpuset.cpus")) != NULL) {
		if (cgroup_enforce_read_value(path, &value) == 0 &&
		    value[0] != '\0' && strcmp(value, parent_cpus) != 0)
			narrowed = true;
		free(value);
		value = NULL;
		free(path);
	}
	if (narrowed || (dir = opendir(directory)) == NULL)
		goto out;
	while (!narrowed && (entry = readdir(dir)) != NULL) {
		char *child;

		if (entry->d_name[0] == '.' || entry->d_type != DT_DIR)
			continue;
		if (asprintf(&child, "%s/%s/cpuset.cpus", directory,
		    entry->d_name) < 0)
			break;
		if (cgroup_enforce_read_value(child, &value) == 0 &&
		    value[0] != '\0' && strcmp(value, parent_cpus) != 0 &&
		    !ours)
			narrowed = true;
		free(value);
		value = NULL;
		free(child);
	}
	closedir(dir);
out:
	free(directory);
	free(parent);
	free(parent_cpus);
	return narrowed;
}

int
cgroup_enforce_apply(struct cgroup_enforce *enforce,
    const struct planner_pod *pods, size_t pod_count,
    const struct topology *topology)
{
	struct cgroup_enforce_plan_options plan_options = { 0 };
	struct cgroup_enforce_cpu_manager kubelet = { 0 };
	struct cgroup_enforce_plan *plan = NULL;
	struct cgroup_enforce_target *targets = NULL;
	const char **pinned = NULL;
	size_t pinned_count = 0, old_count;
	struct buf text = BUF_INIT;
	bool *keep = NULL, *fresh = NULL, changed = false;
	char *cause = NULL, *current = NULL, *path = NULL;
	int error = 0, first_error = 0;
	ssize_t *entry_of = NULL;

	plan_options.v2 = enforce->layout == CGROUP_LAYOUT_V2;
	plan_options.exclusive_critical = enforce->exclusive_critical;
	plan_options.reserve_cpus = enforce->reserve_cpus;
	if (enforce->exclusive_critical) {
		error = cgroup_enforce_read_file(enforce->cpu_manager_state,
		    &text, CGROUP_ENFORCE_FILE_MAX);
		if (error == 0 && cgroup_enforce_parse_cpu_manager(text.data,
		    &kubelet, &cause) != 0) {
			log_warn("%s: %s; treating every Critical pod as not pinned by the kubelet",
			    enforce->cpu_manager_state, cause ? cause : "unreadable");
			free(cause);
			cause = NULL;
		}
		error = 0;
		if (kubelet.policy != NULL && strcmp(kubelet.policy, "static") == 0) {
			plan_options.kubelet_cpus = kubelet.cpus;
			plan_options.kubelet_cpu_count = kubelet.cpu_count;
		}
		if ((pinned = calloc(pod_count + kubelet.pod_count + 1,
		    sizeof *pinned)) == NULL)
			goto nomem;
		if (kubelet.policy != NULL && strcmp(kubelet.policy, "static") == 0)
			for (size_t i = 0; i < kubelet.pod_count; i++)
				pinned[pinned_count++] = kubelet.pods[i];
		for (size_t i = 0; i < pod_count; i++)
			if (pods[i].tier == TIER_CRITICAL && pods[i].cgroup != NULL &&
			    cgroup_enforce_kubelet_narrowed(enforce, pods[i].cgroup))
				pinned[pinned_count++] =
				    cgroup_discovery_cgroup_uid(pods[i].pod);
		plan_options.kubelet_pinned = pinned;
		plan_options.kubelet_pinned_count = pinned_count;
	}
	if ((plan = cgroup_enforce_plan(pods, pod_count, topology, &plan_options,
	    &cause)) == NULL) {
		error = -errno;
		log_warn("cgroup enforcement: no plan (%s); cgroups left as they are",
		    cause ? cause : strerror(errno));
		goto out;
	}
	if ((plan->write_count > 0 &&
	    ((targets = calloc(plan->write_count, sizeof *targets)) == NULL ||
	    (entry_of = calloc(plan->write_count, sizeof *entry_of)) == NULL ||
	    (fresh = calloc(plan->write_count, sizeof *fresh)) == NULL)) ||
	    (enforce->journal_count > 0 &&
	    (keep = calloc(enforce->journal_count, sizeof *keep)) == NULL))
		goto nomem;
	for (size_t w = 0; w < plan->write_count; w++) {
		const struct cgroup_enforce_write *write = &plan->writes[w];
		const char *root = cgroup_enforce_root_of(enforce, write->controller);

		entry_of[w] = -1;
		if (root == NULL) {
			targets[w].error = -ENOENT;
			continue;
		}
		if (asprintf(&targets[w].directory, "%s/%s", root,
		    write->relative) < 0) {
			targets[w].directory = NULL;
			goto nomem;
		}
		for (size_t j = 0; j < enforce->journal_count; j++)
			if (strcmp(enforce->journal[j].directory,
			    targets[w].directory) == 0 &&
			    strcmp(enforce->journal[j].file, write->file) == 0) {
				keep[j] = true;
				entry_of[w] = (ssize_t)j;
			}
	}

	/* What no pod asks for any more goes back first (a pod left its tier,
	 * or its cgroup vanished: then the entry is simply dropped). */
	for (size_t j = 0; j < enforce->journal_count && !changed; j++)
		changed = !keep[j];
	if (changed) {
		/* Journal indexes move when entries go: map them afresh below. */
		if ((error = cgroup_enforce_restore_except(enforce, keep)) != 0 &&
		    first_error == 0)
			first_error = error;
		for (size_t w = 0; w < plan->write_count; w++) {
			entry_of[w] = -1;
			for (size_t j = 0; targets[w].directory != NULL &&
			    j < enforce->journal_count; j++)
				if (strcmp(enforce->journal[j].directory,
				    targets[w].directory) == 0 &&
				    strcmp(enforce->journal[j].file,
				    plan->writes[w].file) == 0)
					entry_of[w] = (ssize_t)j;
		}
	}

	/* Journal every new or changed value before any cgroup file moves. */
	old_count = enforce->journal_count;
	changed = false;
	for (size_t w = 0; w < plan->write_count; w++) {
		const struct cgroup_enforce_write *write = &plan->writes[w];
		struct cgroup_enforce_entry *entry, *grown;

		if (targets[w].directory == NULL)
			continue;
		free(path);
		free(current);
		current = NULL;
		if ((path = cgroup_enforce_join(targets[w].directory,
		    write->file)) == NULL)
			goto nomem;
		if ((error = cgroup_enforce_read_value(path, &current)) != 0) {
			targets[w].error = error;
			log_warn("cgroup %s unreadable (%s); pod %s is not enforced there",
			    path, strerror(-error), write->pod_uid ? write->pod_uid : "(shared)");
			continue;
		}
		cgroup_enforce_normalize(write->file, current);
		if (entry_of[w] >= 0) {
			entry = &enforce->journal[entry_of[w]];
			if (strcmp(entry->applied, write->value) == 0) {
				/* Changed behind our back: write it again. */
				fresh[w] = strcmp(current, write->value) != 0;
				continue;
			}
			/* A new value over our old one: the original stays. */
			free(entry->applied);
			if ((entry->applied = strdup(write->value)) == NULL)
				goto nomem;
			fresh[w] = changed = true;
			continue;
		}
		if (strcmp(current, write->value) == 0)
			continue;	/* already so, and not by us: nothing to undo */
		if ((grown = realloc(enforce->journal,
		    (enforce->journal_count + 1) * sizeof *grown)) == NULL)
			goto nomem;
		enforce->journal = grown;
		entry = &enforce->journal[enforce->journal_count];
		memset(entry, 0, sizeof *entry);
		if ((entry->directory = strdup(targets[w].directory)) == NULL ||
		    (entry->file = strdup(write->file)) == NULL ||
		    (entry->applied = strdup(write->value)) == NULL ||
		    (write->pod_uid != NULL &&
		    (entry->pod_uid = strdup(write->pod_uid)) == NULL)) {
			cgroup_enforce_entry_clear(entry);
			goto nomem;
		}
		entry->original = current;
		current = NULL;
		if (strcmp(write->file, "cpu.idle") == 0 &&
		    (error = cgroup_enforce_read_weight(enforce, entry)) != 0) {
			cgroup_enforce_entry_clear(entry);
			if (error == -ENOMEM)
				goto nomem;
			targets[w].error = error;
			log_warn("cgroup %s: the weight beside cpu.idle is unreadable (%s); "
			    "pod %s is not made idle", targets[w].directory,
			    strerror(-error), write->pod_uid ? write->pod_uid : "?");
			continue;
		}
		entry_of[w] = (ssize_t)enforce->journal_count++;
		fresh[w] = changed = true;
	}
	if (changed && (error = cgroup_enforce_journal_save(enforce)) != 0) {
		/* Unrecorded values are never written: forget the new entries. */
		for (size_t j = old_count; j < enforce->journal_count; j++)
			cgroup_enforce_entry_clear(&enforce->journal[j]);
		enforce->journal_count = old_count;
		first_error = error;
		goto swap;
	}

	changed = false;
	for (size_t w = 0; w < plan->write_count; w++) {
		const struct cgroup_enforce_write *write = &plan->writes[w];

		if (!fresh[w])
			continue;
		free(path);
		if ((path = cgroup_enforce_join(targets[w].directory,
		    write->file)) == NULL)
			goto nomem;
		if ((error = cgroup_enforce_write_value(path, write->value)) == 0) {
			log_info("cgroup %s = %s (pod %s)", path, write->value,
			    write->pod_uid ? write->pod_uid : "(shared ancestor)");
			targets[w].error = 0;
			continue;
		}
		targets[w].error = error;
		if (first_error == 0)
			first_error = error;
		log_warn("cgroup %s: writing \"%s\" failed: %s; pod %s is not enforced there",
		    path, write->value, strerror(-error),
		    write->pod_uid ? write->pod_uid : "(shared ancestor)");
		/* The file did not change: an entry made for this write goes. */
		if (entry_of[w] >= (ssize_t)old_count) {
			struct cgroup_enforce_entry *entry =
			    &enforce->journal[entry_of[w]];

			free(entry->applied);
			entry->applied = NULL;
			changed = true;
		}
	}
	if (changed) {
		size_t kept = 0;

		for (size_t j = 0; j < enforce->journal_count; j++) {
			if (enforce->journal[j].applied == NULL)
				cgroup_enforce_entry_clear(&enforce->journal[j]);
			else
				enforce->journal[kept++] = enforce->journal[j];
		}
		enforce->journal_count = kept;
		(void)cgroup_enforce_journal_save(enforce);
	}

swap:
	cgroup_enforce_drop_targets(enforce);
	enforce->plan = plan;
	enforce->targets = targets;
	plan = NULL;
	targets = NULL;
	error = first_error;
	goto out;

nomem:
	error = -ENOMEM;
out:
	if (plan != NULL && targets != NULL)
		for (size_t w = 0; w < plan->write_count; w++)
			free(targets[w].directory);
	free(targets);
	cgroup_enforce_plan_free(plan);
	cgroup_enforce_cpu_manager_clear(&kubelet);
	free(pinned);
	free(keep);
	free(fresh);
	free(entry_of);
	free(path);
	free(current);
	free(cause);
	buf_free(&text);
	return error;
}

void
cgroup_enforce_effects_free(struct cgroup_enforce_effect *effects, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(effects[i].path);
		free(effects[i].actual);
	}
	free(effects);
}

int
cgroup_enforce_read_back(const struct cgroup_enforce *enforce,
    struct cgroup_enforce_effect **effects, size_t *count)
{
	const struct cgroup_enforce_plan *plan = enforce->plan;
	struct cgroup_enforce_effect *list;

	*effects = NULL;
	*count = 0;
	if (plan == NULL || plan->write_count == 0)
		return 0;
	if ((list = calloc(plan->write_count, sizeof *list)) == NULL)
		return -ENOMEM;
	for (size_t w = 0; w < plan->write_count; w++) {
		const struct cgroup_enforce_write *write = &plan->writes[w];
		struct cgroup_enforce_effect *effect = &list[w];
		const char *root = cgroup_enforce_root_of(enforce, write->controller);

		effect->pod_uid = write->pod_uid;
		effect->intended = write->value;
		effect->error = enforce->targets[w].error;
		if (asprintf(&effect->path, "%s/%s/%s", root ? root : "(none)",
		    write->relative, write->file) < 0) {
			effect->path = NULL;
			cgroup_enforce_effects_free(list, w + 1);
			return -ENOMEM;
		}
		if (root == NULL)
			continue;
		/* "root invalid (...)" stays whole here: the reason is what an
		 * operator needs to see. */
		effect->error = cgroup_enforce_read_value(effect->path,
		    &effect->actual);
		if (effect->error == -ENOMEM) {
			cgroup_enforce_effects_free(list, w + 1);
			return -ENOMEM;
		}
		if (effect->error == 0)
			effect->error = enforce->targets[w].error;
		effect->in_effect = effect->actual != NULL &&
		    strcmp(effect->actual, effect->intended) == 0;
	}
	*effects = list;
	*count = plan->write_count;
	return 0;
}

cJSON *
cgroup_enforce_status_json(const struct cgroup_enforce *enforce)
{
	struct cgroup_enforce_effect *effects = NULL;
	cJSON *json, *writes, *notes, *item;
	size_t count = 0, in_effect = 0;

	if ((json = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cgroup_enforce_read_back(enforce, &effects, &count) != 0)
		goto fail;
	for (size_t i = 0; i < count; i++)
		if (effects[i].in_effect)
			in_effect++;
	if (cJSON_AddStringToObject(json, "backend", "cgroup") == NULL ||
	    cJSON_AddStringToObject(json, "layout",
	    cgroup_layout_name(enforce->layout)) == NULL ||
	    cJSON_AddStringToObject(json, "journal", enforce->journal_path) == NULL ||
	    cJSON_AddNumberToObject(json, "journal_entries",
	    (double)enforce->journal_count) == NULL ||
	    cJSON_AddBoolToObject(json, "exclusive_critical",
	    enforce->exclusive_critical) == NULL ||
	    cJSON_AddNumberToObject(json, "intended", (double)count) == NULL ||
	    cJSON_AddNumberToObject(json, "in_effect", (double)in_effect) == NULL ||
	    (writes = cJSON_AddArrayToObject(json, "writes")) == NULL ||
	    (notes = cJSON_AddArrayToObject(json, "notes")) == NULL)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		const struct cgroup_enforce_effect *e = &effects[i];

		if ((item = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(writes, item) ||
		    (e->pod_uid != NULL ?
		    cJSON_AddStringToObject(item, "pod", e->pod_uid) :
		    cJSON_AddNullToObject(item, "pod")) == NULL ||
		    cJSON_AddStringToObject(item, "path", e->path) == NULL ||
		    cJSON_AddStringToObject(item, "intended", e->intended) == NULL ||
		    (e->actual != NULL ?
		    cJSON_AddStringToObject(item, "actual", e->actual) :
		    cJSON_AddNullToObject(item, "actual")) == NULL ||
		    cJSON_AddBoolToObject(item, "in_effect", e->in_effect) == NULL ||
		    (e->error != 0 &&
		    cJSON_AddStringToObject(item, "error", strerror(-e->error)) == NULL))
			goto fail;
	}
	for (size_t i = 0; enforce->plan != NULL && i < enforce->plan->note_count; i++)
		if (!cJSON_AddItemToArray(notes,
		    cJSON_CreateString(enforce->plan->notes[i])))
			goto fail;
	cgroup_enforce_effects_free(effects, count);
	return json;

fail:
	cgroup_enforce_effects_free(effects, count);
	cJSON_Delete(json);
	return NULL;
}
