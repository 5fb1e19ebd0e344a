/*
 * t/test-planner-property.c - random nodes through the planner.
 *
 * TEMPER_PROPERTY_ITERATIONS random pod sets and topologies (default
 * 10000) from one seed (TEMPER_PROPERTY_SEED, else time; always printed,
 * with each failing iteration's own seed).  Every plan must:
 *
 *   - respect scx_layered's limits (16 layers, 32 OR blocks, names under
 *     128 bytes, comm prefixes of 15, cgroup prefixes of 4095) and end with
 *     the system layer and the catch-all [[]];
 *   - confine no more CPUs to Critical than the node can fence, and keep
 *     every range and weight in bounds;
 *   - lose no pod: each usable pod is a member of exactly one layer, and a
 *     pod in no layer (or in another tier's layer) has a note naming it;
 *   - say where pods run: in cgroup mode, scx_layered's first-match rule
 *     over the planned prefixes puts each member in its own layer;
 *   - be deterministic: planning again, or the input reversed, gives the
 *     same plan and the same bytes;
 *   - pass the strict schema checker (src/layered-schema.c).
 *
 * TEMPER_PROPERTY_DUMP=DIR also writes each plan's JSON to DIR/N.json, to
 * feed the real scx_layered parser where one is built.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layered-gen.h"
#include "layered-schema.h"
#include "planner.h"
#include "tap.h"
#include "planner-scenario.h"

enum property {
	PROPERTY_PLANNED,
	PROPERTY_LIMITS,
	PROPERTY_SYSTEM_LAST,
	PROPERTY_FENCE,
	PROPERTY_RANGES,
	PROPERTY_NO_POD_LOST,
	PROPERTY_FIRST_MATCH,
	PROPERTY_DETERMINISTIC,
	PROPERTY_ORDER_FREE,
	PROPERTY_SCHEMA,
	PROPERTY_COUNT,
};

static const char *const property_names[PROPERTY_COUNT] = {
	"planned without error",
	"scx_layered limits respected",
	"system layer then catch-all [[]] last",
	"Critical confines at most the fenceable CPUs",
	"CPU ranges, utilisation and weights in bounds",
	"no pod lost: one layer each, or a note naming it",
	"first-match over the prefixes puts each member in its layer",
	"planning twice gives identical plans and bytes",
	"reversed input gives identical bytes",
	"JSON passes the strict schema checker",
};

struct failures {
	size_t count[PROPERTY_COUNT];
	size_t reported;
};

static uint64_t
next_random(uint64_t *state)
{
	/* splitmix64: tiny, and good enough to spread test cases. */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
uniform(uint64_t *state, unsigned bound)
{
	return (unsigned)(next_random(state) % bound);
}

static void
fail(struct failures *failures, enum property property, uint64_t case_seed,
    size_t iteration, const char *detail)
{
	failures->count[property]++;
	if (failures->reported++ < 20)
		diag("iteration %zu (case seed %" PRIu64 "): %s: %s", iteration,
		    case_seed, property_names[property], detail);
}

/* The path as the planner normalises it, for the first-match simulation. */
static void
normalise(const char *path, char *out, size_t size)
{
	size_t len;

	while (*path == '/')
		path++;
	snprintf(out, size, "%s", path);
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/' && out[len - 2] == '/')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] != '/' && len + 1 < size) {
		out[len] = '/';
		out[len + 1] = '\0';
	}
}

static bool
note_names(const struct plan *plan, const char *uid)
{
	for (size_t i = 0; i < plan->note_count; i++)
		if (plan->notes[i].pod_uid != NULL &&
		    strcmp(plan->notes[i].pod_uid, uid) == 0)
			return true;
	return false;
}

