/* t/test-metrics.c - the registry and Prometheus text format 0.0.4. */
#include "config.h"

#include <errno.h>
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

	metrics_register_process(metrics, "9.9.9");
	text = render(metrics, &out);
	ok(strstr(text, "temper_build_info{version=\"9.9.9\"} 1\n") != NULL, "build info");
	ok(strstr(text, "# TYPE temper_process_resident_memory_bytes gauge\n") != NULL &&
	    strstr(text, "temper_process_resident_memory_bytes 0\n") == NULL,
	    "process memory is collected at render time");

	metrics_family_clear(gauge);
	text = render(metrics, &out);
	ok(strstr(text, "temper_test_temperature -1.5") == NULL &&
	    strstr(text, "# TYPE temper_test_temperature gauge\n") != NULL,
	    "clearing a family drops its series and keeps its header");

	buf_free(&out);
	metrics_free(metrics);
	return done_testing();
}
