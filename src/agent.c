/* agent.c - the agent role: this node's pods, planned and published. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "cause.h"
#include "cgroup-discovery.h"
#include "cgroup-enforce.h"
#include "daemon.h"
#include "engine.h"
#include "hint-map.h"
#include "kube-node.h"
#include "kube-patch.h"
#include "kube-pod.h"
#include "log.h"
#include "metrics.h"
#include "observe.h"
#include "profiles.h"
#include "supervisor.h"
#include "planner.h"
#include "pod.h"
#include "readiness.h"
#include "topology.h"

#define AGENT_HOUSEKEEPING_MS 1000
#define AGENT_PUBLISH_MS 2000
#define AGENT_CONFIG_RETRY_MIN_MS 1000
#define AGENT_CONFIG_RETRY_MAX_MS 60000
/* Containers restart without a pod event reaching us first: rescan anyway. */
#define AGENT_RESCAN_MS 30000

static void agent_publish(struct agent *agent);
static void agent_handle_closed(uv_handle_t *handle);

static uint64_t
agent_now_ms(struct agent *agent)
{
	return uv_now(agent->loop);
}

const char *
agent_enforcement_state(const struct agent *agent)
{
	enum supervisor_state state;

	if (agent->engine != NULL && engine_safe_mode(agent->engine, NULL))
		return "safe-mode";
	if (agent->supervisor != NULL) {
		state = supervisor_state(agent->supervisor);
		if (state != SUPERVISOR_OFF && state != SUPERVISOR_OBSERVE)
			return supervisor_state_name(state);
	}
	if (agent->enforce != NULL)
		return "cgroup";
	if (agent->daemon->conf.enforcement == CONF_ENFORCEMENT_OFF)
		return "off";
	/* No backend: plans are computed and published, nothing is enforced. */
	return "plan-only";
}

/* --- pods into the engine ------------------------------------------------ */

struct agent_collect {
	struct agent *agent;
	int error;
};

static void
agent_collect_one(void *object, const struct kube_meta *meta, void *arg)
{
	struct agent_collect *collect = arg;
	struct agent *agent = collect->agent;
	const struct pod *pod = object;
	struct cgroup_pod *found = NULL, **founds;
	struct planner_pod *pods;

	(void)meta;
	/* Finished pods hold no CPU. */
	if (pod->phase == POD_PHASE_SUCCEEDED || pod->phase == POD_PHASE_FAILED)
		return;
	if (agent->planner_count == agent->planner_capacity) {
		size_t capacity = agent->planner_capacity ? agent->planner_capacity * 2 : 64;

		pods = realloc(agent->planner_pods, capacity * sizeof *pods);
		if (pods == NULL) {
			collect->error = -ENOMEM;
			return;
		}
		agent->planner_pods = pods;
		founds = realloc(agent->found, capacity * sizeof *founds);
		if (founds == NULL) {
			collect->error = -ENOMEM;
			return;
		}
		agent->found = founds;
		agent->planner_capacity = capacity;
	}
	/* A pod whose cgroup is not there yet is planned without one: the
	 * planner notes it, and the next rescan picks it up. */
	if (agent->discovery != NULL)
		found = cgroup_discovery_find(agent->discovery, pod, NULL);
	agent->found[agent->planner_count] = found;
	agent->planner_pods[agent->planner_count++] = (struct planner_pod){
		.pod = pod,
		.cgroup = found != NULL ? found->relative : NULL,
		.profile = agent->profiles != NULL ?
		    profiles_select(agent->profiles, pod) : NULL,
	};
}

static void
agent_forget_cgroups(struct agent *agent)
{
	for (size_t i = 0; i < agent->planner_count; i++)
		cgroup_pod_free(agent->found[i]);
	agent->planner_count = 0;
}

