/* kube-reflector.c - LIST then WATCH, resumed, relisted and backed off. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube-list.h"
#include "kube-reflector.h"
#include "log.h"

#define KUBE_REFLECTOR_PAGE_SIZE 500
#define KUBE_REFLECTOR_BACKOFF_INITIAL_MS 800
#define KUBE_REFLECTOR_BACKOFF_MAX_MS (30 * 1000)
/* A watch that ends this soon with no event counts as a failure. */
#define KUBE_REFLECTOR_SHORT_WATCH_MS 1000
/* The server ends the watch at timeoutSeconds; allow it this long past. */
#define KUBE_REFLECTOR_WATCH_SLACK_MS (30 * 1000)

static void kube_reflector_list_begin(struct kube_reflector *reflector);
static void kube_reflector_list_page(struct kube_reflector *reflector);
static void kube_reflector_watch_begin(struct kube_reflector *reflector);

static int
kube_reflector_replace_string(char **slot, const char *value)
{
	char *copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int
kube_reflector_init(struct kube_reflector *reflector,
    struct kube_client *client, const struct kube_kind *kind, const char *path,
    const char *field_selector, unsigned page_size,
    unsigned watch_timeout_seconds,
    const struct kube_reflector_callbacks *callbacks, void *arg)
{
	memset(reflector, 0, sizeof *reflector);
	reflector->client = client;
	reflector->kind = kind;
	reflector->page_size = page_size ? page_size : KUBE_REFLECTOR_PAGE_SIZE;
	reflector->watch_timeout_seconds = watch_timeout_seconds;
	reflector->callbacks = *callbacks;
	reflector->arg = arg;
	kube_store_init(&reflector->store, kind);
	kube_store_init(&reflector->listing, kind);
	if ((reflector->path = strdup(path)) == NULL ||
	    (field_selector != NULL &&
	    (reflector->field_selector = strdup(field_selector)) == NULL)) {
		free(reflector->path);
		return -ENOMEM;
	}
	backoff_init(&reflector->backoff, KUBE_REFLECTOR_BACKOFF_INITIAL_MS,
	    KUBE_REFLECTOR_BACKOFF_MAX_MS, (uint64_t)uv_hrtime() ^ (uintptr_t)reflector);
	uv_timer_init(client->loop, &reflector->timer);
	reflector->timer.data = reflector;
	return 0;
}

int
kube_reflector_list_path(const struct kube_reflector *reflector,
    struct buf *out)
{
	int error;

	error = buf_printf(out, "%s?limit=%u", reflector->path,
	    reflector->page_size);
	if (error == 0 && reflector->list_continue != NULL) {
		/* The continue token pins the snapshot; no version with it. */
		error = buf_puts(out, "&continue=");
		if (error == 0)
			error = kube_client_escape(out, reflector->list_continue);
	} else if (error == 0 &&
	    reflector->list_mode == KUBE_REFLECTOR_LIST_LAST_SEEN &&
	    reflector->resource_version != NULL) {
		/*
		 * With a limit, a bare resourceVersion is an exact read of that
		 * old snapshot (the legacy rule): after a restart with a cold
		 * watch cache the list would bring back the store as it was and
		 * the watch from its version would expire again, forever.
		 */
		error = buf_puts(out, "&resourceVersionMatch=NotOlderThan&resourceVersion=");
		if (error == 0)
			error = kube_client_escape(out, reflector->resource_version);
	}
	if (error == 0 && reflector->field_selector != NULL) {
		error = buf_puts(out, "&fieldSelector=");
		if (error == 0)
			error = kube_client_escape(out, reflector->field_selector);
	}
	return error;
}

static unsigned
kube_reflector_watch_timeout(const struct kube_reflector *reflector)
{
	/* Like client-go: 5 to 10 minutes, so watchers do not end together. */
	if (reflector->watch_timeout_seconds > 0)
		return reflector->watch_timeout_seconds;
	return 300 + (unsigned)(uv_hrtime() % 300);
}

static int
kube_reflector_watch_path_for(const struct kube_reflector *reflector,
    struct buf *out, unsigned timeout_seconds)
{
	int error;

	error = buf_printf(out, "%s?watch=1&allowWatchBookmarks=true"
	    "&timeoutSeconds=%u&resourceVersion=", reflector->path,
	    timeout_seconds);
	if (error == 0 && reflector->resource_version != NULL)
		error = kube_client_escape(out, reflector->resource_version);
	if (error == 0 && reflector->field_selector != NULL) {
		error = buf_puts(out, "&fieldSelector=");
		if (error == 0)
			error = kube_client_escape(out, reflector->field_selector);
	}
	return error;
}

int
kube_reflector_watch_path(const struct kube_reflector *reflector,
    struct buf *out)
{
	return kube_reflector_watch_path_for(reflector, out,
	    kube_reflector_watch_timeout(reflector));
}

static void
kube_reflector_timer(uv_timer_t *timer)
{
	struct kube_reflector *reflector = timer->data;

	if (reflector->after_wait == KUBE_REFLECTOR_LISTING)
		kube_reflector_list_begin(reflector);
	else
		kube_reflector_watch_begin(reflector);
}

/* Go on with next after delay_ms (0: on the next loop turn). */
static void
kube_reflector_schedule(struct kube_reflector *reflector,
    enum kube_reflector_state next, uint64_t delay_ms)
{
	if (reflector->state == KUBE_REFLECTOR_STOPPED)
		return;
	reflector->state = KUBE_REFLECTOR_WAITING;
	reflector->after_wait = next;
	uv_timer_start(&reflector->timer, kube_reflector_timer, delay_ms, 0);
}

static void
kube_reflector_back_off(struct kube_reflector *reflector,
    enum kube_reflector_state next, const char *what)
{
	uint64_t delay = backoff_next(&reflector->backoff);

	reflector->stats.errors++;
	reflector->stats.backoff_ms += delay;
	log_warn("kube reflector: %s %s failed (%s); retrying in %llu ms",
	    reflector->kind->name, next == KUBE_REFLECTOR_LISTING ? "list" :
	    "watch", what, (unsigned long long)delay);
	kube_reflector_schedule(reflector, next, delay);
}

struct kube_reflector_gone {
	const struct kube_store *listing;
	void **objects;
	size_t count;
	size_t capacity;
	bool failed;
};

static void
kube_reflector_collect_gone(void *object, const struct kube_meta *meta,
    void *arg)
{
	struct kube_reflector_gone *gone = arg;
	void **grown;

	if (kube_store_get_uid(gone->listing, meta->uid) != NULL || gone->failed)
		return;
	if (gone->count == gone->capacity) {
		gone->capacity = gone->capacity ? gone->capacity * 2 : 64;
		grown = reallocarray(gone->objects, gone->capacity, sizeof *grown);
		if (grown == NULL) {
			gone->failed = true;
			return;
		}
		gone->objects = grown;
	}
	gone->objects[gone->count++] = object;
}

static void
kube_reflector_announce(void *object, const struct kube_meta *meta, void *arg)
{
	struct kube_reflector *reflector = arg;
	struct kube_meta old_meta;
	void *old;

	old = kube_store_get_uid(&reflector->store, meta->uid);
	if (old == NULL) {
		reflector->stats.adds++;
		if (reflector->callbacks.on_add != NULL)
			reflector->callbacks.on_add(object, reflector->arg);
		return;
	}
	reflector->kind->meta(old, &old_meta);
	if (strcmp(old_meta.resource_version, meta->resource_version) == 0)
		return;
	reflector->stats.updates++;
	if (reflector->callbacks.on_update != NULL)
		reflector->callbacks.on_update(old, object, reflector->arg);
}

/*
 * A whole list arrived: it becomes the store.  Objects that vanished are
 * deleted (the events a broken watch may have missed), then new and
 * changed ones are announced, then the old store is freed.
 */
static void
kube_reflector_replace(struct kube_reflector *reflector)
{
	struct kube_reflector_gone gone = { .listing = &reflector->listing };
	struct kube_meta meta;
	size_t i;
	void *object;

	kube_store_foreach(&reflector->store, kube_reflector_collect_gone, &gone);
	for (i = 0; i < gone.count; i++) {
		reflector->kind->meta(gone.objects[i], &meta);
		object = kube_store_remove(&reflector->store, meta.uid);
		reflector->stats.deletes++;
		if (reflector->callbacks.on_delete != NULL)
			reflector->callbacks.on_delete(object, reflector->arg);
		reflector->kind->free(object);
	}
	free(gone.objects);
	kube_store_foreach(&reflector->listing, kube_reflector_announce, reflector);
	kube_store_swap(&reflector->store, &reflector->listing);
	kube_store_clear(&reflector->listing);
}

static int
kube_reflector_list_item(const cJSON *item, void *arg)
{
	struct kube_reflector *reflector = arg;
	struct kube_meta meta;
	void *object, *replaced, *displaced;
	char *cause = NULL;

	object = reflector->kind->decode(item, &meta, &cause);
	if (object == NULL) {
		reflector->stats.decode_errors++;
		log_warn("kube reflector: skipping a listed %s object: %s",
		    reflector->kind->name, cause ? cause : "invalid");
		free(cause);
		return 0;
	}
	if (kube_store_put(&reflector->listing, object, &replaced,
	    &displaced) != 0) {
		reflector->kind->free(object);
		return -ENOMEM;
	}
	reflector->kind->free(replaced);
	reflector->kind->free(displaced);
	return 0;
}

static void
kube_reflector_list_done(int error, int status, struct buf *body, void *arg)
{
	struct kube_reflector *reflector = arg;
	struct kube_list_page page;
	char *cause = NULL, what[64];

	reflector->call = NULL;
	if (error != 0) {
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_LISTING,
		    strerror(-error));
		return;
	}
	/*
	 * 410: the continue token or the resourceVersion is older than etcd
	 * keeps; a 504 on a versioned list is "too large resource version".
	 * Both are answered by a quorum read from the start.
	 */
	if (status == 410 || (status == 504 &&
	    reflector->list_mode == KUBE_REFLECTOR_LIST_LAST_SEEN)) {
		log_info("kube reflector: %s list answered %d; listing again "
		    "with resourceVersion=\"\"", reflector->kind->name, status);
		reflector->stats.full_relists++;
		reflector->list_mode = KUBE_REFLECTOR_LIST_FRESH;
		kube_reflector_list_begin(reflector);
		return;
	}
	if (status != 200) {
		snprintf(what, sizeof what, "HTTP %d", status);
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_LISTING, what);
		return;
	}
	/* Item by item: each small tree is decoded while it is in cache. */
	error = kube_list_parse(body->data, body->len, kube_reflector_list_item,
	    reflector, &page, &cause);
	if (error == 0 && page.resource_version == NULL) {
		error = -EINVAL;
		cause = strdup("the list has no resourceVersion");
	}
	if (error == 0) {
		free(reflector->list_continue);
		reflector->list_continue = page.continue_token;
		page.continue_token = NULL;
		free(reflector->resource_version);
		reflector->resource_version = page.resource_version;
		page.resource_version = NULL;
	}
	kube_list_page_free(&page);
	if (error != 0) {
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_LISTING,
		    cause != NULL ? cause : strerror(-error));
		free(cause);
		return;
	}
	if (reflector->list_continue != NULL) {
		kube_reflector_list_page(reflector);
		return;
	}

	kube_reflector_replace(reflector);
	reflector->stats.syncs++;
	backoff_reset(&reflector->backoff);
	log_debug("kube reflector: %s listed, %zu objects at resourceVersion %s",
	    reflector->kind->name, reflector->store.count,
	    reflector->resource_version);
	if (reflector->callbacks.on_synced != NULL)
		reflector->callbacks.on_synced(reflector->arg);
	kube_reflector_watch_begin(reflector);
}

