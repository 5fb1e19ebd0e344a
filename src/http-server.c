/*
 * http-server.c - HTTP/1.1 (and HTTPS) server on the libuv loop.
 *
 * Bytes flow: socket -> (TLS session) -> plaintext input -> llhttp ->
 * request -> router -> handler -> response bytes -> (TLS) -> uv_write.
 * The parser pauses after every complete message, so each request is
 * dispatched and answered before the next one in the same read is parsed:
 * pipelined requests are answered in order by construction.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cause.h"
#include "http-parser.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "number-format.h"
#include "tls.h"

#define HTTP_SERVER_BACKLOG 511
#define HTTP_SERVER_TLS_POLL_MS 2000
#define HTTP_SERVER_TLS_SETTLE_MS 300
/* Unparsed input a client may queue behind a deferred request. */
#define HTTP_SERVER_PENDING_MAX (256 * 1024)
/* How long a closing connection drains what the client still sends. */
#define HTTP_SERVER_LINGER_MS 1000
/* Reused buffers (response heads, TLS records) bigger than this are freed. */
#define HTTP_SERVER_SCRATCH_KEEP (64 * 1024)
/* Bodies up to this size are copied behind the head: one part to write. */
#define HTTP_SERVER_INLINE_BODY 1024

enum http_conn_phase {
	HTTP_CONN_IDLE,			/* between requests */
	HTTP_CONN_READING,		/* a request has begun */
	HTTP_CONN_WAITING,		/* a deferred request awaits its answer */
};

struct http_listener {
	struct http_server *server;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} socket;
	bool is_pipe;
	char *address;
	struct tls_config *tls;
	uv_fs_poll_t cert_poll;
	uv_fs_poll_t key_poll;
	uv_timer_t reload_timer;
	bool watching_tls;		/* the three handles above are initialised */
	unsigned open_handles;
};

struct http_conn {
	struct http_conn *prev, *next;
	struct http_server *server;
	struct http_listener *listener;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} socket;
	uv_timer_t timer;
	unsigned open_handles;
	struct http_parser parser;
	struct tls_session *tls;
	bool tls_sniffed;
	struct buf plain;		/* decrypted input not yet parsed */
	struct http_request *deferred;	/* dispatched, unanswered */
	enum http_conn_phase phase;
	uint64_t request_started_ns;	/* first bytes of the request under way */
	bool continue_sent;
	unsigned writes_pending;
	bool reading;
	bool dispatching;		/* inside a handler called from http_conn_process */
	bool closing;
	bool close_after_write;
	bool lingering;			/* answered for the last time, draining */
	uv_shutdown_t shutdown;
};

struct http_server {
	uv_loop_t *loop;
	struct http_server_limits limits;
	struct http_router router;
	struct http_listener **listeners;
	size_t listener_count;
	struct http_conn *connections;
	unsigned connection_count;
	unsigned open_handles;		/* listeners' handles still closing */
	bool closing;
	void (*done)(void *arg);
	void *done_arg;

	struct buf head;		/* the response head being written, reused */

	struct metrics *metrics;
	struct metric_family *requests;
	struct metric_family *durations;
	struct metric_series *connections_open;
	struct metric_series *connections_rejected;
	struct metric_family *tls_reloads;
	struct metric_family *refusals;
};

static void http_conn_close(struct http_conn *conn);
static void http_conn_process(struct http_conn *conn);
static void http_conn_timeout(uv_timer_t *timer);
static void http_conn_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *b);
static void http_conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b);
static void http_conn_linger(struct http_conn *conn);
static void http_server_maybe_done(struct http_server *server);

void
http_server_limits_default(struct http_server_limits *limits)
{
	limits->max_header_bytes = 16 * 1024;
	limits->max_body_bytes = 4 * 1024 * 1024;
	limits->request_timeout_ms = 10 * 1000;
	limits->idle_timeout_ms = 60 * 1000;
	limits->max_connections = 1024;
}

const char *
http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* --- requests ------------------------------------------------------------ */

const char *
http_request_method(const struct http_request *request)
{
	return request->method;
}

const char *
http_request_path(const struct http_request *request)
{
	return request->path;
}

const char *
http_request_query(const struct http_request *request)
{
	return request->query;
}

const char *
http_request_header(const struct http_request *request, const char *name)
{
	for (size_t i = 0; i < request->header_count; i++) {
		if (strcasecmp(request->headers[i].name, name) == 0)
			return request->headers[i].value;
	}
	return NULL;
}

const char *
http_request_body(const struct http_request *request, size_t *len)
{
	if (len != NULL)
		*len = request->body.len;
	return request->body.data != NULL ? request->body.data : "";
}

