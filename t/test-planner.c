/*
 * t/test-planner.c - golden scenarios for the layer planner and the
 * scx_layered JSON generator.
 *
 * Each scenario plans a node and compares the JSON with t/golden/NAME.json
 * and the rendered notes with t/golden/NAME.notes, byte for byte.  After a
 * deliberate change, regenerate them with
 *
 *	TEMPER_UPDATE_GOLDEN=1 make check TESTS=t/test-planner
 *
 * and review the diff; without that variable a mismatch fails.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine-config.h"
#include "layered-gen.h"
#include "layered-schema.h"
#include "planner.h"
#include "tier.h"
#include "topology.h"
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

/* Compare with the golden file, or rewrite it when asked to. */
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
	    "%s.%s matches the golden file", name, suffix)) {
		const char *a = expected ? expected : "", *b = got;
		size_t line = 1;

		while (*a != '\0' && *a == *b) {
			if (*a == '\n')
				line++;
			a++;
			b++;
		}
		diag("  %s: %s; first difference at line %zu", path,
		    expected ? "differs" : "missing", line);
		diag("  got: %.120s", b);
	}
	free(expected);
}

/*
 * Plan, check the plan's invariants, compare with the goldens and return
 * the plan for the scenario's own assertions.
 */
static struct plan *
run(const char *name, const char *description, struct scenario *s)
{
	struct plan *plan, *again;
	char *json, *json_again, *notes, *cause = NULL;

	diag("%s: %s", name, description);
	plan = scenario_plan(s, &cause);
	if (!ok(plan != NULL, "%s: planned", name)) {
		diag("  %s", cause ? cause : strerror(errno));
		free(cause);
		return NULL;
	}
	json = layered_gen_string(plan);
	notes = planner_render_notes(plan);
	ok(json != NULL && notes != NULL, "%s: generated", name);
	if (json == NULL || notes == NULL) {
		free(json);
		free(notes);
		return plan;
	}
	if (!ok(layered_schema_check(json, strlen(json), &cause) == 0,
	    "%s: JSON passes the strict schema", name))
		diag("  %s", cause ? cause : "(no cause)");
	free(cause);
	cause = NULL;

	again = scenario_plan(s, NULL);
	json_again = again ? layered_gen_string(again) : NULL;
	ok(planner_equal(plan, again) && json_again != NULL &&
	    strcmp(json, json_again) == 0, "%s: deterministic", name);
	free(json_again);
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

static bool
has_note(const struct plan *plan, enum plan_note_level level, const char *text)
{
	for (size_t i = 0; plan != NULL && i < plan->note_count; i++)
		if (plan->notes[i].level == level &&
		    strstr(plan->notes[i].text, text) != NULL)
			return true;
	return false;
}

static size_t
count_notes_about_pods(const struct plan *plan)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->note_count; i++)
		if (plan->notes[i].pod_uid != NULL)
			n++;
	return n;
}

static void
check_layer_names(const struct plan *plan, const char *expected,
    const char *name)
{
	struct buf names = BUF_INIT;

	for (size_t i = 0; plan != NULL && i < plan->layer_count; i++)
		buf_printf(&names, "%s%s", i ? " " : "", plan->layers[i].name);
	is_str(names.data ? names.data : "", expected, "%s: layers %s", name,
	    expected);
	buf_free(&names);
}

/* An empty node: only the two system layers. */
static void
scenario_empty_node(void)
{
	struct scenario *s = scenario_new(1, topology_synthetic(1, 1, 4, 2));
	struct plan *plan = run("empty-node", "8 CPUs, no pods", s);

	check_layer_names(plan, "system open", "empty-node");
	planner_free(plan);
	scenario_free(s);
}

/* Only BestEffort pods: they land in background by the QoS default. */
static void
scenario_only_besteffort(void)
{
	struct scenario *s = scenario_new(2, topology_synthetic(1, 1, 4, 2));
	struct plan *plan;

	for (int i = 0; i < 5; i++)
		scenario_besteffort(s, NULL, 0);
	plan = run("only-besteffort", "8 CPUs, 5 BestEffort pods without a "
	    "PriorityClass", s);
	check_layer_names(plan, "background system open", "only-besteffort");
	if (plan != NULL) {
		is_int(layer_named(plan, "background")->member_count, 5,
		    "only-besteffort: all 5 pods in background");
		is_int(layer_named(plan, "background")->kind, PLAN_KIND_OPEN,
		    "only-besteffort: background is Open");
	}
	planner_free(plan);
	scenario_free(s);
}

