/*
 * metrics.h - a Prometheus metrics registry and its text exposition (0.0.4).
 *
 * Pure: families and series in memory, rendered into a buffer on demand.
 * Names are given in full ("temper_http_requests_total").  Hot paths keep
 * the series pointer they got once; lookups by labels are for cold paths.
 */
#ifndef TEMPER_METRICS_H
#define TEMPER_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct metrics;
struct metric_family;
struct metric_series;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

/* Called before each render so gauges read from the system are fresh. */
typedef void (*metrics_collect_fn)(struct metrics *metrics, void *arg);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *metrics);

int metrics_add_collector(struct metrics *metrics, metrics_collect_fn collect,
    void *arg);

/*
 * Register a family; registering the same name twice returns the first.
 * label_names is a NULL-terminated list (NULL for none).  Histograms take
 * their upper bounds, ascending, without +Inf.  NULL with errno on error
 * (EINVAL for a bad name or a type clash).
 */
struct metric_family *metrics_family(struct metrics *metrics,
    enum metric_type type, const char *name, const char *help,
    const char *const *label_names, const double *buckets, size_t bucket_count);

/* The series for these label values (as many as the family has names). */
struct metric_series *metrics_series(struct metric_family *family,
    const char *const *label_values);
/* Convenience for families without labels. */
struct metric_series *metrics_series0(struct metric_family *family);

/* Remove every series of a family (for gauges re-filled by a collector). */
void metrics_family_clear(struct metric_family *family);

void metric_inc(struct metric_series *series);
void metric_add(struct metric_series *series, double value);
void metric_set(struct metric_series *series, double value);
void metric_observe(struct metric_series *series, double value);
/* count observations of one value at once (pre-bucketed sources, BPF). */
void metric_observe_count(struct metric_series *series, double value,
    uint64_t count);

double metric_value(const struct metric_series *series);
uint64_t metric_histogram_count(const struct metric_series *series);

/* Render every family in registration order, appended to out. 0 or -ENOMEM. */
int metrics_render(struct metrics *metrics, struct buf *out);
/*
 * Render into the registry's own buffer, kept from one scrape to the next
 * so a scrape allocates nothing; *text stays valid until the next call.
 */
int metrics_scrape(struct metrics *metrics, const char **text, size_t *len);

/* Default buckets for request latencies in seconds (100 µs .. 10 s). */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_bucket_count;

/* The process figures every role exports (temper_process_*). */
void metrics_register_process(struct metrics *metrics, const char *version);

#endif
