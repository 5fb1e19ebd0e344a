/*
 * agent.h - the agent role: this node's pods, planned and published.
 *
 * Watches the pods bound to this node and the Node itself through the
 * Kubernetes client, feeds the engine, publishes the node annotations
 * (temper.io/qos-distribution, temper.io/enforcement-state) and serves the
 * agent API (agent-api.c).  Without a reachable API it keeps running, says
 * why on /readyz and retries with backoff.
 */
#ifndef TEMPER_AGENT_H
#define TEMPER_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "backoff.h"
#include "kube-client.h"
#include "kube-reflector.h"
#include "qos-distribution.h"

struct agent_api_route;
struct cgroup_discovery;
struct cgroup_enforce;
struct cgroup_pod;
struct daemon;
struct engine;
struct kube_patch;
struct observe;
struct profiles;
struct supervisor;
struct planner_pod;
struct topology;

#define AGENT_ENFORCEMENT_STATE_KEY "temper.io/enforcement-state"
#define AGENT_SAFE_MODE_KEY "temper.io/safe-mode-requested"

struct agent {
	struct daemon *daemon;
	uv_loop_t *loop;
	char *node_name;
	struct topology *topology;
	struct engine *engine;

	/* Kubernetes: a client once a configuration loads, two reflectors. */
	struct kube_client client;
	bool client_open;
	struct kube_reflector pods;
	struct kube_reflector node;
	bool reflectors_open;
	unsigned reflectors_stopped;
	bool pods_synced;
	bool node_synced;
	char *config_error;		/* why no client yet */
	struct backoff config_backoff;
	uv_timer_t config_timer;	/* retries loading the configuration */
	uv_timer_t housekeeping;	/* readiness and gauges, every second */

	/* What the engine plans from; rebuilt on every pass. */
	struct planner_pod *planner_pods;
	struct cgroup_pod **found;	/* each pod's cgroups, parallel to planner_pods */
	size_t planner_capacity;
	size_t planner_count;
	struct cgroup_discovery *discovery;
	char *discovery_error;		/* the last rescan's failure, logged once */

	/* Always-on observation: BPF placement telemetry, PSI, the linter. */
	struct observe *observe;
	/* Workload profiles: builtins and the [profiles] dir (profiles.c). */
	struct profiles *profiles;

	/* Enforcement through sched_ext: scx_layered and the hint map. */
	struct supervisor *supervisor;
	uint64_t *hint_ids;		/* scratch for supervisor_set_cgroup_tiers */
	enum tier *hint_tiers;
	size_t hint_capacity;

	/* Enforcement without sched_ext: cpu.idle and cpusets (cgroup-enforce.c). */
	struct cgroup_enforce *enforce;
	int enforce_error;		/* the last apply's -errno, logged once */
	uint64_t last_rescan_ms;

	/* Safe mode from the node annotation and from POST /api/v1/safe-mode. */
	bool safe_mode_annotation;
	bool safe_mode_api;

	/* Node annotations: written when changed, at most every publish_ms. */
	uv_timer_t publish_timer;
	struct kube_patch *patch;
	bool publish_pending;
	uint64_t last_publish_ms;
	char *published_distribution;
	char *published_state;
	uint64_t publish_ms;
	unsigned long patches_ok;
	unsigned long patches_failed;

	/* /api/v1 over TCP needs "Authorization: Bearer <token>" when set;
	 * the unix socket is guarded by its file mode instead. */
	char *api_token;
	struct agent_api_route *api_routes;

	bool timers_open;
	unsigned open_handles;		/* parts still closing during a stop */
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;

	struct metric_series *patch_ok;
	struct metric_series *patch_failed;
	struct metric_family *watch_state;
};

struct agent *agent_new(struct daemon *daemon, char **cause);
int agent_start(struct agent *agent);
void agent_stop(struct agent *agent, void (*done)(void *arg), void *arg);
void agent_free(struct agent *agent);

/* "safe-mode", "cgroup", "plan-only" or "off": what the node annotation says. */
const char *agent_enforcement_state(const struct agent *agent);
/* POST /api/v1/safe-mode */
void agent_set_api_safe_mode(struct agent *agent, bool on);
/* SIGHUP: the daemon's configuration was replaced. */
void agent_conf_changed(struct agent *agent);
/* POST /api/v1/reload */
void agent_replan(struct agent *agent, const char *reason);

/* agent-api.c: the /api/v1 routes; load_token (re)reads --api_token_file. */
int agent_api_register(struct agent *agent);
int agent_api_load_token(struct agent *agent);

#endif
