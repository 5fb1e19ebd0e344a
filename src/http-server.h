/*
 * http-server.h - HTTP/1.1 (and HTTPS) server on the libuv loop.
 *
 * llhttp parses, mbedtls encrypts (tls.h), a router dispatches.  Requests on
 * a connection are answered in order.  A handler answers at once with one of
 * the http_respond* calls, or returns without answering to defer: the
 * connection then holds further requests until the answer comes.
 *
 * Limits, each with its answer: header bytes -> 431, body bytes -> 413, a
 * request not complete within request_timeout_ms -> 408 and close, idle
 * keep-alive connections closed after idle_timeout_ms, and a cap on
 * concurrent connections (more are accepted and closed at once).
 */
#ifndef TEMPER_HTTP_SERVER_H
#define TEMPER_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http-router.h"

struct cJSON;
struct metrics;
struct tls_config;
struct http_server;
struct http_request;

struct http_server_limits {
	size_t max_header_bytes;
	size_t max_body_bytes;
	uint64_t request_timeout_ms;
	uint64_t idle_timeout_ms;
	unsigned max_connections;
};

void http_server_limits_default(struct http_server_limits *limits);

struct http_server *http_server_new(uv_loop_t *loop, struct metrics *metrics,
    const struct http_server_limits *limits);

/* Take new limits: timeouts apply at once, size limits to new connections. */
void http_server_set_limits(struct http_server *server,
    const struct http_server_limits *limits);

struct http_router *http_server_router(struct http_server *server);

/*
 * Listen on "HOST:PORT" (IPv4, "[v6]:PORT", or ":PORT" for all addresses)
 * or "unix:PATH" (mode 0600).  With cert_path and key_path the listener
 * speaks TLS and re-reads both files whenever they change; a bad pair is
 * reported and the previous one keeps serving.  0 or a negative errno with
 * *cause filled.
 */
int http_server_listen(struct http_server *server, const char *address,
    const char *cert_path, const char *key_path, char **cause);

/* The port a TCP listener got (for ":0" listeners), or -1. */
int http_server_port(const struct http_server *server, size_t listener);

/* Close every listener and connection; done runs once all handles closed. */
void http_server_close(struct http_server *server, void (*done)(void *arg),
    void *arg);
void http_server_free(struct http_server *server);

/* Request accessors. */
const char *http_request_method(const struct http_request *request);
const char *http_request_path(const struct http_request *request);
const char *http_request_query(const struct http_request *request);
const char *http_request_header(const struct http_request *request,
    const char *name);
const char *http_request_body(const struct http_request *request, size_t *len);
/*
 * Copy the percent-decoded value of query parameter name into value.
 * 0, -ENOENT when absent, -ENOSPC when it does not fit.
 */
int http_request_query_param(const struct http_request *request,
    const char *name, char *value, size_t size);

/* True when the request came through a unix-socket listener. */
bool http_request_local(const struct http_request *request);

/* An extra response header, before responding. */
int http_response_header(struct http_request *request, const char *name,
    const char *value);

/* Answer; the request must not be touched afterwards. */
void http_respond(struct http_request *request, int status,
    const char *content_type, const void *body, size_t len);
void http_respond_json(struct http_request *request, int status,
    const struct cJSON *json);
/* {"error":"..."} with the formatted reason. */
__attribute__((format(printf, 3, 4)))
void http_respond_error(struct http_request *request, int status,
    const char *fmt, ...);

/*
 * A deferred request whose connection goes away calls cancel instead; the
 * owner must drop its pointer then and never respond.
 */
void http_request_on_cancel(struct http_request *request,
    void (*cancel)(struct http_request *request, void *arg), void *arg);

const char *http_status_reason(int status);

#endif