/* One Critical pod of 2 CPUs on 8: one whole SMT core confined. */
static void
scenario_critical_small(void)
{
	struct scenario *s = scenario_new(3, topology_synthetic(1, 1, 4, 2));
	const struct plan_layer *critical;
	struct plan *plan;

	scenario_guaranteed(s, "temper-critical", 1000000, 2000);
	scenario_burstable(s, NULL, 0, 500);
	plan = run("critical-2cpu-on-8", "8 CPUs (4 cores x 2), one Critical "
	    "pod of 2000m and one Burstable pod", s);
	critical = layer_named(plan, "critical");
	if (ok(critical != NULL, "critical-2cpu-on-8: critical layer")) {
		is_int(critical->kind, PLAN_KIND_CONFINED, "  Confined");
		is_int(critical->cpus_min, 2, "  2 CPUs (one whole core)");
		is_int(critical->cpus_max, 2, "  limits = requests: no burst");
		ok(critical->protected && critical->preempt &&
		    critical->exclusive, "  protected, preempt, exclusive");
		is_int(critical->slice_us, 5000, "  5 ms slice");
	}
	planner_free(plan);
	scenario_free(s);
}

/* Critical asking more than can be fenced: demoted to Grouped, loudly. */
static void
scenario_critical_demoted(void)
{
	struct scenario *s = scenario_new(4, topology_synthetic(1, 1, 4, 2));
	const struct plan_layer *critical;
	struct plan *plan;

	scenario_guaranteed(s, "temper-critical", 1000000, 3000);
	scenario_guaranteed(s, "temper-critical", 1000000, 3000);
	scenario_burstable(s, "temper-normal", 0, 1000);
	plan = run("critical-demoted", "8 CPUs, Critical pods requesting 6000m "
	    "(6 CPUs) where only 4 can be fenced", s);
	critical = layer_named(plan, "critical");
	if (ok(critical != NULL, "critical-demoted: critical layer")) {
		is_int(critical->kind, PLAN_KIND_GROUPED, "  demoted to Grouped");
		ok(critical->demoted, "  marked demoted");
		ok(!critical->exclusive, "  no exclusive CPUs");
		ok(critical->protected && critical->preempt,
		    "  still protected and preempting");
		ok(critical->cpus_min <= plan->fenceable_cpus,
		    "  minimum within what can be fenced");
	}
	ok(has_note(plan, PLAN_NOTE_WARNING, "critical tier demoted to Grouped"),
	    "critical-demoted: a warning says so, with the reason");
	planner_free(plan);
	scenario_free(s);
}

/* 200 pods on 64 CPUs: more than 32 in several tiers. */
static void
scenario_dense(void)
{
	struct scenario *s = scenario_new(5, topology_synthetic(1, 4, 8, 2));
	struct plan *plan;
	size_t members = 0;

	for (int i = 0; i < 10; i++)
		scenario_guaranteed(s, "temper-critical", 1000000, 500);
	for (int i = 0; i < 40; i++)
		scenario_burstable(s, "temper-high", 100000, 200);
	for (int i = 0; i < 80; i++)
		scenario_burstable(s, "temper-normal", 0, 100);
	for (int i = 0; i < 30; i++)
		scenario_besteffort(s, "temper-low", -100);
	for (int i = 0; i < 40; i++)
		scenario_besteffort(s, "temper-background", -1000);
	plan = run("dense-200-pods-64cpu", "64 CPUs, 200 pods: 10 critical, "
	    "40 high, 80 normal, 30 low, 40 background", s);
	/*
	 * high shares kubepods-burstable.slice/ with normal, a later tier, so
	 * it cannot fold and splits in two; normal and background own their
	 * QoS parents from there on and fold into one prefix each.
	 */
	check_layer_names(plan, "critical high high-2 normal low background "
	    "system open", "dense-200-pods-64cpu");
	if (plan != NULL) {
		const struct plan_layer *normal = layer_named(plan, "normal");

		is_int(normal != NULL ? normal->match_count : 0, 1,
		    "dense: normal folded into its QoS parent");
		is_str(normal != NULL ? normal->matches[0].text : NULL,
		    "kubepods.slice/kubepods-burstable.slice/",
		    "  the burstable parent");
		for (size_t i = 0; i < plan->layer_count; i++)
			members += plan->layers[i].member_count;
		is_int(members, 200, "dense: all 200 pods are members");
		is_int(count_notes_about_pods(plan), 0, "  none in a note");
	}
	planner_free(plan);
	scenario_free(s);
}

/* The legacy infera-* classes tier by their values. */
static void
scenario_legacy(void)
{
	struct scenario *s = scenario_new(6, topology_synthetic(1, 1, 8, 2));
	struct plan *plan;

	scenario_guaranteed(s, "infera-critical", 1000000, 1000);
	scenario_burstable(s, "infera-high", 100000, 1000);
	scenario_burstable(s, "infera-normal", 0, 1000);
	scenario_besteffort(s, "infera-low", -100);
	scenario_besteffort(s, "infera-background", -1000);
	plan = run("legacy-infera", "16 CPUs, one pod in each legacy infera-* "
	    "PriorityClass", s);
	check_layer_names(plan, "critical high normal low background system "
	    "open", "legacy-infera");
	planner_free(plan);
	scenario_free(s);
}

