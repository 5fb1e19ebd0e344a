/* pod.c - what the engine asks of a pod: effective requests and names. */
#include "config.h"

#include <stdlib.h>

#include "pod.h"

/*
 * The scheduler's rule, sidecars included: containers run in array order,
 * init containers first.  A container that is not an init container but
 * sits before one is a sidecar (an init container with restartPolicy
 * Always) and keeps running while the later init containers run, so each
 * init container needs its own amount plus the sidecars started before it.
 * The pod needs the larger of that peak and the sum of everything that runs
 * for good.  want_limit makes an unset value poison the sum (-1).
 */
static int64_t
pod_effective(const struct pod *pod, bool want_limit)
{
	int64_t running = 0, init_peak = 0, amount;
	bool unbounded = false;
	size_t i;

	for (i = 0; i < pod->container_count; i++) {
		const struct pod_container *c = &pod->containers[i];

		amount = want_limit ? c->cpu_limit_millis : c->cpu_request_millis;
		if (c->init) {
			if (amount < 0)
				continue;
			if (amount + running > init_peak)
				init_peak = amount + running;
			continue;
		}
		if (amount < 0) {
			unbounded = true;
			continue;
		}
		running += amount;
	}
	if (want_limit && unbounded)
		return -1;
	return running > init_peak ? running : init_peak;
}

int64_t
pod_cpu_request_millis(const struct pod *pod)
{
	return pod_effective(pod, false);
}

int64_t
pod_cpu_limit_millis(const struct pod *pod)
{
	return pod_effective(pod, true);
}

const char *
pod_qos_name(enum pod_qos qos)
{
	switch (qos) {
	case POD_QOS_GUARANTEED:
		return "Guaranteed";
	case POD_QOS_BURSTABLE:
		return "Burstable";
	case POD_QOS_BESTEFFORT:
		return "BestEffort";
	default:
		return "Unknown";
	}
}

const char *
pod_phase_name(enum pod_phase phase)
{
	switch (phase) {
	case POD_PHASE_PENDING:
		return "Pending";
	case POD_PHASE_RUNNING:
		return "Running";
	case POD_PHASE_SUCCEEDED:
		return "Succeeded";
	case POD_PHASE_FAILED:
		return "Failed";
	default:
		return "Unknown";
	}
}

/*
 * A pod owns three blocks: itself, its container array and its strings.
 * Pods built by hand (tests, simulations) follow the same rule.
 */
void
pod_free(struct pod *pod)
{
	if (pod == NULL)
		return;
	free(pod->containers);
	free(pod->strings);
	free(pod);
}
