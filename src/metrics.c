/* metrics.c - a Prometheus metrics registry and its text exposition. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "number-format.h"

/*
 * Labels never change, so each series keeps the text of its lines up to
 * the value ("name{labels} "), made when the series is created: rendering
 * is then one copy and one number per line.
 */
struct metric_series {
	struct metric_series *next;
	const struct metric_family *family;
	char *values;		/* the label values, each NUL-terminated, back to back */
	double value;		/* counter or gauge; sum for a histogram */
	uint64_t count;		/* histogram observations */
	uint64_t *bucket_counts;	/* per bucket, not cumulative */
	char *text;		/* every line's text before its value */
	size_t text_len;
	size_t *line_ends;	/* histograms: where each line's text ends */
	/*
	 * The lines as the last render wrote them, and the figures they
	 * showed: a series whose figures have not changed since (most
	 * histograms, from one scrape to the next) is copied instead of
	 * formatted again.  Keyed by the figures themselves, never by time,
	 * the copy is always the text of the current values.
	 */
	char *rendered;
	size_t rendered_len;	/* 0 until the first render */
	uint64_t rendered_value;	/* the bits of value */
	uint64_t rendered_count;
};

struct metric_family {
	struct metric_family *next;
	enum metric_type type;
	char *name;
	char *header;		/* "# HELP ...\n# TYPE ...\n" */
	size_t header_len;
	char **label_names;
	size_t label_count;
	double *buckets;
	char **bucket_labels;	/* the bounds as rendered, formatted once */
	size_t bucket_count;
	struct metric_series *series;
	struct metric_series **series_tail;
};

struct metrics_process {
	int statm_fd;		/* /proc/self/statm, kept open, or -1 */
	int fd_dir;		/* /proc/self/fd (O_PATH), kept open, or -1 */
	long page_size;
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
	size_t render_len;	/* of the last render: the next one reserves it */
	struct buf scrape;	/* metrics_scrape's text, reused */
};

const double metrics_latency_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const size_t metrics_latency_bucket_count =
    sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

static const char *const metrics_type_names[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

struct metrics *
metrics_new(void)
{
	struct metrics *metrics;

	if ((metrics = calloc(1, sizeof *metrics)) == NULL)
		return NULL;
	metrics->families_tail = &metrics->families;
	metrics->process.statm_fd = -1;
	metrics->process.fd_dir = -1;
	return metrics;
}

static void
metrics_series_free(struct metric_series *series)
{
	free(series->values);
	free(series->bucket_counts);
	free(series->text);
	free(series->line_ends);
	free(series->rendered);
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
	free(family->header);
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
	if (metrics->process.statm_fd >= 0)
		close(metrics->process.statm_fd);
	if (metrics->process.fd_dir >= 0)
		close(metrics->process.fd_dir);
	free(metrics->collectors);
	buf_free(&metrics->scrape);
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

/* Label values escape backslash, double quote and newline; help text the first two. */
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

struct metric_family *
metrics_family(struct metrics *metrics, enum metric_type type,
    const char *name, const char *help, const char *const *label_names,
    const double *buckets, size_t bucket_count)
{
	struct metric_family *family;
	struct buf header = BUF_INIT;
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
	family->label_names = calloc(label_count + 1, sizeof *family->label_names);
	if (family->name == NULL || family->label_names == NULL)
		goto fail;
	if (buf_printf(&header, "# HELP %s ", name) != 0 ||
	    metrics_escape(&header, help, true) != 0 ||
	    buf_printf(&header, "\n# TYPE %s %s\n", name, metrics_type_names[type]) != 0)
		goto fail;
	family->header_len = header.len;
	family->header = buf_detach(&header);
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
			char bound[NUMBER_FORMAT_MAX];

			number_format_double(bound, buckets[i]);
			if ((family->bucket_labels[i] = strdup(bound)) == NULL)
				goto fail;
		}
	}
	*metrics->families_tail = family;
	metrics->families_tail = &family->next;
	return family;
fail:
	buf_free(&header);
	metrics_family_free(family);
	errno = ENOMEM;
	return NULL;
}

/* Do label_values name this series?  No allocation: hot paths look up too. */
static bool
metrics_series_matches(const struct metric_series *series,
    const char *const *label_values)
{
	const char *stored = series->values;

	for (size_t i = 0; i < series->family->label_count; i++) {
		const char *value = label_values[i] ? label_values[i] : "";

		if (strcmp(stored, value) != 0)
			return false;
		stored += strlen(stored) + 1;
	}
	return true;
}

/*
 * The text of each line before its value.  A counter or gauge has one
 * line, "name{labels} "; a histogram one per bucket, then +Inf, _sum and
 * _count.
 */
