/*
 * t/test-profile-planner.c - golden plans for profiled pods: each scenario
 * plans a node whose pods carry workload profiles and compares the JSON and
 * notes with t/golden/profile-NAME.{json,notes}, byte for byte; every JSON
 * passes the strict schema here, and t/70-scx-validate.sh (which takes every
 * golden JSON) puts them through the real scx_layered parser.
 *
 *	TEMPER_UPDATE_GOLDEN=1 make check TESTS=t/test-profile-planner
 *
 * rewrites them after a deliberate change (review the diff).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "layered-gen.h"
#include "layered-schema.h"
#include "planner.h"
#include "profile.h"
#include "tap.h"
#include "planner-scenario.h"

static const char *golden_dir;
static bool update_golden;

static char *
read_whole(const char *path)
{
	struct buf text = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *file;

	if ((file = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
		buf_append(&text, chunk, n);
	fclose(file);
	return buf_detach(&text);
}

static void
golden(const char *name, const char *suffix, const char *got)
{
	char path[512], *expected;
	FILE *file;

	snprintf(path, sizeof path, "%s/%s.%s", golden_dir, name, suffix);
	if (update_golden) {
		file = fopen(path, "w");
		ok(file != NULL && fputs(got, file) >= 0 && fclose(file) == 0,
		    "%s.%s rewritten", name, suffix);
		return;
	}
	expected = read_whole(path);
	if (!ok(expected != NULL && strcmp(expected, got) == 0,
	    "%s.%s matches the golden file", name, suffix))
		diag("  %s %s; got:\n%s", path, expected ? "differs" : "missing",
		    got);
	free(expected);
}

static struct profile *
builtin(const char *name)
{
	for (size_t i = 0; i < profile_builtin_count; i++)
		if (strcmp(profile_builtins[i].name, name) == 0)
			return profile_parse(profile_builtins[i].text,
			    strlen(profile_builtins[i].text), "builtin", NULL);
	abort();
}

static struct plan *
run(const char *name, const char *description, struct scenario *s)
{
	struct plan *plan, *again;
	char *json, *notes, *cause = NULL;

	diag("%s: %s", name, description);
	if ((plan = scenario_plan(s, &cause)) == NULL) {
		ok(0, "%s: planned (%s)", name, cause ? cause : strerror(errno));
		free(cause);
		return NULL;
	}
	json = layered_gen_string(plan);
	notes = planner_render_notes(plan);
	if (!ok(json != NULL && notes != NULL, "%s: generated", name))
		abort();
	if (!ok(layered_schema_check(json, strlen(json), &cause) == 0,
	    "%s: the JSON passes the strict schema", name))
		diag("  %s", cause ? cause : "(no cause)");
	free(cause);
	again = scenario_plan(s, NULL);
	ok(planner_equal(plan, again), "%s: deterministic", name);
	planner_free(again);
	golden(name, "json", json);
	golden(name, "notes", notes);
	free(json);
	free(notes);
	return plan;
}

static const struct plan_layer *
layer_named(const struct plan *plan, const char *name)
{
	for (size_t i = 0; plan != NULL && i < plan->layer_count; i++)
		if (strcmp(plan->layers[i].name, name) == 0)
			return &plan->layers[i];
	return NULL;
}

static size_t
layer_index(const struct plan *plan, const char *name)
{
	const struct plan_layer *layer = layer_named(plan, name);

	return layer ? (size_t)(layer - plan->layers) : (size_t)-1;
}

static bool
has_note(const struct plan *plan, const char *text)
{
	for (size_t i = 0; plan != NULL && i < plan->note_count; i++)
		if (strstr(plan->notes[i].text, text) != NULL)
			return true;
	return false;
}

/* A PyTorch pod in Critical, a MySQL pod in High, a JVM pod in Normal. */
static void
scenario_three_builtins(struct profile *pytorch, struct profile *mysql,
    struct profile *jvm)
{
	struct scenario *s = scenario_new(801, topology_synthetic(1, 2, 8, 2));
	const struct plan_layer *layer;
	struct plan *plan;
	size_t a, b, c;

