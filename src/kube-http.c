/* kube-http.c - an HTTP/1.1 client on the libuv loop, over TLS or TCP. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>
#include <uv.h>

#include "buf.h"
#include "kube-http.h"
#include "log.h"
#include "tls.h"

/* An idle connection nobody reuses is closed after this. */
#define KUBE_HTTP_IDLE_MS (90 * 1000)
/* Requests and their header lines are ours; bound them anyway. */
#define KUBE_HTTP_READ_SIZE (64 * 1024)

enum kube_http_state {
	KUBE_HTTP_RESOLVING,
	KUBE_HTTP_CONNECTING,
	KUBE_HTTP_HANDSHAKING,
	KUBE_HTTP_READY,	/* busy with a request or idle */
	KUBE_HTTP_CLOSING,
};

struct kube_http_request {
	struct kube_http *http;
	struct kube_http_connection *connection;
	struct kube_http_callbacks callbacks;
	void *arg;
	struct buf text;		/* the request bytes */
	uint64_t timeout_ms;
	uint64_t received;		/* response bytes seen */
	bool reused;			/* sent on a kept-alive connection */
	bool retried;
	bool complete;
};

struct kube_http_connection {
	struct kube_http *http;
	struct kube_http_connection *next;
	enum kube_http_state state;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_getaddrinfo_t resolve;
	bool resolving;
	unsigned open_handles;
	struct tls_session *tls;
	struct buf plain;		/* decrypted bytes for llhttp */
	llhttp_t parser;
	llhttp_settings_t settings;
	struct kube_http_request *request;	/* NULL when idle */
	bool idle;			/* in the pool, waiting for a request */
	bool keep_alive;
};

struct kube_http_write {
	uv_write_t req;
	char *data;
};

static void kube_http_connection_close(struct kube_http_connection *connection);
static void kube_http_send(struct kube_http_connection *connection);
static int kube_http_attach(struct kube_http *http,
    struct kube_http_request *request);

static int
kube_http_strdup(char **out, const char *text)
{
	if (text == NULL) {
		*out = NULL;
		return 0;
	}
	return (*out = strdup(text)) == NULL ? -ENOMEM : 0;
}

int
kube_http_init(struct kube_http *http, uv_loop_t *loop, const char *host,
    const char *port, struct tls_config *tls, const char *server_name)
{
	memset(http, 0, sizeof *http);
	http->loop = loop;
	http->tls = tls;
	http->keepalive_seconds = 30;
	if (kube_http_strdup(&http->host, host) != 0 ||
	    kube_http_strdup(&http->port, port) != 0 ||
	    kube_http_strdup(&http->server_name, server_name) != 0 ||
	    asprintf(&http->authority, strchr(host, ':') != NULL ? "[%s]:%s" :
	    "%s:%s", host, port) < 0) {
		http->authority = NULL;
		free(http->host);
		free(http->port);
		free(http->server_name);
		return -ENOMEM;
	}
	return 0;
}

static void
kube_http_request_free(struct kube_http_request *request)
{
	if (request == NULL)
		return;
	buf_free(&request->text);
	free(request);
}

/* The request ends: tell its owner once, then free it. */
static void
kube_http_finish(struct kube_http_request *request, int error)
{
	if (request->connection != NULL) {
		request->connection->request = NULL;
		request->connection = NULL;
	}
	if (request->callbacks.on_done != NULL)
		request->callbacks.on_done(request, error, request->arg);
	kube_http_request_free(request);
}

/*
 * A connection failed under its request.  A request that went out on a
 * kept-alive connection and got no byte back may have met a server that
 * had already closed it: that one is tried once more on a new connection.
 */
static void
kube_http_fail(struct kube_http_connection *connection, int error)
{
	struct kube_http_request *request = connection->request;
	struct kube_http *http = connection->http;

	connection->request = NULL;
	kube_http_connection_close(connection);
	if (request == NULL)
		return;
	request->connection = NULL;
	if (request->reused && !request->retried && request->received == 0 &&
	    !http->closing) {
		request->retried = true;
		request->reused = false;
		if (kube_http_attach(http, request) == 0)
			return;
	}
	kube_http_finish(request, error);
}

