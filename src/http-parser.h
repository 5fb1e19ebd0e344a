/*
 * http-parser.h - HTTP/1.1 request parsing with limits, over llhttp.
 *
 * Pure: bytes in, complete requests out, no sockets and no loop, so the
 * fuzzer and the unit tests drive exactly what the server runs.  Parsing
 * stops after every complete request so that the owner answers requests in
 * order before it parses the next one.
 */
#ifndef TEMPER_HTTP_PARSER_H
#define TEMPER_HTTP_PARSER_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct http_header {
	char *name;
	char *value;
};

/* A parsed request.  The server adds its own fields after "owner". */
struct http_request {
	char method[16];
	struct buf url;
	char *path;			/* the target before '?' */
	char *query;			/* after '?', or NULL */
	struct http_header *headers;
	size_t header_count;
	struct buf body;
	bool keep_alive;
	bool head;			/* a HEAD request: answer without a body */
	bool expect_continue;		/* the client waits for 100 Continue */

	/* Owned by the server (http-server.c). */
	struct http_conn *conn;
	struct buf extra_headers;
	const char *route;
	uint64_t started_ns;
	void (*cancel)(struct http_request *request, void *arg);
	void *cancel_arg;
};

struct http_parser_limits {
	size_t max_header_bytes;	/* request line and headers */
	size_t max_body_bytes;
};

enum http_parse_result {
	HTTP_PARSE_MORE,		/* everything used; a request may be under way */
	HTTP_PARSE_REQUEST,		/* a request is complete: take it */
	HTTP_PARSE_ERROR,		/* refuse with status and reason, then close */
};

struct http_parser {
	llhttp_t llhttp;
	llhttp_settings_t settings;
	struct http_parser_limits limits;
	struct http_request *request;	/* being parsed, or complete */
	bool complete;
	struct buf header_field;
	bool in_header_value;
	size_t header_bytes;
	int status;			/* on HTTP_PARSE_ERROR */
	char reason[128];
};

void http_parser_init(struct http_parser *parser,
    const struct http_parser_limits *limits);
void http_parser_set_limits(struct http_parser *parser,
    const struct http_parser_limits *limits);

/*
 * Parse up to len bytes; *used tells how many were consumed.  After
 * HTTP_PARSE_REQUEST call http_parser_take and parse the rest again.
 */
enum http_parse_result http_parser_execute(struct http_parser *parser,
    const char *data, size_t len, size_t *used);

/* The complete request, now the caller's. */
struct http_request *http_parser_take(struct http_parser *parser);

/* True while a request has begun but is not complete. */
bool http_parser_in_request(const struct http_parser *parser);

void http_parser_free(struct http_parser *parser);

struct http_request *http_request_new(void);
void http_request_free(struct http_request *request);

#endif
