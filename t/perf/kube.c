/*
 * t/perf/kube.c - what keeping pods costs: decoding a LIST and a watch
 * stream into the compact store, beside a bare cJSON_Parse of the same
 * bytes (the floor: the JSON has to be parsed whatever is done with it),
 * and the memory each stored pod takes.
 *
 *   kube [PODS] [EVENTS] [REPETITIONS] [ARM]    (defaults 5000 10000 7)
 *
 * ARM (list-bare, list-decode, watch-bare, watch-decode) runs that arm
 * alone, once, and prints its figure: t/perf/kube.sh runs each arm in a
 * fresh process, interleaved, because an arm inherits the allocator state
 * the previous one left (a whole-list tree freed leaves fastbins that the
 * next arm pays to consolidate).  ARM none (set-up only) is the baseline
 * for callgrind instruction counts; ARM memory prints the memory figure.
 *
 * The LIST is decoded the way the reflector does it (kube-list.c: each
 * item parsed alone, decoded while in cache, freed).  Pods are generated as
 * the API server writes them (managedFields,
 * ownerReferences, a projected token volume, conditions, two containers
 * with statuses), about 4 KiB of JSON each.  Arms are interleaved, bare
 * then decode, in every repetition; the medians of the per-repetition
 * figures are printed with their min-max.  Memory is mallinfo2()'s
 * in-use bytes after the store is built and the JSON freed, divided by the
 * pod count.  Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
 * Prints figures; never fails on timing.
 */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "kube-list.h"
#include "kube-pod.h"
#include "kube-store.h"
#include "kube-stream.h"
#include "pod.h"