/* SMT on: a 500m Critical pod takes a whole core, two CPUs. */
static void
scenario_smt(bool smt)
{
	struct scenario *s = scenario_new(smt ? 7 : 8,
	    smt ? topology_synthetic(1, 1, 4, 2) : topology_synthetic(1, 1, 8, 1));
	const char *name = smt ? "smt-on" : "smt-off";
	const struct plan_layer *critical;
	struct plan *plan;

	scenario_guaranteed(s, "temper-critical", 1000000, 500);
	scenario_burstable(s, "temper-high", 100000, 1500);
	plan = run(name, smt ? "8 CPUs as 4 cores x 2 threads, Critical 500m, "
	    "High 1500m" : "8 CPUs as 8 cores x 1 thread, Critical 500m, "
	    "High 1500m", s);
	critical = layer_named(plan, "critical");
	is_int(critical != NULL ? critical->cpus_min : 0, smt ? 2 : 1,
	    "%s: Critical confines %d CPU(s)", name, smt ? 2 : 1);
	is_int(layer_named(plan, "high") ? layer_named(plan, "high")->cpus_min : 0,
	    2, "%s: High minimum 2 CPUs", name);
	planner_free(plan);
	scenario_free(s);
}

/* All five tiers on one node, with limits and without. */
static void
scenario_mixed(const char *name, enum engine_membership membership)
{
	struct scenario *s = scenario_new(9, topology_synthetic(1, 2, 4, 2));
	struct plan *plan;

	s->config.membership = membership;
	s->options.agent_cgroup = "/kubepods.slice/kubepods-burstable.slice/"
	    "kubepods-burstable-podagent.slice";
	scenario_guaranteed(s, "temper-critical", 1000000, 2000);
	scenario_add(s, "prod", "temper-critical", 1000000, POD_QOS_BURSTABLE,
	    1000, 3000, SCENARIO_CGROUP_KUBELET, NULL);
	scenario_burstable(s, "temper-high", 100000, 2000);
	scenario_burstable(s, "temper-high", 150000, 1000);
	scenario_burstable(s, NULL, 0, 1500);
	scenario_guaranteed(s, NULL, 0, 500);
	scenario_burstable(s, "temper-low", -100, 250);
	scenario_besteffort(s, "temper-low", -50);
	scenario_besteffort(s, NULL, 0);
	scenario_besteffort(s, "temper-background", -1000);
	plan = run(name, membership == ENGINE_MEMBERSHIP_HINT ?
	    "the mixed node with membership = hint: HintEquals per tier" :
	    "16 CPUs, 10 pods over all five tiers, agent cgroup given", s);
	check_layer_names(plan, "critical high normal low background system "
	    "open", name);
	if (plan != NULL && membership == ENGINE_MEMBERSHIP_HINT) {
		for (size_t i = 0; i + 2 < plan->layer_count; i++) {
			const struct plan_layer *layer = &plan->layers[i];

			ok(layer->match_count == 1 &&
			    layer->matches[0].kind == PLAN_MATCH_HINT_EQUALS &&
			    layer->matches[0].hint == planner_tier_hint(layer->tier),
			    "%s: layer %s matches HintEquals %u", name,
			    layer->name, planner_tier_hint(layer->tier));
		}
	}
	planner_free(plan);
	scenario_free(s);
}

/* Pods the plan cannot match are reported, never dropped. */
static void
scenario_without_cgroup(void)
{
	struct scenario *s = scenario_new(10, topology_synthetic(1, 1, 4, 2));
	struct plan *plan;
	size_t nocgroup, root, finished, twin;

	scenario_guaranteed(s, "temper-critical", 1000000, 1000);
	nocgroup = scenario_add(s, "prod", "temper-high", 100000,
	    POD_QOS_BURSTABLE, 500, -1, SCENARIO_CGROUP_NONE, NULL);
	root = scenario_add(s, "prod", "temper-high", 100000, POD_QOS_BURSTABLE,
	    500, -1, SCENARIO_CGROUP_GIVEN, "/");
	scenario_add(s, "batch", NULL, 0, POD_QOS_BESTEFFORT, -1, -1,
	    SCENARIO_CGROUP_NONE, NULL);
	finished = scenario_burstable(s, NULL, 0, 100);
	s->pods[finished].phase = POD_PHASE_SUCCEEDED;
	twin = scenario_burstable(s, NULL, 0, 100);
	/* The same pod listed twice (a stale copy) must be planned once. */
	s->inputs[s->count] = s->inputs[twin];
	s->count++;
	plan = run("pod-without-cgroup", "8 CPUs: pods without a cgroup, with "
	    "the root as cgroup, finished, and listed twice", s);
	if (plan != NULL) {
		is_str(planner_layer_of(plan, s->pods[nocgroup].uid), NULL,
		    "pod-without-cgroup: the pod is in no layer");
		ok(has_note(plan, PLAN_NOTE_WARNING, "has no usable cgroup"),
		    "  but in a warning");
		ok(has_note(plan, PLAN_NOTE_WARNING, "cgroup root"),
		    "the root cgroup is refused with a reason");
		is_str(planner_layer_of(plan, s->pods[root].uid), NULL,
		    "  and that pod is in no layer");
		ok(has_note(plan, PLAN_NOTE_INFO, "has finished (Succeeded)"),
		    "a finished pod is noted, not planned");
		ok(has_note(plan, PLAN_NOTE_WARNING, "listed more than once"),
		    "a duplicate is noted");
		is_str(planner_layer_of(plan, s->pods[twin].uid), "normal",
		    "  and planned once");
		ok(has_note(plan, PLAN_NOTE_WARNING, "tier background has 1 pod "
		    "but none with a usable cgroup"),
		    "a tier with no matchable pod gets no layer, and a note");
	}
	planner_free(plan);
	scenario_free(s);
}

