/*
 * temperctl-top.c - `temperctl top`: a live terminal view of the tiers, their
 * runqueue latency and the busiest threads, from /api/v1/status,
 * /api/v1/pods and /observe (when the agent serves it).
 *
 * Plain ANSI escapes, no curses: the view is a page redrawn on a timer into
 * the alternate screen, and the only key is q.  A failed poll is shown on the
 * screen and retried at the next refresh; the view never exits on its own
 * unless --iterations says so.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "temperctl.h"
#include "tier.h"

#define TEMPERCTL_TOP_DEFAULT_INTERVAL_MS 2000
#define TEMPERCTL_TOP_MIN_INTERVAL_MS 100
#define TEMPERCTL_TOP_BUSY_THREADS 10
/* Threads /observe may list in all (a few per tier); more are ignored. */
#define TEMPERCTL_TOP_MAX_THREADS 256

static volatile sig_atomic_t temperctl_top_stop;

static void
temperctl_top_on_signal(int signal_number)
{
	(void)signal_number;
	temperctl_top_stop = 1;
}

struct temperctl_top_view {
	struct temperctl *ctl;
	struct termios saved;
	bool raw;			/* stdin in non-canonical mode */
	bool screen;			/* in the alternate screen */
	unsigned rows, columns;
	struct buf page;
	cJSON *status, *pods, *observe;
	char *status_error, *pods_error, *observe_error;
	bool status_missing, observe_missing;
};

static void
temperctl_top_terminal_size(struct temperctl_top_view *top)
{
	struct winsize size;

	top->rows = 24;
	top->columns = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0) {
		top->rows = size.ws_row;
		top->columns = size.ws_col;
	}
}

static void
temperctl_top_terminal_enter(struct temperctl_top_view *top)
{
	struct termios raw;

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &top->saved) == 0) {
		raw = top->saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		top->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	if (isatty(STDOUT_FILENO)) {
		/* The alternate screen keeps the user's scrollback intact. */
		fputs("\033[?1049h\033[?25l", stdout);
		top->screen = true;
	}
}

static void
temperctl_top_terminal_leave(struct temperctl_top_view *top)
{
	if (top->screen)
		fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (top->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &top->saved);
}

/* GET path quietly: the view shows failures itself. */
static cJSON *
temperctl_top_fetch(struct temperctl_top_view *top, const char *path, char **error, bool *missing)
{
	struct api_response response;
	char *cause = NULL;
	cJSON *json = NULL, *reason;
	int failed;

	free(*error);
	*error = NULL;
	if (missing != NULL)
		*missing = false;
	failed = api_client_request(top->ctl->client, "GET", path, NULL, NULL, 0, &response, &cause);
	if (failed != 0) {
		*error = cause ? cause : strdup(strerror(-failed));
		api_response_free(&response);
		return NULL;
	}
	free(cause);
	json = cJSON_ParseWithLength(response.body.data ? response.body.data : "", response.body.len);
	if (response.status < 200 || response.status > 299) {
		reason = cJSON_GetObjectItemCaseSensitive(json, "error");
		if (missing != NULL && (response.status == 405 || (response.status == 404 &&
		    cJSON_IsString(reason) && strncmp(reason->valuestring, "no such path", 12) == 0)))
			*missing = true;
		if (asprintf(error, "GET %s answered %d: %s", path, response.status,
		    cJSON_IsString(reason) ? reason->valuestring : "(no reason given)") < 0)
			*error = NULL;
		cJSON_Delete(json);
		json = NULL;
	} else if (json == NULL && asprintf(error, "GET %s answered with something that is "
	    "not JSON", path) < 0) {
		*error = NULL;
	}
	api_response_free(&response);
	return json;
}

static void
temperctl_top_poll(struct temperctl_top_view *top)
{
	cJSON_Delete(top->status);
	cJSON_Delete(top->pods);
	cJSON_Delete(top->observe);
	top->status = temperctl_top_fetch(top, "/api/v1/status", &top->status_error,
	    &top->status_missing);
	top->pods = temperctl_top_fetch(top, "/api/v1/pods", &top->pods_error, NULL);
	top->observe = temperctl_top_fetch(top, "/observe", &top->observe_error, &top->observe_missing);
}

