/*
 * cgroup-enforce.h - tier enforcement without sched_ext (--enforcement=cgroup).
 *
 * Low and Background pods get cpu.idle=1 (their tasks run SCHED_IDLE
 * against everyone else's); Critical pods may get CPUs of their own through
 * a cgroup v2 cpuset partition, unless the kubelet's static CPU manager
 * already pins them.  Nothing the kubelet owns is set: never cpu.weight
 * or cpu.shares, cpu.max or the CFS quota, nor memory.  One kernel rule
 * forces a hand: an idle group's weight reads as the minimum (shares 3),
 * writes to it fail with EINVAL, and cpu.idle=0 resets it to the default
 * (1024, weight 100).  So the weight the kubelet had set is journalled with
 * cpu.idle and written back right after cpu.idle=0; while a pod is idle, a
 * kubelet resizing its CPU weight sees that write refused.
 *
 * Every value written is journalled in the state directory first (written
 * to a temporary file, fsynced and renamed over the journal before the
 * cgroup file changes), so a stand-down, safe mode, shutdown or the next
 * start after a crash puts back exactly what was there.  A restore only
 * puts a value back where the file still holds what Temper wrote: a value
 * someone changed since is theirs.
 *
 * cgroup_enforce_plan() is pure: pods and tiers in, the intended writes
 * out.  The rest reads and writes cgroupfs synchronously (small files).
 */
#ifndef TEMPER_CGROUP_ENFORCE_H
#define TEMPER_CGROUP_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>

#include "cgroup-discovery.h"
#include "tier.h"

struct cJSON;
struct planner_pod;
struct topology;

#define CGROUP_ENFORCE_JOURNAL "cgroup-journal"
#define CGROUP_ENFORCE_CPU_MANAGER_STATE "/var/lib/kubelet/cpu_manager_state"
/* A journal or state file larger than this is refused, not parsed. */
#define CGROUP_ENFORCE_FILE_MAX (4 * 1024 * 1024)

enum cgroup_enforce_controller {
	CGROUP_ENFORCE_CPU,
	CGROUP_ENFORCE_CPUSET,
};

/* One intended write: controller root + relative directory + file. */
struct cgroup_enforce_write {
	char *pod_uid;		/* NULL for an ancestor several pods share */
	enum cgroup_enforce_controller controller;
	char *relative;		/* no leading or trailing slash */
	const char *file;	/* "cpu.idle", "cpuset.cpus", ... (static) */
	char *value;
};

struct cgroup_enforce_plan {
	struct cgroup_enforce_write *writes;	/* in the order to apply */
	size_t write_count;
	char **notes;		/* one sentence each: pods left alone and why */
	size_t note_count;
};

struct cgroup_enforce_plan_options {
	bool v2;			/* cgroup v2 files; false: v1 */
	bool exclusive_critical;	/* fence Critical pods on whole cores */
	/* Pods whose CPUs the kubelet's CPU manager already pins (cgroup UIDs). */
	const char *const *kubelet_pinned;
	size_t kubelet_pinned_count;
	/* CPUs the kubelet's CPU manager handed out exclusively: never fenced. */
	const unsigned *kubelet_cpus;
	size_t kubelet_cpu_count;
	unsigned reserve_cpus;		/* never fenced; 0: one core */
};

/*
 * Plan the writes.  Pods without a cgroup, or whose exclusive CPUs cannot
 * be had, get a note and no write.  NULL with errno ENOMEM, or EINVAL and
 * *cause for a cgroup path that would leave the hierarchy.
 */
struct cgroup_enforce_plan *cgroup_enforce_plan(const struct planner_pod *pods,
    size_t pod_count, const struct topology *topology,
    const struct cgroup_enforce_plan_options *options, char **cause);
void cgroup_enforce_plan_free(struct cgroup_enforce_plan *plan);

/* What the kubelet's cpu_manager_state says (pure JSON parse). */
struct cgroup_enforce_cpu_manager {
	char *policy;		/* "none", "static", ... */
	char **pods;		/* the pods with entries (the kubelet's UIDs) */
	size_t pod_count;
	unsigned *cpus;		/* every CPU assigned in an entry, ascending */
	size_t cpu_count;
};

int cgroup_enforce_parse_cpu_manager(const char *text,
    struct cgroup_enforce_cpu_manager *state, char **cause);
void cgroup_enforce_cpu_manager_clear(struct cgroup_enforce_cpu_manager *state);

/*
 * A kernel CPU list ("0-3,8") into a sorted array and back; the parser
 * bounds ids below TOPOLOGY_MAX_CPUS.  0 or -EINVAL / -ENOMEM.
 */
int cgroup_enforce_parse_cpus(const char *text, unsigned **cpus, size_t *count);
char *cgroup_enforce_format_cpus(const unsigned *cpus, size_t count);

struct cgroup_enforce_options {
	const char *cgroup_root;	/* NULL: /sys/fs/cgroup */
	enum cgroup_layout layout;	/* CGROUP_LAYOUT_AUTO detects it */
	bool exclusive_critical;
	const char *cpu_manager_state;	/* NULL: CGROUP_ENFORCE_CPU_MANAGER_STATE */
	unsigned reserve_cpus;		/* 0: one core */
};

struct cgroup_enforce;

/*
 * Resolve the hierarchies and open the state directory (created 0700 when
 * missing).  A journal left by an earlier run is restored here, before
 * anything else happens.  NULL with errno and *cause.
 */
struct cgroup_enforce *cgroup_enforce_new(const char *state_dir,
    const struct cgroup_enforce_options *options, char **cause);
/* Frees memory only: what is applied stays applied, and journalled. */
void cgroup_enforce_free(struct cgroup_enforce *enforce);

/*
 * Bring the cgroups to the plan for these pods: journal and write what is
 * new or was changed behind our back, put back what no pod asks for any
 * more (pods that left the tier or vanished).  Idempotent.  0, or the
 * first negative errno; every pod is still attempted and the status shows
 * which writes failed.
 */
int cgroup_enforce_apply(struct cgroup_enforce *enforce,
    const struct planner_pod *pods, size_t pod_count,
    const struct topology *topology);

/* Put back every journalled value (stand-down, safe mode, shutdown). */
int cgroup_enforce_restore_all(struct cgroup_enforce *enforce);

/* Journal entries (values Temper has written and not yet put back). */
size_t cgroup_enforce_journal_count(const struct cgroup_enforce *enforce);

/* One intended value with what the file holds now. */
struct cgroup_enforce_effect {
	const char *pod_uid;	/* NULL for a shared ancestor */
	char *path;		/* absolute file path */
	const char *intended;
	char *actual;		/* read now; NULL when unreadable */
	int error;		/* the read's or the last write's -errno, or 0 */
	bool in_effect;		/* actual equals intended */
};

/*
 * Read back every intended value of the last apply, for /observe and the
 * placement linter.  0 or -ENOMEM; free with cgroup_enforce_effects_free.
 */
int cgroup_enforce_read_back(const struct cgroup_enforce *enforce,
    struct cgroup_enforce_effect **effects, size_t *count);
void cgroup_enforce_effects_free(struct cgroup_enforce_effect *effects,
    size_t count);

/* Status for /observe and /api/v1/status: layout, journal, per-pod
 * intended and actual values, notes.  NULL on ENOMEM. */
struct cJSON *cgroup_enforce_status_json(const struct cgroup_enforce *enforce);

#endif
