/* controller.c - the controller role: TemperPolicy into node safe mode. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "buf.h"
#include "cluster-config.h"
#include "controller-policy.h"
#include "controller.h"
#include "kube-client.h"
#include "kube-patch.h"
#include "kube-reflector.h"
#include "log.h"
#include "metrics.h"
#include "readiness.h"

#define CONTROLLER_RETRY_MIN_MS 1000
#define CONTROLLER_RETRY_MAX_MS 60000
/* Events come in bursts (a rollout labels many nodes): settle first. */
#define CONTROLLER_DEBOUNCE_MS 50
/* After our own writes, give the watch time to bring them back. */
#define CONTROLLER_AFTER_WRITE_MS 300

struct controller_op;

struct controller {
	uv_loop_t *loop;
	struct controller_options options;

	struct kube_client client;
	bool client_open;
	struct kube_reflector nodes;
	struct kube_reflector policies;
	bool reflectors_open;
	unsigned reflectors_stopped;
	bool nodes_synced;
	bool policies_synced;
	char *config_error;
	struct backoff backoff;

	uv_timer_t retry_timer;
	uv_timer_t pass_timer;
	uv_timer_t resync_timer;
	bool timers_open;

	struct controller_op *ops;	/* writes in flight */
	unsigned inflight;
	bool wrote;			/* the last pass wrote something */
	bool pass_pending;

	unsigned open_parts;
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;

	struct metric_series *node_set;
	struct metric_series *node_cleared;
	struct metric_series *node_foreign;
	struct metric_series *writes_failed;
	struct metric_series *status_writes;
	struct metric_series *passes;
	struct metric_series *policies_gauge;
};

struct controller_op {
	struct controller *controller;
	struct controller_op *next;
	struct kube_patch *patch;
	struct kube_client_call *call;
	char what[320];
};

static void controller_schedule(struct controller *controller, uint64_t delay);

/* --- writes ---------------------------------------------------------------- */

static void
controller_op_unlink(struct controller_op *op)
{
	struct controller *controller = op->controller;
	struct controller_op **at;

	for (at = &controller->ops; *at != NULL; at = &(*at)->next) {
		if (*at == op) {
			*at = op->next;
			break;
		}
	}
	controller->inflight--;
}

static void
controller_op_finished(struct controller_op *op, int error, int status)
{
	struct controller *controller = op->controller;

	controller_op_unlink(op);
	if (error != 0 || status < 200 || status >= 300) {
		metric_inc(controller->writes_failed);
		log_warn("controller: %s failed (%s %d); the next pass retries", op->what,
		    error ? "error" : "HTTP", error ? -error : status);
	} else {
		log_debug("controller: %s done", op->what);
	}
	free(op);
	if (controller->inflight == 0 && !controller->stopping)
		controller_schedule(controller, CONTROLLER_AFTER_WRITE_MS);
}

static void
controller_patch_done(int error, int status, unsigned attempts, struct buf *body,
    void *arg)
{
	(void)attempts;
	(void)body;
	controller_op_finished(arg, error, status);
}

static void
controller_call_done(int error, int status, struct buf *body, void *arg)
{
	(void)body;
	controller_op_finished(arg, error, status);
}

static struct controller_op *
controller_op_new(struct controller *controller)
{
	struct controller_op *op = calloc(1, sizeof *op);

	if (op == NULL)
		return NULL;
	op->controller = controller;
	op->next = controller->ops;
	controller->ops = op;
	controller->inflight++;
	controller->wrote = true;
	return op;
}

