/*
 * temperctl-simulate.c - `temperctl simulate`: plan a node offline with the
 * agent's own code (kube-pod.c decodes, tier.c classifies, planner.c plans,
 * layered-gen.c renders), from a pod list and a machine shape, with no
 * cluster and no agent.  Given the same pods, topology, cgroups, allocatable
 * CPU and temper.conf, the configuration is byte for byte the agent's:
 * profiles.c selects each pod's workload profile from the builtins and, with
 * a temper.conf, its [profiles] directory, as the agent does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cgroup-discovery.h"
#include "conf.h"
#include "engine-config.h"
#include "kube-pod.h"
#include "kube-quantity.h"
#include "layered-gen.h"
#include "log.h"
#include "planner.h"
#include "pod.h"
#include "profiles.h"
#include "temperctl.h"
#include "tier.h"
#include "topology.h"

/* A pod list larger than this is not one node's pods. */
#define TEMPERCTL_SIMULATE_MAX_FILE_BYTES (256u * 1024u * 1024u)
#define TEMPERCTL_SIMULATE_MAX_PODS 100000

struct temperctl_simulation {
	struct temperctl *ctl;
	struct conf conf;
	bool conf_loaded;
	struct topology *topology;
	struct cgroup_discovery *discovery;
	enum cgroup_driver driver;
	int64_t allocatable_millis;
	struct profiles *profiles;

	cJSON *document;
	struct pod **pods;
	struct planner_pod *inputs;
	char **cgroups;			/* the input's cgroup paths, owned */
	char **whys;
	size_t count;
	size_t skipped_node, skipped_finished, derived_qos;

	struct plan *plan;
	char *json;
	char *notes;
};

static void
temperctl_simulate_free(struct temperctl_simulation *simulate)
{
	for (size_t i = 0; i < simulate->count; i++) {
		pod_free(simulate->pods[i]);
		free(simulate->cgroups[i]);
		free(simulate->whys[i]);
	}
	free(simulate->pods);
	free(simulate->inputs);
	free(simulate->cgroups);
	free(simulate->whys);
	cJSON_Delete(simulate->document);
	topology_free(simulate->topology);
	cgroup_discovery_free(simulate->discovery);
	profiles_free(simulate->profiles);
	if (simulate->conf_loaded)
		conf_free(&simulate->conf);
	planner_free(simulate->plan);
	free(simulate->json);
	free(simulate->notes);
}

static int
temperctl_simulate_read_file(const char *path, struct buf *out)
{
	char chunk[65536];
	size_t got;
	FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (file == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot open %s: %s", path,
		    strerror(errno));
	while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) {
		if (out->len + got > TEMPERCTL_SIMULATE_MAX_FILE_BYTES) {
			if (file != stdin)
				fclose(file);
			return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %s is larger than "
			    "%u bytes", path, TEMPERCTL_SIMULATE_MAX_FILE_BYTES);
		}
		if (buf_append(out, chunk, got) != 0) {
			if (file != stdin)
				fclose(file);
			return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
		}
	}
	if (ferror(file)) {
		if (file != stdin)
			fclose(file);
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot read %s", path);
	}
	if (file != stdin)
		fclose(file);
	return TEMPERCTL_EXIT_OK;
}

/* --- the machine -------------------------------------------------------------- */