static size_t
agent_collect(void *arg, struct planner_pod **pods)
{
	struct agent *agent = arg;
	struct agent_collect collect = { agent, 0 };
	char *cause = NULL;

	agent_forget_cgroups(agent);
	if (agent->discovery != NULL && cgroup_discovery_rescan(agent->discovery, &cause) != 0) {
		if (agent->discovery_error == NULL || cause == NULL ||
		    strcmp(agent->discovery_error, cause) != 0)
			log_warn("agent: scanning pod cgroups failed: %s; planning without them",
			    cause ? cause : "unknown error");
		free(agent->discovery_error);
		agent->discovery_error = cause;
		cause = NULL;
	} else {
		free(agent->discovery_error);
		agent->discovery_error = NULL;
	}
	free(cause);
	if (agent->reflectors_open)
		kube_store_foreach(&agent->pods.store, agent_collect_one, &collect);
	if (collect.error != 0)
		log_warn("agent: out of memory listing pods; planning the %zu collected",
		    agent->planner_count);
	*pods = agent->planner_pods;
	return agent->planner_count;
}

static void
agent_on_generation(void *arg, const struct generation *generation,
    const struct plan *plan, bool restart)
{
	struct agent *agent = arg;

	if (agent->supervisor != NULL)
		supervisor_apply(agent->supervisor, generation, plan, restart);
	agent_publish(agent);
}

/* The task-hint map follows membership without a scheduler restart. */
static void
agent_set_hints(struct agent *agent, const struct planner_pod *pods, size_t count)
{
	size_t n = 0;

	if (count > agent->hint_capacity) {
		uint64_t *ids = realloc(agent->hint_ids, count * sizeof *ids);
		enum tier *tiers;

		if (ids == NULL)
			return;
		agent->hint_ids = ids;
		if ((tiers = realloc(agent->hint_tiers, count * sizeof *tiers)) == NULL)
			return;
		agent->hint_tiers = tiers;
		agent->hint_capacity = count;
	}
	for (size_t i = 0; i < count; i++) {
		if (agent->found[i] == NULL || agent->found[i]->cgroup_id == 0)
			continue;
		agent->hint_ids[n] = agent->found[i]->cgroup_id;
		agent->hint_tiers[n++] = pods[i].tier;
	}
	supervisor_set_cgroup_tiers(agent->supervisor, agent->hint_ids, agent->hint_tiers, n);
}

static void
agent_on_planned(void *arg, const struct planner_pod *pods, size_t count,
    const struct plan *plan)
{
	struct agent *agent = arg;
	int error;

	if (agent->supervisor != NULL)
		agent_set_hints(agent, pods, count);
	if (agent->observe != NULL) {
		observe_set_plan(agent->observe, plan);
		if (observe_set_pods(agent->observe, pods, count, NULL) == -ENOSPC)
			log_warn("agent: more pod cgroups than the observer watches; the rest go unobserved");
	}
	if (agent->enforce == NULL || engine_safe_mode(agent->engine, NULL))
		return;
	error = cgroup_enforce_apply(agent->enforce, pods, count, agent->topology);
	if (error != 0 && error != agent->enforce_error)
		log_warn("agent: applying the cgroup backend to %zu pods failed: %s; "
		    "what could be written is, the rest is retried on the next pass",
		    count, strerror(-error));
	else if (error == 0 && agent->enforce_error != 0)
		log_info("agent: the cgroup backend applies again to all %zu pods", count);
	agent->enforce_error = error;
}

static void
agent_on_distribution(void *arg, const struct qos_distribution *distribution)
{
	(void)distribution;
	agent_publish(arg);
}

static void
agent_pod_event(struct agent *agent, const char *what, const struct pod *pod)
{
	char reason[320];

	snprintf(reason, sizeof reason, "pod %s %s/%s", what, pod->namespace, pod->name);
	log_debug("agent: %s", reason);
	engine_mark_dirty(agent->engine, reason);
}

static void
agent_pod_added(void *object, void *arg)
{
	agent_pod_event(arg, "added", object);
}

static void
agent_pod_updated(void *old_object, void *new_object, void *arg)
{
	(void)old_object;
	agent_pod_event(arg, "updated", new_object);
}

static void
agent_pod_deleted(void *object, void *arg)
{
	agent_pod_event(arg, "deleted", object);
}

static void
agent_pods_synced(void *arg)
{
	struct agent *agent = arg;

	if (!agent->pods_synced) {
		log_info("agent: listed %zu pods on node %s; watching",
		    agent->pods.store.count, agent->node_name);
		agent->pods_synced = true;
		/* The first plan waits for the first list: planning the empty
		 * node before it would start a scheduler only to restart it. */
		engine_plan_now(agent->engine, "pods listed");
		return;
	}
	engine_mark_dirty(agent->engine, "pods listed again");
}

