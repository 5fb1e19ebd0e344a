/*
 * observe.c - the observation layer: BPF maps and ring buffer, PSI, the
 * placement linter, /observe and trace captures, on the loop.
 *
 * One timer does the periodic work (Redis's cron, one per subsystem): it
 * drains the sampled ring buffer, reads the per-CPU and per-group maps and
 * the threads map (a batch read), turns cumulative counters into a window,
 * reads PSI averages, lints, and sets the metrics.  The kernel side
 * aggregates, so the cost of a tick does not grow with the event rate.
 * Every callback measures its own thread CPU time, which /observe reports
 * beside the BPF programs' run time: the overhead is itself observed.
 */
#include "config.h"

#include <assert.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "observe-hist.h"
#include "observe-linter.h"
#include "observe-psi.h"
#include "observe-record.h"
#include "observe-trace.h"
#include "observe.h"
#include "placement.h"
#include "placement.skel.h"
#include "planner.h"
#include "pod.h"
#include "tier.h"
#include "topology.h"

/* Tiers plus the tasks in no watched cgroup. */
#define OBSERVE_UNATTRIBUTED TIER_COUNT
#define OBSERVE_TIER_SLOTS (TIER_COUNT + 1)
#define OBSERVE_RECENT 64
#define OBSERVE_TOP_PER_TIER 3
/* Prometheus buckets: the log2 slots' upper bounds from 2^10 ns (1 us) to 2^31 ns. */
#define OBSERVE_FIRST_BUCKET_SLOT 9
#define OBSERVE_BUCKETS (OBSERVE_HIST_SLOTS - 1 - OBSERVE_FIRST_BUCKET_SLOT)

static_assert(OBSERVE_HIST_SLOTS == PLACEMENT_SLOTS, "one histogram layout");
static_assert(OBSERVE_LINTER_MAX_CPUS == PLACEMENT_MAX_CPUS, "one CPU bound");

struct observe_totals {
	struct observe_hist wait;
	struct observe_hist run;
	uint64_t run_ns;
	uint64_t runs;
	uint64_t migrations;
};

struct observe_group_state;

/* A pressure file armed with a trigger, polled for POLLPRI. */
struct observe_pressure_watch {
	uv_poll_t poll;
	int fd;
	struct observe *observe;
	struct observe_group_state *group;	/* NULL: the node's, or detached */
};

struct observe_group_state {
	uint64_t cgroup_id;
	char *pod_uid;
	char *namespace;
	char *name;
	char *cgroup;
	char *label;			/* "namespace/name" */
	int tier;
	uint32_t slot;			/* its figures in group_stats; 0: unattributed */
	struct observe_totals total;
	struct observe_totals previous;
	struct observe_totals window;
	uint64_t *cpu_total;		/* run ns per CPU id, cumulative */
	uint64_t *cpu_previous;
	uint64_t *cpu_window;

	struct observe_pressure_watch *psi_watch;
	char *psi_reason;		/* why periodic reads only */
	struct observe_psi psi;
	bool psi_valid;
	uint64_t psi_fired;
	bool keep;			/* observe_set_groups bookkeeping */
};

struct observe_thread {
	uint32_t tid;
	struct placement_thread value;
	uint64_t window_ns;
};

struct observe_tier {
	struct observe_totals total;
	struct observe_totals window;
	size_t pods;
	uint64_t *cpu_window;		/* run ns per CPU id in the window */
	uint64_t latency_sum_fed_ns;	/* what the metric's sum has received */
};

struct observe {
	uv_loop_t *loop;
	struct metrics *metrics;
	struct observe_options options;
	char *cgroup_root;
	char *proc_root;
	const struct topology *topology;
	unsigned cpu_limit;		/* possible CPUs: per-CPU map values */

	uv_timer_t timer;
	uv_poll_t ring_poll;
	uv_timer_t trace_timer;
	bool handles_ready;
	bool ring_polling;
	unsigned pending_closes;
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;

	struct placement_bpf *skel;
	struct ring_buffer *ring;
	int stats_fd;
	char *bpf_error;
	uint32_t generation;

	struct observe_group_state **groups;
	size_t group_count;
	struct observe_group_state unattributed;
	bool *slot_used;		/* max_groups + 1; slot 0 is the unattributed */

	struct placement_cpu *cpu_now;
	struct placement_cpu *cpu_previous;
	uint64_t *cpu_busy_window;
	uint64_t *cpu_switches_window;
	uint64_t *cpu_collisions_window;
	uint64_t records_lost;
	uint64_t smt_collisions;

	struct observe_thread *threads;	/* the last read, sorted by tid */
	size_t thread_count;
	uint32_t *batch_keys;
	struct placement_thread *batch_values;

	struct observe_tier tiers[OBSERVE_TIER_SLOTS];

	uint64_t window_ns;
	uint64_t last_tick_ns;
	uint64_t started_ns;
	uint64_t ticks;

	const struct plan *plan;
	bool enforcing;
	struct observe_linter_layout layout;
	bool layout_valid;
	struct observe_verdicts verdicts;
	uint64_t violations_total[OBSERVE_INVARIANT_COUNT];
	uint64_t linter_runs;

	struct observe_psi node_psi;
	bool node_psi_valid;
	struct observe_pressure_watch *node_watch;
	char *node_psi_reason;
	uint64_t node_psi_fired;

	struct observe_event recent[OBSERVE_RECENT];
	size_t recent_next;
	size_t recent_count;
	uint64_t records;
	uint64_t records_refused;

	struct observe_trace *trace;
	struct http_request *trace_request;
	unsigned trace_seconds;
	bool trace_ending;		/* the cap was reached inside a ring callback */
	uint64_t traces;

	uint64_t own_cpu_ns;
	uint64_t own_cpu_previous_ns;
	uint64_t own_cpu_window_ns;
	uint64_t bpf_run_ns;
	uint64_t bpf_run_count;
	uint64_t bpf_run_window_ns;
	uint64_t bpf_count_window;

	struct metric_series *latency_series[OBSERVE_TIER_SLOTS];
	struct metric_series *cpu_seconds_series[OBSERVE_TIER_SLOTS];
	struct metric_series *migrations_series[OBSERVE_TIER_SLOTS];
	struct metric_family *cpu_busy_family;
	struct metric_family *cpu_tier_family;
	struct metric_family *pod_cpu_family;
	struct metric_family *pod_p99_family;
	struct metric_family *psi_avg10_family;
	struct metric_family *psi_avg60_family;
	struct metric_family *psi_stall_family;
	struct metric_family *psi_triggers_family;
	struct metric_series *violations_series[OBSERVE_INVARIANT_COUNT];
	struct metric_series *violations_now_series[OBSERVE_INVARIANT_COUNT];
	struct metric_series *linter_runs_series;
	struct metric_series *own_cpu_series;
	struct metric_series *bpf_run_series;
	struct metric_series *bpf_count_series;
	struct metric_series *records_series;
	struct metric_series *records_lost_series;
	struct metric_series *smt_series;
};

static const char *
observe_tier_label(int tier)
{
	if (tier < 0 || tier >= TIER_COUNT)
		return "unattributed";
	return tier_name((enum tier)tier);
}