static void
kube_reflector_list_page(struct kube_reflector *reflector)
{
	struct buf path = BUF_INIT;

	reflector->state = KUBE_REFLECTOR_LISTING;
	reflector->stats.lists++;
	errno = ENOMEM;
	if (kube_reflector_list_path(reflector, &path) == 0)
		reflector->call = kube_client_call(reflector->client, "GET",
		    path.data, NULL, NULL, 0, 0, kube_reflector_list_done,
		    reflector);
	buf_free(&path);
	if (reflector->call == NULL)
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_LISTING,
		    strerror(errno));
}

/* A list from its first page: what earlier pages gathered is dropped. */
static void
kube_reflector_list_begin(struct kube_reflector *reflector)
{
	kube_store_clear(&reflector->listing);
	free(reflector->list_continue);
	reflector->list_continue = NULL;
	kube_reflector_list_page(reflector);
}

static int
kube_reflector_advance(struct kube_reflector *reflector, const cJSON *object)
{
	const char *rv;

	rv = kube_object_string(object, "metadata", "resourceVersion", NULL);
	if (rv == NULL || rv[0] == '\0')
		return 0;
	return kube_reflector_replace_string(&reflector->resource_version, rv);
}

static void
kube_reflector_apply_put(struct kube_reflector *reflector, void *object)
{
	void *replaced, *displaced;

	if (kube_store_put(&reflector->store, object, &replaced,
	    &displaced) != 0) {
		log_warn("kube reflector: out of memory storing a %s object; "
		    "dropping it", reflector->kind->name);
		reflector->kind->free(object);
		return;
	}
	if (displaced != NULL) {
		reflector->stats.deletes++;
		if (reflector->callbacks.on_delete != NULL)
			reflector->callbacks.on_delete(displaced, reflector->arg);
		reflector->kind->free(displaced);
	}
	if (replaced != NULL) {
		reflector->stats.updates++;
		if (reflector->callbacks.on_update != NULL)
			reflector->callbacks.on_update(replaced, object,
			    reflector->arg);
		reflector->kind->free(replaced);
	} else {
		reflector->stats.adds++;
		if (reflector->callbacks.on_add != NULL)
			reflector->callbacks.on_add(object, reflector->arg);
	}
}