/* A profile file came, changed or went: plan with what is in effect now. */
static void
agent_profiles_changed(void *arg)
{
	struct agent *agent = arg;

	engine_mark_dirty(agent->engine, "profiles changed");
}

/* Training: the absolute cgroup2 directory of pod NAMESPACE/NAME. */
static char *
agent_pod_cgroup(void *arg, const char *namespace, const char *name, char **cause)
{
	struct agent *agent = arg;
	const struct pod *pod;
	struct cgroup_pod *found;
	char *path;

	if (!agent->reflectors_open ||
	    (pod = kube_store_get_name(&agent->pods.store, namespace, name)) == NULL) {
		cause_set(cause, "no pod %s/%s on node %s", namespace, name,
		    agent->node_name ? agent->node_name : "(unknown)");
		return NULL;
	}
	if (agent->discovery == NULL ||
	    (found = cgroup_discovery_find(agent->discovery, pod, cause)) == NULL) {
		if (agent->discovery == NULL)
			cause_set(cause, "pod cgroups cannot be found on this node");
		return NULL;
	}
	path = found->path != NULL ? strdup(found->path) : NULL;
	if (path == NULL)
		cause_set(cause, "pod %s/%s has no cgroup2 directory", namespace, name);
	cgroup_pod_free(found);
	return path;
}

/* --- the node ------------------------------------------------------------- */

/* Put every value the cgroup backend wrote back as it was. */
static void
agent_stand_down(struct agent *agent, const char *why)
{
	size_t journalled = cgroup_enforce_journal_count(agent->enforce);
	int error = cgroup_enforce_restore_all(agent->enforce);

	if (error != 0)
		log_warn("agent: %s: restoring %zu cgroup values failed: %s; the journal keeps "
		    "them for the next try", why, journalled, strerror(-error));
	else if (journalled > 0)
		log_info("agent: %s: restored %zu cgroup values the backend had written",
		    why, journalled);
}

static bool
agent_annotation_true(const char *value)
{
	return value != NULL && strcmp(value, "true") == 0;
}

static void
agent_apply_safe_mode(struct agent *agent)
{
	bool on = agent->safe_mode_annotation || agent->safe_mode_api;
	const char *source = agent->safe_mode_annotation ?
	    "node annotation " AGENT_SAFE_MODE_KEY : "POST /api/v1/safe-mode";

	bool was = engine_safe_mode(agent->engine, NULL);

	engine_set_safe_mode(agent->engine, on, source);
	if (agent->supervisor != NULL && on != was)
		supervisor_safe_mode(agent->supervisor, on);
	if (agent->enforce != NULL && on && !was)
		agent_stand_down(agent, "safe mode");
	else if (agent->enforce != NULL && !on && was)
		engine_plan_now(agent->engine, "safe mode off");
	agent_publish(agent);
}

static void
agent_node_seen(struct agent *agent, const struct kube_node *node)
{
	bool requested = agent_annotation_true(node->safe_mode_requested);

	if (node->allocatable.cpu_millis > 0)
		engine_set_allocatable(agent->engine, node->allocatable.cpu_millis);
	if (requested != agent->safe_mode_annotation) {
		agent->safe_mode_annotation = requested;
		agent_apply_safe_mode(agent);
	}
}

static void
agent_node_added(void *object, void *arg)
{
	agent_node_seen(arg, object);
}

static void
agent_node_updated(void *old_object, void *new_object, void *arg)
{
	(void)old_object;
	agent_node_seen(arg, new_object);
}

static void
agent_node_deleted(void *object, void *arg)
{
	struct agent *agent = arg;

	(void)object;
	log_warn("agent: node %s was deleted from the API; keeping the last plan",
	    agent->node_name);
}

static void
agent_node_synced(void *arg)
{
	struct agent *agent = arg;

	agent->node_synced = true;
	if (agent->node.store.count == 0)
		log_warn("agent: no node named %s in the API; planning with the CPUs of this machine",
		    agent->node_name);
	agent_publish(agent);
}

/* --- publishing the node annotations --------------------------------------- */

