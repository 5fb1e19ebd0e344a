/* kube-client.c - requests to the Kubernetes API with auth and retries. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube-client.h"
#include "log.h"
#include "tls.h"

struct kube_client_call {
	struct kube_client *client;
	struct kube_http_request *request;
	char *method;
	char *path;
	char *content_type;
	char *body;
	size_t body_len;
	uint64_t timeout_ms;
	kube_client_done_cb done;
	void *arg;
	struct buf response;
	int status;
	bool too_big;
	bool retried;
	char *token_used;
};

static void
kube_client_token_tick(uv_timer_t *timer)
{
	kube_client_reload_token(timer->data);
}

int
kube_client_init(struct kube_client *client, uv_loop_t *loop,
    struct kube_config *config, uint64_t token_period_ms, char **cause)
{
	int error;

	memset(client, 0, sizeof *client);
	client->loop = loop;
	client->config = config;
	client->token_period_ms = token_period_ms ? token_period_ms :
	    KUBE_CLIENT_TOKEN_PERIOD_MS;
	if (config->tls) {
		client->tls = tls_config_client_new(config->ca_pem, config->ca_len,
		    config->cert_pem, config->cert_len, config->key_pem,
		    config->key_len, config->insecure, cause);
		if (client->tls == NULL) {
			error = errno ? -errno : -EINVAL;
			kube_config_free(config);
			client->config = NULL;
			return error;
		}
	}
	if ((error = kube_http_init(&client->http, loop, config->host,
	    config->port, client->tls, config->tls ? config->server_name :
	    NULL)) != 0) {
		tls_config_free(client->tls);
		kube_config_free(config);
		client->config = NULL;
		if (cause != NULL)
			*cause = strdup("out of memory");
		return error;
	}
	if (config->token != NULL && (client->token = strdup(config->token)) == NULL) {
		kube_http_close(&client->http, NULL);
		tls_config_free(client->tls);
		kube_config_free(config);
		client->config = NULL;
		return -ENOMEM;
	}
	uv_timer_init(loop, &client->token_timer);
	client->token_timer.data = client;
	if (config->token_path != NULL)
		uv_timer_start(&client->token_timer, kube_client_token_tick,
		    client->token_period_ms, client->token_period_ms);
	return 0;
}

int
kube_client_reload_token(struct kube_client *client)
{
	char *token = NULL, *cause = NULL;
	int error;

	if (client->config == NULL || client->config->token_path == NULL)
		return 0;
	if ((error = kube_config_read_token(client->config->token_path, &token,
	    &cause)) != 0) {
		log_warn("kube client: cannot re-read the token (%s); keeping "
		    "the current one", cause ? cause : strerror(-error));
		free(cause);
		return error;
	}
	if (client->token != NULL && strcmp(client->token, token) == 0) {
		free(token);
		return 0;
	}
	free(client->token);
	client->token = token;
	client->token_changes++;
	log_info("kube client: read a new token from %s",
	    client->config->token_path);
	return 1;
}

void
kube_client_unauthorized(struct kube_client *client)
{
	client->unauthorized++;
	log_warn("kube client: the API server answered 401; re-reading the token");
	kube_client_reload_token(client);
}

/* Both the token timer and the connections must be gone before closed. */
static void
kube_client_part_closed(struct kube_client *client)
{
	void (*closed)(struct kube_client *);

	if (--client->closing_parts > 0 || client->closed == NULL)
		return;
	closed = client->closed;
	client->closed = NULL;
	closed(client);
}

static void
kube_client_http_closed(struct kube_http *http)
{
	kube_client_part_closed((struct kube_client *)((char *)http -
	    offsetof(struct kube_client, http)));
}

static void
kube_client_timer_closed(uv_handle_t *handle)
{
	kube_client_part_closed(handle->data);
}

void
kube_client_close(struct kube_client *client,
    void (*closed)(struct kube_client *))
{
	client->closed = closed;
	client->closing_parts = 2;
	uv_close((uv_handle_t *)&client->token_timer, kube_client_timer_closed);
	kube_http_close(&client->http, kube_client_http_closed);
	tls_config_free(client->tls);
	client->tls = NULL;
	kube_config_free(client->config);
	client->config = NULL;
	free(client->token);
	client->token = NULL;
}