static int
http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
http_request_query_param(const struct http_request *request, const char *name,
    char *value, size_t size)
{
	const char *p = request->query;
	size_t name_len = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&'), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p), out = 0;

		eq = memchr(p, '=', len);
		if ((eq ? (size_t)(eq - p) : len) == name_len && strncmp(p, name, name_len) == 0) {
			const char *v = eq ? eq + 1 : p + len;

			for (; v < p + len; v++) {
				char c = *v;

				if (c == '+') {
					c = ' ';
				} else if (c == '%' && p + len - v >= 3 &&
				    http_hex_value(v[1]) >= 0 && http_hex_value(v[2]) >= 0) {
					c = (char)(http_hex_value(v[1]) * 16 + http_hex_value(v[2]));
					v += 2;
				}
				if (out + 1 >= size)
					return -ENOSPC;
				value[out++] = c;
			}
			if (size == 0)
				return -ENOSPC;
			value[out] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

bool
http_request_local(const struct http_request *request)
{
	return request->conn->listener->is_pipe;
}

void
http_request_on_cancel(struct http_request *request,
    void (*cancel)(struct http_request *request, void *arg), void *arg)
{
	request->cancel = cancel;
	request->cancel_arg = arg;
}

int
http_response_header(struct http_request *request, const char *name,
    const char *value)
{
	/* A value with CR or LF would let a caller split the response. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -EINVAL;
	return buf_printf(&request->extra_headers, "%s: %s\r\n", name, value);
}

/* --- writing --------------------------------------------------------------- */

/* What the socket did not take at once, copied: the caller's buffers are gone by then. */
struct http_write {
	uv_write_t req;
	struct http_conn *conn;
	char data[];
};

static void
http_conn_write_done(uv_write_t *req, int status)
{
	struct http_write *write = req->data;
	struct http_conn *conn = write->conn;

	free(write);
	conn->writes_pending--;
	if (status < 0 && status != UV_ECANCELED) {
		log_debug("http: write to client failed: %s; closing the connection",
		    uv_strerror(status));
		http_conn_close(conn);
		return;
	}
	if (conn->close_after_write && conn->writes_pending == 0)
		http_conn_linger(conn);
}

/* Queue a copy of the parts from byte skip on. */
static int
http_conn_queue(struct http_conn *conn, const uv_buf_t *parts, unsigned count,
    size_t skip, size_t total)
{
	struct http_write *write;
	uv_buf_t b;
	size_t len = 0;
	int error;

	if ((write = malloc(sizeof *write + total - skip)) == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		size_t from = skip < parts[i].len ? skip : parts[i].len;

		memcpy(write->data + len, parts[i].base + from, parts[i].len - from);
		len += parts[i].len - from;
		skip -= from;
	}
	write->conn = conn;
	write->req.data = write;
	b = uv_buf_init(write->data, (unsigned)len);
	if ((error = uv_write(&write->req, &conn->socket.stream, &b, 1,
	    http_conn_write_done)) != 0) {
		free(write);
		return error;
	}
	conn->writes_pending++;
	return 0;
}

/*
 * Send bytes to the client, through TLS when the listener speaks it.  What
 * the socket takes at once goes from the caller's buffers (or the TLS
 * session's) with no copy and no allocation; only the rest, or everything
 * while an earlier write is still queued (uv_try_write refuses then, which
 * keeps the order), is copied and queued.
 */
static int
http_conn_sendv(struct http_conn *conn, const uv_buf_t *parts, unsigned count)
{
	struct buf *cipher = NULL;
	uv_buf_t sealed;
	size_t total = 0, written = 0;
	int n, error = 0;

	if (conn->closing)
		return -EPIPE;
	if (conn->tls != NULL) {
		for (unsigned i = 0; i < count; i++) {
			if (parts[i].len > 0 &&
			    (error = tls_session_write(conn->tls, parts[i].base, parts[i].len)) != 0)
				return error;
		}
		cipher = tls_session_pending(conn->tls);
		sealed = uv_buf_init(cipher->data, (unsigned)cipher->len);
		parts = &sealed;
		count = 1;
	}
	for (unsigned i = 0; i < count; i++)
		total += parts[i].len;
	if (total > 0) {
		if ((n = uv_try_write(&conn->socket.stream, parts, count)) > 0)
			written = (size_t)n;
		if (written < total)
			error = http_conn_queue(conn, parts, count, written, total);
	}
	/* The session's buffer serves the next answer, unless one was huge. */
	if (cipher != NULL) {
		if (cipher->cap > HTTP_SERVER_SCRATCH_KEEP)
			buf_free(cipher);
		else
			buf_reset(cipher);
	}
	return error;
}

static int
http_conn_send(struct http_conn *conn, const void *data, size_t len)
{
	uv_buf_t part = uv_buf_init((char *)data, (unsigned)len);

	return http_conn_sendv(conn, &part, 1);
}

/*
 * Nothing more will be answered: once the last bytes are on their way (at
 * once when the socket took them all), close the lingering way.
 */
static void
http_conn_finish(struct http_conn *conn)
{
	conn->close_after_write = true;
	if (conn->writes_pending == 0)
		http_conn_linger(conn);
}

/* Flush what the TLS engine produced on its own (handshake, alerts). */
static int
http_conn_flush_tls(struct http_conn *conn)
{
	return http_conn_send(conn, NULL, 0);
}

static void
http_server_count(struct http_server *server, const struct http_request *request,
    int status)
{
	const char *route = request != NULL && request->route ? request->route : "unmatched";
	char code[NUMBER_FORMAT_MAX];
	const char *labels[] = { route, code, NULL };
	const char *route_label[] = { route, NULL };
	uint64_t elapsed;

	number_format_u64(code, (uint64_t)status);
	metric_inc(metrics_series(server->requests, labels));
	if (request != NULL && request->started_ns != 0) {
		elapsed = uv_hrtime() - request->started_ns;
		metric_observe(metrics_series(server->durations, route_label), elapsed / 1e9);
	}
}

static void
http_conn_arm_timer(struct http_conn *conn, uint64_t timeout_ms);

/*
 * Write one response.  request may be NULL when the parser refused the
 * bytes before a request existed; the connection then closes.
 *
 * The head is built in the server's reused buffer.  A large body is
 * written from the caller's memory beside it (a /metrics text is never
 * copied on plain HTTP); a small one, or any body over TLS (which copies
 * into records anyway), follows the head in that buffer, so the answer
 * leaves in one write and, over TLS, in as few records as it can.
 */
static void
http_conn_respond(struct http_conn *conn, struct http_request *request,
    int status, const char *content_type, const void *body, size_t len,
    bool close)
{
	struct buf *head = &conn->server->head;
	const char *reason = http_status_reason(status);
	char number[NUMBER_FORMAT_MAX];
	bool keep_alive = !close && request != NULL && request->keep_alive &&
	    !conn->server->closing;
	bool with_body = request == NULL || !request->head;
	bool inline_body = with_body && (conn->tls != NULL || len <= HTTP_SERVER_INLINE_BODY);
	size_t extra = request != NULL ? request->extra_headers.len : 0;
	uv_buf_t parts[2];
	unsigned count = 1;

	buf_reset(head);
	/* Everything appended below fits: the appends cannot fail. */
	if (buf_reserve(head, 128 + strlen(reason) + strlen(content_type) + extra +
	    (inline_body ? len : 0)) != 0) {
		http_conn_close(conn);
		return;
	}
	buf_puts(head, "HTTP/1.1 ");
	number_format_u64(number, (uint64_t)status);
	buf_puts(head, number);
	buf_puts(head, " ");
	buf_puts(head, reason);
	buf_puts(head, "\r\nContent-Type: ");
	buf_puts(head, content_type);
	buf_puts(head, "\r\nContent-Length: ");
	number_format_u64(number, len);
	buf_puts(head, number);
	buf_puts(head, keep_alive ? "\r\n" : "\r\nConnection: close\r\n");
	if (extra > 0)
		buf_append(head, request->extra_headers.data, extra);
	buf_puts(head, "\r\n");
	if (inline_body)
		buf_append(head, body, len);
	parts[0] = uv_buf_init(head->data, (unsigned)head->len);
	if (with_body && !inline_body)
		parts[count++] = uv_buf_init((char *)body, (unsigned)len);
	if (http_conn_sendv(conn, parts, count) != 0) {
		http_conn_close(conn);
		return;
	}
	if (head->cap > HTTP_SERVER_SCRATCH_KEEP)
		buf_free(head);
	http_server_count(conn->server, request, status);
	if (!keep_alive) {
		if (conn->tls != NULL) {
			tls_session_close_notify(conn->tls);
			http_conn_flush_tls(conn);
		}
		if (conn->reading) {
			uv_read_stop(&conn->socket.stream);
			conn->reading = false;
		}
		http_conn_finish(conn);
	}
}

static void
http_conn_refuse(struct http_conn *conn, int status, const char *reason)
{
	cJSON *json = cJSON_CreateObject();
	char *text;
	const char *labels[] = { reason, NULL };

	metric_inc(metrics_series(conn->server->refusals, labels));
	log_debug("http: refusing a request on %s with %d: %s; closing the connection",
	    conn->listener->address, status, reason);
	cJSON_AddStringToObject(json, "error", reason);
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	/* The request under way, if any, is only good for its route label. */
	http_conn_respond(conn, NULL, status, "application/json",
	    text ? text : "{}", text ? strlen(text) : 2, true);
	free(text);
}

void
http_respond(struct http_request *request, int status, const char *content_type,
    const void *body, size_t len)
{
	struct http_conn *conn = request->conn;
	bool was_deferred = conn->deferred == request;

	http_conn_respond(conn, request, status, content_type, body, len, false);
	if (was_deferred)
		conn->deferred = NULL;
	http_request_free(request);
	if (!conn->closing && !conn->close_after_write) {
		conn->phase = HTTP_CONN_IDLE;
		http_conn_arm_timer(conn, conn->server->limits.idle_timeout_ms);
		/* Requests held behind a deferred one are parsed now. */
		if (was_deferred && !conn->dispatching)
			http_conn_process(conn);
	}
}

void
http_respond_json(struct http_request *request, int status, const cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);

	if (text == NULL) {
		http_respond_error(request, 500, "out of memory rendering JSON");
		return;
	}
	http_respond(request, status, "application/json", text, strlen(text));
	free(text);
}

void
http_respond_error(struct http_request *request, int status, const char *fmt, ...)
{
	char reason[512];
	cJSON *json;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	json = cJSON_CreateObject();
	if (json == NULL || cJSON_AddStringToObject(json, "error", reason) == NULL) {
		cJSON_Delete(json);
		http_respond(request, status, "application/json", "{}", 2);
		return;
	}
	http_respond_json(request, status, json);
	cJSON_Delete(json);
}

/* --- parsing ------------------------------------------------------------- */

static void
http_conn_arm_timer(struct http_conn *conn, uint64_t timeout_ms)
{
	if (!conn->closing)
		uv_timer_start(&conn->timer, http_conn_timeout, timeout_ms, 0);
}

static void
http_conn_dispatch(struct http_conn *conn, struct http_request *request)
{
	const struct http_route *route;
	char allow[64];

	request->conn = conn;
	request->started_ns = conn->request_started_ns ? conn->request_started_ns : uv_hrtime();
	conn->request_started_ns = 0;
	conn->continue_sent = false;
	conn->phase = HTTP_CONN_WAITING;
	uv_timer_stop(&conn->timer);
	/* Held as deferred while the handler runs; answering releases it. */
	conn->deferred = request;
	conn->dispatching = true;
	switch (http_router_match(&conn->server->router, request->method,
	    request->path, &route, allow, sizeof allow)) {
	case HTTP_ROUTER_FOUND:
		request->route = route->pattern;
		route->handler(request, route->arg);
		break;
	case HTTP_ROUTER_METHOD_NOT_ALLOWED:
		http_response_header(request, "Allow", allow);
		http_respond_error(request, 405, "method %s not allowed on %s",
		    request->method, request->path);
		break;
	case HTTP_ROUTER_NOT_FOUND:
		http_respond_error(request, 404, "no such path: %s", request->path);
		break;
	}
	conn->dispatching = false;
}

/*
 * Parse what is buffered, one request at a time.  Stops when the input is
 * used up, a request is deferred, or the connection is closing.
 */
static void
http_conn_process(struct http_conn *conn)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	while (!conn->closing && !conn->close_after_write && conn->deferred == NULL &&
	    conn->plain.len > 0) {
		enum http_parse_result result;
		size_t used;

		result = http_parser_execute(&conn->parser, conn->plain.data,
		    conn->plain.len, &used);
		buf_consume(&conn->plain, used);
		if (result == HTTP_PARSE_REQUEST) {
			http_conn_dispatch(conn, http_parser_take(&conn->parser));
			continue;
		}
		if (result == HTTP_PARSE_ERROR) {
			http_conn_refuse(conn, conn->parser.status, conn->parser.reason);
			buf_reset(&conn->plain);
			break;
		}
		/* A request has begun: from now on it must complete in time. */
		if (http_parser_in_request(&conn->parser) && conn->phase == HTTP_CONN_IDLE) {
			conn->phase = HTTP_CONN_READING;
			conn->request_started_ns = uv_hrtime();
			http_conn_arm_timer(conn, conn->server->limits.request_timeout_ms);
		}
		/* curl and Go wait for this before sending a large body. */
		if (http_parser_in_request(&conn->parser) &&
		    conn->parser.request->expect_continue && !conn->continue_sent) {
			conn->continue_sent = true;
			http_conn_send(conn, cont, sizeof cont - 1);
		}
		break;
	}
	/* Resume reading once nothing is held back. */
	if (!conn->closing && !conn->close_after_write && conn->deferred == NULL &&
	    !conn->reading) {
		if (uv_read_start(&conn->socket.stream, http_conn_alloc, http_conn_read) == 0)
			conn->reading = true;
	}
}

/* --- connections ---------------------------------------------------------- */

static void
http_conn_handle_closed(uv_handle_t *handle)
{
	struct http_conn *conn = handle->data;
	struct http_server *server = conn->server;

	if (--conn->open_handles > 0)
		return;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		server->connections = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	server->connection_count--;
	metric_set(server->connections_open, server->connection_count);
	tls_session_free(conn->tls);
	buf_free(&conn->plain);
	http_parser_free(&conn->parser);
	free(conn);
	http_server_maybe_done(server);
}

static void
http_conn_close(struct http_conn *conn)
{
	struct http_request *deferred;

	if (conn->closing)
		return;
	conn->closing = true;
	if ((deferred = conn->deferred) != NULL) {
		conn->deferred = NULL;
		if (deferred->cancel != NULL)
			deferred->cancel(deferred, deferred->cancel_arg);
		http_request_free(deferred);
	}
	uv_close(&conn->socket.handle, http_conn_handle_closed);
	uv_close((uv_handle_t *)&conn->timer, http_conn_handle_closed);
}

static void
http_conn_timeout(uv_timer_t *timer)
{
	struct http_conn *conn = timer->data;

	if (conn->phase == HTTP_CONN_READING) {
		log_debug("http: request on %s not complete within %llu ms; answering 408",
		    conn->listener->address,
		    (unsigned long long)conn->server->limits.request_timeout_ms);
		http_conn_refuse(conn, 408, "request timeout");
		/* Written already: the lingering close runs its own timer. */
		if (conn->closing || conn->lingering)
			return;
		/* Never wait on a client that stopped reading, either. */
		uv_timer_start(&conn->timer, http_conn_timeout, 1000, 0);
		return;
	}
	http_conn_close(conn);
}

static void
http_conn_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *b)
{
	static char slab[64 * 1024];

	(void)handle;
	(void)suggested;
	/* The loop is single-threaded and each read is consumed at once. */
	*b = uv_buf_init(slab, sizeof slab);
}