static int
temperctl_simulate_topology(struct temperctl_simulation *simulate)
{
	const struct temperctl_args *args = &simulate->ctl->args;
	unsigned long cpus, threads, llcs = 1, nodes = 1;
	char *cause = NULL;

	if ((args->cpus == NULL) == (args->topology_dir == NULL))
		return temperctl_usage_error(simulate->ctl, "give the machine as --cpus N or "
		    "--topology DIR (a sysfs root), one of them");
	if (args->topology_dir != NULL) {
		if (args->threads_per_core || args->llcs || args->numa_nodes)
			return temperctl_usage_error(simulate->ctl, "--threads-per-core, --llcs and "
			    "--numa-nodes shape --cpus; --topology reads the shape");
		simulate->topology = topology_read(args->topology_dir, &cause);
		if (simulate->topology == NULL) {
			temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot read the topology "
			    "under %s: %s", args->topology_dir, cause ? cause : strerror(errno));
			free(cause);
			return TEMPERCTL_EXIT_LOCAL;
		}
		return TEMPERCTL_EXIT_OK;
	}
	if (!temperctl_parse_unsigned(args->cpus, TOPOLOGY_MAX_CPUS, &cpus) || cpus == 0)
		return temperctl_usage_error(simulate->ctl, "--cpus wants 1 to %d",
		    TOPOLOGY_MAX_CPUS);
	threads = cpus % 2 == 0 ? 2 : 1;
	if ((args->threads_per_core &&
	    (!temperctl_parse_unsigned(args->threads_per_core, 8, &threads) || threads == 0)) ||
	    (args->llcs && (!temperctl_parse_unsigned(args->llcs, TOPOLOGY_MAX_CPUS, &llcs) ||
	    llcs == 0)) ||
	    (args->numa_nodes && (!temperctl_parse_unsigned(args->numa_nodes, 1024, &nodes) ||
	    nodes == 0)))
		return temperctl_usage_error(simulate->ctl, "--threads-per-core (1-8), --llcs and "
		    "--numa-nodes want positive numbers");
	if (cpus % (threads * llcs * nodes) != 0)
		return temperctl_usage_error(simulate->ctl, "%lu CPUs do not split into %lu NUMA "
		    "node(s) x %lu LLC(s) x whole cores of %lu thread(s)", cpus, nodes, llcs, threads);
	simulate->topology = topology_synthetic((unsigned)nodes, (unsigned)llcs,
	    (unsigned)(cpus / (threads * llcs * nodes)), (unsigned)threads);
	if (simulate->topology == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot make a %lu-CPU "
		    "machine: %s", cpus, strerror(errno));
	return TEMPERCTL_EXIT_OK;
}

/*
 * The agent's profiles: the builtins, and with --config the [profiles]
 * directory it names (or the agent's default).  Without --config this
 * machine's directory says nothing about the node: builtins only.  A file
 * the agent would refuse is left out here too, with a warning.
 */
static int
temperctl_simulate_profiles(struct temperctl_simulation *simulate)
{
	const char *dir = simulate->ctl->args.config_file != NULL ?
	    simulate->conf.profiles.dir : NULL;
	enum log_level level = log_get_level();
	const cJSON *error;
	cJSON *list;
	char *cause = NULL;

	simulate->profiles = profiles_new(NULL, NULL, dir, &cause);
	if (simulate->profiles == NULL) {
		temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: the builtin profiles: %s",
		    cause ? cause : strerror(errno));
		free(cause);
		return TEMPERCTL_EXIT_LOCAL;
	}
	/* The refusals are reported below, in temperctl's words, not logged. */
	log_set_level(LOG_LEVEL_ERROR);
	profiles_rescan(simulate->profiles);
	log_set_level(level);
	if ((list = profiles_list_json(simulate->profiles)) == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
	cJSON_ArrayForEach(error, cJSON_GetObjectItemCaseSensitive(list, "errors"))
		fprintf(stderr, "temperctl: simulate: warning: profile file %s is not planned: %s\n",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "file")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "error")));
	cJSON_Delete(list);
	return TEMPERCTL_EXIT_OK;
}

static int
temperctl_simulate_settings(struct temperctl_simulation *simulate)
{
	const struct temperctl_args *args = &simulate->ctl->args;
	char *cause = NULL;

	conf_init(&simulate->conf);
	simulate->conf_loaded = true;
	if (args->config_file != NULL && conf_load(&simulate->conf, args->config_file, &cause) != 0) {
		temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %s", cause ? cause : strerror(errno));
		free(cause);
		return TEMPERCTL_EXIT_LOCAL;
	}
	if (args->allocatable != NULL &&
	    (kube_quantity_millis(args->allocatable, &simulate->allocatable_millis) != 0 ||
	    simulate->allocatable_millis <= 0))
		return temperctl_usage_error(simulate->ctl, "--allocatable wants a CPU quantity "
		    "such as 7500m or 8, not '%s'", args->allocatable);
	simulate->driver = CGROUP_DRIVER_SYSTEMD;
	if (args->cgroup_driver != NULL) {
		if (args->cgroup_root != NULL)
			return temperctl_usage_error(simulate->ctl, "--cgroup-root finds the cgroups; "
			    "--cgroup-driver is for deriving them");
		if (strcmp(args->cgroup_driver, "systemd") == 0)
			simulate->driver = CGROUP_DRIVER_SYSTEMD;
		else if (strcmp(args->cgroup_driver, "cgroupfs") == 0)
			simulate->driver = CGROUP_DRIVER_CGROUPFS;
		else
			return temperctl_usage_error(simulate->ctl, "--cgroup-driver is systemd or "
			    "cgroupfs, not '%s'", args->cgroup_driver);
	}
	if (args->cgroup_root != NULL) {
		simulate->discovery = cgroup_discovery_new(&(struct cgroup_discovery_options){
		    .cgroup_root = args->cgroup_root, .layout = CGROUP_LAYOUT_AUTO }, &cause);
		if (simulate->discovery == NULL ||
		    cgroup_discovery_rescan(simulate->discovery, &cause) != 0) {
			temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: no pod cgroups under %s: %s",
			    args->cgroup_root, cause ? cause : strerror(errno));
			free(cause);
			return TEMPERCTL_EXIT_LOCAL;
		}
	}
	return temperctl_simulate_profiles(simulate);
}

