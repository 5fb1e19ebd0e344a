/*
 * t/observe-probe.c - the observation layer on its own loop, for the t/6N
 * scripts and t/perf/observe.sh, wired the way the agent wires it.
 *
 *	observe-probe serve --listen=127.0.0.1:PORT --cgroup-root=DIR
 *	    [--pod=NAME:TIER:CGROUP]... [--interval-ms=N] [--sample-every=N]
 *	    [--psi-stall-us=N] [--psi-window-us=N] [--no-bpf] [--bpf-stats]
 *	observe-probe spin NAME [CGROUP_PROCS]	burn a CPU as thread NAME
 *	observe-probe nap NAME USEC [CGROUP_PROCS]	sleep USEC, wake, repeat
 *
 * serve makes one pod per --pod (uid "uid-NAME", namespace "t", priority
 * of the tier, 500m requested), plans them on this machine's topology with
 * the real planner, and hands the pods and the plan to the observer.  It
 * answers GET /observe, POST /api/v1/trace and GET /metrics until SIGTERM,
 * then stops everything and checks that the loop closes cleanly.
 * spin and nap first move themselves into the cgroup whose cgroup.procs
 * is given, then name themselves (the command name traces show).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common-routes.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "observe.h"
#include "planner.h"
#include "pod.h"
#include "readiness.h"
#include "tier.h"
#include "topology.h"

#define PROBE_MAX_PODS 16

struct probe_pod {
	char name[64];
	char uid[80];
	char cgroup[512];
	enum tier tier;
	struct pod pod;
	struct pod_container container;
};

struct probe {
	uv_loop_t loop;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	struct metrics *metrics;
	struct readiness readiness;
	struct common_routes routes;
	struct http_server *server;
	struct observe *observe;
	unsigned open_parts;
};

static void
probe_join(struct probe *probe, const char *what, const char *cgroup_procs)
{
	FILE *file;

	if (cgroup_procs == NULL)
		return;
	if ((file = fopen(cgroup_procs, "w")) == NULL ||
	    fprintf(file, "%d\n", (int)getpid()) < 0 || fclose(file) != 0) {
		fprintf(stderr, "observe-probe %s: %s: %s\n", what, cgroup_procs,
		    strerror(errno));
		exit(1);
	}
	(void)probe;
}

static int
probe_spin(int argc, char **argv)
{
	volatile unsigned long counter = 0;

	if (argc < 3)
		return 2;
	probe_join(NULL, "spin", argc > 3 ? argv[3] : NULL);
	prctl(PR_SET_NAME, argv[2]);
	for (;;)
		counter++;
}

static int
probe_nap(int argc, char **argv)
{
	struct timespec nap;
	long usec;

	if (argc < 4)
		return 2;
	usec = strtol(argv[3], NULL, 10);
	probe_join(NULL, "nap", argc > 4 ? argv[4] : NULL);
	prctl(PR_SET_NAME, argv[2]);
	nap.tv_sec = usec / 1000000;
	nap.tv_nsec = (usec % 1000000) * 1000;
	for (;;)
		nanosleep(&nap, NULL);
}

static void
probe_part_closed(void *arg)
{
	struct probe *probe = arg;

	probe->open_parts--;
}

static void
probe_signal_closed(uv_handle_t *handle)
{
	(void)handle;
}

static void
probe_signal(uv_signal_t *handle, int signum)
{
	struct probe *probe = handle->data;

	(void)signum;
	uv_close((uv_handle_t *)&probe->sigterm, probe_signal_closed);
	uv_close((uv_handle_t *)&probe->sigint, probe_signal_closed);
	probe->open_parts = 2;
	observe_stop(probe->observe, probe_part_closed, probe);
	http_server_close(probe->server, probe_part_closed, probe);
}

/* NAME:TIER:CGROUP */
static int
probe_parse_pod(const char *text, struct probe_pod *pod,
    const struct tier_thresholds *thresholds)
{
	static const int32_t priorities[TIER_COUNT] = { 1000000, 100000, 0, -100, -1000 };
	char copy[700], *tier, *cgroup;

	snprintf(copy, sizeof copy, "%s", text);
	if ((tier = strchr(copy, ':')) == NULL || (cgroup = strchr(tier + 1, ':')) == NULL)
		return -EINVAL;
	*tier++ = '\0';
	*cgroup++ = '\0';
	memset(pod, 0, sizeof *pod);
	if (tier_from_name(tier, &pod->tier) != 0)
		return -EINVAL;
	snprintf(pod->name, sizeof pod->name, "%.63s", copy);
	snprintf(pod->uid, sizeof pod->uid, "uid-%.63s", copy);
	snprintf(pod->cgroup, sizeof pod->cgroup, "%s", cgroup);
	pod->container.name = "main";
	pod->container.cpu_request_millis = 500;
	pod->container.cpu_limit_millis = 500;
	pod->container.memory_request_bytes = -1;
	pod->container.memory_limit_bytes = -1;
	pod->pod.uid = pod->uid;
	pod->pod.namespace = "t";
	pod->pod.name = pod->name;
	pod->pod.priority = priorities[pod->tier];
	pod->pod.has_priority = true;
	pod->pod.qos_class = POD_QOS_GUARANTEED;
	pod->pod.phase = POD_PHASE_RUNNING;
	pod->pod.containers = &pod->container;
	pod->pod.container_count = 1;
	(void)thresholds;
	return 0;
}