/* The first byte of a TLS connection is a handshake record (0x16). */
static bool
http_conn_sniff_plaintext(struct http_conn *conn, const char *data, size_t len)
{
	static const char body[] =
	    "{\"error\":\"plain HTTP sent to a TLS port: use https://\"}";
	const char *labels[] = { "plaintext on TLS port", NULL };
	char answer[256];
	uv_buf_t b;
	int answer_len;

	conn->tls_sniffed = true;
	if (len == 0 || (unsigned char)data[0] == 0x16)
		return false;
	metric_inc(metrics_series(conn->server->refusals, labels));
	log_debug("http: plain bytes on TLS listener %s; answering 400 in clear and closing",
	    conn->listener->address);
	if (isupper((unsigned char)data[0])) {
		answer_len = snprintf(answer, sizeof answer,
		    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
		    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
		    sizeof body - 1, body);
		b = uv_buf_init(answer, (unsigned)answer_len);
		(void)uv_try_write(&conn->socket.stream, &b, 1);
	}
	http_conn_close(conn);
	return true;
}

static void
http_conn_linger_timeout(uv_timer_t *timer)
{
	http_conn_close(timer->data);
}

static void
http_conn_shutdown_done(uv_shutdown_t *req, int status)
{
	struct http_conn *conn = req->data;

	if (status < 0 && status != UV_ECANCELED)
		http_conn_close(conn);
}