/* 192 CPUs on two NUMA nodes, a large Critical tier. */
static void
scenario_numa(void)
{
	struct scenario *s = scenario_new(11, topology_synthetic(2, 4, 12, 2));
	const struct plan_layer *critical;
	struct plan *plan;

	for (int i = 0; i < 12; i++)
		scenario_guaranteed(s, "temper-critical", 1000000, 4000);
	for (int i = 0; i < 30; i++)
		scenario_burstable(s, "temper-high", 100000, 2000);
	for (int i = 0; i < 20; i++)
		scenario_burstable(s, NULL, 0, 1000);
	for (int i = 0; i < 20; i++)
		scenario_besteffort(s, NULL, 0);
	plan = run("numa-192cpu", "192 CPUs (2 nodes x 4 LLCs x 12 cores x 2), "
	    "12 Critical pods of 4 CPUs, 30 High, 20 Normal, 20 BestEffort", s);
	critical = layer_named(plan, "critical");
	if (plan != NULL && critical != NULL) {
		is_int(critical->kind, PLAN_KIND_CONFINED,
		    "numa-192cpu: Critical fits and stays Confined");
		is_int(critical->cpus_min, 48, "  48 CPUs for 48000m");
		is_int(plan->fenceable_cpus, 170, "  of 170 fenceable (192 - 1 system - "
		    "20 reserve, in whole cores)");
	}
	planner_free(plan);
	scenario_free(s);
}

/* Custom thresholds move pods between tiers. */
static void
scenario_custom_thresholds(void)
{
	struct scenario *s = scenario_new(12, topology_synthetic(1, 1, 4, 2));
	struct plan *plan;

	s->config.thresholds = (struct tier_thresholds){
		.critical = 5000, .high = 1000, .normal = 10, .low = -10,
	};
	s->config.slice_us[TIER_HIGH] = 8000;
	scenario_guaranteed(s, "team-gold", 5000, 1000);
	scenario_burstable(s, "team-silver", 1000, 500);
	scenario_burstable(s, "temper-normal", 0, 500);
	scenario_burstable(s, "team-bronze", 10, 500);
	scenario_besteffort(s, "team-scavenger", -11);
	scenario_reclassify(s);
	plan = run("custom-thresholds", "8 CPUs, thresholds 5000/1000/10/-10 "
	    "and a High slice of 8 ms", s);
	check_layer_names(plan, "critical high normal low background system "
	    "open", "custom-thresholds");
	is_int(layer_named(plan, "high") ? layer_named(plan, "high")->slice_us : 0,
	    8000, "custom-thresholds: High slice overridden");
	is_int(layer_named(plan, "low") ? layer_named(plan, "low")->member_count : 0,
	    1, "custom-thresholds: temper-normal (0) is low under these thresholds");
	planner_free(plan);
	scenario_free(s);
}

/* The smallest node: nothing can be fenced. */
static void
scenario_tiny(void)
{
	struct scenario *s = scenario_new(13, topology_synthetic(1, 1, 1, 2));
	struct plan *plan;

	scenario_guaranteed(s, "temper-critical", 1000000, 500);
	scenario_burstable(s, NULL, 0, 500);
	plan = run("tiny-2cpu", "2 CPUs as one SMT core: Critical cannot be "
	    "fenced at all", s);
	if (plan != NULL) {
		is_int(plan->fenceable_cpus, 0, "tiny-2cpu: nothing fenceable");
		ok(layer_named(plan, "critical") != NULL &&
		    layer_named(plan, "critical")->demoted, "  Critical demoted");
	}
	planner_free(plan);
	scenario_free(s);
}