static void
controller_patch_node(struct controller *controller,
    const struct controller_node *node, enum controller_node_action action,
    const char *owners)
{
	struct kube_patch_change changes[2] = {
		{ CONTROLLER_SAFE_MODE_KEY, action == CONTROLLER_NODE_SET ? "true" : NULL },
		{ CONTROLLER_OWNER_KEY, action == CONTROLLER_NODE_SET ? owners : NULL },
	};
	struct buf path = BUF_INIT;
	struct controller_op *op;

	if (buf_puts(&path, "/api/v1/nodes/") != 0 || kube_client_escape(&path, node->name) != 0 ||
	    (op = controller_op_new(controller)) == NULL) {
		log_warn("controller: out of memory patching node %s; the next pass retries",
		    node->name);
		buf_free(&path);
		return;
	}
	snprintf(op->what, sizeof op->what, "%s safe mode on node %s%s%s",
	    action == CONTROLLER_NODE_SET ? "requesting" : "clearing", node->name,
	    action == CONTROLLER_NODE_SET ? " for policy " : "",
	    action == CONTROLLER_NODE_SET ? owners : "");
	op->patch = kube_patch_metadata(&controller->client, path.data,
	    node->resource_version, changes, 2, NULL, 0, KUBE_PATCH_MAX_ATTEMPTS,
	    controller_patch_done, op);
	buf_free(&path);
	if (op->patch == NULL) {
		controller_op_unlink(op);
		log_warn("controller: cannot start %s: %s", op->what, strerror(errno));
		free(op);
		return;
	}
	if (action == CONTROLLER_NODE_SET) {
		metric_inc(controller->node_set);
		log_info("controller: node %s: requesting safe mode (%s=true) for "
		    "TemperPolicy %s", node->name, CONTROLLER_SAFE_MODE_KEY, owners);
	} else {
		metric_inc(controller->node_cleared);
		log_info("controller: node %s: no policy wants safe mode any more; "
		    "removing %s and %s (set by %s)", node->name, CONTROLLER_SAFE_MODE_KEY,
		    CONTROLLER_OWNER_KEY, node->owner ? node->owner : "?");
	}
}

static void
controller_now(char *out, size_t size)
{
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
controller_patch_status(struct controller *controller,
    const struct controller_policy *policy, const struct controller_status *status)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	struct controller_op *op;
	char now[32];

	controller_now(now, sizeof now);
	if (buf_printf(&path, "%s/", CONTROLLER_POLICY_PATH) != 0 ||
	    kube_client_escape(&path, policy->name) != 0 || buf_puts(&path, "/status") != 0 ||
	    controller_status_patch(policy, status, now, &body) != 0 ||
	    (op = controller_op_new(controller)) == NULL) {
		log_warn("controller: out of memory writing the status of %s", policy->name);
		goto out;
	}
	snprintf(op->what, sizeof op->what, "status of TemperPolicy %s", policy->name);
	op->call = kube_client_call(&controller->client, "PATCH", path.data,
	    "application/merge-patch+json", body.data, body.len, KUBE_CLIENT_TIMEOUT_MS,
	    controller_call_done, op);
	if (op->call == NULL) {
		controller_op_unlink(op);
		log_warn("controller: cannot write the %s: %s", op->what, strerror(errno));
		free(op);
		goto out;
	}
	metric_inc(controller->status_writes);
	log_info("controller: TemperPolicy %s: Applied=%s (%s): %s", policy->name,
	    status->condition, status->reason, status->message);
out:
	buf_free(&path);
	buf_free(&body);
}

/* --- the pass -------------------------------------------------------------- */

struct controller_pass {
	struct controller *controller;
	struct controller_policy **policies;
	size_t count;
	int64_t *matched;
	int64_t *applied;
	struct buf owners;
	int error;
};

static void
controller_collect_policy(void *object, const struct kube_meta *meta, void *arg)
{
	struct controller_pass *pass = arg;

	(void)meta;
	pass->policies[pass->count++] = object;
}

static void
controller_visit_node(void *object, const struct kube_meta *meta, void *arg)
{
	struct controller_pass *pass = arg;
	const struct controller_node *node = object;
	enum controller_node_action action;
	bool on;

	(void)meta;
	if (controller_owners(pass->policies, pass->count, node, &pass->owners) != 0) {
		pass->error = -ENOMEM;
		return;
	}
	action = controller_node_plan(node, pass->owners.data);
	on = node->safe_mode != NULL && strcmp(node->safe_mode, "true") == 0;
	for (size_t i = 0; i < pass->count; i++) {
		if (!controller_policy_selects(pass->policies[i], node))
			continue;
		pass->matched[i]++;
		if (on)
			pass->applied[i]++;
	}
	if (action == CONTROLLER_NODE_SET || action == CONTROLLER_NODE_CLEAR) {
		controller_patch_node(pass->controller, node, action, pass->owners.data);
	} else if (action == CONTROLLER_NODE_FOREIGN) {
		metric_inc(pass->controller->node_foreign);
		log_debug("controller: node %s: safe mode already requested by someone "
		    "else; policies %s leave it as it is", node->name, pass->owners.data);
	}
}