/*
 * After the last answer: send FIN, then read and drop what the client still
 * sends, for a moment, before closing.  Closing at once with unread bytes
 * in the socket makes the kernel answer with a RST, which can destroy the
 * answer still on its way to the client (a 408 or 413 above all): the
 * lingering close web servers do.
 */
static void
http_conn_linger(struct http_conn *conn)
{
	if (conn->closing || conn->lingering)
		return;
	conn->lingering = true;
	conn->shutdown.data = conn;
	if (uv_shutdown(&conn->shutdown, &conn->socket.stream, http_conn_shutdown_done) != 0) {
		http_conn_close(conn);
		return;
	}
	uv_timer_start(&conn->timer, http_conn_linger_timeout, HTTP_SERVER_LINGER_MS, 0);
	if (!conn->reading &&
	    uv_read_start(&conn->socket.stream, http_conn_alloc, http_conn_read) == 0)
		conn->reading = true;
}

static void
http_conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
	struct http_conn *conn = stream->data;
	int error;

	if (conn->lingering) {
		/* Dropped unread; the client's FIN or an error ends the wait. */
		if (nread < 0)
			http_conn_close(conn);
		return;
	}
	if (nread < 0) {
		http_conn_close(conn);
		return;
	}
	if (nread == 0 || conn->closing)
		return;
	if (conn->tls == NULL) {
		if (conn->plain.len + (size_t)nread > HTTP_SERVER_PENDING_MAX + 65536) {
			http_conn_close(conn);
			return;
		}
		if (buf_append(&conn->plain, b->base, (size_t)nread) != 0) {
			http_conn_close(conn);
			return;
		}
	} else {
		if (!conn->tls_sniffed && http_conn_sniff_plaintext(conn, b->base, (size_t)nread))
			return;
		if (tls_session_feed(conn->tls, b->base, (size_t)nread) != 0) {
			http_conn_close(conn);
			return;
		}
		if (!tls_session_established(conn->tls)) {
			error = tls_session_handshake(conn->tls);
			http_conn_flush_tls(conn);
			if (error == -EAGAIN)
				return;
			if (error != 0) {
				log_debug("http: TLS on %s: %s; closing the connection",
				    conn->listener->address, tls_session_error(conn->tls));
				http_conn_finish(conn);
				return;
			}
		}
		error = tls_session_read(conn->tls, &conn->plain);
		http_conn_flush_tls(conn);
		if (error != 0) {
			/* close_notify or a broken record: nothing more will come. */
			http_conn_finish(conn);
			return;
		}
	}
	/* Hold input behind a deferred request, within a bound. */
	if (conn->deferred != NULL) {
		if (conn->plain.len > HTTP_SERVER_PENDING_MAX) {
			uv_read_stop(&conn->socket.stream);
			conn->reading = false;
		}
		return;
	}
	http_conn_process(conn);
}