/* The agent's own pod is Critical by value but runs in the system layer. */
static void
scenario_agent_pod(void)
{
	struct scenario *s = scenario_new(16, topology_synthetic(1, 1, 4, 2));
	const struct plan_layer *system;
	struct plan *plan;
	size_t agent;
	static char agent_cgroup[256];

	agent = scenario_add(s, "temper-system", "system-node-critical",
	    2000001000, POD_QOS_BURSTABLE, 100, -1, SCENARIO_CGROUP_KUBELET, NULL);
	snprintf(agent_cgroup, sizeof agent_cgroup,
	    "/%scri-containerd-0123abcd.scope", s->text[agent].cgroup);
	s->options.agent_cgroup = agent_cgroup;
	scenario_guaranteed(s, "temper-critical", 1000000, 2000);
	scenario_burstable(s, NULL, 0, 500);
	plan = run("agent-pod", "8 CPUs, the agent's own pod listed with "
	    "system-node-critical beside a Critical and a Burstable pod", s);
	system = layer_named(plan, "system");
	if (plan != NULL && system != NULL) {
		is_str(planner_layer_of(plan, s->pods[agent].uid), "system",
		    "agent-pod: the agent's pod is in the system layer");
		is_int(layer_named(plan, "critical")->member_count, 1,
		    "  not in the critical layer");
		is_str(system->matches[system->match_count - 1].text,
		    s->text[agent].cgroup, "  which matches its whole pod cgroup");
		ok(has_note(plan, PLAN_NOTE_INFO, "holds the agent"),
		    "  and a note says why");
	}
	planner_free(plan);
	scenario_free(s);
}

/* Past the 16-layer budget: overflow is reported pod by pod. */
static void
scenario_budget_overflow(void)
{
	struct scenario *s = scenario_new(14, topology_synthetic(1, 4, 16, 2));
	struct plan *plan;
	size_t members = 0, noted = 0;

	for (int i = 0; i < 250; i++)
		scenario_burstable(s, "temper-high", 100000, 50);
	for (int i = 0; i < 250; i++)
		scenario_burstable(s, "temper-normal", 0, 50);
	for (int i = 0; i < 250; i++)
		scenario_burstable(s, "temper-low", -100, 50);
	plan = run("layer-budget-overflow", "128 CPUs, 750 Burstable pods in "
	    "three tiers sharing one QoS parent: more blocks than 16 layers "
	    "hold", s);
	if (plan != NULL) {
		is_int(plan->layer_count, PLANNER_MAX_LAYERS,
		    "overflow: all 16 layers used");
		for (size_t i = 0; i < plan->layer_count; i++)
			members += plan->layers[i].member_count;
		for (size_t i = 0; i < plan->note_count; i++)
			if (strstr(plan->notes[i].text, "left out of the layer "
			    "matches") != NULL)
				noted++;
		is_int(members, 750, "overflow: every pod still lands in a "
		    "layer (low's folded parent catches the rest)");
		is_int(noted, 90, "overflow: the 90 left out are each noted");
	}
	planner_free(plan);
	scenario_free(s);
}

/* Identical input, identical plan; sizing moves only beyond the band. */
static void
test_comparisons(void)
{
	struct scenario *s = scenario_new(15, topology_synthetic(1, 2, 8, 2));
	struct plan *before, *after;
	char *a, *b;

	s->config.membership = ENGINE_MEMBERSHIP_HINT;
	for (int i = 0; i < 19; i++)
		scenario_burstable(s, "temper-high", 100000, 200);
	before = scenario_plan(s, NULL);
	after = scenario_plan(s, NULL);
	a = layered_gen_string(before);
	b = layered_gen_string(after);
	ok(planner_equal(before, after) && a != NULL && b != NULL &&
	    strcmp(a, b) == 0, "identical input: equal plans, identical JSON");
	free(a);
	free(b);
	planner_free(after);

	/* 3800m -> 3900m: still two whole cores, a slightly larger weight. */
	scenario_burstable(s, "temper-high", 100000, 100);
	after = scenario_plan(s, NULL);
	ok(!planner_equal(before, after), "hint mode: a new pod changes the plan");
	ok(planner_sizing_changed(before, after, 0),
	    "  its sizing moved (weight), beyond a 0%% band");
	ok(!planner_sizing_changed(before, after, 10),
	    "  but not beyond a 10%% band: no restart");
	ok(!planner_needs_restart(before, after, 10),
	    "  and its matches are the tier's HintEquals: no restart due");
	planner_free(after);

	for (int i = 0; i < 20; i++)
		scenario_burstable(s, "temper-high", 100000, 200);
	after = scenario_plan(s, NULL);
	ok(planner_sizing_changed(before, after, 10),
	    "20 more pods: sizing changed beyond 10%%");
	ok(!planner_sizing_changed(before, after, 100),
	    "  but not beyond 100%%");
	ok(planner_sizing_changed(before, NULL, 10) &&
	    !planner_sizing_changed(NULL, NULL, 10), "NULL plans compare sanely");
	planner_free(after);

	ok(planner_needs_restart(before, NULL, 10) &&
	    !planner_needs_restart(NULL, NULL, 10), "NULL plans: restart sanely");

	/* Input order never matters. */
	after = scenario_plan(s, NULL);
	for (size_t i = 0; i < s->count / 2; i++) {
		struct planner_pod swap = s->inputs[i];

		s->inputs[i] = s->inputs[s->count - 1 - i];
		s->inputs[s->count - 1 - i] = swap;
	}
	planner_free(before);
	before = scenario_plan(s, NULL);
	ok(planner_equal(before, after), "reversed input: identical plan");
	planner_free(before);
	planner_free(after);
	scenario_free(s);

	/*
	 * Cgroup membership: the same pod arriving adds its CgroupPrefix to
	 * the tier's matches, which scx_layered reads only at start.
	 */
	s = scenario_new(15, topology_synthetic(1, 2, 8, 2));
	for (int i = 0; i < 19; i++)
		scenario_burstable(s, "temper-high", 100000, 200);
	before = scenario_plan(s, NULL);
	scenario_burstable(s, "temper-high", 100000, 100);
	after = scenario_plan(s, NULL);
	ok(!planner_sizing_changed(before, after, 10),
	    "cgroup mode: a new pod within the band leaves sizing alone");
	ok(planner_needs_restart(before, after, 10),
	    "  but its CgroupPrefix is a new match: restart due");
	planner_free(before);
	before = scenario_plan(s, NULL);
	ok(!planner_needs_restart(before, after, 0),
	    "  the same pods planned again need none");
	planner_free(before);
	planner_free(after);
	scenario_free(s);
}