/* --- the pods ------------------------------------------------------------------- */

/* Kubernetes' QoS rules, for a pod file written by hand (no status.qosClass). */
static enum pod_qos
temperctl_simulate_derive_qos(const struct pod *pod)
{
	bool any = false, guaranteed = true;

	for (size_t i = 0; i < pod->container_count; i++) {
		const struct pod_container *c = &pod->containers[i];
		int64_t cpu_request = c->cpu_request_millis >= 0 ? c->cpu_request_millis :
		    c->cpu_limit_millis;
		int64_t memory_request = c->memory_request_bytes >= 0 ? c->memory_request_bytes :
		    c->memory_limit_bytes;

		if (c->cpu_request_millis >= 0 || c->cpu_limit_millis >= 0 ||
		    c->memory_request_bytes >= 0 || c->memory_limit_bytes >= 0)
			any = true;
		if (c->cpu_limit_millis < 0 || c->memory_limit_bytes < 0 ||
		    cpu_request != c->cpu_limit_millis || memory_request != c->memory_limit_bytes)
			guaranteed = false;
	}
	if (!any)
		return POD_QOS_BESTEFFORT;
	return guaranteed ? POD_QOS_GUARANTEED : POD_QOS_BURSTABLE;
}

/* The path the kubelet gives the pod's cgroup, relative to the root. */
static char *
temperctl_simulate_kubelet_cgroup(const struct temperctl_simulation *simulate, const struct pod *pod)
{
	const char *uid = cgroup_discovery_cgroup_uid(pod);
	const char *qos = pod->qos_class == POD_QOS_GUARANTEED ? NULL :
	    pod->qos_class == POD_QOS_BESTEFFORT ? "besteffort" : "burstable";
	char underscored[CGROUP_DISCOVERY_MAX_UID + 1], *path = NULL;
	int made;

	if (simulate->driver == CGROUP_DRIVER_CGROUPFS) {
		made = qos ? asprintf(&path, "kubepods/%s/pod%s/", qos, uid) :
		    asprintf(&path, "kubepods/pod%s/", uid);
		return made < 0 ? NULL : path;
	}
	/* systemd escapes the UID's dashes as underscores. */
	snprintf(underscored, sizeof underscored, "%s", uid);
	for (char *p = underscored; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	made = qos ? asprintf(&path, "kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice/",
	    qos, qos, underscored) : asprintf(&path, "kubepods.slice/kubepods-pod%s.slice/",
	    underscored);
	return made < 0 ? NULL : path;
}

/* A hand-written pod may lack what the API server fills in. */
static int
temperctl_simulate_complete_metadata(cJSON *item, size_t index)
{
	cJSON *metadata = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	char uid[64];

	if (!cJSON_IsObject(metadata))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(metadata, "namespace") == NULL &&
	    cJSON_AddStringToObject(metadata, "namespace", "default") == NULL)
		return -ENOMEM;
	snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012zx", index + 1);
	if (cJSON_GetObjectItemCaseSensitive(metadata, "uid") == NULL &&
	    cJSON_AddStringToObject(metadata, "uid", uid) == NULL)
		return -ENOMEM;
	return 0;
}