static const char *
temperctl_top_string(const cJSON *object, const char *name, const char *fallback)
{
	const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));

	return value ? value : fallback;
}

static double
temperctl_top_number(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* One line of the page, cut at the terminal's width. */
__attribute__((format(printf, 2, 3)))
static void
temperctl_top_line(struct temperctl_top_view *top, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	len = strlen(line);
	if (len > top->columns)
		len = top->columns;
	buf_append(&top->page, line, len);
	/* Erase what a longer line of the last page left behind. */
	buf_puts(&top->page, top->screen ? "\033[K\n" : "\n");
}

/* qsort: more cores first, then the lower thread id. */
static int
temperctl_top_thread_busier(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	double cx = temperctl_top_number(x, "cores"), cy = temperctl_top_number(y, "cores");

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return temperctl_top_number(x, "tid") < temperctl_top_number(y, "tid") ? -1 :
	    temperctl_top_number(x, "tid") > temperctl_top_number(y, "tid");
}

/* The /observe entry of a tier, or NULL. */
static const cJSON *
temperctl_top_observed_tier(const struct temperctl_top_view *top, const char *tier)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(top->observe, "tiers"))
		if (strcmp(temperctl_top_string(item, "tier", ""), tier) == 0)
			return item;
	return NULL;
}

static void
temperctl_top_render(struct temperctl_top_view *top)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(top->status, "plan");
	const cJSON *safe = cJSON_GetObjectItemCaseSensitive(top->status, "safe_mode");
	const cJSON *enforcement = cJSON_GetObjectItemCaseSensitive(top->status, "enforcement");
	const cJSON *pod, *tier_item, *thread, *busy[TEMPERCTL_TOP_MAX_THREADS];
	size_t busy_count = 0;
	char when[16] = "", layers[256];
	time_t now = time(NULL);
	struct tm tm;
	unsigned shown = 0;

	buf_reset(&top->page);
	if (top->screen)
		buf_puts(&top->page, "\033[H");
	if (localtime_r(&now, &tm) != NULL)
		strftime(when, sizeof when, "%H:%M:%S", &tm);
	temperctl_top_line(top, "temperctl top - %s - node %s - %s   (q quits)",
	    api_client_address(top->ctl->client), temperctl_top_string(top->status, "node", "?"), when);
	if (top->status == NULL) {
		temperctl_top_line(top, "agent: %s",
		    top->status_error ? top->status_error : "no answer");
	} else {
		temperctl_top_line(top, "plan generation %.0f, %.0f pods, membership %s; safe mode %s; "
		    "enforcement %s", temperctl_top_number(plan, "generation"),
		    temperctl_top_number(plan, "pods"),
		    temperctl_top_string(plan, "membership", "?"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(safe, "active")) ? "ON" : "off",
		    temperctl_top_string(enforcement, "state", "?"));
	}
	if (top->observe == NULL)
		temperctl_top_line(top, "observation: %s", top->observe_missing ?
		    "not served by this agent (GET /observe: no such path); latency unknown" :
		    top->observe_error ? top->observe_error : "none yet");
	else
		temperctl_top_line(top, "observation: BPF %s, window %.1f s",
		    temperctl_top_string(cJSON_GetObjectItemCaseSensitive(top->observe, "bpf"),
		    "state", "?"),
		    temperctl_top_number(cJSON_GetObjectItemCaseSensitive(top->observe, "window"),
		    "seconds"));
	temperctl_top_line(top, "%s", "");
	temperctl_top_line(top, "%-11s %5s %9s  %-18s %7s %9s %9s", "TIER", "PODS", "REQUEST", "LAYERS",
	    "CORES", "P50 us", "P99 us");
	for (int t = 0; t < TIER_COUNT; t++) {
		const char *name = tier_name((enum tier)t);
		const cJSON *observed = temperctl_top_observed_tier(top, name);
		const cJSON *window = cJSON_GetObjectItemCaseSensitive(observed, "window");
		const cJSON *latency = cJSON_GetObjectItemCaseSensitive(window, "runqueue_latency");
		double request = 0;
		unsigned pods = 0;
		size_t used = 0;
		char p50[16] = "-", p99[16] = "-", cores[16] = "-";

		layers[0] = '\0';
		cJSON_ArrayForEach(pod, top->pods) {
			const char *layer = temperctl_top_string(pod, "layer", NULL);

			if (strcmp(temperctl_top_string(pod, "tier", ""), name) != 0)
				continue;
			pods++;
			request += temperctl_top_number(pod, "cpu_request_millis");
			/* A tier may span layers (high, high-2); list each once. */
			if (layer != NULL && !strstr(layers, layer) && used + strlen(layer) + 2 <
			    sizeof layers)
				used += (size_t)snprintf(layers + used, sizeof layers - used, "%s%s",
				    used ? "," : "", layer);
		}
		/* An agent without /api/v1/pods still counts its tiers' pods in /observe. */
		if (top->pods == NULL && observed != NULL)
			pods = (unsigned)temperctl_top_number(observed, "pods");
		if (observed != NULL) {
			snprintf(cores, sizeof cores, "%.2f", temperctl_top_number(window, "cores"));
			if (temperctl_top_number(latency, "count") > 0) {
				snprintf(p50, sizeof p50, "%.0f",
				    temperctl_top_number(latency, "p50_us"));
				snprintf(p99, sizeof p99, "%.0f",
				    temperctl_top_number(latency, "p99_us"));
			}
		}
		temperctl_top_line(top, "%-11s %5u %8.0fm  %-18s %7s %9s %9s", name, pods, request,
		    layers[0] ? layers : "-", cores, p50, p99);
	}
	temperctl_top_line(top, "%s", "");
	temperctl_top_line(top, "BUSY THREADS");
	temperctl_top_line(top, "%8s  %-16s %-10s %6s  %s", "TID", "COMM", "TIER", "CORES", "POD");
	/* /observe lists the busiest threads per tier; the view ranks them all. */
	cJSON_ArrayForEach(tier_item, cJSON_GetObjectItemCaseSensitive(top->observe, "tiers"))
		cJSON_ArrayForEach(thread, cJSON_GetObjectItemCaseSensitive(tier_item, "top_threads"))
			if (busy_count < TEMPERCTL_TOP_MAX_THREADS)
				busy[busy_count++] = thread;
	qsort(busy, busy_count, sizeof *busy, temperctl_top_thread_busier);
	for (size_t i = 0; i < busy_count && shown < TEMPERCTL_TOP_BUSY_THREADS; i++, shown++)
		temperctl_top_line(top, "%8.0f  %-16s %-10s %6.2f  %s",
		    temperctl_top_number(busy[i], "tid"), temperctl_top_string(busy[i], "comm", "?"),
		    temperctl_top_string(busy[i], "tier", "?"),
		    temperctl_top_number(busy[i], "cores"), temperctl_top_string(busy[i], "pod", ""));
	if (shown == 0)
		temperctl_top_line(top, "%8s  %s", "", top->observe ? "(no thread ran in the window)" :
		    "(needs /observe)");
	temperctl_top_line(top, "%s", "");
	temperctl_top_line(top, "%-40s %-11s %-12s %8s", "POD", "TIER", "LAYER", "REQUEST");
	if (top->pods == NULL)
		temperctl_top_line(top, "%s", top->pods_error ? top->pods_error : "(no pods)");
	cJSON_ArrayForEach(pod, top->pods) {
		char name[512];

		snprintf(name, sizeof name, "%s/%s", temperctl_top_string(pod, "namespace", "?"),
		    temperctl_top_string(pod, "name", "?"));
		temperctl_top_line(top, "%-40s %-11s %-12s %7.0fm", name,
		    temperctl_top_string(pod, "tier", "?"),
		    temperctl_top_string(pod, "layer", "(none)"),
		    temperctl_top_number(pod, "cpu_request_millis"));
	}
	if (top->screen)
		buf_puts(&top->page, "\033[J");
}

