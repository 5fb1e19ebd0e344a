/*
 * t/cgroup-enforce-probe.c - drive cgroup discovery and enforcement on real
 * cgroups for the shell tests and the co-location benchmark.
 *
 *   cgroup-enforce-probe discover [common] --uid UID [--mirror HASH]
 *       [--namespace NS] [--name NAME] [--container ID]...
 *       Rescan, find the pod, print its report as JSON.  Exit 2 when it is
 *       not found, with the cause on stderr and "errno=NAME" on stdout.
 *   cgroup-enforce-probe apply [common] --state-dir DIR
 *       [--exclusive] [--cpu-manager-state FILE] [--reserve-cpus N]
 *       [--sysfs-root DIR] --pod UID:TIER:MILLIS:CGROUP...
 *       [--then exit|restore|kill|hold]
 *       Apply the pods' tiers, print the status JSON, then: exit leaving
 *       everything applied (and journalled), restore everything, SIGKILL
 *       itself, or hold until SIGTERM/SIGINT and then restore.  CGROUP "-"
 *       is a pod whose cgroup is not known yet.
 *   cgroup-enforce-probe restore [common] --state-dir DIR
 *       Start (which puts back a journal left behind) and print how many
 *       journal entries remain.
 *
 * Common: --cgroup-root DIR, --layout auto|v2|hybrid|v1, -d (debug log).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgroup-discovery.h"
#include "cgroup-enforce.h"
#include "log.h"
#include "planner.h"
#include "pod.h"
#include "tier.h"
#include "topology.h"

#define PROBE_MAX_PODS 64
#define PROBE_MAX_CONTAINERS 16

static volatile sig_atomic_t probe_stop;

static void
probe_on_signal(int signal_number)
{
	(void)signal_number;
	probe_stop = 1;
}

static void
probe_usage(void)
{
	fprintf(stderr,
	    "usage: cgroup-enforce-probe discover|apply|restore [--cgroup-root DIR]\n"
	    "           [--layout auto|v2|hybrid|v1] [--state-dir DIR] [--uid UID]\n"
	    "           [--mirror HASH] [--container ID]... [--pod UID:TIER:MILLIS:CGROUP]...\n"
	    "           [--exclusive] [--cpu-manager-state FILE] [--reserve-cpus N]\n"
	    "           [--sysfs-root DIR] [--then exit|restore|kill|hold] [-d]\n");
	exit(64);
}

static const char *
probe_errno_name(int error)
{
	switch (error) {
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case EINVAL:
		return "EINVAL";
	default:
		return "other";
	}
}

static int
probe_print(cJSON *json)
{
	char *text;

	if (json == NULL || (text = cJSON_Print(json)) == NULL) {
		cJSON_Delete(json);
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	cJSON_Delete(json);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "layout", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "name", required_argument, NULL, 'n' },
		{ "container", required_argument, NULL, 'c' },
		{ "pod", required_argument, NULL, 'p' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "cpu-manager-state", required_argument, NULL, 'k' },
		{ "reserve-cpus", required_argument, NULL, 'R' },
		{ "sysfs-root", required_argument, NULL, 'S' },
		{ "then", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct cgroup_discovery_options discovery_options = { 0 };
	struct cgroup_enforce_options enforce_options = { 0 };
	struct pod_container containers[PROBE_MAX_CONTAINERS];
	struct pod pods[PROBE_MAX_PODS], single = { 0 };
	struct planner_pod planned[PROBE_MAX_PODS];
	struct cgroup_discovery *discovery = NULL;
	struct cgroup_enforce *enforce = NULL;
	struct cgroup_pod *found;
	struct topology *topology = NULL;
	const char *command, *state_dir = NULL, *then = "exit";
	const char *sysfs_root = "/sys";
	char container_ids[PROBE_MAX_CONTAINERS][96], container_names[PROBE_MAX_CONTAINERS][16];
	size_t pod_count = 0, container_count = 0;
	char *cause = NULL;
	int option, status = 1, error;

	log_init("cgroup-enforce-probe", LOG_LEVEL_INFO);
	if (argc < 2)
		probe_usage();
	command = argv[1];
	memset(pods, 0, sizeof pods);
	memset(planned, 0, sizeof planned);
	single.namespace = "default";
	single.name = "probe";
	optind = 2;
	while ((option = getopt_long(argc, argv, "d", long_options, NULL)) != -1) {
		switch (option) {
		case 'd':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'r':
			discovery_options.cgroup_root = optarg;
			enforce_options.cgroup_root = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "v2") == 0)
				discovery_options.layout = CGROUP_LAYOUT_V2;
			else if (strcmp(optarg, "hybrid") == 0)
				discovery_options.layout = CGROUP_LAYOUT_HYBRID;
			else if (strcmp(optarg, "v1") == 0)
				discovery_options.layout = CGROUP_LAYOUT_V1;
			else if (strcmp(optarg, "auto") != 0)
				probe_usage();
			enforce_options.layout = discovery_options.layout;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'u':
			single.uid = optarg;
			break;
		case 'm':
			single.config_mirror = optarg;
			break;
		case 'N':
			single.namespace = optarg;
			break;
		case 'n':
			single.name = optarg;
			break;
		case 'c':
			if (container_count == PROBE_MAX_CONTAINERS)
				probe_usage();
			memset(&containers[container_count], 0, sizeof containers[0]);
			snprintf(container_ids[container_count],
			    sizeof container_ids[0], "containerd://%s", optarg);
			snprintf(container_names[container_count],
			    sizeof container_names[0], "c%zu", container_count);
			containers[container_count].id = container_ids[container_count];
			containers[container_count].name = container_names[container_count];
			containers[container_count].cpu_request_millis = -1;
			containers[container_count].cpu_limit_millis = -1;
			container_count++;
			break;
		case 'p': {
			char *uid = optarg, *tier_text, *millis, *cgroup;
			enum tier tier;

			if (pod_count == PROBE_MAX_PODS ||
			    (tier_text = strchr(uid, ':')) == NULL ||
			    (millis = strchr(tier_text + 1, ':')) == NULL ||
			    (cgroup = strchr(millis + 1, ':')) == NULL)
				probe_usage();
			*tier_text++ = *millis++ = *cgroup++ = '\0';
			if (tier_from_name(tier_text, &tier) != 0)
				probe_usage();
			/* One container carries the pod's request. */
			struct pod_container *c = calloc(1, sizeof *c);
			if (c == NULL)
				return 1;
			c->name = "main";
			c->cpu_request_millis = strtoll(millis, NULL, 10);
			c->cpu_limit_millis = c->cpu_request_millis;
			c->memory_request_bytes = c->memory_limit_bytes = -1;
			pods[pod_count].uid = uid;
			pods[pod_count].namespace = "default";
			pods[pod_count].name = uid;
			pods[pod_count].containers = c;
			pods[pod_count].container_count = 1;
			planned[pod_count].pod = &pods[pod_count];
			planned[pod_count].tier = tier;
			planned[pod_count].cgroup = strcmp(cgroup, "-") == 0 ?
			    NULL : cgroup;
			pod_count++;
			break;
		}
		case 'x':
			enforce_options.exclusive_critical = true;
			break;
		case 'k':
			enforce_options.cpu_manager_state = optarg;
			break;
		case 'R':
			enforce_options.reserve_cpus = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			sysfs_root = optarg;
			break;
		case 't':
			then = optarg;
			break;
		default:
			probe_usage();
		}
	}
	if (optind != argc)
		probe_usage();
	single.containers = containers;
	single.container_count = container_count;

	if (strcmp(command, "discover") == 0) {
		if (single.uid == NULL)
			probe_usage();
		if ((discovery = cgroup_discovery_new(&discovery_options,
		    &cause)) == NULL) {
			fprintf(stderr, "discover: %s\n", cause ? cause : strerror(errno));
			goto out;
		}
		if ((error = cgroup_discovery_rescan(discovery, &cause)) != 0) {
			fprintf(stderr, "rescan: %s\n", cause ? cause : strerror(-error));
			goto out;
		}
		if ((found = cgroup_discovery_find(discovery, &single, &cause)) == NULL) {
			printf("errno=%s\n", probe_errno_name(errno));
			fprintf(stderr, "find: %s\n", cause ? cause : strerror(errno));
			status = 2;
			goto out;
		}
		status = probe_print(cgroup_pod_json(found));
		if (status == 0) {
			cJSON *extra = cJSON_CreateObject();

			cJSON_AddStringToObject(extra, "layout",
			    cgroup_layout_name(cgroup_discovery_layout(discovery)));
			cJSON_AddNumberToObject(extra, "pod_cgroups",
			    (double)cgroup_discovery_pod_count(discovery));
			status = probe_print(extra);
		}
		cgroup_pod_free(found);
		goto out;
	}

	if (state_dir == NULL)
		probe_usage();
	if ((enforce = cgroup_enforce_new(state_dir, &enforce_options,
	    &cause)) == NULL) {
		fprintf(stderr, "enforce: %s\n", cause ? cause : strerror(errno));
		goto out;
	}
	if (strcmp(command, "restore") == 0) {
		error = cgroup_enforce_restore_all(enforce);
		printf("journal_entries=%zu\n", cgroup_enforce_journal_count(enforce));
		status = error == 0 ? 0 : 1;
		goto out;
	}
	if (strcmp(command, "apply") != 0)
		probe_usage();
	if (enforce_options.exclusive_critical &&
	    (topology = topology_read(sysfs_root, &cause)) == NULL) {
		fprintf(stderr, "topology: %s\n", cause ? cause : strerror(errno));
		goto out;
	}
	error = cgroup_enforce_apply(enforce, planned, pod_count, topology);
	if (probe_print(cgroup_enforce_status_json(enforce)) != 0)
		goto out;
	printf("apply=%d\n", error);
	fflush(stdout);
	if (strcmp(then, "kill") == 0) {
		raise(SIGKILL);
	} else if (strcmp(then, "restore") == 0) {
		error = cgroup_enforce_restore_all(enforce);
		printf("restored=%d journal_entries=%zu\n", error,
		    cgroup_enforce_journal_count(enforce));
	} else if (strcmp(then, "hold") == 0) {
		struct sigaction action = { 0 };
		sigset_t block, old;

		/* Blocked until sigsuspend, so a signal cannot slip in early. */
		sigemptyset(&block);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGINT);
		sigprocmask(SIG_BLOCK, &block, &old);
		action.sa_handler = probe_on_signal;
		sigaction(SIGTERM, &action, NULL);
		sigaction(SIGINT, &action, NULL);
		printf("holding\n");
		fflush(stdout);
		while (!probe_stop)
			sigsuspend(&old);
		error = cgroup_enforce_restore_all(enforce);
		printf("restored=%d journal_entries=%zu\n", error,
		    cgroup_enforce_journal_count(enforce));
	} else if (strcmp(then, "exit") != 0) {
		probe_usage();
	}
	status = 0;

out:
	for (size_t i = 0; i < pod_count; i++)
		free(pods[i].containers);
	topology_free(topology);
	cgroup_enforce_free(enforce);
	cgroup_discovery_free(discovery);
	free(cause);
	return status;
}