static uint64_t
observe_clock_ns(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Bracket every callback: the observer's own CPU time is a figure it reports. */
static uint64_t
observe_cpu_begin(void)
{
	return observe_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void
observe_cpu_end(struct observe *observe, uint64_t begin)
{
	observe->own_cpu_ns += observe_clock_ns(CLOCK_THREAD_CPUTIME_ID) - begin;
}

void
observe_options_default(struct observe_options *options)
{
	memset(options, 0, sizeof *options);
	options->cgroup_root = "/sys/fs/cgroup";
	options->proc_root = "/proc";
	options->interval_ms = 2000;
	options->sample_every = 64;
	options->ring_kib = 1024;
	options->max_groups = 1024;
	options->max_threads = 8192;
	options->top_threads = 10;
	options->psi_stall_us = 500000;
	options->psi_window_us = 2000000;
	options->trace_max_seconds = 60;
	options->trace_max_bytes = 16u << 20;
	options->fallback_tolerance_ns = 1000000;
	options->bpf = true;
	options->bpf_stats = false;
}

static void
observe_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
observe_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/* 0, or -ENOMEM when a family or series could not be made. */
static int
observe_register_metrics(struct observe *observe)
{
	static const char *const tier_labels[] = { "tier", NULL };
	static const char *const invariant_labels[] = { "invariant", NULL };
	static const char *const cpu_labels[] = { "cpu", NULL };
	static const char *const cpu_tier_labels[] = { "cpu", "tier", NULL };
	static const char *const pod_labels[] = { "namespace", "pod", "tier", NULL };
	static const char *const psi_labels[] = { "scope", "cgroup", NULL };
	struct metrics *metrics = observe->metrics;
	struct metric_family *latency, *cpu_seconds, *migrations, *violations,
	    *violations_now;
	double buckets[OBSERVE_BUCKETS];

	for (unsigned i = 0; i < OBSERVE_BUCKETS; i++)
		buckets[i] = (double)observe_hist_slot_high(OBSERVE_FIRST_BUCKET_SLOT + i) / 1e9;
	latency = metrics_family(metrics, METRIC_HISTOGRAM,
	    "temper_runqueue_latency_seconds",
	    "Time threads waited on a runqueue between wakeup and running, by tier.",
	    tier_labels, buckets, OBSERVE_BUCKETS);
	cpu_seconds = metrics_family(metrics, METRIC_COUNTER,
	    "temper_tier_cpu_seconds_total", "On-CPU time of each tier's threads.",
	    tier_labels, NULL, 0);
	migrations = metrics_family(metrics, METRIC_COUNTER,
	    "temper_tier_migrations_total",
	    "Threads of each tier moved between CPUs.", tier_labels, NULL, 0);
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++) {
		const char *value[] = { observe_tier_label(t) };

		observe->latency_series[t] = metrics_series(latency, value);
		observe->cpu_seconds_series[t] = metrics_series(cpu_seconds, value);
		observe->migrations_series[t] = metrics_series(migrations, value);
	}
	observe->cpu_busy_family = metrics_family(metrics, METRIC_GAUGE,
	    "temper_cpu_busy_ratio",
	    "Share of the last window each CPU ran a task other than idle.",
	    cpu_labels, NULL, 0);
	observe->cpu_tier_family = metrics_family(metrics, METRIC_COUNTER,
	    "temper_cpu_tier_seconds_total",
	    "On-CPU time of each tier's threads on each CPU.", cpu_tier_labels,
	    NULL, 0);
	observe->pod_cpu_family = metrics_family(metrics, METRIC_COUNTER,
	    "temper_pod_cpu_seconds_total",
	    "On-CPU time of each watched pod's threads since it was watched.",
	    pod_labels, NULL, 0);
	observe->pod_p99_family = metrics_family(metrics, METRIC_GAUGE,
	    "temper_pod_runqueue_latency_p99_seconds",
	    "99th percentile runqueue latency of each watched pod in the last window.",
	    pod_labels, NULL, 0);
	observe->psi_avg10_family = metrics_family(metrics, METRIC_GAUGE,
	    "temper_psi_cpu_some_avg10_ratio",
	    "CPU pressure: share of the last 10 s some task waited for a CPU.",
	    psi_labels, NULL, 0);
	observe->psi_avg60_family = metrics_family(metrics, METRIC_GAUGE,
	    "temper_psi_cpu_some_avg60_ratio",
	    "CPU pressure: share of the last 60 s some task waited for a CPU.",
	    psi_labels, NULL, 0);
	observe->psi_stall_family = metrics_family(metrics, METRIC_COUNTER,
	    "temper_psi_cpu_some_stall_seconds_total",
	    "CPU pressure: total time some task waited for a CPU.", psi_labels,
	    NULL, 0);
	observe->psi_triggers_family = metrics_family(metrics, METRIC_COUNTER,
	    "temper_psi_triggers_total",
	    "CPU pressure triggers fired (stall above the threshold in a window).",
	    psi_labels, NULL, 0);
	violations = metrics_family(metrics, METRIC_COUNTER,
	    "temper_linter_violations_total",
	    "Placement linter verdicts, by invariant.", invariant_labels, NULL, 0);
	violations_now = metrics_family(metrics, METRIC_GAUGE,
	    "temper_linter_violations",
	    "Placement linter verdicts in the last window, by invariant.",
	    invariant_labels, NULL, 0);
	for (int i = 0; i < OBSERVE_INVARIANT_COUNT; i++) {
		const char *value[] = {
			observe_linter_invariant_name((enum observe_invariant)i)
		};

		observe->violations_series[i] = metrics_series(violations, value);
		observe->violations_now_series[i] = metrics_series(violations_now, value);
	}
	observe->linter_runs_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_linter_runs_total",
	    "Placement linter windows judged.", NULL, NULL, 0));
	observe->own_cpu_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_observe_cpu_seconds_total",
	    "CPU time the observation layer spent in the agent.", NULL, NULL, 0));
	observe->bpf_run_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_observe_bpf_run_seconds_total",
	    "Run time of the observation BPF programs (while BPF stats are enabled).",
	    NULL, NULL, 0));
	observe->bpf_count_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_observe_bpf_runs_total",
	    "Runs of the observation BPF programs (while BPF stats are enabled).",
	    NULL, NULL, 0));
	observe->records_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_observe_records_total",
	    "Placement records read from the ring buffer.", NULL, NULL, 0));
	observe->records_lost_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_observe_records_lost_total",
	    "Placement records the kernel dropped on a full ring buffer.", NULL,
	    NULL, 0));
	observe->smt_series = metrics_series0(metrics_family(metrics,
	    METRIC_COUNTER, "temper_smt_collisions_total",
	    "Protected and Open-layer threads seen on SMT siblings at once.", NULL,
	    NULL, 0));

	if (latency == NULL || cpu_seconds == NULL || migrations == NULL ||
	    violations == NULL || violations_now == NULL ||
	    observe->cpu_busy_family == NULL || observe->cpu_tier_family == NULL ||
	    observe->pod_cpu_family == NULL || observe->pod_p99_family == NULL ||
	    observe->psi_avg10_family == NULL || observe->psi_avg60_family == NULL ||
	    observe->psi_stall_family == NULL || observe->psi_triggers_family == NULL ||
	    observe->linter_runs_series == NULL || observe->own_cpu_series == NULL ||
	    observe->bpf_run_series == NULL || observe->bpf_count_series == NULL ||
	    observe->records_series == NULL || observe->records_lost_series == NULL ||
	    observe->smt_series == NULL)
		return -ENOMEM;
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++)
		if (observe->latency_series[t] == NULL ||
		    observe->cpu_seconds_series[t] == NULL ||
		    observe->migrations_series[t] == NULL)
			return -ENOMEM;
	for (int i = 0; i < OBSERVE_INVARIANT_COUNT; i++)
		if (observe->violations_series[i] == NULL ||
		    observe->violations_now_series[i] == NULL)
			return -ENOMEM;
	return 0;
}

/*
 * Pressure files and cgroup ids live in the cgroup2 tree.  On a hybrid
 * host the root given for the v1 controllers (/sys/fs/cgroup, a tmpfs)
 * holds it under unified/.  A malloc'd path, or NULL.
 */
static char *
observe_cgroup2_root(const char *root)
{
	char path[4096];
	struct stat st;
	char *unified;

	snprintf(path, sizeof path, "%s/cgroup.procs", root);
	if (stat(path, &st) == 0)
		return strdup(root);
	snprintf(path, sizeof path, "%s/unified/cgroup.procs", root);
	if (stat(path, &st) != 0)
		return strdup(root);
	if (asprintf(&unified, "%s/unified", root) == -1)
		return NULL;
	return unified;
}

struct observe *
observe_new(uv_loop_t *loop, struct metrics *metrics,
    const struct observe_options *options, char **cause)
{
	struct observe *observe;
	struct observe_options defaults;
	int possible;

	if (options == NULL) {
		observe_options_default(&defaults);
		options = &defaults;
	}
	if (options->interval_ms < 100 || options->max_groups == 0 ||
	    options->max_threads == 0 || options->ring_kib < 64 ||
	    (options->ring_kib & (options->ring_kib - 1)) != 0 ||
	    options->trace_max_seconds == 0 ||
	    options->trace_max_bytes < OBSERVE_TRACE_MIN_BYTES ||
	    options->psi_window_us == 0 ||
	    options->psi_stall_us > options->psi_window_us) {
		observe_cause(cause, "observe: unusable options (interval_ms >= 100, "
		    "ring_kib a power of two >= 64, psi stall <= window, "
		    "non-zero limits)");
		errno = EINVAL;
		return NULL;
	}
	if ((possible = libbpf_num_possible_cpus()) <= 0)
		possible = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (possible <= 0 || possible > PLACEMENT_MAX_CPUS) {
		observe_cause(cause, "observe: %d possible CPUs (at most %d supported)",
		    possible, PLACEMENT_MAX_CPUS);
		errno = EINVAL;
		return NULL;
	}
	if ((observe = calloc(1, sizeof *observe)) == NULL)
		goto nomem;
	observe->loop = loop;
	observe->metrics = metrics;
	observe->options = *options;
	observe->stats_fd = -1;
	observe->cpu_limit = (unsigned)possible;
	observe->topology = options->topology;
	observe->unattributed.tier = -1;
	observe->started_ns = observe_clock_ns(CLOCK_MONOTONIC);
	observe->last_tick_ns = observe->started_ns;
	if ((observe->cgroup_root = observe_cgroup2_root(options->cgroup_root ?
	    options->cgroup_root : "/sys/fs/cgroup")) == NULL ||
	    (observe->proc_root = strdup(options->proc_root ?
	    options->proc_root : "/proc")) == NULL ||
	    (observe->unattributed.label = strdup("unattributed")) == NULL ||
	    (observe->unattributed.cpu_total = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->unattributed.cpu_previous = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->unattributed.cpu_window = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->cpu_now = calloc(possible, sizeof *observe->cpu_now)) == NULL ||
	    (observe->cpu_previous = calloc(possible, sizeof *observe->cpu_previous)) == NULL ||
	    (observe->cpu_busy_window = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->cpu_switches_window = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->cpu_collisions_window = calloc(possible, sizeof(uint64_t))) == NULL ||
	    (observe->slot_used = calloc(options->max_groups + 1, sizeof(bool))) == NULL ||
	    (observe->batch_keys = calloc(options->max_threads, sizeof(uint32_t))) == NULL ||
	    (observe->batch_values = calloc(options->max_threads,
	    sizeof(struct placement_thread))) == NULL)
		goto nomem;
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++)
		if ((observe->tiers[t].cpu_window = calloc(possible,
		    sizeof(uint64_t))) == NULL)
			goto nomem;
	if (metrics != NULL && observe_register_metrics(observe) != 0) {
		observe_free(observe);
		observe_cause(cause, "observe: cannot register its metrics "
		    "(a name clash, or out of memory)");
		errno = ENOMEM;
		return NULL;
	}
	return observe;

nomem:
	observe_free(observe);
	observe_cause(cause, "observe: out of memory");
	errno = ENOMEM;
	return NULL;
}

static void
observe_group_free(struct observe_group_state *group)
{
	if (group == NULL)
		return;
	free(group->pod_uid);
	free(group->namespace);
	free(group->name);
	free(group->cgroup);
	free(group->label);
	free(group->cpu_total);
	free(group->cpu_previous);
	free(group->cpu_window);
	free(group->psi_reason);
	free(group);
}

void
observe_free(struct observe *observe)
{
	if (observe == NULL)
		return;
	observe_trace_free(observe->trace);
	ring_buffer__free(observe->ring);
	placement_bpf__destroy(observe->skel);
	if (observe->stats_fd >= 0)
		close(observe->stats_fd);
	for (size_t i = 0; i < observe->group_count; i++)
		observe_group_free(observe->groups[i]);
	free(observe->groups);
	free(observe->unattributed.label);
	free(observe->unattributed.cpu_total);
	free(observe->unattributed.cpu_previous);
	free(observe->unattributed.cpu_window);
	free(observe->cpu_now);
	free(observe->cpu_previous);
	free(observe->cpu_busy_window);
	free(observe->cpu_switches_window);
	free(observe->cpu_collisions_window);
	free(observe->threads);
	free(observe->slot_used);
	free(observe->batch_keys);
	free(observe->batch_values);
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++)
		free(observe->tiers[t].cpu_window);
	observe_linter_layout_free(&observe->layout);
	observe_linter_verdicts_free(&observe->verdicts);
	free(observe->node_psi_reason);
	free(observe->bpf_error);
	free(observe->cgroup_root);
	free(observe->proc_root);
	free(observe);
}