static int
metrics_series_text(struct metric_series *series, const char *labels)
{
	const struct metric_family *family = series->family;
	const char *open = labels[0] != '\0' ? "{" : "", *close = labels[0] != '\0' ? "}" : "";
	const char *sep = labels[0] != '\0' ? "," : "";
	struct buf text = BUF_INIT;
	size_t line = 0;
	int error = 0;

	if (family->type != METRIC_HISTOGRAM) {
		if ((error = buf_printf(&text, "%s%s%s%s ", family->name, open, labels, close)) != 0)
			return error;
		series->text_len = text.len;
		series->text = buf_detach(&text);
		return 0;
	}
	series->line_ends = calloc(family->bucket_count + 3, sizeof *series->line_ends);
	if (series->line_ends == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= family->bucket_count && error == 0; i++) {
		error = buf_printf(&text, "%s_bucket{%s%sle=\"%s\"} ", family->name, labels, sep,
		    i < family->bucket_count ? family->bucket_labels[i] : "+Inf");
		series->line_ends[line++] = text.len;
	}
	if (error == 0)
		error = buf_printf(&text, "%s_sum%s%s%s ", family->name, open, labels, close);
	series->line_ends[line++] = text.len;
	if (error == 0)
		error = buf_printf(&text, "%s_count%s%s%s ", family->name, open, labels, close);
	series->line_ends[line++] = text.len;
	if (error != 0) {
		buf_free(&text);
		return error;
	}
	series->text_len = text.len;
	series->text = buf_detach(&text);
	return 0;
}

