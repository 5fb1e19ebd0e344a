/*
 * t/test-cgroup-discovery.c - name parsing, and discovery over fixture
 * trees of the layouts this machine cannot create for real: a pure cgroup
 * v2 root, v1 only with cpu,cpuacct, CRI-O with conmon and crun's child,
 * kubelet --cgroup-root prefixes.  Real cgroups with real processes are
 * t/50-cgroup-discovery.sh.
 */
#include "config.h"

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

#include "cgroup-discovery.h"
#include "pod.h"
#include "tap.h"

static char fixture_root[1024];

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID_1 "0b6a3c1e-1111-4a2b-9c3d-5e6f7a8b9c0d"
#define UID_1_ "0b6a3c1e_1111_4a2b_9c3d_5e6f7a8b9c0d"
#define UID_2 "7d1e2f3a-2222-4b5c-8d9e-0f1a2b3c4d5e"
#define HASH "5f4dcc3b5aa765d61d8327deb882cf99"

/* mkdir -p root/relative, and write content to root/relative/file if given. */
__attribute__((format(printf, 3, 4)))
static void
fixture(const char *file, const char *content, const char *fmt, ...)
{
	char relative[PATH_MAX], path[PATH_MAX * 2];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(relative, sizeof relative, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s/%s", fixture_root, relative);
	for (char *p = path + strlen(fixture_root) + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
	if (file == NULL)
		return;
	strcat(path, "/");
	strcat(path, file);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
}

static void
fixture_reset(const char *name)
{
	char command[PATH_MAX + 32];

	snprintf(command, sizeof command, "rm -rf '%s'", fixture_root);
	if (fixture_root[0] != '\0' && system(command) != 0)
		exit(1);
	snprintf(fixture_root, sizeof fixture_root, "%s/temper-cgroup-fixture-%d-%s",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), name);
	mkdir(fixture_root, 0755);
}

static struct pod
make_pod(const char *uid, const char *mirror, struct pod_container *containers,
    size_t count)
{
	struct pod pod = { 0 };

	pod.uid = uid;
	pod.namespace = "default";
	pod.name = "fixture";
	pod.config_mirror = mirror;
	pod.containers = containers;
	pod.container_count = count;
	return pod;
}

static struct cgroup_discovery *
discover(enum cgroup_layout layout)
{
	struct cgroup_discovery_options options = { fixture_root, layout };
	struct cgroup_discovery *discovery;
	char *cause = NULL;

	discovery = cgroup_discovery_new(&options, &cause);
	if (discovery == NULL) {
		diag("cgroup_discovery_new: %s", cause ? cause : strerror(errno));
		free(cause);
		return NULL;
	}
	if (cgroup_discovery_rescan(discovery, &cause) != 0) {
		diag("rescan: %s", cause ? cause : "?");
		free(cause);
		cgroup_discovery_free(discovery);
		return NULL;
	}
	return discovery;
}

static void
test_parse_pod_names(void)
{
	char uid[CGROUP_DISCOVERY_MAX_UID + 1];
	enum cgroup_driver driver;
	char long_name[300];

	is_int(cgroup_discovery_parse_pod_name("kubepods-burstable-pod" UID_1_ ".slice",
	    uid, &driver), 0, "systemd burstable pod slice");
	is_str(uid, UID_1, "  underscores become dashes");
	is_int(driver, CGROUP_DRIVER_SYSTEMD, "  driver systemd");
	is_int(cgroup_discovery_parse_pod_name("kubepods-pod" UID_1_ ".slice", uid,
	    &driver), 0, "systemd guaranteed pod slice");
	is_int(cgroup_discovery_parse_pod_name("pod" UID_1, uid, &driver), 0,
	    "cgroupfs pod directory");
	is_str(uid, UID_1, "  uid as is");
	is_int(driver, CGROUP_DRIVER_CGROUPFS, "  driver cgroupfs");
	is_int(cgroup_discovery_parse_pod_name("kubelet-kubepods-besteffort-pod" HASH ".slice",
	    uid, &driver), 0, "static pod hash under a --cgroup-root prefix");
	is_str(uid, HASH, "  the hash");

	is_int(cgroup_discovery_parse_pod_name("kubepods-burstable.slice", uid, &driver),
	    -EINVAL, "a QoS slice is no pod");
	is_int(cgroup_discovery_parse_pod_name("kubepods.slice", uid, &driver),
	    -EINVAL, "kubepods.slice is no pod");
	is_int(cgroup_discovery_parse_pod_name("burstable", uid, &driver), -EINVAL,
	    "cgroupfs QoS directory is no pod");
	is_int(cgroup_discovery_parse_pod_name("pod", uid, &driver), -EINVAL,
	    "pod without uid");
	is_int(cgroup_discovery_parse_pod_name("pod.slice", uid, &driver), -EINVAL,
	    "pod.slice without uid");
	is_int(cgroup_discovery_parse_pod_name("podXYZ", uid, &driver), -EINVAL,
	    "non-hex uid refused");
	is_int(cgroup_discovery_parse_pod_name("pod" UID_1_, uid, &driver), -EINVAL,
	    "cgroupfs name with underscores refused");
	is_int(cgroup_discovery_parse_pod_name("kubepods-pod" UID_1 ".slice", uid,
	    &driver), -EINVAL, "systemd name with dashes in the uid refused");
	is_int(cgroup_discovery_parse_pod_name("pod-abc", uid, &driver), -EINVAL,
	    "uid starting with a dash refused");
	is_int(cgroup_discovery_parse_pod_name("machine-libpod_pod_abc.slice", uid,
	    &driver), -EINVAL, "podman's libpod slice is no kubelet pod");
	memset(long_name, 'a', sizeof long_name);
	memcpy(long_name, "pod", 3);
	long_name[3 + CGROUP_DISCOVERY_MAX_UID + 1] = '\0';
	is_int(cgroup_discovery_parse_pod_name(long_name, uid, &driver), -EINVAL,
	    "uid longer than %d refused", CGROUP_DISCOVERY_MAX_UID);
	long_name[3 + CGROUP_DISCOVERY_MAX_UID] = '\0';
	is_int(cgroup_discovery_parse_pod_name(long_name, uid, &driver), 0,
	    "uid of exactly %d accepted", CGROUP_DISCOVERY_MAX_UID);
	memset(long_name + 3, 'a', sizeof long_name - 3);
	long_name[sizeof long_name - 1] = '\0';
	is_int(cgroup_discovery_parse_pod_name(long_name, uid, &driver), -EINVAL,
	    "name longer than NAME_MAX refused");
}

static void
test_parse_container_names(void)
{
	char id[CGROUP_DISCOVERY_CONTAINER_ID_LEN + 1];
	enum cgroup_runtime runtime;

	is_int(cgroup_discovery_parse_container_name("cri-containerd-" ID_C ".scope",
	    id, &runtime), 0, "containerd scope");
	is_str(id, ID_C, "  id");
	is_int(runtime, CGROUP_RUNTIME_CONTAINERD, "  runtime containerd");
	is_int(cgroup_discovery_parse_container_name("crio-" ID_A ".scope", id,
	    &runtime), 0, "CRI-O scope");
	is_int(runtime, CGROUP_RUNTIME_CRIO, "  runtime cri-o");
	is_int(cgroup_discovery_parse_container_name("crio-" ID_A, id, &runtime), 0,
	    "CRI-O cgroupfs directory");
	is_int(cgroup_discovery_parse_container_name("docker-" ID_B ".scope", id,
	    &runtime), 0, "docker scope");
	is_int(runtime, CGROUP_RUNTIME_DOCKER, "  runtime docker");
	is_int(cgroup_discovery_parse_container_name(ID_B, id, &runtime), 0,
	    "bare id (containerd, cgroupfs)");
	is_str(id, ID_B, "  id");
	is_int(cgroup_discovery_parse_container_name("crio-conmon-" ID_A ".scope", id,
	    &runtime), -EINVAL, "conmon scope is no container");
	is_int(cgroup_discovery_parse_container_name("crio-conmon-" ID_A, id,
	    &runtime), -EINVAL, "conmon directory is no container");
	is_int(cgroup_discovery_parse_container_name("container", id, &runtime),
	    -EINVAL, "crun's child is no container");
	is_int(cgroup_discovery_parse_container_name("cri-containerd-abc.scope", id,
	    &runtime), -EINVAL, "short id refused");
	is_int(cgroup_discovery_parse_container_name("cri-containerd-" ID_A "a.scope",
	    id, &runtime), -EINVAL, "65-digit id refused");
	is_int(cgroup_discovery_parse_container_name(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", id,
	    &runtime), -EINVAL, "upper-case id refused");

	is_str(cgroup_discovery_container_id("containerd://" ID_C), ID_C,
	    "status id containerd://");
	is_str(cgroup_discovery_container_id("cri-o://" ID_A), ID_A, "status id cri-o://");
	is_str(cgroup_discovery_container_id(ID_A), ID_A, "status id without scheme");
	ok(cgroup_discovery_container_id("containerd://abc") == NULL, "short status id refused");
	ok(cgroup_discovery_container_id(NULL) == NULL, "no status id");

	is_int(cgroup_discovery_parent_qos("kubepods-besteffort.slice"),
	    POD_QOS_BESTEFFORT, "besteffort parent");
	is_int(cgroup_discovery_parent_qos("burstable"), POD_QOS_BURSTABLE,
	    "burstable parent");
	is_int(cgroup_discovery_parent_qos("kubepods.slice"), POD_QOS_GUARANTEED,
	    "kubepods parent is Guaranteed");
	is_int(cgroup_discovery_parent_qos("kubepods"), POD_QOS_GUARANTEED,
	    "cgroupfs kubepods parent is Guaranteed");
}

/* Pure v2, systemd, containerd: the production shape. */
static void
test_v2_systemd(void)
{
	struct pod_container containers[2] = {
		{ .name = "app", .id = "containerd://" ID_A },
		{ .name = "sidecar", .id = "containerd://" ID_B },
	};
	struct pod pod = make_pod(UID_1, NULL, containers, 2), other;
	struct cgroup_discovery *discovery;
	struct cgroup_pod *found;
	char *cause = NULL;
	const char *pod_dir = "kubepods.slice/kubepods-burstable.slice/"
	    "kubepods-burstable-pod" UID_1_ ".slice";

	fixture_reset("v2");
	fixture("cgroup.controllers", "cpuset cpu io memory pids\n", "%s", ".");
	fixture("cgroup.procs", "", "%s", pod_dir);
	fixture("cgroup.procs", "100\n101\n", "%s/cri-containerd-" ID_A ".scope", pod_dir);
	fixture("cgroup.procs", "200\n", "%s/cri-containerd-" ID_C ".scope", pod_dir);
	/* A guaranteed pod, a static pod named for its hash, and a decoy. */
	fixture("cgroup.procs", "300\n", "kubepods.slice/kubepods-pod" UID_2
	    "_x.slice/cri-containerd-" ID_A ".scope");
	fixture("cgroup.procs", "", "kubepods.slice/kubepods-pod%s.slice", "7d1e2f3a_2222_4b5c_8d9e_0f1a2b3c4d5e");
	fixture("cgroup.procs", "400\n", "kubepods.slice/kubepods-besteffort.slice/"
	    "kubepods-besteffort-pod" HASH ".slice/cri-containerd-" ID_B ".scope");
	fixture("cgroup.procs", "500\n", "system.slice/pod" UID_1 ".slice");

	discovery = discover(CGROUP_LAYOUT_AUTO);
	ok(discovery != NULL, "v2 fixture: discovery");
	if (discovery == NULL)
		return;
	is_int(cgroup_discovery_layout(discovery), CGROUP_LAYOUT_V2,
	    "cgroup.controllers at the root: v2");
	is_int(cgroup_discovery_pod_count(discovery), 3,
	    "three pod cgroups below kubepods (the decoy under system.slice is not one)");
	found = cgroup_discovery_find(discovery, &pod, &cause);
	ok(found != NULL, "burstable pod found");
	if (found != NULL) {
		char expected[PATH_MAX * 2];

		is_str(found->relative, "kubepods.slice/kubepods-burstable.slice/"
		    "kubepods-burstable-pod" UID_1_ ".slice/", "  relative path, trailing slash");
		snprintf(expected, sizeof expected, "%s/%s", fixture_root, pod_dir);
		is_str(found->path, expected, "  absolute v2 path");
		is_str(found->cpu_path, expected, "  cpu.idle lives in the same directory on v2");
		is_str(found->cpuset_path, expected, "  so does cpuset.cpus");
		is_int(found->driver, CGROUP_DRIVER_SYSTEMD, "  systemd driver");
		is_int(found->qos, POD_QOS_BURSTABLE, "  burstable parent");
		ok(found->cgroup_id != 0, "  cgroup id (inode) set");
		is_int(found->container_count, 2, "  two container cgroups");
		is_int(found->missing_count, 1, "  the sidecar has no cgroup");
		is_int(found->pid_count, 3, "  three pids");
		if (found->pid_count == 3)
			ok(found->pids[0] == 100 && found->pids[1] == 101 &&
			    found->pids[2] == 200, "  pids sorted: 100 101 200");
		for (size_t i = 0; i < found->container_count; i++) {
			const struct cgroup_container *c = &found->containers[i];

			if (strcmp(c->id, ID_A) == 0) {
				is_str(c->name, "app", "  container A matched to app");
				is_int(c->pod_index, 0, "  at index 0");
				is_int(c->pid_count, 2, "  with two pids");
			} else {
				ok(c->name == NULL && c->pod_index == -1,
				    "  container C (the sandbox) unmatched");
			}
		}
		cJSON *json = cgroup_pod_json(found);
		ok(json != NULL && cJSON_GetArraySize(cJSON_GetObjectItem(json,
		    "containers")) == 2, "  JSON report with two containers");
		cJSON_Delete(json);
		cgroup_pod_free(found);
	}
	free(cause);
	cause = NULL;

	/* kubepods-pod<uid>_x.slice does not claim UID_2: "_x" is no UID. */
	other = make_pod(UID_2, NULL, NULL, 0);
	found = cgroup_discovery_find(discovery, &other, &cause);
	ok(found != NULL, "guaranteed pod found directly under kubepods");
	if (found != NULL) {
		is_int(found->qos, POD_QOS_GUARANTEED, "  qos Guaranteed");
		cgroup_pod_free(found);
	}
	free(cause);
	cause = NULL;

	/* The static pod: its API UID differs, the cgroup carries the hash. */
	other = make_pod("99999999-0000-0000-0000-000000000000", HASH, NULL, 0);
	found = cgroup_discovery_find(discovery, &other, &cause);
	ok(found != NULL, "static pod found through its config.mirror hash");
	if (found != NULL) {
		is_str(found->uid, "99999999-0000-0000-0000-000000000000", "  reports the API uid");
		is_str(found->cgroup_uid, HASH, "  and the cgroup's uid");
		is_int(found->qos, POD_QOS_BESTEFFORT, "  besteffort");
		is_int(found->pid_count, 1, "  one pid");
		cgroup_pod_free(found);
	}
	free(cause);
	cause = NULL;

	other = make_pod("12345678-0000-0000-0000-000000000000", NULL, NULL, 0);
	found = cgroup_discovery_find(discovery, &other, &cause);
	ok(found == NULL && errno == ENOENT, "an absent pod: ENOENT");
	ok(cause != NULL && strstr(cause, "no cgroup named for UID") != NULL,
	    "  with a cause");
	free(cause);
	cause = NULL;

	other = make_pod("../../etc", NULL, NULL, 0);
	found = cgroup_discovery_find(discovery, &other, &cause);
	ok(found == NULL && errno == EINVAL, "a UID that cannot name a cgroup: EINVAL");
	free(cause);
	cause = NULL;

	/* A container restarts: a new scope appears, no rescan needed. */
	fixture("cgroup.procs", "150\n", "%s/cri-containerd-" ID_B ".scope", pod_dir);
	found = cgroup_discovery_find(discovery, &pod, &cause);
	ok(found != NULL && found->container_count == 3 && found->missing_count == 0,
	    "a new container cgroup is seen without a rescan");
	cgroup_pod_free(found);
	free(cause);
	cause = NULL;

	/* The same UID in a second place: ambiguous, refused. */
	fixture("cgroup.procs", "", "kubepods.slice/kubepods-besteffort.slice/"
	    "kubepods-besteffort-pod" UID_1_ ".slice");
	ok(cgroup_discovery_rescan(discovery, NULL) == 0, "rescan");
	found = cgroup_discovery_find(discovery, &pod, &cause);
	ok(found == NULL && errno == EEXIST, "two cgroups for one UID: EEXIST");
	ok(cause != NULL && strstr(cause, "two cgroups") != NULL, "  with a cause");
	free(cause);
	cgroup_discovery_free(discovery);
}

/* v1 only, cgroupfs driver, CRI-O, cpu and cpuacct co-mounted, a prefix. */
static void
test_v1_cgroupfs_crio(void)
{
	struct pod_container containers[1] = {
		{ .name = "app", .id = "cri-o://" ID_A },
	};
	struct pod pod = make_pod(UID_1, NULL, containers, 1);
	struct cgroup_discovery *discovery;
	struct cgroup_pod *found;
	char *cause = NULL, expected[PATH_MAX * 2];
	const char *pod_dir = "kubelet/kubepods/burstable/pod" UID_1;

	fixture_reset("v1");
	fixture("cpu.shares", "1024\n", "cpu,cpuacct");
	fixture("cpuset.cpus", "0-3\n", "cpuset");
	fixture("cgroup.procs", "", "cpu,cpuacct/%s", pod_dir);
	fixture("cgroup.procs", "", "cpu,cpuacct/%s/crio-" ID_A, pod_dir);
	/* crun moves the processes into a child named "container". */
	fixture("cgroup.procs", "700\n701\n", "cpu,cpuacct/%s/crio-" ID_A "/container",
	    pod_dir);
	fixture("cgroup.procs", "690\n", "cpu,cpuacct/%s/crio-conmon-" ID_A, pod_dir);
	fixture("cgroup.procs", "710\n", "cpu,cpuacct/%s/crio-" ID_B, pod_dir);
	fixture("cgroup.procs", "700\n701\n", "cpuset/%s/crio-" ID_A "/container",
	    pod_dir);

	discovery = discover(CGROUP_LAYOUT_AUTO);
	ok(discovery != NULL, "v1 fixture: discovery");
	if (discovery == NULL)
		return;
	is_int(cgroup_discovery_layout(discovery), CGROUP_LAYOUT_V1, "v1 detected");
	ok(cgroup_discovery_v2_root(discovery) == NULL, "  no v2 hierarchy");
	snprintf(expected, sizeof expected, "%s/cpu,cpuacct", fixture_root);
	is_str(cgroup_discovery_cpu_root(discovery), expected,
	    "  cpu controller co-mounted with cpuacct");
	found = cgroup_discovery_find(discovery, &pod, &cause);
	ok(found != NULL, "CRI-O pod under cgroupfs found");
	if (found != NULL) {
		is_str(found->relative, "kubelet/kubepods/burstable/pod" UID_1 "/",
		    "  relative path below a --cgroup-root prefix");
		ok(found->path == NULL && found->cgroup_id == 0, "  no v2 path, no cgroup id");
		snprintf(expected, sizeof expected, "%s/cpu,cpuacct/%s", fixture_root,
		    pod_dir);
		is_str(found->cpu_path, expected, "  cpu path");
		snprintf(expected, sizeof expected, "%s/cpuset/%s", fixture_root,
		    pod_dir);
		is_str(found->cpuset_path, expected, "  cpuset path");
		is_int(found->driver, CGROUP_DRIVER_CGROUPFS, "  cgroupfs driver");
		is_int(found->container_count, 2, "  app and sandbox; conmon is no container");
		is_int(found->pid_count, 3,
		    "  pids from crun's child, deduplicated across hierarchies, conmon left out");
		for (size_t i = 0; i < found->container_count; i++)
			if (strcmp(found->containers[i].id, ID_A) == 0) {
				is_int(found->containers[i].runtime, CGROUP_RUNTIME_CRIO,
				    "  CRI-O runtime");
				is_str(found->containers[i].name, "app", "  matched to app");
			}
		cgroup_pod_free(found);
	}
	free(cause);
	cgroup_discovery_free(discovery);
}

static void
test_layouts(void)
{
	struct cgroup_discovery_options options = { 0 };
	struct cgroup_discovery *discovery;
	char *cause = NULL;

	fixture_reset("empty");
	options.cgroup_root = fixture_root;
	discovery = cgroup_discovery_new(&options, &cause);
	ok(discovery == NULL && errno == ENOENT, "no hierarchy at all: ENOENT");
	ok(cause != NULL && strstr(cause, "no cgroup hierarchy") != NULL,
	    "  with a cause");
	free(cause);
	cause = NULL;

	fixture_reset("hybrid");
	fixture("cgroup.controllers", "", "unified");
	fixture("cpu.shares", "1024\n", "cpu");
	discovery = discover(CGROUP_LAYOUT_AUTO);
	ok(discovery != NULL && cgroup_discovery_layout(discovery) ==
	    CGROUP_LAYOUT_HYBRID, "unified/cgroup.controllers: hybrid");
	cgroup_discovery_free(discovery);
	discovery = discover(CGROUP_LAYOUT_V1);
	ok(discovery != NULL && cgroup_discovery_layout(discovery) ==
	    CGROUP_LAYOUT_V1 && cgroup_discovery_v2_root(discovery) == NULL,
	    "hybrid tree used as v1 only on request");
	cgroup_discovery_free(discovery);
	options.layout = CGROUP_LAYOUT_V2;
	discovery = cgroup_discovery_new(&options, &cause);
	ok(discovery == NULL && errno == EINVAL, "v2 asked of a hybrid tree: EINVAL");
	free(cause);

	/* Depth bound: a pod below CGROUP_DISCOVERY_MAX_DEPTH is not found. */
	fixture_reset("deep");
	fixture("cgroup.controllers", "", ".");
	fixture(NULL, NULL, "a/b/c/d/e/f/g/h/i/kubepods/pod" UID_1);
	fixture(NULL, NULL, "a/b/c/kubepods/pod" UID_2);
	discovery = discover(CGROUP_LAYOUT_AUTO);
	ok(discovery != NULL && cgroup_discovery_pod_count(discovery) == 1,
	    "walk bounded at depth %d", CGROUP_DISCOVERY_MAX_DEPTH);
	cgroup_discovery_free(discovery);
}

int
main(void)
{
	test_parse_pod_names();
	test_parse_container_names();
	test_v2_systemd();
	test_v1_cgroupfs_crio();
	test_layouts();
	fixture_reset("done");
	rmdir(fixture_root);
	return done_testing();
}
