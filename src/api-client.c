/*
 * api-client.c - a blocking HTTP/1.1 client for temperctl: one request per
 * connection over a unix socket or TCP, TLS pumped through tls.h's memory
 * engine, the response parsed by llhttp.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api-client.h"
#include "buf.h"
#include "cause.h"
#include "tls.h"

/* Where a system keeps its trusted roots (Debian's ca-certificates). */
#define API_CLIENT_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
/* A CA bundle larger than this is not a CA bundle. */
#define API_CLIENT_MAX_CA_BYTES (16u * 1024u * 1024u)

enum api_client_transport {
	API_CLIENT_UNIX,
	API_CLIENT_HTTP,
	API_CLIENT_HTTPS,
};

struct api_client {
	enum api_client_transport transport;
	char *address;			/* as given, for messages */
	char *path;			/* unix socket path */
	char *host;			/* TCP host, without brackets */
	char *port;
	char *host_header;
	char *token;
	struct tls_config *tls;
	int timeout_ms;
};

/* One connection: the socket, TLS, the parser and what it collected. */
struct api_client_exchange {
	struct api_client *client;
	int fd;
	struct tls_session *session;
	llhttp_t parser;
	llhttp_settings_t settings;
	struct api_response *response;
	struct buf field;		/* the header name being read */
	struct buf value;		/* ... and its value */
	bool in_value;
	bool complete;
	bool too_big;
	struct timespec deadline;
};

static char *
api_client_strndup(const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}

/* "host:port", "[v6]:port" or "host" into host and port. */
static int
api_client_split_host(struct api_client *client, const char *text,
    const char *default_port, char **cause)
{
	const char *colon, *end;
	size_t len = strcspn(text, "/");

	if (len == 0) {
		cause_set(cause, "agent address '%s' names no host", client->address);
		return -EINVAL;
	}
	if (text[len] != '\0' && strcmp(text + len, "/") != 0) {
		cause_set(cause, "agent address '%s': give the host and port "
		    "only, the API is always under /api/v1", client->address);
		return -EINVAL;
	}
	if (text[0] == '[') {
		if ((end = memchr(text, ']', len)) == NULL) {
			cause_set(cause, "agent address '%s': unclosed '['", client->address);
			return -EINVAL;
		}
		client->host = api_client_strndup(text + 1, (size_t)(end - text - 1));
		colon = end + 1 < text + len && end[1] == ':' ? end + 1 : NULL;
		if (colon == NULL && end + 1 != text + len) {
			cause_set(cause, "agent address '%s': expected ':' after ']'",
			    client->address);
			return -EINVAL;
		}
	} else {
		colon = memchr(text, ':', len);
		client->host = api_client_strndup(text, colon ? (size_t)(colon - text) : len);
	}
	client->port = colon ? api_client_strndup(colon + 1, (size_t)(text + len - colon - 1)) :
	    strdup(default_port);
	client->host_header = api_client_strndup(text, len);
	if (client->host == NULL || client->port == NULL || client->host_header == NULL)
		return -ENOMEM;
	if (client->port[0] == '\0' || strspn(client->port, "0123456789") != strlen(client->port)) {
		cause_set(cause, "agent address '%s': the port must be a number",
		    client->address);
		return -EINVAL;
	}
	return 0;
}

static int
api_client_read_file(const char *path, char **text, size_t *len, char **cause)
{
	struct buf contents = BUF_INIT;
	char chunk[8192];
	size_t got;
	FILE *file = fopen(path, "r");
	int error = 0;

	if (file == NULL) {
		error = -errno;
		cause_set(cause, "cannot open %s: %s", path, strerror(errno));
		return error;
	}
	while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) {
		if (contents.len + got > API_CLIENT_MAX_CA_BYTES) {
			cause_set(cause, "%s is larger than %u bytes", path,
			    API_CLIENT_MAX_CA_BYTES);
			error = -EFBIG;
			goto out;
		}
		if (buf_append(&contents, chunk, got) != 0) {
			error = -ENOMEM;
			goto out;
		}
	}
	if (ferror(file)) {
		cause_set(cause, "cannot read %s", path);
		error = -EIO;
		goto out;
	}
	/* mbedtls wants PEM text with its NUL counted. */
	if (buf_append(&contents, "", 1) != 0) {
		error = -ENOMEM;
		goto out;
	}
	*len = contents.len;
	*text = buf_detach(&contents);
