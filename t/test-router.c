/* t/test-router.c - method and path routing. */
#include "config.h"

#include "http-router.h"
#include "tap.h"

static void handler_a(struct http_request *request, void *arg) { (void)request; (void)arg; }
static void handler_b(struct http_request *request, void *arg) { (void)request; (void)arg; }
static void handler_c(struct http_request *request, void *arg) { (void)request; (void)arg; }

int
main(void)
{
	struct http_router router = { 0 };
	const struct http_route *route;
	char allow[64];

	ok(http_router_add(&router, "GET", "/metrics", handler_a, NULL) == 0, "add an exact route");
	ok(http_router_add(&router, "GET", "/api/v1/*", handler_b, NULL) == 0, "add a prefix route");
	ok(http_router_add(&router, "POST", "/api/v1/reload", handler_c, NULL) == 0,
	    "add a POST route under the prefix");
	ok(http_router_add(&router, "GET", "relative", handler_a, NULL) < 0,
	    "a pattern must start with a slash");

	is_int(http_router_match(&router, "GET", "/metrics", &route, allow, sizeof allow),
	    HTTP_ROUTER_FOUND, "GET /metrics is found");
	ok(route && route->handler == handler_a, "... by its own handler");
	is_int(http_router_match(&router, "HEAD", "/metrics", &route, allow, sizeof allow),
	    HTTP_ROUTER_FOUND, "HEAD is served by the GET route");
	is_int(http_router_match(&router, "GET", "/metricsx", &route, allow, sizeof allow),
	    HTTP_ROUTER_NOT_FOUND, "an exact route does not match a longer path");
	is_int(http_router_match(&router, "GET", "/api/v1/pods", &route, allow, sizeof allow),
	    HTTP_ROUTER_FOUND, "a prefix route matches below it");
	ok(route && route->handler == handler_b, "... with the prefix handler");
	is_int(http_router_match(&router, "POST", "/api/v1/reload", &route, allow, sizeof allow),
	    HTTP_ROUTER_FOUND, "the exact POST route wins for its method");
	ok(route && route->handler == handler_c, "... with its own handler");
	is_int(http_router_match(&router, "DELETE", "/metrics", &route, allow, sizeof allow),
	    HTTP_ROUTER_METHOD_NOT_ALLOWED, "a known path with another method is 405");
	is_str(allow, "GET", "... and Allow names GET");
	is_int(http_router_match(&router, "PUT", "/api/v1/reload", &route, allow, sizeof allow),
	    HTTP_ROUTER_METHOD_NOT_ALLOWED, "PUT on a path known for GET and POST is 405");
	is_str(allow, "GET, POST", "... and Allow lists both, once each");
	is_int(http_router_match(&router, "GET", "/", &route, NULL, 0),
	    HTTP_ROUTER_NOT_FOUND, "an unknown path is 404");

	http_router_free(&router);
	is_int(router.count, 0, "free empties the table");
	return done_testing();
}
