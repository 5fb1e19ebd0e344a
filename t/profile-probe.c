/*
 * t/profile-probe.c - the profile subsystem on a loop, as src/agent.c will
 * run it: profiles_new + start over a directory, its routes on an HTTP
 * server, and a training source that knows pods as NAMESPACE/NAME=CGROUPDIR
 * arguments (the agent knows them from its pod store and cgroup discovery).
 *
 *	t/profile-probe DIR LISTEN [NAMESPACE/NAME=CGROUPDIR ...]
 *
 * Prints "port N" once listening; stops on SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "http-server.h"
#include "metrics.h"
#include "profiles.h"

struct probe {
	uv_loop_t loop;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	struct http_server *server;
	struct profiles *profiles;
	char **pods;
	int pod_count;
	unsigned open_parts;
};

static char *
probe_pod_cgroup(void *arg, const char *namespace, const char *name,
    char **cause)
{
	struct probe *probe = arg;
	char key[600];
	size_t n;

	n = (size_t)snprintf(key, sizeof key, "%s/%s=", namespace, name);
	for (int i = 0; i < probe->pod_count; i++)
		if (strncmp(probe->pods[i], key, n) == 0)
			return strdup(probe->pods[i] + n);
	if (cause != NULL)
		*cause = strdup("no such pod on this node");
	return NULL;
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
	profiles_stop(probe->profiles, probe_part_closed, probe);
	http_server_close(probe->server, probe_part_closed, probe);
}

int
main(int argc, char **argv)
{
	struct profiles_train_source source = { .pod_cgroup = probe_pod_cgroup };
	struct http_server_limits limits;
	struct metrics *metrics;
	struct probe probe;
	char *cause = NULL;
	int error, status = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: profile-probe DIR LISTEN [NS/NAME=CGROUPDIR ...]\n");
		return 2;
	}
	memset(&probe, 0, sizeof probe);
	probe.pods = argv + 3;
	probe.pod_count = argc - 3;
	source.arg = &probe;
	uv_loop_init(&probe.loop);
	metrics = metrics_new();
	http_server_limits_default(&limits);
	probe.server = http_server_new(&probe.loop, metrics, &limits);
	if ((probe.profiles = profiles_new(&probe.loop, metrics, argv[1],
	    &cause)) == NULL) {
		fprintf(stderr, "profile-probe: %s\n", cause ? cause : strerror(errno));
		goto out;
	}
	if ((error = profiles_start(probe.profiles)) != 0 ||
	    (error = profiles_register_routes(probe.profiles,
	    http_server_router(probe.server), &source)) != 0) {
		fprintf(stderr, "profile-probe: start: %s\n", strerror(-error));
		goto out;
	}
	if (http_server_listen(probe.server, argv[2], NULL, NULL, &cause) != 0) {
		fprintf(stderr, "profile-probe: %s\n", cause ? cause : "?");
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
	if ((error = uv_loop_close(&probe.loop)) != 0) {
		fprintf(stderr, "profile-probe: uv_loop_close: %s\n", uv_strerror(error));
		goto out;
	}
	status = 0;
out:
	profiles_free(probe.profiles);
	http_server_free(probe.server);
	metrics_free(metrics);
	free(cause);
	return status;
}
