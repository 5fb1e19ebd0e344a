/* openapi.c - serve the agent API's OpenAPI document. */
#include "config.h"

#include "http-router.h"
#include "http-server.h"
#include "openapi.h"

static void
openapi_handle(struct http_request *request, void *arg)
{
	(void)arg;
	http_respond(request, 200, "application/json", openapi_document,
	    openapi_document_len);
}

int
openapi_register(struct http_router *router)
{
	return http_router_add(router, "GET", "/api/v1/openapi.json",
	    openapi_handle, NULL);
}
