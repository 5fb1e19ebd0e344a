/* t/test-kube-pod.c - Pod and Node JSON into compact structs. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "kube-node.h"
#include "kube-pod.h"
#include "pod.h"
#include "tap.h"

static const char pod_json[] =
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
	"\"name\":\"web-0\",\"namespace\":\"shop\","
	"\"uid\":\"1f0e6c1e-4b7a-4d55-9a61-0d6a3f5c2b11\","
	"\"resourceVersion\":\"4711\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","
	"\"labels\":{\"app\":\"web\"},"
	"\"annotations\":{\"temper.io/profile\":\"latency\","
	"\"infera.io/profile\":\"legacy\","
	"\"infera.io/original-cpu-requests\":\"{\\\"app\\\":\\\"2\\\"}\"}},"
	"\"spec\":{\"nodeName\":\"node-a\",\"priorityClassName\":\"temper-high\","
	"\"priority\":100000,"
	"\"initContainers\":["
	"{\"name\":\"setup\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"3\"}}},"
	"{\"name\":\"proxy\",\"image\":\"envoy\",\"restartPolicy\":\"Always\","
	"\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},"
	"\"limits\":{\"cpu\":\"500m\"}}},"
	"{\"name\":\"migrate\",\"image\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}],"
	"\"containers\":["
	"{\"name\":\"app\",\"image\":\"shop/web:1\",\"resources\":{"
	"\"requests\":{\"cpu\":\"1.5\",\"memory\":\"1Gi\"},"
	"\"limits\":{\"cpu\":\"2\",\"memory\":\"1.5Gi\"}}},"
	"{\"name\":\"log\",\"image\":\"fluent\",\"resources\":{}}]},"
	"\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\","
	"\"containerStatuses\":[{\"name\":\"log\",\"containerID\":\"containerd://bb\"},"
	"{\"name\":\"app\",\"containerID\":\"containerd://aa\"}],"
	"\"initContainerStatuses\":[{\"name\":\"proxy\",\"containerID\":\"containerd://cc\"}]}}";

static void
test_pod(void)
{
	struct pod *pod;
	char *cause = NULL;

	pod = kube_pod_decode_text(pod_json, sizeof pod_json - 1, &cause);
	if (!ok(pod != NULL, "a full pod decodes")) {
		diag("cause: %s", cause);
		free(cause);
		return;
	}
	is_str(pod->uid, "1f0e6c1e-4b7a-4d55-9a61-0d6a3f5c2b11", "uid");
	is_str(pod->namespace, "shop", "namespace");
	is_str(pod->name, "web-0", "name");
	is_str(pod->resource_version, "4711", "resourceVersion");
	is_str(pod->node_name, "node-a", "spec.nodeName");
	is_str(pod->priority_class_name, "temper-high", "priorityClassName");
	ok(pod->has_priority && pod->priority == 100000, "spec.priority");
	is_int(pod->qos_class, POD_QOS_BURSTABLE, "status.qosClass");
	is_int(pod->phase, POD_PHASE_RUNNING, "status.phase");
	ok(!pod->deleting, "not deleting");
	is_str(pod->profile, "latency", "temper.io/profile wins over infera.io/");
	is_str(pod->original_cpu_requests, "{\"app\":\"2\"}",
	    "legacy infera.io/original-cpu-requests is read");
	ok(pod->config_mirror == NULL, "no mirror annotation");
	is_int(pod->container_count, 5, "five containers, init ones first");
	is_str(pod->containers[0].name, "setup", "init container first");
	ok(pod->containers[0].init, "setup is an init container");
	ok(!pod->containers[1].init, "a restartable init container is a sidecar");
	is_str(pod->containers[1].id, "containerd://cc", "sidecar status id");
	is_int(pod->containers[1].memory_request_bytes, 64 << 20, "64Mi");
	is_int(pod->containers[3].cpu_request_millis, 1500, "1.5 cpu");
	is_int(pod->containers[3].memory_limit_bytes, 1610612736, "1.5Gi");
	is_str(pod->containers[3].id, "containerd://aa", "status matched by name");
	is_int(pod->containers[4].cpu_request_millis, -1, "unset request is -1");
	ok(pod->containers[2].id == NULL, "no status, no id");
	/* app 1500 + log 0 + sidecar 250 = 1750; init peaks: setup 3000,
	 * migrate 2000 + 250 sidecar = 2250: the pod needs 3000. */
	is_int(pod_cpu_request_millis(pod), 3000, "effective request counts the init peak");
	is_int(pod_cpu_limit_millis(pod), -1, "a container without limit makes it unbounded");
	is_str(pod_qos_name(pod->qos_class), "Burstable", "qos name");
	is_str(pod_phase_name(pod->phase), "Running", "phase name");
	pod_free(pod);
}

static struct pod *
decode(const char *json, char **cause)
{
	return kube_pod_decode_text(json, strlen(json), cause);
}

