/* http-router.c - a small method + path router. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http-router.h"

int
http_router_add(struct http_router *router, const char *method,
    const char *pattern, http_handler_fn handler, void *arg)
{
	struct http_route *routes, *route;
	size_t len = strlen(pattern);

	if (len == 0 || pattern[0] != '/')
		return -EINVAL;
	routes = realloc(router->routes, (router->count + 1) * sizeof *routes);
	if (routes == NULL)
		return -ENOMEM;
	router->routes = routes;
	route = &routes[router->count];
	memset(route, 0, sizeof *route);
	route->method = strdup(method);
	route->pattern = strdup(pattern);
	if (route->method == NULL || route->pattern == NULL) {
		free(route->method);
		free(route->pattern);
		return -ENOMEM;
	}
	route->prefix_len = pattern[len - 1] == '*' ? len - 1 : 0;
	route->handler = handler;
	route->arg = arg;
	router->count++;
	return 0;
}

static bool
http_router_path_matches(const struct http_route *route, const char *path,
    size_t *strength)
{
	if (route->prefix_len > 0) {
		if (strncmp(path, route->pattern, route->prefix_len) != 0)
			return false;
		*strength = route->prefix_len;
		return true;
	}
	if (strcmp(path, route->pattern) != 0)
		return false;
	/* An exact match beats any prefix. */
	*strength = (size_t)-1;
	return true;
}

enum http_router_result
http_router_match(const struct http_router *router, const char *method,
    const char *path, const struct http_route **found, char *allow,
    size_t allow_size)
{
	const struct http_route *best = NULL;
	size_t best_strength = 0, strength, allow_len = 0;
	bool path_known = false;

	if (allow != NULL && allow_size > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < router->count; i++) {
		const struct http_route *route = &router->routes[i];

		if (!http_router_path_matches(route, path, &strength))
			continue;
		path_known = true;
		if (strcmp(route->method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0)) {
			if (best == NULL || strength > best_strength) {
				best = route;
				best_strength = strength;
			}
		} else if (allow != NULL && strstr(allow, route->method) == NULL) {
			size_t need = strlen(route->method) + (allow_len ? 2 : 0);

			if (allow_len + need < allow_size) {
				if (allow_len > 0) {
					memcpy(allow + allow_len, ", ", 2);
					allow_len += 2;
				}
				strcpy(allow + allow_len, route->method);
				allow_len += strlen(route->method);
			}
		}
	}
	*found = best;
	if (best != NULL)
		return HTTP_ROUTER_FOUND;
	return path_known ? HTTP_ROUTER_METHOD_NOT_ALLOWED : HTTP_ROUTER_NOT_FOUND;
}

void
http_router_free(struct http_router *router)
{
	for (size_t i = 0; i < router->count; i++) {
		free(router->routes[i].method);
		free(router->routes[i].pattern);
	}
	free(router->routes);
	router->routes = NULL;
	router->count = 0;
}
