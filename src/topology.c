/* topology.c - online CPUs, cores, LLCs and NUMA nodes from sysfs. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cause.h"
#include "topology.h"

/* Most CPU lists are a few ranges; a mask of 8192 single ids still fits. */
#define TOPOLOGY_FILE_MAX 65536
#define TOPOLOGY_MAX_NODES 1024
#define TOPOLOGY_MAX_CACHE_INDEXES 16

/* One online CPU as sysfs describes it, before cores and LLCs get indexes. */
struct topology_raw {
	unsigned id;
	unsigned package;
	unsigned core_key;	/* lowest online sibling */
	long core_id;		/* topology/core_id, -1 when unknown */
	bool has_siblings;	/* thread_siblings_list was readable */
	unsigned llc_key;	/* lowest online CPU sharing the LLC, or package + MAX */
	unsigned node;
};

/*
 * Parse a kernel CPU list ("0-3,8,10-11\n") into mask[0..TOPOLOGY_MAX_CPUS).
 * An empty list is valid (a memoryless or CPU-less node).
 */
static int
topology_parse_list(const char *text, bool *mask)
{
	const char *p = text;
	unsigned long first, last;
	char *end;

	while (*p != '\0' && *p != '\n') {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		first = strtoul(p, &end, 10);
		if (errno != 0 || first >= TOPOLOGY_MAX_CPUS)
			return -ERANGE;
		last = first;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			last = strtoul(p, &end, 10);
			if (errno != 0 || last >= TOPOLOGY_MAX_CPUS || last < first)
				return -ERANGE;
			p = end;
		}
		for (unsigned long id = first; id <= last; id++)
			mask[id] = true;
		if (*p == ',')
			p++;
		else if (*p != '\0' && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

/* Read a small sysfs file; 0, -errno, or -EFBIG when it does not fit. */
static int
topology_read_file(const char *path, char *text, size_t size)
{
	ssize_t n;
	size_t len = 0;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	for (;;) {
		n = read(fd, text + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			error = -EFBIG;
			break;
		}
	}
	close(fd);
	text[len] = '\0';
	return error;
}

static int
topology_read_long(const char *path, long *value)
{
	char text[64], *end;
	int error;

	if ((error = topology_read_file(path, text, sizeof text)) != 0)
		return error;
	errno = 0;
	*value = strtol(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\0' && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* The lowest online CPU of the list in path, or -errno. */
static long
topology_lowest_online(const char *path, const bool *online, bool *scratch,
    char *text)
{
	int error;

	memset(scratch, 0, TOPOLOGY_MAX_CPUS * sizeof *scratch);
	if ((error = topology_read_file(path, text, TOPOLOGY_FILE_MAX)) != 0)
		return error;
	if ((error = topology_parse_list(text, scratch)) != 0)
		return error;
	for (long id = 0; id < TOPOLOGY_MAX_CPUS; id++)
		if (scratch[id] && online[id])
			return id;
	return -ENOENT;
}

static int
topology_compare_raw(const void *a, const void *b)
{
	const struct topology_raw *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Give cores and LLCs dense indexes; raw is sorted here. */
static struct topology *
topology_build(struct topology_raw *raw, size_t count, size_t offline_count)
{
	struct topology *topology = NULL;
	int *core_of_key = NULL, *llc_of_key = NULL;
	bool node_seen[TOPOLOGY_MAX_NODES] = { false };
	size_t keys = 2 * TOPOLOGY_MAX_CPUS;

	if (count == 0 || count > TOPOLOGY_MAX_CPUS) {
		errno = EINVAL;
		return NULL;
	}
	qsort(raw, count, sizeof *raw, topology_compare_raw);
	if ((topology = calloc(1, sizeof *topology)) == NULL ||
	    (topology->cpus = calloc(count, sizeof *topology->cpus)) == NULL ||
	    (topology->cores = calloc(count, sizeof *topology->cores)) == NULL ||
	    (core_of_key = malloc(keys * sizeof *core_of_key)) == NULL ||
	    (llc_of_key = malloc(keys * sizeof *llc_of_key)) == NULL)
		goto fail;
	for (size_t i = 0; i < keys; i++)
		core_of_key[i] = llc_of_key[i] = -1;

	for (size_t i = 0; i < count; i++) {
		struct topology_cpu *cpu = &topology->cpus[i];
		struct topology_core *core;

		if (raw[i].core_key >= keys || raw[i].llc_key >= keys ||
		    raw[i].node >= TOPOLOGY_MAX_NODES ||
		    (i > 0 && raw[i].id == raw[i - 1].id)) {
			errno = EINVAL;
			goto fail;
		}
		cpu->id = raw[i].id;
		cpu->package = raw[i].package;
		cpu->node = raw[i].node;
		if (llc_of_key[raw[i].llc_key] < 0)
			llc_of_key[raw[i].llc_key] = (int)topology->llc_count++;
		cpu->llc = (unsigned)llc_of_key[raw[i].llc_key];
		if (core_of_key[raw[i].core_key] < 0) {
			core = &topology->cores[topology->core_count];
			core->first_cpu = cpu->id;
			core->llc = cpu->llc;
			core->node = cpu->node;
			core_of_key[raw[i].core_key] = (int)topology->core_count++;
		}
		cpu->core = (unsigned)core_of_key[raw[i].core_key];
		core = &topology->cores[cpu->core];
		core->cpu_count++;
		if (core->cpu_count > topology->threads_per_core)
			topology->threads_per_core = core->cpu_count;
		if (!node_seen[cpu->node]) {
			node_seen[cpu->node] = true;
			topology->node_count++;
		}
	}
	topology->cpu_count = count;
	topology->offline_count = offline_count;
	free(core_of_key);
	free(llc_of_key);
	return topology;
fail:
	free(core_of_key);
	free(llc_of_key);
	topology_free(topology);
	if (errno == 0)
		errno = ENOMEM;
	return NULL;
}

/* The node of every CPU from node/nodeN/cpulist; CPUs in none stay on 0. */
static int
topology_read_nodes(const char *root, struct topology_raw *raw, size_t count,
    const bool *online, bool *scratch, char *text)
{
	char path[PATH_MAX];
	struct dirent *entry;
	unsigned node;
	char tail;
	DIR *dir;
	int error = 0;

	snprintf(path, sizeof path, "%s/devices/system/node", root);
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((entry = readdir(dir)) != NULL) {
		if (sscanf(entry->d_name, "node%u%c", &node, &tail) != 1)
			continue;
		if (node >= TOPOLOGY_MAX_NODES) {
			error = -ERANGE;
			break;
		}
		snprintf(path, sizeof path, "%s/devices/system/node/%s/cpulist",
		    root, entry->d_name);
		memset(scratch, 0, TOPOLOGY_MAX_CPUS * sizeof *scratch);
		if ((error = topology_read_file(path, text, TOPOLOGY_FILE_MAX)) != 0) {
			if (error == -ENOENT) {
				error = 0;
				continue;
			}
			break;
		}
		if ((error = topology_parse_list(text, scratch)) != 0)
			break;
		for (size_t i = 0; i < count; i++)
			if (scratch[raw[i].id] && online[raw[i].id])
				raw[i].node = node;
	}
	closedir(dir);
	return error;
}

/* CPUs sysfs knows (cpuN directories) that are not in the online mask. */
static size_t
topology_count_offline(const char *root, const bool *online)
{
	char path[PATH_MAX];
	struct dirent *entry;
	size_t offline = 0;
	unsigned id;
	char tail;
	DIR *dir;

	snprintf(path, sizeof path, "%s/devices/system/cpu", root);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL)
		if (sscanf(entry->d_name, "cpu%u%c", &id, &tail) == 1 &&
		    id < TOPOLOGY_MAX_CPUS && !online[id])
			offline++;
	closedir(dir);
	return offline;
}

/* The LLC key of one CPU: its highest data or unified cache level. */
static long
topology_read_llc(const char *root, unsigned id, const bool *online,
    bool *scratch, char *text)
{
	char path[PATH_MAX], type[32];
	long level, best_level = -1, best = -ENOENT, lowest;

	for (unsigned index = 0; index < TOPOLOGY_MAX_CACHE_INDEXES; index++) {
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/cache/index%u/level", root, id,
		    index);
		if (topology_read_long(path, &level) != 0)
			break;
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/cache/index%u/type", root, id,
		    index);
		if (topology_read_file(path, type, sizeof type) == 0 &&
		    strncmp(type, "Instruction", 11) == 0)
			continue;
		if (level <= best_level)
			continue;
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/cache/index%u/shared_cpu_list",
		    root, id, index);
		lowest = topology_lowest_online(path, online, scratch, text);
		if (lowest < 0)
			continue;
		best_level = level;
		best = lowest;
	}
	return best;
}

/*
 * Without thread_siblings_list (old kernels, some containers), CPUs with the
 * same package and core_id are one core's threads.  raw is in id order, so
 * the first CPU of a pair is its lowest.
 */
static void
topology_cores_from_ids(struct topology_raw *raw, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (raw[i].has_siblings || raw[i].core_id < 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (!raw[j].has_siblings && raw[j].core_id == raw[i].core_id &&
			    raw[j].package == raw[i].package) {
				raw[i].core_key = raw[j].core_key;
				break;
			}
	}
}

struct topology *
topology_read(const char *sysfs_root, char **cause)
{
	struct topology *topology = NULL;
	struct topology_raw *raw = NULL;
	bool *online = NULL, *scratch = NULL;
	char path[PATH_MAX], *text = NULL;
	size_t count = 0;
	long value;
	int error;

	if ((online = calloc(TOPOLOGY_MAX_CPUS, sizeof *online)) == NULL ||
	    (scratch = calloc(TOPOLOGY_MAX_CPUS, sizeof *scratch)) == NULL ||
	    (text = malloc(TOPOLOGY_FILE_MAX)) == NULL ||
	    (raw = calloc(TOPOLOGY_MAX_CPUS, sizeof *raw)) == NULL) {
		error = -ENOMEM;
		cause_set(cause, "out of memory reading the CPU topology");
		goto out;
	}

	snprintf(path, sizeof path, "%s/devices/system/cpu/online", sysfs_root);
	if ((error = topology_read_file(path, text, TOPOLOGY_FILE_MAX)) != 0 ||
	    (error = topology_parse_list(text, online)) != 0) {
		cause_set(cause, "%s: %s", path, strerror(-error));
		goto out;
	}

	for (unsigned id = 0; id < TOPOLOGY_MAX_CPUS; id++) {
		struct topology_raw *cpu = &raw[count];
		long key;

		if (!online[id])
			continue;
		cpu->id = id;
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/topology/physical_package_id",
		    sysfs_root, id);
		/* Some platforms report -1 for "no package information". */
		if (topology_read_long(path, &value) == 0 && value > 0 &&
		    value < TOPOLOGY_MAX_CPUS)
			cpu->package = (unsigned)value;
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/topology/thread_siblings_list",
		    sysfs_root, id);
		key = topology_lowest_online(path, online, scratch, text);
		cpu->has_siblings = key >= 0;
		cpu->core_key = key >= 0 ? (unsigned)key : id;
		snprintf(path, sizeof path,
		    "%s/devices/system/cpu/cpu%u/topology/core_id", sysfs_root, id);
		if (topology_read_long(path, &cpu->core_id) != 0)
			cpu->core_id = -1;
		key = topology_read_llc(sysfs_root, id, online, scratch, text);
		cpu->llc_key = key >= 0 ? (unsigned)key :
		    TOPOLOGY_MAX_CPUS + cpu->package;
		count++;
	}
	topology_cores_from_ids(raw, count);
	if (count == 0) {
		error = -ENOENT;
		cause_set(cause, "%s/devices/system/cpu/online lists no CPU",
		    sysfs_root);
		goto out;
	}
	if ((error = topology_read_nodes(sysfs_root, raw, count, online, scratch,
	    text)) != 0) {
		cause_set(cause, "%s/devices/system/node: %s", sysfs_root,
		    strerror(-error));
		goto out;
	}
	if ((topology = topology_build(raw, count,
	    topology_count_offline(sysfs_root, online))) == NULL) {
		error = -errno;
		cause_set(cause, "%s: inconsistent CPU topology: %s",
		    sysfs_root, strerror(errno));
		goto out;
	}
	error = 0;