static void
agent_patch_done(int error, int status, unsigned attempts, struct buf *body,
    void *arg)
{
	struct agent *agent = arg;

	(void)body;
	agent->patch = NULL;
	if (error == 0 && status >= 200 && status < 300) {
		metric_inc(agent->patch_ok);
		agent->patches_ok++;
	} else {
		metric_inc(agent->patch_failed);
		agent->patches_failed++;
		log_warn("agent: patching the annotations of node %s failed (%s%d after %u attempts); retrying",
		    agent->node_name, error ? "error " : "HTTP ", error ? -error : status, attempts);
		/* Forget what was sent so the next publish sends it again. */
		free(agent->published_distribution);
		agent->published_distribution = NULL;
		free(agent->published_state);
		agent->published_state = NULL;
		agent->publish_pending = true;
	}
	if (agent->publish_pending && !agent->stopping) {
		agent->publish_pending = false;
		agent_publish(agent);
	}
}

static void
agent_publish_timer(uv_timer_t *timer)
{
	agent_publish(timer->data);
}

static void
agent_publish(struct agent *agent)
{
	const struct qos_distribution *distribution;
	struct kube_patch_change changes[3];
	struct buf value = BUF_INIT, path = BUF_INIT;
	const char *state = agent_enforcement_state(agent);
	size_t count = 0;
	uint64_t now = agent_now_ms(agent);

	if (agent->stopping || !agent->client_open || !agent->node_synced ||
	    agent->node.store.count == 0)
		return;
	if (agent->patch != NULL) {
		agent->publish_pending = true;
		return;
	}
	/* Rate limit: at most one patch per publish period, the last one wins. */
	if (agent->last_publish_ms != 0 && now - agent->last_publish_ms < agent->publish_ms) {
		uv_timer_start(&agent->publish_timer, agent_publish_timer,
		    agent->publish_ms - (now - agent->last_publish_ms), 0);
		return;
	}
	distribution = engine_distribution(agent->engine);
	if (distribution != NULL && qos_distribution_render(distribution, &value) == 0 &&
	    (agent->published_distribution == NULL ||
	    strcmp(agent->published_distribution, value.data) != 0)) {
		changes[count++] = (struct kube_patch_change){ QOS_DISTRIBUTION_KEY, value.data };
		if (agent->daemon->conf.legacy_annotations)
			changes[count++] = (struct kube_patch_change){
			    QOS_DISTRIBUTION_LEGACY_KEY, value.data };
	}
	if (agent->published_state == NULL || strcmp(agent->published_state, state) != 0)
		changes[count++] = (struct kube_patch_change){ AGENT_ENFORCEMENT_STATE_KEY, state };
	if (count == 0)
		goto out;
	if (buf_puts(&path, "/api/v1/nodes/") != 0 || kube_client_escape(&path, agent->node_name) != 0)
		goto out;
	agent->patch = kube_patch_metadata(&agent->client, path.data, NULL, changes, count,
	    NULL, 0, KUBE_PATCH_MAX_ATTEMPTS, agent_patch_done, agent);
	if (agent->patch == NULL) {
		log_warn("agent: cannot start patching node %s: %s; will retry",
		    agent->node_name, strerror(errno));
		uv_timer_start(&agent->publish_timer, agent_publish_timer, agent->publish_ms, 0);
		goto out;
	}
	agent->last_publish_ms = now;
	if (value.data != NULL) {
		free(agent->published_distribution);
		agent->published_distribution = strdup(value.data);
	}
	free(agent->published_state);
	agent->published_state = strdup(state);
	log_debug("agent: publishing %zu annotations on node %s", count, agent->node_name);
out:
	buf_free(&value);
	buf_free(&path);
}

/* --- Kubernetes configuration and readiness -------------------------------- */

static const char *
agent_reflector_state(const struct kube_reflector *reflector)
{
	switch (reflector->state) {
	case KUBE_REFLECTOR_LISTING: return "listing";
	case KUBE_REFLECTOR_WATCHING: return "watching";
	case KUBE_REFLECTOR_WAITING: return "backing off after an error";
	default: return "stopped";
	}
}

