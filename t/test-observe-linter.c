/*
 * t/test-observe-linter.c - each placement-linter invariant provoked by a
 * constructed situation, and a clean window that provokes none.
 *
 * The machine: 4 cores x 2 threads numbered like x86 Linux (core i holds
 * CPUs i and i+4).  The plan: a critical pod confined to one core, a high
 * pod, a low pod and a background pod, planned by the real planner.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "observe-linter.h"
#include "planner-scenario.h"
#include "tap.h"

#define CPUS 8

struct situation {
	struct scenario *scenario;
	struct plan *plan;
	struct observe_linter_layout layout;
	uint64_t cpu_ns[4][CPUS];
	struct observe_linter_group groups[4];
	uint64_t collisions[CPUS];
	struct observe_linter_input input;
	struct observe_verdicts verdicts;
};

enum { CRITICAL, HIGH, LOW, BACKGROUND };

static void
situation_init(struct situation *s)
{
	char *cause = NULL;
	size_t i;

	memset(s, 0, sizeof *s);
	s->scenario = scenario_new(7, topology_synthetic(1, 1, 4, 2));
	i = scenario_guaranteed(s->scenario, "temper-critical", 1000000, 2000);
	i = scenario_burstable(s->scenario, "temper-high", 100000, 1000);
	i = scenario_besteffort(s->scenario, "temper-low", -100);
	i = scenario_besteffort(s->scenario, "temper-background", -1000);
	(void)i;
	s->plan = scenario_plan(s->scenario, &cause);
	if (s->plan == NULL) {
		diag("plan: %s", cause ? cause : "?");
		exit(1);
	}
	if (observe_linter_layout(s->plan, s->scenario->topology, &s->layout) != 0)
		exit(1);
	for (int g = 0; g < 4; g++) {
		s->groups[g].pod_uid = s->scenario->pods[g].uid;
		s->groups[g].name = s->scenario->pods[g].name;
		s->groups[g].tier = (int)s->scenario->inputs[g].tier;
		s->groups[g].cpu_run_ns = s->cpu_ns[g];
	}
	/* A clean second: everyone where the plan puts them, Open well fed. */
	s->cpu_ns[CRITICAL][3] = 400000000;
	s->cpu_ns[CRITICAL][7] = 400000000;
	s->cpu_ns[HIGH][0] = 300000000;
	s->cpu_ns[HIGH][4] = 300000000;
	s->cpu_ns[LOW][1] = 500000000;
	s->cpu_ns[BACKGROUND][2] = 500000000;
	for (int g = 0; g < 4; g++) {
		for (int c = 0; c < CPUS; c++)
			s->groups[g].run_ns += s->cpu_ns[g][c];
		s->groups[g].wait_ns = 1000000;
	}
	s->input.plan = s->plan;
	s->input.topology = s->scenario->topology;
	s->input.layout = &s->layout;
	s->input.groups = s->groups;
	s->input.group_count = 4;
	s->input.unattributed_run_ns = 100000000;
	s->input.unattributed_wait_ns = 2000000;
	s->input.smt_collisions = s->collisions;
	s->input.cpu_limit = CPUS;
	s->input.window_ns = 1000000000;
	s->input.fallback_tolerance_ns = 1000000;
}

static void
situation_free(struct situation *s)
{
	observe_linter_verdicts_free(&s->verdicts);
	observe_linter_layout_free(&s->layout);
	planner_free(s->plan);
	scenario_free(s->scenario);
}

static int
situation_run(struct situation *s)
{
	observe_linter_verdicts_free(&s->verdicts);
	if (observe_linter_run(&s->input, &s->verdicts) != 0)
		return -1;
	for (size_t i = 0; i < s->verdicts.count; i++)
		diag("verdict %s: %s: %s",
		    observe_linter_invariant_name(s->verdicts.items[i].invariant),
		    s->verdicts.items[i].subject, s->verdicts.items[i].detail);
	return (int)s->verdicts.count;
}