/* Pressure: triggers where the kernel takes them, periodic reads everywhere. */

static void observe_pressure_ready(uv_poll_t *poll, int status, int events);

static void
observe_pressure_closed(uv_handle_t *handle)
{
	struct observe_pressure_watch *watch = handle->data;
	struct observe *observe = watch->observe;

	close(watch->fd);
	free(watch);
	observe->pending_closes--;
	if (observe->stopping && observe->pending_closes == 0 && observe->done)
		observe->done(observe->done_arg);
}

static void
observe_pressure_unwatch(struct observe *observe, struct observe_pressure_watch *watch)
{
	if (watch == NULL)
		return;
	watch->group = NULL;
	observe->pending_closes++;
	uv_close((uv_handle_t *)&watch->poll, observe_pressure_closed);
}

/* 0 and *watch, or a negative errno with *reason saying why periodic reads only. */
static int
observe_pressure_watch_open(struct observe *observe, const char *path,
    struct observe_group_state *group, struct observe_pressure_watch **out,
    char **reason)
{
	struct observe_pressure_watch *watch;
	int fd, error;

	*out = NULL;
	fd = observe_psi_trigger_open(path, observe->options.psi_stall_us,
	    observe->options.psi_window_us, reason);
	if (fd < 0)
		return fd;
	if ((watch = calloc(1, sizeof *watch)) == NULL) {
		close(fd);
		observe_cause(reason, "out of memory");
		return -ENOMEM;
	}
	watch->fd = fd;
	watch->observe = observe;
	watch->group = group;
	if ((error = uv_poll_init(observe->loop, &watch->poll, fd)) != 0) {
		close(fd);
		free(watch);
		observe_cause(reason, "%s: uv_poll_init: %s", path, uv_strerror(error));
		return error;
	}
	watch->poll.data = watch;
	if ((error = uv_poll_start(&watch->poll, UV_PRIORITIZED,
	    observe_pressure_ready)) != 0) {
		observe_cause(reason, "%s: uv_poll_start: %s", path, uv_strerror(error));
		observe_pressure_unwatch(observe, watch);
		return error;
	}
	*out = watch;
	return 0;
}

static bool
observe_power_of_ten(uint64_t n)
{
	while (n >= 10 && n % 10 == 0)
		n /= 10;
	return n == 1;
}

static void
observe_pressure_count(struct observe *observe, const char *scope,
    const char *cgroup)
{
	const char *labels[] = { scope, cgroup };

	if (observe->psi_triggers_family != NULL)
		metric_inc(metrics_series(observe->psi_triggers_family, labels));
}

static void
observe_pressure_ready(uv_poll_t *poll, int status, int events)
{
	struct observe_pressure_watch *watch = poll->data;
	struct observe *observe = watch->observe;
	struct observe_group_state *group = watch->group;
	uint64_t begin = observe_cpu_begin();

	if (status < 0) {
		/* The cgroup went away (or the file broke): periodic reads only. */
		log_warn("observe: pressure trigger on %s failed: %s; periodic "
		    "reads go on", group ? group->label : "the node",
		    uv_strerror(status));
		if (group != NULL) {
			group->psi_watch = NULL;
			free(group->psi_reason);
			group->psi_reason = strdup(uv_strerror(status));
		} else {
			observe->node_watch = NULL;
		}
		observe_pressure_unwatch(observe, watch);
		goto out;
	}
	if ((events & UV_PRIORITIZED) == 0)
		goto out;
	/* A loaded node fires every window: log the 1st, 10th, 100th, ...
	 * firing; the metric counts them all. */
	if (group != NULL) {
		group->psi_fired++;
		if (observe_power_of_ten(group->psi_fired))
			log_info("observe: CPU pressure trigger fired for pod %s (stall "
			    "above %" PRIu64 " us in %" PRIu64 " us; %lu times so far)",
			    group->label, observe->options.psi_stall_us,
			    observe->options.psi_window_us, (unsigned long)group->psi_fired);
		observe_pressure_count(observe, "pod", group->label);
	} else {
		observe->node_psi_fired++;
		if (observe_power_of_ten(observe->node_psi_fired))
			log_info("observe: CPU pressure trigger fired for the node (%lu times so far)",
			    (unsigned long)observe->node_psi_fired);
		observe_pressure_count(observe, "node", "");
	}
out:
	observe_cpu_end(observe, begin);
}

static void
observe_group_arm_psi(struct observe *observe, struct observe_group_state *group)
{
	char path[4096];
	char *reason = NULL;

	if (group->cgroup == NULL || observe->stopping || !observe->handles_ready)
		return;
	snprintf(path, sizeof path, "%s/%s/cpu.pressure", observe->cgroup_root,
	    group->cgroup);
	if (observe_pressure_watch_open(observe, path, group, &group->psi_watch,
	    &reason) != 0) {
		free(group->psi_reason);
		group->psi_reason = reason;
	}
}

static void
observe_read_psi(struct observe *observe)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/pressure/cpu", observe->proc_root);
	observe->node_psi_valid = observe_psi_read(path, &observe->node_psi) == 0;
	for (size_t i = 0; i < observe->group_count; i++) {
		struct observe_group_state *group = observe->groups[i];

		if (group->cgroup == NULL)
			continue;
		snprintf(path, sizeof path, "%s/%s/cpu.pressure",
		    observe->cgroup_root, group->cgroup);
		group->psi_valid = observe_psi_read(path, &group->psi) == 0;
	}
}

/* The groups table. */

static struct observe_group_state *
observe_find_group(struct observe *observe, uint64_t cgroup_id)
{
	if (cgroup_id == 0)
		return &observe->unattributed;
	for (size_t i = 0; i < observe->group_count; i++)
		if (observe->groups[i]->cgroup_id == cgroup_id)
			return observe->groups[i];
	return NULL;
}

/* The class the BPF side needs for the SMT check, from the group's layer. */
static uint32_t
observe_group_class(const struct observe *observe,
    const struct observe_group_state *group)
{
	const struct plan *plan = observe->plan;
	const char *layer_name;

	if (plan == NULL || group->pod_uid == NULL)
		return PLACEMENT_CLASS_OTHER;
	layer_name = planner_layer_of(plan, group->pod_uid);
	for (size_t i = 0; i < plan->layer_count; i++) {
		const struct plan_layer *layer = &plan->layers[i];

		if (layer_name != NULL ? strcmp(layer->name, layer_name) != 0 :
		    layer->role != PLAN_ROLE_CATCH_ALL)
			continue;
		if (layer->protected)
			return PLACEMENT_CLASS_PROTECTED;
		return layer->kind == PLAN_KIND_OPEN ? PLACEMENT_CLASS_OPEN :
		    PLACEMENT_CLASS_OTHER;
	}
	return PLACEMENT_CLASS_OTHER;
}

/* Push the table into the kernel's groups map; tasks re-resolve lazily. */
static void
observe_sync_groups(struct observe *observe)
{
	int fd;

	if (observe->skel == NULL)
		return;
	fd = bpf_map__fd(observe->skel->maps.groups);
	for (size_t i = 0; i < observe->group_count; i++) {
		struct observe_group_state *group = observe->groups[i];
		struct placement_group value = {
			.tier = group->tier >= 0 ? (uint32_t)group->tier :
			    PLACEMENT_TIER_NONE,
			.class = observe_group_class(observe, group),
			.slot = group->slot,
		};

		if (bpf_map_update_elem(fd, &group->cgroup_id, &value, BPF_ANY) != 0)
			log_warn("observe: cannot watch cgroup %" PRIu64 " (pod %s): "
			    "%s; its threads count as unattributed",
			    group->cgroup_id, group->label, strerror(errno));
	}
	observe->skel->bss->generation = ++observe->generation;
}

static struct observe_group_state *
observe_group_new(const struct observe *observe, const struct observe_group *row)
{
	struct observe_group_state *group;
	const char *namespace = row->namespace ? row->namespace : "";
	const char *name = row->name ? row->name : "";
	char *label;

	if ((group = calloc(1, sizeof *group)) == NULL)
		return NULL;
	if (asprintf(&label, "%s/%s", namespace, name) == -1) {
		free(group);
		return NULL;
	}
	group->label = label;
	group->cgroup_id = row->cgroup_id;
	group->tier = row->tier >= 0 && row->tier < TIER_COUNT ? row->tier : -1;
	if ((row->pod_uid && (group->pod_uid = strdup(row->pod_uid)) == NULL) ||
	    (group->namespace = strdup(namespace)) == NULL ||
	    (group->name = strdup(name)) == NULL ||
	    (row->cgroup && (group->cgroup = strdup(row->cgroup)) == NULL) ||
	    (group->cpu_total = calloc(observe->cpu_limit, sizeof(uint64_t))) == NULL ||
	    (group->cpu_previous = calloc(observe->cpu_limit, sizeof(uint64_t))) == NULL ||
	    (group->cpu_window = calloc(observe->cpu_limit, sizeof(uint64_t))) == NULL) {
		observe_group_free(group);
		return NULL;
	}
	return group;
}

/*
 * A slot handed to a new group starts from zero.  A task still holding
 * the slot's old owner until its next switch may add a run to it: one run,
 * not worth a lock.
 */
static void
observe_zero_slot(struct observe *observe, uint32_t slot)
{
	struct placement_stats *zero;

	if (observe->skel == NULL ||
	    (zero = calloc(observe->cpu_limit, sizeof *zero)) == NULL)
		return;
	bpf_map_update_elem(bpf_map__fd(observe->skel->maps.group_stats), &slot,
	    zero, BPF_ANY);
	free(zero);
}

