/*
 * t/kube-probe.c - drive the Kubernetes client against a real API server.
 *
 *   kube-probe [client options] watch pods|nodes [--field-selector S]
 *       [--page-size N] [--watch-timeout S] [--dump FILE] [--status FILE]
 *       [--events] [--exit-after-sync]
 *   kube-probe [client options] patch PATH [--resource-version RV]
 *       [--annotation KEY=VALUE | --annotation KEY-]... [--label ...]...
 *   kube-probe [client options] get|delete PATH
 *   kube-probe [client options] create PATH FILE
 *
 * Client options: --kubeconfig FILE [--context NAME] | --in-cluster DIR,
 * --allow-insecure, --token-period-ms N.
 *
 * watch keeps a reflector running until SIGTERM/SIGINT.  Whenever its store
 * changes it rewrites --dump (one sorted line per object, the fields
 * `kubectl get -o json` also shows, so the shell tests can compare) and
 * --status (key=value counters: lists, relists, bookmarks, the resume
 * resourceVersion, token changes, 401s).  It closes every handle and checks
 * uv_loop_close() before it exits.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "kube-client.h"
#include "kube-config.h"
#include "kube-node.h"
#include "kube-patch.h"
#include "kube-pod.h"
#include "kube-reflector.h"
#include "log.h"
#include "pod.h"

struct probe {
	uv_loop_t loop;
	struct kube_client client;
	struct kube_reflector reflector;
	bool reflecting;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_timer_t flush;
	const char *dump_path;
	const char *status_path;
	bool print_events;
	bool exit_after_sync;
	bool dirty;
	bool stopping;
	int exit_code;
	struct kube_patch *patch;
	struct kube_client_call *call;
};

static struct probe probe;

static void probe_stop(int code);

static void
probe_usage(void)
{
	fprintf(stderr, "usage: kube-probe [--kubeconfig FILE [--context NAME] | "
	    "--in-cluster DIR] [--allow-insecure] [--token-period-ms N]\n"
	    "    watch pods|nodes [--field-selector S] [--page-size N] "
	    "[--watch-timeout S] [--dump FILE] [--status FILE] [--events] "
	    "[--exit-after-sync]\n"
	    "  | patch PATH [--resource-version RV] [--annotation K=V|K-]... "
	    "[--label K=V|K-]...\n"
	    "  | get PATH | delete PATH | create PATH FILE\n");
	exit(2);
}

static void
probe_describe(struct buf *out, const void *object)
{
	const struct kube_node *node;
	const struct pod *pod;

	if (probe.reflector.kind == &kube_pod_kind) {
		pod = object;
		buf_printf(out, "%s/%s uid=%s rv=%s node=%s qos=%s priority=%s%d "
		    "phase=%s containers=%zu cpu_request_millis=%lld\n",
		    pod->namespace, pod->name, pod->uid,
		    pod->resource_version ? pod->resource_version : "",
		    pod->node_name ? pod->node_name : "",
		    pod_qos_name(pod->qos_class), pod->has_priority ? "" : "none:",
		    pod->priority, pod_phase_name(pod->phase), pod->container_count,
		    (long long)pod_cpu_request_millis(pod));
	} else {
		node = object;
		buf_printf(out, "%s uid=%s rv=%s cpu_millis=%lld safe_mode=%s "
		    "qos_distribution=%s\n", node->name, node->uid,
		    node->resource_version ? node->resource_version : "",
		    (long long)node->allocatable.cpu_millis,
		    node->safe_mode_requested ? node->safe_mode_requested : "",
		    node->qos_distribution ? node->qos_distribution : "");
	}
}

struct probe_lines {
	char **lines;
	size_t count;
};

static void
probe_collect(void *object, const struct kube_meta *meta, void *arg)
{
	struct probe_lines *lines = arg;
	struct buf line = BUF_INIT;

	(void)meta;
	probe_describe(&line, object);
	lines->lines[lines->count++] = buf_detach(&line);
}

static int
probe_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write a file whole: readers never see half of it. */
static void
probe_write_file(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("kube-probe: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fwrite(text, 1, len, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		log_warn("kube-probe: cannot write %s: %s", path, strerror(errno));
}

static void
probe_write_dump(void)
{
	struct probe_lines lines = { 0 };
	struct buf text = BUF_INIT;
	size_t i;

	lines.lines = calloc(probe.reflector.store.count + 1, sizeof *lines.lines);
	if (lines.lines == NULL)
		return;
	kube_store_foreach(&probe.reflector.store, probe_collect, &lines);
	qsort(lines.lines, lines.count, sizeof *lines.lines, probe_compare);
	for (i = 0; i < lines.count; i++) {
		buf_puts(&text, lines.lines[i]);
		free(lines.lines[i]);
	}
	free(lines.lines);
	probe_write_file(probe.dump_path, text.data ? text.data : "", text.len);
	buf_free(&text);
}

static void
probe_write_status(void)
{
	const struct kube_reflector_stats *s = &probe.reflector.stats;
	struct buf text = BUF_INIT;

	buf_printf(&text, "objects=%zu\nlists=%lu\nsyncs=%lu\nrelists_expired=%lu\n"
	    "full_relists=%lu\nwatches=%lu\nwatch_ends=%lu\nevents=%lu\n"
	    "bookmarks=%lu\nlast_bookmark=%s\nresume_rv=%s\nadds=%lu\n"
	    "updates=%lu\ndeletes=%lu\nerrors=%lu\ndecode_errors=%lu\n"
	    "backoff_ms=%llu\ntoken_changes=%lu\nunauthorized=%lu\nconnects=%lu\n",
	    probe.reflector.store.count, s->lists, s->syncs, s->relists_expired,
	    s->full_relists, s->watches, s->watch_ends, s->events, s->bookmarks,
	    probe.reflector.last_bookmark ? probe.reflector.last_bookmark : "",
	    probe.reflector.resource_version ? probe.reflector.resource_version : "",
	    s->adds, s->updates, s->deletes, s->errors, s->decode_errors,
	    (unsigned long long)s->backoff_ms, probe.client.token_changes, probe.client.unauthorized,
	    probe.client.http.connects);
	probe_write_file(probe.status_path, text.data, text.len);
	buf_free(&text);
}

static void
probe_flush(uv_timer_t *timer)
{
	(void)timer;
	if (probe.dump_path != NULL && probe.dirty)
		probe_write_dump();
	probe.dirty = false;
	if (probe.status_path != NULL)
		probe_write_status();
}

static void
probe_event(const char *what, const void *object)
{
	struct buf line = BUF_INIT;

	probe.dirty = true;
	if (!probe.print_events)
		return;
	probe_describe(&line, object);
	printf("%s %s", what, line.data);
	fflush(stdout);
	buf_free(&line);
}

static void
probe_on_add(void *object, void *arg)
{
	(void)arg;
	probe_event("ADD", object);
}

static void
probe_on_update(void *old_object, void *new_object, void *arg)
{
	(void)arg;
	(void)old_object;
	probe_event("UPDATE", new_object);
}

static void
probe_on_delete(void *object, void *arg)
{
	(void)arg;
	probe_event("DELETE", object);
}

static void
probe_on_synced(void *arg)
{
	(void)arg;
	probe.dirty = true;
	if (probe.print_events) {
		printf("SYNCED %zu rv=%s\n", probe.reflector.store.count,
		    probe.reflector.resource_version);
		fflush(stdout);
	}
	if (probe.exit_after_sync) {
		probe_flush(NULL);
		probe_stop(0);
	}
}

static void
probe_closed_handle(uv_handle_t *handle)
{
	(void)handle;
}

static void
probe_client_closed(struct kube_client *client)
{
	(void)client;
	uv_close((uv_handle_t *)&probe.sigterm, probe_closed_handle);
	uv_close((uv_handle_t *)&probe.sigint, probe_closed_handle);
	uv_close((uv_handle_t *)&probe.flush, probe_closed_handle);
}

static void
probe_reflector_closed(struct kube_reflector *reflector)
{
	(void)reflector;
	kube_client_close(&probe.client, probe_client_closed);
}

static void
probe_stop(int code)
{
	if (probe.stopping)
		return;
	probe.stopping = true;
	probe.exit_code = code;
	uv_timer_stop(&probe.flush);
	kube_patch_cancel(probe.patch);
	probe.patch = NULL;
	kube_client_call_cancel(probe.call);
	probe.call = NULL;
	if (probe.reflecting)
		kube_reflector_stop(&probe.reflector, probe_reflector_closed);
	else
		kube_client_close(&probe.client, probe_client_closed);
}

static void
probe_signal(uv_signal_t *handle, int signum)
{
	(void)handle;
	log_info("kube-probe: signal %d; stopping", signum);
	if (probe.status_path != NULL || probe.dump_path != NULL)
		probe_flush(NULL);
	probe_stop(0);
}

static void
probe_call_done(int error, int status, struct buf *body, void *arg)
{
	(void)arg;
	probe.call = NULL;
	if (error != 0) {
		fprintf(stderr, "kube-probe: request failed: %s\n", strerror(-error));
		probe_stop(1);
		return;
	}
	printf("status=%d\n", status);
	if (body->len > 0)
		printf("%s\n", body->data);
	fflush(stdout);
	probe_stop(status >= 200 && status < 300 ? 0 : 1);
}

static void
probe_patch_done(int error, int status, unsigned attempts, struct buf *body,
    void *arg)
{
	(void)arg;
	(void)body;
	probe.patch = NULL;
	printf("status=%d attempts=%u error=%d\n", status, attempts, error);
	fflush(stdout);
	probe_stop(error == 0 && status == 200 ? 0 : 1);
}

static int
probe_parse_changes(const char *spec, struct kube_patch_change *change)
{
	const char *equals = strchr(spec, '=');
	size_t len = strlen(spec);

	if (equals != NULL) {
		change->key = strndup(spec, (size_t)(equals - spec));
		change->value = equals + 1;
		return 0;
	}
	if (len > 1 && spec[len - 1] == '-') {
		change->key = strndup(spec, len - 1);
		change->value = NULL;
		return 0;
	}
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	enum { OPT_KUBECONFIG = 256, OPT_CONTEXT, OPT_IN_CLUSTER,
	    OPT_ALLOW_INSECURE, OPT_TOKEN_PERIOD, OPT_FIELD_SELECTOR,
	    OPT_PAGE_SIZE, OPT_WATCH_TIMEOUT, OPT_DUMP, OPT_STATUS, OPT_EVENTS,
	    OPT_EXIT_AFTER_SYNC, OPT_RESOURCE_VERSION, OPT_ANNOTATION, OPT_LABEL,
	    OPT_DEBUG };
	static const struct option options[] = {
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "context", required_argument, NULL, OPT_CONTEXT },
		{ "in-cluster", required_argument, NULL, OPT_IN_CLUSTER },
		{ "allow-insecure", no_argument, NULL, OPT_ALLOW_INSECURE },
		{ "token-period-ms", required_argument, NULL, OPT_TOKEN_PERIOD },
		{ "field-selector", required_argument, NULL, OPT_FIELD_SELECTOR },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "watch-timeout", required_argument, NULL, OPT_WATCH_TIMEOUT },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "events", no_argument, NULL, OPT_EVENTS },
		{ "exit-after-sync", no_argument, NULL, OPT_EXIT_AFTER_SYNC },
		{ "resource-version", required_argument, NULL, OPT_RESOURCE_VERSION },
		{ "annotation", required_argument, NULL, OPT_ANNOTATION },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ NULL, 0, NULL, 0 },
	};
	static const struct kube_reflector_callbacks callbacks = {
		.on_add = probe_on_add,
		.on_update = probe_on_update,
		.on_delete = probe_on_delete,
		.on_synced = probe_on_synced,
	};
	struct kube_patch_change annotations[32], labels[32];
	size_t annotation_count = 0, label_count = 0, i;
	const char *kubeconfig = NULL, *context = NULL, *in_cluster = NULL;
	const char *field_selector = NULL, *resource_version = NULL, *command;
	const struct kube_kind *kind = NULL;
	struct kube_config *config;
	unsigned page_size = 0, watch_timeout = 0;
	uint64_t token_period = 0;
	bool allow_insecure = false;
	char *cause = NULL, *body = NULL, *resource_path = NULL;
	size_t body_len = 0;
	int option, error;

	log_init("kube-probe", LOG_LEVEL_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (option) {
		case OPT_KUBECONFIG: kubeconfig = optarg; break;
		case OPT_CONTEXT: context = optarg; break;
		case OPT_IN_CLUSTER: in_cluster = optarg; break;
		case OPT_ALLOW_INSECURE: allow_insecure = true; break;
		case OPT_TOKEN_PERIOD: token_period = strtoull(optarg, NULL, 10); break;
		case OPT_FIELD_SELECTOR: field_selector = optarg; break;
		case OPT_PAGE_SIZE: page_size = (unsigned)strtoul(optarg, NULL, 10); break;
		case OPT_WATCH_TIMEOUT: watch_timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case OPT_DUMP: probe.dump_path = optarg; break;
		case OPT_STATUS: probe.status_path = optarg; break;
		case OPT_EVENTS: probe.print_events = true; break;
		case OPT_EXIT_AFTER_SYNC: probe.exit_after_sync = true; break;
		case OPT_RESOURCE_VERSION: resource_version = optarg; break;
		case OPT_ANNOTATION:
			if (annotation_count == 32 || probe_parse_changes(optarg,
			    &annotations[annotation_count++]) != 0)
				probe_usage();
			break;
		case OPT_LABEL:
			if (label_count == 32 || probe_parse_changes(optarg,
			    &labels[label_count++]) != 0)
				probe_usage();
			break;
		case OPT_DEBUG: log_set_level(LOG_LEVEL_DEBUG); break;
		default: probe_usage();
		}
	}
	if (optind >= argc || (kubeconfig == NULL) == (in_cluster == NULL))
		probe_usage();
	command = argv[optind++];

	if (kubeconfig != NULL)
		config = kube_config_from_kubeconfig(kubeconfig, context,
		    allow_insecure, &cause);
	else
		config = kube_config_in_cluster(in_cluster, &cause);
	if (config == NULL) {
		fprintf(stderr, "kube-probe: %s\n", cause ? cause : strerror(errno));
		return 1;
	}
	uv_loop_init(&probe.loop);
	if ((error = kube_client_init(&probe.client, &probe.loop, config,
	    token_period, &cause)) != 0) {
		fprintf(stderr, "kube-probe: %s\n", cause ? cause : strerror(-error));
		return 1;
	}
	uv_signal_init(&probe.loop, &probe.sigterm);
	uv_signal_init(&probe.loop, &probe.sigint);
	uv_signal_start(&probe.sigterm, probe_signal, SIGTERM);
	uv_signal_start(&probe.sigint, probe_signal, SIGINT);
	uv_timer_init(&probe.loop, &probe.flush);

	if (strcmp(command, "watch") == 0) {
		if (optind >= argc)
			probe_usage();
		if (strcmp(argv[optind], "pods") == 0)
			kind = &kube_pod_kind;
		else if (strcmp(argv[optind], "nodes") == 0)
			kind = &kube_node_kind;
		else
			probe_usage();
		if (asprintf(&resource_path, "/api/v1/%s", argv[optind]) < 0)
			return 1;
		if (kube_reflector_init(&probe.reflector, &probe.client, kind,
		    resource_path, field_selector, page_size, watch_timeout,
		    &callbacks, NULL) != 0)
			return 1;
		probe.reflecting = true;
		uv_timer_start(&probe.flush, probe_flush, 100, 100);
		kube_reflector_start(&probe.reflector);
	} else if (strcmp(command, "patch") == 0) {
		if (optind >= argc)
			probe_usage();
		probe.patch = kube_patch_metadata(&probe.client, argv[optind],
		    resource_version, annotations, annotation_count, labels,
		    label_count, 0, probe_patch_done, NULL);
		if (probe.patch == NULL) {
			fprintf(stderr, "kube-probe: patch: %s\n", strerror(errno));
			probe_stop(1);
		}
	} else if (strcmp(command, "get") == 0 || strcmp(command, "delete") == 0 ||
	    strcmp(command, "create") == 0) {
		const char *method = command[0] == 'g' ? "GET" :
		    command[0] == 'd' ? "DELETE" : "POST";

		if (optind >= argc)
			probe_usage();
		if (method[0] == 'P') {
			if (optind + 1 >= argc || kube_config_read_file(argv[optind + 1],
			    &body, &body_len, &cause) != 0) {
				fprintf(stderr, "kube-probe: %s\n", cause ? cause :
				    "create needs a file");
				return 1;
			}
		}
		probe.call = kube_client_call(&probe.client, method, argv[optind],
		    body ? "application/json" : NULL, body, body_len, 0,
		    probe_call_done, NULL);
		if (probe.call == NULL)
			probe_stop(1);
	} else {
		probe_usage();
	}

	uv_run(&probe.loop, UV_RUN_DEFAULT);
	if ((error = uv_loop_close(&probe.loop)) != 0) {
		fprintf(stderr, "kube-probe: uv_loop_close: %s\n", uv_strerror(error));
		probe.exit_code = 1;
	}
	for (i = 0; i < annotation_count; i++)
		free((char *)annotations[i].key);
	for (i = 0; i < label_count; i++)
		free((char *)labels[i].key);
	free(resource_path);
	free(body);
	free(cause);
	return probe.exit_code;
}