static void
random_scenario(struct scenario *s, uint64_t *state)
{
	static const char *const custom[] = {
		"custom/", "custom/a/", "custom/a/b/", "custom/b/",
		"system.slice/", "kubepods.slice/", "/leading/slash",
		"no/trailing", "custom/a/b/c/d/", "odd/quo\"te/",
		"odd/back\\slash/", "odd/sp ace/",
	};
	unsigned nodes = 1 + uniform(state, 3), llcs = 1 + uniform(state, 4);
	unsigned cores = 1 + uniform(state, 16), threads = 1 + uniform(state, 2);
	unsigned pods;
	char path[128];

	topology_free(s->topology);
	s->topology = topology_synthetic(nodes, llcs, cores, threads);
	s->count = 0;
	engine_config_defaults(&s->config);
	s->config.membership = uniform(state, 10) < 3 ?
	    ENGINE_MEMBERSHIP_HINT : ENGINE_MEMBERSHIP_CGROUP;
	s->config.system_layer_cpus = 1 + uniform(state, 3);
	s->config.open_reserve_cpus = uniform(state, 6);
	s->config.open_reserve_percent = uniform(state, 40);
	s->options.agent_cgroup = uniform(state, 2) ?
	    "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podagent.slice/" :
	    NULL;
	s->options.allocatable_millis = uniform(state, 4) == 0 ?
	    (int64_t)uniform(state, 200000) : 0;

	/* Mostly ordinary nodes, now and then a very dense one. */
	pods = uniform(state, 10) == 0 ? uniform(state, 700) : uniform(state, 120);
	s->seed = (unsigned)next_random(state);
	for (unsigned i = 0; i < pods; i++) {
		enum pod_qos qos = (enum pod_qos)(1 + uniform(state, 3));
		enum scenario_cgroup where = SCENARIO_CGROUP_KUBELET;
		int64_t request = uniform(state, 5) == 0 ? -1 :
		    (int64_t)uniform(state, 6000);
		int64_t limit = uniform(state, 3) == 0 ? -1 :
		    request + (int64_t)uniform(state, 4000);
		unsigned roll = uniform(state, 100);
		size_t at;

		if (i > 0 && roll < 2) {
			/* The same pod twice, as a stale watch might list it. */
			s->inputs[s->count] = s->inputs[uniform(state, (unsigned)s->count)];
			s->count++;
			continue;
		}
		if (roll < 7)
			where = SCENARIO_CGROUP_NONE;
		else if (roll < 14) {
			where = SCENARIO_CGROUP_GIVEN;
			snprintf(path, sizeof path, "%s%s",
			    custom[uniform(state, sizeof custom / sizeof custom[0])],
			    uniform(state, 2) ? "" : "pod/");
		} else if (roll < 16) {
			where = SCENARIO_CGROUP_GIVEN;
			snprintf(path, sizeof path, "%s", uniform(state, 2) ? "/" : "");
		}
		at = scenario_add(s, "ns", NULL, 0, qos, request, limit, where, path);
		s->inputs[at].tier = (enum tier)uniform(state, TIER_COUNT);
		if (uniform(state, 50) == 0)
			s->pods[at].phase = POD_PHASE_SUCCEEDED;
	}
	/* Now and then the agent runs in one of the listed pods. */
	if (s->count > 0 && uniform(state, 4) == 0) {
		static char agent[300];
		size_t at = uniform(state, (unsigned)s->count);

		if (s->inputs[at].cgroup != NULL) {
			snprintf(agent, sizeof agent, "%s%scri-containerd-agent.scope",
			    s->inputs[at].cgroup,
			    s->inputs[at].cgroup[0] != '\0' &&
			    s->inputs[at].cgroup[strlen(s->inputs[at].cgroup) - 1] ==
			    '/' ? "" : "/");
			s->options.agent_cgroup = agent;
		}
	}
}

static void
check_plan(const struct scenario *s, const struct plan *plan,
    struct failures *failures, uint64_t case_seed, size_t iteration)
{
	const struct plan_layer *last, *system;
	unsigned confined = 0;
	char detail[512], path[300];
	bool seen_hint[PLANNER_MAX_HINT + 1] = { false };

	/* Limits. */
	if (plan->layer_count < 2 || plan->layer_count > PLANNER_MAX_LAYERS) {
		snprintf(detail, sizeof detail, "%zu layers", plan->layer_count);
		fail(failures, PROPERTY_LIMITS, case_seed, iteration, detail);
		return;
	}
	for (size_t i = 0; i < plan->layer_count; i++) {
		const struct plan_layer *layer = &plan->layers[i];

		if (strlen(layer->name) > PLANNER_MAX_NAME ||
		    layer->match_count > PLANNER_MAX_OR_BLOCKS ||
		    (layer->role != PLAN_ROLE_CATCH_ALL && layer->match_count == 0))
			fail(failures, PROPERTY_LIMITS, case_seed, iteration,
			    layer->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(plan->layers[j].name, layer->name) == 0)
				fail(failures, PROPERTY_LIMITS, case_seed,
				    iteration, "duplicate layer name");
		for (size_t m = 0; m < layer->match_count; m++) {
			const struct plan_match *match = &layer->matches[m];

			if ((match->kind == PLAN_MATCH_COMM_PREFIX ||
			    match->kind == PLAN_MATCH_PCOMM_PREFIX) &&
			    strlen(match->text) > PLANNER_MAX_COMM)
				fail(failures, PROPERTY_LIMITS, case_seed,
				    iteration, "comm prefix too long");
			if (match->kind == PLAN_MATCH_CGROUP_PREFIX &&
			    (strlen(match->text) > PLANNER_MAX_CGROUP_PATH ||
			    match->text[0] == '\0' || match->text[0] == '/' ||
			    match->text[strlen(match->text) - 1] != '/'))
				fail(failures, PROPERTY_LIMITS, case_seed,
				    iteration, "bad cgroup prefix");
			if (match->kind == PLAN_MATCH_HINT_EQUALS) {
				if (match->hint > PLANNER_MAX_HINT ||
				    seen_hint[match->hint])
					fail(failures, PROPERTY_LIMITS, case_seed,
					    iteration, "hint reused or too big");
				else
					seen_hint[match->hint] = true;
			}
		}
	}