static void
agent_update_readiness(struct agent *agent)
{
	struct readiness *readiness = &agent->daemon->readiness;

	if (agent->node_name == NULL) {
		readiness_set(readiness, "kubernetes", false,
		    "no node name: set --node-name or NODE_NAME");
	} else if (!agent->client_open) {
		readiness_set(readiness, "kubernetes", false,
		    "no API configuration (%s); retrying with backoff",
		    agent->config_error ? agent->config_error : "not loaded yet");
	} else if (!agent->pods_synced || agent->pods.state != KUBE_REFLECTOR_WATCHING) {
		readiness_set(readiness, "kubernetes", false,
		    "pods of node %s: %s (%lu errors so far); retrying with backoff",
		    agent->node_name, agent_reflector_state(&agent->pods),
		    agent->pods.stats.errors);
	} else {
		readiness_set(readiness, "kubernetes", true, NULL);
	}
	if (agent->topology == NULL)
		readiness_set(readiness, "topology", false, "CPU topology unreadable");
}

static void
agent_housekeeping(uv_timer_t *timer)
{
	struct agent *agent = timer->data;
	uint64_t now = agent_now_ms(agent);

	agent_update_readiness(agent);
	if (now - agent->last_rescan_ms >= AGENT_RESCAN_MS) {
		agent->last_rescan_ms = now;
		engine_mark_dirty(agent->engine, "periodic cgroup rescan");
	}
	if (agent->reflectors_open) {
		const char *pods[] = { "pods", NULL }, *node[] = { "node", NULL };

		metric_set(metrics_series(agent->watch_state, pods), agent->pods.state);
		metric_set(metrics_series(agent->watch_state, node), agent->node.state);
	}
}

static int
agent_open_client(struct agent *agent)
{
	const struct conf *conf = &agent->daemon->conf;
	static const struct kube_reflector_callbacks pod_callbacks = {
		.on_add = agent_pod_added,
		.on_update = agent_pod_updated,
		.on_delete = agent_pod_deleted,
		.on_synced = agent_pods_synced,
	};
	static const struct kube_reflector_callbacks node_callbacks = {
		.on_add = agent_node_added,
		.on_update = agent_node_updated,
		.on_delete = agent_node_deleted,
		.on_synced = agent_node_synced,
	};
	struct kube_config *config;
	struct buf pods_selector = BUF_INIT, node_selector = BUF_INIT;
	char *cause = NULL;
	int error;

	config = conf->kubeconfig != NULL ?
	    kube_config_from_kubeconfig(conf->kubeconfig, NULL, false, &cause) :
	    kube_config_in_cluster(NULL, &cause);
	if (config == NULL) {
		free(agent->config_error);
		agent->config_error = cause ? cause : strdup(strerror(errno));
		return -EINVAL;
	}
	if ((error = kube_client_init(&agent->client, agent->loop, config, 0, &cause)) != 0) {
		free(agent->config_error);
		agent->config_error = cause ? cause : strdup(strerror(-error));
		return error;
	}
	agent->client_open = true;
	free(agent->config_error);
	agent->config_error = NULL;

	buf_printf(&pods_selector, "spec.nodeName=%s", agent->node_name);
	buf_printf(&node_selector, "metadata.name=%s", agent->node_name);
	error = kube_reflector_init(&agent->pods, &agent->client, &kube_pod_kind,
	    "/api/v1/pods", pods_selector.data, 0, 0, &pod_callbacks, agent);
	if (error == 0)
		error = kube_reflector_init(&agent->node, &agent->client, &kube_node_kind,
		    "/api/v1/nodes", node_selector.data, 0, 0, &node_callbacks, agent);
	buf_free(&pods_selector);
	buf_free(&node_selector);
	if (error != 0)
		return error;
	agent->reflectors_open = true;
	if ((error = kube_reflector_start(&agent->pods)) == 0)
		error = kube_reflector_start(&agent->node);
	if (error == 0)
		log_info("agent: watching pods of node %s through %s", agent->node_name,
		    agent->client.config->server);
	return error;
}

static void
agent_config_retry(uv_timer_t *timer)
{
	struct agent *agent = timer->data;
	uint64_t delay;

	if (agent->stopping || agent->client_open)
		return;
	if (agent_open_client(agent) == 0)
		return;
	delay = backoff_next(&agent->config_backoff);
	log_warn("agent: no Kubernetes API configuration: %s; retrying in %llu ms",
	    agent->config_error ? agent->config_error : "unknown error",
	    (unsigned long long)delay);
	uv_timer_start(&agent->config_timer, agent_config_retry, delay, 0);
	agent_update_readiness(agent);
}

