/*
 * hint-map.h - scx_layered's task-hint map, created, pinned and written in
 * the kernel by Temper's own BPF program (bpf/hint.bpf.c).
 *
 * The agent lists pod cgroups with the hint of their tier; the program
 * gives every task in a listed cgroup (or below it) that hint in the task
 * storage map scx_layered reads for HintEquals, at fork and on every
 * cgroup move, and a walk of each changed cgroup's tasks applies a changed
 * list to tasks already running.  A task in no listed cgroup has no entry.  Temper owns
 * the map: it creates it at the pin path (or reuses the one pinned there,
 * across agent restarts) and scx_layered, started with --task-hint-map on
 * the same path, only reads it.  Closing detaches the program and leaves
 * the pin, so hints survive the agent and the next agent picks them up.
 *
 * The pin path must be on a mounted bpffs (/sys/fs/bpf on a node); its
 * parent directory is created when missing.
 *
 * scx_layered makes the pin mode 0666 once loaded, so that tasks may set
 * their own hints.  A pod cannot use that unless it can reach the bpffs
 * and the bpf() syscall (kernel.unprivileged_bpf_disabled, the default on
 * distribution kernels, refuses it); and a hint a task set itself lasts
 * only until its next fork, move or a table change touching its cgroup.
 */
#ifndef TEMPER_HINT_MAP_H
#define TEMPER_HINT_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hint.h"

#define HINT_MAP_DEFAULT_PIN "/sys/fs/bpf/temper/task_hint_map"

struct hint_map;

struct hint_map_entry {
	uint64_t cgroup_id;	/* hint_map_cgroup_id() of the pod's cgroup-v2 directory */
	unsigned hint;		/* 0 .. HINT_MAX_VALUE */
};

/*
 * Load and attach the writer, with the task-hint map at pin_path.  NULL
 * with errno and *cause (EPERM without CAP_BPF/CAP_SYS_ADMIN, ENOENT or
 * EINVAL when pin_path is not on a bpffs, EEXIST when something else of
 * another shape is pinned there).
 */
struct hint_map *hint_map_open(const char *pin_path, char **cause);

/*
 * Make the cgroup table exactly these entries (later duplicates win), then
 * apply it to the tasks already there: a walk of each changed cgroup's
 * subtree (only its own tasks), or one sweep over every task when many
 * changed.  0 or a negative errno with *cause; a failure leaves the table
 * partly updated and the next call repairs it.
 */
int hint_map_set(struct hint_map *map, const struct hint_map_entry *entries,
    size_t count, char **cause);

/* Apply the table to every task now.  0 or a negative errno. */
int hint_map_sweep(struct hint_map *map);
/* ... or to the tasks of one cgroup and its descendants (0 when the
 * cgroup is gone). */
int hint_map_sweep_cgroup(struct hint_map *map, uint64_t cgroup_id);

/* What the program counted since it was loaded. */
void hint_map_counters(const struct hint_map *map, struct hint_counters *counters);

/* The map's file descriptor, for hint_map_lookup(). */
int hint_map_fd(const struct hint_map *map);
const char *hint_map_pin_path(const struct hint_map *map);

/* Detach and free; the pinned map and its hints stay.  NULL-safe. */
void hint_map_close(struct hint_map *map);

/*
 * One task's hint, looked up through a pidfd (the key a task-storage map
 * takes from user space).  0, -ENOENT when the task has no hint, -ESRCH
 * when there is no such task, or another negative errno.
 */
int hint_map_lookup(int map_fd, pid_t tid, uint64_t *hint);

/* Open a pinned map by path (for tests and tools).  fd or negative errno. */
int hint_map_open_pinned(const char *pin_path);

/* The id the kernel gives a cgroup directory (its kernfs id).  0 or -errno. */
int hint_map_cgroup_id(const char *path, uint64_t *id);

#endif
