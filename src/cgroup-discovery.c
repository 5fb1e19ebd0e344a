/* cgroup-discovery.c - find a pod's cgroups by scanning, not by guessing. */
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
#include "cgroup-discovery.h"
#include "log.h"

/* Which hierarchy an index entry was found in. */
enum cgroup_discovery_hierarchy {
	CGROUP_DISCOVERY_V2,
	CGROUP_DISCOVERY_CPU,
	CGROUP_DISCOVERY_CPUSET,
};
#define CGROUP_DISCOVERY_HIERARCHIES 3

/* A container's processes sit in its cgroup or, with crun, one level down. */
#define CGROUP_DISCOVERY_PID_DEPTH 4
/* cgroup.procs of MAX_PIDS entries of up to 7 digits and a newline. */
#define CGROUP_DISCOVERY_PROCS_MAX (CGROUP_DISCOVERY_MAX_PIDS * 8)

struct cgroup_discovery_entry {
	char uid[CGROUP_DISCOVERY_MAX_UID + 1];
	enum cgroup_discovery_hierarchy hierarchy;
	enum cgroup_driver driver;
	enum pod_qos qos;
	char *relative;
};

struct cgroup_discovery {
	enum cgroup_layout layout;
	char *root;
	/* Indexed by enum cgroup_discovery_hierarchy; equal paths on v2. */
	char *hierarchy_root[CGROUP_DISCOVERY_HIERARCHIES];

	struct cgroup_discovery_entry *entries;	/* sorted by uid, hierarchy */
	size_t entry_count;
	size_t pod_count;
};

/* What one walk collects before it replaces the index. */
struct cgroup_discovery_scan {
	struct cgroup_discovery_entry *entries;
	size_t count;
	size_t capacity;
	int error;
	char *cause;
};

const char *
cgroup_layout_name(enum cgroup_layout layout)
{
	switch (layout) {
	case CGROUP_LAYOUT_V2:
		return "v2";
	case CGROUP_LAYOUT_HYBRID:
		return "hybrid";
	case CGROUP_LAYOUT_V1:
		return "v1";
	case CGROUP_LAYOUT_AUTO:
		break;
	}
	return "auto";
}

