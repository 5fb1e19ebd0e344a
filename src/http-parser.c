/* http-parser.c - HTTP/1.1 request parsing with limits, over llhttp. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-parser.h"

struct http_request *
http_request_new(void)
{
	return calloc(1, sizeof(struct http_request));
}

void
http_request_free(struct http_request *request)
{
	if (request == NULL)
		return;
	buf_free(&request->url);
	buf_free(&request->body);
	buf_free(&request->extra_headers);
	free(request->path);
	free(request->query);
	for (size_t i = 0; i < request->header_count; i++) {
		free(request->headers[i].name);
		free(request->headers[i].value);
	}
	free(request->headers);
	free(request);
}

static struct http_parser *
http_parser_of(llhttp_t *llhttp)
{
	return llhttp->data;
}

/* Record why the bytes are refused; llhttp then stops with an error. */
static int
http_parser_refuse(struct http_parser *parser, int status, const char *reason)
{
	parser->status = status;
	snprintf(parser->reason, sizeof parser->reason, "%s", reason);
	return HPE_USER;
}

static int
http_parser_on_message_begin(llhttp_t *llhttp)
{
	struct http_parser *parser = http_parser_of(llhttp);

	http_request_free(parser->request);
	if ((parser->request = http_request_new()) == NULL)
		return http_parser_refuse(parser, 500, "out of memory");
	parser->complete = false;
	parser->header_bytes = 0;
	parser->in_header_value = false;
	buf_reset(&parser->header_field);
	return 0;
}

static int
http_parser_count(struct http_parser *parser, size_t len)
{
	parser->header_bytes += len;
	if (parser->header_bytes > parser->limits.max_header_bytes)
		return http_parser_refuse(parser, 431, "request headers too large");
	return 0;
}

static int
http_parser_on_url(llhttp_t *llhttp, const char *at, size_t len)
{
	struct http_parser *parser = http_parser_of(llhttp);

	if (http_parser_count(parser, len) != 0)
		return HPE_USER;
	if (buf_append(&parser->request->url, at, len) != 0)
		return http_parser_refuse(parser, 500, "out of memory");
	return 0;
}

static int
http_parser_on_header_field(llhttp_t *llhttp, const char *at, size_t len)
{
	struct http_parser *parser = http_parser_of(llhttp);

	if (http_parser_count(parser, len) != 0)
		return HPE_USER;
	if (parser->in_header_value) {
		parser->in_header_value = false;
		buf_reset(&parser->header_field);
	}
	if (buf_append(&parser->header_field, at, len) != 0)
		return http_parser_refuse(parser, 500, "out of memory");
	return 0;
}

static int
http_parser_on_header_value(llhttp_t *llhttp, const char *at, size_t len)
{
	struct http_parser *parser = http_parser_of(llhttp);
	struct http_request *request = parser->request;
	struct http_header *header, *headers;
	size_t old;
	char *value;

	if (http_parser_count(parser, len) != 0)
		return HPE_USER;
	if (!parser->in_header_value) {
		parser->in_header_value = true;
		headers = realloc(request->headers,
		    (request->header_count + 1) * sizeof *headers);
		if (headers == NULL)
			return http_parser_refuse(parser, 500, "out of memory");
		request->headers = headers;
		header = &headers[request->header_count];
		header->name = buf_detach(&parser->header_field);
		header->value = strdup("");
		if (header->value == NULL) {
			free(header->name);
			return http_parser_refuse(parser, 500, "out of memory");
		}
		request->header_count++;
	}
	header = &request->headers[request->header_count - 1];
	old = strlen(header->value);
	if ((value = realloc(header->value, old + len + 1)) == NULL)
		return http_parser_refuse(parser, 500, "out of memory");
	memcpy(value + old, at, len);
	value[old + len] = '\0';
	header->value = value;
	return 0;
}

static const char *
http_parser_header(const struct http_request *request, const char *name)
{
	for (size_t i = 0; i < request->header_count; i++) {
		if (strcasecmp(request->headers[i].name, name) == 0)
			return request->headers[i].value;
	}
	return NULL;
}

