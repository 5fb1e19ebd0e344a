/*
 * t/test-cgroup-enforce.c - the pure plan (pods and tiers to intended
 * writes, exclusive cores, the kubelet's CPU manager state), and the
 * journal's apply / restore / crash-restart rules over a fixture tree whose
 * plain files stand in for cgroup files: the cgroup v2 cpuset partition
 * path this hybrid machine cannot create for real.  Real cgroups are
 * t/51-cgroup-enforce.sh.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgroup-enforce.h"
#include "log.h"
#include "planner.h"
#include "pod.h"
#include "tap.h"
#include "topology.h"

static char root[512];
static char state_dir[600];

struct fixture_pod {
	struct pod pod;
	struct pod_container container;
};

static void
make_pod(struct fixture_pod *f, const char *uid, int64_t millis)
{
	memset(f, 0, sizeof *f);
	f->container.name = "main";
	f->container.cpu_request_millis = millis;
	f->container.cpu_limit_millis = millis;
	f->pod.uid = uid;
	f->pod.namespace = "default";
	f->pod.name = uid;
	f->pod.containers = &f->container;
	f->pod.container_count = 1;
}

static void
put(const char *relative, const char *file, const char *value)
{
	char path[2048];
	FILE *out;

	snprintf(path, sizeof path, "%s/%s", root, relative);
	for (char *p = path + strlen(root) + 1; *p != '\0'; p++)
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
	if ((out = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(out, "%s\n", value);
	fclose(out);
}

/* The file's content without its newline, in a static buffer. */
static const char *
get(const char *relative, const char *file)
{
	static char text[256];
	char path[2048];
	FILE *in;
	size_t n;

	snprintf(path, sizeof path, "%s/%s/%s", root, relative, file);
	if ((in = fopen(path, "r")) == NULL)
		return "(absent)";
	n = fread(text, 1, sizeof text - 1, in);
	fclose(in);
	text[n] = '\0';
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	return text;
}

static bool
journal_exists(void)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/%s", state_dir, CGROUP_ENFORCE_JOURNAL);
	return access(path, F_OK) == 0;
}

static void
test_cpu_lists(void)
{
	unsigned *cpus;
	size_t count;
	char *text;

	is_int(cgroup_enforce_parse_cpus("0-3,8,10-11\n", &cpus, &count), 0, "CPU list parsed");
	is_int(count, 7, "  seven CPUs");
	text = cgroup_enforce_format_cpus(cpus, count);
	is_str(text, "0-3,8,10-11", "  formatted back");
	free(text);
	free(cpus);
	is_int(cgroup_enforce_parse_cpus("7,3,3,5", &cpus, &count), 0, "unsorted list with a duplicate");
	text = cgroup_enforce_format_cpus(cpus, count);
	is_str(text, "3,5,7", "  sorted, deduplicated");
	free(text);
	free(cpus);
	is_int(cgroup_enforce_parse_cpus("", &cpus, &count), 0, "empty list");
	is_int(count, 0, "  no CPUs");
	text = cgroup_enforce_format_cpus(NULL, 0);
	is_str(text, "", "  formats as empty");
	free(text);
	is_int(cgroup_enforce_parse_cpus("3-1", &cpus, &count), -EINVAL, "reversed range refused");
	is_int(cgroup_enforce_parse_cpus("a", &cpus, &count), -EINVAL, "garbage refused");
	is_int(cgroup_enforce_parse_cpus("0-99999", &cpus, &count), -EINVAL,
	    "ids beyond TOPOLOGY_MAX_CPUS refused");
}

static void
test_cpu_manager(void)
{
	struct cgroup_enforce_cpu_manager state;
	char *cause = NULL;

	is_int(cgroup_enforce_parse_cpu_manager(
	    "{\"policyName\":\"static\",\"defaultCpuSet\":\"0,3-7\","
	    "\"entries\":{\"uid-a\":{\"app\":\"1-2\"},\"uid-b\":{\"x\":\"4\",\"y\":\"2\"}},"
	    "\"checksum\":1}", &state, &cause), 0, "static CPU manager state parsed");
	is_str(state.policy, "static", "  policy");
	is_int(state.pod_count, 2, "  two pods");
	is_str(state.pod_count == 2 ? state.pods[1] : NULL, "uid-b", "  the second pod's uid");
	is_int(state.cpu_count, 3, "  CPUs 1, 2, 4 handed out");
	cgroup_enforce_cpu_manager_clear(&state);
	is_int(cgroup_enforce_parse_cpu_manager("{\"policyName\":\"none\","
	    "\"defaultCpuSet\":\"\",\"checksum\":1}", &state, &cause), 0,
	    "none policy parsed");
	is_int(state.pod_count, 0, "  no entries");
	cgroup_enforce_cpu_manager_clear(&state);
	is_int(cgroup_enforce_parse_cpu_manager("{\"entries\":{}}", &state, &cause),
	    -EINVAL, "no policyName refused");
	ok(cause != NULL, "  with a cause");
	free(cause);
	cause = NULL;
	is_int(cgroup_enforce_parse_cpu_manager("{\"policyName\":\"static\","
	    "\"entries\":{\"u\":{\"c\":\"x\"}}}", &state, &cause), -EINVAL,
	    "a CPU set that is no list refused");
	free(cause);
}