struct metric_series *
metrics_series(struct metric_family *family, const char *const *label_values)
{
	struct buf labels = BUF_INIT, values = BUF_INIT;
	struct metric_series *series;

	for (series = family->series; series != NULL; series = series->next) {
		if (metrics_series_matches(series, label_values))
			return series;
	}
	if ((series = calloc(1, sizeof *series)) == NULL)
		goto fail;
	series->family = family;
	for (size_t i = 0; i < family->label_count; i++) {
		const char *value = label_values[i] ? label_values[i] : "";

		if (buf_printf(&labels, "%s%s=\"", i ? "," : "", family->label_names[i]) != 0 ||
		    metrics_escape(&labels, value, false) != 0 ||
		    buf_puts(&labels, "\"") != 0 ||
		    buf_append(&values, value, strlen(value) + 1) != 0)
			goto fail;
	}
	if ((labels.data == NULL && buf_reserve(&labels, 0) != 0) ||
	    (values.data == NULL && buf_reserve(&values, 0) != 0))
		goto fail;
	if (family->type == METRIC_HISTOGRAM && family->bucket_count > 0) {
		series->bucket_counts = calloc(family->bucket_count, sizeof *series->bucket_counts);
		if (series->bucket_counts == NULL)
			goto fail;
	}
	if (metrics_series_text(series, labels.data) != 0)
		goto fail;
	series->values = buf_detach(&values);
	buf_free(&labels);
	*family->series_tail = series;
	family->series_tail = &series->next;
	return series;
fail:
	if (series != NULL)
		metrics_series_free(series);
	buf_free(&labels);
	buf_free(&values);
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

/*
 * Buckets count their own observations; rendering makes them cumulative.
 * count changes whenever a bucket does: the rendered copy relies on it.
 */
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

/* Room for a series' lines: each value (or "NaN", "+Inf") fits in NUMBER_FORMAT_MAX. */
static size_t
metrics_series_room(const struct metric_series *series)
{
	const struct metric_family *family = series->family;

	return series->text_len + NUMBER_FORMAT_MAX *
	    (family->type == METRIC_HISTOGRAM ? family->bucket_count + 3 : 1);
}

/* Format a series' lines at p, which has room for them; returns their end. */
static char *
metrics_format_series(const struct metric_series *series, char *p)
{
	const struct metric_family *family = series->family;
	uint64_t cumulative = 0;
	size_t start = 0;

	if (family->type != METRIC_HISTOGRAM) {
		memcpy(p, series->text, series->text_len);
		p += series->text_len;
		p += number_format_double(p, series->value);
		*p++ = '\n';
		return p;
	}
	/* The buckets (cumulative), +Inf, _sum and _count. */
	for (size_t line = 0; line < family->bucket_count + 3; line++) {
		size_t end = series->line_ends[line];

		memcpy(p, series->text + start, end - start);
		p += end - start;
		start = end;
		if (line < family->bucket_count) {
			cumulative += series->bucket_counts[line];
			p += number_format_u64(p, cumulative);
		} else if (line == family->bucket_count + 1) {
			p += number_format_double(p, series->value);
		} else {
			p += number_format_u64(p, series->count);
		}
		*p++ = '\n';
	}
	return p;
}

/* Write a series' lines at p: a copy of the last ones if its figures are the same. */
static char *
metrics_render_series(struct metric_series *series, char *p)
{
	uint64_t value;
	char *start = p;

	memcpy(&value, &series->value, sizeof value);
	if (series->rendered_len > 0 && value == series->rendered_value &&
	    series->count == series->rendered_count) {
		memcpy(p, series->rendered, series->rendered_len);
		return p + series->rendered_len;
	}
	p = metrics_format_series(series, p);
	/* Without room to keep them, the lines are formatted every time. */
	if (series->rendered == NULL)
		series->rendered = malloc(metrics_series_room(series));
	if (series->rendered != NULL) {
		series->rendered_len = (size_t)(p - start);
		memcpy(series->rendered, start, series->rendered_len);
		series->rendered_value = value;
		series->rendered_count = series->count;
	}
	return p;
}

int
metrics_render(struct metrics *metrics, struct buf *out)
{
	const struct metric_family *family;
	struct metric_series *series;
	size_t start = out->len;
	int error;

	for (size_t i = 0; i < metrics->collector_count; i++)
		metrics->collectors[i].collect(metrics, metrics->collectors[i].arg);

	/* One allocation in the usual case: the text is as long as last time. */
	if ((error = buf_reserve(out, metrics->render_len)) != 0)
		return error;
	for (family = metrics->families; family != NULL; family = family->next) {
		if (out->cap - out->len <= family->header_len &&
		    (error = buf_reserve(out, family->header_len)) != 0)
			return error;
		memcpy(out->data + out->len, family->header, family->header_len);
		out->len += family->header_len;
		for (series = family->series; series != NULL; series = series->next) {
			size_t room = metrics_series_room(series);
			char *end;

			if (out->cap - out->len <= room && (error = buf_reserve(out, room)) != 0)
				return error;
			end = metrics_render_series(series, out->data + out->len);
			out->len = (size_t)(end - out->data);
		}
	}
	out->data[out->len] = '\0';
	metrics->render_len = out->len - start;
	return 0;
}

int
metrics_scrape(struct metrics *metrics, const char **text, size_t *len)
{
	int error;

	buf_reset(&metrics->scrape);
	if ((error = metrics_render(metrics, &metrics->scrape)) != 0)
		return error;
	*text = metrics->scrape.data;
	*len = metrics->scrape.len;
	return 0;
}

/* Entries of /proc/self/fd, for kernels that do not report the count. */
static int
metrics_count_fds(void)
{
	DIR *fds;
	int count = 0;

	if ((fds = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (readdir(fds) != NULL)
		count++;
	closedir(fds);
	/* ".", ".." and the directory's own descriptor. */
	return count - 3;
}

/*
 * Fresh at every scrape, and cheap: CPU time and the descriptor limit are
 * system calls; memory is one read of /proc/self/statm through a
 * descriptor kept open (a read at offset 0 makes the kernel write it
 * anew); the number of open descriptors is the size Linux (6.2 and later)
 * reports for /proc/self/fd, also through a descriptor kept open, with the
 * directory counted entry by entry where that size is 0.
 */
static void
metrics_collect_process(struct metrics *metrics, void *arg)
{
	struct metrics_process *process = arg;
	struct rusage usage;
	struct rlimit limit;
	struct stat fd_dir;
	char statm[128], *end;
	ssize_t len;
	int open_fds;

	(void)metrics;
	if (getrusage(RUSAGE_SELF, &usage) == 0)
		metric_set(process->cpu,
		    (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
		    (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
	if (process->statm_fd >= 0 &&
	    (len = pread(process->statm_fd, statm, sizeof statm - 1, 0)) > 0) {
		unsigned long long pages_virtual, pages_resident;

		statm[len] = '\0';
		pages_virtual = strtoull(statm, &end, 10);
		pages_resident = strtoull(end, &end, 10);
		if (*end == ' ') {
			metric_set(process->virtual_memory,
			    (double)pages_virtual * process->page_size);
			metric_set(process->resident,
			    (double)pages_resident * process->page_size);
		}
	}
	if (process->fd_dir >= 0 && fstat(process->fd_dir, &fd_dir) == 0 && fd_dir.st_size > 0)
		open_fds = (int)fd_dir.st_size;
	else
		open_fds = metrics_count_fds();
	if (open_fds >= 0)
		metric_set(process->open_fds, open_fds);
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

	process->page_size = sysconf(_SC_PAGESIZE);
	if (process->statm_fd < 0)
		process->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (process->fd_dir < 0)
		process->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);

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
