/* t/test-kube-list.c - LIST responses read item by item. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "kube-list.h"
#include "tap.h"

static int
collect(const cJSON *item, void *arg)
{
	struct buf *names = arg;
	const cJSON *name;

	name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    item, "metadata"), "name");
	buf_printf(names, "%s,", cJSON_IsString(name) ? name->valuestring : "?");
	return 0;
}

static int
stop_at_second(const cJSON *item, void *arg)
{
	(void)item;
	return ++*(int *)arg == 2 ? 42 : 0;
}

static const char list[] =
	" {\"kind\":\"PodList\",\"apiVersion\":\"v1\",\n"
	"  \"items\" : [ {\"metadata\":{\"name\":\"a\",\"annotations\":"
	"{\"x\":\"]} \\\" {[\"}}} ,\n"
	"  {\"metadata\":{\"name\":\"b\"},\"spec\":{\"list\":[1,2.5e3,true,null,\"s\"]}} ],\n"
	"  \"metadata\" : {\"resourceVersion\":\"4711\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==\","
	"\"remainingItemCount\":3} } \n";

int
main(void)
{
	static const char *const bad[] = {
		"", "[]", "\"x\"", "{", "{\"items\":[{}]", "{\"items\":[{},]}",
		"{\"items\":[{} {}]}", "{\"items\" [] }", "{\"items\":[{]}",
		"{\"metadata\":{\"resourceVersion\":1}} x", "{\"a\":tru}",
		"{\"a\":1,}", "{,\"a\":1}", "{\"items\":[{\"a\":\"\\q\"}]}",
		"{\"a\" : 1 \"b\":2}", "{\"items\":[{}}",
	};
	struct kube_list_page page;
	struct buf names = BUF_INIT;
	const char *text;
	char *cause = NULL;
	size_t i, refused = 0;
	int count = 0;

	is_int(kube_list_parse(list, sizeof list - 1, collect, &names, &page,
	    &cause), 0, "a list with whitespace, escapes and braces in strings");
	is_str(names.data, "a,b,", "both items, in order");
	is_int(page.items, 2, "item count");
	is_str(page.resource_version, "4711", "metadata after items still read");
	is_str(page.continue_token, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==", "continue token");
	kube_list_page_free(&page);

	text = "{\"metadata\":{\"resourceVersion\":\"1\",\"continue\":\"\"},"
	    "\"items\":[]}";
	ok(kube_list_parse(text, strlen(text), collect, &names, &page, NULL) == 0 &&
	    page.items == 0 && page.continue_token == NULL &&
	    strcmp(page.resource_version, "1") == 0,
	    "an empty page; continue \"\" means the last page");
	kube_list_page_free(&page);
	text = "{\"items\":null,\"metadata\":{}}";
	ok(kube_list_parse(text, strlen(text), collect, &names, &page, NULL) == 0 && page.items == 0 && page.resource_version == NULL,
	    "items null, no resourceVersion (the caller decides)");
	kube_list_page_free(&page);

	is_int(kube_list_parse(list, sizeof list - 1, stop_at_second, &count,
	    &page, NULL), 42, "the callback's verdict stops the walk");
	kube_list_page_free(&page);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (kube_list_parse(bad[i], strlen(bad[i]), collect, &names, &page,
		    &cause) != -EINVAL || cause == NULL) {
			diag("accepted: %s", bad[i]);
			refused++;
		}
		kube_list_page_free(&page);
		free(cause);
	}
	is_int(refused, 0, "%zu malformed lists refused with a reason",
	    sizeof bad / sizeof bad[0]);

	refused = 0;
	/* The text ends "} \n": every prefix that stops before the brace. */
	for (i = 0; i < sizeof list - 3; i++) {
		cause = NULL;
		if (kube_list_parse(list, i, collect, &names, &page, &cause) == -EINVAL)
			refused++;
		kube_list_page_free(&page);
		free(cause);
	}
	is_int(refused, sizeof list - 3, "every truncation before the closing brace is refused");
	buf_free(&names);
	return done_testing();
}