int
observe_set_groups(struct observe *observe, const struct observe_group *rows,
    size_t count)
{
	struct observe_group_state **next = NULL, *group;
	int fd = -1, error = 0;

	if (count > observe->options.max_groups)
		return -ENOSPC;
	for (size_t i = 0; i < count; i++) {
		if (rows[i].cgroup_id == 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (rows[j].cgroup_id == rows[i].cgroup_id)
				return -EINVAL;
	}
	if (count > 0 && (next = calloc(count, sizeof *next)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < observe->group_count; i++)
		observe->groups[i]->keep = false;
	for (size_t i = 0; i < count && error == 0; i++) {
		group = observe_find_group(observe, rows[i].cgroup_id);
		if (group != NULL) {
			/* The same cgroup: keep its figures, take the new names. */
			group->keep = true;
			group->tier = rows[i].tier >= 0 && rows[i].tier < TIER_COUNT ?
			    rows[i].tier : -1;
			next[i] = group;
			continue;
		}
		if ((next[i] = observe_group_new(observe, &rows[i])) == NULL)
			error = -ENOMEM;
	}
	/* Slots: the groups that stay keep theirs, new ones take free ones. */
	for (uint32_t slot = 1; error == 0 && slot <= observe->options.max_groups; slot++)
		observe->slot_used[slot] = false;
	for (size_t i = 0; i < count && error == 0; i++)
		if (next[i]->slot != 0)
			observe->slot_used[next[i]->slot] = true;
	for (size_t i = 0, slot = 1; i < count && error == 0; i++) {
		if (next[i]->slot != 0)
			continue;
		while (observe->slot_used[slot])
			slot++;
		next[i]->slot = (uint32_t)slot;
		observe->slot_used[slot] = true;
		observe_zero_slot(observe, next[i]->slot);
	}
	if (error != 0) {
		for (size_t i = 0; i < count; i++)
			if (next[i] != NULL && observe_find_group(observe,
			    next[i]->cgroup_id) != next[i])
				observe_group_free(next[i]);
		free(next);
		return error;
	}
	if (observe->skel != NULL)
		fd = bpf_map__fd(observe->skel->maps.groups);
	for (size_t i = 0; i < observe->group_count; i++) {
		group = observe->groups[i];
		if (group->keep)
			continue;
		if (fd >= 0)
			bpf_map_delete_elem(fd, &group->cgroup_id);
		if (group->psi_watch != NULL)
			observe_pressure_unwatch(observe, group->psi_watch);
		observe_group_free(group);
	}
	free(observe->groups);
	observe->groups = next;
	observe->group_count = count;
	for (size_t i = 0; i < count; i++)
		if (next[i]->psi_watch == NULL && next[i]->psi_reason == NULL)
			observe_group_arm_psi(observe, next[i]);
	observe_sync_groups(observe);
	return 0;
}

int
observe_set_pods(struct observe *observe, const struct planner_pod *pods,
    size_t count, size_t *skipped)
{
	struct observe_group *rows = NULL;
	size_t used = 0, left_out = 0;
	char path[4096];
	struct stat st;
	int error;

	if (count > 0 && (rows = calloc(count, sizeof *rows)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const char *cgroup = pods[i].cgroup;

		if (cgroup == NULL || pods[i].pod == NULL) {
			left_out++;
			continue;
		}
		while (*cgroup == '/')
			cgroup++;
		snprintf(path, sizeof path, "%s/%s", observe->cgroup_root, cgroup);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			left_out++;
			continue;
		}
		rows[used].cgroup_id = (uint64_t)st.st_ino;
		rows[used].pod_uid = pods[i].pod->uid;
		rows[used].namespace = pods[i].pod->namespace;
		rows[used].name = pods[i].pod->name;
		rows[used].tier = (int)pods[i].tier;
		rows[used].cgroup = cgroup;
		used++;
	}
	error = observe_set_groups(observe, rows, used);
	free(rows);
	if (skipped != NULL)
		*skipped = left_out;
	return error;
}

void
observe_set_plan(struct observe *observe, const struct plan *plan)
{
	observe->plan = plan;
	observe_linter_layout_free(&observe->layout);
	observe->layout_valid = plan != NULL && observe->topology != NULL &&
	    observe_linter_layout(plan, observe->topology, &observe->layout) == 0;
	/* Classes for the SMT check follow the layers. */
	observe_sync_groups(observe);
}

void
observe_set_enforcing(struct observe *observe, bool enforcing)
{
	observe->enforcing = enforcing;
}

/* BPF: load, read, ring buffer. */

static void observe_end_capture(struct observe *observe, const char *stopped);

static int
observe_on_record(void *context, void *data, size_t len)
{
	struct observe *observe = context;
	struct observe_event event;

	if (observe_record_decode(data, len, observe->cpu_limit, &event) != 0) {
		observe->records_refused++;
		return 0;
	}
	observe->records++;
	if (observe->trace != NULL && !observe->trace_ending) {
		if (observe_trace_add(observe->trace, &event) == -ENOSPC)
			observe->trace_ending = true;
		return 0;
	}
	observe->recent[observe->recent_next] = event;
	observe->recent_next = (observe->recent_next + 1) % OBSERVE_RECENT;
	if (observe->recent_count < OBSERVE_RECENT)
		observe->recent_count++;
	return 0;
}

static void
observe_drain(struct observe *observe)
{
	if (observe->ring != NULL)
		ring_buffer__consume(observe->ring);
	if (observe->trace_ending && observe->trace != NULL)
		observe_end_capture(observe, "byte cap reached");
}

static void
observe_ring_ready(uv_poll_t *poll, int status, int events)
{
	struct observe *observe = poll->data;
	uint64_t begin = observe_cpu_begin();

	(void)events;
	if (status < 0)
		log_warn("observe: ring buffer poll: %s; the tick drains it",
		    uv_strerror(status));
	observe_drain(observe);
	observe_cpu_end(observe, begin);
}

static int
observe_load_bpf(struct observe *observe, char **cause)
{
	const struct topology *topology = observe->topology;
	struct placement_bpf *skel;
	int error;

	if ((skel = placement_bpf__open()) == NULL) {
		error = -errno;
		observe_cause(cause, "opening the placement program: %s",
		    strerror(-error));
		return error;
	}
	skel->rodata->sample_every = observe->options.sample_every;
	for (unsigned cpu = 0; cpu < PLACEMENT_MAX_CPUS; cpu++)
		skel->rodata->sibling_of[cpu] = -1;
	if (topology != NULL && topology->threads_per_core > 1) {
		skel->rodata->smt_check = 1;
		for (size_t i = 0; i < topology->cpu_count; i++)
			for (size_t j = 0; j < topology->cpu_count; j++)
				if (i != j && topology->cpus[i].core == topology->cpus[j].core &&
				    topology->cpus[i].id < PLACEMENT_MAX_CPUS &&
				    skel->rodata->sibling_of[topology->cpus[i].id] < 0)
					skel->rodata->sibling_of[topology->cpus[i].id] =
					    (int32_t)topology->cpus[j].id;
	}
	bpf_map__set_max_entries(skel->maps.groups, observe->options.max_groups);
	bpf_map__set_max_entries(skel->maps.group_stats, observe->options.max_groups + 1);
	bpf_map__set_max_entries(skel->maps.threads, observe->options.max_threads);
	bpf_map__set_max_entries(skel->maps.records, observe->options.ring_kib * 1024);
	if ((error = placement_bpf__load(skel)) != 0) {
		observe_cause(cause, "loading the placement program: %s",
		    strerror(-error));
		goto fail;
	}
	if ((error = placement_bpf__attach(skel)) != 0) {
		observe_cause(cause, "attaching the placement program: %s",
		    strerror(-error));
		goto fail;
	}
	observe->ring = ring_buffer__new(bpf_map__fd(skel->maps.records),
	    observe_on_record, observe, NULL);
	if (observe->ring == NULL) {
		error = -errno;
		observe_cause(cause, "opening the ring buffer: %s", strerror(-error));
		goto fail;
	}
	observe->skel = skel;
	if (observe->options.bpf_stats) {
		observe->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (observe->stats_fd < 0)
			log_warn("observe: cannot enable BPF run-time statistics: %s; "
			    "BPF overhead goes unmeasured", strerror(errno));
	}
	return 0;

fail:
	placement_bpf__destroy(skel);
	return error;
}

/* A per-CPU value: cpu_limit copies, each rounded up to 8 bytes (as here). */
static int
observe_read_group(struct observe *observe, struct observe_group_state *group,
    struct placement_stats *values)
{
	struct observe_totals total;
	int error;

	memset(values, 0, observe->cpu_limit * sizeof *values);
	error = bpf_map_lookup_elem(bpf_map__fd(observe->skel->maps.group_stats),
	    &group->slot, values);
	if (error != 0)
		return -errno;
	memset(&total, 0, sizeof total);
	for (unsigned cpu = 0; cpu < observe->cpu_limit; cpu++) {
		const struct placement_stats *v = &values[cpu];

		total.run_ns += v->run_ns;
		total.runs += v->runs;
		total.migrations += v->migrations;
		total.wait.count += v->wait_count;
		total.wait.sum_ns += v->wait_ns;
		if (v->wait_max_ns > total.wait.max_ns)
			total.wait.max_ns = v->wait_max_ns;
		total.run.count += v->runs;
		total.run.sum_ns += v->run_ns;
		for (unsigned s = 0; s < PLACEMENT_SLOTS; s++) {
			total.wait.slots[s] += v->wait_slots[s];
			total.run.slots[s] += v->run_slots[s];
		}
		group->cpu_total[cpu] = v->run_ns;
	}
	group->total = total;
	return 0;
}

static void
observe_window_group(struct observe_group_state *group, unsigned cpu_limit)
{
	struct observe_totals *now = &group->total, *before = &group->previous,
	    *window = &group->window;

	observe_hist_window(&window->wait, &now->wait, &before->wait);
	observe_hist_window(&window->run, &now->run, &before->run);
	window->run_ns = now->run_ns >= before->run_ns ? now->run_ns - before->run_ns :
	    now->run_ns;
	window->runs = now->runs >= before->runs ? now->runs - before->runs : now->runs;
	window->migrations = now->migrations >= before->migrations ?
	    now->migrations - before->migrations : now->migrations;
	for (unsigned cpu = 0; cpu < cpu_limit; cpu++) {
		group->cpu_window[cpu] = group->cpu_total[cpu] >= group->cpu_previous[cpu] ?
		    group->cpu_total[cpu] - group->cpu_previous[cpu] : group->cpu_total[cpu];
		group->cpu_previous[cpu] = group->cpu_total[cpu];
	}
	*before = *now;
}

static int
observe_thread_compare(const void *a, const void *b)
{
	const struct observe_thread *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void
observe_read_threads(struct observe *observe)
{
	int fd = bpf_map__fd(observe->skel->maps.threads);
	struct observe_thread *next, *old;
	uint32_t in_batch = 0, out_batch = 0, count;
	size_t got = 0;
	bool first = true;
	int error;

	/* The kernel hands entries out bucket by bucket, in batches. */
	for (;;) {
		count = observe->options.max_threads - (uint32_t)got;
		if (count == 0)
			break;
		error = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch,
		    observe->batch_keys + got, observe->batch_values + got, &count,
		    NULL);
		if (error != 0 && errno != ENOENT) {
			log_debug("observe: reading the threads map: %s", strerror(errno));
			break;
		}
		got += count;
		if (error != 0)
			break;
		in_batch = out_batch;
		first = false;
	}
	if ((next = calloc(got ? got : 1, sizeof *next)) == NULL)
		return;
	for (size_t i = 0; i < got; i++) {
		next[i].tid = observe->batch_keys[i];
		next[i].value = observe->batch_values[i];
	}
	qsort(next, got, sizeof *next, observe_thread_compare);
	for (size_t i = 0; i < got; i++) {
		struct observe_thread key = { .tid = next[i].tid };

		old = observe->thread_count ? bsearch(&key, observe->threads,
		    observe->thread_count, sizeof key, observe_thread_compare) : NULL;
		if (old == NULL)
			next[i].window_ns = next[i].value.run_ns;
		else if (next[i].value.run_ns >= old->value.run_ns)
			next[i].window_ns = next[i].value.run_ns - old->value.run_ns;
		else
			next[i].window_ns = next[i].value.run_ns;
	}
	free(observe->threads);
	observe->threads = next;
	observe->thread_count = got;
}

static void
observe_read_cpus(struct observe *observe)
{
	uint32_t zero = 0;

	memcpy(observe->cpu_previous, observe->cpu_now,
	    observe->cpu_limit * sizeof *observe->cpu_now);
	if (bpf_map_lookup_elem(bpf_map__fd(observe->skel->maps.cpu_stats), &zero,
	    observe->cpu_now) != 0)
		return;
	observe->records_lost = 0;
	observe->smt_collisions = 0;
	for (unsigned cpu = 0; cpu < observe->cpu_limit; cpu++) {
		const struct placement_cpu *now = &observe->cpu_now[cpu];
		const struct placement_cpu *before = &observe->cpu_previous[cpu];

		observe->cpu_busy_window[cpu] = now->busy_ns >= before->busy_ns ?
		    now->busy_ns - before->busy_ns : 0;
		observe->cpu_switches_window[cpu] = now->switches >= before->switches ?
		    now->switches - before->switches : 0;
		observe->cpu_collisions_window[cpu] =
		    now->smt_collisions >= before->smt_collisions ?
		    now->smt_collisions - before->smt_collisions : 0;
		observe->records_lost += now->records_lost;
		observe->smt_collisions += now->smt_collisions;
	}
}

static void
observe_read_bpf_stats(struct observe *observe)
{
	struct bpf_program *program;
	uint64_t run_ns = 0, count = 0;

	bpf_object__for_each_program(program, observe->skel->obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof info;

		memset(&info, 0, sizeof info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &len) != 0)
			continue;
		run_ns += info.run_time_ns;
		count += info.run_cnt;
	}
	observe->bpf_run_window_ns = run_ns >= observe->bpf_run_ns ?
	    run_ns - observe->bpf_run_ns : run_ns;
	observe->bpf_count_window = count >= observe->bpf_run_count ?
	    count - observe->bpf_run_count : count;
	observe->bpf_run_ns = run_ns;
	observe->bpf_run_count = count;
}

static void
observe_totals_add(struct observe_totals *into, const struct observe_totals *from)
{
	observe_hist_add(&into->wait, &from->wait);
	observe_hist_add(&into->run, &from->run);
	into->run_ns += from->run_ns;
	into->runs += from->runs;
	into->migrations += from->migrations;
}

static void
observe_aggregate_tiers(struct observe *observe)
{
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++) {
		struct observe_tier *tier = &observe->tiers[t];
		uint64_t *cpu_window = tier->cpu_window;
		uint64_t fed = tier->latency_sum_fed_ns;

		memset(tier, 0, sizeof *tier);
		tier->cpu_window = cpu_window;
		tier->latency_sum_fed_ns = fed;
		memset(cpu_window, 0, observe->cpu_limit * sizeof *cpu_window);
	}
	for (size_t i = 0; i <= observe->group_count; i++) {
		struct observe_group_state *group = i < observe->group_count ?
		    observe->groups[i] : &observe->unattributed;
		int t = group->tier >= 0 ? group->tier : OBSERVE_UNATTRIBUTED;
		struct observe_tier *tier = &observe->tiers[t];

		if (group != &observe->unattributed)
			tier->pods++;
		observe_totals_add(&tier->total, &group->total);
		observe_totals_add(&tier->window, &group->window);
		for (unsigned cpu = 0; cpu < observe->cpu_limit; cpu++)
			tier->cpu_window[cpu] += group->cpu_window[cpu];
	}
}