out:
	free(online);
	free(scratch);
	free(text);
	free(raw);
	if (error != 0)
		errno = -error;
	return topology;
}

struct topology *
topology_synthetic(unsigned nodes, unsigned llcs_per_node,
    unsigned cores_per_llc, unsigned threads_per_core)
{
	struct topology_raw *raw;
	struct topology *topology;
	unsigned long cores, count;
	unsigned cores_per_node;

	cores = (unsigned long)nodes * llcs_per_node * cores_per_llc;
	count = cores * threads_per_core;
	if (count == 0 || count > TOPOLOGY_MAX_CPUS || nodes > TOPOLOGY_MAX_NODES) {
		errno = EINVAL;
		return NULL;
	}
	if ((raw = calloc(count, sizeof *raw)) == NULL)
		return NULL;
	cores_per_node = llcs_per_node * cores_per_llc;
	for (unsigned long id = 0; id < count; id++) {
		unsigned core = (unsigned)(id % cores);

		raw[id].id = (unsigned)id;
		raw[id].core_key = core;
		raw[id].node = core / cores_per_node;
		raw[id].package = raw[id].node;
		raw[id].llc_key = (core / cores_per_llc) * cores_per_llc;
	}
	topology = topology_build(raw, count, 0);
	free(raw);
	return topology;
}

