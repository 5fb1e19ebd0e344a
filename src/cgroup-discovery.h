/*
 * cgroup-discovery.h - which cgroups hold a pod and its containers.
 *
 * The kubelet names a pod's cgroup after the pod's UID ("pod<uid>" under
 * cgroupfs, "...-pod<uid_with_underscores>.slice" under systemd), below a
 * prefix that --cgroup-root and the QoS class decide.  Rather than guessing
 * that prefix, a rescan walks the hierarchies once and indexes every pod
 * cgroup found below a "kubepods" ancestor; a lookup then lists the pod's
 * container cgroups and processes fresh, so restarted containers show up
 * without a rescan.  The agent rescans on pod events and on a timer.
 *
 * Layouts: cgroup v2 (cgroup.controllers at the root), hybrid (v1
 * controllers beside a cgroup2 mount at unified/) and v1 only.  The kubelet
 * names a pod identically in every hierarchy, so one relative path serves
 * as scx_layered's CgroupPrefix on v2 and locates the pod under each v1
 * controller.
 *
 * Name parsing is pure and bounded; only cgroup_discovery_new, _rescan and
 * _find touch the file system.
 */
#ifndef TEMPER_CGROUP_DISCOVERY_H
#define TEMPER_CGROUP_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod.h"

struct cJSON;

/* A kubelet UID is 36 characters, a static pod's config hash 32. */
#define CGROUP_DISCOVERY_MAX_UID 64
/* containerd and CRI-O container ids are 64 hex digits. */
#define CGROUP_DISCOVERY_CONTAINER_ID_LEN 64
/* Deepest a pod cgroup may sit below a hierarchy root. */
#define CGROUP_DISCOVERY_MAX_DEPTH 10
/* Bounds on what one scan or lookup keeps. */
#define CGROUP_DISCOVERY_MAX_PODS 65536
#define CGROUP_DISCOVERY_MAX_CONTAINERS 1024
#define CGROUP_DISCOVERY_MAX_PIDS 65536

enum cgroup_layout {
	CGROUP_LAYOUT_AUTO,
	CGROUP_LAYOUT_V2,
	CGROUP_LAYOUT_HYBRID,
	CGROUP_LAYOUT_V1,
};

enum cgroup_driver {
	CGROUP_DRIVER_UNKNOWN,
	CGROUP_DRIVER_SYSTEMD,
	CGROUP_DRIVER_CGROUPFS,
};

enum cgroup_runtime {
	CGROUP_RUNTIME_UNKNOWN,
	CGROUP_RUNTIME_CONTAINERD,
	CGROUP_RUNTIME_CRIO,
	CGROUP_RUNTIME_DOCKER,
};

struct cgroup_container {
	char *id;			/* 64 hex digits, from the directory name */
	enum cgroup_runtime runtime;
	int pod_index;			/* index in pod->containers, -1: not in the pod's status (the sandbox) */
	const char *name;		/* that container's name, or NULL */
	char *path;			/* absolute, in the v2 hierarchy; NULL when absent there */
	char *cpu_path;			/* absolute, in the hierarchy holding cpu.idle */
	uint64_t cgroup_id;		/* v2 inode number (BPF's cgroup id); 0 without v2 */
	pid_t *pids;			/* ascending, this cgroup and its children */
	size_t pid_count;
};

struct cgroup_pod {
	char *uid;			/* the API pod's metadata.uid */
	char *cgroup_uid;		/* the UID the cgroup is named for (config.mirror for static pods) */
	enum cgroup_driver driver;
	enum pod_qos qos;		/* from the parent's name: kubepods itself is Guaranteed */
	/* Relative to the hierarchy root, no leading slash, one trailing
	 * slash: "kubepods.slice/kubepods-pod<uid_>.slice/". */
	char *relative;
	char *path;			/* absolute, in the v2 hierarchy; NULL when absent there */
	uint64_t cgroup_id;		/* v2 inode number; 0 without v2 */
	char *cpu_path;			/* the directory holding cpu.idle; NULL when absent */
	char *cpuset_path;		/* the directory holding cpuset.cpus; NULL when absent */
	struct cgroup_container *containers;
	size_t container_count;
	size_t missing_count;		/* pod containers with an id but no cgroup */
	pid_t *pids;			/* ascending, every process in the pod's cgroups */
	size_t pid_count;
};