/* --- life cycle ------------------------------------------------------------ */

struct agent *
agent_new(struct daemon *daemon, char **cause)
{
	static const char *const reflector_label[] = { "watch", NULL };
	const struct conf *conf = &daemon->conf;
	struct engine_options options = { 0 };
	struct observe_options observe_options;
	struct engine_callbacks callbacks = {
		.collect = agent_collect,
		.generation = agent_on_generation,
		.distribution = agent_on_distribution,
		.planned = agent_on_planned,
	};
	struct agent *agent;
	char *why = NULL;

	if ((agent = calloc(1, sizeof *agent)) == NULL)
		return NULL;
	agent->daemon = daemon;
	agent->loop = &daemon->loop;
	agent->publish_ms = AGENT_PUBLISH_MS;
	if (conf->node_name != NULL && (agent->node_name = strdup(conf->node_name)) == NULL)
		goto nomem;
	agent->topology = topology_read(conf->sysfs_root, &why);
	if (agent->topology == NULL) {
		cause_set(cause, "cannot read the CPU topology: %s", why ? why : "unknown");
		free(why);
		agent_free(agent);
		return NULL;
	}
	agent->discovery = cgroup_discovery_new(&(struct cgroup_discovery_options){
	    .cgroup_root = conf->cgroup_root, .layout = CGROUP_LAYOUT_AUTO }, &why);
	if (agent->discovery == NULL) {
		/* Plans still run; pods just cannot be matched to cgroups. */
		log_warn("agent: no pod cgroups under %s: %s; planning without them",
		    conf->cgroup_root, why ? why : strerror(errno));
		free(why);
		why = NULL;
	}
	if (conf->enforcement == CONF_ENFORCEMENT_SCX || conf->enforcement == CONF_ENFORCEMENT_AUTO) {
		agent->supervisor = supervisor_new(agent->loop, daemon->metrics,
		    &(struct supervisor_options){
		    .enforcement = conf->enforcement,
		    .scheduler_bin = conf->scheduler_bin,
		    .attach_timeout_ms = conf->attach_timeout_ms,
		    .state_dir = conf->state_dir,
		    .sysfs_root = conf->sysfs_root,
		    .hint_pin_path = conf->engine.membership == ENGINE_MEMBERSHIP_HINT ?
			HINT_MAP_DEFAULT_PIN : NULL,
		}, &why);
		if (agent->supervisor == NULL) {
			/* --enforcement=scx refuses loudly when the gate fails. */
			cause_set(cause, "%s", why ? why : strerror(errno));
			free(why);
			agent_free(agent);
			return NULL;
		}
	}
	if (conf->enforcement == CONF_ENFORCEMENT_CGROUP ||
	    (conf->enforcement == CONF_ENFORCEMENT_AUTO && conf->fallback_cgroup &&
	    supervisor_state(agent->supervisor) == SUPERVISOR_OBSERVE)) {
		/* A journal left by a crash is restored here, before anything else. */
		agent->enforce = cgroup_enforce_new(conf->state_dir,
		    &(struct cgroup_enforce_options){
		    .cgroup_root = conf->cgroup_root,
		    .layout = CGROUP_LAYOUT_AUTO,
		    .exclusive_critical = conf->exclusive_critical,
		    .cpu_manager_state = conf->cpu_manager_state,
		}, &why);
		if (agent->enforce == NULL && conf->enforcement == CONF_ENFORCEMENT_CGROUP) {
			cause_set(cause, "--enforcement=cgroup: %s", why ? why : strerror(errno));
			free(why);
			agent_free(agent);
			return NULL;
		}
		if (agent->enforce == NULL) {
			log_warn("agent: the cgroup backend cannot start: %s; plans are published, "
			    "nothing is enforced", why ? why : strerror(errno));
			free(why);
			why = NULL;
		} else {
			log_info("agent: enforcing through cgroups under %s (cpu.idle for low and "
			    "background%s)", conf->cgroup_root,
			    conf->exclusive_critical ? ", exclusive cores for critical" : "");
		}
	}
	observe_options_default(&observe_options);
	observe_options.cgroup_root = conf->cgroup_root;
	observe_options.topology = agent->topology;
	agent->observe = observe_new(agent->loop, daemon->metrics, &observe_options, &why);
	if (agent->observe == NULL) {
		/* Planning and enforcement do not depend on it. */
		log_warn("agent: observation is off: %s", why ? why : strerror(errno));
		free(why);
		why = NULL;
	}
	agent->profiles = profiles_new(agent->loop, daemon->metrics, conf->profiles.dir, &why);
	if (agent->profiles == NULL) {
		log_warn("agent: workload profiles are off: %s", why ? why : strerror(errno));
		free(why);
		why = NULL;
	}
	options.topology = agent->topology;
	options.state_dir = conf->state_dir;
	options.config = &daemon->conf.engine;
	agent->engine = engine_new(agent->loop, daemon->metrics, &options, &callbacks,
	    agent, cause);
	if (agent->engine == NULL) {
		agent_free(agent);
		return NULL;
	}
	backoff_init(&agent->config_backoff, AGENT_CONFIG_RETRY_MIN_MS,
	    AGENT_CONFIG_RETRY_MAX_MS, (uint64_t)getpid() ^ uv_hrtime());
	agent->patch_ok = metrics_series(metrics_family(daemon->metrics, METRIC_COUNTER,
	    "temper_node_patches_total", "Node annotation patches, by result.",
	    (const char *const[]){ "result", NULL }, NULL, 0),
	    (const char *const[]){ "ok", NULL });
	agent->patch_failed = metrics_series(metrics_family(daemon->metrics, METRIC_COUNTER,
	    "temper_node_patches_total", "", NULL, NULL, 0),
	    (const char *const[]){ "failed", NULL });
	agent->watch_state = metrics_family(daemon->metrics, METRIC_GAUGE,
	    "temper_kube_watch_state",
	    "Reflector state: 0 stopped, 1 listing, 2 watching, 3 backing off.",
	    reflector_label, NULL, 0);
	return agent;
nomem:
	agent_free(agent);
	errno = ENOMEM;
	return NULL;
}