out:
	buf_free(&contents);
	fclose(file);
	return error;
}

static int
api_client_tls_init(struct api_client *client, const char *ca_file, bool insecure,
    char **cause)
{
	char *ca = NULL, *why = NULL;
	size_t ca_len = 0;
	int error;

	if (ca_file == NULL && !insecure && access(API_CLIENT_SYSTEM_CA, R_OK) == 0)
		ca_file = API_CLIENT_SYSTEM_CA;
	if (ca_file != NULL && (error = api_client_read_file(ca_file, &ca, &ca_len, cause)) != 0)
		return error;
	client->tls = tls_config_client_new(ca, ca_len, NULL, 0, NULL, 0, insecure, &why);
	free(ca);
	if (client->tls == NULL) {
		error = errno ? -errno : -EINVAL;
		cause_set(cause, "TLS setup for %s failed: %s", client->address,
		    why ? why : strerror(-error));
		free(why);
		return error;
	}
	return 0;
}

struct api_client *
api_client_new(const struct api_client_options *options, char **cause)
{
	struct api_client *client = calloc(1, sizeof *client);
	const char *address = options->address ? options->address : API_CLIENT_DEFAULT_SOCKET;
	int error = -ENOMEM;

	if (client == NULL)
		goto fail;
	client->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms :
	    API_CLIENT_DEFAULT_TIMEOUT_MS;
	if ((client->address = strdup(address)) == NULL)
		goto fail;
	if (options->token != NULL && (client->token = strdup(options->token)) == NULL)
		goto fail;
	if (strncmp(address, "http://", 7) == 0) {
		client->transport = API_CLIENT_HTTP;
		error = api_client_split_host(client, address + 7, "80", cause);
	} else if (strncmp(address, "https://", 8) == 0) {
		client->transport = API_CLIENT_HTTPS;
		error = api_client_split_host(client, address + 8, "443", cause);
		if (error == 0)
			error = api_client_tls_init(client, options->ca_file, options->insecure,
			    cause);
	} else if (strstr(address, "://") != NULL) {
		cause_set(cause, "agent address '%s': only unix socket paths, "
		    "http:// and https:// are understood", address);
		error = -EINVAL;
	} else {
		const char *path = strncmp(address, "unix:", 5) == 0 ? address + 5 : address;

		client->transport = API_CLIENT_UNIX;
		if (path[0] == '\0' || strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
			cause_set(cause, "agent socket path '%s' is empty or too long", path);
			error = -EINVAL;
		} else {
			client->path = strdup(path);
			client->host_header = strdup("localhost");
			error = client->path && client->host_header ? 0 : -ENOMEM;
		}
	}
	if (error != 0)
		goto fail;
	return client;
fail:
	if (error == -ENOMEM)
		cause_set(cause, "out of memory");
	api_client_free(client);
	errno = -error;
	return NULL;
}

void
api_client_free(struct api_client *client)
{
	if (client == NULL)
		return;
	free(client->address);
	free(client->path);
	free(client->host);
	free(client->port);
	free(client->host_header);
	if (client->token != NULL)
		explicit_bzero(client->token, strlen(client->token));
	free(client->token);
	tls_config_free(client->tls);
	free(client);
}

const char *
api_client_address(const struct api_client *client)
{
	return client->address;
}

void
api_client_set_timeout(struct api_client *client, int timeout_ms)
{
	client->timeout_ms = timeout_ms > 0 ? timeout_ms : API_CLIENT_DEFAULT_TIMEOUT_MS;
}

void
api_response_free(struct api_response *response)
{
	if (response == NULL)
		return;
	free(response->content_type);
	free(response->generation);
	buf_free(&response->body);
	memset(response, 0, sizeof *response);
}

/* --- one exchange on a blocking socket ------------------------------------ */