const char *
cgroup_driver_name(enum cgroup_driver driver)
{
	switch (driver) {
	case CGROUP_DRIVER_SYSTEMD:
		return "systemd";
	case CGROUP_DRIVER_CGROUPFS:
		return "cgroupfs";
	case CGROUP_DRIVER_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
cgroup_runtime_name(enum cgroup_runtime runtime)
{
	switch (runtime) {
	case CGROUP_RUNTIME_CONTAINERD:
		return "containerd";
	case CGROUP_RUNTIME_CRIO:
		return "cri-o";
	case CGROUP_RUNTIME_DOCKER:
		return "docker";
	case CGROUP_RUNTIME_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool
cgroup_discovery_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int
cgroup_discovery_parse_pod_name(const char *name, char *uid,
    enum cgroup_driver *driver)
{
	const char *start, *end;
	size_t name_len, len;
	char separator;

	name_len = strnlen(name, NAME_MAX + 1);
	if (name_len > NAME_MAX)
		return -EINVAL;
	if (name_len > 6 && strcmp(name + name_len - 6, ".slice") == 0) {
		/* "kubepods-burstable-pod<uid_>.slice": pod follows the last dash. */
		end = name + name_len - 6;
		start = NULL;
		for (const char *p = name; p < end; p++)
			if (*p == '-')
				start = p + 1;
		if (start == NULL)
			start = name;
		separator = '_';
		*driver = CGROUP_DRIVER_SYSTEMD;
	} else {
		start = name;
		end = name + name_len;
		separator = '-';
		*driver = CGROUP_DRIVER_CGROUPFS;
	}
	if (end - start < 4 || strncmp(start, "pod", 3) != 0)
		return -EINVAL;
	start += 3;
	len = (size_t)(end - start);
	if (len > CGROUP_DISCOVERY_MAX_UID)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (start[i] == separator)
			uid[i] = '-';
		else if (cgroup_discovery_is_hex(start[i]))
			uid[i] = start[i];
		else
			return -EINVAL;
	}
	/* A UID starts and ends with a hex digit. */
	if (uid[0] == '-' || uid[len - 1] == '-')
		return -EINVAL;
	uid[len] = '\0';
	return 0;
}

/* Whether text[0..64) is a container id and text ends right after it. */
static bool
cgroup_discovery_is_id(const char *text, const char *rest)
{
	for (size_t i = 0; i < CGROUP_DISCOVERY_CONTAINER_ID_LEN; i++)
		if (!cgroup_discovery_is_hex(text[i]))
			return false;
	return strcmp(text + CGROUP_DISCOVERY_CONTAINER_ID_LEN, rest) == 0;
}

int
cgroup_discovery_parse_container_name(const char *name, char *id,
    enum cgroup_runtime *runtime)
{
	static const struct {
		const char *prefix;
		const char *suffix;
		enum cgroup_runtime runtime;
	} forms[] = {
		{ "cri-containerd-", ".scope", CGROUP_RUNTIME_CONTAINERD },
		{ "crio-", ".scope", CGROUP_RUNTIME_CRIO },
		{ "docker-", ".scope", CGROUP_RUNTIME_DOCKER },
		{ "crio-", "", CGROUP_RUNTIME_CRIO },
		{ "", "", CGROUP_RUNTIME_CONTAINERD },
	};
	size_t name_len, prefix_len;

	name_len = strnlen(name, NAME_MAX + 1);
	if (name_len > NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		prefix_len = strlen(forms[i].prefix);
		if (name_len != prefix_len + CGROUP_DISCOVERY_CONTAINER_ID_LEN +
		    strlen(forms[i].suffix) ||
		    strncmp(name, forms[i].prefix, prefix_len) != 0 ||
		    !cgroup_discovery_is_id(name + prefix_len, forms[i].suffix))
			continue;
		memcpy(id, name + prefix_len, CGROUP_DISCOVERY_CONTAINER_ID_LEN);
		id[CGROUP_DISCOVERY_CONTAINER_ID_LEN] = '\0';
		*runtime = forms[i].runtime;
		return 0;
	}
	return -EINVAL;
}

const char *
cgroup_discovery_container_id(const char *status_id)
{
	const char *id;

	if (status_id == NULL)
		return NULL;
	id = strstr(status_id, "://");
	id = id != NULL ? id + 3 : status_id;
	if (strnlen(id, CGROUP_DISCOVERY_CONTAINER_ID_LEN + 1) !=
	    CGROUP_DISCOVERY_CONTAINER_ID_LEN || !cgroup_discovery_is_id(id, ""))
		return NULL;
	return id;
}

const char *
cgroup_discovery_cgroup_uid(const struct pod *pod)
{
	if (pod->config_mirror != NULL && pod->config_mirror[0] != '\0')
		return pod->config_mirror;
	return pod->uid;
}

enum pod_qos
cgroup_discovery_parent_qos(const char *parent_name)
{
	if (strstr(parent_name, "besteffort") != NULL)
		return POD_QOS_BESTEFFORT;
	if (strstr(parent_name, "burstable") != NULL)
		return POD_QOS_BURSTABLE;
	if (strstr(parent_name, "kubepods") != NULL)
		return POD_QOS_GUARANTEED;
	return POD_QOS_UNKNOWN;
}

static bool
cgroup_discovery_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
		return false;
	return access(path, F_OK) == 0;
}

/* The v1 controller directory holding file, or NULL. */
static char *
cgroup_discovery_v1_controller(const char *root, const char *const *names,
    const char *file)
{
	char path[PATH_MAX];

	for (; *names != NULL; names++) {
		if ((size_t)snprintf(path, sizeof path, "%s/%s", root, *names) >=
		    sizeof path)
			continue;
		if (cgroup_discovery_exists(path, file))
			return strdup(path);
	}
	return NULL;
}

int
cgroup_discovery_detect(const char *cgroup_root, enum cgroup_layout *layout,
    char **v2_root, char **cpu_root, char **cpuset_root, char **cause)
{
	static const char *const cpu_names[] = { "cpu", "cpu,cpuacct",
	    "cpuacct,cpu", NULL };
	static const char *const cpuset_names[] = { "cpuset", NULL };
	char path[PATH_MAX];
	enum cgroup_layout found;

	*v2_root = *cpu_root = *cpuset_root = NULL;
	if (cgroup_discovery_exists(cgroup_root, "cgroup.controllers"))
		found = CGROUP_LAYOUT_V2;
	else if ((size_t)snprintf(path, sizeof path, "%s/unified", cgroup_root) <
	    sizeof path && cgroup_discovery_exists(path, "cgroup.controllers"))
		found = CGROUP_LAYOUT_HYBRID;
	else
		found = CGROUP_LAYOUT_V1;
	if (*layout != CGROUP_LAYOUT_AUTO && *layout != found &&
	    !(*layout == CGROUP_LAYOUT_V1 && found == CGROUP_LAYOUT_HYBRID)) {
		cause_set(cause,
		    "%s: layout %s asked for, but the tree is %s", cgroup_root,
		    cgroup_layout_name(*layout), cgroup_layout_name(found));
		return -EINVAL;
	}
	if (*layout == CGROUP_LAYOUT_AUTO)
		*layout = found;

	if (*layout == CGROUP_LAYOUT_V2) {
		if ((*v2_root = strdup(cgroup_root)) == NULL ||
		    (*cpu_root = strdup(cgroup_root)) == NULL ||
		    (*cpuset_root = strdup(cgroup_root)) == NULL)
			goto nomem;
		return 0;
	}
	if (*layout == CGROUP_LAYOUT_HYBRID &&
	    (*v2_root = strdup(path)) == NULL)
		goto nomem;
	*cpu_root = cgroup_discovery_v1_controller(cgroup_root, cpu_names,
	    "cpu.shares");
	*cpuset_root = cgroup_discovery_v1_controller(cgroup_root, cpuset_names,
	    "cpuset.cpus");
	if (*v2_root == NULL && *cpu_root == NULL && *cpuset_root == NULL) {
		cause_set(cause,
		    "%s: no cgroup hierarchy (neither cgroup.controllers, "
		    "unified/cgroup.controllers nor a v1 cpu or cpuset controller)",
		    cgroup_root);
		return -ENOENT;
	}
	return 0;

nomem:
	free(*v2_root);
	free(*cpu_root);
	*v2_root = *cpu_root = NULL;
	return -ENOMEM;
}

struct cgroup_discovery *
cgroup_discovery_new(const struct cgroup_discovery_options *options,
    char **cause)
{
	struct cgroup_discovery *discovery;
	const char *root = "/sys/fs/cgroup";
	char *v2 = NULL, *cpu = NULL, *cpuset = NULL;
	int error;

	if ((discovery = calloc(1, sizeof *discovery)) == NULL)
		return NULL;
	if (options != NULL && options->cgroup_root != NULL)
		root = options->cgroup_root;
	discovery->layout = options != NULL ? options->layout :
	    CGROUP_LAYOUT_AUTO;
	if ((discovery->root = strdup(root)) == NULL) {
		error = -ENOMEM;
		goto fail;
	}
	if ((error = cgroup_discovery_detect(root, &discovery->layout, &v2, &cpu,
	    &cpuset, cause)) != 0)
		goto fail;
	discovery->hierarchy_root[CGROUP_DISCOVERY_V2] = v2;
	discovery->hierarchy_root[CGROUP_DISCOVERY_CPU] = cpu;
	discovery->hierarchy_root[CGROUP_DISCOVERY_CPUSET] = cpuset;
	return discovery;

fail:
	cgroup_discovery_free(discovery);
	errno = -error;
	return NULL;
}

static void
cgroup_discovery_entries_free(struct cgroup_discovery_entry *entries,
    size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(entries[i].relative);
	free(entries);
}

void
cgroup_discovery_free(struct cgroup_discovery *discovery)
{
	if (discovery == NULL)
		return;
	for (size_t i = 0; i < CGROUP_DISCOVERY_HIERARCHIES; i++)
		free(discovery->hierarchy_root[i]);
	cgroup_discovery_entries_free(discovery->entries,
	    discovery->entry_count);
	free(discovery->root);
	free(discovery);
}

enum cgroup_layout
cgroup_discovery_layout(const struct cgroup_discovery *discovery)
{
	return discovery->layout;
}

const char *
cgroup_discovery_v2_root(const struct cgroup_discovery *discovery)
{
	return discovery->hierarchy_root[CGROUP_DISCOVERY_V2];
}

const char *
cgroup_discovery_cpu_root(const struct cgroup_discovery *discovery)
{
	return discovery->hierarchy_root[CGROUP_DISCOVERY_CPU];
}

const char *
cgroup_discovery_cpuset_root(const struct cgroup_discovery *discovery)
{
	return discovery->hierarchy_root[CGROUP_DISCOVERY_CPUSET];
}

size_t
cgroup_discovery_pod_count(const struct cgroup_discovery *discovery)
{
	return discovery->pod_count;
}

static bool
cgroup_discovery_is_dir(DIR *dir, const struct dirent *entry)
{
	struct stat st;

	if (entry->d_type == DT_DIR)
		return true;
	if (entry->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

static int
cgroup_discovery_scan_add(struct cgroup_discovery_scan *scan,
    enum cgroup_discovery_hierarchy hierarchy, const char *uid,
    enum cgroup_driver driver, const char *relative, const char *parent)
{
	struct cgroup_discovery_entry *entry, *grown;
	size_t capacity;

	if (scan->count == CGROUP_DISCOVERY_MAX_PODS)
		return -E2BIG;
	if (scan->count == scan->capacity) {
		capacity = scan->capacity ? scan->capacity * 2 : 64;
		grown = realloc(scan->entries, capacity * sizeof *grown);
		if (grown == NULL)
			return -ENOMEM;
		scan->entries = grown;
		scan->capacity = capacity;
	}
	entry = &scan->entries[scan->count];
	memset(entry, 0, sizeof *entry);
	memcpy(entry->uid, uid, strlen(uid) + 1);
	entry->hierarchy = hierarchy;
	entry->driver = driver;
	entry->qos = cgroup_discovery_parent_qos(parent);
	if (asprintf(&entry->relative, "%s/", relative) < 0) {
		entry->relative = NULL;
		return -ENOMEM;
	}
	scan->count++;
	return 0;
}

/*
 * Walk one directory: a pod cgroup below a "kubepods" ancestor is indexed
 * and not entered; anything else is entered while the depth allows.
 * relative is "" at the root and grows in place (PATH_MAX bytes).
 */
static int
cgroup_discovery_walk(struct cgroup_discovery_scan *scan,
    enum cgroup_discovery_hierarchy hierarchy, const char *root,
    char *relative, const char *parent, unsigned depth, bool under_kubepods)
{
	char path[PATH_MAX], uid[CGROUP_DISCOVERY_MAX_UID + 1];
	enum cgroup_driver driver;
	struct dirent *entry;
	size_t relative_len = strlen(relative);
	DIR *dir;
	int error = 0;

	if ((size_t)snprintf(path, sizeof path, "%s%s%s", root,
	    relative_len ? "/" : "", relative) >= sizeof path)
		return 0;
	if ((dir = opendir(path)) == NULL) {
		/* A cgroup removed while we walk is not an error. */
		if (errno == ENOENT || depth > 0)
			return 0;
		error = -errno;
		cause_set(&scan->cause, "%s: %s", path,
		    strerror(errno));
		return error;
	}
	while (error == 0 && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.' || !cgroup_discovery_is_dir(dir, entry))
			continue;
		if (relative_len + 1 + strlen(entry->d_name) + 2 >= PATH_MAX)
			continue;
		if (relative_len > 0)
			strcat(relative, "/");
		strcat(relative, entry->d_name);
		if (under_kubepods &&
		    cgroup_discovery_parse_pod_name(entry->d_name, uid,
		    &driver) == 0)
			error = cgroup_discovery_scan_add(scan, hierarchy, uid,
			    driver, relative, parent);
		else if (depth + 1 < CGROUP_DISCOVERY_MAX_DEPTH)
			error = cgroup_discovery_walk(scan, hierarchy, root,
			    relative, entry->d_name, depth + 1, under_kubepods ||
			    strstr(entry->d_name, "kubepods") != NULL);
		relative[relative_len] = '\0';
	}
	closedir(dir);
	if (error == -E2BIG && scan->cause == NULL)
		cause_set(&scan->cause,
		    "%s: more than %d pod cgroups", root,
		    CGROUP_DISCOVERY_MAX_PODS);
	return error;
}

static int
cgroup_discovery_compare_entries(const void *a, const void *b)
{
	const struct cgroup_discovery_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->uid, y->uid)) != 0)
		return c;
	if (x->hierarchy != y->hierarchy)
		return x->hierarchy < y->hierarchy ? -1 : 1;
	return strcmp(x->relative, y->relative);
}

int
cgroup_discovery_rescan(struct cgroup_discovery *discovery, char **cause)
{
	struct cgroup_discovery_scan scan = { 0 };
	char relative[PATH_MAX];
	size_t pods = 0;
	int error = 0;

	for (int h = 0; h < CGROUP_DISCOVERY_HIERARCHIES && error == 0; h++) {
		const char *root = discovery->hierarchy_root[h];
		bool seen = false;

		if (root == NULL)
			continue;
		/* On v2 one directory serves every controller: walk it once. */
		for (int k = 0; k < h; k++)
			if (discovery->hierarchy_root[k] != NULL &&
			    strcmp(discovery->hierarchy_root[k], root) == 0)
				seen = true;
		if (seen)
			continue;
		relative[0] = '\0';
		error = cgroup_discovery_walk(&scan, h, root, relative, "", 0,
		    false);
	}
	if (error != 0) {
		if (cause != NULL) {
			*cause = scan.cause;
			scan.cause = NULL;
		}
		free(scan.cause);
		cgroup_discovery_entries_free(scan.entries, scan.count);
		return error;
	}
	if (scan.count > 0)
		qsort(scan.entries, scan.count, sizeof *scan.entries,
		    cgroup_discovery_compare_entries);
	for (size_t i = 0; i < scan.count; i++)
		if (i == 0 || strcmp(scan.entries[i].uid,
		    scan.entries[i - 1].uid) != 0)
			pods++;
	cgroup_discovery_entries_free(discovery->entries,
	    discovery->entry_count);
	discovery->entries = scan.entries;
	discovery->entry_count = scan.count;
	discovery->pod_count = pods;
	return 0;
}

/* Read a whole small file into b; 0 or -errno, -EFBIG beyond max. */
static int
cgroup_discovery_read_file(const char *path, struct buf *b, size_t max)
{
	ssize_t n;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	for (;;) {
		if ((error = buf_reserve(b, 4096)) != 0)
			break;
		n = read(fd, b->data + b->len, 4096);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = -errno;
			break;
		}
		if (n == 0)
			break;
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

struct cgroup_discovery_pids {
	pid_t *pids;
	size_t count;
	size_t capacity;
};

static int
cgroup_discovery_pids_add(struct cgroup_discovery_pids *set, pid_t pid)
{
	pid_t *grown;
	size_t capacity;

	if (set->count == CGROUP_DISCOVERY_MAX_PIDS)
		return -E2BIG;
	if (set->count == set->capacity) {
		capacity = set->capacity ? set->capacity * 2 : 16;
		if ((grown = realloc(set->pids, capacity * sizeof *grown)) == NULL)
			return -ENOMEM;
		set->pids = grown;
		set->capacity = capacity;
	}
	set->pids[set->count++] = pid;
	return 0;
}

/* Processes of the cgroup at path and its children, up to depth levels. */
static int
cgroup_discovery_read_pids(const char *path, unsigned depth,
    struct cgroup_discovery_pids *set)
{
	struct buf text = BUF_INIT;
	char file[PATH_MAX], *line, *end;
	struct dirent *entry;
	DIR *dir;
	long pid;
	int error;

	if ((size_t)snprintf(file, sizeof file, "%s/cgroup.procs", path) >=
	    sizeof file)
		return -ENAMETOOLONG;
	error = cgroup_discovery_read_file(file, &text,
	    CGROUP_DISCOVERY_PROCS_MAX);
	if (error == -ENOENT)
		error = 0;	/* gone meanwhile, or a fixture tree without it */
	for (line = text.data; error == 0 && line != NULL && *line != '\0';
	    line = end) {
		errno = 0;
		pid = strtol(line, &end, 10);
		if (errno != 0 || end == line || pid <= 0 || pid > INT_MAX ||
		    (*end != '\n' && *end != '\0')) {
			error = -EINVAL;
			break;
		}
		if (*end == '\n')
			end++;
		error = cgroup_discovery_pids_add(set, (pid_t)pid);
	}
	buf_free(&text);
	if (error != 0 || depth == 0)
		return error;
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (error == 0 && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.' || !cgroup_discovery_is_dir(dir, entry))
			continue;
		if ((size_t)snprintf(file, sizeof file, "%s/%s", path,
		    entry->d_name) >= sizeof file)
			continue;
		error = cgroup_discovery_read_pids(file, depth - 1, set);
	}
	closedir(dir);
	return error;
}

static int
cgroup_discovery_compare_pids(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Sort and drop duplicates (v1 hierarchies list the same processes). */
static void
cgroup_discovery_pids_sort(pid_t *pids, size_t *count)
{
	size_t kept = 0;

	if (*count == 0)
		return;
	qsort(pids, *count, sizeof *pids, cgroup_discovery_compare_pids);
	for (size_t i = 0; i < *count; i++)
		if (kept == 0 || pids[kept - 1] != pids[i])
			pids[kept++] = pids[i];
	*count = kept;
}

static uint64_t
cgroup_discovery_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void
cgroup_container_clear(struct cgroup_container *container)
{
	free(container->id);
	free(container->path);
	free(container->cpu_path);
	free(container->pids);
}

void
cgroup_pod_free(struct cgroup_pod *found)
{
	if (found == NULL)
		return;
	for (size_t i = 0; i < found->container_count; i++)
		cgroup_container_clear(&found->containers[i]);
	free(found->containers);
	free(found->uid);
	free(found->cgroup_uid);
	free(found->relative);
	free(found->path);
	free(found->cpu_path);
	free(found->cpuset_path);
	free(found->pids);
	free(found);
}

static struct cgroup_container *
cgroup_discovery_container(struct cgroup_pod *found, const char *id,
    enum cgroup_runtime runtime)
{
	struct cgroup_container *container, *grown;

	for (size_t i = 0; i < found->container_count; i++)
		if (strcmp(found->containers[i].id, id) == 0)
			return &found->containers[i];
	if (found->container_count == CGROUP_DISCOVERY_MAX_CONTAINERS) {
		errno = E2BIG;
		return NULL;
	}
	grown = realloc(found->containers,
	    (found->container_count + 1) * sizeof *grown);
	if (grown == NULL)
		return NULL;
	found->containers = grown;
	container = &found->containers[found->container_count];
	memset(container, 0, sizeof *container);
	container->pod_index = -1;
	container->runtime = runtime;
	if ((container->id = strdup(id)) == NULL)
		return NULL;
	found->container_count++;
	return container;
}

/* List the container cgroups of the pod directory in one hierarchy. */
static int
cgroup_discovery_list_containers(struct cgroup_pod *found,
    enum cgroup_discovery_hierarchy hierarchy, bool holds_cpu,
    const char *pod_path, struct cgroup_discovery_pids *pod_pids)
{
	char id[CGROUP_DISCOVERY_CONTAINER_ID_LEN + 1], path[PATH_MAX];
	struct cgroup_discovery_pids set;
	struct cgroup_container *container;
	enum cgroup_runtime runtime;
	struct dirent *entry;
	DIR *dir;
	int error = 0;

	/* Processes in the pod cgroup itself (rare, but they are the pod's). */
	if ((error = cgroup_discovery_read_pids(pod_path, 0, pod_pids)) != 0)
		return error;
	if ((dir = opendir(pod_path)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (error == 0 && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.' || !cgroup_discovery_is_dir(dir, entry) ||
		    cgroup_discovery_parse_container_name(entry->d_name, id,
		    &runtime) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", pod_path,
		    entry->d_name) >= sizeof path)
			continue;
		if ((container = cgroup_discovery_container(found, id,
		    runtime)) == NULL) {
			error = -errno;
			break;
		}
		if (hierarchy == CGROUP_DISCOVERY_V2 && container->path == NULL) {
			if ((container->path = strdup(path)) == NULL) {
				error = -ENOMEM;
				break;
			}
			container->cgroup_id = cgroup_discovery_inode(path);
		}
		if (holds_cpu && container->cpu_path == NULL &&
		    (container->cpu_path = strdup(path)) == NULL) {
			error = -ENOMEM;
			break;
		}
		set.pids = container->pids;
		set.count = set.capacity = container->pid_count;
		error = cgroup_discovery_read_pids(path,
		    CGROUP_DISCOVERY_PID_DEPTH, &set);
		container->pids = set.pids;
		container->pid_count = set.count;
		for (size_t i = 0; error == 0 && i < set.count; i++)
			error = cgroup_discovery_pids_add(pod_pids, set.pids[i]);
	}
	closedir(dir);
	return error;
}

static void
cgroup_discovery_match_containers(struct cgroup_pod *found,
    const struct pod *pod)
{
	for (size_t i = 0; i < found->container_count; i++)
		cgroup_discovery_pids_sort(found->containers[i].pids,
		    &found->containers[i].pid_count);
	for (size_t c = 0; c < pod->container_count; c++) {
		const char *id = cgroup_discovery_container_id(
		    pod->containers[c].id);
		bool matched = false;

		if (id == NULL)
			continue;
		for (size_t i = 0; i < found->container_count; i++) {
			if (strcmp(found->containers[i].id, id) != 0)
				continue;
			found->containers[i].pod_index = (int)c;
			found->containers[i].name = pod->containers[c].name;
			matched = true;
		}
		if (!matched)
			found->missing_count++;
	}
}

struct cgroup_pod *
cgroup_discovery_find(const struct cgroup_discovery *discovery,
    const struct pod *pod, char **cause)
{
	const struct cgroup_discovery_entry *first = NULL, *entry;
	const struct cgroup_discovery_entry *by_hierarchy[CGROUP_DISCOVERY_HIERARCHIES] = { 0 };
	struct cgroup_discovery_pids pod_pids = { 0 };
	struct cgroup_pod *found = NULL;
	const char *uid = cgroup_discovery_cgroup_uid(pod);
	char parsed[CGROUP_DISCOVERY_MAX_UID + 1], name[NAME_MAX + 1];
	char path[PATH_MAX];
	enum cgroup_driver driver;
	int error = 0;
	size_t low = 0, high = discovery->entry_count;

	/* Validate the UID through the same parser the scan uses. */
	if (uid == NULL || strlen(uid) > CGROUP_DISCOVERY_MAX_UID ||
	    (size_t)snprintf(name, sizeof name, "pod%s", uid) >= sizeof name ||
	    cgroup_discovery_parse_pod_name(name, parsed, &driver) != 0 ||
	    strcmp(parsed, uid) != 0) {
		cause_set(cause, "pod %s/%s: UID \"%s\" cannot name a cgroup",
		    pod->namespace ? pod->namespace : "", pod->name ? pod->name : "",
		    uid ? uid : "");
		errno = EINVAL;
		return NULL;
	}
	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (strcmp(discovery->entries[middle].uid, uid) < 0)
			low = middle + 1;
		else
			high = middle;
	}
	for (size_t i = low; i < discovery->entry_count &&
	    strcmp(discovery->entries[i].uid, uid) == 0; i++) {
		entry = &discovery->entries[i];
		if (by_hierarchy[entry->hierarchy] != NULL) {
			cause_set(cause,
			    "pod %s/%s: two cgroups named for UID %s: %s and %s",
			    pod->namespace ? pod->namespace : "",
			    pod->name ? pod->name : "", uid,
			    by_hierarchy[entry->hierarchy]->relative,
			    entry->relative);
			errno = EEXIST;
			return NULL;
		}
		by_hierarchy[entry->hierarchy] = entry;
		if (first == NULL)
			first = entry;
	}
	if (first == NULL) {
		cause_set(cause,
		    "pod %s/%s: no cgroup named for UID %s under %s (%zu pod cgroups seen)",
		    pod->namespace ? pod->namespace : "", pod->name ? pod->name : "",
		    uid, discovery->root, discovery->pod_count);
		errno = ENOENT;
		return NULL;
	}

	if ((found = calloc(1, sizeof *found)) == NULL ||
	    (found->uid = strdup(pod->uid ? pod->uid : "")) == NULL ||
	    (found->cgroup_uid = strdup(uid)) == NULL ||
	    (found->relative = strdup(first->relative)) == NULL)
		goto nomem;
	found->driver = first->driver;
	found->qos = first->qos;
	for (int h = 0; h < CGROUP_DISCOVERY_HIERARCHIES; h++) {
		const struct cgroup_discovery_entry *here = by_hierarchy[h];
		const char *root = discovery->hierarchy_root[h];

		/* On v2 the v2 entry stands for every controller. */
		if (here == NULL && root != NULL &&
		    discovery->layout == CGROUP_LAYOUT_V2)
			here = by_hierarchy[CGROUP_DISCOVERY_V2];
		if (here == NULL || root == NULL)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", root,
		    here->relative) >= sizeof path)
			continue;
		path[strlen(path) - 1] = '\0';	/* the trailing slash */
		if (h == CGROUP_DISCOVERY_V2) {
			if ((found->path = strdup(path)) == NULL)
				goto nomem;
			found->cgroup_id = cgroup_discovery_inode(path);
		} else if (h == CGROUP_DISCOVERY_CPU) {
			if ((found->cpu_path = strdup(path)) == NULL)
				goto nomem;
		} else if ((found->cpuset_path = strdup(path)) == NULL)
			goto nomem;
		if (h != CGROUP_DISCOVERY_V2 && discovery->layout == CGROUP_LAYOUT_V2)
			continue;	/* the same directory: listed once */
		if ((error = cgroup_discovery_list_containers(found, h,
		    h == CGROUP_DISCOVERY_CPU ||
		    discovery->layout == CGROUP_LAYOUT_V2, path,
		    &pod_pids)) != 0) {
			cause_set(cause,
			    "pod %s/%s: reading %s: %s",
			    pod->namespace ? pod->namespace : "",
			    pod->name ? pod->name : "", path, strerror(-error));
			goto fail;
		}
	}
	cgroup_discovery_match_containers(found, pod);
	cgroup_discovery_pids_sort(pod_pids.pids, &pod_pids.count);
	found->pids = pod_pids.pids;
	found->pid_count = pod_pids.count;
	return found;

nomem:
	error = -ENOMEM;
fail:
	free(pod_pids.pids);
	cgroup_pod_free(found);
	errno = -error;
	return NULL;
}