static int
kube_reflector_event(const struct kube_stream_event *event, void *arg)
{
	struct kube_reflector *reflector = arg;
	struct kube_meta meta;
	const char *uid;
	char *cause = NULL;
	void *object;

	reflector->stats.events++;
	reflector->watch_events++;
	switch (event->type) {
	case KUBE_STREAM_ADDED:
	case KUBE_STREAM_MODIFIED:
		kube_reflector_advance(reflector, event->object);
		object = reflector->kind->decode(event->object, &meta, &cause);
		if (object == NULL) {
			reflector->stats.decode_errors++;
			log_warn("kube reflector: skipping a watched %s object: %s",
			    reflector->kind->name, cause ? cause : "invalid");
			free(cause);
			return 0;
		}
		kube_reflector_apply_put(reflector, object);
		return 0;
	case KUBE_STREAM_DELETED:
		kube_reflector_advance(reflector, event->object);
		uid = kube_object_string(event->object, "metadata", "uid", NULL);
		if (uid == NULL || (object = kube_store_remove(&reflector->store,
		    uid)) == NULL)
			return 0;
		reflector->stats.deletes++;
		if (reflector->callbacks.on_delete != NULL)
			reflector->callbacks.on_delete(object, reflector->arg);
		reflector->kind->free(object);
		return 0;
	case KUBE_STREAM_BOOKMARK:
		reflector->stats.bookmarks++;
		kube_reflector_advance(reflector, event->object);
		kube_reflector_replace_string(&reflector->last_bookmark,
		    kube_object_string(event->object, "metadata",
		    "resourceVersion", NULL));
		return 0;
	case KUBE_STREAM_ERROR:
		if (event->code == 410) {
			reflector->watch_expired = true;
		} else {
			reflector->watch_failed = true;
			log_warn("kube reflector: %s watch error %d %s: %s",
			    reflector->kind->name, event->code,
			    event->reason ? event->reason : "",
			    event->message ? event->message : "");
		}
		return 1;
	}
	return 0;
}