/* Milliseconds left before the deadline, at least 0. */
static int
api_client_remaining_ms(const struct api_client_exchange *exchange)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(exchange->deadline.tv_sec - now.tv_sec) * 1000 +
	    (exchange->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Wait until fd is ready for events; -ETIMEDOUT when the deadline passes. */
static int
api_client_wait(struct api_client_exchange *exchange, short events)
{
	struct pollfd pfd = { .fd = exchange->fd, .events = events };
	int ready;

	for (;;) {
		ready = poll(&pfd, 1, api_client_remaining_ms(exchange));
		if (ready > 0)
			return 0;
		if (ready == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int
api_client_connect_to(struct api_client_exchange *exchange, const struct sockaddr *address,
    socklen_t len)
{
	int error = 0;
	socklen_t error_len = sizeof error;

	exchange->fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (exchange->fd < 0)
		return -errno;
	if (connect(exchange->fd, address, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		error = -errno;
	else if ((error = api_client_wait(exchange, POLLOUT)) == 0 &&
	    getsockopt(exchange->fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0)
		error = -error;
	if (error != 0) {
		close(exchange->fd);
		exchange->fd = -1;
	}
	return error;
}

static int
api_client_connect(struct api_client_exchange *exchange, char **cause)
{
	struct api_client *client = exchange->client;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list = NULL, *ai;
	struct sockaddr_un unix_address = { .sun_family = AF_UNIX };
	int error, gai;

	if (client->transport == API_CLIENT_UNIX) {
		memcpy(unix_address.sun_path, client->path, strlen(client->path) + 1);
		error = api_client_connect_to(exchange, (struct sockaddr *)&unix_address,
		    sizeof unix_address);
		if (error != 0)
			cause_set(cause, "cannot connect to the agent at %s: %s",
			    client->address, strerror(-error));
		return error;
	}
	if ((gai = getaddrinfo(client->host, client->port, &hints, &list)) != 0) {
		cause_set(cause, "cannot resolve the agent's host in %s: %s",
		    client->address, gai_strerror(gai));
		return gai == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	}
	error = -EHOSTUNREACH;
	for (ai = list; ai != NULL; ai = ai->ai_next)
		if ((error = api_client_connect_to(exchange, ai->ai_addr, ai->ai_addrlen)) == 0)
			break;
	freeaddrinfo(list);
	if (error != 0)
		cause_set(cause, "cannot connect to the agent at %s: %s",
		    client->address, strerror(-error));
	return error;
}

static int
api_client_send_raw(struct api_client_exchange *exchange, const char *data, size_t len)
{
	ssize_t sent;
	int error;

	while (len > 0) {
		sent = send(exchange->fd, data, len, MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if ((error = api_client_wait(exchange, POLLOUT)) != 0)
				return error;
			continue;
		}
		data += sent;
		len -= (size_t)sent;
	}
	return 0;
}

/* Read what the socket has: 0 with *got (0 at end of stream) or an error. */
static int
api_client_receive_raw(struct api_client_exchange *exchange, char *data, size_t size,
    size_t *got)
{
	ssize_t n;
	int error;

	for (;;) {
		n = recv(exchange->fd, data, size, 0);
		if (n >= 0) {
			*got = (size_t)n;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((error = api_client_wait(exchange, POLLIN)) != 0)
			return error;
	}
}

static int
api_client_flush_tls(struct api_client_exchange *exchange)
{
	struct buf *pending = tls_session_pending(exchange->session);
	int error;

	if (pending->len == 0)
		return 0;
	error = api_client_send_raw(exchange, pending->data, pending->len);
	buf_consume(pending, pending->len);
	return error;
}

static int
api_client_handshake(struct api_client_exchange *exchange, char **cause)
{
	char chunk[16384];
	size_t got;
	int error;

	exchange->session = tls_session_new(exchange->client->tls, exchange->client->host);
	if (exchange->session == NULL)
		return -ENOMEM;
	while ((error = tls_session_handshake(exchange->session)) == -EAGAIN) {
		if ((error = api_client_flush_tls(exchange)) != 0)
			break;
		if ((error = api_client_receive_raw(exchange, chunk, sizeof chunk, &got)) != 0)
			break;
		if (got == 0) {
			error = -ECONNRESET;
			break;
		}
		if ((error = tls_session_feed(exchange->session, chunk, got)) != 0)
			break;
	}
	if (error == 0)
		error = api_client_flush_tls(exchange);
	if (error != 0) {
		cause_set(cause, "TLS handshake with the agent at %s failed: %s",
		    exchange->client->address, error == -ETIMEDOUT || error == -ECONNRESET ||
		    tls_session_error(exchange->session) == NULL ? strerror(-error) :
		    tls_session_error(exchange->session));
		/* No secure connection is no connection, whatever mbedtls said. */
		if (error != -ETIMEDOUT && error != -ENOMEM)
			error = -ECONNABORTED;
	}
	return error;
}

static int
api_client_send(struct api_client_exchange *exchange, const char *data, size_t len)
{
	int error;

	if (exchange->session == NULL)
		return api_client_send_raw(exchange, data, len);
	if ((error = tls_session_write(exchange->session, data, len)) != 0)
		return error;
	return api_client_flush_tls(exchange);
}

/* --- the response parser --------------------------------------------------- */

static void
api_client_header_done(struct api_client_exchange *exchange)
{
	char **slot = NULL;

	if (exchange->field.len == 0)
		return;
	if (buf_append(&exchange->field, "", 1) == 0 && buf_append(&exchange->value, "", 1) == 0) {
		if (strcasecmp(exchange->field.data, "Content-Type") == 0)
			slot = &exchange->response->content_type;
		else if (strcasecmp(exchange->field.data, "X-Temper-Generation") == 0)
			slot = &exchange->response->generation;
		if (slot != NULL) {
			free(*slot);
			*slot = strdup(exchange->value.data);
		}
	}
	buf_reset(&exchange->field);
	buf_reset(&exchange->value);
	exchange->in_value = false;
}

static int
api_client_on_header_field(llhttp_t *parser, const char *at, size_t len)
{
	struct api_client_exchange *exchange = parser->data;

	if (exchange->in_value)
		api_client_header_done(exchange);
	if (exchange->field.len + len > API_CLIENT_MAX_HEADER)
		return -1;
	return buf_append(&exchange->field, at, len) == 0 ? 0 : -1;
}

static int
api_client_on_header_value(llhttp_t *parser, const char *at, size_t len)
{
	struct api_client_exchange *exchange = parser->data;

	exchange->in_value = true;
	if (exchange->value.len + len > API_CLIENT_MAX_HEADER)
		return -1;
	return buf_append(&exchange->value, at, len) == 0 ? 0 : -1;
}

static int
api_client_on_headers_complete(llhttp_t *parser)
{
	struct api_client_exchange *exchange = parser->data;

	api_client_header_done(exchange);
	exchange->response->status = parser->status_code;
	return 0;
}

static int
api_client_on_body(llhttp_t *parser, const char *at, size_t len)
{
	struct api_client_exchange *exchange = parser->data;
	struct buf *body = &exchange->response->body;

	if (body->len + len > API_CLIENT_MAX_BODY) {
		exchange->too_big = true;
		return -1;
	}
	return buf_append(body, at, len) == 0 ? 0 : -1;
}

static int
api_client_on_message_complete(llhttp_t *parser)
{
	struct api_client_exchange *exchange = parser->data;

	exchange->complete = true;
	return HPE_PAUSED;
}

static int
api_client_parse(struct api_client_exchange *exchange, const char *data, size_t len,
    char **cause)
{
	llhttp_errno_t error = llhttp_execute(&exchange->parser, data, len);

	if (error == HPE_OK || error == HPE_PAUSED)
		return 0;
	if (exchange->too_big) {
		cause_set(cause, "the agent at %s answered more than %u bytes",
		    exchange->client->address, API_CLIENT_MAX_BODY);
		return -EFBIG;
	}
	cause_set(cause, "the agent at %s did not answer HTTP: %s",
	    exchange->client->address, llhttp_get_error_reason(&exchange->parser));
	return -EPROTO;
}

/* Read until the message is complete or the peer closes. */
static int
api_client_receive(struct api_client_exchange *exchange, char **cause)
{
	char chunk[16384];
	struct buf plain = BUF_INIT;
	size_t got;
	int error = 0;

	while (!exchange->complete) {
		if ((error = api_client_receive_raw(exchange, chunk, sizeof chunk, &got)) != 0) {
			cause_set(cause, "reading the answer of the agent at %s failed: %s",
			    exchange->client->address, strerror(-error));
			break;
		}
		if (got == 0) {
			/* A body delimited by the close ends here. */
			if (llhttp_finish(&exchange->parser) == HPE_OK && exchange->complete)
				break;
			if (!exchange->complete) {
				error = -ECONNRESET;
				cause_set(cause, "the agent at %s closed the connection "
				    "before its answer was complete", exchange->client->address);
			}
			break;
		}
		if (exchange->session == NULL) {
			error = api_client_parse(exchange, chunk, got, cause);
		} else {
			if ((error = tls_session_feed(exchange->session, chunk, got)) != 0)
				break;
			error = tls_session_read(exchange->session, &plain);
			if (error == -EPIPE)
				error = 0;
			if (error != 0) {
				cause_set(cause, "TLS with the agent at %s failed: %s",
				    exchange->client->address, tls_session_error(exchange->session) ?
				    tls_session_error(exchange->session) : strerror(-error));
				break;
			}
			error = api_client_parse(exchange, plain.data ? plain.data : "", plain.len,
			    cause);
			buf_reset(&plain);
		}
		if (error != 0)
			break;
	}
	buf_free(&plain);
	return error;
}

int
api_client_request(struct api_client *client, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    struct api_response *response, char **cause)
{
	struct api_client_exchange exchange = { .client = client, .fd = -1, .response = response };
	struct buf request = BUF_INIT;
	int error;

	memset(response, 0, sizeof *response);
	clock_gettime(CLOCK_MONOTONIC, &exchange.deadline);
	exchange.deadline.tv_sec += client->timeout_ms / 1000;
	exchange.deadline.tv_nsec += (long)(client->timeout_ms % 1000) * 1000000;
	if (exchange.deadline.tv_nsec >= 1000000000) {
		exchange.deadline.tv_sec++;
		exchange.deadline.tv_nsec -= 1000000000;
	}
	llhttp_settings_init(&exchange.settings);
	exchange.settings.on_header_field = api_client_on_header_field;
	exchange.settings.on_header_value = api_client_on_header_value;
	exchange.settings.on_headers_complete = api_client_on_headers_complete;
	exchange.settings.on_body = api_client_on_body;
	exchange.settings.on_message_complete = api_client_on_message_complete;
	llhttp_init(&exchange.parser, HTTP_RESPONSE, &exchange.settings);
	exchange.parser.data = &exchange;

	error = buf_printf(&request, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: temperctl/%s\r\n"
	    "Accept: application/json\r\nConnection: close\r\n", method, path,
	    client->host_header, PACKAGE_VERSION);
	if (error == 0 && client->token != NULL)
		error = buf_printf(&request, "Authorization: Bearer %s\r\n", client->token);
	if (error == 0 && (body != NULL || strcmp(method, "POST") == 0))
		error = buf_printf(&request, "Content-Length: %zu\r\n", body ? body_len : 0);
	if (error == 0 && content_type != NULL)
		error = buf_printf(&request, "Content-Type: %s\r\n", content_type);
	if (error == 0)
		error = buf_puts(&request, "\r\n");
	if (error == 0 && body != NULL)
		error = buf_append(&request, body, body_len);
	if (error != 0) {
		cause_set(cause, "out of memory");
		goto out;
	}

	if ((error = api_client_connect(&exchange, cause)) != 0)
		goto out;
	if (client->transport == API_CLIENT_HTTPS && (error = api_client_handshake(&exchange,
	    cause)) != 0)
		goto out;
	if ((error = api_client_send(&exchange, request.data, request.len)) != 0) {
		cause_set(cause, "sending %s %s to the agent at %s failed: %s",
		    method, path, client->address, strerror(-error));
		goto out;
	}
	if ((error = api_client_receive(&exchange, cause)) != 0)
		goto out;
	/* Callers print bodies as strings. */
	if (response->body.len > 0) {
		if (buf_append(&response->body, "", 1) != 0) {
			error = -ENOMEM;
			cause_set(cause, "out of memory");
		} else {
			response->body.len--;
		}
	}
out:
	if (exchange.session != NULL && exchange.fd >= 0 && error == 0) {
		tls_session_close_notify(exchange.session);
		api_client_flush_tls(&exchange);
	}
	tls_session_free(exchange.session);
	if (exchange.fd >= 0)
		close(exchange.fd);
	buf_free(&exchange.field);
	buf_free(&exchange.value);
	buf_free(&request);
	return error;
}
