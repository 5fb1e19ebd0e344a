/*
 * agent-api.c - the agent's /api/v1: status, pods, configurations and
 * their history, reload and safe mode.  Answers are JSON; errors are
 * {"error":"..."} with a 4xx or 5xx status.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cgroup-enforce.h"
#include "daemon.h"
#include "engine.h"
#include "http-server.h"
#include "kube-config.h"
#include "log.h"
#include "openapi.h"
#include "planner.h"
#include "pod.h"
#include "readiness.h"
#include "supervisor.h"
#include "tier.h"
#include "topology.h"

/* A generation number from a query parameter; 0 when absent or invalid. */
static uint64_t
agent_api_generation_param(const struct http_request *request, const char *name,
    bool *present)
{
	char text[32], *end;
	unsigned long long value;

	*present = http_request_query_param(request, name, text, sizeof text) == 0;
	if (!*present || text[0] < '0' || text[0] > '9')
		return 0;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return value;
}

/* The supervisor's scheduler is (or is being) put in charge. */
static bool
agent_scheduler_runs(const struct agent *agent)
{
	enum supervisor_state state;

	if (agent->supervisor == NULL)
		return false;
	state = supervisor_state(agent->supervisor);
	return state != SUPERVISOR_OFF && state != SUPERVISOR_OBSERVE &&
	    state != SUPERVISOR_STOOD_DOWN;
}

