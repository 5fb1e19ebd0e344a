/*
 * http-router.h - a small method + path router.
 *
 * Pure: a table and a lookup, no I/O.  Routes match a path exactly, or as a
 * prefix when registered with a trailing star, as in "/api/v1/pods/" + "*".
 */
#ifndef TEMPER_HTTP_ROUTER_H
#define TEMPER_HTTP_ROUTER_H

#include <stddef.h>

struct http_request;

typedef void (*http_handler_fn)(struct http_request *request, void *arg);

struct http_route {
	char *method;		/* "GET", "POST", ... */
	char *pattern;		/* "/metrics", or a prefix ending in a star */
	size_t prefix_len;	/* bytes before the '*', or 0 for exact */
	http_handler_fn handler;
	void *arg;
};

struct http_router {
	struct http_route *routes;
	size_t count;
};

enum http_router_result {
	HTTP_ROUTER_FOUND,
	HTTP_ROUTER_NOT_FOUND,		/* 404 */
	HTTP_ROUTER_METHOD_NOT_ALLOWED,	/* 405 */
};

int http_router_add(struct http_router *router, const char *method,
    const char *pattern, http_handler_fn handler, void *arg);

/*
 * Find the route for method and path (the path without its query).  A
 * longer pattern wins over a shorter prefix.  On 405, allow (when not NULL)
 * receives the permitted methods, comma-separated, for the Allow header.
 */
enum http_router_result http_router_match(const struct http_router *router,
    const char *method, const char *path, const struct http_route **route,
    char *allow, size_t allow_size);

void http_router_free(struct http_router *router);

#endif
