/*
 * fuzz-http.c - the HTTP request path: arbitrary bytes, split into two reads
 * at a point the input chooses, through the very parser the server runs.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_http_feed(struct http_parser *parser, const char *data, size_t len)
{
	size_t used;

	while (len > 0) {
		enum http_parse_result result = http_parser_execute(parser, data, len, &used);

		data += used;
		len -= used;
		if (result == HTTP_PARSE_REQUEST) {
			struct http_request *request = http_parser_take(parser);

			/* Touch what a handler would read. */
			if (request->path != NULL && strlen(request->path) == 0)
				__builtin_trap();
			for (size_t i = 0; i < request->header_count; i++)
				(void)strlen(request->headers[i].value);
			http_request_free(request);
			continue;
		}
		if (result == HTTP_PARSE_ERROR) {
			if (parser->status < 400 || parser->status > 599)
				__builtin_trap();
			return;
		}
		return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_parser_limits limits = { 4096, 65536 };
	struct http_parser parser;
	size_t split;

	if (size == 0)
		return 0;
	split = data[0] % size;
	http_parser_init(&parser, &limits);
	fuzz_http_feed(&parser, (const char *)data + 1, split > 0 ? split - 1 : 0);
	if (parser.status == 0)
		fuzz_http_feed(&parser, (const char *)data + (split > 0 ? split : 1),
		    size - (split > 0 ? split : 1));
	http_parser_free(&parser);
	return 0;
}
