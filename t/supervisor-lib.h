/*
 * t/supervisor-lib.h - what the supervisor tests share: a fixture sysfs
 * tree that passes the kernel gate, a loop driven until a condition holds,
 * and generations and plans made by hand.
 */
#ifndef TEMPER_SUPERVISOR_LIB_H
#define TEMPER_SUPERVISOR_LIB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "generations.h"
#include "planner.h"
#include "tier.h"

static char test_root[] = "/tmp/test-supervisor.XXXXXX";
static char test_sysfs[200], test_state[200];

static inline void
test_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
	fputs(text, f);
	fclose(f);
}

/* SYSFS with sched_ext "disabled" and BTF: the gate passes with 6.12. */
static inline void
test_fixture(void)
{
	char path[4096];

	if (mkdtemp(test_root) == NULL)
		abort();
	snprintf(test_sysfs, sizeof test_sysfs, "%s/sys", test_root);
	snprintf(test_state, sizeof test_state, "%s/state", test_root);
	snprintf(path, sizeof path, "mkdir -p %s/kernel/sched_ext %s/kernel/btf %s",
	    test_sysfs, test_sysfs, test_state);
	if (system(path) != 0)
		abort();
	snprintf(path, sizeof path, "%s/kernel/sched_ext/state", test_sysfs);
	test_put(path, "disabled\n");
	snprintf(path, sizeof path, "%s/kernel/sched_ext/enable_seq", test_sysfs);
	test_put(path, "0\n");
	snprintf(path, sizeof path, "%s/kernel/btf/vmlinux", test_sysfs);
	test_put(path, "BTF\n");
}

static inline void
test_fixture_remove(void)
{
	char command[4096];

	snprintf(command, sizeof command, "rm -rf '%s'", test_root);
	if (system(command) != 0)
		fprintf(stderr, "could not remove %s\n", test_root);
}

static inline char *
test_read(const char *path)
{
	static char text[65536];
	FILE *f = fopen(path, "r");
	size_t got;

	if (f == NULL)
		return NULL;
	got = fread(text, 1, sizeof text - 1, f);
	text[got] = '\0';
	fclose(f);
	return text;
}

static inline void
test_tick(uv_timer_t *timer)
{
	(void)timer;
}

/* Run the loop until check(arg) holds or timeout_ms passes. */
static inline int
test_run_until(uv_loop_t *loop, int (*check)(void *), void *arg, uint64_t timeout_ms)
{
	uint64_t deadline = uv_now(loop) + timeout_ms;
	uv_timer_t tick;
	int met;

	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, test_tick, 2, 2);
	while (!(met = check(arg)) && uv_now(loop) < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return met;
}

/* A plan with one HintEquals layer per tier given, then the catch-all. */
struct test_plan {
	struct plan plan;
	struct plan_layer layers[TIER_COUNT + 1];
	struct plan_match matches[TIER_COUNT];
	char names[TIER_COUNT + 1][32];
};

static inline void
test_plan_make(struct test_plan *t, const enum tier *tiers, size_t count)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < count; i++) {
		snprintf(t->names[i], sizeof t->names[i], "tier%d", (int)tiers[i]);
		t->matches[i].kind = PLAN_MATCH_HINT_EQUALS;
		t->matches[i].hint = planner_tier_hint(tiers[i]);
		t->layers[i].name = t->names[i];
		t->layers[i].role = PLAN_ROLE_TIER;
		t->layers[i].tier = tiers[i];
		t->layers[i].matches = &t->matches[i];
		t->layers[i].match_count = 1;
	}
	snprintf(t->names[count], sizeof t->names[count], "open");
	t->layers[count].name = t->names[count];
	t->layers[count].role = PLAN_ROLE_CATCH_ALL;
	t->layers[count].kind = PLAN_KIND_OPEN;
	t->plan.layers = t->layers;
	t->plan.layer_count = count + 1;
	t->plan.membership = ENGINE_MEMBERSHIP_HINT;
}

static inline struct generation
test_generation(uint64_t number, const char *config)
{
	struct generation generation;

	memset(&generation, 0, sizeof generation);
	generation.number = number;
	generation.reason = (char *)"test";
	generation.notes = (char *)"";
	generation.config = (char *)config;
	return generation;
}

#endif
