/* hint-map.c - the user space of the task-hint writer (bpf/hint.bpf.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hint-map.h"
#include "hint.skel.h"
#include "log.h"

/* O_EXCL, as <linux/pidfd.h> spells it; older headers lack it. */
#define HINT_MAP_PIDFD_THREAD 0200

/* More changed cgroups than this in one update: one sweep over every task. */
#define HINT_MAP_TARGETED_MAX 64

struct hint_map {
	struct hint_bpf *skel;
	char *pin_path;
};

/* Fill *cause (NULL when even that fails: the caller says "out of memory"). */
__attribute__((format(printf, 2, 3)))
static void
hint_map_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

/* The pin's directory on the bpffs: created when missing, one level. */
static int
hint_map_prepare_directory(const char *pin_path)
{
	char directory[PATH_MAX], *slash;

	if (strlen(pin_path) >= sizeof directory)
		return -ENAMETOOLONG;
	strcpy(directory, pin_path);
	if ((slash = strrchr(directory, '/')) == NULL || slash == directory)
		return 0;
	*slash = '\0';
	if (mkdir(directory, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct hint_map *
hint_map_open(const char *pin_path, char **cause)
{
	struct hint_map *map = NULL;
	int error;

	*cause = NULL;
	if (pin_path == NULL || *pin_path != '/') {
		*cause = strdup("the task-hint map's pin path must be absolute");
		errno = EINVAL;
		return NULL;
	}
	if ((map = calloc(1, sizeof *map)) == NULL ||
	    (map->pin_path = strdup(pin_path)) == NULL) {
		error = -ENOMEM;
		*cause = strdup("out of memory");
		goto out;
	}
	if ((error = hint_map_prepare_directory(pin_path)) != 0) {
		hint_map_cause(cause, "cannot create the directory of %s: %s",
		    pin_path, strerror(-error));
		goto out;
	}
	if ((map->skel = hint_bpf__open()) == NULL) {
		error = -errno;
		hint_map_cause(cause, "cannot open the hint writer: %s",
		    strerror(-error));
		goto out;
	}
	/* Set before load: libbpf reuses a compatible map pinned there, or
	 * creates this one and pins it. */
	if ((error = bpf_map__set_pin_path(map->skel->maps.scx_layered_task_hint_map,
	    pin_path)) != 0) {
		hint_map_cause(cause, "cannot pin at %s: %s", pin_path,
		    strerror(-error));
		goto out;
	}
	if ((error = hint_bpf__load(map->skel)) != 0) {
		hint_map_cause(cause, "cannot load the hint writer with its "
		    "map at %s: %s (is it on a mounted bpffs, and is whatever is "
		    "pinned there a task-hint map?)", pin_path, strerror(-error));
		goto out;
	}
	/* The subtree sweep attaches per cgroup, when it runs. */
	bpf_program__set_autoattach(map->skel->progs.hint_sweep_cgroup, false);
	if ((error = hint_bpf__attach(map->skel)) != 0) {
		hint_map_cause(cause, "cannot attach the hint writer: %s",
		    strerror(-error));
		goto out;
	}
	return map;
out:
	hint_map_close(map);
	if (*cause == NULL)
		*cause = strdup("out of memory");
	errno = -error;
	return NULL;
}

void
hint_map_close(struct hint_map *map)
{
	if (map == NULL)
		return;
	hint_bpf__destroy(map->skel);
	free(map->pin_path);
	free(map);
}

int
hint_map_fd(const struct hint_map *map)
{
	return bpf_map__fd(map->skel->maps.scx_layered_task_hint_map);
}

const char *
hint_map_pin_path(const struct hint_map *map)
{
	return map->pin_path;
}

void
hint_map_counters(const struct hint_map *map, struct hint_counters *counters)
{
	*counters = map->skel->bss->counters;
}

int
hint_map_sweep(struct hint_map *map)
{
	char discard[64];
	ssize_t got;
	int fd, error = 0;

	/* Reading the iterator runs the program over every task; it prints
	 * nothing, so the first read returns 0 at the end. */
	fd = bpf_iter_create(bpf_link__fd(map->skel->links.hint_sweep));
	if (fd < 0)
		return fd;
	while ((got = read(fd, discard, sizeof discard)) > 0)
		;
	if (got < 0)
		error = -errno;
	close(fd);
	return error;
}

int
hint_map_sweep_cgroup(struct hint_map *map, uint64_t cgroup_id)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, options);
	union bpf_iter_link_info info;
	struct bpf_link *link;
	char discard[64];
	ssize_t got;
	int fd, error = 0;

	memset(&info, 0, sizeof info);
	info.cgroup.cgroup_id = cgroup_id;
	info.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
	options.link_info = &info;
	options.link_info_len = sizeof info;
	if ((link = bpf_program__attach_iter(map->skel->progs.hint_sweep_cgroup,
	    &options)) == NULL)
		return errno == ENOENT ? 0 : -errno;	/* gone: nothing inside */
	if ((fd = bpf_iter_create(bpf_link__fd(link))) < 0) {
		error = -errno;
		goto out;
	}
	while ((got = read(fd, discard, sizeof discard)) > 0)
		;
	if (got < 0)
		error = -errno;
	close(fd);
out:
	bpf_link__destroy(link);
	return error;
}

static int
hint_map_compare_ids(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Remember a changed cgroup; past HINT_MAP_TARGETED_MAX a full sweep is
 * cheaper than one walk per cgroup, and the list stops growing. */
static void
hint_map_note_change(uint64_t *changed, size_t *count, uint64_t id)
{
	if (*count < HINT_MAP_TARGETED_MAX)
		changed[*count] = id;
	(*count)++;
}

int
hint_map_set(struct hint_map *map, const struct hint_map_entry *entries,
    size_t count, char **cause)
{
	int fd = bpf_map__fd(map->skel->maps.cgroup_hints);
	uint64_t *wanted = NULL, *stale = NULL, key, next;
	uint64_t changed[HINT_MAP_TARGETED_MAX];
	size_t stale_count = 0, stale_capacity = 0, changed_count = 0;
	int error = 0;

	*cause = NULL;
	if (count > HINT_MAX_CGROUPS) {
		hint_map_cause(cause, "%zu pod cgroups are more than the table holds (%d)",
		    count, HINT_MAX_CGROUPS);
		return -E2BIG;
	}
	if ((wanted = malloc((count + 1) * sizeof *wanted)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		__u32 hint = entries[i].hint, old;

		if (entries[i].hint > HINT_MAX_VALUE) {
			hint_map_cause(cause, "hint %u of cgroup %llu is above %d",
			    entries[i].hint, (unsigned long long)entries[i].cgroup_id,
			    HINT_MAX_VALUE);
			error = -EINVAL;
			goto out;
		}
		wanted[i] = entries[i].cgroup_id;
		if (bpf_map_lookup_elem(fd, &entries[i].cgroup_id, &old) == 0 && old == hint)
			continue;
		if (bpf_map_update_elem(fd, &entries[i].cgroup_id, &hint, BPF_ANY) != 0) {
			error = -errno;
			hint_map_cause(cause, "cannot list cgroup %llu: %s",
			    (unsigned long long)entries[i].cgroup_id, strerror(errno));
			goto out;
		}
		hint_map_note_change(changed, &changed_count, entries[i].cgroup_id);
	}
	qsort(wanted, count, sizeof *wanted, hint_map_compare_ids);

	/* Collect first, delete after: deleting while walking the keys
	 * restarts the walk. */
	for (int more = bpf_map_get_next_key(fd, NULL, &next) == 0; more;
	    more = bpf_map_get_next_key(fd, &key, &next) == 0) {
		key = next;
		if (bsearch(&key, wanted, count, sizeof *wanted, hint_map_compare_ids))
			continue;
		if (stale_count == stale_capacity) {
			size_t capacity = stale_capacity ? stale_capacity * 2 : 16;
			uint64_t *grown = realloc(stale, capacity * sizeof *stale);

			if (grown == NULL) {
				error = -ENOMEM;
				goto out;
			}
			stale = grown;
			stale_capacity = capacity;
		}
		stale[stale_count++] = key;
	}
	for (size_t i = 0; i < stale_count; i++) {
		if (bpf_map_delete_elem(fd, &stale[i]) != 0 && errno != ENOENT) {
			error = -errno;
			hint_map_cause(cause, "cannot unlist cgroup %llu: %s",
			    (unsigned long long)stale[i], strerror(errno));
			goto out;
		}
		hint_map_note_change(changed, &changed_count, stale[i]);
	}

	/* A task's hint depends only on its nearest listed ancestor, so a
	 * changed entry affects its own subtree and nothing else. */
	if (changed_count > HINT_MAP_TARGETED_MAX)
		error = hint_map_sweep(map);
	for (size_t i = 0; changed_count <= HINT_MAP_TARGETED_MAX &&
	    i < changed_count && error == 0; i++)
		error = hint_map_sweep_cgroup(map, changed[i]);
	if (error != 0)
		hint_map_cause(cause, "cannot sweep the tasks: %s", strerror(-error));
out:
	if (error == -ENOMEM && *cause == NULL)
		*cause = strdup("out of memory");
	free(wanted);
	free(stale);
	return error;
}

int
hint_map_open_pinned(const char *pin_path)
{
	int fd = bpf_obj_get(pin_path);

	return fd < 0 ? -errno : fd;
}

int
hint_map_lookup(int map_fd, pid_t tid, uint64_t *hint)
{
	struct hint_task_value value;
	int pidfd, error = 0;

	/* The map turns the pidfd back into the task with that id. */
	/* A thread that leads no group needs PIDFD_THREAD (Linux 6.9);
	 * kernels before it refuse the flag, and only have leaders' pidfds. */
	pidfd = (int)syscall(SYS_pidfd_open, tid, HINT_MAP_PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pidfd < 0)
		return -errno;
	if (bpf_map_lookup_elem(map_fd, &pidfd, &value) != 0)
		error = -errno;
	else
		*hint = value.hint;
	close(pidfd);
	return error;
}

int
hint_map_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle handle;
		uint64_t id;
	} buffer;
	int mount_id;

	/* The kernfs id is the file handle cgroupfs gives a directory. */
	buffer.handle.handle_bytes = sizeof buffer.id;
	if (name_to_handle_at(AT_FDCWD, path, &buffer.handle, &mount_id, 0) != 0)
		return -errno;
	if (buffer.handle.handle_bytes != sizeof buffer.id)
		return -EOPNOTSUPP;
	memcpy(id, buffer.handle.f_handle, sizeof *id);
	return 0;
}
