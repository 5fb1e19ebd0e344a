/* t/test-metrics.c - the registry and Prometheus text format 0.0.4. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "tap.h"

static const char *
render(struct metrics *metrics, struct buf *out)
{
	buf_reset(out);
	if (metrics_render(metrics, out) != 0)
		return "";
	return out->data ? out->data : "";
}

int
main(void)
{
	static const char *const route_code[] = { "route", "code", NULL };
	static const double buckets[] = { 0.1, 0.5, 1 };
	struct metrics *metrics = metrics_new();
	struct metric_family *counter, *gauge, *histogram;
	struct metric_series *series, *again;
	struct buf out = BUF_INIT;
	const char *text;

	counter = metrics_family(metrics, METRIC_COUNTER, "temper_test_requests_total",
	    "Requests.\nSecond line with a \\ backslash.", route_code, NULL, 0);
	ok(counter != NULL, "a labelled counter family registers");
	ok(metrics_family(metrics, METRIC_COUNTER, "temper_test_requests_total", "x",
	    route_code, NULL, 0) == counter, "registering the same name returns the first");
	errno = 0;
	ok(metrics_family(metrics, METRIC_GAUGE, "temper_test_requests_total", "x", NULL,
	    NULL, 0) == NULL && errno == EINVAL, "the same name with another type is refused");
	ok(metrics_family(metrics, METRIC_GAUGE, "9bad", "x", NULL, NULL, 0) == NULL,
	    "a name starting with a digit is refused");
	ok(metrics_family(metrics, METRIC_GAUGE, "temper_bad_label", "x",
	    (const char *const[]){ "a:b", NULL }, NULL, 0) == NULL,
	    "a label name with a colon is refused");
	ok(metrics_family(metrics, METRIC_HISTOGRAM, "temper_bad_buckets", "x", NULL,
	    (const double[]){ 1, 1 }, 2) == NULL, "buckets that do not ascend are refused");

	series = metrics_series(counter, (const char *const[]){ "/a\"b\\c\nd", "200" });
	again = metrics_series(counter, (const char *const[]){ "/a\"b\\c\nd", "200" });
	ok(series != NULL && series == again, "the same labels give the same series");
	metric_inc(series);
	metric_add(series, 2);

	gauge = metrics_family(metrics, METRIC_GAUGE, "temper_test_temperature", "A gauge.",
	    NULL, NULL, 0);
	metric_set(metrics_series0(gauge), -1.5);

	histogram = metrics_family(metrics, METRIC_HISTOGRAM, "temper_test_seconds",
	    "A histogram.", (const char *const[]){ "tier", NULL }, buckets, 3);
	series = metrics_series(histogram, (const char *const[]){ "critical" });
	metric_observe(series, 0.05);
	metric_observe(series, 0.1);
	metric_observe(series, 0.7);
	metric_observe(series, 3);
	is_int(metric_histogram_count(series), 4, "the histogram counts four observations");
	metric_observe_count(series, 0.3, 0);
	is_int(metric_histogram_count(series), 4, "observing a value zero times changes nothing");

	text = render(metrics, &out);
	ok(strstr(text, "# HELP temper_test_requests_total Requests.\\nSecond line with a \\\\ backslash.\n") != NULL,
	    "HELP escapes newline and backslash");
	ok(strstr(text, "# TYPE temper_test_requests_total counter\n") != NULL, "TYPE counter");
	ok(strstr(text, "temper_test_requests_total{route=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 3\n") != NULL,
	    "label values escape quote, backslash and newline");
	ok(strstr(text, "temper_test_temperature -1.5\n") != NULL, "a gauge without labels");
	ok(strstr(text, "temper_test_seconds_bucket{tier=\"critical\",le=\"0.1\"} 2\n") != NULL,
	    "an upper bound includes equal values, cumulative");
	ok(strstr(text, "temper_test_seconds_bucket{tier=\"critical\",le=\"0.5\"} 2\n") != NULL,
	    "an empty bucket repeats the cumulative count");
	ok(strstr(text, "temper_test_seconds_bucket{tier=\"critical\",le=\"1\"} 3\n") != NULL,
	    "the third bucket");
	ok(strstr(text, "temper_test_seconds_bucket{tier=\"critical\",le=\"+Inf\"} 4\n") != NULL,
	    "+Inf holds every observation");
	ok(strstr(text, "temper_test_seconds_sum{tier=\"critical\"} 3.85\n") != NULL, "the sum");
	ok(strstr(text, "temper_test_seconds_count{tier=\"critical\"} 4\n") != NULL, "the count");

	/* Values print exactly: shortest round-trip text, integers in full. */
	metric_set(metrics_series0(gauge), 0.1 + 0.2);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature 0.30000000000000004\n") != NULL,
	    "a gauge prints the digits that tell 0.1 + 0.2 from 0.3");
	metric_set(metrics_series0(gauge), 9007199254740992.0);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature 9007199254740992\n") != NULL,
	    "2^53 prints as an integer, no exponent");
	metric_set(metrics_series0(gauge), 0.0 / 0.0);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature NaN\n") != NULL, "NaN");
	metric_set(metrics_series0(gauge), -1.0 / 0.0);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature -Inf\n") != NULL, "-Inf");
	metric_set(metrics_series0(gauge), -1.5);

	/* A histogram without labels: no empty braces on _sum and _count. */
	series = metrics_series0(metrics_family(metrics, METRIC_HISTOGRAM, "temper_test_plain_seconds",
	    "A histogram without labels.", NULL, (const double[]){ 0.00001, 2.5 }, 2));
	metric_observe(series, 0.000003);
	metric_observe(series, 7);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_plain_seconds_bucket{le=\"1e-05\"} 1\n"
	    "temper_test_plain_seconds_bucket{le=\"2.5\"} 1\n"
	    "temper_test_plain_seconds_bucket{le=\"+Inf\"} 2\n"
	    "temper_test_plain_seconds_sum 7.000003\n"
	    "temper_test_plain_seconds_count 2\n") != NULL,
	    "an unlabelled histogram, bounds as %%g wrote them, in order");

	/* Rendering appends; the registry's own buffer is reused. */
	{
		struct buf prefix = BUF_INIT;
		const char *scraped, *again_text;
		size_t len, again_len;

		buf_puts(&prefix, "before\n");
		ok(metrics_render(metrics, &prefix) == 0 &&
		    strncmp(prefix.data, "before\n# HELP ", 14) == 0 &&
		    strlen(prefix.data) == prefix.len, "render appends to what the buffer holds");
		ok(metrics_scrape(metrics, &scraped, &len) == 0 && len == prefix.len - 7 &&
		    memcmp(scraped, prefix.data + 7, len) == 0,
		    "a scrape renders the same text");
		ok(metrics_scrape(metrics, &again_text, &again_len) == 0 &&
		    again_text == scraped && again_len == len,
		    "a second scrape reuses the buffer");
		buf_free(&prefix);
	}

	/* Many series: the text grows past what the last render reserved. */
	{
		struct metric_family *many = metrics_family(metrics, METRIC_COUNTER,
		    "temper_test_many_total", "Many series.",
		    (const char *const[]){ "n", NULL }, NULL, 0);
		char name[16];
		int found = 0;

		for (int i = 0; i < 2000; i++) {
			snprintf(name, sizeof name, "%d", i);
			metric_add(metrics_series(many, (const char *const[]){ name }), i);
		}
		text = render(metrics, &out);
		for (int i = 0; i < 2000; i += 97) {
			char line[64];

			snprintf(line, sizeof line, "temper_test_many_total{n=\"%d\"} %d\n", i, i);
			found += strstr(text, line) != NULL;
		}
		is_int(found, 21, "2,000 series render, each with its value");
		ok(strlen(text) == out.len, "... and the length is the text's");
		metrics_family_clear(many);
	}

	/*
	 * A series is formatted again only when its figures change: each
	 * render is the text of the current values, as a registry rendered
	 * for the first time would give it.
	 */
	{
		struct metrics *fresh;
		struct metric_series *twin_hist, *twin_gauge, *hist, *gauge0;
		struct buf fresh_out = BUF_INIT;
		static const double bounds[] = { 0.5, 1 };

		hist = metrics_series(metrics_family(metrics, METRIC_HISTOGRAM, "temper_test_memo_seconds",
		    "Rendered again.", (const char *const[]){ "k", NULL }, bounds, 2),
		    (const char *const[]){ "v" });
		gauge0 = metrics_series0(metrics_family(metrics, METRIC_GAUGE, "temper_test_memo_gauge",
		    "Zero and minus zero.", NULL, NULL, 0));
		metric_observe(hist, 0.25);
		text = render(metrics, &out);
		ok(strstr(text, "temper_test_memo_seconds_bucket{k=\"v\",le=\"0.5\"} 1\n") != NULL &&
		    strstr(text, "temper_test_memo_gauge 0\n") != NULL, "a histogram and a gauge, first render");
		metric_observe(hist, 0.75);
		metric_set(gauge0, -0.0);
		text = render(metrics, &out);
		ok(strstr(text, "temper_test_memo_seconds_bucket{k=\"v\",le=\"1\"} 2\n") != NULL &&
		    strstr(text, "temper_test_memo_seconds_sum{k=\"v\"} 1\n") != NULL &&
		    strstr(text, "temper_test_memo_gauge -0\n") != NULL,
		    "a new observation and -0 for 0 show in the next render");
		metric_set(gauge0, 0.0 / 0.0);
		render(metrics, &out);
		metric_set(gauge0, 0.0 / 0.0);
		text = render(metrics, &out);
		ok(strstr(text, "temper_test_memo_gauge NaN\n") != NULL, "NaN twice");

		/* The same figures in a registry never rendered before. */
		fresh = metrics_new();
		twin_hist = metrics_series(metrics_family(fresh, METRIC_HISTOGRAM, "temper_test_memo_seconds",
		    "Rendered again.", (const char *const[]){ "k", NULL }, bounds, 2),
		    (const char *const[]){ "v" });
		twin_gauge = metrics_series0(metrics_family(fresh, METRIC_GAUGE, "temper_test_memo_gauge",
		    "Zero and minus zero.", NULL, NULL, 0));
		metric_observe(twin_hist, 0.25);
		metric_observe(twin_hist, 0.75);
		metric_set(twin_gauge, 0.0 / 0.0);
		metrics_render(fresh, &fresh_out);
		ok(strstr(text, fresh_out.data) != NULL,
		    "... every render is the text a first render of the same figures gives");
		buf_free(&fresh_out);
		metrics_free(fresh);
	}

	metrics_register_process(metrics, "9.9.9");
	text = render(metrics, &out);
	ok(strstr(text, "temper_build_info{version=\"9.9.9\"} 1\n") != NULL, "build info");
	ok(strstr(text, "# TYPE temper_process_resident_memory_bytes gauge\n") != NULL &&
	    strstr(text, "temper_process_resident_memory_bytes 0\n") == NULL,
	    "process memory is collected at render time");
	{
		const char *fds = strstr(text, "\ntemper_process_open_fds ");
		DIR *dir = opendir("/proc/self/fd");
		int entries = 0;

		while (dir != NULL && readdir(dir) != NULL)
			entries++;
		if (dir != NULL)
			closedir(dir);
		/* ".", ".." and the directory's own descriptor. */
		ok(fds != NULL && atoi(fds + 25) == entries - 3,
		    "open descriptors: %d, as many as /proc/self/fd lists", fds ? atoi(fds + 25) : -1);
	}

	metrics_family_clear(gauge);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature -1.5") == NULL &&
	    strstr(text, "# TYPE temper_test_temperature gauge\n") != NULL,
	    "clearing a family drops its series and keeps its header");

	buf_free(&out);
	metrics_free(metrics);
	return done_testing();
}
