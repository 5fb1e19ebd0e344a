/*
 * common-routes.h - what every role serves: /healthz, /readyz, /version,
 * /metrics.
 */
#ifndef TEMPER_COMMON_ROUTES_H
#define TEMPER_COMMON_ROUTES_H

struct http_router;
struct metrics;
struct readiness;

struct common_routes {
	struct metrics *metrics;
	struct readiness *readiness;
	const char *version;
	const char *roles;
};

int common_routes_register(struct http_router *router,
    struct common_routes *routes);

#endif