static void
test_plan(void)
{
	struct fixture_pod pods[6];
	struct planner_pod planned[6];
	struct cgroup_enforce_plan_options options = { 0 };
	struct cgroup_enforce_plan *plan;
	struct topology *topology = topology_synthetic(1, 1, 4, 2);
	const char *pinned[] = { "uid-pinned" };
	unsigned kubelet_cpus[] = { 3, 7 };
	char *cause = NULL;

	make_pod(&pods[0], "uid-low", 500);
	make_pod(&pods[1], "uid-bg", 0);
	make_pod(&pods[2], "uid-normal", 1000);
	make_pod(&pods[3], "uid-crit", 2000);
	make_pod(&pods[4], "uid-unknown", 100);
	make_pod(&pods[5], "uid-crit2", 1500);
	for (int i = 0; i < 6; i++)
		planned[i].pod = &pods[i].pod;
	planned[0].tier = TIER_LOW;
	planned[0].cgroup = "/kubepods.slice/kubepods-burstable.slice/low.slice/";
	planned[1].tier = TIER_BACKGROUND;
	planned[1].cgroup = "kubepods.slice/kubepods-besteffort.slice/bg.slice";
	planned[2].tier = TIER_NORMAL;
	planned[2].cgroup = "kubepods.slice/normal.slice";
	planned[3].tier = TIER_CRITICAL;
	planned[3].cgroup = "kubepods.slice/crit.slice";
	planned[4].tier = TIER_BACKGROUND;
	planned[4].cgroup = NULL;
	planned[5].tier = TIER_CRITICAL;
	planned[5].cgroup = "kubepods.slice/kubepods-burstable.slice/crit2.slice";

	/* Without exclusive cores: cpu.idle for Low and Background only. */
	plan = cgroup_enforce_plan(planned, 5, topology, &options, &cause);
	ok(plan != NULL, "plan without exclusive CPUs");
	if (plan != NULL) {
		is_int(plan->write_count, 2, "  two writes");
		is_str(plan->writes[0].relative, "kubepods.slice/kubepods-besteffort.slice/bg.slice",
		    "  background first (uid order)");
		is_str(plan->writes[0].file, "cpu.idle", "  cpu.idle");
		is_str(plan->writes[0].value, "1", "  = 1");
		is_int(plan->writes[0].controller, CGROUP_ENFORCE_CPU, "  in the cpu controller");
		is_str(plan->writes[1].relative, "kubepods.slice/kubepods-burstable.slice/low.slice",
		    "  low: slashes trimmed");
		is_int(plan->note_count, 1, "  one note");
		ok(plan->note_count == 1 && strstr(plan->notes[0], "uid-unknown") != NULL &&
		    strstr(plan->notes[0], "not known yet") != NULL,
		    "  the pod without a cgroup is named");
	}
	cgroup_enforce_plan_free(plan);

	/* Exclusive cores on v2: 4 cores x 2 threads, CPUs k and k+4 share core k. */
	options.v2 = true;
	options.exclusive_critical = true;
	plan = cgroup_enforce_plan(planned, 6, topology, &options, &cause);
	ok(plan != NULL, "plan with exclusive CPUs on v2");
	if (plan != NULL) {
		/* uid order: uid-crit (2 CPUs = 1 core), uid-crit2 (2 CPUs = 1 core). */
		is_int(plan->write_count, 2 + 2 + 6, "  2 ancestors + 2 x 3 pod writes + 2 cpu.idle");
		is_str(plan->writes[0].relative, "kubepods.slice", "  the shallowest ancestor first");
		is_str(plan->writes[0].file, "cpuset.cpus.exclusive", "  granted exclusive CPUs");
		is_str(plan->writes[0].value, "2-3,6-7", "  the union of both pods' cores");
		ok(plan->writes[0].pod_uid == NULL, "  shared by both pods");
		is_str(plan->writes[1].relative, "kubepods.slice/kubepods-burstable.slice",
		    "  then the burstable slice");
		is_str(plan->writes[1].value, "2,6", "  only crit2's core");
		is_str(plan->writes[2].relative, "kubepods.slice/crit.slice", "  then crit");
		is_str(plan->writes[2].file, "cpuset.cpus", "  cpuset.cpus");
		is_str(plan->writes[2].value, "3,7", "  the highest core, both threads");
		is_str(plan->writes[3].file, "cpuset.cpus.exclusive", "  cpuset.cpus.exclusive");
		is_str(plan->writes[4].file, "cpuset.cpus.partition", "  partition");
		is_str(plan->writes[4].value, "root", "  = root");
		is_str(plan->writes[5].value, "2,6", "  crit2 gets the next core down");
		is_str(plan->writes[8].file, "cpu.idle", "  cpu.idle last");
	}
	cgroup_enforce_plan_free(plan);

	/* The kubelet pins one pod and owns CPUs 2 and 6: skipped. */
	options.kubelet_pinned = pinned;
	options.kubelet_pinned_count = 1;
	options.kubelet_cpus = kubelet_cpus;
	options.kubelet_cpu_count = 2;
	pods[3].pod.uid = pods[3].pod.name = "uid-pinned";
	plan = cgroup_enforce_plan(planned, 6, topology, &options, &cause);
	ok(plan != NULL, "plan beside the kubelet's CPU manager");
	if (plan != NULL) {
		bool pinned_noted = false;

		for (size_t i = 0; i < plan->note_count; i++)
			if (strstr(plan->notes[i], "uid-pinned") != NULL &&
			    strstr(plan->notes[i], "CPU manager") != NULL)
				pinned_noted = true;
		ok(pinned_noted, "  the pinned pod is left to the kubelet, with a note");
		is_str(plan->writes[0].value, "2,6", "  the kubelet's core 3 is skipped");
		is_int(plan->write_count, 2 + 3 + 2, "  crit2 alone is fenced");
	}
	cgroup_enforce_plan_free(plan);
	pods[3].pod.uid = pods[3].pod.name = "uid-crit";

	/* More cores than the node can fence (4 cores, 1 reserved). */
	options.kubelet_pinned_count = options.kubelet_cpu_count = 0;
	pods[3].container.cpu_request_millis = 8000;
	plan = cgroup_enforce_plan(planned, 6, topology, &options, &cause);
	ok(plan != NULL && plan->note_count >= 2 &&
	    strstr(plan->notes[0], "needs 4 whole cores") != NULL,
	    "a pod asking for more than the fenceable cores is noted, not fenced");
	if (plan != NULL)
		is_str(plan->writes[plan->write_count - 3 - 2].value, "3,7",
		    "  the next pod still gets the highest core");
	cgroup_enforce_plan_free(plan);
	pods[3].container.cpu_request_millis = 2000;

	/* cgroup v1: refused with the reason, no cpuset write at all. */
	options.v2 = false;
	plan = cgroup_enforce_plan(planned, 6, topology, &options, &cause);
	ok(plan != NULL && plan->write_count == 2, "v1: only cpu.idle writes");
	ok(plan != NULL && plan->note_count >= 2 &&
	    strstr(plan->notes[0], "cgroup v1") != NULL, "  exclusive CPUs refused on v1, with the reason");
	cgroup_enforce_plan_free(plan);

	/* A path that would leave the hierarchy. */
	planned[0].cgroup = "kubepods.slice/../../etc";
	plan = cgroup_enforce_plan(planned, 6, topology, &options, &cause);
	ok(plan == NULL && errno == EINVAL, "a cgroup path with .. is refused");
	ok(cause != NULL && strstr(cause, "uid-low") != NULL, "  naming the pod");
	free(cause);
	topology_free(topology);
}