/* The strict checker: the reference configs pass, each mistake is named. */
static void
test_schema(void)
{
	/* scx_layered's own EXAMPLE_CONFIG and examples/prefix_suffix.json. */
	static const char example[] =
	    "[{\"name\": \"batch\", \"comment\": \"tasks under system.slice or "
	    "tasks with nice value > 0\", \"matches\": [[{\"CgroupPrefix\": "
	    "\"system.slice/\"}], [{\"NiceAbove\": 0}]], \"kind\": {\"Confined\": "
	    "{\"util_range\": [0.8, 0.9], \"cpus_range\": [0, 16], \"min_exec_us\": "
	    "1000, \"slice_us\": 20000, \"weight\": 100, \"xllc_mig_min_us\": "
	    "1000.0, \"perf\": 1024}}},"
	    "{\"name\": \"immediate\", \"comment\": \"tasks under workload.slice "
	    "with nice value < 0\", \"matches\": [[{\"CgroupPrefix\": "
	    "\"workload.slice/\"}, {\"NiceBelow\": 0}]], \"kind\": {\"Open\": "
	    "{\"min_exec_us\": 100, \"yield_ignore\": 0.25, \"slice_us\": 20000, "
	    "\"preempt\": true, \"exclusive\": true, \"prev_over_idle_core\": true, "
	    "\"weight\": 100, \"perf\": 1024}}},"
	    "{\"name\": \"stress-ng\", \"comment\": \"stress-ng test layer\", "
	    "\"matches\": [[{\"CommPrefix\": \"stress-ng\"}], [{\"PcommPrefix\": "
	    "\"stress-ng\"}]], \"kind\": {\"Confined\": {\"util_range\": [0.2, 0.8], "
	    "\"min_exec_us\": 800, \"preempt\": true, \"slice_us\": 800, \"weight\": "
	    "100, \"growth_algo\": \"Topo\", \"perf\": 1024}}},"
	    "{\"name\": \"normal\", \"comment\": \"the rest\", \"matches\": [[]], "
	    "\"kind\": {\"Grouped\": {\"util_range\": [0.5, 0.6], "
	    "\"util_includes_open_cputime\": true, \"min_exec_us\": 200, "
	    "\"slice_us\": 20000, \"weight\": 100, \"xllc_mig_min_us\": 100.0, "
	    "\"growth_algo\": \"Linear\", \"perf\": 1024}}}]";
	static const char prefix_suffix[] =
	    "[{\"name\": \"match one container\", \"matches\": [[{ \"CgroupPrefix\": "
	    "\"system.slice/docker\" }, { \"CgroupSuffix\": \"f.scope/\" }]], "
	    "\"kind\": {\"Grouped\": {\"cpus_range_frac\": [0.25, 0.5], "
	    "\"util_range\": [0.4, 0.85], \"growth_algo\": \"RandomTopo\", "
	    "\"disallow_preempt_after_us\": 0, \"protected\": true}}},"
	    "{\"name\": \"fourth\", \"matches\": [[]], \"kind\": {\"Open\": "
	    "{\"growth_algo\": \"RandomTopo\"}}}]";
	static const struct {
		const char *json;
		const char *cause;
	} bad[] = {
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Grouped\": {\"util_range\": [0.1, 0.2], \"slice\": "
		  "1000}}}, {\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): kind.Grouped: unknown key \"slice\"" },
		{ "[{\"name\": \"o\", \"matchs\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0: unknown key \"matchs\"" },
		{ "[{\"name\": \"o\", \"matches\": [[{\"NiceAbove\": 0}]], "
		  "\"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"o\"): the last layer must match everything: matches "
		  "must be [[]]" },
		{ "[{\"name\": \"a\", \"matches\": [], \"kind\": {\"Open\": {}}}, "
		  "{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): a layer before the last needs matches "
		  "(scx_layered: \"has NULL matches\")" },
		{ "[{\"name\": \"a\", \"matches\": [[]], \"kind\": {\"Open\": {}}}, "
		  "{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): matches[0] is empty: it would match every "
		  "task, hiding the layers after it" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": "
		  "\"sixteen-bytes-xx\"}]], \"kind\": {\"Open\": {}}}, {\"name\": "
		  "\"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): matches[0][0].CommPrefix is longer than 15 "
		  "bytes (a task's comm)" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"HintEquals\": 3}, "
		  "{\"NiceAbove\": 0}]], \"kind\": {\"Open\": {}}}, {\"name\": \"o\", "
		  "\"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): matches[0]: HintEquals must be alone in its "
		  "block (bar SystemCpuUtilBelow or DsqInsertBelow)" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"HintEquals\": 1025}]], "
		  "\"kind\": {\"Open\": {}}}, {\"name\": \"o\", \"matches\": [[]], "
		  "\"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): matches[0][0].HintEquals must be an integer in "
		  "[0, 1024]" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"HintEquals\": 2}]], "
		  "\"kind\": {\"Open\": {}}}, {\"name\": \"b\", \"matches\": "
		  "[[{\"HintEquals\": 2}]], \"kind\": {\"Open\": {}}}, {\"name\": "
		  "\"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 1 (\"b\"): matches[0]: hint 2 already maps to layer 0" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Confined\": {\"util_range\": [0.9, 0.8]}}}, "
		  "{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): kind.Confined.util_range must be 0 <= low < high" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Confined\": {\"util_range\": [0.1, 0.8], "
		  "\"cpus_range\": [4, 2]}}}, {\"name\": \"o\", \"matches\": [[]], "
		  "\"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): kind.Confined.cpus_range must be min <= max and "
		  "max > 0" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Grouped\": {\"util_range\": [0.1, 0.8], "
		  "\"cpus_range\": [1, 2], \"cpus_range_frac\": [0.1, 0.2]}}}, "
		  "{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): kind.Grouped: cpus_range and cpus_range_frac "
		  "are exclusive" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Confined\": {\"cpus_range\": [1, 2]}}}, {\"name\": "
		  "\"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): kind.Confined: missing field util_range" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"util_range\": [0.1, 0.2]}}}]",
		  "layer 0 (\"o\"): kind.Open: unknown key \"util_range\"" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"weight\": 10001}}}]",
		  "layer 0 (\"o\"): kind.Open.weight must be at most 10000" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"preempt\": \"yes\"}}}]",
		  "layer 0 (\"o\"): kind.Open.preempt must be a boolean" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"slice_us\": -5}}}]",
		  "layer 0 (\"o\"): kind.Open.slice_us must be a non-negative integer" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"slice_us\": 1.5}}}]",
		  "layer 0 (\"o\"): kind.Open.slice_us must be a non-negative integer" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"growth_algo\": \"Fastest\"}}}]",
		  "layer 0 (\"o\"): kind.Open.growth_algo is not a known growth "
		  "algorithm" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Confned\": {}}}]",
		  "layer 0 (\"o\"): kind: unknown variant \"Confned\"" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": "
		  "{\"weight\": 1, \"weight\": 2}}}]",
		  "layer 0 (\"o\"): kind.Open: duplicate key \"weight\"" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CommPrefix\": \"x\"}]], "
		  "\"kind\": {\"Open\": {}}}, {\"name\": \"a\", \"matches\": [[]], "
		  "\"kind\": {\"Open\": {}}}]",
		  "layer 1 (\"a\"): name is already used by an earlier layer" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"template\": "
		  "{\"CgroupSuffix\": \"x/\"}, \"kind\": {\"Open\": {}}}]",
		  "layer 0: template is not accepted: Temper generates explicit "
		  "layers" },
		{ "[{\"name\": \"a\", \"matches\": [[{\"CgroupPrefx\": \"x/\"}]], "
		  "\"kind\": {\"Open\": {}}}, {\"name\": \"o\", \"matches\": [[]], "
		  "\"kind\": {\"Open\": {}}}]",
		  "layer 0 (\"a\"): matches[0][0]: unknown match variant "
		  "\"CgroupPrefx\"" },
		{ "{\"layers\": []}", "the config must be a JSON array of layers" },
		{ "[]", "0 layers; scx_layered takes 1 to 16" },
		{ "[{\"name\": \"o\", \"matches\": [[]], \"kind\": {\"Open\": {}}}] x",
		  "trailing bytes after the JSON value" },
	};
	struct buf big = BUF_INIT;
	char *cause = NULL;

	is_int(layered_schema_check(example, strlen(example), &cause), 0,
	    "schema: scx_layered's EXAMPLE_CONFIG passes");
	if (cause != NULL)
		diag("  %s", cause);
	free(cause);
	cause = NULL;
	is_int(layered_schema_check(prefix_suffix, strlen(prefix_suffix),
	    &cause), 0, "schema: examples/prefix_suffix.json passes");
	if (cause != NULL)
		diag("  %s", cause);
	free(cause);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		is_int(layered_schema_check(bad[i].json, strlen(bad[i].json),
		    &cause), -EINVAL, "schema refuses bad config %zu", i);
		is_str(cause, bad[i].cause, "  with its cause");
		free(cause);
	}

	/* The numeric limits, built rather than spelled out. */
	buf_puts(&big, "[");
	for (int i = 0; i < 17; i++)
		buf_printf(&big, "%s{\"name\": \"l%d\", \"matches\": [%s], "
		    "\"kind\": {\"Open\": {}}}", i ? ", " : "", i,
		    i == 16 ? "[]" : "[{\"NiceAbove\": 0}]");
	buf_puts(&big, "]");
	cause = NULL;
	layered_schema_check(big.data, big.len, &cause);
	is_str(cause, "17 layers; scx_layered takes 1 to 16", "schema: 17 layers");
	free(cause);

	buf_reset(&big);
	buf_puts(&big, "[{\"name\": \"a\", \"matches\": [");
	for (int i = 0; i < 33; i++)
		buf_printf(&big, "%s[{\"PIDEquals\": %d}]", i ? ", " : "", i);
	buf_puts(&big, "], \"kind\": {\"Open\": {}}}, {\"name\": \"o\", "
	    "\"matches\": [[]], \"kind\": {\"Open\": {}}}]");
	cause = NULL;
	layered_schema_check(big.data, big.len, &cause);
	is_str(cause, "layer 0 (\"a\"): 33 OR blocks, more than scx_layered's 32",
	    "schema: 33 OR blocks");
	free(cause);

	buf_reset(&big);
	buf_puts(&big, "[{\"name\": \"a\", \"matches\": [[");
	for (int i = 0; i < 27; i++)
		buf_printf(&big, "%s{\"PIDEquals\": %d}", i ? ", " : "", i);
	buf_puts(&big, "]], \"kind\": {\"Open\": {}}}, {\"name\": \"o\", "
	    "\"matches\": [[]], \"kind\": {\"Open\": {}}}]");
	cause = NULL;
	layered_schema_check(big.data, big.len, &cause);
	is_str(cause, "layer 0 (\"a\"): matches[0] has 27 conditions, more than "
	    "scx_layered's 26", "schema: 27 AND conditions");
	free(cause);

	buf_reset(&big);
	buf_puts(&big, "[{\"name\": \"");
	for (int i = 0; i < 128; i++)
		buf_puts(&big, "n");
	buf_puts(&big, "\", \"matches\": [[]], \"kind\": {\"Open\": {}}}]");
	cause = NULL;
	layered_schema_check(big.data, big.len, &cause);
	ok(cause != NULL && strstr(cause, "name must be 1 to 127 bytes") != NULL,
	    "schema: a 128-byte name");
	free(cause);
	buf_free(&big);
}

