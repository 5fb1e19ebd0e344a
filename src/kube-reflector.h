/*
 * kube-reflector.h - keep a store of one kind in step with the API server:
 * paginated LIST, then WATCH from the list's resourceVersion.
 *
 * The algorithm is client-go's Reflector: resume every watch from the last
 * resourceVersion seen (an object's or a bookmark's); a watch that ends
 * normally is resumed at once; ERROR 410 (Expired/Gone) relists from the
 * last resourceVersion, and if that is gone too, with resourceVersion=""
 * (a quorum read).  Every completed list replaces the store and emits
 * adds, updates and deletes for the difference.  Connection errors, 429
 * and 5xx back off with jitter (backoff.h); a 401 makes the client re-read
 * its token before the retry.
 */
#ifndef TEMPER_KUBE_REFLECTOR_H
#define TEMPER_KUBE_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "backoff.h"
#include "kube-client.h"
#include "kube-object.h"
#include "kube-store.h"
#include "kube-stream.h"

struct kube_reflector_callbacks {
	void (*on_add)(void *object, void *arg);
	/* old is freed after the call. */
	void (*on_update)(void *old_object, void *new_object, void *arg);
	/* object is freed after the call. */
	void (*on_delete)(void *object, void *arg);
	/* A list completed and the store matches it. */
	void (*on_synced)(void *arg);
};

struct kube_reflector_stats {
	unsigned long lists;		/* LIST requests (pages) */
	unsigned long syncs;		/* completed lists (full replaces) */
	unsigned long relists_expired;	/* lists started by a 410 */
	unsigned long full_relists;	/* lists with resourceVersion="" after 410 */
	unsigned long watches;		/* WATCH requests */
	unsigned long watch_ends;	/* watches that ended normally */
	unsigned long events;
	unsigned long bookmarks;
	unsigned long adds, updates, deletes;
	unsigned long errors;		/* failures that backed off */
	uint64_t backoff_ms;		/* delays those failures scheduled, summed */
	unsigned long decode_errors;
};

enum kube_reflector_state {
	KUBE_REFLECTOR_STOPPED,
	KUBE_REFLECTOR_LISTING,
	KUBE_REFLECTOR_WATCHING,
	KUBE_REFLECTOR_WAITING,		/* backing off */
};

enum kube_reflector_list_mode {
	KUBE_REFLECTOR_LIST_FRESH,	/* resourceVersion unset: most recent */
	KUBE_REFLECTOR_LIST_LAST_SEEN,	/* resourceVersion=<last seen> */
};

struct kube_reflector {
	struct kube_client *client;
	const struct kube_kind *kind;
	char *path;			/* "/api/v1/pods" */
	char *field_selector;		/* NULL for all */
	unsigned page_size;
	unsigned watch_timeout_seconds;
	struct kube_reflector_callbacks callbacks;
	void *arg;

	struct kube_store store;
	struct kube_store listing;	/* a list in progress, page by page */
	char *resource_version;		/* resume point */
	char *list_continue;
	char *last_bookmark;		/* the last bookmark's resourceVersion */
	enum kube_reflector_list_mode list_mode;
	enum kube_reflector_state state;
	enum kube_reflector_state after_wait;

	struct kube_client_call *call;
	struct kube_http_request *watch;
	int watch_status;
	bool watch_expired;
	bool watch_failed;
	uint64_t watch_started;
	unsigned long watch_events;
	struct kube_stream stream;

	struct backoff backoff;
	uv_timer_t timer;
	void (*closed)(struct kube_reflector *reflector);

	struct kube_reflector_stats stats;
};

/* page_size and watch_timeout_seconds: 0 for the defaults (500, 300..600). */
int kube_reflector_init(struct kube_reflector *reflector,
    struct kube_client *client, const struct kube_kind *kind, const char *path,
    const char *field_selector, unsigned page_size,
    unsigned watch_timeout_seconds,
    const struct kube_reflector_callbacks *callbacks, void *arg);
int kube_reflector_start(struct kube_reflector *reflector);
/* Cancel requests, close the timer, free the store; closed runs after. */
void kube_reflector_stop(struct kube_reflector *reflector,
    void (*closed)(struct kube_reflector *));

/* The path of a list page or a watch, for tests. */
int kube_reflector_list_path(const struct kube_reflector *reflector,
    struct buf *out);
int kube_reflector_watch_path(const struct kube_reflector *reflector,
    struct buf *out);

#endif