int
topology_siblings(const struct topology *topology, unsigned cpu_a,
    unsigned cpu_b)
{
	const struct topology_cpu *a = NULL, *b = NULL;

	for (size_t i = 0; i < topology->cpu_count; i++) {
		if (topology->cpus[i].id == cpu_a)
			a = &topology->cpus[i];
		if (topology->cpus[i].id == cpu_b)
			b = &topology->cpus[i];
	}
	return a != NULL && b != NULL && a != b && a->core == b->core;
}

char *
topology_describe(const struct topology *topology)
{
	struct buf out = BUF_INIT;
	bool uniform = true;

	for (size_t i = 0; i < topology->core_count; i++)
		if (topology->cores[i].cpu_count != topology->threads_per_core)
			uniform = false;
	buf_printf(&out, "%zu CPU%s (%zu core%s %s %u thread%s), %zu LLC%s, "
	    "%zu NUMA node%s", topology->cpu_count,
	    topology->cpu_count == 1 ? "" : "s", topology->core_count,
	    topology->core_count == 1 ? "" : "s", uniform ? "x" : "of up to",
	    topology->threads_per_core, topology->threads_per_core == 1 ? "" : "s",
	    topology->llc_count, topology->llc_count == 1 ? "" : "s",
	    topology->node_count, topology->node_count == 1 ? "" : "s");
	if (topology->offline_count > 0)
		buf_printf(&out, ", %zu offline", topology->offline_count);
	if (out.data == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return buf_detach(&out);
}

void
topology_free(struct topology *topology)
{
	if (topology == NULL)
		return;
	free(topology->cpus);
	free(topology->cores);
	free(topology);
}