static void
kube_reflector_watch_ended(struct kube_reflector *reflector, int error)
{
	uint64_t lasted = uv_now(reflector->client->loop) - reflector->watch_started;
	char what[64];

	reflector->watch = NULL;
	if (reflector->watch_expired || reflector->watch_status == 410) {
		/* Relist from the last version seen: "at least as fresh". */
		log_info("kube reflector: %s watch from resourceVersion %s "
		    "expired; listing again", reflector->kind->name,
		    reflector->resource_version ? reflector->resource_version : "");
		reflector->stats.relists_expired++;
		reflector->list_mode = KUBE_REFLECTOR_LIST_LAST_SEEN;
		kube_reflector_schedule(reflector, KUBE_REFLECTOR_LISTING, 0);
		return;
	}
	if (error != 0) {
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_WATCHING,
		    strerror(-error));
		return;
	}
	if (reflector->watch_status != 200) {
		snprintf(what, sizeof what, "HTTP %d", reflector->watch_status);
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_WATCHING, what);
		return;
	}
	if (reflector->watch_failed) {
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_WATCHING,
		    "an ERROR event");
		return;
	}
	if (kube_stream_partial(&reflector->stream))
		log_warn("kube reflector: %s watch ended inside an event; "
		    "resuming from resourceVersion %s", reflector->kind->name,
		    reflector->resource_version);
	reflector->stats.watch_ends++;
	if (lasted < KUBE_REFLECTOR_SHORT_WATCH_MS && reflector->watch_events == 0) {
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_WATCHING,
		    "a very short watch");
		return;
	}
	backoff_reset(&reflector->backoff);
	kube_reflector_watch_begin(reflector);
}