static void
agent_api_status(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct generations *generations = engine_generations(agent->engine);
	const struct plan *plan = engine_plan(agent->engine);
	const char *source = NULL, *error = engine_last_error(agent->engine);
	bool safe_mode = engine_safe_mode(agent->engine, &source);
	cJSON *json = cJSON_CreateObject(), *kube, *enforcement, *safe, *planning;
	char *shape = topology_describe(agent->topology);
	size_t pod_count;

	engine_pods(agent->engine, &pod_count);
	cJSON_AddStringToObject(json, "node", agent->node_name ? agent->node_name : "");
	cJSON_AddStringToObject(json, "version", PACKAGE_VERSION);
	cJSON_AddStringToObject(json, "roles", agent->daemon->roles);
	cJSON_AddBoolToObject(json, "ready", readiness_ready(&agent->daemon->readiness));
	cJSON_AddStringToObject(json, "topology", shape ? shape : "");

	kube = cJSON_AddObjectToObject(json, "kubernetes");
	cJSON_AddBoolToObject(kube, "configured", agent->client_open);
	if (agent->config_error != NULL)
		cJSON_AddStringToObject(kube, "error", agent->config_error);
	cJSON_AddBoolToObject(kube, "pods_synced", agent->pods_synced);
	cJSON_AddBoolToObject(kube, "node_synced", agent->node_synced);
	if (agent->reflectors_open) {
		cJSON_AddNumberToObject(kube, "watch_errors", (double)agent->pods.stats.errors);
		cJSON_AddNumberToObject(kube, "relists_after_410",
		    (double)agent->pods.stats.relists_expired);
	}
	cJSON_AddNumberToObject(kube, "annotation_patches", (double)agent->patches_ok);
	cJSON_AddNumberToObject(kube, "annotation_patch_failures", (double)agent->patches_failed);

	enforcement = cJSON_AddObjectToObject(json, "enforcement");
	cJSON_AddStringToObject(enforcement, "mode",
	    conf_enforcement_name(agent->daemon->conf.enforcement));
	cJSON_AddStringToObject(enforcement, "state", agent_enforcement_state(agent));
	cJSON_AddStringToObject(enforcement, "reason", safe_mode ?
	    "safe mode stands enforcement down" : agent_scheduler_runs(agent) ?
	    "scx_layered enforces the plan (sched_ext; scheduler_reason says how it stands)" : agent->enforce != NULL ?
	    "the cgroup backend: cpu.idle for low and background pods" :
	    "no enforcement backend runs: plans are computed and published only");
	if (agent->enforce != NULL)
		cJSON_AddItemToObject(enforcement, "cgroup", cgroup_enforce_status_json(agent->enforce));
	if (agent->supervisor != NULL) {
		cJSON_AddStringToObject(enforcement, "scheduler_reason",
		    supervisor_reason(agent->supervisor));
		cJSON_AddItemToObject(enforcement, "scheduler",
		    supervisor_status_json(agent->supervisor));
	}

	safe = cJSON_AddObjectToObject(json, "safe_mode");
	cJSON_AddBoolToObject(safe, "active", safe_mode);
	cJSON_AddBoolToObject(safe, "annotation", agent->safe_mode_annotation);
	cJSON_AddBoolToObject(safe, "api", agent->safe_mode_api);
	if (source != NULL)
		cJSON_AddStringToObject(safe, "source", source);

	planning = cJSON_AddObjectToObject(json, "plan");
	cJSON_AddNumberToObject(planning, "generation", (double)generations->last_number);
	cJSON_AddNumberToObject(planning, "passes", (double)engine_passes(agent->engine));
	cJSON_AddNumberToObject(planning, "pods", (double)pod_count);
	if (plan != NULL) {
		cJSON *layers = cJSON_AddArrayToObject(planning, "layers");
		cJSON *notes = cJSON_AddArrayToObject(planning, "notes");

		for (size_t i = 0; i < plan->layer_count; i++)
			cJSON_AddItemToArray(layers, cJSON_CreateString(plan->layers[i].name));
		cJSON *details = cJSON_AddArrayToObject(planning, "note_details");

		for (size_t i = 0; i < plan->note_count; i++) {
			const struct plan_note *note = &plan->notes[i];
			cJSON *detail = cJSON_CreateObject();

			cJSON_AddItemToArray(notes, cJSON_CreateString(note->text));
			cJSON_AddStringToObject(detail, "level",
			    note->level == PLAN_NOTE_WARNING ? "warning" : "info");
			if (note->pod_uid != NULL)
				cJSON_AddStringToObject(detail, "pod_uid", note->pod_uid);
			else
				cJSON_AddNullToObject(detail, "pod_uid");
			cJSON_AddStringToObject(detail, "text", note->text);
			cJSON_AddItemToArray(details, detail);
		}
		cJSON_AddStringToObject(planning, "membership",
		    engine_membership_name(plan->membership));
		cJSON_AddNumberToObject(planning, "cpu_count", plan->cpu_count);
		cJSON_AddNumberToObject(planning, "allocatable_millis", (double)plan->allocatable_millis);
		cJSON_AddNumberToObject(planning, "system_cpus", plan->system_cpus);
		cJSON_AddNumberToObject(planning, "reserve_cpus", plan->reserve_cpus);
		cJSON_AddNumberToObject(planning, "fenceable_cpus", plan->fenceable_cpus);
	}
	if (error != NULL)
		cJSON_AddStringToObject(planning, "error", error);
	free(shape);
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
agent_api_pods(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct engine_pod *pods;
	cJSON *json = cJSON_CreateArray();
	size_t count;

	pods = engine_pods(agent->engine, &count);
	for (size_t i = 0; i < count; i++) {
		cJSON *pod = cJSON_CreateObject();

		cJSON_AddStringToObject(pod, "uid", pods[i].uid);
		cJSON_AddStringToObject(pod, "namespace", pods[i].namespace);
		cJSON_AddStringToObject(pod, "name", pods[i].name);
		cJSON_AddStringToObject(pod, "tier", tier_name(pods[i].tier));
		cJSON_AddStringToObject(pod, "why", pods[i].why ? pods[i].why : "");
		if (pods[i].cgroup != NULL)
			cJSON_AddStringToObject(pod, "cgroup", pods[i].cgroup);
		else
			cJSON_AddNullToObject(pod, "cgroup");
		if (pods[i].layer != NULL)
			cJSON_AddStringToObject(pod, "layer", pods[i].layer);
		else
			cJSON_AddNullToObject(pod, "layer");
		cJSON_AddNumberToObject(pod, "cpu_request_millis", (double)pods[i].cpu_request_millis);
		cJSON_AddNumberToObject(pod, "cpu_limit_millis", (double)pods[i].cpu_limit_millis);
		if (pods[i].has_priority)
			cJSON_AddNumberToObject(pod, "priority", pods[i].priority);
		else
			cJSON_AddNullToObject(pod, "priority");
		if (pods[i].priority_class != NULL)
			cJSON_AddStringToObject(pod, "priority_class", pods[i].priority_class);
		else
			cJSON_AddNullToObject(pod, "priority_class");
		cJSON_AddStringToObject(pod, "qos_class", pod_qos_name(pods[i].qos_class));
		if (pods[i].profile != NULL)
			cJSON_AddStringToObject(pod, "profile", pods[i].profile);
		else
			cJSON_AddNullToObject(pod, "profile");
		cJSON_AddItemToArray(json, pod);
	}
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
agent_api_config(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct generations *generations = engine_generations(agent->engine);
	const struct generation *generation;
	bool present;
	uint64_t number = agent_api_generation_param(request, "generation", &present);
	char header[32];

	if (present && number == 0) {
		http_respond_error(request, 400, "generation must be a positive integer");
		return;
	}
	generation = present ? generations_find(generations, number) :
	    generations_latest(generations);
	if (generation == NULL) {
		if (present)
			http_respond_error(request, 404, "no generation %" PRIu64
			    " (kept: the last %d)", number, GENERATIONS_KEEP);
		else
			http_respond_error(request, 404, "no configuration generated yet");
		return;
	}
	snprintf(header, sizeof header, "%" PRIu64, generation->number);
	http_response_header(request, "X-Temper-Generation", header);
	http_respond(request, 200, "application/json", generation->config,
	    strlen(generation->config));
}

static void
agent_api_generations(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct generations *generations = engine_generations(agent->engine);
	cJSON *json = cJSON_CreateArray();

	for (size_t i = 0; i < generations->count; i++) {
		const struct generation *generation = &generations->items[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddNumberToObject(item, "generation", (double)generation->number);
		cJSON_AddNumberToObject(item, "created_ms", (double)generation->created_ms);
		cJSON_AddStringToObject(item, "reason", generation->reason);
		cJSON_AddStringToObject(item, "notes", generation->notes);
		cJSON_AddItemToArray(json, item);
	}
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
agent_api_diff(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct generations *generations = engine_generations(agent->engine);
	const struct generation *from, *to;
	bool has_from, has_to;
	uint64_t from_number = agent_api_generation_param(request, "from", &has_from);
	uint64_t to_number = agent_api_generation_param(request, "to", &has_to);
	char from_label[48], to_label[48], *diff;

	if (!has_from || !has_to || from_number == 0 || to_number == 0) {
		http_respond_error(request, 400,
		    "from and to must both be positive generation numbers");
		return;
	}
	from = generations_find(generations, from_number);
	to = generations_find(generations, to_number);
	if (from == NULL || to == NULL) {
		http_respond_error(request, 404, "no generation %" PRIu64 " (kept: the last %d)",
		    from == NULL ? from_number : to_number, GENERATIONS_KEEP);
		return;
	}
	snprintf(from_label, sizeof from_label, "generation %" PRIu64, from->number);
	snprintf(to_label, sizeof to_label, "generation %" PRIu64, to->number);
	if ((diff = generations_diff(from->config, to->config, from_label, to_label)) == NULL) {
		http_respond_error(request, 500, "out of memory computing the diff");
		return;
	}
	http_respond(request, 200, "text/x-diff; charset=utf-8", diff, strlen(diff));
	free(diff);
}

static void
agent_api_reload(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const struct generations *generations = engine_generations(agent->engine);
	cJSON *json = cJSON_CreateObject();

	agent_replan(agent, "POST /api/v1/reload");
	cJSON_AddNumberToObject(json, "generation", (double)generations->last_number);
	if (engine_last_error(agent->engine) != NULL)
		cJSON_AddStringToObject(json, "error", engine_last_error(agent->engine));
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
agent_api_safe_mode(struct http_request *request, void *arg)
{
	struct agent *agent = arg;
	const cJSON *enabled;
	cJSON *body, *json;
	size_t len;
	const char *text = http_request_body(request, &len);

	body = cJSON_ParseWithLength(text, len);
	enabled = cJSON_GetObjectItemCaseSensitive(body, "enabled");
	if (!cJSON_IsBool(enabled)) {
		cJSON_Delete(body);
		http_respond_error(request, 400, "expected a JSON body {\"enabled\": true|false}");
		return;
	}
	agent_set_api_safe_mode(agent, cJSON_IsTrue(enabled));
	cJSON_Delete(body);
	json = cJSON_CreateObject();
	cJSON_AddBoolToObject(json, "active", engine_safe_mode(agent->engine, NULL));
	cJSON_AddBoolToObject(json, "api", agent->safe_mode_api);
	cJSON_AddBoolToObject(json, "annotation", agent->safe_mode_annotation);
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

struct agent_api_route {
	struct agent *agent;
	http_handler_fn handler;
};

static bool
agent_api_token_matches(const char *given, const char *token)
{
	size_t given_len = strlen(given), token_len = strlen(token);
	unsigned char difference = given_len != token_len;

	/* Compare every byte whatever differs first: no timing hint. */
	for (size_t i = 0; i < token_len; i++)
		difference |= (unsigned char)(token[i] ^ (i < given_len ? given[i] : 0));
	return difference == 0;
}

/* Every /api/v1 route goes through here: the token check, then the handler. */
static void
agent_api_dispatch(struct http_request *request, void *arg)
{
	const struct agent_api_route *route = arg;
	struct agent *agent = route->agent;
	const char *authorization;

	if (agent->api_token != NULL && !http_request_local(request)) {
		authorization = http_request_header(request, "Authorization");
		if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0 ||
		    !agent_api_token_matches(authorization + 7, agent->api_token)) {
			http_response_header(request, "WWW-Authenticate", "Bearer");
			http_respond_error(request, 401, "%s %s needs \"Authorization: Bearer <token>\" "
			    "(the agent's api_token_file) or the agent's unix socket",
			    http_request_method(request), http_request_path(request));
			return;
		}
	}
	route->handler(request, agent);
}

int
agent_api_load_token(struct agent *agent)
{
	const char *path = agent->daemon->conf.api_token_file;
	char *token = NULL, *cause = NULL;
	int error;

	if (path == NULL) {
		free(agent->api_token);
		agent->api_token = NULL;
		log_warn("agent: no api_token_file: /api/v1 on %s answers anyone who can reach it "
		    "(the unix socket is guarded by its mode)", agent->daemon->conf.listen);
		return 0;
	}
	if ((error = kube_config_read_token(path, &token, &cause)) != 0 || token[0] == '\0') {
		log_warn("agent: cannot read the API token from %s: %s; %s", path,
		    cause ? cause : "empty", agent->api_token ? "keeping the previous token" :
		    "refusing /api/v1 on TCP until it can be read");
		free(cause);
		free(token);
		if (agent->api_token == NULL)
			agent->api_token = strdup("\n");	/* matches no header value */
		return error ? error : -EINVAL;
	}
	free(agent->api_token);
	agent->api_token = token;
	return 0;
}

int
agent_api_register(struct agent *agent)
{
	static const struct {
		const char *method;
		const char *path;
		http_handler_fn handler;
	} routes[] = {
		{ "GET", "/api/v1/status", agent_api_status },
		{ "GET", "/api/v1/pods", agent_api_pods },
		{ "GET", "/api/v1/config", agent_api_config },
		{ "GET", "/api/v1/config/generations", agent_api_generations },
		{ "GET", "/api/v1/config/diff", agent_api_diff },
		{ "POST", "/api/v1/reload", agent_api_reload },
		{ "POST", "/api/v1/safe-mode", agent_api_safe_mode },
	};
	struct http_router *router = http_server_router(agent->daemon->http);
	size_t count = sizeof routes / sizeof routes[0];
	int error;

	agent_api_load_token(agent);
	if ((agent->api_routes = calloc(count, sizeof *agent->api_routes)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		agent->api_routes[i].agent = agent;
		agent->api_routes[i].handler = routes[i].handler;
		error = http_router_add(router, routes[i].method, routes[i].path,
		    agent_api_dispatch, &agent->api_routes[i]);
		if (error != 0)
			return error;
	}
	/* The document describing all of the above, for clients and tests. */
	return openapi_register(router);
}