static int
http_parser_on_headers_complete(llhttp_t *llhttp)
{
	struct http_parser *parser = http_parser_of(llhttp);
	struct http_request *request = parser->request;
	const char *url = request->url.data ? request->url.data : "", *q, *expect;
	const char *method = llhttp_method_name((llhttp_method_t)llhttp_get_method(llhttp));
	size_t method_len = strnlen(method, sizeof request->method - 1);

	/* Every request passes here: copied, not printf-formatted. */
	memcpy(request->method, method, method_len);
	request->method[method_len] = '\0';
	request->head = strcmp(request->method, "HEAD") == 0;
	if (url[0] != '/')
		return http_parser_refuse(parser, 400, "request target must be an absolute path");
	if (strlen(url) != request->url.len)
		return http_parser_refuse(parser, 400, "request target holds a NUL byte");
	q = strchr(url, '?');
	request->path = q ? strndup(url, (size_t)(q - url)) : strdup(url);
	request->query = q ? strdup(q + 1) : NULL;
	if (request->path == NULL || (q != NULL && request->query == NULL))
		return http_parser_refuse(parser, 500, "out of memory");
	if ((llhttp->flags & F_CONTENT_LENGTH) &&
	    llhttp->content_length > parser->limits.max_body_bytes)
		return http_parser_refuse(parser, 413, "request body too large");
	expect = http_parser_header(request, "Expect");
	request->expect_continue = expect != NULL && strcasecmp(expect, "100-continue") == 0;
	return 0;
}

static int
http_parser_on_body(llhttp_t *llhttp, const char *at, size_t len)
{
	struct http_parser *parser = http_parser_of(llhttp);
	struct http_request *request = parser->request;

	if (request->body.len + len > parser->limits.max_body_bytes)
		return http_parser_refuse(parser, 413, "request body too large");
	if (buf_append(&request->body, at, len) != 0)
		return http_parser_refuse(parser, 500, "out of memory");
	return 0;
}

static int
http_parser_on_message_complete(llhttp_t *llhttp)
{
	struct http_parser *parser = http_parser_of(llhttp);

	parser->request->keep_alive = llhttp_should_keep_alive(llhttp);
	parser->complete = true;
	/* Pause: the owner answers this request before the next is parsed. */
	return HPE_PAUSED;
}

void
http_parser_init(struct http_parser *parser, const struct http_parser_limits *limits)
{
	memset(parser, 0, sizeof *parser);
	parser->limits = *limits;
	llhttp_settings_init(&parser->settings);
	parser->settings.on_message_begin = http_parser_on_message_begin;
	parser->settings.on_url = http_parser_on_url;
	parser->settings.on_header_field = http_parser_on_header_field;
	parser->settings.on_header_value = http_parser_on_header_value;
	parser->settings.on_headers_complete = http_parser_on_headers_complete;
	parser->settings.on_body = http_parser_on_body;
	parser->settings.on_message_complete = http_parser_on_message_complete;
	llhttp_init(&parser->llhttp, HTTP_REQUEST, &parser->settings);
	parser->llhttp.data = parser;
}

void
http_parser_set_limits(struct http_parser *parser,
    const struct http_parser_limits *limits)
{
	parser->limits = *limits;
}

enum http_parse_result
http_parser_execute(struct http_parser *parser, const char *data, size_t len,
    size_t *used)
{
	llhttp_errno_t error;
	const char *reason;

	*used = 0;
	if (parser->status != 0)
		return HTTP_PARSE_ERROR;
	error = llhttp_execute(&parser->llhttp, data, len);
	if (error == HPE_OK) {
		*used = len;
		return HTTP_PARSE_MORE;
	}
	if (error == HPE_PAUSED && parser->complete) {
		*used = (size_t)(llhttp_get_error_pos(&parser->llhttp) - data);
		llhttp_resume(&parser->llhttp);
		return HTTP_PARSE_REQUEST;
	}
	/* A callback's refusal surfaces as HPE_USER or an HPE_CB_* code. */
	if (parser->status == 0) {
		reason = llhttp_get_error_reason(&parser->llhttp);
		parser->status = 400;
		snprintf(parser->reason, sizeof parser->reason, "malformed request: %s",
		    reason ? reason : llhttp_errno_name(error));
	}
	return HTTP_PARSE_ERROR;
}

struct http_request *
http_parser_take(struct http_parser *parser)
{
	struct http_request *request = parser->complete ? parser->request : NULL;

	if (request != NULL) {
		parser->request = NULL;
		parser->complete = false;
	}
	return request;
}

bool
http_parser_in_request(const struct http_parser *parser)
{
	return parser->request != NULL && !parser->complete;
}

void
http_parser_free(struct http_parser *parser)
{
	http_request_free(parser->request);
	parser->request = NULL;
	buf_free(&parser->header_field);
}
