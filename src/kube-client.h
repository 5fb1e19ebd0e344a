/*
 * kube-client.h - requests to the Kubernetes API: where, as whom, retried
 * how.
 *
 * Wraps kube-http with the configuration (server, path prefix, TLS
 * material) and the bearer token, which is re-read from its file every
 * token period (a minute, like client-go) and at once after any 401.  A
 * buffered call that gets a 401 is retried once when the token changed.
 */
#ifndef TEMPER_KUBE_CLIENT_H
#define TEMPER_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "kube-config.h"
#include "kube-http.h"

#define KUBE_CLIENT_TOKEN_PERIOD_MS (60 * 1000)
#define KUBE_CLIENT_TIMEOUT_MS (30 * 1000)
/* A LIST page of 500 pods is a few MiB; a body past this is refused. */
#define KUBE_CLIENT_MAX_BODY (256 * 1024 * 1024)

struct kube_client {
	uv_loop_t *loop;
	struct kube_config *config;
	struct tls_config *tls;
	struct kube_http http;
	char *token;
	uv_timer_t token_timer;
	uint64_t token_period_ms;
	void (*closed)(struct kube_client *client);
	unsigned closing_parts;

	unsigned long token_changes;	/* a new token was read */
	unsigned long unauthorized;	/* 401 answers seen */
};

struct kube_client_call;

/*
 * A finished call: error is 0 when an HTTP response arrived (whatever its
 * status), else a negative errno.  body holds the response (the callee
 * owns it; take it with buf_detach to keep it).
 */
typedef void (*kube_client_done_cb)(int error, int status, struct buf *body,
    void *arg);

/*
 * Take config (freed with the client), build TLS from it.  token_period_ms
 * 0 means the default.  0 or -errno with *cause.
 */
int kube_client_init(struct kube_client *client, uv_loop_t *loop,
    struct kube_config *config, uint64_t token_period_ms, char **cause);

/* Close connections and the token timer; closed runs when all are gone. */
void kube_client_close(struct kube_client *client,
    void (*closed)(struct kube_client *));

/* Re-read the token file: 1 when the token changed, 0 when not, -errno. */
int kube_client_reload_token(struct kube_client *client);

/* Tell the client a response said 401: it re-reads its token. */
void kube_client_unauthorized(struct kube_client *client);

/*
 * A buffered call: method, path (under the server's prefix, with query),
 * optional body and its content type.  NULL with errno on failure to start.
 */
struct kube_client_call *kube_client_call(struct kube_client *client,
    const char *method, const char *path, const char *content_type,
    const char *body, size_t body_len, uint64_t timeout_ms,
    kube_client_done_cb done, void *arg);
void kube_client_call_cancel(struct kube_client_call *call);

/* A streamed request (a watch): callbacks as in kube-http. */
struct kube_http_request *kube_client_stream(struct kube_client *client,
    const char *path, uint64_t timeout_ms,
    const struct kube_http_callbacks *callbacks, void *arg);

/* Append text percent-encoded for a query value. */
int kube_client_escape(struct buf *out, const char *text);

#endif