static double
now_seconds(void)
{
	struct timespec ts;

	/* CPU time of this thread: on a shared machine, time spent waiting
	 * for a core is not the code's cost. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
pod_text(struct buf *out, int i, int rv)
{
	buf_printf(out,
	    "{\"metadata\":{\"name\":\"web-5d8f7c9b6-%05d\",\"generateName\":\"web-5d8f7c9b6-\","
	    "\"namespace\":\"shop\",\"uid\":\"%08x-4b7a-4d55-9a61-0d6a3f5c%04x\","
	    "\"resourceVersion\":\"%d\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","
	    "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"5d8f7c9b6\",\"tier\":\"frontend\"},"
	    "\"annotations\":{\"temper.io/profile\":\"latency\",\"kubectl.kubernetes.io/restartedAt\":\"2026-01-01T00:00:00Z\"},"
	    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-5d8f7c9b6\","
	    "\"uid\":\"a1b2c3d4-0000-4000-8000-000000000001\",\"controller\":true,\"blockOwnerDeletion\":true}],"
	    "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
	    "\"time\":\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:generateName\":{},"
	    "\"f:labels\":{\".\":{},\"f:app\":{},\"f:pod-template-hash\":{}},\"f:ownerReferences\":{\".\":{},"
	    "\"k:{\\\"uid\\\":\\\"a1b2c3d4-0000-4000-8000-000000000001\\\"}\":{}}},\"f:spec\":{\"f:containers\":"
	    "{\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:resources\":{\".\":{},"
	    "\"f:limits\":{},\"f:requests\":{}}}},\"f:dnsPolicy\":{},\"f:restartPolicy\":{}}}},"
	    "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-01-01T00:00:05Z\","
	    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{},\"f:containerStatuses\":{},"
	    "\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:startTime\":{}}},\"subresource\":\"status\"}]},"
	    "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-x7k2p\",\"projected\":{\"sources\":["
	    "{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
	    "{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},"
	    "{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\","
	    "\"fieldPath\":\"metadata.namespace\"}}]}}],\"defaultMode\":420}}],"
	    "\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/shop/web:1.2.3\","
	    "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],"
	    "\"env\":[{\"name\":\"MODE\",\"value\":\"production\"},{\"name\":\"POD_NAME\",\"valueFrom\":"
	    "{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
	    "\"resources\":{\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"500m\",\"memory\":\"512Mi\"}},"
	    "\"volumeMounts\":[{\"name\":\"kube-api-access-x7k2p\",\"readOnly\":true,"
	    "\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
	    "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
	    "\"imagePullPolicy\":\"IfNotPresent\"},"
	    "{\"name\":\"log-shipper\",\"image\":\"registry.example/infra/fluent-bit:3.0\","
	    "\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"}},"
	    "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
	    "\"imagePullPolicy\":\"IfNotPresent\"}],"
	    "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
	    "\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\",\"nodeName\":\"node-a\","
	    "\"securityContext\":{},\"schedulerName\":\"default-scheduler\",\"tolerations\":["
	    "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
	    "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
	    "\"priorityClassName\":\"temper-high\",\"priority\":100000,\"enableServiceLinks\":true,"
	    "\"preemptionPolicy\":\"PreemptLowerPriority\"},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":["
	    "{\"type\":\"Initialized\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-01-01T00:00:01Z\"},"
	    "{\"type\":\"Ready\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-01-01T00:00:05Z\"},"
	    "{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-01-01T00:00:05Z\"},"
	    "{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}],"
	    "\"hostIP\":\"10.0.0.1\",\"hostIPs\":[{\"ip\":\"10.0.0.1\"}],\"podIP\":\"10.244.%d.%d\","
	    "\"podIPs\":[{\"ip\":\"10.244.%d.%d\"}],\"startTime\":\"2026-01-01T00:00:01Z\",\"containerStatuses\":["
	    "{\"name\":\"app\",\"state\":{\"running\":{\"startedAt\":\"2026-01-01T00:00:04Z\"}},\"lastState\":{},"
	    "\"ready\":true,\"restartCount\":0,\"image\":\"registry.example/shop/web:1.2.3\","
	    "\"imageID\":\"registry.example/shop/web@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
	    "\"containerID\":\"containerd://%016x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c\",\"started\":true},"
	    "{\"name\":\"log-shipper\",\"state\":{\"running\":{\"startedAt\":\"2026-01-01T00:00:04Z\"}},\"lastState\":{},"
	    "\"ready\":true,\"restartCount\":0,\"image\":\"registry.example/infra/fluent-bit:3.0\","
	    "\"imageID\":\"registry.example/infra/fluent-bit@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\","
	    "\"containerID\":\"containerd://%016x2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0\",\"started\":true}],"
	    "\"qosClass\":\"Burstable\"}}",
	    i, (unsigned)i * 2654435761u, (unsigned)i & 0xffff, rv, i / 250, i % 250,
	    i / 250, i % 250, (unsigned)i * 40503u, (unsigned)i * 9973u);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *values, int n, const char *unit)
{
	qsort(values, (size_t)n, sizeof *values, compare_double);
	printf("%-44s %9.3f %s  (min %.3f, max %.3f)\n", what, values[n / 2],
	    unit, values[0], values[n - 1]);
}

/* The reflector's work per listed item. */
static int
list_item(const cJSON *item, void *arg)
{
	struct kube_store *store = arg;
	struct kube_meta meta;
	void *object, *replaced, *displaced;

	if ((object = kube_pod_kind.decode(item, &meta, NULL)) == NULL)
		return 0;
	if (kube_store_put(store, object, &replaced, &displaced) != 0) {
		pod_free(object);
		return 0;
	}
	pod_free(replaced);
	pod_free(displaced);
	return 0;
}

/* The reflector's work per event, without the network. */
struct watch_state {
	struct kube_store store;
	unsigned long events;
};

static int
watch_event(const struct kube_stream_event *event, void *arg)
{
	struct watch_state *state = arg;
	struct kube_meta meta;
	void *object, *replaced, *displaced;
	const char *uid;

	state->events++;
	switch (event->type) {
	case KUBE_STREAM_ADDED:
	case KUBE_STREAM_MODIFIED:
		if ((object = kube_pod_kind.decode(event->object, &meta, NULL)) == NULL)
			return 0;
		if (kube_store_put(&state->store, object, &replaced, &displaced) != 0) {
			pod_free(object);
			return 0;
		}
		pod_free(replaced);
		pod_free(displaced);
		break;
	case KUBE_STREAM_DELETED:
		uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(event->object, "metadata"), "uid"));
		if (uid != NULL)
			pod_free(kube_store_remove(&state->store, uid));
		break;
	default:
		break;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int pods = argc > 1 ? atoi(argv[1]) : 5000;
	int events = argc > 2 ? atoi(argv[2]) : 10000;
	int repetitions = argc > 3 ? atoi(argv[3]) : 7;
	const char *only = argc > 4 ? argv[4] : NULL;
	struct buf list = BUF_INIT, stream = BUF_INIT, one = BUF_INIT;
	double *bare_list, *decode_list, *ratio_list, *bare_watch, *decode_watch,
	    *ratio_watch, t0, t1;
	size_t *line_start, *line_len, at, chunk = 16384;
	struct kube_store store;
	struct mallinfo2 before, after;
	struct watch_state state;
	struct kube_stream parser;
	struct kube_list_page page;
	cJSON *root;
	int r, i, kinds;

	if (pods < 1 || events < 1 || repetitions < 1)
		return 2;
	bare_list = calloc((size_t)repetitions, sizeof (double));
	decode_list = calloc((size_t)repetitions, sizeof (double));
	ratio_list = calloc((size_t)repetitions, sizeof (double));
	bare_watch = calloc((size_t)repetitions, sizeof (double));
	decode_watch = calloc((size_t)repetitions, sizeof (double));
	ratio_watch = calloc((size_t)repetitions, sizeof (double));
	line_start = calloc((size_t)events, sizeof (size_t));
	line_len = calloc((size_t)events, sizeof (size_t));

	buf_puts(&list, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
	    "{\"resourceVersion\":\"100000\"},\"items\":[");
	for (i = 0; i < pods; i++) {
		if (i > 0)
			buf_puts(&list, ",");
		pod_text(&list, i, 1000 + i);
	}
	buf_puts(&list, "]}");

	/* 30% ADDED, 40% MODIFIED, 20% DELETED, 10% BOOKMARK over a pod set
	 * that stays about `pods` large. */
	for (i = 0; i < events; i++) {
		static const char *const types[] = { "ADDED", "MODIFIED", "MODIFIED",
		    "ADDED", "MODIFIED", "DELETED", "ADDED", "MODIFIED", "DELETED",
		    "BOOKMARK" };

		kinds = i % 10;
		line_start[i] = stream.len;
		if (kinds == 9) {
			buf_printf(&stream, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
			    "\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
			    "\"resourceVersion\":\"%d\",\"creationTimestamp\":null}}}",
			    200000 + i);
		} else {
			buf_printf(&stream, "{\"type\":\"%s\",\"object\":", types[kinds]);
			pod_text(&stream, (i * 7) % pods, 200000 + i);
			buf_puts(&stream, "}");
		}
		line_len[i] = stream.len - line_start[i];
		buf_puts(&stream, "\n");
	}

#define ARM(name) (only == NULL || strcmp(only, name) == 0)
	if (only != NULL)
		repetitions = strcmp(only, "memory") == 0 ? 0 : 1;
	for (r = 0; r < repetitions; r++) {
		/* LIST, floor: parse and free. */
		t0 = now_seconds();
		if (ARM("list-bare")) {
		root = cJSON_ParseWithLength(list.data, list.len);
		cJSON_Delete(root);
		}
		t1 = now_seconds();
		bare_list[r] = (t1 - t0) / pods * 1e6;

		/* LIST, decoded into the store item by item, as the reflector does. */
		kube_store_init(&store, &kube_pod_kind);
		t0 = now_seconds();
		if (ARM("list-decode")) {
			kube_list_parse(list.data, list.len, list_item, &store, &page,
			    NULL);
			kube_list_page_free(&page);
		}
		t1 = now_seconds();
		decode_list[r] = (t1 - t0) / pods * 1e6;
		ratio_list[r] = decode_list[r] / bare_list[r];
		if (ARM("list-decode") && store.count != (size_t)pods) {
			fprintf(stderr, "kube: %zu pods stored, %d expected\n",
			    store.count, pods);
			return 1;
		}
		kube_store_clear(&store);

		/* WATCH, floor: parse each event and free it. */
		t0 = now_seconds();
		for (i = 0; ARM("watch-bare") && i < events; i++) {
			root = cJSON_ParseWithLength(stream.data + line_start[i], line_len[i]);
			cJSON_Delete(root);
		}
		t1 = now_seconds();
		bare_watch[r] = (t1 - t0) / events * 1e6;

		/* WATCH, through the stream parser in 16 KiB chunks into a store. */
		memset(&state, 0, sizeof state);
		kube_store_init(&state.store, &kube_pod_kind);
		kube_stream_init(&parser, watch_event, &state);
		t0 = now_seconds();
		for (at = 0; ARM("watch-decode") && at < stream.len; at += chunk)
			kube_stream_feed(&parser, stream.data + at,
			    stream.len - at < chunk ? stream.len - at : chunk);
		t1 = now_seconds();
		decode_watch[r] = (t1 - t0) / events * 1e6;
		ratio_watch[r] = decode_watch[r] / bare_watch[r];
		if (ARM("watch-decode") && state.events != (unsigned long)events) {
			fprintf(stderr, "kube: %lu events seen, %d sent\n",
			    state.events, events);
			return 1;
		}
		kube_stream_free(&parser);
		kube_store_clear(&state.store);
	}

	if (only != NULL && strcmp(only, "memory") != 0) {
		/* One arm in a fresh process: its figure alone, for the script. */
		if (strcmp(only, "list-bare") == 0)
			printf("list-bare %.3f\n", bare_list[0]);
		else if (strcmp(only, "list-decode") == 0)
			printf("list-decode %.3f\n", decode_list[0]);
		else if (strcmp(only, "watch-bare") == 0)
			printf("watch-bare %.3f\n", bare_watch[0]);
		else if (strcmp(only, "watch-decode") == 0)
			printf("watch-decode %.3f\n", decode_watch[0]);
		goto out;
	}

	/* Memory: the store alone, after the JSON is gone. */
	kube_store_init(&store, &kube_pod_kind);
	malloc_trim(0);
	before = mallinfo2();
	kube_list_parse(list.data, list.len, list_item, &store, &page, NULL);
	kube_list_page_free(&page);
	after = mallinfo2();

	if (only != NULL) {
		printf("memory %.0f %.0f\n", (double)(after.uordblks -
		    before.uordblks) / pods, (double)list.len / pods);
		kube_store_clear(&store);
		goto out;
	}
	printf("# %d pods (%.0f bytes of JSON each), %d watch events, %d repetitions, "
	    "medians\n", pods, (double)list.len / pods, events, repetitions);
	report("LIST: bare cJSON_Parse+Delete per pod", bare_list, repetitions, "us");
	report("LIST: parse+decode+store per pod", decode_list, repetitions, "us");
	report("LIST: decode / bare (target < 2)", ratio_list, repetitions, "x ");
	report("WATCH: bare cJSON_Parse+Delete per event", bare_watch, repetitions, "us");
	report("WATCH: stream+parse+decode+store per event", decode_watch, repetitions, "us");
	report("WATCH: decode / bare (target < 2)", ratio_watch, repetitions, "x ");
	printf("%-44s %9.0f bytes (target < 2048; mallinfo2 in-use delta / pods)\n",
	    "memory per stored pod", (double)(after.uordblks - before.uordblks) / pods);
	kube_store_clear(&store);
out:
	buf_free(&list);
	buf_free(&stream);
	buf_free(&one);
	free(bare_list);
	free(decode_list);
	free(ratio_list);
	free(bare_watch);
	free(decode_watch);
	free(ratio_watch);
	free(line_start);
	free(line_len);
	return 0;
}