int
agent_start(struct agent *agent)
{
	int error;

	uv_timer_init(agent->loop, &agent->config_timer);
	uv_timer_init(agent->loop, &agent->housekeeping);
	uv_timer_init(agent->loop, &agent->publish_timer);
	agent->config_timer.data = agent->housekeeping.data = agent->publish_timer.data = agent;
	agent->timers_open = true;
	uv_timer_start(&agent->housekeeping, agent_housekeeping, AGENT_HOUSEKEEPING_MS,
	    AGENT_HOUSEKEEPING_MS);
	if ((error = agent_api_register(agent)) != 0)
		return error;
	if (agent->profiles != NULL) {
		struct profiles_train_source source = {
			.pod_cgroup = agent_pod_cgroup,
			.arg = agent,
		};

		profiles_on_change(agent->profiles, agent_profiles_changed, agent);
		if ((error = profiles_register_routes(agent->profiles,
		    http_server_router(agent->daemon->http), &source)) != 0)
			return error;
		if ((error = profiles_start(agent->profiles)) != 0)
			log_warn("agent: profiles did not start: %s; builtins only",
			    uv_strerror(error));
	}
	if (agent->observe != NULL) {
		if ((error = observe_register_routes(agent->observe,
		    http_server_router(agent->daemon->http))) != 0)
			return error;
		if ((error = observe_start(agent->observe)) != 0)
			log_warn("agent: observation did not start: %s; running without it",
			    uv_strerror(error));
	}
	log_info("agent: node %s, %s", agent->node_name ? agent->node_name : "(unknown)",
	    "CPU topology read");
	if (agent->node_name == NULL) {
		log_warn("agent: no node name (--node-name or NODE_NAME); serving without a Kubernetes watch");
		/* No pods will come: plan the node as it is, system layers only. */
		engine_plan_now(agent->engine, "agent started without a node name");
	} else if (agent_open_client(agent) != 0) {
		engine_plan_now(agent->engine, "agent started without the API");
		log_warn("agent: no Kubernetes API configuration: %s; retrying with backoff",
		    agent->config_error ? agent->config_error : "unknown error");
		uv_timer_start(&agent->config_timer, agent_config_retry,
		    backoff_next(&agent->config_backoff), 0);
	}
	agent_update_readiness(agent);
	return 0;
}