static void
kube_http_free_connection(struct kube_http_connection *connection)
{
	struct kube_http *http = connection->http;
	struct kube_http_connection **at;

	for (at = &http->connections; *at != NULL; at = &(*at)->next) {
		if (*at == connection) {
			*at = connection->next;
			break;
		}
	}
	tls_session_free(connection->tls);
	buf_free(&connection->plain);
	free(connection);
	if (http->closing && http->connections == NULL && http->closed != NULL) {
		void (*closed)(struct kube_http *) = http->closed;

		http->closed = NULL;
		closed(http);
	}
}

static void
kube_http_maybe_free(struct kube_http_connection *connection)
{
	if (connection->open_handles == 0 && !connection->resolving)
		kube_http_free_connection(connection);
}

static void
kube_http_handle_closed(uv_handle_t *handle)
{
	struct kube_http_connection *connection = handle->data;

	connection->open_handles--;
	kube_http_maybe_free(connection);
}

static void
kube_http_connection_close(struct kube_http_connection *connection)
{
	if (connection->state == KUBE_HTTP_CLOSING)
		return;
	if (connection->idle) {
		connection->idle = false;
		connection->http->idle_count--;
	}
	connection->state = KUBE_HTTP_CLOSING;
	if (connection->resolving)
		uv_cancel((uv_req_t *)&connection->resolve);
	uv_close((uv_handle_t *)&connection->tcp, kube_http_handle_closed);
	uv_close((uv_handle_t *)&connection->timer, kube_http_handle_closed);
}

static void
kube_http_timeout(uv_timer_t *timer)
{
	struct kube_http_connection *connection = timer->data;

	if (connection->request != NULL)
		log_debug("kube http: no response byte for %llu ms from %s; "
		    "closing the connection",
		    (unsigned long long)connection->request->timeout_ms,
		    connection->http->authority);
	kube_http_fail(connection, -ETIMEDOUT);
}

static void
kube_http_arm(struct kube_http_connection *connection)
{
	uint64_t timeout = connection->request != NULL ?
	    connection->request->timeout_ms : KUBE_HTTP_IDLE_MS;

	uv_timer_start(&connection->timer, kube_http_timeout, timeout, 0);
}

static void
kube_http_written(uv_write_t *req, int status)
{
	struct kube_http_write *write = (struct kube_http_write *)req;
	struct kube_http_connection *connection = req->data;

	free(write->data);
	free(write);
	if (status < 0 && status != UV_ECANCELED &&
	    connection->state != KUBE_HTTP_CLOSING)
		kube_http_fail(connection, status);
}

/* Hand bytes to the socket; they are ours to free once written. */
static int
kube_http_write_raw(struct kube_http_connection *connection, char *data,
    size_t len)
{
	struct kube_http_write *write;
	uv_buf_t buffer;
	int error;

	if (len == 0) {
		free(data);
		return 0;
	}
	if ((write = calloc(1, sizeof *write)) == NULL) {
		free(data);
		return -ENOMEM;
	}
	write->data = data;
	write->req.data = connection;
	buffer = uv_buf_init(data, (unsigned)len);
	if ((error = uv_write(&write->req, (uv_stream_t *)&connection->tcp,
	    &buffer, 1, kube_http_written)) != 0) {
		free(data);
		free(write);
	}
	return error;
}

/* Send what the TLS engine has produced. */
static int
kube_http_flush(struct kube_http_connection *connection)
{
	struct buf *pending = tls_session_pending(connection->tls);
	size_t len = pending->len;

	if (len == 0)
		return 0;
	return kube_http_write_raw(connection, buf_detach(pending), len);
}

static int
kube_http_on_headers_complete(llhttp_t *parser)
{
	struct kube_http_connection *connection = parser->data;
	struct kube_http_request *request = connection->request;

	if (request != NULL && request->callbacks.on_response != NULL)
		request->callbacks.on_response(request, parser->status_code,
		    request->arg);
	return 0;
}