static void
http_listener_accept(uv_stream_t *stream, int status)
{
	struct http_listener *listener = stream->data;
	struct http_server *server = listener->server;
	struct http_conn *conn;
	int error;

	if (status < 0) {
		log_warn("http: accept on %s failed: %s; still listening",
		    listener->address, uv_strerror(status));
		return;
	}
	if ((conn = calloc(1, sizeof *conn)) == NULL)
		return;
	conn->server = server;
	conn->listener = listener;
	if (listener->is_pipe)
		error = uv_pipe_init(server->loop, &conn->socket.pipe, 0);
	else
		error = uv_tcp_init(server->loop, &conn->socket.tcp);
	if (error != 0) {
		free(conn);
		return;
	}
	conn->socket.handle.data = conn;
	uv_timer_init(server->loop, &conn->timer);
	conn->timer.data = conn;
	conn->open_handles = 2;
	conn->next = server->connections;
	if (server->connections != NULL)
		server->connections->prev = conn;
	server->connections = conn;
	server->connection_count++;
	metric_set(server->connections_open, server->connection_count);
	http_parser_init(&conn->parser, &(struct http_parser_limits){
	    server->limits.max_header_bytes, server->limits.max_body_bytes });

	if (uv_accept(stream, &conn->socket.stream) != 0) {
		http_conn_close(conn);
		return;
	}
	if (server->closing || server->connection_count > server->limits.max_connections) {
		metric_inc(server->connections_rejected);
		log_debug("http: %u connections open on %s, over the cap of %u; closing the new one",
		    server->connection_count - 1, listener->address,
		    server->limits.max_connections);
		http_conn_close(conn);
		return;
	}
	if (!listener->is_pipe)
		uv_tcp_nodelay(&conn->socket.tcp, 1);
	if (listener->tls != NULL &&
	    (conn->tls = tls_session_new(listener->tls, NULL)) == NULL) {
		http_conn_close(conn);
		return;
	}
	/* A new connection gets the request timeout for its first bytes. */
	uv_timer_start(&conn->timer, http_conn_timeout,
	    server->limits.request_timeout_ms, 0);
	if (uv_read_start(&conn->socket.stream, http_conn_alloc, http_conn_read) != 0) {
		http_conn_close(conn);
		return;
	}
	conn->reading = true;
}