	a = scenario_guaranteed(s, "temper-critical", 1000000, 4000);
	b = scenario_burstable(s, "temper-high", 100000, 2000);
	c = scenario_burstable(s, NULL, 0, 1000);
	scenario_burstable(s, NULL, 0, 500);	/* unprofiled */
	s->inputs[a].profile = pytorch;
	s->inputs[b].profile = mysql;
	s->inputs[c].profile = jvm;
	plan = run("profile-builtins", "pytorch critical, mysql high, jvm normal", s);
	layer = layer_named(plan, "critical-exclusive");
	ok(layer != NULL && layer->exclusive && layer->preempt &&
	    layer->kind == PLAN_KIND_GROUPED && layer->cpus_min == 2,
	    "the training loop gets a whole core of its own, exclusive");
	layer = layer_named(plan, "critical-yield");
	ok(layer != NULL && layer->kind == PLAN_KIND_OPEN && !layer->preempt &&
	    layer->match_count == 1 && layer->matches[0].also_count == 1 &&
	    strcmp(layer->matches[0].also[0].text, "pt_data_worker") == 0,
	    "the DataLoader workers yield: Open, pod cgroup AND pt_data_worker");
	layer = layer_named(plan, "high-latency");
	ok(layer != NULL && layer->preempt && layer->slice_us == 1000 &&
	    layer->match_count == 4,
	    "MySQL's connections, I/O and redo log writer: one latency layer, 4 blocks");
	layer = layer_named(plan, "normal-latency");
	ok(layer != NULL && !layer->preempt && layer->slice_us == 1000,
	    "normal's latency treatment: short slices, no preemption normal lacks");
	ok(layer_index(plan, "normal-yield") < layer_index(plan, "critical"),
	    "profile layers come before every tier layer");
	ok(strcmp(planner_layer_of(plan, s->pods[a].uid), "critical") == 0,
	    "the pod itself stays a member of its tier's layer");
	planner_free(plan);
	scenario_free(s);
}

/* Two MySQL pods in one tier share its layers, a block for each. */
static void
scenario_merged(struct profile *mysql)
{
	struct scenario *s = scenario_new(802, topology_synthetic(1, 1, 8, 2));
	const struct plan_layer *layer;
	struct plan *plan;
	size_t a, b;

	a = scenario_burstable(s, "temper-high", 100000, 1000);
	b = scenario_burstable(s, "temper-high", 100000, 1000);
	s->inputs[a].profile = mysql;
	s->inputs[b].profile = mysql;
	plan = run("profile-merged", "two mysql pods in high share their layers", s);
	ok(plan != NULL && plan->layer_count == 5,
	    "high-latency, high-yield, high, system, open");
	layer = layer_named(plan, "high-yield");
	ok(layer != NULL && layer->match_count == 6,
	    "three yield groups of two pods: six blocks in one layer");
	planner_free(plan);
	scenario_free(s);
}

/* A pytorch pod in Normal asks for exclusive cores Normal does not have. */
static void
scenario_bounded(struct profile *pytorch)
{
	struct scenario *s = scenario_new(803, topology_synthetic(1, 1, 4, 2));
	struct plan *plan;
	size_t a;

	a = scenario_burstable(s, NULL, 0, 1000);
	s->inputs[a].profile = pytorch;
	plan = run("profile-tier-bounds", "exclusive asked in normal", s);
	ok(layer_named(plan, "normal-exclusive") == NULL,
	    "no exclusive layer outside Critical");
	ok(has_note(plan, "group training-loop asks for exclusive cores, which "
	    "tier normal does not have: planned as latency"),
	    "the note says the group was planned as latency");
	planner_free(plan);
	scenario_free(s);
}