void
agent_set_api_safe_mode(struct agent *agent, bool on)
{
	agent->safe_mode_api = on;
	agent_apply_safe_mode(agent);
}

void
agent_conf_changed(struct agent *agent)
{
	engine_set_config(agent->engine, &agent->daemon->conf.engine);
	agent_api_load_token(agent);
	if (agent->profiles != NULL && profiles_rescan(agent->profiles))
		engine_mark_dirty(agent->engine, "profiles re-read");
}

void
agent_replan(struct agent *agent, const char *reason)
{
	if (agent->supervisor != NULL)
		supervisor_recheck(agent->supervisor);
	engine_plan_now(agent->engine, reason);
}

/* Shutdown: each part reports back here; the last one calls done. */
static void
agent_part_closed(struct agent *agent)
{
	if (--agent->open_handles > 0)
		return;
	if (agent->done != NULL)
		agent->done(agent->done_arg);
}

static void
agent_handle_closed(uv_handle_t *handle)
{
	agent_part_closed(handle->data);
}

static void
agent_part_stopped(void *arg)
{
	agent_part_closed(arg);
}

static void
agent_client_closed(struct kube_client *client)
{
	struct agent *agent = (struct agent *)((char *)client - offsetof(struct agent, client));

	agent->client_open = false;
	agent_part_closed(agent);
}

static void
agent_reflector_stopped(struct kube_reflector *reflector)
{
	struct agent *agent = reflector->arg;

	/* The client goes once neither reflector uses it. */
	if (++agent->reflectors_stopped == 2) {
		agent->reflectors_open = false;
		kube_client_close(&agent->client, agent_client_closed);
	}
	agent_part_closed(agent);
}

void
agent_stop(struct agent *agent, void (*done)(void *arg), void *arg)
{
	agent->stopping = true;
	agent->done = done;
	agent->done_arg = arg;
	/* Held while the parts are told, so that none finishes the stop early. */
	agent->open_handles = 1;
	if (agent->enforce != NULL)
		agent_stand_down(agent, "shutdown");
	if (agent->patch != NULL) {
		kube_patch_cancel(agent->patch);
		agent->patch = NULL;
	}
	if (agent->timers_open) {
		agent->open_handles += 3;
		uv_close((uv_handle_t *)&agent->config_timer, agent_handle_closed);
		uv_close((uv_handle_t *)&agent->housekeeping, agent_handle_closed);
		uv_close((uv_handle_t *)&agent->publish_timer, agent_handle_closed);
	}
	agent->open_handles++;
	engine_stop(agent->engine, agent_part_stopped, agent);
	if (agent->observe != NULL) {
		agent->open_handles++;
		observe_stop(agent->observe, agent_part_stopped, agent);
	}
	if (agent->supervisor != NULL) {
		/* SIGTERM to scx_layered: the node returns to the stock scheduler. */
		agent->open_handles++;
		supervisor_stop(agent->supervisor, agent_part_stopped, agent);
	}
	if (agent->profiles != NULL) {
		agent->open_handles++;
		profiles_stop(agent->profiles, agent_part_stopped, agent);
	}
	if (agent->reflectors_open) {
		agent->open_handles += 3;	/* two reflectors, then the client */
		kube_reflector_stop(&agent->pods, agent_reflector_stopped);
		kube_reflector_stop(&agent->node, agent_reflector_stopped);
	} else if (agent->client_open) {
		agent->open_handles++;
		kube_client_close(&agent->client, agent_client_closed);
	}
	agent_part_closed(agent);
}

void
agent_free(struct agent *agent)
{
	if (agent == NULL)
		return;
	engine_free(agent->engine);
	supervisor_free(agent->supervisor);
	free(agent->hint_ids);
	free(agent->hint_tiers);
	observe_free(agent->observe);
	profiles_free(agent->profiles);
	cgroup_enforce_free(agent->enforce);
	topology_free(agent->topology);
	agent_forget_cgroups(agent);
	cgroup_discovery_free(agent->discovery);
	free(agent->discovery_error);
	free(agent->found);
	free(agent->planner_pods);
	free(agent->node_name);
	free(agent->config_error);
	free(agent->published_distribution);
	free(agent->published_state);
	free(agent->api_token);
	free(agent->api_routes);
	free(agent);
}