static struct cgroup_enforce *
enforce_start(bool exclusive)
{
	struct cgroup_enforce_options options = { 0 };
	struct cgroup_enforce *enforce;
	char *cause = NULL, kubelet[1024];

	snprintf(kubelet, sizeof kubelet, "%s/cpu_manager_state", state_dir);
	options.cgroup_root = root;
	options.exclusive_critical = exclusive;
	options.cpu_manager_state = kubelet;
	if ((enforce = cgroup_enforce_new(state_dir, &options, &cause)) == NULL)
		diag("cgroup_enforce_new: %s", cause ? cause : strerror(errno));
	free(cause);
	return enforce;
}

static void
test_journal(void)
{
	struct fixture_pod pods[3];
	struct planner_pod planned[3];
	struct topology *topology = topology_synthetic(1, 1, 4, 2);
	struct cgroup_enforce *enforce;
	struct cgroup_enforce_effect *effects;
	size_t count;
	const char *low = "kubepods.slice/kubepods-burstable.slice/low.slice";
	const char *bg = "kubepods.slice/kubepods-besteffort.slice/bg.slice";
	const char *crit = "kubepods.slice/crit.slice";
	char command[1200];
	cJSON *status;

	snprintf(root, sizeof root, "%s/temper-enforce-fixture-%d",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	snprintf(state_dir, sizeof state_dir, "%s/state", root);
	mkdir(root, 0755);
	put(".", "cgroup.controllers", "cpuset cpu");
	put(low, "cpu.idle", "0");
	put(low, "cpu.weight", "50");
	put(bg, "cpu.idle", "0");
	put(bg, "cpu.weight", "1");
	put("kubepods.slice", "cpuset.cpus.exclusive", "");
	put("kubepods.slice", "cpuset.cpus.effective", "0-7");
	put(crit, "cpuset.cpus", "");
	put(crit, "cpuset.cpus.exclusive", "");
	put(crit, "cpuset.cpus.partition", "member");

	make_pod(&pods[0], "uid-low", 100);
	make_pod(&pods[1], "uid-bg", 100);
	make_pod(&pods[2], "uid-crit", 2000);
	for (int i = 0; i < 3; i++)
		planned[i].pod = &pods[i].pod;
	planned[0].tier = TIER_LOW;
	planned[0].cgroup = low;
	planned[1].tier = TIER_BACKGROUND;
	planned[1].cgroup = bg;
	planned[2].tier = TIER_CRITICAL;
	planned[2].cgroup = crit;

	enforce = enforce_start(true);
	ok(enforce != NULL, "enforcement starts on a v2 fixture tree");
	if (enforce == NULL)
		return;
	is_int(cgroup_enforce_apply(enforce, planned, 3, topology), 0, "apply");
	is_str(get(low, "cpu.idle"), "1", "  low pod: cpu.idle 1");
	is_str(get(bg, "cpu.idle"), "1", "  background pod: cpu.idle 1");
	is_str(get(crit, "cpuset.cpus"), "3,7", "  critical pod: its own core");
	is_str(get(crit, "cpuset.cpus.partition"), "root", "  as a partition root");
	is_str(get("kubepods.slice", "cpuset.cpus.exclusive"), "3,7",
	    "  granted down from kubepods.slice");
	is_int(cgroup_enforce_journal_count(enforce), 6, "  six values journalled");
	ok(journal_exists(), "  the journal is on disk");

	is_int(cgroup_enforce_read_back(enforce, &effects, &count), 0, "read back");
	{
		size_t in_effect = 0;

		for (size_t i = 0; i < count; i++)
			in_effect += effects[i].in_effect;
		is_int(in_effect, count, "  every intended value is in effect");
	}
	cgroup_enforce_effects_free(effects, count);

	/* Idempotent; and a value reset behind our back is written again. */
	put(low, "cpu.idle", "0");
	is_int(cgroup_enforce_apply(enforce, planned, 3, topology), 0, "apply again");
	is_str(get(low, "cpu.idle"), "1", "  a reset cpu.idle is enforced again");
	is_int(cgroup_enforce_journal_count(enforce), 6, "  still six entries");

	/* The low pod moves to normal: its value goes back, and the weight the
	 * kernel reset to its default (as cpu.idle=0 does) is the kubelet's again. */
	put(low, "cpu.weight", "100");
	planned[0].tier = TIER_NORMAL;
	is_int(cgroup_enforce_apply(enforce, planned, 3, topology), 0, "a pod leaves its tier");
	is_str(get(low, "cpu.idle"), "0", "  its cpu.idle is put back");
	is_str(get(low, "cpu.weight"), "50", "  and the kubelet's weight");
	is_int(cgroup_enforce_journal_count(enforce), 5, "  five entries left");

	/* Status JSON for /observe. */
	put(bg, "cpu.idle", "0");
	status = cgroup_enforce_status_json(enforce);
	ok(status != NULL, "status JSON");
	if (status != NULL) {
		is_int(cJSON_GetObjectItem(status, "intended")->valueint, 5, "  five intended values");
		is_int(cJSON_GetObjectItem(status, "in_effect")->valueint, 4,
		    "  four in effect: the one reset behind our back is shown");
		cJSON_Delete(status);
	}
	put(bg, "cpu.idle", "1");

	/* A crash: the object goes without a restore; the next start restores. */
	cgroup_enforce_free(enforce);
	ok(journal_exists(), "after a crash the journal remains");
	/* Someone else changed the critical pod's CPUs meanwhile: theirs now. */
	put(crit, "cpuset.cpus", "1");
	enforce = enforce_start(true);
	ok(enforce != NULL, "restart");
	is_int(enforce ? cgroup_enforce_journal_count(enforce) : 99, 0,
	    "  the start put the journal back and emptied it");
	ok(!journal_exists(), "  and removed the file");
	is_str(get(bg, "cpu.idle"), "0", "  background cpu.idle back to 0");
	is_str(get(crit, "cpuset.cpus.partition"), "member", "  partition back to member");
	is_str(get(crit, "cpuset.cpus.exclusive"), "", "  exclusive CPUs back to empty");
	is_str(get("kubepods.slice", "cpuset.cpus.exclusive"), "", "  ancestor's too");
	is_str(get(crit, "cpuset.cpus"), "1", "  a value someone else changed is left alone");
	put(crit, "cpuset.cpus", "");

	/* A pod vanishes: its entry is dropped, nothing fails. */
	planned[0].tier = TIER_LOW;
	is_int(cgroup_enforce_apply(enforce, planned, 2, topology), 0, "apply two pods");
	snprintf(command, sizeof command, "rm -rf '%s/%s'", root, low);
	if (system(command) != 0)
		diag("rm failed");
	is_int(cgroup_enforce_apply(enforce, planned + 1, 1, topology), 0,
	    "apply after a pod vanished");
	is_int(cgroup_enforce_journal_count(enforce), 1, "  its entry is gone");

	/* A write that fails is not journalled, and shows in the status. */
	put(low, "cpu.weight", "100");
	is_int(cgroup_enforce_apply(enforce, planned, 2, topology), 0,
	    "a pod whose cpu.idle file is missing");
	is_int(cgroup_enforce_journal_count(enforce), 1, "  nothing journalled for it");
	is_int(cgroup_enforce_read_back(enforce, &effects, &count), 0, "read back");
	ok(count == 2 && effects[1].in_effect == false && effects[1].error == -ENOENT,
	    "  the missing file is reported");
	cgroup_enforce_effects_free(effects, count);

	is_int(cgroup_enforce_restore_all(enforce), 0, "stand down");
	is_str(get(bg, "cpu.idle"), "0", "  background cpu.idle back to 0");
	ok(!journal_exists(), "  journal removed");
	cgroup_enforce_free(enforce);

	/* The kubelet's static CPU manager pins the critical pod: no cpuset write. */
	snprintf(command, sizeof command, "%s/cpu_manager_state", state_dir);
	{
		FILE *f = fopen(command, "w");

		fprintf(f, "{\"policyName\":\"static\",\"defaultCpuSet\":\"0-5\","
		    "\"entries\":{\"uid-crit\":{\"main\":\"6-7\"}},\"checksum\":1}");
		fclose(f);
	}
	enforce = enforce_start(true);
	is_int(enforce ? cgroup_enforce_apply(enforce, planned + 2, 1, topology) : -1, 0,
	    "apply a critical pod the kubelet pins");
	is_str(get(crit, "cpuset.cpus.partition"), "member", "  left a member");
	is_int(enforce ? cgroup_enforce_journal_count(enforce) : 99, 0, "  nothing journalled");
	cgroup_enforce_free(enforce);
	unlink(command);

	/* A container's cpuset narrower than the parent: the kubelet pins it. */
	put(crit, "cpuset.cpus", "");
	put("kubepods.slice/crit.slice/ctr", "cpuset.cpus", "4");
	enforce = enforce_start(true);
	is_int(enforce ? cgroup_enforce_apply(enforce, planned + 2, 1, topology) : -1, 0,
	    "apply a critical pod whose container is pinned");
	is_str(get(crit, "cpuset.cpus.partition"), "member", "  left a member");
	cgroup_enforce_free(enforce);

	/* A journal that is not ours is refused rather than misread. */
	snprintf(command, sizeof command, "%s/%s", state_dir, CGROUP_ENFORCE_JOURNAL);
	{
		FILE *f = fopen(command, "w");

		fprintf(f, "garbage\n");
		fclose(f);
	}
	enforce = enforce_start(false);
	ok(enforce == NULL && errno == EINVAL, "a corrupt journal stops the start");
	cgroup_enforce_free(enforce);

	snprintf(command, sizeof command, "rm -rf '%s'", root);
	if (system(command) != 0)
		diag("cleanup failed");
	topology_free(topology);
}

int
main(void)
{
	log_init("test-cgroup-enforce", LOG_LEVEL_ERROR);
	test_cpu_lists();
	test_cpu_manager();
	test_plan();
	test_journal();
	return done_testing();
}