static void
controller_pass(struct controller *controller)
{
	struct controller_pass pass = { .controller = controller, .owners = BUF_INIT };
	size_t count = controller->policies.store.count;
	struct controller_status status;

	if (controller->stopping || !controller->nodes_synced || !controller->policies_synced)
		return;
	if (controller->inflight > 0) {
		controller->pass_pending = true;
		return;
	}
	controller->pass_pending = false;
	controller->wrote = false;
	metric_inc(controller->passes);
	metric_set(controller->policies_gauge, (double)count);
	if (count > 0 && ((pass.policies = calloc(count, sizeof *pass.policies)) == NULL ||
	    (pass.matched = calloc(count, sizeof *pass.matched)) == NULL ||
	    (pass.applied = calloc(count, sizeof *pass.applied)) == NULL)) {
		log_warn("controller: out of memory; retrying the pass");
		controller_schedule(controller, CONTROLLER_AFTER_WRITE_MS);
		goto out;
	}
	kube_store_foreach(&controller->policies.store, controller_collect_policy, &pass);
	kube_store_foreach(&controller->nodes.store, controller_visit_node, &pass);
	for (size_t i = 0; i < pass.count; i++) {
		controller_status_compute(pass.policies[i], pass.matched[i], pass.applied[i],
		    &status);
		if (controller_status_changed(pass.policies[i], &status))
			controller_patch_status(controller, pass.policies[i], &status);
	}
	if (pass.error != 0)
		controller_schedule(controller, CONTROLLER_AFTER_WRITE_MS);
out:
	free(pass.policies);
	free(pass.matched);
	free(pass.applied);
	buf_free(&pass.owners);
}

static void
controller_pass_timer(uv_timer_t *timer)
{
	controller_pass(timer->data);
}

static void
controller_schedule(struct controller *controller, uint64_t delay)
{
	if (!controller->timers_open || controller->stopping)
		return;
	/* An earlier deadline already set is kept. */
	if (uv_is_active((uv_handle_t *)&controller->pass_timer) &&
	    uv_timer_get_due_in(&controller->pass_timer) <= delay)
		return;
	uv_timer_start(&controller->pass_timer, controller_pass_timer, delay, 0);
}

static void
controller_resync(uv_timer_t *timer)
{
	controller_schedule(timer->data, 0);
}

/* --- watches --------------------------------------------------------------- */

static void
controller_changed(void *object, void *arg)
{
	(void)object;
	controller_schedule(arg, CONTROLLER_DEBOUNCE_MS);
}

static void
controller_updated(void *old_object, void *new_object, void *arg)
{
	(void)old_object;
	controller_changed(new_object, arg);
}

static void
controller_policy_deleted(void *object, void *arg)
{
	const struct controller_policy *policy = object;

	log_info("controller: TemperPolicy %s deleted; clearing the safe mode it requested",
	    policy->name);
	controller_schedule(arg, CONTROLLER_DEBOUNCE_MS);
}

static void
controller_update_readiness(struct controller *controller)
{
	struct readiness *readiness = controller->options.readiness;

	if (readiness == NULL)
		return;
	if (!controller->client_open)
		readiness_set(readiness, "controller", false, "no Kubernetes API configuration "
		    "(%s); retrying with backoff",
		    controller->config_error ? controller->config_error : "not loaded yet");
	else if (!controller->policies_synced)
		readiness_set(readiness, "controller", false, "listing %s: %lu errors so far "
		    "(is deploy/crd/temperpolicy.yaml applied?); retrying with backoff",
		    CONTROLLER_POLICY_PATH, controller->policies.stats.errors);
	else if (!controller->nodes_synced)
		readiness_set(readiness, "controller", false, "listing nodes: %lu errors so far",
		    controller->nodes.stats.errors);
	else
		readiness_set(readiness, "controller", true, NULL);
}

