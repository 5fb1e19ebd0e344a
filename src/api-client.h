/*
 * api-client.h - a small blocking HTTP/1.1 client for an agent's /api/v1.
 *
 * For temperctl, not for the daemon: it blocks.  One request per
 * connection (Connection: close), over a unix socket or TCP, with TLS from
 * tls.h (the memory-BIO engine) pumped over the blocking socket; llhttp
 * parses the response.  Every wait is bounded by the timeout.
 *
 * Errors: 0 or a negative errno.  A connection that cannot be made, or
 * breaks before the whole answer arrived, is an error with *cause naming
 * the address; an HTTP error status is not: the caller reads it from the
 * response.
 */
#ifndef TEMPER_API_CLIENT_H
#define TEMPER_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define API_CLIENT_DEFAULT_SOCKET "/run/temper/agent.sock"
#define API_CLIENT_DEFAULT_TIMEOUT_MS 10000
/* A trace may be large; nothing the agent answers is larger than this. */
#define API_CLIENT_MAX_BODY (1024u * 1024u * 1024u)
#define API_CLIENT_MAX_HEADER 8192

struct api_client_options {
	/* "/path/to/socket", "unix:/path", "http://host:port" or
	 * "https://host:port"; NULL: API_CLIENT_DEFAULT_SOCKET. */
	const char *address;
	const char *token;		/* bearer token, or NULL */
	const char *ca_file;		/* PEM bundle trusted for https, or NULL */
	bool insecure;			/* https without verifying the agent */
	int timeout_ms;			/* 0: API_CLIENT_DEFAULT_TIMEOUT_MS */
};

struct api_response {
	int status;
	char *content_type;		/* NULL when absent */
	char *generation;		/* X-Temper-Generation, or NULL */
	struct buf body;		/* NUL-terminated when non-empty */
};

struct api_client;

/* Parse the address (no connection yet).  NULL with errno and *cause. */
struct api_client *api_client_new(const struct api_client_options *options,
    char **cause);
void api_client_free(struct api_client *client);

/* The address as the user should read it in an error message. */
const char *api_client_address(const struct api_client *client);

/* Bound every later wait (connect, send, each read) by timeout_ms. */
void api_client_set_timeout(struct api_client *client, int timeout_ms);

/*
 * Send one request and read the whole answer into *response (which the
 * caller releases with api_response_free, also after an error).  body may
 * be NULL.  0, or a negative errno with *cause: ECONNREFUSED, ENOENT,
 * EACCES, ETIMEDOUT ... (the agent could not be reached or stopped
 * answering), ECONNABORTED (no TLS session could be made), EPROTO (not
 * HTTP), EFBIG (a body past API_CLIENT_MAX_BODY), ENOMEM.
 */
int api_client_request(struct api_client *client, const char *method,
    const char *path, const char *content_type, const char *body,
    size_t body_len, struct api_response *response, char **cause);

void api_response_free(struct api_response *response);

#endif
