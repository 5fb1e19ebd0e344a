/*
 * t/test-kube-reflector.c - the reflector, client and HTTP client against a
 * scripted fake API server on the same loop (plain HTTP on 127.0.0.1).
 *
 * One script walks every path of the algorithm and the test checks the
 * exact requests it provokes and the callbacks it makes: a 401 answered
 * by re-reading the token file and retrying; a LIST in pages (limit and
 * continue); a WATCH from the list's version whose events arrive in HTTP
 * chunks cut at odd offsets; a bookmark moving the resume point; a normal
 * end resumed from it; 429 and a dropped connection backed off; ERROR 410
 * relisted from the last version, that list refused with 410, then a
 * quorum list whose replace deletes what vanished.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "kube-client.h"
#include "kube-config.h"
#include "kube-pod.h"
#include "kube-reflector.h"
#include "log.h"
#include "pod.h"
#include "tap.h"

struct fake_connection {
	uv_tcp_t tcp;
	struct buf in;
	struct fake_server *server;
};

struct fake_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int port;
	unsigned requests;
	struct buf log;			/* one line per request */
	struct fake_connection *open[16];
};

static struct fake_server server;
static struct kube_client client;
static struct kube_reflector reflector;
static struct buf callbacks_seen = BUF_INIT;
static char token_path[] = "/tmp/test-kube-reflector-token.XXXXXX";

static const char *
pod_json(const char *name, const char *rv)
{
	static char text[512];

	snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"%s\",\"namespace\":"
	    "\"ns\",\"uid\":\"uid-%s\",\"resourceVersion\":\"%s\"},\"spec\":"
	    "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"resources\":"
	    "{\"requests\":{\"cpu\":\"100m\"}}}]},\"status\":{\"qosClass\":"
	    "\"Burstable\"}}", name, name, rv);
	return text;
}

/* A whole response with a Content-Length. */
static void
respond(struct buf *out, int status, const char *body)
{
	buf_printf(out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body);
}

/* A chunked response whose chunks are cut every `cut` bytes. */
static void
respond_chunked(struct buf *out, const char *body, size_t cut)
{
	size_t len = strlen(body), at, n;

	buf_puts(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (at = 0; at < len; at += n) {
		n = len - at < cut ? len - at : cut;
		buf_printf(out, "%zx\r\n", n);
		buf_append(out, body + at, n);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "0\r\n\r\n");
}

static void
list_body(struct buf *out, const char *rv, const char *next, int count, ...)
{
	va_list ap;
	int i;

	va_start(ap, count);
	buf_puts(out, "{\"kind\":\"PodList\",\"metadata\":{");
	buf_printf(out, "\"resourceVersion\":\"%s\",\"continue\":\"%s\"},\"items\":[",
	    rv, next);
	for (i = 0; i < count; i++) {
		const char *name = va_arg(ap, const char *);
		const char *item_rv = va_arg(ap, const char *);

		buf_printf(out, "%s%s", i ? "," : "", pod_json(name, item_rv));
	}
	buf_puts(out, "]}");
	va_end(ap);
}

static void
fake_closed(uv_handle_t *handle)
{
	struct fake_connection *connection = handle->data;

	buf_free(&connection->in);
	free(connection);
}

static void
fake_drop(struct fake_connection *connection)
{
	size_t i;

	for (i = 0; i < 16; i++) {
		if (server.open[i] == connection)
			server.open[i] = NULL;
	}
	if (!uv_is_closing((uv_handle_t *)&connection->tcp))
		uv_close((uv_handle_t *)&connection->tcp, fake_closed);
}

static void
fake_written(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
	free(req);
}

static void
fake_send(struct fake_connection *connection, struct buf *out)
{
	uv_write_t *req = malloc(sizeof *req);
	size_t len = out->len;
	uv_buf_t buffer;

	req->data = buf_detach(out);
	buffer = uv_buf_init(req->data, (unsigned)len);
	uv_write(req, (uv_stream_t *)&connection->tcp, &buffer, 1, fake_written);
}

static void
reflector_closed(struct kube_reflector *r)
{
	(void)r;
	kube_client_close(&client, NULL);
	for (size_t i = 0; i < 16; i++) {
		if (server.open[i] != NULL)
			fake_drop(server.open[i]);
	}
	uv_close((uv_handle_t *)&server.listener, NULL);
}

static const char *const events =
	"{\"type\":\"ADDED\",\"object\":%s}\n"
	"{\"type\":\"MODIFIED\",\"object\":%s}\n"
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
	"\"metadata\":{\"resourceVersion\":\"110\",\"creationTimestamp\":null}}}\n";

/* The script: what the server answers to its n-th request. */
static void
fake_answer(struct fake_connection *connection, const char *auth)
{
	struct buf out = BUF_INIT, body = BUF_INIT;
	char added[512];

	switch (server.requests++) {
	case 0:
		/* The token the client started with was rotated on disk. */
		respond(&out, 401, "{\"kind\":\"Status\",\"code\":401}");
		break;
	case 1:
		if (strstr(auth, "Bearer new-token") == NULL) {
			respond(&out, 401, "{}");
			break;
		}
		list_body(&body, "100", "c1", 2, "a", "1", "b", "2");
		respond(&out, 200, body.data);
		break;
	case 2:
		list_body(&body, "100", "", 1, "c", "3");
		respond(&out, 200, body.data);
		break;
	case 3:
		snprintf(added, sizeof added, "%s", pod_json("d", "101"));
		buf_printf(&body, events, added, pod_json("a", "102"));
		respond_chunked(&out, body.data, 7);
		break;
	case 4:
		respond(&out, 429, "{\"kind\":\"Status\",\"code\":429}");
		break;
	case 5:
	case 6:
		/*
		 * A dropped connection: no answer at all.  The first drop hits
		 * a kept-alive connection, which the HTTP client retries at
		 * once on a new one (the server may have closed it idle); the
		 * second drop, on that fresh connection, reaches the reflector.
		 */
		fake_drop(connection);
		return;
	case 7:
		respond_chunked(&out, "{\"type\":\"ERROR\",\"object\":{\"kind\":"
		    "\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
		    "\"Failure\",\"message\":\"too old resource version: 110 (120)\","
		    "\"reason\":\"Expired\",\"code\":410}}\n", 13);
		break;
	case 8:
		respond(&out, 410, "{\"kind\":\"Status\",\"reason\":\"Expired\","
		    "\"code\":410}");
		break;
	case 9:
		list_body(&body, "130", "", 3, "a", "120", "d", "101", "e", "125");
		respond(&out, 200, body.data);
		break;
	default:
		/* The watch after the relist: the script is done. */
		kube_reflector_stop(&reflector, reflector_closed);
		buf_free(&body);
		return;
	}
	fake_send(connection, &out);
	buf_free(&body);
}

static void
fake_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
	(void)handle;
	buffer->base = malloc(suggested);
	buffer->len = suggested;
}