static int
temperctl_simulate_pods(struct temperctl_simulation *simulate)
{
	const struct temperctl_args *args = &simulate->ctl->args;
	struct buf text = BUF_INIT;
	const cJSON *items, *item;
	size_t total, index = 0;
	int code;

	if (args->pods_file == NULL)
		return temperctl_usage_error(simulate->ctl, "--pods FILE is required (kubectl get "
		    "pods -o json, or a JSON array of pods; - reads stdin)");
	if ((code = temperctl_simulate_read_file(args->pods_file, &text)) != 0)
		goto out;
	simulate->document = cJSON_ParseWithLength(text.data ? text.data : "", text.len);
	if (simulate->document == NULL) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %s is not JSON "
		    "(near byte %zu)", args->pods_file, (size_t)(cJSON_GetErrorPtr() ?
		    cJSON_GetErrorPtr() - text.data : 0));
		goto out;
	}
	items = cJSON_IsArray(simulate->document) ? simulate->document :
	    cJSON_GetObjectItemCaseSensitive(simulate->document, "items");
	if (!cJSON_IsArray(items)) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %s holds neither a List "
		    "with items nor a JSON array of pods", args->pods_file);
		goto out;
	}
	total = (size_t)cJSON_GetArraySize(items);
	if (total > TEMPERCTL_SIMULATE_MAX_PODS) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %zu pods; at most %d",
		    total, TEMPERCTL_SIMULATE_MAX_PODS);
		goto out;
	}
	simulate->pods = calloc(total + 1, sizeof *simulate->pods);
	simulate->inputs = calloc(total + 1, sizeof *simulate->inputs);
	simulate->cgroups = calloc(total + 1, sizeof *simulate->cgroups);
	simulate->whys = calloc(total + 1, sizeof *simulate->whys);
	if (!simulate->pods || !simulate->inputs || !simulate->cgroups || !simulate->whys) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(item, items) {
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "kind"));
		struct pod *pod;
		char *cause = NULL;
		size_t i = simulate->count;

		index++;
		if (kind != NULL && strcmp(kind, "Pod") != 0)
			continue;
		if (temperctl_simulate_complete_metadata((cJSON *)item, index - 1) != 0) {
			code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
			goto out;
		}
		if ((pod = kube_pod_decode(item, &cause)) == NULL) {
			code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: %s: pod %zu: %s",
			    args->pods_file, index, cause ? cause : strerror(errno));
			free(cause);
			goto out;
		}
		/* The agent watches its own node's pods; finished pods hold no CPU. */
		if (args->node_name != NULL && (pod->node_name == NULL ||
		    strcmp(pod->node_name, args->node_name) != 0)) {
			simulate->skipped_node++;
			pod_free(pod);
			continue;
		}
		if (pod->phase == POD_PHASE_SUCCEEDED || pod->phase == POD_PHASE_FAILED) {
			simulate->skipped_finished++;
			pod_free(pod);
			continue;
		}
		if (pod->qos_class == POD_QOS_UNKNOWN) {
			pod->qos_class = temperctl_simulate_derive_qos(pod);
			simulate->derived_qos++;
		}
		simulate->pods[i] = pod;
		simulate->count++;
		if (simulate->discovery != NULL) {
			struct cgroup_pod *found = cgroup_discovery_find(simulate->discovery, pod, NULL);

			if (found != NULL && (simulate->cgroups[i] = strdup(found->relative)) == NULL) {
				cgroup_pod_free(found);
				code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
				goto out;
			}
			cgroup_pod_free(found);
		} else if ((simulate->cgroups[i] = temperctl_simulate_kubelet_cgroup(simulate,
		    pod)) == NULL) {
			code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
			goto out;
		}
		simulate->inputs[i] = (struct planner_pod){
			.pod = pod,
			.cgroup = simulate->cgroups[i],
			.profile = profiles_select(simulate->profiles, pod),
		};
		if (tier_classify(&simulate->conf.engine.thresholds, pod, &simulate->inputs[i].tier,
		    &simulate->whys[i]) != 0) {
			code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
			goto out;
		}
	}
	code = TEMPERCTL_EXIT_OK;
out:
	buf_free(&text);
	return code;
}

/* --- the plan and its output ------------------------------------------------------- */

/* One condition, named by its scx_layered key, appended at *used. */
static void
temperctl_simulate_condition(const struct plan_match *match, char *scratch, size_t size,
    size_t *used)
{
	const char *key = "?";
	int n;

	if (*used >= size)
		return;
	switch (match->kind) {
	case PLAN_MATCH_CGROUP_PREFIX:
		key = "CgroupPrefix";
		break;
	case PLAN_MATCH_COMM_PREFIX:
		key = "CommPrefix";
		break;
	case PLAN_MATCH_PCOMM_PREFIX:
		key = "PcommPrefix";
		break;
	case PLAN_MATCH_CMD_JOIN:
		key = "CmdJoin";
		break;
	case PLAN_MATCH_HINT_EQUALS:
		key = "HintEquals";
		break;
	case PLAN_MATCH_IS_GROUP_LEADER:
		key = "IsGroupLeader";
		break;
	}
	if (match->kind == PLAN_MATCH_HINT_EQUALS)
		n = snprintf(scratch + *used, size - *used, "%s %u", key, match->hint);
	else if (match->kind == PLAN_MATCH_IS_GROUP_LEADER)
		n = snprintf(scratch + *used, size - *used, "%s %s", key,
		    match->hint ? "true" : "false");
	else
		n = snprintf(scratch + *used, size - *used, "%s %s", key,
		    match->text ? match->text : "");
	*used = n < 0 ? size : *used + (size_t)n;
}