	last = &plan->layers[plan->layer_count - 1];
	system = &plan->layers[plan->layer_count - 2];
	if (last->role != PLAN_ROLE_CATCH_ALL || last->match_count != 0 ||
	    last->kind != PLAN_KIND_OPEN || system->role != PLAN_ROLE_SYSTEM)
		fail(failures, PROPERTY_SYSTEM_LAST, case_seed, iteration,
		    last->name);

	/* Sizing. */
	for (size_t i = 0; i < plan->layer_count; i++) {
		const struct plan_layer *layer = &plan->layers[i];

		if (layer->kind == PLAN_KIND_CONFINED)
			confined += layer->cpus_min;
		if (layer->weight < 1 || layer->weight > 10000 ||
		    (layer->kind != PLAN_KIND_OPEN &&
		    (layer->cpus_min > layer->cpus_max || layer->cpus_max == 0 ||
		    layer->cpus_max > plan->cpu_count ||
		    layer->util_low_permille >= layer->util_high_permille ||
		    layer->util_high_permille > 1000))) {
			snprintf(detail, sizeof detail, "layer %s: cpus [%u, %u] "
			    "util [%u, %u] weight %u of %u CPUs", layer->name,
			    layer->cpus_min, layer->cpus_max,
			    layer->util_low_permille, layer->util_high_permille,
			    layer->weight, plan->cpu_count);
			fail(failures, PROPERTY_RANGES, case_seed, iteration, detail);
		}
		if (layer->kind == PLAN_KIND_CONFINED &&
		    (layer->role != PLAN_ROLE_TIER || layer->tier != TIER_CRITICAL))
			fail(failures, PROPERTY_FENCE, case_seed, iteration,
			    "a Confined layer that is not Critical");
	}
	if (confined > plan->fenceable_cpus || (plan->fenceable_cpus > 0 &&
	    plan->fenceable_cpus + plan->reserve_cpus + plan->system_cpus >
	    plan->cpu_count)) {
		snprintf(detail, sizeof detail, "confined %u, fenceable %u, "
		    "reserve %u, system %u of %u", confined, plan->fenceable_cpus,
		    plan->reserve_cpus, plan->system_cpus, plan->cpu_count);
		fail(failures, PROPERTY_FENCE, case_seed, iteration, detail);
	}

	/* Every pod accounted for, and where scx_layered would put it. */
	for (size_t p = 0; p < s->count; p++) {
		const struct pod *pod = s->inputs[p].pod;
		const struct plan_layer *holder = NULL, *first = NULL;
		size_t holders = 0;

		for (size_t i = 0; i < plan->layer_count; i++)
			for (size_t m = 0; m < plan->layers[i].member_count; m++)
				if (strcmp(plan->layers[i].members[m], pod->uid) == 0) {
					holder = &plan->layers[i];
					holders++;
				}
		if (holders > 1 || (holders == 0 && !note_names(plan, pod->uid))) {
			snprintf(detail, sizeof detail, "pod %s (tier %s, cgroup %s) "
			    "in %zu layers", pod->uid, tier_name(s->inputs[p].tier),
			    s->inputs[p].cgroup ? s->inputs[p].cgroup : "(none)",
			    holders);
			fail(failures, PROPERTY_NO_POD_LOST, case_seed, iteration,
			    detail);
		}
		if (holder != NULL && (holder->role != PLAN_ROLE_TIER ||
		    holder->tier != s->inputs[p].tier) &&
		    !note_names(plan, pod->uid))
			fail(failures, PROPERTY_NO_POD_LOST, case_seed, iteration,
			    "a pod in another tier's layer without a note");
		if (holder == NULL || plan->membership != ENGINE_MEMBERSHIP_CGROUP)
			continue;
		normalise(s->inputs[p].cgroup, path, sizeof path);
		for (size_t i = 0; i < plan->layer_count && first == NULL; i++)
			for (size_t m = 0; m < plan->layers[i].match_count; m++) {
				const struct plan_match *match =
				    &plan->layers[i].matches[m];

				if (match->kind == PLAN_MATCH_CGROUP_PREFIX &&
				    strncmp(path, match->text,
				    strlen(match->text)) == 0) {
					first = &plan->layers[i];
					break;
				}
			}
		if (first != holder) {
			snprintf(detail, sizeof detail, "pod %s at %s: member of %s, "
			    "first match %s", pod->uid, path, holder->name,
			    first ? first->name : "(none)");
			fail(failures, PROPERTY_FIRST_MATCH, case_seed, iteration,
			    detail);
		}
	}
}