static void
fake_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buffer)
{
	struct fake_connection *connection = stream->data;
	char *end, *line_end, *auth, request_line[512], auth_value[128];

	if (nread < 0) {
		free(buffer->base);
		fake_drop(connection);
		return;
	}
	buf_append(&connection->in, buffer->base, (size_t)nread);
	free(buffer->base);
	while (connection->in.len > 0 &&
	    (end = strstr(connection->in.data, "\r\n\r\n")) != NULL) {
		line_end = strstr(connection->in.data, "\r\n");
		snprintf(request_line, sizeof request_line, "%.*s",
		    (int)(line_end - connection->in.data), connection->in.data);
		auth_value[0] = '\0';
		if ((auth = strstr(connection->in.data, "Authorization: ")) != NULL &&
		    auth < end)
			snprintf(auth_value, sizeof auth_value, "%.*s",
			    (int)(strstr(auth, "\r\n") - auth - 15), auth + 15);
		buf_printf(&server.log, "%s [%s]\n", request_line, auth_value);
		buf_consume(&connection->in, (size_t)(end + 4 - connection->in.data));
		fake_answer(connection, auth_value);
		if (uv_is_closing((uv_handle_t *)&connection->tcp))
			return;
	}
}

static void
fake_accept(uv_stream_t *listener, int status)
{
	struct fake_connection *connection;
	size_t i;

	if (status < 0)
		return;
	connection = calloc(1, sizeof *connection);
	uv_tcp_init(server.loop, &connection->tcp);
	connection->tcp.data = connection;
	if (uv_accept(listener, (uv_stream_t *)&connection->tcp) != 0) {
		uv_close((uv_handle_t *)&connection->tcp, fake_closed);
		return;
	}
	for (i = 0; i < 16; i++) {
		if (server.open[i] == NULL) {
			server.open[i] = connection;
			break;
		}
	}
	uv_read_start((uv_stream_t *)&connection->tcp, fake_alloc, fake_read);
}

static void
seen_pod(const char *what, const void *object)
{
	const struct pod *pod = object;

	buf_printf(&callbacks_seen, "%s %s@%s\n", what, pod->name,
	    pod->resource_version);
}

static void
on_add(void *object, void *arg)
{
	(void)arg;
	seen_pod("add", object);
}

static void
on_delete(void *object, void *arg)
{
	(void)arg;
	seen_pod("delete", object);
}

static void
on_update(void *old_object, void *new_object, void *arg)
{
	(void)arg;
	(void)old_object;
	seen_pod("update", new_object);
}

static void
on_synced(void *arg)
{
	(void)arg;
	buf_printf(&callbacks_seen, "synced %zu\n", reflector.store.count);
}

static void
write_token(const char *token)
{
	FILE *f = fopen(token_path, "w");

	fprintf(f, "%s\n", token);
	fclose(f);
}