static int
kube_http_on_body(llhttp_t *parser, const char *at, size_t len)
{
	struct kube_http_connection *connection = parser->data;
	struct kube_http_request *request = connection->request;

	if (request != NULL && request->callbacks.on_body != NULL)
		request->callbacks.on_body(request, at, len, request->arg);
	/* The owner may have cancelled from the callback. */
	return connection->request == NULL ? HPE_USER : 0;
}

static int
kube_http_on_message_complete(llhttp_t *parser)
{
	struct kube_http_connection *connection = parser->data;

	if (connection->request != NULL)
		connection->request->complete = true;
	connection->keep_alive = llhttp_should_keep_alive(parser);
	return HPE_PAUSED;
}

/* The response is whole: the owner hears of it, the connection idles. */
static void
kube_http_complete(struct kube_http_connection *connection)
{
	struct kube_http_request *request = connection->request;
	struct kube_http *http = connection->http;

	connection->request = NULL;
	request->connection = NULL;
	if (connection->keep_alive && !http->closing &&
	    http->idle_count < KUBE_HTTP_MAX_IDLE) {
		http->idle_count++;
		connection->idle = true;
		llhttp_init(&connection->parser, HTTP_RESPONSE,
		    &connection->settings);
		connection->parser.data = connection;
		kube_http_arm(connection);
	} else {
		kube_http_connection_close(connection);
	}
	kube_http_finish(request, 0);
}

static void
kube_http_parse(struct kube_http_connection *connection, const char *data,
    size_t len)
{
	struct kube_http_request *request = connection->request;
	llhttp_errno_t error;

	if (request == NULL) {
		/* An idle connection has nothing to say: the peer closes it. */
		kube_http_connection_close(connection);
		return;
	}
	request->received += len;
	error = llhttp_execute(&connection->parser, data, len);
	if (connection->state == KUBE_HTTP_CLOSING || connection->request == NULL)
		return;
	if (error == HPE_PAUSED && request->complete) {
		kube_http_complete(connection);
		return;
	}
	if (error != HPE_OK) {
		log_warn("kube http: bad response from %s (%s); closing the "
		    "connection", connection->http->authority,
		    llhttp_get_error_reason(&connection->parser));
		kube_http_fail(connection, -EPROTO);
	}
}

/* The peer closed: a body that runs to EOF ends here, others are cut. */
static void
kube_http_eof(struct kube_http_connection *connection)
{
	struct kube_http_request *request = connection->request;

	if (request != NULL && request->received > 0 &&
	    llhttp_finish(&connection->parser) == HPE_PAUSED &&
	    request->complete) {
		connection->keep_alive = false;
		kube_http_complete(connection);
		return;
	}
	kube_http_fail(connection, -ECONNRESET);
}

static void
kube_http_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
	(void)handle;
	(void)suggested;
	buffer->base = malloc(KUBE_HTTP_READ_SIZE);
	buffer->len = buffer->base != NULL ? KUBE_HTTP_READ_SIZE : 0;
}

static void
kube_http_tls_input(struct kube_http_connection *connection, const char *data,
    size_t len)
{
	int error;

	if ((error = tls_session_feed(connection->tls, data, len)) != 0) {
		kube_http_fail(connection, error);
		return;
	}
	if (connection->state == KUBE_HTTP_HANDSHAKING) {
		error = tls_session_handshake(connection->tls);
		if (kube_http_flush(connection) != 0) {
			kube_http_fail(connection, -EIO);
			return;
		}
		if (error == -EAGAIN)
			return;
		if (error != 0) {
			log_warn("kube http: TLS with %s failed: %s",
			    connection->http->authority,
			    tls_session_error(connection->tls));
			kube_http_fail(connection, error);
			return;
		}
		connection->state = KUBE_HTTP_READY;
		kube_http_send(connection);
		/* Application data may have come with the last flight. */
	}
	if (connection->state != KUBE_HTTP_READY)
		return;
	buf_reset(&connection->plain);
	error = tls_session_read(connection->tls, &connection->plain);
	/* Alerts and key updates may need an answer. */
	if (kube_http_flush(connection) != 0) {
		kube_http_fail(connection, -EIO);
		return;
	}
	if (connection->plain.len > 0)
		kube_http_parse(connection, connection->plain.data,
		    connection->plain.len);
	if (connection->state != KUBE_HTTP_READY)
		return;
	if (error == -EPIPE) {
		kube_http_eof(connection);
	} else if (error != 0) {
		log_warn("kube http: TLS read from %s failed: %s",
		    connection->http->authority,
		    tls_session_error(connection->tls));
		kube_http_fail(connection, error);
	}
}