/* An OR block: its condition and, for a profile layer, those ANDed with it. */
static const char *
temperctl_simulate_match_text(const struct plan_match *match, char *scratch, size_t size)
{
	size_t used = 0;
	int n;

	scratch[0] = '\0';
	temperctl_simulate_condition(match, scratch, size, &used);
	for (size_t c = 0; c < match->also_count && used < size; c++) {
		n = snprintf(scratch + used, size - used, " AND ");
		used = n < 0 ? size : used + (size_t)n;
		temperctl_simulate_condition(&match->also[c], scratch, size, &used);
	}
	return scratch;
}

static void
temperctl_simulate_print_plan(const struct temperctl_simulation *simulate)
{
	const struct plan *plan = simulate->plan;
	char *shape = topology_describe(simulate->topology), scratch[PLANNER_MAX_CGROUP_PATH + 256];
	int width = 12;

	printf("machine: %s; %lld m allocatable\n", shape ? shape : "?",
	    (long long)plan->allocatable_millis);
	printf("pods:    %zu planned", simulate->count);
	if (simulate->skipped_node > 0)
		printf(", %zu on other nodes skipped", simulate->skipped_node);
	if (simulate->skipped_finished > 0)
		printf(", %zu finished skipped", simulate->skipped_finished);
	if (simulate->derived_qos > 0)
		printf(", %zu with the QoS class derived from the spec", simulate->derived_qos);
	printf("\nbudget:  %u CPUs for the system layer, %u kept in reserve, %u fenceable for "
	    "critical; membership by %s\n\n", plan->system_cpus, plan->reserve_cpus,
	    plan->fenceable_cpus, engine_membership_name(plan->membership));
	/* Profile layers' names ("critical-exclusive") are longer than tiers'. */
	for (size_t i = 0; i < plan->layer_count; i++)
		if (strlen(plan->layers[i].name) > (size_t)width)
			width = (int)strlen(plan->layers[i].name);
	printf("%-*s  %-8s  %-9s  %-11s  %6s  %8s  %s\n", width, "LAYER", "KIND", "CPUS", "UTIL",
	    "WEIGHT", "REQUEST", "PODS");
	for (size_t i = 0; i < plan->layer_count; i++) {
		const struct plan_layer *layer = &plan->layers[i];
		char cpus[32] = "-", util[32] = "-", request[32] = "-";

		if (layer->kind != PLAN_KIND_OPEN) {
			snprintf(cpus, sizeof cpus, "%u-%u", layer->cpus_min, layer->cpus_max);
			snprintf(util, sizeof util, "%.3g-%.3g", layer->util_low_permille / 1000.0,
			    layer->util_high_permille / 1000.0);
		}
		if (layer->role == PLAN_ROLE_TIER)
			snprintf(request, sizeof request, "%lldm", (long long)layer->request_millis);
		printf("%-*s  %-8s  %-9s  %-11s  %6u  %8s  %zu%s\n", width, layer->name,
		    planner_kind_name(layer->kind), cpus, util, layer->weight, request,
		    layer->member_count, layer->demoted ? " (critical demoted to Grouped)" : "");
		for (size_t m = 0; m < layer->match_count && m < 3; m++)
			printf("%*s%s\n", width + 2, "", temperctl_simulate_match_text(&layer->matches[m], scratch,
			    sizeof scratch));
		if (layer->match_count > 3)
			printf("%*s... %zu match blocks in all\n", width + 2, "", layer->match_count);
	}
	printf("\n%-40s  %-10s  %-12s  %s\n", "POD", "TIER", "LAYER", "WHY");
	for (size_t i = 0; i < simulate->count; i++) {
		const struct pod *pod = simulate->pods[i];
		const char *layer = planner_layer_of(plan, pod->uid);
		char name[512];

		snprintf(name, sizeof name, "%s/%s", pod->namespace, pod->name);
		printf("%-40s  %-10s  %-12s  %s\n", name, tier_name(simulate->inputs[i].tier),
		    layer ? layer : "(none)", simulate->whys[i] ? simulate->whys[i] : "");
	}
	printf("\nnotes:\n%s\nscx_layered configuration:\n%s", simulate->notes, simulate->json);
	free(shape);
}

