/* engine.c - the node engine on the loop: pods in, generations out. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "layered-gen.h"
#include "log.h"
#include "metrics.h"
#include "pod.h"
#include "tier.h"
#include "topology.h"

struct engine {
	uv_loop_t *loop;
	uv_timer_t debounce;
	bool timer_open;
	char *dirty_reason;
	unsigned dirty_count;		/* events coalesced into the next pass */

	struct engine_config config;
	const struct topology *topology;
	char *agent_cgroup;
	int64_t allocatable_millis;

	struct engine_callbacks callbacks;
	void *arg;

	struct plan *plan;
	struct generations generations;
	struct engine_pod *pods;
	size_t pod_count;
	struct qos_distribution distribution;
	bool distribution_known;
	char *last_error;
	uint64_t passes;

	bool safe_mode;
	char *safe_mode_source;

	void (*done)(void *arg);
	void *done_arg;

	struct metric_series *passes_total;
	struct metric_series *generations_total;
	struct metric_series *failures_total;
	struct metric_series *plan_seconds;
	struct metric_series *generation_number;
	struct metric_series *safe_mode_gauge;
	struct metric_family *pods_by_tier;
	struct metric_family *cpu_by_tier;
};

static void
engine_pods_clear(struct engine *engine)
{
	for (size_t i = 0; i < engine->pod_count; i++) {
		free(engine->pods[i].uid);
		free(engine->pods[i].namespace);
		free(engine->pods[i].name);
		free(engine->pods[i].why);
		free(engine->pods[i].cgroup);
		free(engine->pods[i].priority_class);
		free(engine->pods[i].profile);
	}
	free(engine->pods);
	engine->pods = NULL;
	engine->pod_count = 0;
}

static char *
engine_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
engine_fail(struct engine *engine, const char *reason)
{
	free(engine->last_error);
	engine->last_error = engine_strdup(reason);
	metric_inc(engine->failures_total);
}

static void
engine_publish_distribution(struct engine *engine,
    const struct planner_pod *pods, size_t count)
{
	struct qos_distribution distribution = { 0 };

	for (size_t i = 0; i < count; i++) {
		distribution.tiers[pods[i].tier].pods++;
		distribution.tiers[pods[i].tier].cpu_millis +=
		    pod_cpu_request_millis(pods[i].pod);
	}
	for (int tier = 0; tier < TIER_COUNT; tier++) {
		const char *label[] = { tier_name((enum tier)tier), NULL };

		metric_set(metrics_series(engine->pods_by_tier, label),
		    distribution.tiers[tier].pods);
		metric_set(metrics_series(engine->cpu_by_tier, label),
		    distribution.tiers[tier].cpu_millis / 1000.0);
	}
	if (engine->distribution_known &&
	    qos_distribution_equal(&engine->distribution, &distribution))
		return;
	engine->distribution = distribution;
	engine->distribution_known = true;
	if (engine->callbacks.distribution != NULL)
		engine->callbacks.distribution(engine->arg, &distribution);
}

/* Remember each pod's tier, why and layer for /api/v1/pods. */
static int
engine_record_pods(struct engine *engine, const struct planner_pod *pods,
    size_t count, char **whys)
{
	struct engine_pod *records;

	if ((records = calloc(count ? count : 1, sizeof *records)) == NULL)
		return -ENOMEM;
	engine_pods_clear(engine);
	engine->pods = records;
	for (size_t i = 0; i < count; i++) {
		const struct pod *pod = pods[i].pod;

		records[i].uid = engine_strdup(pod->uid);
		records[i].namespace = engine_strdup(pod->namespace);
		records[i].name = engine_strdup(pod->name);
		records[i].tier = pods[i].tier;
		records[i].why = whys[i];
		whys[i] = NULL;
		records[i].cgroup = engine_strdup(pods[i].cgroup);
		records[i].layer = planner_layer_of(engine->plan, pod->uid);
		records[i].cpu_request_millis = pod_cpu_request_millis(pod);
		records[i].cpu_limit_millis = pod_cpu_limit_millis(pod);
		records[i].has_priority = pod->has_priority;
		records[i].priority = pod->priority;
		records[i].priority_class = engine_strdup(pod->priority_class_name);
		records[i].qos_class = pod->qos_class;
		records[i].profile = engine_strdup(pod->profile);
		engine->pod_count++;
	}
	return 0;
}

