/* t/test-kube-store.c - the object store against a naive model. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "kube-pod.h"
#include "kube-store.h"
#include "pod.h"
#include "tap.h"

static struct pod *
make_pod(const char *uid, const char *namespace, const char *name,
    const char *rv)
{
	struct pod *pod = calloc(1, sizeof *pod);
	size_t a = strlen(uid) + 1, b = strlen(namespace) + 1,
	    c = strlen(name) + 1, d = strlen(rv) + 1;

	pod->strings = malloc(a + b + c + d);
	memcpy(pod->strings, uid, a);
	memcpy(pod->strings + a, namespace, b);
	memcpy(pod->strings + a + b, name, c);
	memcpy(pod->strings + a + b + c, rv, d);
	pod->uid = pod->strings;
	pod->namespace = pod->strings + a;
	pod->name = pod->strings + a + b;
	pod->resource_version = pod->strings + a + b + c;
	return pod;
}

/* The model: slot i holds the uid "u<i>" with name "n<name>" or nothing. */
#define SLOTS 300
static int model_name[SLOTS];
static int model_rv[SLOTS];
static int model_present[SLOTS];

static void
count_visit(void *object, const struct kube_meta *meta, void *arg)
{
	(void)object;
	(void)meta;
	(*(size_t *)arg)++;
}

static void
test_basics(void)
{
	struct kube_store store;
	struct pod *pod;
	void *replaced, *displaced;

	kube_store_init(&store, &kube_pod_kind);
	ok(kube_store_get_uid(&store, "x") == NULL, "an empty store finds nothing");
	kube_store_put(&store, make_pod("u1", "ns", "a", "1"), &replaced, &displaced);
	kube_store_put(&store, make_pod("u2", "ns", "b", "2"), &replaced, &displaced);
	pod = kube_store_get_name(&store, "ns", "a");
	ok(pod != NULL && strcmp(pod->uid, "u1") == 0, "found by namespace/name");
	ok(kube_store_get_name(&store, "other", "a") == NULL, "namespace matters");
	kube_store_put(&store, make_pod("u1", "ns", "a", "3"), &replaced, &displaced);
	ok(replaced != NULL && displaced == NULL, "same uid replaces");
	pod_free(replaced);
	pod = kube_store_get_uid(&store, "u1");
	is_str(pod->resource_version, "3", "the newer object is kept");
	kube_store_put(&store, make_pod("u9", "ns", "b", "4"), &replaced, &displaced);
	ok(replaced == NULL && displaced != NULL &&
	    strcmp(((struct pod *)displaced)->uid, "u2") == 0,
	    "a new uid under an old name displaces the old object");
	pod_free(displaced);
	ok(kube_store_get_uid(&store, "u2") == NULL, "the displaced uid is gone");
	is_int(store.count, 2, "two objects");
	pod = kube_store_remove(&store, "u1");
	ok(pod != NULL && kube_store_get_name(&store, "ns", "a") == NULL,
	    "removal clears both indexes");
	pod_free(pod);
	ok(kube_store_remove(&store, "u1") == NULL, "removing twice finds nothing");
	kube_store_clear(&store);
	is_int(store.count, 0, "cleared");
	kube_store_clear(&store);
}

static void
test_model(void)
{
	struct kube_store store;
	struct pod *pod;
	void *replaced, *displaced;
	char uid[16], name[16], rv[16];
	unsigned seed = 7;
	size_t i, step, mismatches = 0, visited = 0, present = 0;
	int slot, other;

	kube_store_init(&store, &kube_pod_kind);
	for (step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		slot = (int)((seed >> 8) % SLOTS);
		snprintf(uid, sizeof uid, "u%d", slot);
		if ((seed >> 20) % 3 == 0) {
			pod = kube_store_remove(&store, uid);
			if ((pod != NULL) != (model_present[slot] != 0))
				mismatches++;
			pod_free(pod);
			model_present[slot] = 0;
			continue;
		}
		/* Names come from a smaller space, so some collide. */
		model_name[slot] = (int)((seed >> 4) % (SLOTS / 2));
		model_rv[slot] = (int)step;
		snprintf(name, sizeof name, "n%d", model_name[slot]);
		snprintf(rv, sizeof rv, "%zu", step);
		for (other = 0; other < SLOTS; other++) {
			if (other != slot && model_present[other] &&
			    model_name[other] == model_name[slot])
				model_present[other] = 0;
		}
		model_present[slot] = 1;
		if (kube_store_put(&store, make_pod(uid, "ns", name, rv), &replaced,
		    &displaced) != 0)
			mismatches++;
		pod_free(replaced);
		pod_free(displaced);
	}
	for (i = 0; i < SLOTS; i++) {
		snprintf(uid, sizeof uid, "u%zu", i);
		pod = kube_store_get_uid(&store, uid);
		if ((pod != NULL) != (model_present[i] != 0)) {
			mismatches++;
			continue;
		}
		if (pod == NULL)
			continue;
		present++;
		snprintf(name, sizeof name, "n%d", model_name[i]);
		snprintf(rv, sizeof rv, "%d", model_rv[i]);
		if (strcmp(pod->name, name) != 0 || strcmp(pod->resource_version, rv) != 0 ||
		    kube_store_get_name(&store, "ns", name) != pod)
			mismatches++;
	}
	is_int(mismatches, 0, "20000 random puts and removes agree with the model");
	is_int(store.count, present, "count agrees (%zu objects)", present);
	kube_store_foreach(&store, count_visit, &visited);
	is_int(visited, present, "foreach visits each object once");
	kube_store_clear(&store);
}

int
main(void)
{
	test_basics();
	test_model();
	return done_testing();
}