struct cgroup_discovery_options {
	const char *cgroup_root;	/* NULL: /sys/fs/cgroup */
	enum cgroup_layout layout;	/* CGROUP_LAYOUT_AUTO detects it */
};

struct cgroup_discovery;

/*
 * Resolve the layout and the hierarchies (no scan yet).  NULL with errno
 * and *cause when the root holds no cgroup hierarchy Temper understands.
 */
struct cgroup_discovery *cgroup_discovery_new(
    const struct cgroup_discovery_options *options, char **cause);
void cgroup_discovery_free(struct cgroup_discovery *discovery);

/*
 * Walk the hierarchies and index every pod cgroup.  Replaces the previous
 * index only on success; 0 or a negative errno with *cause.
 */
int cgroup_discovery_rescan(struct cgroup_discovery *discovery, char **cause);

/* Pod cgroups the last rescan indexed (per hierarchy, counted once). */
size_t cgroup_discovery_pod_count(const struct cgroup_discovery *discovery);

/*
 * The pod's cgroups as the last rescan located them, with containers and
 * processes read now.  NULL with errno (ENOENT: not found, EEXIST: two
 * cgroups claim the UID, EINVAL: no usable UID) and *cause.
 */
struct cgroup_pod *cgroup_discovery_find(
    const struct cgroup_discovery *discovery, const struct pod *pod,
    char **cause);
void cgroup_pod_free(struct cgroup_pod *found);

enum cgroup_layout cgroup_discovery_layout(
    const struct cgroup_discovery *discovery);
/* The hierarchy roots in use; NULL for one the layout lacks. */
const char *cgroup_discovery_v2_root(const struct cgroup_discovery *discovery);
const char *cgroup_discovery_cpu_root(const struct cgroup_discovery *discovery);
const char *cgroup_discovery_cpuset_root(
    const struct cgroup_discovery *discovery);

/*
 * Detect the layout of a cgroup root and the directories of its v2
 * hierarchy, cpu and cpuset controllers (malloc'd; NULL when absent).
 */
int cgroup_discovery_detect(const char *cgroup_root, enum cgroup_layout *layout,
    char **v2_root, char **cpu_root, char **cpuset_root, char **cause);

/* Pure name handling, bounded and validated. */

/*
 * A pod cgroup directory name: "pod<uid>" (cgroupfs) or "<prefix>-pod<uid
 * with _ for ->.slice" (systemd).  0 with the UID (dashes restored) in
 * uid[CGROUP_DISCOVERY_MAX_UID + 1] and *driver, or -EINVAL.
 */
int cgroup_discovery_parse_pod_name(const char *name, char *uid,
    enum cgroup_driver *driver);

/*
 * A container cgroup directory name: cri-containerd-<id>.scope,
 * crio-<id>.scope, docker-<id>.scope, crio-<id> or a bare <id>.  0 with the
 * id in id[CGROUP_DISCOVERY_CONTAINER_ID_LEN + 1] and *runtime, or -EINVAL
 * for anything else (conmon scopes, crun's "container" child, ...).
 */
int cgroup_discovery_parse_container_name(const char *name, char *id,
    enum cgroup_runtime *runtime);

/*
 * The id in a status containerID ("containerd://<id>", "cri-o://<id>",
 * "docker://<id>"): a pointer into status_id, or NULL when it is no
 * 64-hex id.
 */
const char *cgroup_discovery_container_id(const char *status_id);

/* The UID the kubelet names the pod's cgroup for: config.mirror when set. */
const char *cgroup_discovery_cgroup_uid(const struct pod *pod);

/* The QoS class a pod's parent directory name implies. */
enum pod_qos cgroup_discovery_parent_qos(const char *parent_name);

const char *cgroup_layout_name(enum cgroup_layout layout);
const char *cgroup_driver_name(enum cgroup_driver driver);
const char *cgroup_runtime_name(enum cgroup_runtime runtime);

/* The report as JSON for /api/v1/pods and /observe; NULL on ENOMEM. */
struct cJSON *cgroup_pod_json(const struct cgroup_pod *found);

#endif
