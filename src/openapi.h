/*
 * openapi.h - the agent API's OpenAPI 3 document, served at
 * /api/v1/openapi.json.
 *
 * The document is src/openapi.json, kept by hand beside the handlers it
 * describes; the build embeds it as a C string (src/openapi-document.c),
 * so the running agent serves exactly the file t/83-openapi.sh checks
 * every route against.
 */
#ifndef TEMPER_OPENAPI_H
#define TEMPER_OPENAPI_H

#include <stddef.h>

struct http_router;

/* The document's bytes (NUL-terminated) and length without the NUL. */
extern const char openapi_document[];
extern const size_t openapi_document_len;

/* Add GET /api/v1/openapi.json.  0 or a negative errno. */
int openapi_register(struct http_router *router);

#endif