/* --- TLS files ------------------------------------------------------------ */

static void
http_listener_reload(uv_timer_t *timer)
{
	struct http_listener *listener = timer->data;
	char *cause = NULL;
	const char *ok[] = { "ok", NULL }, *failed[] = { "failed", NULL };

	if (tls_config_reload(listener->tls, &cause) == 0) {
		log_info("http: reloaded the TLS certificate of %s; new connections use it",
		    listener->address);
		metric_inc(metrics_series(listener->server->tls_reloads, ok));
	} else {
		log_warn("http: cannot reload the TLS certificate of %s: %s; the previous certificate keeps serving",
		    listener->address, cause ? cause : "unknown error");
		metric_inc(metrics_series(listener->server->tls_reloads, failed));
	}
	free(cause);
}

static void
http_listener_tls_changed(uv_fs_poll_t *poll, int status, const uv_stat_t *prev,
    const uv_stat_t *curr)
{
	struct http_listener *listener = poll->data;

	(void)status;
	(void)prev;
	(void)curr;
	/* Certificate and key are rarely replaced in one step; let both land. */
	uv_timer_start(&listener->reload_timer, http_listener_reload,
	    HTTP_SERVER_TLS_SETTLE_MS, 0);
}

/* --- listeners ------------------------------------------------------------ */