static void
controller_nodes_synced(void *arg)
{
	struct controller *controller = arg;

	controller->nodes_synced = true;
	controller_update_readiness(controller);
	controller_schedule(controller, 0);
}

static void
controller_policies_synced(void *arg)
{
	struct controller *controller = arg;

	if (!controller->policies_synced)
		log_info("controller: listed %zu TemperPolicies; watching",
		    controller->policies.store.count);
	controller->policies_synced = true;
	controller_update_readiness(controller);
	controller_schedule(controller, 0);
}

static int
controller_open_client(struct controller *controller)
{
	static const struct kube_reflector_callbacks node_callbacks = {
		.on_add = controller_changed,
		.on_update = controller_updated,
		.on_delete = controller_changed,
		.on_synced = controller_nodes_synced,
	};
	static const struct kube_reflector_callbacks policy_callbacks = {
		.on_add = controller_changed,
		.on_update = controller_updated,
		.on_delete = controller_policy_deleted,
		.on_synced = controller_policies_synced,
	};
	struct kube_config *config;
	char *cause = NULL;
	int error;

	config = controller->options.kubeconfig != NULL ?
	    kube_config_from_kubeconfig(controller->options.kubeconfig, NULL, false, &cause) :
	    kube_config_in_cluster(NULL, &cause);
	if (config == NULL) {
		free(controller->config_error);
		controller->config_error = cause ? cause : strdup(strerror(errno));
		return -EINVAL;
	}
	if ((error = kube_client_init(&controller->client, controller->loop, config, 0,
	    &cause)) != 0) {
		free(controller->config_error);
		controller->config_error = cause ? cause : strdup(strerror(-error));
		return error;
	}
	controller->client_open = true;
	free(controller->config_error);
	controller->config_error = NULL;
	error = kube_reflector_init(&controller->nodes, &controller->client,
	    &controller_node_kind, "/api/v1/nodes", NULL, 0, 0, &node_callbacks, controller);
	if (error == 0)
		error = kube_reflector_init(&controller->policies, &controller->client,
		    &controller_policy_kind, CONTROLLER_POLICY_PATH, NULL, 0, 0,
		    &policy_callbacks, controller);
	if (error != 0)
		return error;
	controller->reflectors_open = true;
	if ((error = kube_reflector_start(&controller->nodes)) == 0)
		error = kube_reflector_start(&controller->policies);
	if (error == 0)
		log_info("controller: watching nodes and TemperPolicies through %s",
		    controller->client.config->server);
	return error;
}

static void
controller_retry(uv_timer_t *timer)
{
	struct controller *controller = timer->data;
	uint64_t delay;

	controller_update_readiness(controller);
	if (controller->stopping || controller->client_open) {
		/* Housekeeping once connected: readiness follows the reflectors. */
		if (!controller->stopping)
			uv_timer_start(&controller->retry_timer, controller_retry, 1000, 0);
		return;
	}
	if (controller_open_client(controller) == 0) {
		uv_timer_start(&controller->retry_timer, controller_retry, 1000, 0);
		return;
	}
	delay = backoff_next(&controller->backoff);
	log_warn("controller: no Kubernetes API configuration: %s; retrying in %" PRIu64 " ms",
	    controller->config_error ? controller->config_error : "unknown error", delay);
	uv_timer_start(&controller->retry_timer, controller_retry, delay, 0);
}

/* --- life cycle ------------------------------------------------------------ */

