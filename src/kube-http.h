/*
 * kube-http.h - an HTTP/1.1 client on the libuv loop, over TLS (tls.h) or
 * plain TCP, with llhttp parsing the responses.
 *
 * One request at a time per connection; finished connections that may be
 * kept alive wait in a small idle pool for the next request.  Bodies are
 * streamed to the owner as they arrive (chunked or sized), so a watch can
 * run for hours on its own connection.  Every request has an inactivity
 * timeout: no byte for timeout_ms ends it with -ETIMEDOUT.  TCP keepalive
 * is on, so a silent peer is noticed even between requests.
 */
#ifndef TEMPER_KUBE_HTTP_H
#define TEMPER_KUBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct kube_http_connection;
struct kube_http_request;
struct tls_config;

struct kube_http_callbacks {
	/* The status line and headers arrived. */
	void (*on_response)(struct kube_http_request *request, int status,
	    void *arg);
	/* Some of the (de-chunked) body. */
	void (*on_body)(struct kube_http_request *request, const char *data,
	    size_t len, void *arg);
	/*
	 * Exactly once, unless the request was cancelled: 0 when the whole
	 * response arrived, a negative errno otherwise.  The request is freed
	 * when this returns.
	 */
	void (*on_done)(struct kube_http_request *request, int error, void *arg);
};

struct kube_http {
	uv_loop_t *loop;
	char *host;
	char *port;
	char *authority;		/* the Host header */
	char *server_name;		/* verified on TLS, NULL for plain */
	struct tls_config *tls;		/* NULL: plain TCP */
	unsigned keepalive_seconds;

	struct kube_http_connection *connections;	/* every live one */
	size_t idle_count;
	bool closing;
	void (*closed)(struct kube_http *http);

	unsigned long connects;		/* TCP connections made, for tests */
};

/* Idle connections kept for reuse; more are closed. */
#define KUBE_HTTP_MAX_IDLE 4

/*
 * host/port to connect to; tls NULL for plain TCP (the http keeps no
 * reference beyond kube_http_close); server_name to verify.
 */
int kube_http_init(struct kube_http *http, uv_loop_t *loop, const char *host,
    const char *port, struct tls_config *tls, const char *server_name);

/*
 * Send a request.  headers holds extra header lines, each ending in
 * "\r\n" (may be NULL); a body is sent with its Content-Length.  Returns
 * the request (callbacks follow on the loop) or NULL with errno.
 */
struct kube_http_request *kube_http_start(struct kube_http *http,
    const char *method, const char *path, const char *headers,
    const char *body, size_t body_len, uint64_t timeout_ms,
    const struct kube_http_callbacks *callbacks, void *arg);

/* Abandon a request: no callback follows, its connection is closed. */
void kube_http_cancel(struct kube_http_request *request);

/*
 * Close every connection (requests in flight are cancelled without
 * callbacks); closed runs once all handles are closed.
 */
void kube_http_close(struct kube_http *http, void (*closed)(struct kube_http *));

#endif