/* Metrics. */

static void
observe_feed_latency(struct observe *observe, int t)
{
	struct observe_tier *tier = &observe->tiers[t];
	struct metric_series *series = observe->latency_series[t];
	const struct observe_hist *window = &tier->window.wait;
	double fed = 0;

	if (series == NULL)
		return;
	/*
	 * Each slot's count goes in at the slot's upper bound (so it lands in
	 * the right bucket), then the sum is corrected to the kernel's exact
	 * total.
	 */
	for (unsigned s = 0; s < OBSERVE_HIST_SLOTS; s++) {
		double bound = s < OBSERVE_FIRST_BUCKET_SLOT ?
		    (double)observe_hist_slot_high(OBSERVE_FIRST_BUCKET_SLOT) / 1e9 :
		    s == OBSERVE_HIST_SLOTS - 1 ?
		    (double)observe_hist_slot_low(s) * 2 / 1e9 :
		    (double)observe_hist_slot_high(s) / 1e9;

		metric_observe_count(series, bound, window->slots[s]);
		fed += bound * (double)window->slots[s];
	}
	metric_add(series, (double)window->sum_ns / 1e9 - fed);
}

static void
observe_update_metrics(struct observe *observe)
{
	char cpu_text[16];

	if (observe->metrics == NULL)
		return;
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++) {
		observe_feed_latency(observe, t);
		metric_add(observe->cpu_seconds_series[t],
		    (double)observe->tiers[t].window.run_ns / 1e9);
		metric_add(observe->migrations_series[t],
		    (double)observe->tiers[t].window.migrations);
	}
	metrics_family_clear(observe->cpu_busy_family);
	for (unsigned cpu = 0; cpu < observe->cpu_limit; cpu++) {
		const char *labels[] = { cpu_text, NULL };

		snprintf(cpu_text, sizeof cpu_text, "%u", cpu);
		metric_set(metrics_series(observe->cpu_busy_family, labels),
		    observe->window_ns ? (double)observe->cpu_busy_window[cpu] /
		    (double)observe->window_ns : 0);
		for (int t = 0; t < OBSERVE_TIER_SLOTS; t++) {
			const char *pair[] = { cpu_text, observe_tier_label(t) };

			if (observe->tiers[t].cpu_window[cpu] != 0)
				metric_add(metrics_series(observe->cpu_tier_family, pair),
				    (double)observe->tiers[t].cpu_window[cpu] / 1e9);
		}
	}
	/* Pods come and go: their series are rebuilt from the table. */
	metrics_family_clear(observe->pod_cpu_family);
	metrics_family_clear(observe->pod_p99_family);
	for (size_t i = 0; i < observe->group_count; i++) {
		const struct observe_group_state *group = observe->groups[i];
		const char *labels[] = { group->namespace, group->name,
		    observe_tier_label(group->tier) };

		metric_set(metrics_series(observe->pod_cpu_family, labels),
		    (double)group->total.run_ns / 1e9);
		metric_set(metrics_series(observe->pod_p99_family, labels),
		    (double)observe_hist_quantile(&group->window.wait, 0.99) / 1e9);
	}
	metrics_family_clear(observe->psi_avg10_family);
	metrics_family_clear(observe->psi_avg60_family);
	metrics_family_clear(observe->psi_stall_family);
	if (observe->node_psi_valid) {
		const char *labels[] = { "node", "" };

		metric_set(metrics_series(observe->psi_avg10_family, labels),
		    observe->node_psi.some.avg10 / 100);
		metric_set(metrics_series(observe->psi_avg60_family, labels),
		    observe->node_psi.some.avg60 / 100);
		metric_set(metrics_series(observe->psi_stall_family, labels),
		    (double)observe->node_psi.some.total_us / 1e6);
	}
	for (size_t i = 0; i < observe->group_count; i++) {
		const struct observe_group_state *group = observe->groups[i];
		const char *labels[] = { "pod", group->label };

		if (!group->psi_valid)
			continue;
		metric_set(metrics_series(observe->psi_avg10_family, labels),
		    group->psi.some.avg10 / 100);
		metric_set(metrics_series(observe->psi_avg60_family, labels),
		    group->psi.some.avg60 / 100);
		metric_set(metrics_series(observe->psi_stall_family, labels),
		    (double)group->psi.some.total_us / 1e6);
	}
	for (int i = 0; i < OBSERVE_INVARIANT_COUNT; i++) {
		metric_set(observe->violations_series[i],
		    (double)observe->violations_total[i]);
		metric_set(observe->violations_now_series[i],
		    (double)observe->verdicts.counts[i]);
	}
	metric_set(observe->linter_runs_series, (double)observe->linter_runs);
	metric_set(observe->own_cpu_series, (double)observe->own_cpu_ns / 1e9);
	metric_set(observe->bpf_run_series, (double)observe->bpf_run_ns / 1e9);
	metric_set(observe->bpf_count_series, (double)observe->bpf_run_count);
	metric_set(observe->records_series, (double)observe->records);
	metric_set(observe->records_lost_series, (double)observe->records_lost);
	metric_set(observe->smt_series, (double)observe->smt_collisions);
}