static int
http_parse_address(const char *address, struct sockaddr_storage *storage)
{
	char host[256];
	const char *colon = strrchr(address, ':');
	long port;
	char *end;

	if (colon == NULL || colon - address >= (long)sizeof host)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
		return -EINVAL;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	if (host[0] == '[') {
		size_t len = strlen(host);

		if (len < 2 || host[len - 1] != ']')
			return -EINVAL;
		host[len - 1] = '\0';
		return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)storage);
	}
	if (host[0] == '\0')
		return uv_ip6_addr("::", (int)port, (struct sockaddr_in6 *)storage);
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)storage);
}

static void
http_listener_handle_closed(uv_handle_t *handle)
{
	struct http_listener *listener = handle->data;
	struct http_server *server = listener->server;

	if (--listener->open_handles > 0)
		return;
	tls_config_free(listener->tls);
	free(listener->address);
	free(listener);
	server->open_handles--;
	http_server_maybe_done(server);
}

static void
http_listener_close(struct http_listener *listener)
{
	listener->server->open_handles++;
	uv_close(&listener->socket.handle, http_listener_handle_closed);
	if (listener->watching_tls) {
		uv_close((uv_handle_t *)&listener->cert_poll, http_listener_handle_closed);
		uv_close((uv_handle_t *)&listener->key_poll, http_listener_handle_closed);
		uv_close((uv_handle_t *)&listener->reload_timer, http_listener_handle_closed);
	}
}

int
http_server_listen(struct http_server *server, const char *address,
    const char *cert_path, const char *key_path, char **cause)
{
	struct http_listener *listener, **listeners;
	struct sockaddr_storage storage;
	int error;

	if ((listener = calloc(1, sizeof *listener)) == NULL)
		return -ENOMEM;
	listener->server = server;
	if ((listener->address = strdup(address)) == NULL) {
		free(listener);
		return -ENOMEM;
	}
	if (cert_path != NULL && key_path != NULL) {
		listener->tls = tls_config_server_new(cert_path, key_path, cause);
		if (listener->tls == NULL) {
			error = -EINVAL;
			goto fail_unopened;
		}
	}
	listeners = realloc(server->listeners,
	    (server->listener_count + 1) * sizeof *listeners);
	if (listeners == NULL) {
		error = -ENOMEM;
		goto fail_unopened;
	}
	server->listeners = listeners;

	if (strncmp(address, "unix:", 5) == 0) {
		const char *path = address + 5;

		listener->is_pipe = true;
		uv_pipe_init(server->loop, &listener->socket.pipe, 0);
		unlink(path);
		error = uv_pipe_bind(&listener->socket.pipe, path);
		if (error == 0)
			chmod(path, 0600);
	} else {
		if ((error = http_parse_address(address, &storage)) != 0) {
			cause_set(cause, "bad listen address '%s': expected HOST:PORT, [V6]:PORT, :PORT or unix:PATH", address);
			goto fail_unopened;
		}
		uv_tcp_init(server->loop, &listener->socket.tcp);
		error = uv_tcp_bind(&listener->socket.tcp, (struct sockaddr *)&storage, 0);
	}
	listener->socket.handle.data = listener;
	listener->open_handles = 1;
	if (error == 0)
		error = uv_listen(&listener->socket.stream, HTTP_SERVER_BACKLOG,
		    http_listener_accept);
	if (error != 0) {
		cause_set(cause, "cannot listen on %s: %s", address, uv_strerror(error));
		http_listener_close(listener);
		return error;
	}
	if (listener->tls != NULL) {
		uv_fs_poll_init(server->loop, &listener->cert_poll);
		uv_fs_poll_init(server->loop, &listener->key_poll);
		uv_timer_init(server->loop, &listener->reload_timer);
		listener->cert_poll.data = listener->key_poll.data = listener;
		listener->reload_timer.data = listener;
		listener->open_handles += 3;
		listener->watching_tls = true;
		uv_fs_poll_start(&listener->cert_poll, http_listener_tls_changed,
		    cert_path, HTTP_SERVER_TLS_POLL_MS);
		uv_fs_poll_start(&listener->key_poll, http_listener_tls_changed,
		    key_path, HTTP_SERVER_TLS_POLL_MS);
	}
	server->listeners[server->listener_count++] = listener;
	log_info("http: listening on %s%s", address, listener->tls ? " (TLS)" : "");
	return 0;
fail_unopened:
	tls_config_free(listener->tls);
	free(listener->address);
	free(listener);
	return error;
}

