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
#include "planner.h"
#include "readiness.h"
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
	    "safe mode stands enforcement down" : agent->enforce != NULL ?
	    "the cgroup backend: cpu.idle for low and background pods" :
	    "no enforcement backend runs: plans are computed and published only");
	if (agent->enforce != NULL)
		cJSON_AddItemToObject(enforcement, "cgroup", cgroup_enforce_status_json(agent->enforce));

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
		for (size_t i = 0; i < plan->note_count; i++)
			cJSON_AddItemToArray(notes, cJSON_CreateString(plan->notes[i].text));
		cJSON_AddStringToObject(planning, "membership",
		    engine_membership_name(plan->membership));
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
	int error;

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		error = http_router_add(router, routes[i].method, routes[i].path,
		    routes[i].handler, agent);
		if (error != 0)
			return error;
	}
	return 0;
}
