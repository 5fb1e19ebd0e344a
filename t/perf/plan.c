/*
 * t/perf/plan.c - how long the planner takes, pods to scx_layered JSON.
 *
 * For 10, 110 and 500 pods on 8, 64 and 192 CPUs, many runs each:
 *
 *   plan+gen   planner_plan() and layered_gen(): what a pod event costs
 *   plan       planner_plan() alone
 *   gen        layered_gen() alone, the serialisation floor of our own
 *   cjson      the same JSON as a cJSON tree built and cJSON_Print()ed:
 *              the floor a generic JSON library would give
 *
 * prints median and p99 in microseconds of wall time, and for plan+gen
 * also of the thread's CPU time: on a shared machine the wall p99 mostly
 * measures other processes preempting this one, the CPU-time p99 what the
 * planner itself costs.  The target is p99 < 1 ms for plan+gen at 110 pods
 * (kubelet's default pod limit).  Never fails on timing; run it through
 * t/perf/plan.sh or `make perf-plan`.
 *
 *   plan [RUNS]
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "layered-gen.h"
#include "planner.h"
#include "../planner-scenario.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
compare_times(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* "p50/p99" in microseconds; sorts times. */
static void
summarise(int64_t *times, size_t runs, char *out, size_t size)
{
	qsort(times, runs, sizeof *times, compare_times);
	snprintf(out, size, "%7.1f /%7.1f", (double)times[runs / 2] / 1000.0,
	    (double)times[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1] /
	    1000.0);
}

/* A node as kubelet fills it: mostly Burstable, a few of each other kind. */
static struct scenario *
build(unsigned pods, unsigned cpus)
{
	struct topology *topology;
	struct scenario *s;

	if (cpus == 8)
		topology = topology_synthetic(1, 1, 4, 2);
	else if (cpus == 64)
		topology = topology_synthetic(1, 4, 8, 2);
	else
		topology = topology_synthetic(2, 4, 12, 2);
	s = scenario_new(cpus * 1000 + pods, topology);
	for (unsigned i = 0; i < pods; i++) {
		switch (i % 10) {
		case 0:
			scenario_guaranteed(s, "temper-critical", 1000000,
			    cpus * 1000 / 10 / (pods / 10 + 1) + 100);
			break;
		case 1:
		case 2:
			scenario_burstable(s, "temper-high", 100000, 250);
			break;
		case 3:
		case 4:
		case 5:
		case 6:
			scenario_burstable(s, NULL, 0, 100);
			break;
		case 7:
			scenario_besteffort(s, "temper-low", -100);
			break;
		default:
			scenario_besteffort(s, NULL, 0);
			break;
		}
	}
	return s;
}

static const char *const cjson_match_keys[] = {
	[PLAN_MATCH_CGROUP_PREFIX] = "CgroupPrefix",
	[PLAN_MATCH_COMM_PREFIX] = "CommPrefix",
	[PLAN_MATCH_PCOMM_PREFIX] = "PcommPrefix",
	[PLAN_MATCH_HINT_EQUALS] = "HintEquals",
};