/* Every tier profiled with all three treatments: more than 16 layers. */
static void
scenario_over_budget(void)
{
	static const char text[] =
	    "name = \"all-three\"\n"
	    "[[group]]\nname = \"hot\"\ncomm_prefix = \"hot\"\ntreatment = \"exclusive\"\n"
	    "[[group]]\nname = \"chain\"\ncomm_prefix = \"chain\"\ntreatment = \"latency\"\n"
	    "[[group]]\nname = \"idle\"\ncomm_prefix = \"idle\"\ntreatment = \"yield\"\n"
	    "[[group]]\nname = \"joined\"\ncmd_join = \"bg\"\ngroup_leader = false\n"
	    "treatment = \"yield\"\n";
	struct profile *profile = profile_parse(text, strlen(text), "t", NULL);
	struct scenario *s = scenario_new(804, topology_synthetic(1, 2, 8, 2));
	struct plan *plan;
	size_t i;

	i = scenario_guaranteed(s, "temper-critical", 1000000, 2000);
	s->inputs[i].profile = profile;
	i = scenario_burstable(s, "temper-high", 100000, 1000);
	s->inputs[i].profile = profile;
	i = scenario_burstable(s, NULL, 0, 1000);
	s->inputs[i].profile = profile;
	i = scenario_besteffort(s, "temper-low", -100);
	s->inputs[i].profile = profile;
	i = scenario_besteffort(s, "temper-background", -1000);
	s->inputs[i].profile = profile;
	plan = run("profile-over-budget", "11 profile layers wanted, 9 fit", s);
	ok(plan != NULL && plan->layer_count == 16, "the plan holds 16 layers");
	ok(has_note(plan, "profile layer background-latency (2 thread groups of 1 pod, "
	    "profiles all-three) not planned: scx_layered allows 16 layers"),
	    "the layers beyond the budget are refused, each with a reason");
	ok(layer_named(plan, "background-latency") == NULL &&
	    layer_named(plan, "critical-exclusive") != NULL,
	    "higher tiers' profile layers are planned first");
	planner_free(plan);
	scenario_free(s);
	profile_free(profile);
}

/* Hint membership: the tier layer matches by hint, profile layers by cgroup. */
static void
scenario_hint(struct profile *jvm)
{
	struct scenario *s = scenario_new(805, topology_synthetic(1, 1, 8, 2));
	struct plan *plan;
	size_t a;

	s->config.membership = ENGINE_MEMBERSHIP_HINT;
	a = scenario_guaranteed(s, "temper-critical", 1000000, 2000);
	s->inputs[a].profile = jvm;
	plan = run("profile-hint-membership", "a jvm pod in hint mode", s);
	ok(layer_named(plan, "critical-latency") != NULL &&
	    layer_named(plan, "critical-latency")->matches[0].kind ==
	    PLAN_MATCH_CGROUP_PREFIX, "profile layers match the pod's cgroup");
	planner_free(plan);
	scenario_free(s);
}


/*
 * Property: random nodes of profiled pods.  Whatever the mix, the plan
 * holds at most 16 layers, passes the strict schema, keeps every profile
 * layer before the tier layers and within its tier's bounds (exclusive
 * cores for Critical only, preemption only where the tier preempts), and
 * every profiled pod's groups are either in a block or named in a warning.
 */