int
http_server_port(const struct http_server *server, size_t index)
{
	struct sockaddr_storage storage;
	int len = sizeof storage;

	if (index >= server->listener_count || server->listeners[index]->is_pipe)
		return -1;
	if (uv_tcp_getsockname(&server->listeners[index]->socket.tcp,
	    (struct sockaddr *)&storage, &len) != 0)
		return -1;
	if (storage.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&storage)->sin6_port);
	return ntohs(((struct sockaddr_in *)&storage)->sin_port);
}

/* --- the server ----------------------------------------------------------- */

struct http_server *
http_server_new(uv_loop_t *loop, struct metrics *metrics,
    const struct http_server_limits *limits)
{
	static const char *const request_labels[] = { "route", "code", NULL };
	static const char *const route_labels[] = { "route", NULL };
	static const char *const result_labels[] = { "result", NULL };
	static const char *const reason_labels[] = { "reason", NULL };
	struct http_server *server;

	if ((server = calloc(1, sizeof *server)) == NULL)
		return NULL;
	server->loop = loop;
	server->metrics = metrics;
	if (limits != NULL)
		server->limits = *limits;
	else
		http_server_limits_default(&server->limits);

	server->requests = metrics_family(metrics, METRIC_COUNTER,
	    "temper_http_requests_total", "HTTP requests answered, by route and status code.",
	    request_labels, NULL, 0);
	server->durations = metrics_family(metrics, METRIC_HISTOGRAM,
	    "temper_http_request_duration_seconds",
	    "Time from a request's first byte to its answer, by route.",
	    route_labels, metrics_latency_buckets, metrics_latency_bucket_count);
	server->connections_open = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_http_connections", "Open HTTP connections.", NULL, NULL, 0));
	server->connections_rejected = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_http_connections_rejected_total",
	    "Connections closed at once because the connection cap was reached.",
	    NULL, NULL, 0));
	server->tls_reloads = metrics_family(metrics, METRIC_COUNTER,
	    "temper_tls_reloads_total", "TLS certificate reloads, by result.",
	    result_labels, NULL, 0);
	server->refusals = metrics_family(metrics, METRIC_COUNTER,
	    "temper_http_refused_total",
	    "Requests refused by the server's limits or parser, by reason.",
	    reason_labels, NULL, 0);
	if (server->requests == NULL || server->durations == NULL ||
	    server->connections_open == NULL || server->connections_rejected == NULL ||
	    server->tls_reloads == NULL || server->refusals == NULL) {
		free(server);
		return NULL;
	}
	return server;
}

void
http_server_set_limits(struct http_server *server,
    const struct http_server_limits *limits)
{
	server->limits = *limits;
}

struct http_router *
http_server_router(struct http_server *server)
{
	return &server->router;
}

static void
http_server_maybe_done(struct http_server *server)
{
	void (*done)(void *);

	if (!server->closing || server->open_handles > 0 || server->connections != NULL)
		return;
	if ((done = server->done) != NULL) {
		server->done = NULL;
		done(server->done_arg);
	}
}

void
http_server_close(struct http_server *server, void (*done)(void *arg), void *arg)
{
	struct http_conn *conn, *next;

	server->closing = true;
	server->done = done;
	server->done_arg = arg;
	for (size_t i = 0; i < server->listener_count; i++)
		http_listener_close(server->listeners[i]);
	server->listener_count = 0;
	for (conn = server->connections; conn != NULL; conn = next) {
		next = conn->next;
		http_conn_close(conn);
	}
	http_server_maybe_done(server);
}

void
http_server_free(struct http_server *server)
{
	if (server == NULL)
		return;
	http_router_free(&server->router);
	buf_free(&server->head);
	free(server->listeners);
	free(server);
}
