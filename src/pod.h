/*
 * pod.h - a pod as Temper keeps it: a compact struct, not a JSON tree.
 *
 * Filled by kube-pod.c from the API's JSON; read by the engine (tiers,
 * cgroups, planner).  Quantities are integers: CPU in millicores, memory in
 * bytes, -1 when the spec leaves them unset.
 */
#ifndef TEMPER_POD_H
#define TEMPER_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pod_qos {
	POD_QOS_UNKNOWN,
	POD_QOS_GUARANTEED,
	POD_QOS_BURSTABLE,
	POD_QOS_BESTEFFORT,
};

enum pod_phase {
	POD_PHASE_UNKNOWN,
	POD_PHASE_PENDING,
	POD_PHASE_RUNNING,
	POD_PHASE_SUCCEEDED,
	POD_PHASE_FAILED,
};

struct pod_container {
	const char *name;
	const char *image;
	const char *id;			/* status containerID, "containerd://<hex>"; NULL before it runs */
	int64_t cpu_request_millis;	/* -1 when unset */
	int64_t cpu_limit_millis;
	int64_t memory_request_bytes;
	int64_t memory_limit_bytes;
	bool init;			/* an init container (not a sidecar) */
};

struct pod {
	const char *uid;
	const char *namespace;
	const char *name;
	const char *node_name;		/* spec.nodeName; NULL when unscheduled */
	const char *resource_version;
	const char *priority_class_name;	/* NULL when none */
	int32_t priority;		/* spec.priority */
	bool has_priority;		/* false when spec.priority is absent */
	enum pod_qos qos_class;		/* status.qosClass */
	enum pod_phase phase;
	bool deleting;			/* metadata.deletionTimestamp set */

	/* The annotations Temper reads (temper.io/ wins over infera.io/). */
	const char *profile;		/* temper.io/profile */
	const char *config_mirror;	/* kubernetes.io/config.mirror (static pods) */
	const char *original_cpu_requests;	/* temper.io/original-cpu-requests */

	struct pod_container *containers;
	size_t container_count;

	/* All strings above live in this one allocation, freed with the pod. */
	char *strings;
};

/* The pod's effective CPU request in millicores as the scheduler sees it:
 * max(sum of app containers, largest init container). 0 when none set. */
int64_t pod_cpu_request_millis(const struct pod *pod);
/* Likewise for limits; -1 when any app container has no CPU limit. */
int64_t pod_cpu_limit_millis(const struct pod *pod);

const char *pod_qos_name(enum pod_qos qos);
const char *pod_phase_name(enum pod_phase phase);

void pod_free(struct pod *pod);

#endif