static void
property_random(struct profile **profiles, size_t profile_count)
{
	unsigned seed = 20261122, failures = 0;
	const unsigned iterations = 300;

	for (unsigned n = 0; n < iterations && failures < 5; n++) {
		struct scenario *s = scenario_new(900 + n,
		    topology_synthetic(1, 1 + (unsigned)(rand_r(&seed) % 4),
		    2 + (unsigned)(rand_r(&seed) % 31), 1 + (unsigned)(rand_r(&seed) % 2)));
		size_t pods = (size_t)(rand_r(&seed) % 60), blocks = 0, wanted = 0;
		bool tier_seen = false, fine = true;
		char *json, *cause = NULL;
		struct plan *plan;

		if (rand_r(&seed) % 4 == 0)
			s->config.membership = ENGINE_MEMBERSHIP_HINT;
		for (size_t i = 0; i < pods; i++) {
			static const int32_t priorities[] = { 1000000, 100000, 0, -100, -1000 };
			size_t at = scenario_burstable(s, NULL,
			    priorities[rand_r(&seed) % 5], 100 + rand_r(&seed) % 2000);

			if (rand_r(&seed) % 3 != 0) {
				const struct profile *profile =
				    profiles[rand_r(&seed) % profile_count];

				s->inputs[at].profile = profile;
				wanted += profile->group_count;
			}
		}
		if ((plan = scenario_plan(s, &cause)) == NULL) {
			ok(0, "random %u: planned (%s)", n, cause ? cause : "?");
			free(cause);
			scenario_free(s);
			failures++;
			continue;
		}
		json = layered_gen_string(plan);
		if (plan->layer_count > PLANNER_MAX_LAYERS || json == NULL ||
		    layered_schema_check(json, strlen(json), &cause) != 0)
			fine = false;
		for (size_t l = 0; l < plan->layer_count; l++) {
			const struct plan_layer *layer = &plan->layers[l];

			if (layer->role != PLAN_ROLE_PROFILE) {
				tier_seen = true;
				continue;
			}
			blocks += layer->match_count;
			if (tier_seen || layer->match_count > PLANNER_MAX_OR_BLOCKS ||
			    (layer->exclusive && layer->tier != TIER_CRITICAL) ||
			    (layer->preempt && layer->tier != TIER_CRITICAL &&
			    layer->tier != TIER_HIGH))
				fine = false;
			for (size_t m = 0; m < layer->match_count; m++)
				if (layer->matches[m].also_count + 1 >
				    PLANNER_MAX_AND_CONDITIONS)
					fine = false;
		}
		/* Groups not in a block are each in a warning (a whole
		 * refused layer's warning counts its groups). */
		for (size_t i = 0; i < plan->note_count; i++) {
			const char *text = plan->notes[i].text;
			size_t groups;

			if (plan->notes[i].level != PLAN_NOTE_WARNING)
				continue;
			if (sscanf(text, "profile layer %*s (%zu thread group", &groups) == 1)
				blocks += groups;
			else if (strstr(text, "out of match blocks") != NULL)
				blocks++;
		}
		if (blocks > wanted)
			fine = false;
		if (getenv("TEMPER_PROPERTY_DUMP") != NULL && json != NULL) {
			char path[4096];
			FILE *file;

			/* For the real scx_layered: see t/70-scx-validate.sh. */
			snprintf(path, sizeof path, "%s/profile-random-%u.json",
			    getenv("TEMPER_PROPERTY_DUMP"), n);
			if ((file = fopen(path, "w")) != NULL) {
				fputs(json, file);
				fclose(file);
			}
		}
		if (!fine) {
			failures++;
			ok(0, "random %u: a plan breaks a property", n);
			diag("%s", cause ? cause : (json ? json : "no JSON"));
		}
		free(cause);
		free(json);
		planner_free(plan);
		scenario_free(s);
	}
	ok(failures == 0, "%u random nodes of profiled pods: within 16 layers, "
	    "schema-valid, profile layers first and within their tiers' bounds",
	    iterations);
}

int
main(void)
{
	struct profile *pytorch = builtin("pytorch"), *mysql = builtin("mysql"),
	    *jvm = builtin("jvm");
	const char *top = getenv("TOP_SRCDIR");
	static char dir[4096];

	snprintf(dir, sizeof dir, "%s/t/golden", top ? top : ".");
	golden_dir = dir;
	update_golden = getenv("TEMPER_UPDATE_GOLDEN") != NULL;
	ok(pytorch && mysql && jvm, "the builtins parse");
	scenario_three_builtins(pytorch, mysql, jvm);
	scenario_merged(mysql);
	scenario_bounded(pytorch);
	scenario_over_budget();
	scenario_hint(jvm);
	{
		struct profile *all[] = { pytorch, mysql, jvm };

		property_random(all, 3);
	}
	profile_free(pytorch);
	profile_free(mysql);
	profile_free(jvm);
	return done_testing();
}