static void
test_pod_sums(void)
{
	struct pod *pod;

	pod = decode("{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
	    "\"spec\":{\"containers\":["
	    "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\"},\"limits\":{\"cpu\":\"1\"}}},"
	    "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"200m\"},\"limits\":{\"cpu\":\"300m\"}}}],"
	    "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"250m\"},\"limits\":{\"cpu\":\"2\"}}}]},"
	    "\"status\":{\"qosClass\":\"Burstable\"}}", NULL);
	ok(pod != NULL, "a minimal pod decodes");
	if (pod == NULL)
		return;
	is_int(pod_cpu_request_millis(pod), 300, "sum of app requests beats a smaller init");
	is_int(pod_cpu_limit_millis(pod), 2000, "an init limit larger than the sum wins");
	ok(!pod->has_priority, "no spec.priority");
	ok(pod->node_name == NULL, "unscheduled");
	ok(pod->resource_version == NULL, "no resourceVersion stays NULL");
	pod_free(pod);

	pod = decode("{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\","
	    "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
	    "\"annotations\":{\"infera.io/profile\":\"batch\",\"kubernetes.io/config.mirror\":\"abc\"}},"
	    "\"spec\":{\"containers\":[]},\"status\":{\"qosClass\":\"BestEffort\",\"phase\":\"Pending\"}}",
	    NULL);
	ok(pod != NULL && pod->deleting && pod->qos_class == POD_QOS_BESTEFFORT &&
	    pod->phase == POD_PHASE_PENDING, "deleting, BestEffort, Pending");
	if (pod != NULL) {
		is_str(pod->profile, "batch", "legacy profile annotation");
		is_str(pod->config_mirror, "abc", "mirror annotation");
		is_int(pod_cpu_request_millis(pod), 0, "no containers, no request");
		is_int(pod_cpu_limit_millis(pod), 0, "no containers, no limit");
	}
	pod_free(pod);
}

static void
test_pod_refusals(void)
{
	static const char *bad[] = {
		"[]",
		"{}",
		"{\"metadata\":{\"namespace\":\"n\",\"name\":\"p\"}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":7}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"priority\":1.5}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"priority\":3000000000}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"containers\":{}}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"containers\":[{\"image\":\"x\"}]}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"lots\"}}}]}}",
		"{\"metadata\":{\"uid\":\"u\",\"namespace\":\"n\",\"name\":\"p\"},"
		"\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":5}}}]}}",
	};
	struct pod *pod;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		pod = decode(bad[i], &cause);
		ok(pod == NULL && errno == EINVAL && cause != NULL,
		    "refused with a reason: %s", cause ? cause : "(none)");
		pod_free(pod);
		free(cause);
	}
}

static void
test_node(void)
{
	static const char node_json[] =
		"{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-a\",\"uid\":\"n-1\","
		"\"resourceVersion\":\"99\",\"labels\":{\"kubernetes.io/hostname\":\"node-a\","
		"\"kubernetes.io/arch\":\"amd64\",\"kubernetes.io/os\":\"linux\"},"
		"\"annotations\":{\"infera.io/qos-distribution\":\"{}\","
		"\"temper.io/safe-mode-requested\":\"true\","
		"\"infera.io/safe-mode-requested\":\"false\"}},"
		"\"spec\":{\"unschedulable\":true},"
		"\"status\":{\"capacity\":{\"cpu\":\"8\",\"memory\":\"16Gi\",\"pods\":\"110\"},"
		"\"allocatable\":{\"cpu\":\"7800m\",\"memory\":\"15Gi\",\"pods\":\"110\"}}}";
	struct kube_node *node;
	char *cause = NULL;

	node = kube_node_decode_text(node_json, sizeof node_json - 1, &cause);
	if (!ok(node != NULL, "a node decodes")) {
		diag("cause: %s", cause);
		free(cause);
		return;
	}
	is_str(node->name, "node-a", "node name");
	is_str(node->uid, "n-1", "node uid");
	is_str(node->resource_version, "99", "node resourceVersion");
	is_str(node->hostname, "node-a", "hostname label");
	is_str(node->arch, "amd64", "arch label");
	ok(node->instance_type == NULL, "absent label is NULL");
	is_str(node->qos_distribution, "{}", "legacy qos-distribution read");
	is_str(node->safe_mode_requested, "true", "temper.io/ wins");
	ok(node->unschedulable, "unschedulable");
	is_int(node->allocatable.cpu_millis, 7800, "allocatable cpu");
	is_int(node->allocatable.memory_bytes, 15LL << 30, "allocatable memory");
	is_int(node->capacity.cpu_millis, 8000, "capacity cpu");
	is_int(node->capacity.pods, 110, "capacity pods");
	kube_node_free(node);

	cause = NULL;
	{
		const char *bad = "{\"metadata\":{\"name\":\"x\",\"uid\":\"y\"},"
		    "\"status\":{\"capacity\":{\"cpu\":\"eight\"}}}";

		node = kube_node_decode_text(bad, strlen(bad), &cause);
	}
	ok(node == NULL && cause != NULL && strstr(cause, "eight") != NULL,
	    "a bad node quantity is refused: %s",
	    cause ? cause : "");
	free(cause);
	kube_node_free(NULL);
	pod_free(NULL);
}

int
main(void)
{
	test_pod();
	test_pod_sums();
	test_pod_refusals();
	test_node();
	return done_testing();
}
