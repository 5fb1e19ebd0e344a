/* common-routes.c - /healthz, /readyz, /version and /metrics for every role. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common-routes.h"
#include "http-server.h"
#include "metrics.h"
#include "readiness.h"

/* Alive means the loop runs: answering at all is the whole check. */
static void
common_routes_healthz(struct http_request *request, void *arg)
{
	(void)arg;
	http_respond(request, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void
common_routes_readyz(struct http_request *request, void *arg)
{
	struct common_routes *routes = arg;
	struct readiness *readiness = routes->readiness;
	struct buf reasons = BUF_INIT;
	cJSON *json, *checks;

	if (readiness_ready(readiness)) {
		http_respond(request, 200, "text/plain; charset=utf-8", "ok\n", 3);
		return;
	}
	json = cJSON_CreateObject();
	checks = cJSON_AddObjectToObject(json, "checks");
	for (size_t i = 0; i < readiness->count; i++) {
		const struct readiness_check *check = &readiness->checks[i];
		const char *reason = check->reason ? check->reason : "not ready";

		cJSON_AddStringToObject(checks, check->name, check->ready ? "ok" : reason);
		if (!check->ready)
			buf_printf(&reasons, "%s%s: %s", reasons.len ? "; " : "",
			    check->name, reason);
	}
	cJSON_AddStringToObject(json, "error", reasons.data ? reasons.data : "not ready");
	http_respond_json(request, 503, json);
	cJSON_Delete(json);
	buf_free(&reasons);
}

static void
common_routes_version(struct http_request *request, void *arg)
{
	struct common_routes *routes = arg;
	cJSON *json = cJSON_CreateObject();

	cJSON_AddStringToObject(json, "version", routes->version);
	cJSON_AddStringToObject(json, "roles", routes->roles);
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
common_routes_metrics(struct http_request *request, void *arg)
{
	struct common_routes *routes = arg;
	const char *text;
	size_t len;

	if (metrics_scrape(routes->metrics, &text, &len) != 0) {
		http_respond_error(request, 500, "out of memory rendering metrics");
		return;
	}
	http_respond(request, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

int
common_routes_register(struct http_router *router, struct common_routes *routes)
{
	int error = 0;

	if (error == 0)
		error = http_router_add(router, "GET", "/healthz", common_routes_healthz, routes);
	if (error == 0)
		error = http_router_add(router, "GET", "/readyz", common_routes_readyz, routes);
	if (error == 0)
		error = http_router_add(router, "GET", "/version", common_routes_version, routes);
	if (error == 0)
		error = http_router_add(router, "GET", "/metrics", common_routes_metrics, routes);
	return error;
}
