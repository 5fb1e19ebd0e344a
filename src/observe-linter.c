/*
 * observe-linter.c - observed placement against the plan.
 *
 * Every verdict names what it is about and gives the figures that made it,
 * so an operator can check the judgement without reading this file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "observe-linter.h"
#include "planner.h"
#include "tier.h"
#include "topology.h"

#define OBSERVE_LINTER_DEFAULT_TOLERANCE_NS 1000000ULL	/* 1 ms */

static const char *const observe_linter_names[OBSERVE_INVARIANT_COUNT] = {
	[OBSERVE_INVARIANT_SMT_COLLISION] = "smt_collision",
	[OBSERVE_INVARIANT_PROTECTED_FALLBACK] = "protected_fallback",
	[OBSERVE_INVARIANT_OPEN_RESERVE] = "open_reserve",
	[OBSERVE_INVARIANT_LAYER_MISMATCH] = "layer_mismatch",
};

const char *
observe_linter_invariant_name(enum observe_invariant invariant)
{
	if ((unsigned)invariant >= OBSERVE_INVARIANT_COUNT)
		return "unknown";
	return observe_linter_names[invariant];
}

void
observe_linter_cpus_set(struct observe_linter_cpus *cpus, unsigned cpu)
{
	if (cpu < OBSERVE_LINTER_MAX_CPUS)
		cpus->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool
observe_linter_cpus_has(const struct observe_linter_cpus *cpus, unsigned cpu)
{
	if (cpu >= OBSERVE_LINTER_MAX_CPUS)
		return false;
	return (cpus->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned
observe_linter_cpus_count(const struct observe_linter_cpus *cpus)
{
	unsigned count = 0;

	for (size_t i = 0; i < OBSERVE_LINTER_MAX_CPUS / 64; i++)
		count += (unsigned)__builtin_popcountll(cpus->bits[i]);
	return count;
}

char *
observe_linter_cpus_format(const struct observe_linter_cpus *cpus)
{
	struct buf out = BUF_INIT;
	unsigned cpu = 0, end;
	int error = buf_puts(&out, "");

	while (error == 0 && cpu < OBSERVE_LINTER_MAX_CPUS) {
		if (!observe_linter_cpus_has(cpus, cpu)) {
			cpu++;
			continue;
		}
		for (end = cpu; end + 1 < OBSERVE_LINTER_MAX_CPUS &&
		    observe_linter_cpus_has(cpus, end + 1); end++)
			;
		error = buf_printf(&out, end == cpu ? "%s%u" : "%s%u-%u",
		    out.len ? "," : "", cpu, end);
		cpu = end + 1;
	}
	if (error != 0) {
		buf_free(&out);
		errno = ENOMEM;
		return NULL;
	}
	return buf_detach(&out);
}

int
observe_linter_layout(const struct plan *plan, const struct topology *topology,
    struct observe_linter_layout *layout)
{
	struct observe_linter_cpus online = { { 0 } };
	bool *taken = NULL;
	size_t core;

	memset(layout, 0, sizeof *layout);
	if (plan == NULL || topology == NULL)
		return -EINVAL;
	for (size_t i = 0; i < topology->cpu_count; i++)
		observe_linter_cpus_set(&online, topology->cpus[i].id);
	if (plan->layer_count > 0 && (layout->allowed = calloc(plan->layer_count,
	    sizeof *layout->allowed)) == NULL)
		return -ENOMEM;
	if (topology->core_count > 0 &&
	    (taken = calloc(topology->core_count, sizeof *taken)) == NULL) {
		free(layout->allowed);
		layout->allowed = NULL;
		return -ENOMEM;
	}
	layout->layer_count = plan->layer_count;

	/*
	 * Fence each Confined layer on whole cores from the top down, so the
	 * low CPUs (where the system layer and interrupts usually sit) stay
	 * shared, as a cpuset partition would be carved.
	 */
	core = topology->core_count;
	for (size_t l = 0; l < plan->layer_count; l++) {
		const struct plan_layer *layer = &plan->layers[l];
		unsigned got = 0;

		if (layer->kind != PLAN_KIND_CONFINED)
			continue;
		while (got < layer->cpus_min && core > 0) {
			core--;
			taken[core] = true;
			for (size_t i = 0; i < topology->cpu_count; i++) {
				if (topology->cpus[i].core != core)
					continue;
				observe_linter_cpus_set(&layout->allowed[l],
				    topology->cpus[i].id);
				observe_linter_cpus_set(&layout->fenced,
				    topology->cpus[i].id);
				got++;
			}
		}
	}
	for (size_t i = 0; i < OBSERVE_LINTER_MAX_CPUS / 64; i++)
		layout->open.bits[i] = online.bits[i] & ~layout->fenced.bits[i];
	for (size_t l = 0; l < plan->layer_count; l++)
		if (plan->layers[l].kind != PLAN_KIND_CONFINED)
			layout->allowed[l] = layout->open;
	free(taken);
	return 0;
}

void
observe_linter_layout_free(struct observe_linter_layout *layout)
{
	if (layout == NULL)
		return;
	free(layout->allowed);
	memset(layout, 0, sizeof *layout);
}

__attribute__((format(printf, 4, 5)))
static int
observe_linter_add(struct observe_verdicts *verdicts,
    enum observe_invariant invariant, const char *subject, const char *fmt, ...)
{
	struct observe_verdict *items, *verdict;
	va_list ap;
	int n;

	items = realloc(verdicts->items, (verdicts->count + 1) * sizeof *items);
	if (items == NULL)
		return -ENOMEM;
	verdicts->items = items;
	verdict = &items[verdicts->count];
	verdict->invariant = invariant;
	verdict->detail = NULL;
	if ((verdict->subject = strdup(subject)) == NULL)
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&verdict->detail, fmt, ap);
	va_end(ap);
	if (n == -1) {
		free(verdict->subject);
		return -ENOMEM;
	}
	verdicts->count++;
	verdicts->counts[invariant]++;
	return 0;
}

static double
observe_linter_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* The plan layer a pod is in, or -1 (then the catch-all takes it). */
static long
observe_linter_layer_index(const struct plan *plan, const char *pod_uid)
{
	const char *name = pod_uid ? planner_layer_of(plan, pod_uid) : NULL;

	if (name == NULL)
		return -1;
	for (size_t i = 0; i < plan->layer_count; i++)
		if (strcmp(plan->layers[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long
observe_linter_catch_all(const struct plan *plan)
{
	for (size_t i = 0; i < plan->layer_count; i++)
		if (plan->layers[i].role == PLAN_ROLE_CATCH_ALL)
			return (long)i;
	return -1;
}

static int
observe_linter_smt(const struct observe_linter_input *input,
    struct observe_verdicts *verdicts)
{
	const struct topology *topology = input->topology;
	int error = 0;

	if (input->smt_collisions == NULL)
		return 0;
	for (size_t c = 0; c < topology->core_count && error == 0; c++) {
		struct observe_linter_cpus cpus = { { 0 } };
		uint64_t collisions = 0;
		char *list, subject[64];

		for (size_t i = 0; i < topology->cpu_count; i++) {
			unsigned id = topology->cpus[i].id;

			if (topology->cpus[i].core != c)
				continue;
			observe_linter_cpus_set(&cpus, id);
			if (id < input->cpu_limit)
				collisions += input->smt_collisions[id];
		}
		if (collisions == 0 || observe_linter_cpus_count(&cpus) < 2)
			continue;
		if ((list = observe_linter_cpus_format(&cpus)) == NULL)
			return -ENOMEM;
		snprintf(subject, sizeof subject, "core %zu (CPUs %s)", c, list);
		error = observe_linter_add(verdicts, OBSERVE_INVARIANT_SMT_COLLISION,
		    subject, "%" PRIu64 " times a protected thread and an "
		    "Open-layer thread ran on SMT siblings CPUs %s at once",
		    collisions, list);
		free(list);
	}
	return error;
}

static int
observe_linter_fallback(const struct observe_linter_input *input,
    const struct observe_linter_group *group, long layer_index,
    struct observe_verdicts *verdicts)
{
	const struct plan_layer *layer = &input->plan->layers[layer_index];
	const struct observe_linter_cpus *allowed =
	    &input->layout->allowed[layer_index];
	struct observe_linter_cpus outside = { { 0 } };
	uint64_t tolerance = input->fallback_tolerance_ns ?
	    input->fallback_tolerance_ns : OBSERVE_LINTER_DEFAULT_TOLERANCE_NS;
	uint64_t outside_ns = 0;
	char *where, *mine;
	int error;

	if (!layer->protected || group->cpu_run_ns == NULL)
		return 0;
	for (unsigned cpu = 0; cpu < input->cpu_limit; cpu++) {
		if (group->cpu_run_ns[cpu] == 0 ||
		    observe_linter_cpus_has(allowed, cpu))
			continue;
		outside_ns += group->cpu_run_ns[cpu];
		observe_linter_cpus_set(&outside, cpu);
	}
	if (outside_ns <= tolerance)
		return 0;
	where = observe_linter_cpus_format(&outside);
	mine = observe_linter_cpus_format(allowed);
	if (where == NULL || mine == NULL) {
		free(where);
		free(mine);
		return -ENOMEM;
	}
	error = observe_linter_add(verdicts, OBSERVE_INVARIANT_PROTECTED_FALLBACK,
	    group->name, "protected layer %s: ran %.1f ms on CPUs %s, outside "
	    "its CPUs %s", layer->name, observe_linter_ms(outside_ns), where,
	    mine[0] ? mine : "(none)");
	free(where);
	free(mine);
	return error;
}

static int
observe_linter_mismatch(const struct observe_linter_input *input,
    const struct observe_linter_group *group, long layer_index,
    struct observe_verdicts *verdicts)
{
	const struct plan_layer *layer;

	if (group->tier < 0 || group->tier >= TIER_COUNT || group->run_ns == 0)
		return 0;
	if (layer_index < 0) {
		long catch_all = observe_linter_catch_all(input->plan);

		return observe_linter_add(verdicts, OBSERVE_INVARIANT_LAYER_MISMATCH,
		    group->name, "tier %s, but the plan holds no layer for the "
		    "pod: its threads (%.1f ms on CPU) fall to the catch-all "
		    "layer %s", tier_name((enum tier)group->tier),
		    observe_linter_ms(group->run_ns), catch_all >= 0 ?
		    input->plan->layers[catch_all].name : "(none)");
	}
	layer = &input->plan->layers[layer_index];
	if (layer->role == PLAN_ROLE_TIER && layer->tier == (enum tier)group->tier)
		return 0;
	return observe_linter_add(verdicts, OBSERVE_INVARIANT_LAYER_MISMATCH,
	    group->name, "tier %s, but the plan puts the pod in layer %s (%s); "
	    "its threads ran %.1f ms there", tier_name((enum tier)group->tier),
	    layer->name, layer->role == PLAN_ROLE_TIER ? tier_name(layer->tier) :
	    "not a tier layer", observe_linter_ms(group->run_ns));
}

static int
observe_linter_reserve(const struct observe_linter_input *input,
    uint64_t open_run_ns, uint64_t open_wait_ns,
    struct observe_verdicts *verdicts)
{
	const struct plan *plan = input->plan;
	unsigned open_cpus = observe_linter_cpus_count(&input->layout->open);
	uint64_t reserve_ns, entitled, demand;
	int error = 0;

	/* The plan itself: fencing may not eat into the reserve. */
	if (open_cpus < plan->reserve_cpus)
		error = observe_linter_add(verdicts, OBSERVE_INVARIANT_OPEN_RESERVE,
		    "plan", "the plan leaves %u CPUs to Open layers; the reserve "
		    "is %u", open_cpus, plan->reserve_cpus);
	if (error != 0 || input->window_ns == 0)
		return error;

	/*
	 * Observed: Open work got less than the reserve while it spent more
	 * time waiting for a CPU than running, and the waiting was no blip
	 * (a tenth of the window, summed over its threads).  Some waiting is
	 * what any scheduler does; starvation is waiting instead of running.
	 */
	reserve_ns = (uint64_t)plan->reserve_cpus * input->window_ns;
	demand = open_run_ns + open_wait_ns;
	entitled = demand < reserve_ns ? demand : reserve_ns;
	if (open_run_ns >= reserve_ns - reserve_ns / 10 ||
	    open_wait_ns <= open_run_ns || open_wait_ns < input->window_ns / 10)
		return 0;
	return observe_linter_add(verdicts, OBSERVE_INVARIANT_OPEN_RESERVE,
	    "open layers", "Open layers ran %.1f ms in a %.1f ms window while "
	    "waiting %.1f ms for a CPU: below their reserve of %u CPUs "
	    "(%.1f ms owed)", observe_linter_ms(open_run_ns),
	    observe_linter_ms(input->window_ns), observe_linter_ms(open_wait_ns),
	    plan->reserve_cpus, observe_linter_ms(entitled));
}

int
observe_linter_run(const struct observe_linter_input *input,
    struct observe_verdicts *verdicts)
{
	const struct plan *plan = input->plan;
	uint64_t open_run_ns = input->unattributed_run_ns;
	uint64_t open_wait_ns = input->unattributed_wait_ns;
	long catch_all;
	int error = 0;

	memset(verdicts, 0, sizeof *verdicts);
	if (plan == NULL || input->topology == NULL || input->layout == NULL ||
	    input->layout->layer_count != plan->layer_count)
		return -EINVAL;
	catch_all = observe_linter_catch_all(plan);

	error = observe_linter_smt(input, verdicts);
	for (size_t i = 0; i < input->group_count && error == 0; i++) {
		const struct observe_linter_group *group = &input->groups[i];
		long layer = observe_linter_layer_index(plan, group->pod_uid);
		long effective = layer >= 0 ? layer : catch_all;

		if (effective >= 0 && plan->layers[effective].kind == PLAN_KIND_OPEN) {
			open_run_ns += group->run_ns;
			open_wait_ns += group->wait_ns;
		}
		if (effective >= 0)
			error = observe_linter_fallback(input, group, effective,
			    verdicts);
		if (error == 0)
			error = observe_linter_mismatch(input, group, layer, verdicts);
	}
	if (error == 0)
		error = observe_linter_reserve(input, open_run_ns, open_wait_ns,
		    verdicts);
	if (error != 0)
		observe_linter_verdicts_free(verdicts);
	return error;
}

void
observe_linter_verdicts_free(struct observe_verdicts *verdicts)
{
	if (verdicts == NULL)
		return;
	for (size_t i = 0; i < verdicts->count; i++) {
		free(verdicts->items[i].subject);
		free(verdicts->items[i].detail);
	}
	free(verdicts->items);
	memset(verdicts, 0, sizeof *verdicts);
}