static void
kube_http_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer)
{
	struct kube_http_connection *connection = stream->data;

	if (connection->state == KUBE_HTTP_CLOSING) {
		free(buffer->base);
		return;
	}
	if (nread > 0) {
		kube_http_arm(connection);
		if (connection->tls != NULL)
			kube_http_tls_input(connection, buffer->base, (size_t)nread);
		else
			kube_http_parse(connection, buffer->base, (size_t)nread);
	} else if (nread == UV_EOF) {
		kube_http_eof(connection);
	} else if (nread < 0) {
		kube_http_fail(connection, (int)nread);
	} else if (buffer->base == NULL) {
		kube_http_fail(connection, -ENOMEM);
	}
	free(buffer->base);
}

static void
kube_http_send(struct kube_http_connection *connection)
{
	struct kube_http_request *request = connection->request;
	char *copy;
	int error;

	if (request == NULL)
		return;
	kube_http_arm(connection);
	if (connection->tls != NULL) {
		error = tls_session_write(connection->tls, request->text.data,
		    request->text.len);
		if (error == 0)
			error = kube_http_flush(connection);
	} else {
		if ((copy = malloc(request->text.len)) == NULL) {
			error = -ENOMEM;
		} else {
			memcpy(copy, request->text.data, request->text.len);
			error = kube_http_write_raw(connection, copy,
			    request->text.len);
		}
	}
	if (error != 0)
		kube_http_fail(connection, error);
}

static void
kube_http_connected(uv_connect_t *req, int status)
{
	struct kube_http_connection *connection = req->data;
	int error;

	if (status == UV_ECANCELED || connection->state == KUBE_HTTP_CLOSING)
		return;
	if (status < 0) {
		log_debug("kube http: connecting to %s failed: %s",
		    connection->http->authority, uv_strerror(status));
		kube_http_fail(connection, status);
		return;
	}
	uv_tcp_nodelay(&connection->tcp, 1);
	uv_tcp_keepalive(&connection->tcp, 1, connection->http->keepalive_seconds);
	if ((error = uv_read_start((uv_stream_t *)&connection->tcp,
	    kube_http_alloc, kube_http_read)) != 0) {
		kube_http_fail(connection, error);
		return;
	}
	if (connection->http->tls == NULL) {
		connection->state = KUBE_HTTP_READY;
		kube_http_send(connection);
		return;
	}
	connection->state = KUBE_HTTP_HANDSHAKING;
	connection->tls = tls_session_new(connection->http->tls,
	    connection->http->server_name);
	if (connection->tls == NULL) {
		kube_http_fail(connection, -ENOMEM);
		return;
	}
	error = tls_session_handshake(connection->tls);
	if (kube_http_flush(connection) != 0 || (error != 0 && error != -EAGAIN))
		kube_http_fail(connection, error != 0 ? error : -EIO);
}

static void
kube_http_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *result)
{
	struct kube_http_connection *connection = req->data;
	int error;

	connection->resolving = false;
	if (connection->state == KUBE_HTTP_CLOSING) {
		uv_freeaddrinfo(result);
		kube_http_maybe_free(connection);
		return;
	}
	if (status < 0 || result == NULL) {
		log_warn("kube http: cannot resolve %s: %s",
		    connection->http->host, uv_strerror(status));
		uv_freeaddrinfo(result);
		kube_http_fail(connection, -EHOSTUNREACH);
		return;
	}
	connection->state = KUBE_HTTP_CONNECTING;
	connection->connect.data = connection;
	error = uv_tcp_connect(&connection->connect, &connection->tcp,
	    result->ai_addr, kube_http_connected);
	uv_freeaddrinfo(result);
	if (error != 0)
		kube_http_fail(connection, error);
}