static void
kube_reflector_watch_response(struct kube_http_request *request, int status,
    void *arg)
{
	struct kube_reflector *reflector = arg;

	(void)request;
	reflector->watch_status = status;
	if (status == 401)
		kube_client_unauthorized(reflector->client);
}

static void
kube_reflector_watch_body(struct kube_http_request *request, const char *data,
    size_t len, void *arg)
{
	struct kube_reflector *reflector = arg;
	int result;

	if (reflector->watch_status != 200)
		return;
	result = kube_stream_feed(&reflector->stream, data, len);
	if (result == 0)
		return;
	/* An ERROR event ends this watch; the server would close it anyway. */
	kube_http_cancel(request);
	reflector->watch = NULL;
	kube_reflector_watch_ended(reflector, result < 0 ? result : 0);
}

static void
kube_reflector_watch_done(struct kube_http_request *request, int error,
    void *arg)
{
	(void)request;
	kube_reflector_watch_ended(arg, error);
}

static void
kube_reflector_watch_begin(struct kube_reflector *reflector)
{
	static const struct kube_http_callbacks callbacks = {
		.on_response = kube_reflector_watch_response,
		.on_body = kube_reflector_watch_body,
		.on_done = kube_reflector_watch_done,
	};
	struct buf path = BUF_INIT;
	unsigned timeout = kube_reflector_watch_timeout(reflector);

	reflector->state = KUBE_REFLECTOR_WATCHING;
	reflector->watch_status = 0;
	reflector->watch_expired = false;
	reflector->watch_failed = false;
	reflector->watch_events = 0;
	reflector->watch_started = uv_now(reflector->client->loop);
	kube_stream_free(&reflector->stream);
	kube_stream_init(&reflector->stream, kube_reflector_event, reflector);
	reflector->stats.watches++;
	log_debug("kube reflector: watching %s from resourceVersion %s",
	    reflector->kind->name, reflector->resource_version);
	errno = ENOMEM;
	if (kube_reflector_watch_path_for(reflector, &path, timeout) == 0)
		reflector->watch = kube_client_stream(reflector->client, path.data,
		    (uint64_t)timeout * 1000 + KUBE_REFLECTOR_WATCH_SLACK_MS,
		    &callbacks, reflector);
	buf_free(&path);
	if (reflector->watch == NULL)
		kube_reflector_back_off(reflector, KUBE_REFLECTOR_WATCHING,
		    strerror(errno));
}

int
kube_reflector_start(struct kube_reflector *reflector)
{
	reflector->list_mode = KUBE_REFLECTOR_LIST_FRESH;
	reflector->state = KUBE_REFLECTOR_LISTING;
	kube_reflector_list_begin(reflector);
	return 0;
}

static void
kube_reflector_timer_closed(uv_handle_t *handle)
{
	struct kube_reflector *reflector = handle->data;
	void (*closed)(struct kube_reflector *) = reflector->closed;

	kube_store_clear(&reflector->store);
	kube_store_clear(&reflector->listing);
	kube_stream_free(&reflector->stream);
	free(reflector->path);
	free(reflector->field_selector);
	free(reflector->resource_version);
	free(reflector->list_continue);
	free(reflector->last_bookmark);
	reflector->path = reflector->field_selector = NULL;
	reflector->resource_version = reflector->list_continue = NULL;
	reflector->last_bookmark = NULL;
	if (closed != NULL)
		closed(reflector);
}

void
kube_reflector_stop(struct kube_reflector *reflector,
    void (*closed)(struct kube_reflector *))
{
	reflector->state = KUBE_REFLECTOR_STOPPED;
	reflector->closed = closed;
	kube_client_call_cancel(reflector->call);
	reflector->call = NULL;
	kube_http_cancel(reflector->watch);
	reflector->watch = NULL;
	uv_timer_stop(&reflector->timer);
	uv_close((uv_handle_t *)&reflector->timer, kube_reflector_timer_closed);
}