static void
engine_pass(struct engine *engine, const char *reason)
{
	struct planner_options options = {
		.config = &engine->config,
		.agent_cgroup = engine->agent_cgroup,
		.allocatable_millis = engine->allocatable_millis,
	};
	const struct generation *latest, *added = NULL;
	struct planner_pod *pods = NULL;
	struct plan *plan = NULL;
	char **whys = NULL, *cause = NULL, *json = NULL, *notes = NULL;
	size_t count = 0, notes_len;
	uint64_t started = uv_hrtime();
	bool restart;
	int error;

	engine->passes++;
	metric_inc(engine->passes_total);
	count = engine->callbacks.collect(engine->arg, &pods);
	if ((whys = calloc(count ? count : 1, sizeof *whys)) == NULL)
		goto nomem;
	for (size_t i = 0; i < count; i++) {
		if (tier_classify(&engine->config.thresholds, pods[i].pod, &pods[i].tier,
		    &whys[i]) != 0)
			goto nomem;
	}
	plan = planner_plan(pods, count, engine->topology, &options, &cause);
	if (plan == NULL) {
		log_warn("engine: planning %zu pods failed: %s; keeping generation %llu",
		    count, cause ? cause : strerror(errno),
		    (unsigned long long)engine->generations.last_number);
		engine_fail(engine, cause ? cause : strerror(errno));
		goto out;
	}
	if ((json = layered_gen_string(plan)) == NULL || (notes = planner_render_notes(plan)) == NULL)
		goto nomem;
	metric_observe(engine->plan_seconds, (uv_hrtime() - started) / 1e9);

	latest = generations_latest(&engine->generations);
	if (latest != NULL && strcmp(latest->config, json) == 0 && engine->plan != NULL) {
		/* Same configuration: keep the generation, refresh membership. */
		planner_free(engine->plan);
		engine->plan = plan;
		plan = NULL;
	} else {
		error = generations_add(&engine->generations, json, notes, reason, &added, &cause);
		if (error != 0) {
			log_warn("engine: cannot store a new generation: %s; the running one stays",
			    cause ? cause : strerror(-error));
			engine_fail(engine, cause ? cause : strerror(-error));
			goto out;
		}
		restart = engine->plan == NULL ||
		    planner_needs_restart(engine->plan, plan, engine->config.hysteresis_percent);
		planner_free(engine->plan);
		engine->plan = plan;
		plan = NULL;
		metric_inc(engine->generations_total);
		metric_set(engine->generation_number, (double)added->number);
		log_info("engine: generation %llu from %zu pods in %zu layers (%s)%s",
		    (unsigned long long)added->number, count, engine->plan->layer_count,
		    reason, restart ? "; layer sizes or matches changed" : "");
		notes_len = strlen(notes);
		while (notes_len > 0 && notes[notes_len - 1] == '\n')
			notes_len--;
		if (notes_len > 0)
			log_info("engine: generation %llu notes: %.*s",
			    (unsigned long long)added->number, (int)notes_len, notes);
		if (engine->callbacks.generation != NULL)
			engine->callbacks.generation(engine->arg, added, engine->plan, restart);
	}
	free(engine->last_error);
	engine->last_error = NULL;
	if (engine_record_pods(engine, pods, count, whys) != 0)
		goto nomem;
	if (engine->callbacks.planned != NULL)
		engine->callbacks.planned(engine->arg, pods, count, engine->plan);
	engine_publish_distribution(engine, pods, count);
	goto out;
nomem:
	log_warn("engine: out of memory planning %zu pods; keeping generation %llu",
	    count, (unsigned long long)engine->generations.last_number);
	engine_fail(engine, "out of memory");
out:
	for (size_t i = 0; whys != NULL && i < count; i++)
		free(whys[i]);
	free(whys);
	free(json);
	free(notes);
	free(cause);
	planner_free(plan);
}

static void
engine_debounced(uv_timer_t *timer)
{
	struct engine *engine = timer->data;
	char reason[256];

	if (engine->dirty_count > 1)
		snprintf(reason, sizeof reason, "%s and %u more events",
		    engine->dirty_reason ? engine->dirty_reason : "change",
		    engine->dirty_count - 1);
	else
		snprintf(reason, sizeof reason, "%s",
		    engine->dirty_reason ? engine->dirty_reason : "change");
	free(engine->dirty_reason);
	engine->dirty_reason = NULL;
	engine->dirty_count = 0;
	engine_pass(engine, reason);
}

void
engine_mark_dirty(struct engine *engine, const char *reason)
{
	if (engine->done != NULL)
		return;
	if (engine->dirty_count++ == 0) {
		engine->dirty_reason = engine_strdup(reason);
		/* The first event of a burst starts the clock; later ones ride along. */
		uv_timer_start(&engine->debounce, engine_debounced, engine->config.debounce_ms, 0);
	}
}

void
engine_plan_now(struct engine *engine, const char *reason)
{
	if (engine->done != NULL)
		return;
	uv_timer_stop(&engine->debounce);
	free(engine->dirty_reason);
	engine->dirty_reason = NULL;
	engine->dirty_count = 0;
	engine_pass(engine, reason);
}

void
engine_set_config(struct engine *engine, const struct engine_config *config)
{
	engine->config = *config;
	engine_mark_dirty(engine, "configuration re-read");
}

void
engine_set_allocatable(struct engine *engine, int64_t millis)
{
	if (engine->allocatable_millis == millis)
		return;
	engine->allocatable_millis = millis;
	engine_mark_dirty(engine, "node allocatable CPU changed");
}

