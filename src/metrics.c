/* metrics.c - a Prometheus metrics registry and its text exposition. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"

struct metric_series {
	struct metric_series *next;
	const struct metric_family *family;
	char *labels;		/* rendered: name="value",... (escaped), "" for none */
	double value;		/* counter or gauge; sum for a histogram */
	uint64_t count;		/* histogram observations */
	uint64_t *bucket_counts;	/* per bucket, not cumulative */
};

struct metric_family {
	struct metric_family *next;
	enum metric_type type;
	char *name;
	char *help;
	char **label_names;
	size_t label_count;
	double *buckets;
	char **bucket_labels;	/* the bounds as rendered, formatted once */
	size_t bucket_count;
	struct metric_series *series;
	struct metric_series **series_tail;
};

struct metrics_process {
	struct timespec collected;	/* when /proc was last read */
	struct metric_series *cpu;
	struct metric_series *resident;
	struct metric_series *virtual_memory;
	struct metric_series *open_fds;
	struct metric_series *max_fds;
	struct metric_series *start_time;
};

struct metrics_collector {
	metrics_collect_fn collect;
	void *arg;
};

struct metrics {
	struct metric_family *families;
	struct metric_family **families_tail;
	struct metrics_collector *collectors;
	size_t collector_count;
	struct metrics_process process;
};

const double metrics_latency_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const size_t metrics_latency_bucket_count =
    sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

static int metrics_format_double(struct buf *out, double value);

struct metrics *
metrics_new(void)
{
	struct metrics *metrics;

	if ((metrics = calloc(1, sizeof *metrics)) == NULL)
		return NULL;
	metrics->families_tail = &metrics->families;
	return metrics;
}

static void
metrics_series_free(struct metric_series *series)
{
	free(series->labels);
	free(series->bucket_counts);
	free(series);
}

void
metrics_family_clear(struct metric_family *family)
{
	struct metric_series *series, *next;

	for (series = family->series; series != NULL; series = next) {
		next = series->next;
		metrics_series_free(series);
	}
	family->series = NULL;
	family->series_tail = &family->series;
}

static void
metrics_family_free(struct metric_family *family)
{
	metrics_family_clear(family);
	for (size_t i = 0; i < family->label_count; i++)
		free(family->label_names[i]);
	free(family->label_names);
	for (size_t i = 0; family->bucket_labels != NULL && i < family->bucket_count; i++)
		free(family->bucket_labels[i]);
	free(family->bucket_labels);
	free(family->buckets);
	free(family->name);
	free(family->help);
	free(family);
}

void
metrics_free(struct metrics *metrics)
{
	struct metric_family *family, *next;

	if (metrics == NULL)
		return;
	for (family = metrics->families; family != NULL; family = next) {
		next = family->next;
		metrics_family_free(family);
	}
	free(metrics->collectors);
	free(metrics);
}

int
metrics_add_collector(struct metrics *metrics, metrics_collect_fn collect,
    void *arg)
{
	struct metrics_collector *collectors;

	collectors = realloc(metrics->collectors,
	    (metrics->collector_count + 1) * sizeof *collectors);
	if (collectors == NULL)
		return -ENOMEM;
	collectors[metrics->collector_count].collect = collect;
	collectors[metrics->collector_count].arg = arg;
	metrics->collectors = collectors;
	metrics->collector_count++;
	return 0;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, no ':' for labels. */
static bool
metrics_valid_name(const char *name, bool label)
{
	if (name == NULL || *name == '\0' || isdigit((unsigned char)*name))
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && (label || *p != ':'))
			return false;
	}
	return true;
}