static const struct observe_verdict *
situation_find(const struct situation *s, enum observe_invariant invariant)
{
	for (size_t i = 0; i < s->verdicts.count; i++)
		if (s->verdicts.items[i].invariant == invariant)
			return &s->verdicts.items[i];
	return NULL;
}

static long
layer_named(const struct plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->layer_count; i++)
		if (strcmp(plan->layers[i].name, name) == 0)
			return (long)i;
	return -1;
}

int
main(void)
{
	struct situation s;
	const struct observe_verdict *verdict;
	struct observe_linter_cpus cpus = { { 0 } };
	char *text, reserve_text[64];
	unsigned saved_reserve;
	long critical;

	/* The CPU-set helpers. */
	observe_linter_cpus_set(&cpus, 0);
	observe_linter_cpus_set(&cpus, 1);
	observe_linter_cpus_set(&cpus, 2);
	observe_linter_cpus_set(&cpus, 5);
	observe_linter_cpus_set(&cpus, 511);
	observe_linter_cpus_set(&cpus, 512);	/* out of range: ignored */
	text = observe_linter_cpus_format(&cpus);
	is_str(text, "0-2,5,511", "CPU sets print as ranges");
	free(text);
	is_int(observe_linter_cpus_count(&cpus), 5, "and count their CPUs");

	situation_init(&s);
	critical = layer_named(s.plan, "critical");
	ok(critical >= 0 && s.plan->layers[critical].kind == PLAN_KIND_CONFINED,
	    "the plan confines the critical layer");
	text = critical >= 0 ? observe_linter_cpus_format(&s.layout.allowed[critical]) : NULL;
	is_str(text, "3,7", "the layout fences critical on the top core, both siblings");
	free(text);
	text = observe_linter_cpus_format(&s.layout.open);
	is_str(text, "0-2,4-6", "Open layers may use every other CPU");
	free(text);

	is_int(situation_run(&s), 0, "a clean window: no verdicts");

	/* smt_collision: the kernel saw protected and Open on siblings 1/5. */
	s.collisions[1] = 3;
	s.collisions[5] = 2;
	is_int(situation_run(&s), 1, "collisions on one core: one verdict");
	verdict = situation_find(&s, OBSERVE_INVARIANT_SMT_COLLISION);
	is_str(verdict ? verdict->subject : NULL, "core 1 (CPUs 1,5)",
	    "smt_collision names the core and its siblings");
	ok(verdict && strstr(verdict->detail, "5 times") != NULL,
	    "and counts both siblings' collisions");
	memset(s.collisions, 0, sizeof s.collisions);

	/* protected_fallback: critical ran 20 ms on shared CPU 0. */
	s.cpu_ns[CRITICAL][0] = 20000000;
	is_int(situation_run(&s), 1, "critical outside its fence: one verdict");
	verdict = situation_find(&s, OBSERVE_INVARIANT_PROTECTED_FALLBACK);
	is_str(verdict ? verdict->subject : NULL, s.scenario->pods[CRITICAL].name,
	    "protected_fallback names the pod");
	ok(verdict && strstr(verdict->detail, "20.0 ms on CPUs 0") &&
	    strstr(verdict->detail, "its CPUs 3,7"),
	    "and says where it ran and where it should have");
	s.cpu_ns[CRITICAL][0] = 500000;
	is_int(situation_run(&s), 0, "half a millisecond is within the tolerance");
	s.cpu_ns[CRITICAL][0] = 0;

	/* A protected Grouped layer (high) may not run on critical's fence either. */
	s.cpu_ns[HIGH][7] = 5000000;
	situation_run(&s);
	verdict = situation_find(&s, OBSERVE_INVARIANT_PROTECTED_FALLBACK);
	is_str(verdict ? verdict->subject : NULL, s.scenario->pods[HIGH].name,
	    "protected_fallback: high on critical's fenced CPU 7");
	s.cpu_ns[HIGH][7] = 0;
	/* Open layers are not protected: running anywhere is no fallback. */
	s.cpu_ns[LOW][7] = 50000000;
	ok(situation_find(&s, OBSERVE_INVARIANT_PROTECTED_FALLBACK) == NULL ||
	    situation_run(&s) == 0, "an Open-layer pod on a fenced CPU is no fallback");
	s.cpu_ns[LOW][7] = 0;

	/* open_reserve, observed: Open work waited and got 10 ms of 1 s. */
	s.groups[LOW].run_ns = 5000000;
	s.groups[LOW].wait_ns = 600000000;
	s.groups[BACKGROUND].run_ns = 5000000;
	s.groups[BACKGROUND].wait_ns = 300000000;
	s.input.unattributed_run_ns = 0;
	s.input.unattributed_wait_ns = 100000000;
	is_int(situation_run(&s), 1, "starved Open layers: one verdict");
	verdict = situation_find(&s, OBSERVE_INVARIANT_OPEN_RESERVE);
	is_str(verdict ? verdict->subject : NULL, "open layers",
	    "open_reserve is about the Open layers");
	snprintf(reserve_text, sizeof reserve_text, "reserve of %u CPUs",
	    s.plan->reserve_cpus);
	ok(verdict && strstr(verdict->detail, "ran 10.0 ms") &&
	    strstr(verdict->detail, reserve_text),
	    "and gives what they got against the reserve");
	/* Waiting a little while running little: no starvation. */
	s.groups[LOW].wait_ns = 1000000;
	s.groups[BACKGROUND].wait_ns = 0;
	s.input.unattributed_wait_ns = 0;
	is_int(situation_run(&s), 0, "a millisecond of waiting is no starvation");
	/* Fed: well over the reserve, though they waited a lot. */
	s.groups[LOW].run_ns = 1500000000;
	s.groups[BACKGROUND].run_ns = 500000000;
	s.groups[LOW].wait_ns = 3000000000;
	is_int(situation_run(&s), 0, "Open work that ran past the reserve is fine, "
	    "however long it also waited");
	s.groups[LOW].wait_ns = 1000000;

	/* open_reserve, planned: a reserve larger than what fencing leaves. */
	saved_reserve = s.plan->reserve_cpus;
	s.plan->reserve_cpus = 7;
	situation_run(&s);
	verdict = situation_find(&s, OBSERVE_INVARIANT_OPEN_RESERVE);
	is_str(verdict ? verdict->subject : NULL, "plan",
	    "open_reserve: a plan leaving Open fewer CPUs than the reserve");
	s.plan->reserve_cpus = saved_reserve;

	/* layer_mismatch: the table says critical, the plan holds it in high. */
	s.groups[HIGH].tier = TIER_CRITICAL;
	is_int(situation_run(&s), 1, "a tier the plan disagrees with: one verdict");
	verdict = situation_find(&s, OBSERVE_INVARIANT_LAYER_MISMATCH);
	ok(verdict && strstr(verdict->detail, "tier critical, but the plan puts "
	    "the pod in layer high"), "layer_mismatch names both tiers");
	s.groups[HIGH].tier = TIER_HIGH;

	/* ...and a pod the plan does not hold at all falls to the catch-all. */
	s.groups[LOW].pod_uid = "not-in-the-plan";
	situation_run(&s);
	verdict = situation_find(&s, OBSERVE_INVARIANT_LAYER_MISMATCH);
	ok(verdict && strstr(verdict->detail, "catch-all layer open"),
	    "layer_mismatch: an unplanned pod's threads in the catch-all");
	s.groups[LOW].run_ns = 0;
	is_int(situation_run(&s), 0, "no threads ran: nothing to mismatch");

	is_int(s.verdicts.counts[OBSERVE_INVARIANT_LAYER_MISMATCH], 0,
	    "the counts follow the verdicts");
	s.input.layout = NULL;
	observe_linter_verdicts_free(&s.verdicts);
	is_int(observe_linter_run(&s.input, &s.verdicts), -EINVAL,
	    "no layout: refused");
	situation_free(&s);
	return done_testing();
}