int
main(void)
{
	static const struct kube_reflector_callbacks callbacks = {
		on_add, on_update, on_delete, on_synced,
	};
	struct sockaddr_in address;
	struct kube_config *config;
	uv_loop_t loop;
	char kubeconfig[1024], *cause = NULL;
	int namelen = sizeof address, fd;

	log_init("test-kube-reflector", LOG_LEVEL_ERROR);
	uv_loop_init(&loop);
	server.loop = &loop;
	uv_tcp_init(&loop, &server.listener);
	uv_ip4_addr("127.0.0.1", 0, &address);
	uv_tcp_bind(&server.listener, (struct sockaddr *)&address, 0);
	uv_listen((uv_stream_t *)&server.listener, 16, fake_accept);
	uv_tcp_getsockname(&server.listener, (struct sockaddr *)&address, &namelen);
	server.port = ntohs(address.sin_port);

	if ((fd = mkstemp(token_path)) < 0)
		return 1;
	close(fd);
	write_token("old-token");
	snprintf(kubeconfig, sizeof kubeconfig,
	    "current-context: fake\ncontexts:\n- name: fake\n  context:\n"
	    "    cluster: fake\n    user: fake\nclusters:\n- name: fake\n"
	    "  cluster:\n    server: http://127.0.0.1:%d\nusers:\n- name: fake\n"
	    "  user:\n    tokenFile: %s\n", server.port, token_path);
	config = kube_config_parse_kubeconfig(kubeconfig, strlen(kubeconfig),
	    NULL, NULL, false, &cause);
	if (!ok(config != NULL && kube_config_load_files(config, &cause) == 0,
	    "a kubeconfig with a tokenFile")) {
		diag("%s", cause);
		return done_testing();
	}
	ok(kube_client_init(&client, &loop, config, 0, &cause) == 0, "client");
	/* Rotated on disk after the client read it: only a 401 reveals it. */
	write_token("new-token");
	kube_reflector_init(&reflector, &client, &kube_pod_kind, "/api/v1/pods",
	    "spec.nodeName=n1", 2, 30, &callbacks, NULL);
	/* Keep the test quick: the algorithm, not the delays, is under test. */
	backoff_init(&reflector.backoff, 10, 40, 1);
	kube_reflector_start(&reflector);
	uv_run(&loop, UV_RUN_DEFAULT);

	is_str(server.log.data,
	    "GET /api/v1/pods?limit=2&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer old-token]\n"
	    "GET /api/v1/pods?limit=2&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?limit=2&continue=c1&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=100&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=110&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=110&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=110&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=110&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?limit=2&resourceVersionMatch=NotOlderThan&resourceVersion=110&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?limit=2&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n"
	    "GET /api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=130&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1 [Bearer new-token]\n",
	    "the exact requests: 401 retried with the re-read token, pages, "
	    "watch from the list, resume from the bookmark after a normal end, "
	    "retries after 429 and a drop, relist from the last version on 410, "
	    "then a quorum list, then a watch from it");
	is_str(callbacks_seen.data,
	    "add a@1\nadd b@2\nadd c@3\nsynced 3\n"
	    "add d@101\nupdate a@102\n"
	    "delete b@2\ndelete c@3\nupdate a@120\nadd e@125\nsynced 3\n",
	    "callbacks: the list, watched events cut across chunks, and a "
	    "replace that deletes the vanished and skips the unchanged");
	is_int(client.unauthorized, 1, "one 401");
	is_int(client.token_changes, 1, "one token change");
	is_int(reflector.stats.bookmarks, 1, "one bookmark");
	is_int(reflector.stats.errors, 2, "the 429 and the second drop backed off");
	/* 1: up to the first drop; 2: its immediate retry; 3: after the
	 * backoff, closed by the reflector at the ERROR event; 4: the rest. */
	is_int(client.http.connects, 4, "the first drop was retried on a new "
	    "connection, the second reconnected after the backoff");
	/* backoff(10 ms, 40 ms): the 429 waits in [5, 10], the drop that
	 * follows without a success in between in [10, 20]. */
	ok(reflector.stats.backoff_ms >= 15 && reflector.stats.backoff_ms <= 30,
	    "the backoff grew between consecutive failures (%llu ms in all)",
	    (unsigned long long)reflector.stats.backoff_ms);
	is_int(reflector.backoff.attempt, 0, "and was reset by the lists that succeeded");
	is_int(reflector.stats.relists_expired, 1, "one relist after ERROR 410");
	is_int(reflector.stats.full_relists, 1, "one quorum relist after the list's 410");
	is_int(reflector.stats.syncs, 2, "two full replaces");
	is_int(uv_loop_close(&loop), 0, "every handle closed (uv_loop_close)");
	buf_free(&server.log);
	buf_free(&callbacks_seen);
	unlink(token_path);
	return done_testing();
}