static int
probe_serve(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "cgroup-root", required_argument, NULL, 'c' },
		{ "pod", required_argument, NULL, 'p' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "sample-every", required_argument, NULL, 's' },
		{ "psi-stall-us", required_argument, NULL, 'S' },
		{ "psi-window-us", required_argument, NULL, 'W' },
		{ "no-bpf", no_argument, NULL, 'n' },
		{ "bpf-stats", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static struct probe_pod pods[PROBE_MAX_PODS];
	struct planner_pod inputs[PROBE_MAX_PODS];
	struct observe_options observe_options;
	struct http_server_limits limits;
	struct tier_thresholds thresholds;
	struct topology *topology;
	struct plan *plan = NULL;
	struct probe probe;
	const char *listen = "127.0.0.1:0";
	char *cause = NULL;
	size_t pod_count = 0, skipped = 0;
	int option, status = 1, error;

	memset(&probe, 0, sizeof probe);
	tier_thresholds_defaults(&thresholds);
	observe_options_default(&observe_options);
	observe_options.interval_ms = 1000;
	while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (option) {
		case 'l':
			listen = optarg;
			break;
		case 'c':
			observe_options.cgroup_root = optarg;
			break;
		case 'p':
			if (pod_count == PROBE_MAX_PODS ||
			    probe_parse_pod(optarg, &pods[pod_count], &thresholds) != 0) {
				fprintf(stderr, "observe-probe: --pod NAME:TIER:CGROUP, "
				    "at most %d\n", PROBE_MAX_PODS);
				return 2;
			}
			pod_count++;
			break;
		case 'i':
			observe_options.interval_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			observe_options.sample_every = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			observe_options.psi_stall_us = strtoull(optarg, NULL, 10);
			break;
		case 'W':
			observe_options.psi_window_us = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			observe_options.bpf = false;
			break;
		case 'b':
			observe_options.bpf_stats = true;
			break;
		default:
			return 2;
		}
	}

	if ((topology = topology_read("/sys", &cause)) == NULL) {
		fprintf(stderr, "observe-probe: %s\n", cause);
		free(cause);
		return 1;
	}
	for (size_t i = 0; i < pod_count; i++) {
		inputs[i].pod = &pods[i].pod;
		inputs[i].tier = pods[i].tier;
		inputs[i].cgroup = pods[i].cgroup;
	}
	if ((plan = planner_plan(inputs, pod_count, topology, NULL, &cause)) == NULL) {
		fprintf(stderr, "observe-probe: planning: %s\n", cause ? cause : "?");
		goto out;
	}

	uv_loop_init(&probe.loop);
	probe.metrics = metrics_new();
	http_server_limits_default(&limits);
	probe.server = http_server_new(&probe.loop, probe.metrics, &limits);
	probe.routes.metrics = probe.metrics;
	probe.routes.readiness = &probe.readiness;
	probe.routes.version = "probe";
	probe.routes.roles = "observe-probe";
	common_routes_register(http_server_router(probe.server), &probe.routes);

	/* What src/agent.c does: new, pods + plan, routes, start. */
	observe_options.topology = topology;
	if ((probe.observe = observe_new(&probe.loop, probe.metrics,
	    &observe_options, &cause)) == NULL) {
		fprintf(stderr, "observe-probe: %s\n", cause ? cause : "?");
		goto out;
	}
	if ((error = observe_set_pods(probe.observe, inputs, pod_count, &skipped)) != 0 ||
	    skipped != 0) {
		fprintf(stderr, "observe-probe: set_pods: %s, %zu pods without a "
		    "cgroup\n", strerror(-error), skipped);
		goto out;
	}
	observe_set_plan(probe.observe, plan);
	observe_set_enforcing(probe.observe, false);
	observe_register_routes(probe.observe, http_server_router(probe.server));
	if ((error = observe_start(probe.observe)) != 0) {
		fprintf(stderr, "observe-probe: start: %s\n", uv_strerror(error));
		goto out;
	}

	if (http_server_listen(probe.server, listen, NULL, NULL, &cause) != 0) {
		fprintf(stderr, "observe-probe: %s\n", cause ? cause : "?");
		goto out;
	}
	printf("port %d\n", http_server_port(probe.server, 0));
	fflush(stdout);

	uv_signal_init(&probe.loop, &probe.sigterm);
	uv_signal_init(&probe.loop, &probe.sigint);
	probe.sigterm.data = probe.sigint.data = &probe;
	uv_signal_start(&probe.sigterm, probe_signal, SIGTERM);
	uv_signal_start(&probe.sigint, probe_signal, SIGINT);
	uv_run(&probe.loop, UV_RUN_DEFAULT);
	if (probe.open_parts != 0) {
		fprintf(stderr, "observe-probe: %u parts never finished closing\n",
		    probe.open_parts);
		goto out;
	}
	if ((error = uv_loop_close(&probe.loop)) != 0) {
		fprintf(stderr, "observe-probe: uv_loop_close: %s\n", uv_strerror(error));
		goto out;
	}
	status = 0;
out:
	observe_free(probe.observe);
	http_server_free(probe.server);
	metrics_free(probe.metrics);
	readiness_free(&probe.readiness);
	planner_free(plan);
	topology_free(topology);
	free(cause);
	return status;
}

int
main(int argc, char **argv)
{
	log_init("observe-probe", getenv("OBSERVE_PROBE_DEBUG") ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_INFO);
	log_route_libbpf();
	if (argc >= 2 && strcmp(argv[1], "spin") == 0)
		return probe_spin(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "nap") == 0)
		return probe_nap(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return probe_serve(argc - 1, argv + 1);
	fprintf(stderr, "usage: observe-probe serve|spin|nap ...\n");
	return 2;
}