static void
observe_lint(struct observe *observe)
{
	struct observe_linter_group *groups = NULL;
	struct observe_linter_input input;
	struct observe_verdicts verdicts;

	if (observe->plan == NULL || !observe->layout_valid)
		return;
	if (observe->group_count > 0 && (groups = calloc(observe->group_count,
	    sizeof *groups)) == NULL)
		return;
	for (size_t i = 0; i < observe->group_count; i++) {
		const struct observe_group_state *group = observe->groups[i];

		groups[i].pod_uid = group->pod_uid;
		groups[i].name = group->label;
		groups[i].tier = group->tier;
		groups[i].run_ns = group->window.run_ns;
		groups[i].wait_ns = group->window.wait.sum_ns;
		groups[i].cpu_run_ns = group->cpu_window;
	}
	memset(&input, 0, sizeof input);
	input.plan = observe->plan;
	input.topology = observe->topology;
	input.layout = &observe->layout;
	input.groups = groups;
	input.group_count = observe->group_count;
	input.unattributed_run_ns = observe->unattributed.window.run_ns;
	input.unattributed_wait_ns = observe->unattributed.window.wait.sum_ns;
	input.smt_collisions = observe->skel ? observe->cpu_collisions_window : NULL;
	input.cpu_limit = observe->cpu_limit;
	input.window_ns = observe->skel ? observe->window_ns : 0;
	input.fallback_tolerance_ns = observe->options.fallback_tolerance_ns;
	if (observe_linter_run(&input, &verdicts) == 0) {
		observe_linter_verdicts_free(&observe->verdicts);
		observe->verdicts = verdicts;
		observe->linter_runs++;
		for (int i = 0; i < OBSERVE_INVARIANT_COUNT; i++)
			observe->violations_total[i] += verdicts.counts[i];
		for (size_t i = 0; i < verdicts.count; i++)
			log_debug("observe: linter: %s: %s: %s",
			    observe_linter_invariant_name(verdicts.items[i].invariant),
			    verdicts.items[i].subject, verdicts.items[i].detail);
	}
	free(groups);
}

void
observe_refresh(struct observe *observe)
{
	uint64_t now = observe_clock_ns(CLOCK_MONOTONIC);
	struct placement_stats *values = NULL;

	observe->window_ns = now - observe->last_tick_ns;
	observe->last_tick_ns = now;
	observe->ticks++;
	if (observe->skel != NULL &&
	    (values = calloc(observe->cpu_limit, sizeof *values)) != NULL) {
		observe_drain(observe);
		observe_read_cpus(observe);
		observe_read_group(observe, &observe->unattributed, values);
		for (size_t i = 0; i < observe->group_count; i++)
			observe_read_group(observe, observe->groups[i], values);
		observe_read_threads(observe);
		observe_read_bpf_stats(observe);
		free(values);
	}
	for (size_t i = 0; i <= observe->group_count; i++)
		observe_window_group(i < observe->group_count ? observe->groups[i] :
		    &observe->unattributed, observe->cpu_limit);
	observe_aggregate_tiers(observe);
	observe_read_psi(observe);
	observe_lint(observe);
	observe->own_cpu_window_ns = observe->own_cpu_ns - observe->own_cpu_previous_ns;
	observe->own_cpu_previous_ns = observe->own_cpu_ns;
	observe_update_metrics(observe);
}

static void
observe_tick(uv_timer_t *timer)
{
	struct observe *observe = timer->data;
	uint64_t begin = observe_cpu_begin();

	observe_refresh(observe);
	observe_cpu_end(observe, begin);
}

int
observe_start(struct observe *observe)
{
	char path[4096];
	char *cause = NULL;
	int error;

	/* uv_timer_init cannot fail on a live loop. */
	uv_timer_init(observe->loop, &observe->timer);
	uv_timer_init(observe->loop, &observe->trace_timer);
	observe->timer.data = observe;
	observe->trace_timer.data = observe;
	observe->handles_ready = true;

	if (observe->options.bpf) {
		if (observe_load_bpf(observe, &cause) != 0) {
			log_warn("observe: %s; placement figures are off, PSI and "
			    "plan checks go on", cause ? cause : "BPF failed");
			observe->bpf_error = cause;
			cause = NULL;
		} else {
			observe_sync_groups(observe);
			if ((error = uv_poll_init(observe->loop, &observe->ring_poll,
			    ring_buffer__epoll_fd(observe->ring))) != 0)
				return error;
			observe->ring_poll.data = observe;
			observe->ring_polling = true;
			if ((error = uv_poll_start(&observe->ring_poll, UV_READABLE,
			    observe_ring_ready)) != 0)
				return error;
		}
	}

	/* The node's pressure: a trigger if the kernel takes one here. */
	snprintf(path, sizeof path, "%s/pressure/cpu", observe->proc_root);
	if (observe_pressure_watch_open(observe, path, NULL, &observe->node_watch,
	    &cause) != 0) {
		log_info("observe: no pressure trigger on the node (%s); reading "
		    "%s every %u ms instead", cause ? cause : "refused", path,
		    observe->options.interval_ms);
		observe->node_psi_reason = cause;
		cause = NULL;
	}
	for (size_t i = 0; i < observe->group_count; i++)
		if (observe->groups[i]->psi_watch == NULL)
			observe_group_arm_psi(observe, observe->groups[i]);
	observe_read_psi(observe);
	return uv_timer_start(&observe->timer, observe_tick,
	    observe->options.interval_ms, observe->options.interval_ms);
}

static void
observe_handle_closed(uv_handle_t *handle)
{
	struct observe *observe = handle->data;

	observe->pending_closes--;
	if (observe->stopping && observe->pending_closes == 0 && observe->done)
		observe->done(observe->done_arg);
}

void
observe_stop(struct observe *observe, void (*done)(void *arg), void *arg)
{
	observe->stopping = true;
	observe->done = done;
	observe->done_arg = arg;
	if (observe->trace != NULL)
		observe_end_capture(observe, "the observer stopped");
	if (observe->skel != NULL)
		observe->skel->bss->capture = 0;
	for (size_t i = 0; i < observe->group_count; i++) {
		if (observe->groups[i]->psi_watch != NULL) {
			observe_pressure_unwatch(observe, observe->groups[i]->psi_watch);
			observe->groups[i]->psi_watch = NULL;
		}
	}
	if (observe->node_watch != NULL) {
		observe_pressure_unwatch(observe, observe->node_watch);
		observe->node_watch = NULL;
	}
	if (observe->handles_ready) {
		observe->handles_ready = false;
		observe->pending_closes += 2;
		uv_close((uv_handle_t *)&observe->timer, observe_handle_closed);
		uv_close((uv_handle_t *)&observe->trace_timer, observe_handle_closed);
	}
	if (observe->ring_polling) {
		observe->ring_polling = false;
		observe->pending_closes++;
		uv_close((uv_handle_t *)&observe->ring_poll, observe_handle_closed);
	}
	if (observe->pending_closes == 0 && done != NULL)
		done(arg);
}

/* Trace captures. */

static void
observe_capture_cancelled(struct http_request *request, void *arg)
{
	struct observe *observe = arg;

	(void)request;
	/* The client went away: never answer, drop the capture. */
	observe->trace_request = NULL;
	if (observe->skel != NULL)
		observe->skel->bss->capture = 0;
	uv_timer_stop(&observe->trace_timer);
	observe_trace_free(observe->trace);
	observe->trace = NULL;
	observe->trace_ending = false;
	log_info("observe: trace capture abandoned: the client went away");
}

static void
observe_end_capture(struct observe *observe, const char *stopped)
{
	struct http_request *request = observe->trace_request;
	struct observe_trace *trace = observe->trace;
	size_t len = 0;
	char *text;

	if (observe->skel != NULL)
		observe->skel->bss->capture = 0;
	if (observe->handles_ready)
		uv_timer_stop(&observe->trace_timer);
	/* What was emitted before capture went off is part of the capture. */
	observe->trace = NULL;
	if (observe->ring != NULL && !observe->trace_ending) {
		observe->trace = trace;
		ring_buffer__consume(observe->ring);
		observe->trace = NULL;
	}
	observe->trace_ending = false;
	observe->trace_request = NULL;
	if (request == NULL) {
		observe_trace_free(trace);
		return;
	}
	http_request_on_cancel(request, NULL, NULL);
	if (observe->stopping) {
		http_respond_error(request, 503, "the observer is stopping");
		observe_trace_free(trace);
		return;
	}
	if ((text = observe_trace_finish(trace, stopped, &len)) == NULL) {
		http_respond_error(request, 500, "out of memory finishing the trace");
		observe_trace_free(trace);
		return;
	}
	log_info("observe: trace capture done: %zu runs, %zu dropped, %zu bytes (%s)",
	    observe_trace_event_count(trace), observe_trace_dropped(trace), len,
	    stopped);
	http_response_header(request, "Content-Disposition",
	    "attachment; filename=\"temper-trace.json\"");
	http_respond(request, 200, "application/json", text, len);
	free(text);
	observe_trace_free(trace);
	observe->traces++;
}

static void
observe_capture_elapsed(uv_timer_t *timer)
{
	struct observe *observe = timer->data;
	uint64_t begin = observe_cpu_begin();

	observe_end_capture(observe, "time limit reached");
	observe_cpu_end(observe, begin);
}