static struct kube_http_connection *
kube_http_connection_new(struct kube_http *http)
{
	struct kube_http_connection *connection;
	struct addrinfo hints = { 0 };
	int error;

	if ((connection = calloc(1, sizeof *connection)) == NULL)
		return NULL;
	connection->http = http;
	connection->state = KUBE_HTTP_RESOLVING;
	uv_tcp_init(http->loop, &connection->tcp);
	uv_timer_init(http->loop, &connection->timer);
	connection->tcp.data = connection;
	connection->timer.data = connection;
	connection->open_handles = 2;
	llhttp_settings_init(&connection->settings);
	connection->settings.on_headers_complete = kube_http_on_headers_complete;
	connection->settings.on_body = kube_http_on_body;
	connection->settings.on_message_complete = kube_http_on_message_complete;
	llhttp_init(&connection->parser, HTTP_RESPONSE, &connection->settings);
	connection->parser.data = connection;
	connection->next = http->connections;
	http->connections = connection;
	http->connects++;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	connection->resolve.data = connection;
	connection->resolving = true;
	error = uv_getaddrinfo(http->loop, &connection->resolve,
	    kube_http_resolved, http->host, http->port, &hints);
	if (error != 0) {
		connection->resolving = false;
		kube_http_connection_close(connection);
		errno = -error;
		return NULL;
	}
	return connection;
}

static int
kube_http_attach(struct kube_http *http, struct kube_http_request *request)
{
	struct kube_http_connection *connection;

	for (connection = http->connections; connection != NULL;
	    connection = connection->next) {
		if (connection->idle)
			break;
	}
	if (connection != NULL) {
		connection->idle = false;
		http->idle_count--;
		request->reused = true;
		connection->request = request;
		request->connection = connection;
		kube_http_send(connection);
		return 0;
	}
	if ((connection = kube_http_connection_new(http)) == NULL)
		return -errno;
	connection->request = request;
	request->connection = connection;
	kube_http_arm(connection);
	return 0;
}

struct kube_http_request *
kube_http_start(struct kube_http *http, const char *method, const char *path,
    const char *headers, const char *body, size_t body_len,
    uint64_t timeout_ms, const struct kube_http_callbacks *callbacks, void *arg)
{
	struct kube_http_request *request;
	int error;

	if (http->closing) {
		errno = ESHUTDOWN;
		return NULL;
	}
	if ((request = calloc(1, sizeof *request)) == NULL)
		return NULL;
	request->http = http;
	request->callbacks = *callbacks;
	request->arg = arg;
	request->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	error = buf_printf(&request->text, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: temperd\r\n%s", method, path, http->authority,
	    headers != NULL ? headers : "");
	if (error == 0 && (body != NULL || strcmp(method, "GET") != 0))
		error = buf_printf(&request->text, "Content-Length: %zu\r\n",
		    body_len);
	if (error == 0)
		error = buf_puts(&request->text, "\r\n");
	if (error == 0 && body_len > 0)
		error = buf_append(&request->text, body, body_len);
	if (error == 0)
		error = kube_http_attach(http, request);
	if (error != 0) {
		kube_http_request_free(request);
		errno = -error;
		return NULL;
	}
	return request;
}

void
kube_http_cancel(struct kube_http_request *request)
{
	struct kube_http_connection *connection;

	if (request == NULL)
		return;
	if ((connection = request->connection) != NULL) {
		connection->request = NULL;
		kube_http_connection_close(connection);
	}
	kube_http_request_free(request);
}

void
kube_http_close(struct kube_http *http, void (*closed)(struct kube_http *))
{
	struct kube_http_connection *connection, *next;
	struct kube_http_request *request;

	http->closing = true;
	http->closed = closed;
	for (connection = http->connections; connection != NULL;
	    connection = next) {
		next = connection->next;
		if ((request = connection->request) != NULL) {
			connection->request = NULL;
			request->connection = NULL;
			kube_http_request_free(request);
		}
		kube_http_connection_close(connection);
	}
	free(http->host);
	free(http->port);
	free(http->authority);
	free(http->server_name);
	http->host = http->port = http->authority = http->server_name = NULL;
	if (http->connections == NULL && http->closed != NULL) {
		http->closed = NULL;
		closed(http);
	}
}