struct metric_family *
metrics_family(struct metrics *metrics, enum metric_type type,
    const char *name, const char *help, const char *const *label_names,
    const double *buckets, size_t bucket_count)
{
	struct metric_family *family;
	size_t label_count = 0;

	for (family = metrics->families; family != NULL; family = family->next) {
		if (strcmp(family->name, name) == 0) {
			if (family->type != type) {
				errno = EINVAL;
				return NULL;
			}
			return family;
		}
	}
	if (!metrics_valid_name(name, false)) {
		errno = EINVAL;
		return NULL;
	}
	while (label_names != NULL && label_names[label_count] != NULL) {
		if (!metrics_valid_name(label_names[label_count], true) ||
		    (type == METRIC_HISTOGRAM && strcmp(label_names[label_count], "le") == 0)) {
			errno = EINVAL;
			return NULL;
		}
		label_count++;
	}
	for (size_t i = 1; i < bucket_count; i++) {
		if (!(buckets[i] > buckets[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	}
	if ((family = calloc(1, sizeof *family)) == NULL)
		return NULL;
	family->type = type;
	family->series_tail = &family->series;
	family->name = strdup(name);
	family->help = strdup(help);
	family->label_names = calloc(label_count + 1, sizeof *family->label_names);
	if (family->name == NULL || family->help == NULL || family->label_names == NULL)
		goto fail;
	for (size_t i = 0; i < label_count; i++) {
		if ((family->label_names[i] = strdup(label_names[i])) == NULL)
			goto fail;
		family->label_count++;
	}
	if (type == METRIC_HISTOGRAM && bucket_count > 0) {
		family->buckets = malloc(bucket_count * sizeof *buckets);
		family->bucket_labels = calloc(bucket_count, sizeof *family->bucket_labels);
		if (family->buckets == NULL || family->bucket_labels == NULL)
			goto fail;
		memcpy(family->buckets, buckets, bucket_count * sizeof *buckets);
		family->bucket_count = bucket_count;
		for (size_t i = 0; i < bucket_count; i++) {
			struct buf label = BUF_INIT;

			if (metrics_format_double(&label, buckets[i]) != 0)
				goto fail;
			family->bucket_labels[i] = buf_detach(&label);
		}
	}
	*metrics->families_tail = family;
	metrics->families_tail = &family->next;
	return family;
fail:
	metrics_family_free(family);
	errno = ENOMEM;
	return NULL;
}

/* Label values escape backslash, double quote and newline. */
static int
metrics_escape(struct buf *out, const char *value, bool help)
{
	int error = 0;

	for (const char *p = value; *p != '\0' && error == 0; p++) {
		if (*p == '\\')
			error = buf_puts(out, "\\\\");
		else if (*p == '\n')
			error = buf_puts(out, "\\n");
		else if (*p == '"' && !help)
			error = buf_puts(out, "\\\"");
		else
			error = buf_append(out, p, 1);
	}
	return error;
}

struct metric_series *
metrics_series(struct metric_family *family, const char *const *label_values)
{
	struct buf labels = BUF_INIT;
	struct metric_series *series;

	for (size_t i = 0; i < family->label_count; i++) {
		if (buf_printf(&labels, "%s%s=\"", i ? "," : "", family->label_names[i]) != 0 ||
		    metrics_escape(&labels, label_values[i] ? label_values[i] : "", false) != 0 ||
		    buf_puts(&labels, "\"") != 0)
			goto fail;
	}
	if (labels.data == NULL && buf_reserve(&labels, 0) != 0)
		goto fail;
	for (series = family->series; series != NULL; series = series->next) {
		if (strcmp(series->labels, labels.data) == 0) {
			buf_free(&labels);
			return series;
		}
	}
	if ((series = calloc(1, sizeof *series)) == NULL)
		goto fail;
	if (family->type == METRIC_HISTOGRAM && family->bucket_count > 0) {
		series->bucket_counts = calloc(family->bucket_count, sizeof *series->bucket_counts);
		if (series->bucket_counts == NULL) {
			free(series);
			goto fail;
		}
	}
	series->family = family;
	series->labels = buf_detach(&labels);
	*family->series_tail = series;
	family->series_tail = &series->next;
	return series;
fail:
	buf_free(&labels);
	errno = ENOMEM;
	return NULL;
}

struct metric_series *
metrics_series0(struct metric_family *family)
{
	return metrics_series(family, NULL);
}

void
metric_inc(struct metric_series *series)
{
	if (series != NULL)
		series->value += 1;
}

void
metric_add(struct metric_series *series, double value)
{
	if (series != NULL)
		series->value += value;
}

void
metric_set(struct metric_series *series, double value)
{
	if (series != NULL)
		series->value = value;
}

/* Buckets count their own observations; rendering makes them cumulative. */
void
metric_observe_count(struct metric_series *series, double value, uint64_t count)
{
	const struct metric_family *family;

	if (series == NULL || count == 0)
		return;
	family = series->family;
	for (size_t i = 0; i < family->bucket_count; i++) {
		if (value <= family->buckets[i]) {
			series->bucket_counts[i] += count;
			break;
		}
	}
	series->count += count;
	series->value += value * (double)count;
}

void
metric_observe(struct metric_series *series, double value)
{
	metric_observe_count(series, value, 1);
}

double
metric_value(const struct metric_series *series)
{
	return series->value;
}

uint64_t
metric_histogram_count(const struct metric_series *series)
{
	return series->count;
}

static int
metrics_format_double(struct buf *out, double value)
{
	if (isnan(value))
		return buf_puts(out, "NaN");
	if (isinf(value))
		return buf_puts(out, value > 0 ? "+Inf" : "-Inf");
	if (value == (double)(int64_t)value && fabs(value) < 1e15)
		return buf_printf(out, "%lld", (long long)value);
	return buf_printf(out, "%.15g", value);
}

static int
metrics_render_histogram(const struct metric_family *family,
    const struct metric_series *series, struct buf *out)
{
	const char *sep = series->labels[0] != '\0' ? "," : "";
	uint64_t cumulative = 0;
	int error = 0;

	for (size_t i = 0; i < family->bucket_count && error == 0; i++) {
		cumulative += series->bucket_counts[i];
		error = buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", family->name,
		    series->labels, sep, family->bucket_labels[i],
		    (unsigned long long)cumulative);
	}
	if (error == 0)
		error = buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", family->name,
		    series->labels, sep, (unsigned long long)series->count);
	if (error == 0)
		error = buf_printf(out, "%s_sum%s%s%s ", family->name,
		    series->labels[0] ? "{" : "", series->labels, series->labels[0] ? "}" : "");
	if (error == 0)
		error = metrics_format_double(out, series->value);
	if (error == 0)
		error = buf_printf(out, "\n%s_count%s%s%s %llu\n", family->name,
		    series->labels[0] ? "{" : "", series->labels, series->labels[0] ? "}" : "",
		    (unsigned long long)series->count);
	return error;
}

int
metrics_render(struct metrics *metrics, struct buf *out)
{
	static const char *const type_names[] = {
		[METRIC_COUNTER] = "counter",
		[METRIC_GAUGE] = "gauge",
		[METRIC_HISTOGRAM] = "histogram",
	};
	const struct metric_family *family;
	const struct metric_series *series;
	int error = 0;

	for (size_t i = 0; i < metrics->collector_count; i++)
		metrics->collectors[i].collect(metrics, metrics->collectors[i].arg);

	for (family = metrics->families; family != NULL && error == 0; family = family->next) {
		error = buf_printf(out, "# HELP %s ", family->name);
		if (error == 0)
			error = metrics_escape(out, family->help, true);
		if (error == 0)
			error = buf_printf(out, "\n# TYPE %s %s\n", family->name,
			    type_names[family->type]);
		for (series = family->series; series != NULL && error == 0; series = series->next) {
			if (family->type == METRIC_HISTOGRAM) {
				error = metrics_render_histogram(family, series, out);
				continue;
			}
			if (series->labels[0] != '\0')
				error = buf_printf(out, "%s{%s} ", family->name, series->labels);
			else
				error = buf_printf(out, "%s ", family->name);
			if (error == 0)
				error = metrics_format_double(out, series->value);
			if (error == 0)
				error = buf_puts(out, "\n");
		}
	}
	return error;
}

static void
metrics_collect_process(struct metrics *metrics, void *arg)
{
	struct metrics_process *process = arg;
	struct rusage usage;
	struct rlimit limit;
	unsigned long pages_virtual = 0, pages_resident = 0;
	long page_size = sysconf(_SC_PAGESIZE);
	FILE *statm;
	DIR *fds;
	int open_fds = 0;
	struct timespec now;

	(void)metrics;
	/*
	 * Reading /proc costs more than rendering everything else; a scrape
	 * storm re-reads it at most every 100 ms.
	 */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (process->collected.tv_sec != 0 &&
	    (now.tv_sec - process->collected.tv_sec) * 1000 +
	    (now.tv_nsec - process->collected.tv_nsec) / 1000000 < 100)
		return;
	process->collected = now;
	if (getrusage(RUSAGE_SELF, &usage) == 0)
		metric_set(process->cpu,
		    (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
		    (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
	if ((statm = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(statm, "%lu %lu", &pages_virtual, &pages_resident) == 2) {
			metric_set(process->virtual_memory, (double)pages_virtual * page_size);
			metric_set(process->resident, (double)pages_resident * page_size);
		}
		fclose(statm);
	}
	if ((fds = opendir("/proc/self/fd")) != NULL) {
		while (readdir(fds) != NULL)
			open_fds++;
		closedir(fds);
		/* ".", ".." and the directory's own descriptor. */
		metric_set(process->open_fds, open_fds - 3);
	}
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
		metric_set(process->max_fds, (double)limit.rlim_cur);
}

void
metrics_register_process(struct metrics *metrics, const char *version)
{
	static const char *const version_label[] = { "version", NULL };
	const char *version_value[] = { version, NULL };
	struct metrics_process *process = &metrics->process;
	struct timespec now;

	process->cpu = metrics_series0(metrics_family(metrics, METRIC_COUNTER,
	    "temper_process_cpu_seconds_total",
	    "User and system CPU time spent by the process, in seconds.", NULL, NULL, 0));
	process->resident = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_process_resident_memory_bytes", "Resident memory size in bytes.",
	    NULL, NULL, 0));
	process->virtual_memory = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_process_virtual_memory_bytes", "Virtual memory size in bytes.",
	    NULL, NULL, 0));
	process->open_fds = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_process_open_fds", "Number of open file descriptors.", NULL, NULL, 0));
	process->max_fds = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_process_max_fds", "Maximum number of open file descriptors.",
	    NULL, NULL, 0));
	process->start_time = metrics_series0(metrics_family(metrics, METRIC_GAUGE,
	    "temper_process_start_time_seconds",
	    "Start time of the process since the Unix epoch, in seconds.", NULL, NULL, 0));
	clock_gettime(CLOCK_REALTIME, &now);
	metric_set(process->start_time, (double)now.tv_sec);
	metric_set(metrics_series(metrics_family(metrics, METRIC_GAUGE, "temper_build_info",
	    "Always 1; the version of temperd in a label.", version_label, NULL, 0),
	    version_value), 1);
	metrics_add_collector(metrics, metrics_collect_process, process);
}