void
engine_set_safe_mode(struct engine *engine, bool on, const char *source)
{
	if (engine->safe_mode == on)
		return;
	engine->safe_mode = on;
	free(engine->safe_mode_source);
	engine->safe_mode_source = on ? engine_strdup(source) : NULL;
	metric_set(engine->safe_mode_gauge, on);
	if (on)
		log_warn("engine: safe mode ON (requested by %s): enforcement stands down; plans are still computed but not applied",
		    source);
	else
		log_info("engine: safe mode OFF: enforcement resumes with generation %llu",
		    (unsigned long long)engine->generations.last_number);
}

bool
engine_safe_mode(const struct engine *engine, const char **source)
{
	if (source != NULL)
		*source = engine->safe_mode_source;
	return engine->safe_mode;
}

const struct plan *
engine_plan(const struct engine *engine)
{
	return engine->plan;
}

const struct generations *
engine_generations(const struct engine *engine)
{
	return &engine->generations;
}

const struct engine_pod *
engine_pods(const struct engine *engine, size_t *count)
{
	*count = engine->pod_count;
	return engine->pods;
}

const struct qos_distribution *
engine_distribution(const struct engine *engine)
{
	return engine->distribution_known ? &engine->distribution : NULL;
}

const char *
engine_last_error(const struct engine *engine)
{
	return engine->last_error;
}

uint64_t
engine_passes(const struct engine *engine)
{
	return engine->passes;
}

struct engine *
engine_new(uv_loop_t *loop, struct metrics *metrics,
    const struct engine_options *options, const struct engine_callbacks *callbacks,
    void *arg, char **cause)
{
	static const char *const tier_label[] = { "tier", NULL };
	struct engine *engine;
	unsigned skipped = 0;
	int error;

	if ((engine = calloc(1, sizeof *engine)) == NULL)
		return NULL;
	engine->loop = loop;
	if (options->config != NULL)
		engine->config = *options->config;
	else
		engine_config_defaults(&engine->config);
	engine->topology = options->topology;
	engine->agent_cgroup = engine_strdup(options->agent_cgroup);
	engine->allocatable_millis = options->allocatable_millis;
	engine->callbacks = *callbacks;
	engine->arg = arg;
	if ((error = generations_open(&engine->generations, options->state_dir, &skipped,
	    cause)) != 0) {
		generations_close(&engine->generations);
		free(engine->agent_cgroup);
		free(engine);
		errno = -error;
		return NULL;
	}
	if (skipped > 0)
		log_warn("engine: %u generation files in %s/generations did not parse; skipped them",
		    skipped, options->state_dir);
	if (engine->generations.count > 0)
		log_info("engine: %zu generations kept from an earlier run, the last is %llu",
		    engine->generations.count,
		    (unsigned long long)engine->generations.last_number);

	engine->passes_total = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_plan_passes_total", "Planning passes run.", NULL, NULL, 0));
	engine->generations_total = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_generations_total", "New scx_layered configurations generated.",
	    NULL, NULL, 0));
	engine->failures_total = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_plan_failures_total",
	    "Planning passes that kept the previous generation.", NULL, NULL, 0));
	engine->plan_seconds = metrics_series0(metrics_family(metrics, METRIC_HISTOGRAM,
	    "temper_plan_duration_seconds", "Time to classify, plan and render.",
	    NULL, metrics_latency_buckets, metrics_latency_bucket_count));
	engine->generation_number = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_generation", "The current generation number.", NULL, NULL, 0));
	engine->safe_mode_gauge = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_safe_mode", "1 while safe mode stands enforcement down.", NULL, NULL, 0));
	engine->pods_by_tier = metrics_family(metrics, METRIC_GAUGE, "temper_pods",
	    "Pods on this node by tier.", tier_label, NULL, 0);
	engine->cpu_by_tier = metrics_family(metrics, METRIC_GAUGE,
	    "temper_cpu_requests_cores", "CPU requested by the pods of each tier, in cores.",
	    tier_label, NULL, 0);
	metric_set(engine->generation_number, (double)engine->generations.last_number);

	uv_timer_init(loop, &engine->debounce);
	engine->debounce.data = engine;
	engine->timer_open = true;
	return engine;
}

static void
engine_timer_closed(uv_handle_t *handle)
{
	struct engine *engine = handle->data;

	engine->timer_open = false;
	if (engine->done != NULL)
		engine->done(engine->done_arg);
}

void
engine_stop(struct engine *engine, void (*done)(void *arg), void *arg)
{
	engine->done = done;
	engine->done_arg = arg;
	if (engine->timer_open && !uv_is_closing((uv_handle_t *)&engine->debounce))
		uv_close((uv_handle_t *)&engine->debounce, engine_timer_closed);
	else if (!engine->timer_open)
		done(arg);
}

void
engine_free(struct engine *engine)
{
	if (engine == NULL)
		return;
	planner_free(engine->plan);
	generations_close(&engine->generations);
	engine_pods_clear(engine);
	free(engine->dirty_reason);
	free(engine->last_error);
	free(engine->safe_mode_source);
	free(engine->agent_cgroup);
	free(engine);
}