static void
test_bad_input(void)
{
	struct planner_pod input = { .pod = NULL, .tier = TIER_NORMAL, .cgroup = NULL };
	struct topology *topology = topology_synthetic(1, 1, 2, 1);
	char *cause = NULL;

	ok(planner_plan(&input, 1, topology, NULL, &cause) == NULL &&
	    errno == EINVAL && cause != NULL, "a NULL pod is a caller's bug: "
	    "EINVAL (%s)", cause ? cause : "");
	free(cause);
	ok(planner_plan(NULL, 0, NULL, NULL, &cause) == NULL && errno == EINVAL,
	    "no topology: EINVAL");
	free(cause);
	topology_free(topology);
}

int
main(void)
{
	const char *srcdir = getenv("TOP_SRCDIR");
	static char dir[512];

	snprintf(dir, sizeof dir, "%s/t/golden", srcdir ? srcdir : ".");
	golden_dir = dir;
	update_golden = getenv("TEMPER_UPDATE_GOLDEN") != NULL &&
	    strcmp(getenv("TEMPER_UPDATE_GOLDEN"), "1") == 0;

	scenario_empty_node();
	scenario_only_besteffort();
	scenario_critical_small();
	scenario_critical_demoted();
	scenario_dense();
	scenario_legacy();
	scenario_smt(true);
	scenario_smt(false);
	scenario_mixed("mixed-five-tiers", ENGINE_MEMBERSHIP_CGROUP);
	scenario_mixed("hint-membership", ENGINE_MEMBERSHIP_HINT);
	scenario_without_cgroup();
	scenario_numa();
	scenario_custom_thresholds();
	scenario_tiny();
	scenario_budget_overflow();
	scenario_agent_pod();
	test_comparisons();
	test_bad_input();
	test_schema();
	return done_testing();
}