struct controller *
controller_new(uv_loop_t *loop, struct metrics *metrics,
    const struct controller_options *options, char **cause)
{
	static const char *const action[] = { "action", NULL };
	struct metric_family *nodes;
	struct controller *controller;

	(void)cause;
	if ((controller = calloc(1, sizeof *controller)) == NULL)
		return NULL;
	controller->loop = loop;
	controller->options = *options;
	backoff_init(&controller->backoff, CONTROLLER_RETRY_MIN_MS, CONTROLLER_RETRY_MAX_MS,
	    (uint64_t)getpid() ^ uv_hrtime());
	nodes = metrics_family(metrics, METRIC_COUNTER, "temper_controller_node_actions_total",
	    "Node safe-mode changes the controller made or declined, by action.",
	    action, NULL, 0);
	controller->node_set = metrics_series(nodes, (const char *const[]){ "set", NULL });
	controller->node_cleared = metrics_series(nodes, (const char *const[]){ "clear", NULL });
	controller->node_foreign = metrics_series(nodes, (const char *const[]){ "foreign", NULL });
	controller->writes_failed = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_controller_write_failures_total", "Node or status writes that failed.",
	    NULL, NULL, 0));
	controller->status_writes = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_controller_status_writes_total", "TemperPolicy status updates.",
	    NULL, NULL, 0));
	controller->passes = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_controller_passes_total", "Reconcile passes.", NULL, NULL, 0));
	controller->policies_gauge = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_controller_policies", "TemperPolicies known.", NULL, NULL, 0));
	return controller;
}

int
controller_start(struct controller *controller)
{
	uint64_t resync = (uint64_t)controller->options.cluster->controller_resync_seconds * 1000;

	uv_timer_init(controller->loop, &controller->retry_timer);
	uv_timer_init(controller->loop, &controller->pass_timer);
	uv_timer_init(controller->loop, &controller->resync_timer);
	controller->retry_timer.data = controller->pass_timer.data =
	    controller->resync_timer.data = controller;
	controller->timers_open = true;
	uv_timer_start(&controller->resync_timer, controller_resync, resync, resync);
	if (controller_open_client(controller) != 0) {
		log_warn("controller: no Kubernetes API configuration: %s; retrying with backoff",
		    controller->config_error ? controller->config_error : "unknown error");
		uv_timer_start(&controller->retry_timer, controller_retry,
		    backoff_next(&controller->backoff), 0);
	} else {
		uv_timer_start(&controller->retry_timer, controller_retry, 1000, 0);
	}
	controller_update_readiness(controller);
	return 0;
}

static void
controller_part_closed(struct controller *controller)
{
	if (--controller->open_parts > 0)
		return;
	if (controller->done != NULL)
		controller->done(controller->done_arg);
}

static void
controller_handle_closed(uv_handle_t *handle)
{
	controller_part_closed(handle->data);
}

static void
controller_client_closed(struct kube_client *client)
{
	struct controller *controller = (struct controller *)((char *)client -
	    offsetof(struct controller, client));

	controller->client_open = false;
	controller_part_closed(controller);
}

static void
controller_reflector_stopped(struct kube_reflector *reflector)
{
	struct controller *controller = reflector->arg;

	if (++controller->reflectors_stopped == 2) {
		controller->reflectors_open = false;
		kube_client_close(&controller->client, controller_client_closed);
	}
}

void
controller_stop(struct controller *controller, void (*done)(void *arg), void *arg)
{
	struct controller_op *op, *next;

	controller->stopping = true;
	controller->done = done;
	controller->done_arg = arg;
	controller->open_parts = 1;
	for (op = controller->ops; op != NULL; op = next) {
		next = op->next;
		if (op->patch != NULL)
			kube_patch_cancel(op->patch);
		if (op->call != NULL)
			kube_client_call_cancel(op->call);
		free(op);
	}
	controller->ops = NULL;
	controller->inflight = 0;
	if (controller->timers_open) {
		controller->open_parts += 3;
		uv_close((uv_handle_t *)&controller->retry_timer, controller_handle_closed);
		uv_close((uv_handle_t *)&controller->pass_timer, controller_handle_closed);
		uv_close((uv_handle_t *)&controller->resync_timer, controller_handle_closed);
		controller->timers_open = false;
	}
	if (controller->reflectors_open) {
		controller->open_parts++;	/* the client, after both reflectors */
		kube_reflector_stop(&controller->nodes, controller_reflector_stopped);
		kube_reflector_stop(&controller->policies, controller_reflector_stopped);
	} else if (controller->client_open) {
		controller->open_parts++;
		kube_client_close(&controller->client, controller_client_closed);
	}
	controller_part_closed(controller);
}

void
controller_free(struct controller *controller)
{
	if (controller == NULL)
		return;
	free(controller->config_error);
	free(controller);
}