/* Print the page, cut to the terminal's height. */
static void
temperctl_top_show(struct temperctl_top_view *top)
{
	size_t len = 0;
	unsigned lines = 0;

	if (!top->screen) {
		fwrite(top->page.data, 1, top->page.len, stdout);
		fflush(stdout);
		return;
	}
	while (len < top->page.len && lines < top->rows - 1) {
		if (top->page.data[len++] == '\n')
			lines++;
	}
	fwrite(top->page.data, 1, len, stdout);
	fputs("\033[J", stdout);
	fflush(stdout);
}

static void
temperctl_top_print_json(struct temperctl_top_view *top)
{
	cJSON *json = cJSON_CreateObject();
	char *printed;

	cJSON_AddItemToObject(json, "status", top->status ? cJSON_Duplicate(top->status, true) :
	    cJSON_CreateNull());
	cJSON_AddItemToObject(json, "pods", top->pods ? cJSON_Duplicate(top->pods, true) :
	    cJSON_CreateNull());
	cJSON_AddItemToObject(json, "observe", top->observe ? cJSON_Duplicate(top->observe, true) :
	    cJSON_CreateNull());
	if (top->status_error != NULL)
		cJSON_AddStringToObject(json, "error", top->status_error);
	printed = cJSON_PrintUnformatted(json);
	if (printed != NULL)
		puts(printed);
	fflush(stdout);
	free(printed);
	cJSON_Delete(json);
}