int
kube_client_escape(struct buf *out, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int error = 0;

	for (p = (const unsigned char *)text; *p != '\0' && error == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~')
			error = buf_append(out, p, 1);
		else
			error = buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return error;
}

static int
kube_client_headers(struct kube_client *client, struct buf *headers,
    const char *content_type)
{
	int error;

	error = buf_puts(headers, "Accept: application/json\r\n");
	if (error == 0 && client->token != NULL)
		error = buf_printf(headers, "Authorization: Bearer %s\r\n",
		    client->token);
	if (error == 0 && content_type != NULL)
		error = buf_printf(headers, "Content-Type: %s\r\n", content_type);
	return error;
}

static char *
kube_client_full_path(struct kube_client *client, const char *path)
{
	char *full;

	if (asprintf(&full, "%s%s", client->config->path_prefix, path) < 0)
		return NULL;
	return full;
}

struct kube_http_request *
kube_client_stream(struct kube_client *client, const char *path,
    uint64_t timeout_ms, const struct kube_http_callbacks *callbacks, void *arg)
{
	struct kube_http_request *request = NULL;
	struct buf headers = BUF_INIT;
	char *full;

	if ((full = kube_client_full_path(client, path)) == NULL)
		return NULL;
	if (kube_client_headers(client, &headers, NULL) == 0)
		request = kube_http_start(&client->http, "GET", full, headers.data,
		    NULL, 0, timeout_ms, callbacks, arg);
	buf_free(&headers);
	free(full);
	return request;
}

static void
kube_client_call_free(struct kube_client_call *call)
{
	if (call == NULL)
		return;
	free(call->method);
	free(call->path);
	free(call->content_type);
	free(call->body);
	free(call->token_used);
	buf_free(&call->response);
	free(call);
}

static void
kube_client_call_response(struct kube_http_request *request, int status,
    void *arg)
{
	struct kube_client_call *call = arg;

	(void)request;
	call->status = status;
}

static void
kube_client_call_body(struct kube_http_request *request, const char *data,
    size_t len, void *arg)
{
	struct kube_client_call *call = arg;

	(void)request;
	if (call->too_big)
		return;
	if (call->response.len + len > KUBE_CLIENT_MAX_BODY ||
	    buf_append(&call->response, data, len) != 0) {
		call->too_big = true;
		buf_free(&call->response);
	}
}

static int kube_client_call_send(struct kube_client_call *call);

static void
kube_client_call_done(struct kube_http_request *request, int error, void *arg)
{
	struct kube_client_call *call = arg;
	struct kube_client *client = call->client;

	(void)request;
	call->request = NULL;
	if (error == 0 && call->too_big)
		error = -EFBIG;
	if (error == 0 && call->status == 401) {
		kube_client_unauthorized(client);
		/* Retry once, and only when there is a new token to try. */
		if (!call->retried && client->token != NULL &&
		    (call->token_used == NULL ||
		    strcmp(call->token_used, client->token) != 0)) {
			call->retried = true;
			buf_reset(&call->response);
			call->status = 0;
			if (kube_client_call_send(call) == 0)
				return;
		}
	}
	call->done(error, call->status, &call->response, call->arg);
	kube_client_call_free(call);
}

static int
kube_client_call_send(struct kube_client_call *call)
{
	static const struct kube_http_callbacks callbacks = {
		.on_response = kube_client_call_response,
		.on_body = kube_client_call_body,
		.on_done = kube_client_call_done,
	};
	struct kube_client *client = call->client;
	struct buf headers = BUF_INIT;
	int error;

	free(call->token_used);
	call->token_used = NULL;
	if (client->token != NULL && (call->token_used = strdup(client->token)) == NULL)
		return -ENOMEM;
	if ((error = kube_client_headers(client, &headers, call->content_type)) != 0)
		return error;
	call->request = kube_http_start(&client->http, call->method, call->path,
	    headers.data, call->body, call->body_len, call->timeout_ms,
	    &callbacks, call);
	buf_free(&headers);
	return call->request == NULL ? -errno : 0;
}

struct kube_client_call *
kube_client_call(struct kube_client *client, const char *method,
    const char *path, const char *content_type, const char *body,
    size_t body_len, uint64_t timeout_ms, kube_client_done_cb done, void *arg)
{
	struct kube_client_call *call;
	int error = -ENOMEM;

	if ((call = calloc(1, sizeof *call)) == NULL)
		return NULL;
	call->client = client;
	call->done = done;
	call->arg = arg;
	call->timeout_ms = timeout_ms ? timeout_ms : KUBE_CLIENT_TIMEOUT_MS;
	call->body_len = body_len;
	if ((call->method = strdup(method)) == NULL ||
	    (call->path = kube_client_full_path(client, path)) == NULL ||
	    (content_type != NULL &&
	    (call->content_type = strdup(content_type)) == NULL))
		goto fail;
	if (body != NULL) {
		if ((call->body = malloc(body_len ? body_len : 1)) == NULL)
			goto fail;
		memcpy(call->body, body, body_len);
	}
	if ((error = kube_client_call_send(call)) != 0)
		goto fail;
	return call;
fail:
	kube_client_call_free(call);
	errno = -error;
	return NULL;
}

void
kube_client_call_cancel(struct kube_client_call *call)
{
	if (call == NULL)
		return;
	kube_http_cancel(call->request);
	kube_client_call_free(call);
}