static void
observe_handle_trace(struct http_request *request, void *arg)
{
	struct observe *observe = arg;
	char value[32], *end;
	unsigned long seconds, max_bytes = observe->options.trace_max_bytes;
	int error;

	if (observe->trace != NULL) {
		http_respond_error(request, 409, "a trace capture is already running "
		    "(%u s); one capture at a time", observe->trace_seconds);
		return;
	}
	if (observe->skel == NULL || !observe->handles_ready) {
		http_respond_error(request, 503, "tracing needs the placement BPF "
		    "program, which is not running%s%s",
		    observe->bpf_error ? ": " : "",
		    observe->bpf_error ? observe->bpf_error : "");
		return;
	}
	error = http_request_query_param(request, "seconds", value, sizeof value);
	if (error != 0) {
		http_respond_error(request, 400, "seconds=N (1 to %u) is required",
		    observe->options.trace_max_seconds);
		return;
	}
	errno = 0;
	seconds = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
	    seconds < 1 || seconds > observe->options.trace_max_seconds) {
		http_respond_error(request, 400, "seconds must be a whole number "
		    "from 1 to %u", observe->options.trace_max_seconds);
		return;
	}
	if (http_request_query_param(request, "max_bytes", value, sizeof value) == 0) {
		errno = 0;
		max_bytes = strtoul(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
		    max_bytes < OBSERVE_TRACE_MIN_BYTES ||
		    max_bytes > observe->options.trace_max_bytes) {
			http_respond_error(request, 400, "max_bytes must be from %d "
			    "to %zu", OBSERVE_TRACE_MIN_BYTES,
			    observe->options.trace_max_bytes);
			return;
		}
	}
	/* Whatever the ring holds now predates the capture. */
	observe_drain(observe);
	observe->trace = observe_trace_new(max_bytes,
	    observe_clock_ns(CLOCK_MONOTONIC));
	if (observe->trace == NULL) {
		http_respond_error(request, 500, "out of memory starting a trace");
		return;
	}
	observe->trace_request = request;
	observe->trace_seconds = (unsigned)seconds;
	observe->trace_ending = false;
	http_request_on_cancel(request, observe_capture_cancelled, observe);
	observe->skel->bss->capture = 1;
	uv_timer_start(&observe->trace_timer, observe_capture_elapsed,
	    seconds * 1000, 0);
	log_info("observe: trace capture started for %lu s, at most %lu bytes",
	    seconds, max_bytes);
}

/* The /observe document. */

static cJSON *
observe_latency_json(const struct observe_hist *hist)
{
	cJSON *json = cJSON_CreateObject();

	cJSON_AddNumberToObject(json, "count", (double)hist->count);
	cJSON_AddNumberToObject(json, "p50_us",
	    (double)observe_hist_quantile(hist, 0.5) / 1e3);
	cJSON_AddNumberToObject(json, "p99_us",
	    (double)observe_hist_quantile(hist, 0.99) / 1e3);
	cJSON_AddNumberToObject(json, "max_us", (double)hist->max_ns / 1e3);
	cJSON_AddNumberToObject(json, "mean_us", hist->count ?
	    (double)hist->sum_ns / (double)hist->count / 1e3 : 0);
	return json;
}

static char *
observe_cpus_text(const uint64_t *cpu_ns, unsigned cpu_limit, unsigned *count)
{
	struct observe_linter_cpus cpus = { { 0 } };

	for (unsigned cpu = 0; cpu < cpu_limit; cpu++)
		if (cpu_ns[cpu] != 0)
			observe_linter_cpus_set(&cpus, cpu);
	if (count != NULL)
		*count = observe_linter_cpus_count(&cpus);
	return observe_linter_cpus_format(&cpus);
}

static cJSON *
observe_totals_json(const struct observe *observe,
    const struct observe_totals *totals, const uint64_t *cpu_ns, uint64_t window_ns)
{
	cJSON *json = cJSON_CreateObject(), *spread;
	unsigned count = 0;
	char *list;

	cJSON_AddNumberToObject(json, "cpu_seconds", (double)totals->run_ns / 1e9);
	if (window_ns != 0)
		cJSON_AddNumberToObject(json, "cores", (double)totals->run_ns /
		    (double)window_ns);
	cJSON_AddNumberToObject(json, "runs", (double)totals->runs);
	cJSON_AddNumberToObject(json, "migrations", (double)totals->migrations);
	cJSON_AddItemToObject(json, "runqueue_latency",
	    observe_latency_json(&totals->wait));
	if (cpu_ns != NULL) {
		list = observe_cpus_text(cpu_ns, observe->cpu_limit, &count);
		spread = cJSON_AddObjectToObject(json, "spread");
		cJSON_AddNumberToObject(spread, "cpus", count);
		cJSON_AddStringToObject(spread, "list", list ? list : "");
		free(list);
	}
	return json;
}

static cJSON *
observe_pressure_json(const struct observe_psi *psi, bool valid, bool trigger,
    const char *reason, uint64_t fired)
{
	cJSON *json = cJSON_CreateObject(), *some;

	cJSON_AddStringToObject(json, "mode", trigger ? "trigger" : "periodic");
	if (!trigger && reason != NULL)
		cJSON_AddStringToObject(json, "why_periodic", reason);
	cJSON_AddNumberToObject(json, "triggers_fired", (double)fired);
	if (!valid)
		return json;
	some = cJSON_AddObjectToObject(json, "some");
	cJSON_AddNumberToObject(some, "avg10", psi->some.avg10);
	cJSON_AddNumberToObject(some, "avg60", psi->some.avg60);
	cJSON_AddNumberToObject(some, "avg300", psi->some.avg300);
	cJSON_AddNumberToObject(some, "total_us", (double)psi->some.total_us);
	if (psi->has_full) {
		cJSON *full = cJSON_AddObjectToObject(json, "full");

		cJSON_AddNumberToObject(full, "avg10", psi->full.avg10);
		cJSON_AddNumberToObject(full, "avg60", psi->full.avg60);
		cJSON_AddNumberToObject(full, "total_us", (double)psi->full.total_us);
	}
	return json;
}