int
main(void)
{
	const char *seed_text = getenv("TEMPER_PROPERTY_SEED");
	const char *iterations_text = getenv("TEMPER_PROPERTY_ITERATIONS");
	const char *dump = getenv("TEMPER_PROPERTY_DUMP");
	uint64_t seed = seed_text ? strtoull(seed_text, NULL, 10) :
	    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	size_t iterations = iterations_text ? strtoul(iterations_text, NULL, 10) :
	    10000;
	struct scenario *s = scenario_new(0, NULL);
	struct failures failures = { { 0 }, 0 };
	size_t total_pods = 0, total_layers = 0, demoted = 0, hint_plans = 0;
	size_t max_layers = 0;

	diag("seed %" PRIu64 " (rerun with TEMPER_PROPERTY_SEED=%" PRIu64 "), "
	    "%zu iterations", seed, seed, iterations);
	for (size_t iteration = 0; iteration < iterations; iteration++) {
		uint64_t state = seed + iteration * 0x9e3779b97f4a7c15ULL;
		uint64_t case_seed = state;
		struct plan *plan, *again, *reversed;
		char *json = NULL, *json_again = NULL, *json_reversed = NULL;
		char *cause = NULL;

		random_scenario(s, &state);
		total_pods += s->count;
		plan = scenario_plan(s, &cause);
		if (plan == NULL) {
			fail(&failures, PROPERTY_PLANNED, case_seed, iteration,
			    cause ? cause : strerror(errno));
			free(cause);
			continue;
		}
		total_layers += plan->layer_count;
		if (plan->layer_count > max_layers)
			max_layers = plan->layer_count;
		if (plan->membership == ENGINE_MEMBERSHIP_HINT)
			hint_plans++;
		for (size_t i = 0; i < plan->layer_count; i++)
			if (plan->layers[i].demoted)
				demoted++;
		check_plan(s, plan, &failures, case_seed, iteration);

		json = layered_gen_string(plan);
		if (json == NULL || layered_schema_check(json, strlen(json),
		    &cause) != 0)
			fail(&failures, PROPERTY_SCHEMA, case_seed, iteration,
			    cause ? cause : "no JSON");
		free(cause);
		if (dump != NULL && json != NULL) {
			char path[512];
			FILE *file;

			snprintf(path, sizeof path, "%s/%zu.json", dump, iteration);
			if ((file = fopen(path, "w")) != NULL) {
				fputs(json, file);
				fclose(file);
			}
		}

		again = scenario_plan(s, NULL);
		json_again = again ? layered_gen_string(again) : NULL;
		if (!planner_equal(plan, again) || json == NULL ||
		    json_again == NULL || strcmp(json, json_again) != 0)
			fail(&failures, PROPERTY_DETERMINISTIC, case_seed,
			    iteration, "second plan differs");

		for (size_t i = 0; i < s->count / 2; i++) {
			struct planner_pod swap = s->inputs[i];

			s->inputs[i] = s->inputs[s->count - 1 - i];
			s->inputs[s->count - 1 - i] = swap;
		}
		reversed = scenario_plan(s, NULL);
		json_reversed = reversed ? layered_gen_string(reversed) : NULL;
		if (json == NULL || json_reversed == NULL ||
		    strcmp(json, json_reversed) != 0)
			fail(&failures, PROPERTY_ORDER_FREE, case_seed, iteration,
			    "reversed input gives other bytes");

		free(json);
		free(json_again);
		free(json_reversed);
		planner_free(plan);
		planner_free(again);
		planner_free(reversed);
	}
	for (unsigned p = 0; p < PROPERTY_COUNT; p++)
		if (!ok(failures.count[p] == 0, "%zu plans: %s", iterations,
		    property_names[p]))
			diag("  %zu failing iterations", failures.count[p]);
	diag("%zu pods planned, %.1f layers per plan on average, at most %zu; "
	    "%zu hint-mode plans; %zu demoted Critical layers", total_pods,
	    iterations ? (double)total_layers / (double)iterations : 0.0,
	    max_layers, hint_plans, demoted);
	scenario_free(s);
	return done_testing();
}