static cJSON *
cgroup_discovery_pids_json(const pid_t *pids, size_t count)
{
	cJSON *array;

	if ((array = cJSON_CreateArray()) == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (!cJSON_AddItemToArray(array, cJSON_CreateNumber(pids[i]))) {
			cJSON_Delete(array);
			return NULL;
		}
	return array;
}

static bool
cgroup_discovery_add_string(cJSON *object, const char *key, const char *value)
{
	if (value == NULL)
		return cJSON_AddNullToObject(object, key) != NULL;
	return cJSON_AddStringToObject(object, key, value) != NULL;
}

cJSON *
cgroup_pod_json(const struct cgroup_pod *found)
{
	cJSON *json, *containers, *container, *pids;
	char id[32];

	if ((json = cJSON_CreateObject()) == NULL)
		return NULL;
	snprintf(id, sizeof id, "%llu", (unsigned long long)found->cgroup_id);
	if (!cgroup_discovery_add_string(json, "uid", found->uid) ||
	    !cgroup_discovery_add_string(json, "cgroup_uid", found->cgroup_uid) ||
	    !cgroup_discovery_add_string(json, "driver",
	    cgroup_driver_name(found->driver)) ||
	    !cgroup_discovery_add_string(json, "qos", pod_qos_name(found->qos)) ||
	    !cgroup_discovery_add_string(json, "relative", found->relative) ||
	    !cgroup_discovery_add_string(json, "path", found->path) ||
	    /* A string: 64-bit ids do not survive JSON numbers. */
	    !cgroup_discovery_add_string(json, "cgroup_id", id) ||
	    !cgroup_discovery_add_string(json, "cpu_path", found->cpu_path) ||
	    !cgroup_discovery_add_string(json, "cpuset_path", found->cpuset_path) ||
	    cJSON_AddNumberToObject(json, "missing_containers",
	    (double)found->missing_count) == NULL ||
	    (containers = cJSON_AddArrayToObject(json, "containers")) == NULL ||
	    (pids = cgroup_discovery_pids_json(found->pids,
	    found->pid_count)) == NULL)
		goto fail;
	cJSON_AddItemToObject(json, "pids", pids);
	for (size_t i = 0; i < found->container_count; i++) {
		const struct cgroup_container *c = &found->containers[i];

		snprintf(id, sizeof id, "%llu", (unsigned long long)c->cgroup_id);
		if ((container = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(containers, container) ||
		    !cgroup_discovery_add_string(container, "id", c->id) ||
		    !cgroup_discovery_add_string(container, "name", c->name) ||
		    !cgroup_discovery_add_string(container, "runtime",
		    cgroup_runtime_name(c->runtime)) ||
		    !cgroup_discovery_add_string(container, "path", c->path) ||
		    !cgroup_discovery_add_string(container, "cpu_path",
		    c->cpu_path) ||
		    !cgroup_discovery_add_string(container, "cgroup_id", id) ||
		    (pids = cgroup_discovery_pids_json(c->pids,
		    c->pid_count)) == NULL)
			goto fail;
		cJSON_AddItemToObject(container, "pids", pids);
	}
	return json;

fail:
	cJSON_Delete(json);
	return NULL;
}