static int
temperctl_simulate_print_json(const struct temperctl_simulation *simulate)
{
	cJSON *json = cJSON_CreateObject(), *pods, *notes, *config;
	char *shape = topology_describe(simulate->topology), *printed;

	cJSON_AddStringToObject(json, "topology", shape ? shape : "");
	cJSON_AddNumberToObject(json, "allocatable_millis", (double)simulate->plan->allocatable_millis);
	cJSON_AddStringToObject(json, "membership", engine_membership_name(simulate->plan->membership));
	pods = cJSON_AddArrayToObject(json, "pods");
	for (size_t i = 0; i < simulate->count; i++) {
		const struct pod *pod = simulate->pods[i];
		const char *layer = planner_layer_of(simulate->plan, pod->uid);
		cJSON *item = cJSON_CreateObject();

		/* The fields and names of the agent's GET /api/v1/pods. */
		cJSON_AddStringToObject(item, "uid", pod->uid);
		cJSON_AddStringToObject(item, "namespace", pod->namespace);
		cJSON_AddStringToObject(item, "name", pod->name);
		cJSON_AddStringToObject(item, "tier", tier_name(simulate->inputs[i].tier));
		cJSON_AddStringToObject(item, "why", simulate->whys[i] ? simulate->whys[i] : "");
		if (simulate->cgroups[i] != NULL)
			cJSON_AddStringToObject(item, "cgroup", simulate->cgroups[i]);
		else
			cJSON_AddNullToObject(item, "cgroup");
		if (layer != NULL)
			cJSON_AddStringToObject(item, "layer", layer);
		else
			cJSON_AddNullToObject(item, "layer");
		cJSON_AddNumberToObject(item, "cpu_request_millis", (double)pod_cpu_request_millis(pod));
		cJSON_AddItemToArray(pods, item);
	}
	notes = cJSON_AddArrayToObject(json, "notes");
	for (size_t i = 0; i < simulate->plan->note_count; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateString(simulate->plan->notes[i].text));
	config = cJSON_Parse(simulate->json);
	cJSON_AddItemToObject(json, "config", config ? config : cJSON_CreateNull());
	printed = cJSON_Print(json);
	if (printed != NULL)
		puts(printed);
	free(printed);
	free(shape);
	cJSON_Delete(json);
	return printed ? TEMPERCTL_EXIT_OK : temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
}

static int
temperctl_simulate_write_config(const char *path, const char *json)
{
	FILE *file = fopen(path, "w");
	size_t len = strlen(json);

	if (file == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot write %s: %s", path,
		    strerror(errno));
	if (fwrite(json, 1, len, file) != len || fclose(file) != 0)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: cannot write %s: %s", path,
		    strerror(errno));
	return TEMPERCTL_EXIT_OK;
}

int
temperctl_simulate(struct temperctl *ctl, int argc, char **argv)
{
	struct temperctl_simulation simulate = { .ctl = ctl };
	struct planner_options options = { 0 };
	char *cause = NULL;
	int code;

	(void)argv;
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no operands (--pods FILE --cpus N ...)");
	if ((code = temperctl_simulate_topology(&simulate)) != 0 ||
	    (code = temperctl_simulate_settings(&simulate)) != 0 ||
	    (code = temperctl_simulate_pods(&simulate)) != 0)
		goto out;
	options.config = &simulate.conf.engine;
	options.agent_cgroup = ctl->args.agent_cgroup;
	options.allocatable_millis = simulate.allocatable_millis;
	simulate.plan = planner_plan(simulate.inputs, simulate.count, simulate.topology, &options,
	    &cause);
	if (simulate.plan == NULL) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "simulate: planning %zu pods failed: %s",
		    simulate.count, cause ? cause : strerror(errno));
		goto out;
	}
	simulate.json = layered_gen_string(simulate.plan);
	simulate.notes = planner_render_notes(simulate.plan);
	if (simulate.json == NULL || simulate.notes == NULL) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
		goto out;
	}
	if (ctl->args.output != NULL && (code = temperctl_simulate_write_config(ctl->args.output,
	    simulate.json)) != 0)
		goto out;
	if (ctl->args.json)
		code = temperctl_simulate_print_json(&simulate);
	else
		temperctl_simulate_print_plan(&simulate);
out:
	free(cause);
	temperctl_simulate_free(&simulate);
	return code;
}
