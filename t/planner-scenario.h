/*
 * t/planner-scenario.h - build planner inputs by hand: pods with kubelet's
 * cgroup layout (systemd driver), their tiers from tier.c, a topology and
 * an engine config.  Shared by the planner tests and the benchmark.
 */
#ifndef TEMPER_T_PLANNER_SCENARIO_H
#define TEMPER_T_PLANNER_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-config.h"
#include "planner.h"
#include "pod.h"
#include "tier.h"
#include "topology.h"

#define SCENARIO_MAX_PODS 1000

/* Where a pod's cgroup comes from. */
enum scenario_cgroup {
	SCENARIO_CGROUP_KUBELET,	/* kubelet's path for its QoS class */
	SCENARIO_CGROUP_NONE,		/* not discovered yet */
	SCENARIO_CGROUP_GIVEN,		/* the path passed in */
};

struct scenario_pod_text {
	char uid[64];
	char name[64];
	char cgroup[256];
};

struct scenario {
	struct pod pods[SCENARIO_MAX_PODS];
	struct pod_container containers[SCENARIO_MAX_PODS];
	struct planner_pod inputs[SCENARIO_MAX_PODS];
	struct scenario_pod_text text[SCENARIO_MAX_PODS];
	size_t count;
	unsigned seed;			/* makes uids differ between scenarios */
	struct engine_config config;
	struct planner_options options;
	struct topology *topology;
};

static inline struct scenario *
scenario_new(unsigned seed, struct topology *topology)
{
	struct scenario *s = calloc(1, sizeof *s);

	if (s == NULL)
		abort();
	s->seed = seed;
	s->topology = topology;
	engine_config_defaults(&s->config);
	s->options.config = &s->config;
	return s;
}

static inline void
scenario_free(struct scenario *s)
{
	if (s == NULL)
		return;
	topology_free(s->topology);
	free(s);
}

/*
 * Add a pod: class NULL for none; priority as admission resolved it;
 * request and limit in millicores (-1 unset).  Returns the pod's index.
 */
static inline size_t
scenario_add(struct scenario *s, const char *namespace, const char *class_name,
    int32_t priority, enum pod_qos qos, int64_t request, int64_t limit,
    enum scenario_cgroup where, const char *given)
{
	size_t i = s->count++;
	struct scenario_pod_text *text = &s->text[i];
	struct pod *pod = &s->pods[i];
	struct pod_container *container = &s->containers[i];
	char underscored[64];

	if (i >= SCENARIO_MAX_PODS)
		abort();
	snprintf(text->uid, sizeof text->uid, "%08x-0000-4000-8000-%012zx",
	    s->seed, i + 1);
	snprintf(text->name, sizeof text->name, "pod-%zu", i + 1);
	memset(pod, 0, sizeof *pod);
	memset(container, 0, sizeof *container);
	container->name = "main";
	container->cpu_request_millis = request;
	container->cpu_limit_millis = limit;
	container->memory_request_bytes = -1;
	container->memory_limit_bytes = -1;
	pod->uid = text->uid;
	pod->namespace = namespace;
	pod->name = text->name;
	pod->priority_class_name = class_name;
	pod->priority = priority;
	pod->has_priority = true;
	pod->qos_class = qos;
	pod->phase = POD_PHASE_RUNNING;
	pod->containers = container;
	pod->container_count = 1;

	/* systemd's escaping turns the uid's dashes into underscores. */
	snprintf(underscored, sizeof underscored, "%s", text->uid);
	for (char *p = underscored; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	switch (where) {
	case SCENARIO_CGROUP_KUBELET:
		if (qos == POD_QOS_GUARANTEED)
			snprintf(text->cgroup, sizeof text->cgroup,
			    "kubepods.slice/kubepods-pod%s.slice/", underscored);
		else
			snprintf(text->cgroup, sizeof text->cgroup,
			    "kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice/",
			    qos == POD_QOS_BESTEFFORT ? "besteffort" : "burstable",
			    qos == POD_QOS_BESTEFFORT ? "besteffort" : "burstable",
			    underscored);
		s->inputs[i].cgroup = text->cgroup;
		break;
	case SCENARIO_CGROUP_NONE:
		s->inputs[i].cgroup = NULL;
		break;
	case SCENARIO_CGROUP_GIVEN:
		snprintf(text->cgroup, sizeof text->cgroup, "%s", given);
		s->inputs[i].cgroup = text->cgroup;
		break;
	}
	s->inputs[i].pod = pod;
	tier_classify(&s->config.thresholds, pod, &s->inputs[i].tier, NULL);
	return i;
}

/* Shorthands for the usual shapes. */
static inline size_t
scenario_guaranteed(struct scenario *s, const char *class_name,
    int32_t priority, int64_t millis)
{
	return scenario_add(s, "prod", class_name, priority, POD_QOS_GUARANTEED,
	    millis, millis, SCENARIO_CGROUP_KUBELET, NULL);
}

static inline size_t
scenario_burstable(struct scenario *s, const char *class_name,
    int32_t priority, int64_t request)
{
	return scenario_add(s, "apps", class_name, priority, POD_QOS_BURSTABLE,
	    request, -1, SCENARIO_CGROUP_KUBELET, NULL);
}

static inline size_t
scenario_besteffort(struct scenario *s, const char *class_name,
    int32_t priority)
{
	return scenario_add(s, "batch", class_name, priority, POD_QOS_BESTEFFORT,
	    -1, -1, SCENARIO_CGROUP_KUBELET, NULL);
}

/* Re-derive tiers after changing thresholds. */
static inline void
scenario_reclassify(struct scenario *s)
{
	for (size_t i = 0; i < s->count; i++)
		tier_classify(&s->config.thresholds, &s->pods[i],
		    &s->inputs[i].tier, NULL);
}

static inline struct plan *
scenario_plan(struct scenario *s, char **cause)
{
	return planner_plan(s->inputs, s->count, s->topology, &s->options, cause);
}

#endif