/* Wait for the interval or the q key; true when the view should end. */
static bool
temperctl_top_wait(struct temperctl_top_view *top, unsigned interval_ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec start, now;
	char key;
	long elapsed;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (temperctl_top_stop)
			return true;
		if (elapsed >= (long)interval_ms)
			return false;
		if (!top->raw) {
			struct timespec nap = { 0, 50 * 1000000L };

			nanosleep(&nap, NULL);
			continue;
		}
		if (poll(&pfd, 1, (int)(interval_ms - elapsed)) > 0) {
			if (read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
				return true;
			if (pfd.revents & (POLLHUP | POLLERR))
				top->raw = false;
		}
	}
}

int
temperctl_top(struct temperctl *ctl, int argc, char **argv)
{
	struct temperctl_top_view top = { .ctl = ctl };
	struct sigaction action = { .sa_handler = temperctl_top_on_signal };
	unsigned long interval = TEMPERCTL_TOP_DEFAULT_INTERVAL_MS, iterations = 0, done = 0;
	int code;

	(void)argv;
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no operands");
	if (ctl->args.interval != NULL && (!temperctl_parse_unsigned(ctl->args.interval,
	    3600000, &interval) || interval < TEMPERCTL_TOP_MIN_INTERVAL_MS))
		return temperctl_usage_error(ctl, "--interval wants milliseconds, at least %d",
		    TEMPERCTL_TOP_MIN_INTERVAL_MS);
	if (ctl->args.iterations != NULL && (!temperctl_parse_unsigned(ctl->args.iterations,
	    1000000, &iterations) || iterations == 0))
		return temperctl_usage_error(ctl, "--iterations wants a positive number");
	if ((code = temperctl_connect(ctl)) != 0)
		return code;
	/*
	 * Refuse to start a view of nothing: the first poll must reach the
	 * agent, and it must serve its status or its observations.
	 */
	temperctl_top_poll(&top);
	if (top.status == NULL && top.observe == NULL) {
		code = top.status_missing && top.observe_missing ? TEMPERCTL_EXIT_UNSUPPORTED :
		    top.status_error && strstr(top.status_error, "answered") ?
		    TEMPERCTL_EXIT_AGENT_ERROR : TEMPERCTL_EXIT_UNREACHABLE;
		temperctl_fail(code, "top: %s (agent at %s)", top.status_error ? top.status_error :
		    "no status from the agent", api_client_address(ctl->client));
		goto out;
	}
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
	if (!ctl->args.json)
		temperctl_top_terminal_enter(&top);
	for (;;) {
		if (ctl->args.json) {
			temperctl_top_print_json(&top);
		} else {
			temperctl_top_terminal_size(&top);
			temperctl_top_render(&top);
			temperctl_top_show(&top);
		}
		if (iterations != 0 && ++done >= iterations)
			break;
		if (temperctl_top_wait(&top, (unsigned)interval))
			break;
		temperctl_top_poll(&top);
	}
	temperctl_top_terminal_leave(&top);
	code = TEMPERCTL_EXIT_OK;
out:
	buf_free(&top.page);
	cJSON_Delete(top.status);
	cJSON_Delete(top.pods);
	cJSON_Delete(top.observe);
	free(top.status_error);
	free(top.pods_error);
	free(top.observe_error);
	return code;
}