static int
observe_thread_busier(const void *a, const void *b)
{
	const struct observe_thread *x = *(const struct observe_thread *const *)a;
	const struct observe_thread *y = *(const struct observe_thread *const *)b;

	if (x->window_ns != y->window_ns)
		return x->window_ns > y->window_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static cJSON *
observe_thread_json(struct observe *observe, const struct observe_thread *thread)
{
	const struct observe_group_state *group =
	    observe_find_group(observe, thread->value.group);
	struct observe_linter_cpus cpus = { { 0 } };
	cJSON *json = cJSON_CreateObject();
	char comm[OBSERVE_COMM_SIZE], *list;
	size_t i;

	for (i = 0; i + 1 < sizeof comm && thread->value.comm[i] != '\0'; i++)
		comm[i] = thread->value.comm[i] >= 0x20 && thread->value.comm[i] < 0x7f ?
		    thread->value.comm[i] : '?';
	comm[i] = '\0';
	for (unsigned cpu = 0; cpu < 64; cpu++)
		if ((thread->value.cpu_mask >> cpu) & 1)
			observe_linter_cpus_set(&cpus, cpu);
	list = observe_linter_cpus_format(&cpus);
	cJSON_AddNumberToObject(json, "tid", thread->tid);
	cJSON_AddNumberToObject(json, "tgid", thread->value.tgid);
	cJSON_AddStringToObject(json, "comm", comm);
	cJSON_AddStringToObject(json, "pod", group ? group->label : "");
	cJSON_AddStringToObject(json, "tier", observe_tier_label(group ? group->tier : -1));
	cJSON_AddNumberToObject(json, "cpu_seconds", (double)thread->window_ns / 1e9);
	if (observe->window_ns != 0)
		cJSON_AddNumberToObject(json, "cores", (double)thread->window_ns /
		    (double)observe->window_ns);
	cJSON_AddNumberToObject(json, "cpu_seconds_total",
	    (double)thread->value.run_ns / 1e9);
	cJSON_AddNumberToObject(json, "last_cpu", thread->value.last_cpu);
	cJSON_AddStringToObject(json, "cpus", list ? list : "");
	free(list);
	return json;
}

static cJSON *
observe_machine_json(const struct observe *observe)
{
	cJSON *json = cJSON_CreateObject();
	char *text;

	cJSON_AddNumberToObject(json, "possible_cpus", observe->cpu_limit);
	if (observe->topology == NULL)
		return json;
	cJSON_AddNumberToObject(json, "online_cpus", (double)observe->topology->cpu_count);
	cJSON_AddNumberToObject(json, "cores", (double)observe->topology->core_count);
	cJSON_AddNumberToObject(json, "threads_per_core",
	    observe->topology->threads_per_core);
	if ((text = topology_describe(observe->topology)) != NULL)
		cJSON_AddStringToObject(json, "shape", text);
	free(text);
	return json;
}

static cJSON *
observe_verdicts_json(const struct observe *observe)
{
	cJSON *json = cJSON_CreateObject(), *verdicts, *totals, *layout;

	cJSON_AddStringToObject(json, "checks", observe->enforcing ?
	    "enforced plan" : "planned placement");
	cJSON_AddStringToObject(json, "note", observe->plan == NULL ?
	    "no plan yet: nothing to lint" : observe->enforcing ?
	    "sched_ext enforces the plan: observed placement is checked against it" :
	    "sched_ext is not active: observed placement (under CFS) is "
	    "checked against the plan Temper would enforce");
	cJSON_AddNumberToObject(json, "runs", (double)observe->linter_runs);
	verdicts = cJSON_AddArrayToObject(json, "verdicts");
	for (size_t i = 0; i < observe->verdicts.count; i++) {
		const struct observe_verdict *verdict = &observe->verdicts.items[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "invariant",
		    observe_linter_invariant_name(verdict->invariant));
		cJSON_AddStringToObject(item, "subject", verdict->subject);
		cJSON_AddStringToObject(item, "detail", verdict->detail);
		cJSON_AddItemToArray(verdicts, item);
	}
	totals = cJSON_AddObjectToObject(json, "violations_total");
	for (int i = 0; i < OBSERVE_INVARIANT_COUNT; i++)
		cJSON_AddNumberToObject(totals,
		    observe_linter_invariant_name((enum observe_invariant)i),
		    (double)observe->violations_total[i]);
	if (!observe->layout_valid)
		return json;
	layout = cJSON_AddArrayToObject(json, "layout");
	for (size_t i = 0; i < observe->layout.layer_count; i++) {
		cJSON *item = cJSON_CreateObject();
		char *list = observe_linter_cpus_format(&observe->layout.allowed[i]);

		cJSON_AddStringToObject(item, "layer", observe->plan->layers[i].name);
		cJSON_AddStringToObject(item, "cpus", list ? list : "");
		cJSON_AddItemToArray(layout, item);
		free(list);
	}
	return json;
}

static cJSON *
observe_overhead_json(const struct observe *observe)
{
	cJSON *json = cJSON_CreateObject(), *bpf;
	uint64_t uptime = observe_clock_ns(CLOCK_MONOTONIC) - observe->started_ns;
	char enabled[8] = "0";
	FILE *file;

	cJSON_AddNumberToObject(json, "agent_cpu_seconds", (double)observe->own_cpu_ns / 1e9);
	cJSON_AddNumberToObject(json, "agent_core_share", uptime ?
	    (double)observe->own_cpu_ns / (double)uptime : 0);
	cJSON_AddNumberToObject(json, "agent_core_share_window", observe->window_ns ?
	    (double)observe->own_cpu_window_ns / (double)observe->window_ns : 0);
	bpf = cJSON_AddObjectToObject(json, "bpf");
	if ((file = fopen("/proc/sys/kernel/bpf_stats_enabled", "re")) != NULL) {
		if (fgets(enabled, sizeof enabled, file) == NULL)
			enabled[0] = '0';
		fclose(file);
	}
	cJSON_AddStringToObject(bpf, "stats", observe->stats_fd >= 0 ||
	    enabled[0] == '1' ? "enabled" : "disabled (set bpf_stats, or sysctl "
	    "kernel.bpf_stats_enabled=1)");
	cJSON_AddNumberToObject(bpf, "run_time_seconds", (double)observe->bpf_run_ns / 1e9);
	cJSON_AddNumberToObject(bpf, "run_count", (double)observe->bpf_run_count);
	cJSON_AddNumberToObject(bpf, "ns_per_event", observe->bpf_count_window ?
	    (double)observe->bpf_run_window_ns / (double)observe->bpf_count_window : 0);
	cJSON_AddNumberToObject(bpf, "core_share_window", observe->window_ns ?
	    (double)observe->bpf_run_window_ns / (double)observe->window_ns : 0);
	return json;
}

cJSON *
observe_report(struct observe *observe)
{
	cJSON *json = cJSON_CreateObject(), *bpf, *tiers, *pods, *cpus, *top,
	    *psi, *samples, *window;
	struct observe_thread **order = NULL;

	if (json == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	cJSON_AddItemToObject(json, "machine", observe_machine_json(observe));

	bpf = cJSON_AddObjectToObject(json, "bpf");
	cJSON_AddStringToObject(bpf, "state", observe->skel ? "running" :
	    observe->bpf_error ? "failed" : "off");
	if (observe->bpf_error != NULL)
		cJSON_AddStringToObject(bpf, "error", observe->bpf_error);
	cJSON_AddNumberToObject(bpf, "sample_every", observe->options.sample_every);
	cJSON_AddNumberToObject(bpf, "records", (double)observe->records);
	cJSON_AddNumberToObject(bpf, "records_refused", (double)observe->records_refused);
	cJSON_AddNumberToObject(bpf, "records_lost", (double)observe->records_lost);
	cJSON_AddNumberToObject(bpf, "smt_collisions", (double)observe->smt_collisions);
	cJSON_AddBoolToObject(bpf, "capturing", observe->trace != NULL);

	window = cJSON_AddObjectToObject(json, "window");
	cJSON_AddNumberToObject(window, "seconds", (double)observe->window_ns / 1e9);
	cJSON_AddNumberToObject(window, "ticks", (double)observe->ticks);
	cJSON_AddNumberToObject(window, "age_seconds",
	    (double)(observe_clock_ns(CLOCK_MONOTONIC) - observe->last_tick_ns) / 1e9);

	if (observe->thread_count > 0 &&
	    (order = calloc(observe->thread_count, sizeof *order)) != NULL) {
		for (size_t i = 0; i < observe->thread_count; i++)
			order[i] = &observe->threads[i];
		qsort(order, observe->thread_count, sizeof *order,
		    observe_thread_busier);
	}

	tiers = cJSON_AddArrayToObject(json, "tiers");
	for (int t = 0; t < OBSERVE_TIER_SLOTS; t++) {
		const struct observe_tier *tier = &observe->tiers[t];
		cJSON *item = cJSON_CreateObject(), *busy;
		size_t shown = 0;

		cJSON_AddStringToObject(item, "tier", observe_tier_label(t));
		cJSON_AddNumberToObject(item, "pods", (double)tier->pods);
		cJSON_AddItemToObject(item, "window", observe_totals_json(observe,
		    &tier->window, tier->cpu_window, observe->window_ns));
		cJSON_AddItemToObject(item, "total", observe_totals_json(observe,
		    &tier->total, NULL, 0));
		busy = cJSON_AddArrayToObject(item, "top_threads");
		for (size_t i = 0; order != NULL && i < observe->thread_count &&
		    shown < OBSERVE_TOP_PER_TIER; i++) {
			const struct observe_group_state *group =
			    observe_find_group(observe, order[i]->value.group);
			int thread_tier = group && group->tier >= 0 ? group->tier :
			    OBSERVE_UNATTRIBUTED;

			if (thread_tier != t || order[i]->window_ns == 0)
				continue;
			cJSON_AddItemToArray(busy, observe_thread_json(observe, order[i]));
			shown++;
		}
		cJSON_AddItemToArray(tiers, item);
	}

	pods = cJSON_AddArrayToObject(json, "pods");
	for (size_t i = 0; i < observe->group_count; i++) {
		const struct observe_group_state *group = observe->groups[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "uid", group->pod_uid ? group->pod_uid : "");
		cJSON_AddStringToObject(item, "namespace", group->namespace);
		cJSON_AddStringToObject(item, "name", group->name);
		cJSON_AddStringToObject(item, "tier", observe_tier_label(group->tier));
		cJSON_AddNumberToObject(item, "cgroup_id", (double)group->cgroup_id);
		if (group->cgroup != NULL)
			cJSON_AddStringToObject(item, "cgroup", group->cgroup);
		cJSON_AddItemToObject(item, "window", observe_totals_json(observe,
		    &group->window, group->cpu_window, observe->window_ns));
		cJSON_AddItemToObject(item, "total", observe_totals_json(observe,
		    &group->total, group->cpu_total, 0));
		cJSON_AddItemToObject(item, "psi", observe_pressure_json(&group->psi,
		    group->psi_valid, group->psi_watch != NULL,
		    group->cgroup == NULL ? "no cgroup path known" : group->psi_reason,
		    group->psi_fired));
		cJSON_AddItemToArray(pods, item);
	}

	cpus = cJSON_AddArrayToObject(json, "cpus");
	for (unsigned cpu = 0; cpu < observe->cpu_limit; cpu++) {
		cJSON *item = cJSON_CreateObject(), *ran;

		cJSON_AddNumberToObject(item, "cpu", cpu);
		cJSON_AddNumberToObject(item, "busy", observe->window_ns ?
		    (double)observe->cpu_busy_window[cpu] / (double)observe->window_ns : 0);
		cJSON_AddNumberToObject(item, "switches_per_second", observe->window_ns ?
		    (double)observe->cpu_switches_window[cpu] * 1e9 /
		    (double)observe->window_ns : 0);
		ran = cJSON_AddObjectToObject(item, "tiers");
		for (int t = 0; t < OBSERVE_TIER_SLOTS; t++)
			if (observe->tiers[t].cpu_window[cpu] != 0 && observe->window_ns)
				cJSON_AddNumberToObject(ran, observe_tier_label(t),
				    (double)observe->tiers[t].cpu_window[cpu] /
				    (double)observe->window_ns);
		cJSON_AddItemToArray(cpus, item);
	}

	top = cJSON_AddArrayToObject(json, "top_threads");
	for (size_t i = 0; order != NULL && i < observe->thread_count &&
	    i < observe->options.top_threads; i++)
		if (order[i]->window_ns != 0)
			cJSON_AddItemToArray(top, observe_thread_json(observe, order[i]));
	free(order);

	psi = cJSON_AddObjectToObject(json, "psi");
	cJSON_AddItemToObject(psi, "node", observe_pressure_json(&observe->node_psi,
	    observe->node_psi_valid, observe->node_watch != NULL,
	    observe->node_psi_reason, observe->node_psi_fired));
	cJSON_AddNumberToObject(psi, "trigger_stall_us", (double)observe->options.psi_stall_us);
	cJSON_AddNumberToObject(psi, "trigger_window_us", (double)observe->options.psi_window_us);

	cJSON_AddItemToObject(json, "linter", observe_verdicts_json(observe));

	samples = cJSON_AddArrayToObject(json, "samples");
	for (size_t i = 0; i < observe->recent_count; i++) {
		size_t at = (observe->recent_next + OBSERVE_RECENT -
		    observe->recent_count + i) % OBSERVE_RECENT;
		const struct observe_event *event = &observe->recent[at];
		const struct observe_group_state *group =
		    observe_find_group(observe, event->group);
		cJSON *item = cJSON_CreateObject();

		cJSON_AddNumberToObject(item, "tid", event->tid);
		cJSON_AddNumberToObject(item, "tgid", event->tgid);
		cJSON_AddStringToObject(item, "comm", event->comm);
		cJSON_AddStringToObject(item, "pod", group ? group->label : "");
		cJSON_AddNumberToObject(item, "cgroup_id", (double)event->cgroup_id);
		cJSON_AddNumberToObject(item, "cpu", event->cpu);
		cJSON_AddNumberToObject(item, "prev_cpu", event->prev_cpu);
		cJSON_AddNumberToObject(item, "run_us", (double)event->run_ns / 1e3);
		cJSON_AddNumberToObject(item, "latency_us", (double)event->latency_ns / 1e3);
		cJSON_AddItemToArray(samples, item);
	}
	cJSON_AddItemToObject(json, "overhead", observe_overhead_json(observe));
	return json;
}

static void
observe_handle_observe(struct http_request *request, void *arg)
{
	struct observe *observe = arg;
	uint64_t begin = observe_cpu_begin();
	cJSON *json = observe_report(observe);

	if (json == NULL)
		http_respond_error(request, 500, "out of memory building /observe");
	else
		http_respond_json(request, 200, json);
	cJSON_Delete(json);
	observe_cpu_end(observe, begin);
}

int
observe_register_routes(struct observe *observe, struct http_router *router)
{
	int error;

	if ((error = http_router_add(router, "GET", "/observe",
	    observe_handle_observe, observe)) != 0)
		return error;
	return http_router_add(router, "POST", "/api/v1/trace",
	    observe_handle_trace, observe);
}