/* The comparison arm: the same document through cJSON. */
static char *
cjson_print(const struct plan *plan)
{
	cJSON *root = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < plan->layer_count; i++) {
		const struct plan_layer *layer = &plan->layers[i];
		cJSON *spec = cJSON_CreateObject(), *matches = cJSON_CreateArray();
		cJSON *kind = cJSON_CreateObject(), *fields = cJSON_CreateObject();

		cJSON_AddStringToObject(spec, "name", layer->name);
		cJSON_AddStringToObject(spec, "comment", layer->comment);
		if (layer->match_count == 0)
			cJSON_AddItemToArray(matches, cJSON_CreateArray());
		for (size_t m = 0; m < layer->match_count; m++) {
			cJSON *block = cJSON_CreateArray(), *match = cJSON_CreateObject();

			if (layer->matches[m].kind == PLAN_MATCH_HINT_EQUALS)
				cJSON_AddNumberToObject(match, "HintEquals",
				    layer->matches[m].hint);
			else
				cJSON_AddStringToObject(match,
				    cjson_match_keys[layer->matches[m].kind],
				    layer->matches[m].text);
			cJSON_AddItemToArray(block, match);
			cJSON_AddItemToArray(matches, block);
		}
		cJSON_AddItemToObject(spec, "matches", matches);
		if (layer->kind != PLAN_KIND_OPEN) {
			double util[2] = { layer->util_low_permille / 1000.0,
			    layer->util_high_permille / 1000.0 };
			int range[2] = { (int)layer->cpus_min, (int)layer->cpus_max };

			cJSON_AddItemToObject(fields, "util_range",
			    cJSON_CreateDoubleArray(util, 2));
			cJSON_AddItemToObject(fields, "cpus_range",
			    cJSON_CreateIntArray(range, 2));
			cJSON_AddBoolToObject(fields, "protected", layer->protected);
		}
		cJSON_AddNumberToObject(fields, "slice_us", (double)layer->slice_us);
		cJSON_AddBoolToObject(fields, "preempt", layer->preempt);
		cJSON_AddBoolToObject(fields, "exclusive", layer->exclusive);
		cJSON_AddNumberToObject(fields, "weight", layer->weight);
		cJSON_AddItemToObject(kind, planner_kind_name(layer->kind), fields);
		cJSON_AddItemToObject(spec, "kind", kind);
		cJSON_AddItemToArray(root, spec);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

int
main(int argc, char **argv)
{
	static const unsigned pod_counts[] = { 10, 110, 500 };
	static const unsigned cpu_counts[] = { 8, 64, 192 };
	size_t runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
	int64_t *both, *both_cpu, *plan_only, *gen_only, *cjson_only;
	char a[64], a_cpu[64], b[64], g[64], d[64];

	if (runs < 10)
		runs = 10;
	both = calloc(runs, sizeof *both);
	both_cpu = calloc(runs, sizeof *both_cpu);
	plan_only = calloc(runs, sizeof *plan_only);
	gen_only = calloc(runs, sizeof *gen_only);
	cjson_only = calloc(runs, sizeof *cjson_only);
	if (!both || !both_cpu || !plan_only || !gen_only || !cjson_only)
		return 1;

	printf("planner benchmark: %zu runs per cell, microseconds p50 / p99\n",
	    runs);
	printf("%5s %5s %6s  %-17s %-17s %-17s %-17s %-17s %7s\n", "pods",
	    "cpus", "layers", "plan+gen", "plan+gen cpu", "plan", "gen (floor)",
	    "cJSON_Print", "bytes");
	for (size_t p = 0; p < sizeof pod_counts / sizeof pod_counts[0]; p++) {
		for (size_t c = 0; c < sizeof cpu_counts / sizeof cpu_counts[0]; c++) {
			struct scenario *s = build(pod_counts[p], cpu_counts[c]);
			struct plan *plan = NULL;
			struct buf out = BUF_INIT;
			size_t bytes = 0, layers = 0;

			for (size_t r = 0; r < runs; r++) {
				int64_t t0, t1, t2, c0;
				char *text;

				c0 = cpu_ns();
				t0 = now_ns();
				plan = scenario_plan(s, NULL);
				t1 = now_ns();
				buf_reset(&out);
				if (plan == NULL || layered_gen(plan, &out) != 0) {
					fprintf(stderr, "plan failed: %s\n",
					    strerror(errno));
					return 1;
				}
				t2 = now_ns();
				both_cpu[r] = cpu_ns() - c0;
				both[r] = t2 - t0;
				plan_only[r] = t1 - t0;
				gen_only[r] = t2 - t1;
				bytes = out.len;
				layers = plan->layer_count;

				t0 = now_ns();
				text = cjson_print(plan);
				cjson_only[r] = now_ns() - t0;
				free(text);
				planner_free(plan);
			}
			summarise(both, runs, a, sizeof a);
			summarise(both_cpu, runs, a_cpu, sizeof a_cpu);
			summarise(plan_only, runs, b, sizeof b);
			summarise(gen_only, runs, g, sizeof g);
			summarise(cjson_only, runs, d, sizeof d);
			printf("%5u %5u %6zu  %-17s %-17s %-17s %-17s %-17s "
			    "%7zu\n", pod_counts[p], cpu_counts[c], layers, a,
			    a_cpu, b, g, d, bytes);
			fflush(stdout);
			buf_free(&out);
			scenario_free(s);
		}
	}
	free(both);
	free(both_cpu);
	free(plan_only);
	free(gen_only);
	free(cjson_only);
	return 0;
}
