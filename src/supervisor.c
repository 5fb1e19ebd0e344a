/* supervisor.c - scx_layered on the loop: gate, lifecycle, hints, statistics. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backoff.h"
#include "buf.h"
#include "generations.h"
#include "hint-map.h"
#include "log.h"
#include "metrics.h"
#include "planner.h"
#include "scx-gate.h"
#include "supervisor.h"

#define SUPERVISOR_OUTPUT_LINES 8
#define SUPERVISOR_LINE_MAX 512
#define SUPERVISOR_STATS_LINE_MAX (1024 * 1024)
#define SUPERVISOR_WATCH_MS 1000	/* sysfs check while enforcing */

static const char *const supervisor_state_names[SUPERVISOR_STATE_COUNT] = {
	"off", "observe", "waiting", "starting", "enforcing", "restarting",
	"backoff", "stood-down", "safe-mode",
};

static const double supervisor_gap_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

/* One scx_layered process and the pipes carrying its output. */
struct supervisor_child {
	struct supervisor *supervisor;
	uv_process_t process;
	uv_pipe_t out;
	uv_pipe_t err;
	unsigned handles_open;		/* closes still to come */
	unsigned streams_open;		/* pipes before their EOF */
	bool exited;
	int64_t exit_status;
	int term_signal;
	bool asked_to_stop;
	bool timed_out;			/* never attached within attach_timeout_ms */
	int pid;
	uint64_t started_ms;
	long long spawn_seq;		/* enable_seq when spawned, or -1 */
	uint64_t generation;
	struct buf partial[2];		/* an unfinished line per stream */
};

struct supervisor {
	uv_loop_t *loop;
	struct supervisor_options options;
	char *scheduler_bin, *exec_helper, *state_dir, *sysfs_root;
	char *kernel_release, *hint_pin_path, *stats_path;
	char **extra_args;
	char *config_path;

	enum supervisor_state state;
	char *reason;
	struct scx_gate_input gate_input;
	struct scx_gate gate;

	/* The newest generation and the plan's hints. */
	uint64_t generation;
	uint64_t running_generation;
	bool have_config;
	unsigned plan_hints[PLANNER_MAX_LAYERS];
	size_t plan_hint_count;

	/* Hints: the agent's list and what the table holds. */
	struct hint_map *hints;
	char *hint_error;
	uint64_t *cgroup_ids;
	enum tier *cgroup_tiers;
	size_t cgroup_count;
	struct hint_map_entry *pushed;
	size_t pushed_count;
	uint64_t hint_updates;
	uint64_t hint_last_set_ns;	/* the last table update with its sweep */

	/* The scheduler. */
	struct supervisor_child *child;
	unsigned children_open;
	bool restart_pending;
	uint64_t stop_sent_ms;		/* SIGTERM of a restart: the gap starts */
	bool gap_pending;
	double last_gap_seconds;	/* -1: none yet */
	double last_attach_seconds;	/* spawn to attached, -1: none yet */
	uint64_t attached_ms;
	bool stable;
	char output[SUPERVISOR_OUTPUT_LINES][SUPERVISOR_LINE_MAX];
	unsigned output_next;
	/* The current child's "Error:" line and what "Caused by:" said, kept
	 * apart: a Rust backtrace after them would push them out of output. */
	char error_line[SUPERVISOR_LINE_MAX];
	char cause_line[SUPERVISOR_LINE_MAX];
	bool cause_next;
	char *last_exit;
	uint64_t *crash_times;		/* the last crash_limit crashes, ring */
	unsigned crash_next;
	uint64_t crashes;
	uint64_t restarts;
	struct backoff backoff;
	bool safe_mode;

	uv_timer_t poll_timer;		/* sysfs: attached yet? still attached? */
	uv_timer_t retry_timer;		/* backoff */
	uv_timer_t kill_timer;		/* SIGKILL after stop_timeout_ms */
	uv_timer_t stats_timer;
	unsigned handles_open;

	/* scx_stats client. */
	uv_pipe_t stats_pipe;
	uv_connect_t stats_connect;
	uv_write_t stats_write;
	bool stats_open;		/* the pipe handle is initialised */
	bool stats_connected;
	bool stats_waiting;		/* a request is out */
	struct buf stats_in;
	struct supervisor_layer_stats *layers;
	size_t layer_count;
	uint64_t stats_ms;

	bool stopping;
	void (*done)(void *arg);
	void *done_arg;

	struct metric_series *state_series[SUPERVISOR_STATE_COUNT];
	struct metric_series *restarts_series;
	struct metric_series *crashes_series;
	struct metric_series *gap_series;
	struct metric_series *hint_updates_series;
};

static void supervisor_spawn(struct supervisor *supervisor);
static void supervisor_stats_close(struct supervisor *supervisor);
static void supervisor_timer_closed(uv_handle_t *handle);
static void supervisor_check_stopped(struct supervisor *supervisor);

static uint64_t
supervisor_now_ms(const struct supervisor *supervisor)
{
	return uv_now(supervisor->loop);
}

const char *
supervisor_state_name(enum supervisor_state state)
{
	return state < SUPERVISOR_STATE_COUNT ? supervisor_state_names[state] : "unknown";
}

enum supervisor_state
supervisor_state(const struct supervisor *supervisor)
{
	return supervisor->state;
}

const char *
supervisor_reason(const struct supervisor *supervisor)
{
	return supervisor->reason != NULL ? supervisor->reason : "";
}

int
supervisor_pid(const struct supervisor *supervisor)
{
	return supervisor->child != NULL && !supervisor->child->exited ?
	    supervisor->child->pid : 0;
}

__attribute__((format(printf, 3, 4)))
static void
supervisor_set_state(struct supervisor *supervisor, enum supervisor_state state,
    const char *fmt, ...)
{
	char *reason = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (state != supervisor->state || (reason != NULL && supervisor->reason != NULL &&
	    strcmp(reason, supervisor->reason) != 0)) {
		if (state == SUPERVISOR_STOOD_DOWN || state == SUPERVISOR_OBSERVE)
			log_warn("scheduler supervisor: %s -> %s: %s",
			    supervisor_state_name(supervisor->state),
			    supervisor_state_name(state), reason != NULL ? reason : "");
		else
			log_info("scheduler supervisor: %s -> %s%s%s",
			    supervisor_state_name(supervisor->state),
			    supervisor_state_name(state),
			    reason != NULL && *reason ? ": " : "", reason != NULL ? reason : "");
	}
	free(supervisor->reason);
	supervisor->reason = reason;
	supervisor->state = state;
	for (int i = 0; i < SUPERVISOR_STATE_COUNT; i++)
		if (supervisor->state_series[i] != NULL)
			metric_set(supervisor->state_series[i], i == (int)state);
}

/* ---------------------------------------------------------------- pure */

size_t
supervisor_plan_hints(const struct plan *plan, unsigned *hints, size_t max)
{
	size_t count = 0;

	for (size_t l = 0; plan != NULL && l < plan->layer_count; l++)
		for (size_t m = 0; m < plan->layers[l].match_count; m++) {
			unsigned hint = plan->layers[l].matches[m].hint;
			bool seen = false;

			if (plan->layers[l].matches[m].kind != PLAN_MATCH_HINT_EQUALS)
				continue;
			for (size_t i = 0; i < count; i++)
				seen |= hints[i] == hint;
			if (!seen && count < max)
				hints[count++] = hint;
		}
	return count;
}

void
supervisor_layer_stats_free(struct supervisor_layer_stats *layers, size_t count)
{
	for (size_t i = 0; layers != NULL && i < count; i++)
		free(layers[i].name);
	free(layers);
}

static int
supervisor_compare_layers(const void *a, const void *b)
{
	return strcmp(((const struct supervisor_layer_stats *)a)->name,
	    ((const struct supervisor_layer_stats *)b)->name);
}

static double
supervisor_json_number(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
	    item->valuedouble >= 0 ? item->valuedouble : 0;
}

int
supervisor_parse_stats(const char *line, struct supervisor_layer_stats **layers,
    size_t *count)
{
	const cJSON *errno_item, *response, *layer_map, *layer;
	struct supervisor_layer_stats *out = NULL;
	cJSON *root;
	size_t n = 0, capacity;
	int error = 0;

	*layers = NULL;
	*count = 0;
	if ((root = cJSON_Parse(line)) == NULL)
		return -EINVAL;
	errno_item = cJSON_GetObjectItemCaseSensitive(root, "errno");
	response = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "args"), "resp");
	layer_map = cJSON_GetObjectItemCaseSensitive(response, "layers");
	if (!cJSON_IsNumber(errno_item) || errno_item->valueint != 0 ||
	    !cJSON_IsObject(layer_map)) {
		error = -EINVAL;
		goto out;
	}
	capacity = (size_t)cJSON_GetArraySize(layer_map);
	if (capacity > 0 && (out = calloc(capacity, sizeof *out)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(layer, layer_map) {
		if (!cJSON_IsObject(layer) || layer->string == NULL || n >= capacity)
			continue;
		if ((out[n].name = strdup(layer->string)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
		out[n].util = supervisor_json_number(layer, "util");
		out[n].tasks = (uint64_t)supervisor_json_number(layer, "tasks");
		out[n].cpus = (unsigned)supervisor_json_number(layer, "cur_nr_cpus");
		out[n].min_cpus = (unsigned)supervisor_json_number(layer, "min_nr_cpus");
		out[n].max_cpus = (unsigned)supervisor_json_number(layer, "max_nr_cpus");
		n++;
	}
	if (n > 0)
		qsort(out, n, sizeof *out, supervisor_compare_layers);
	*layers = out;
	*count = n;
	out = NULL;
out:
	supervisor_layer_stats_free(out, n);
	cJSON_Delete(root);
	return error;
}

/* ------------------------------------------------------------- hints */

static int
supervisor_compare_entries(const void *a, const void *b)
{
	const struct hint_map_entry *x = a, *y = b;

	return x->cgroup_id < y->cgroup_id ? -1 : x->cgroup_id > y->cgroup_id;
}

/* The table the agent's list and the plan's layers call for, pushed when
 * it differs from the last one. */
static int
supervisor_push_hints(struct supervisor *supervisor)
{
	struct hint_map_entry *table;
	size_t count = 0, changed = 0;
	struct timespec t0, t1;
	char *cause = NULL;
	int error;

	if (supervisor->hints == NULL)
		return 0;
	table = calloc(supervisor->cgroup_count + 1, sizeof *table);
	if (table == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < supervisor->cgroup_count; i++) {
		unsigned hint = planner_tier_hint(supervisor->cgroup_tiers[i]);
		bool mapped = false;

		for (size_t h = 0; h < supervisor->plan_hint_count; h++)
			mapped |= supervisor->plan_hints[h] == hint;
		if (mapped)
			table[count++] = (struct hint_map_entry){
				supervisor->cgroup_ids[i], hint };
	}
	qsort(table, count, sizeof *table, supervisor_compare_entries);
	/* Count what moved: entries new or changed, entries gone. */
	for (size_t i = 0, j = 0; i < count || j < supervisor->pushed_count;) {
		if (j == supervisor->pushed_count || (i < count &&
		    table[i].cgroup_id < supervisor->pushed[j].cgroup_id)) {
			changed++, i++;
		} else if (i == count || table[i].cgroup_id > supervisor->pushed[j].cgroup_id) {
			changed++, j++;
		} else {
			changed += table[i].hint != supervisor->pushed[j].hint;
			i++, j++;
		}
	}
	if (changed == 0 && supervisor->hint_error == NULL) {
		free(table);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	error = hint_map_set(supervisor->hints, table, count, &cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (error != 0) {
		log_warn("scheduler supervisor: hint table update failed: %s; "
		    "retrying with the next pod list", cause != NULL ? cause : strerror(-error));
		free(supervisor->hint_error);
		supervisor->hint_error = cause;
		free(table);
		return error;
	}
	free(supervisor->hint_error);
	supervisor->hint_error = NULL;
	free(supervisor->pushed);
	supervisor->pushed = table;
	supervisor->pushed_count = count;
	supervisor->hint_updates += changed;
	supervisor->hint_last_set_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	if (supervisor->hint_updates_series != NULL)
		metric_add(supervisor->hint_updates_series, (double)changed);
	log_debug("scheduler supervisor: hint table: %zu cgroups, %zu changed, %.3f ms",
	    count, changed, supervisor->hint_last_set_ns / 1e6);
	return 0;
}

int
supervisor_set_cgroup_tiers(struct supervisor *supervisor,
    const uint64_t *cgroup_ids, const enum tier *tiers, size_t count)
{
	uint64_t *ids = NULL;
	enum tier *copy = NULL;

	if (count > HINT_MAX_CGROUPS)
		return -E2BIG;
	if (count > 0 && ((ids = malloc(count * sizeof *ids)) == NULL ||
	    (copy = malloc(count * sizeof *copy)) == NULL)) {
		free(ids);
		return -ENOMEM;
	}
	if (count > 0) {
		memcpy(ids, cgroup_ids, count * sizeof *ids);
		memcpy(copy, tiers, count * sizeof *copy);
	}
	free(supervisor->cgroup_ids);
	free(supervisor->cgroup_tiers);
	supervisor->cgroup_ids = ids;
	supervisor->cgroup_tiers = copy;
	supervisor->cgroup_count = count;
	return supervisor_push_hints(supervisor);
}

/* ------------------------------------------------------ the process */

/*
 * Keep a line of the scheduler's output.  scx_layered's logger colours its
 * lines even into a pipe: the escape sequences (ESC [ ... final byte) are
 * dropped, and so are other control characters, before the log sees them.
 */
static void
supervisor_remember_line(struct supervisor *supervisor, const char *line, size_t len)
{
	char *slot = supervisor->output[supervisor->output_next];
	size_t out = 0;

	for (size_t i = 0; i < len && out < SUPERVISOR_LINE_MAX - 1; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == 0x1b && i + 1 < len && line[i + 1] == '[') {
			for (i += 2; i < len && !((unsigned char)line[i] >= 0x40 &&
			    (unsigned char)line[i] <= 0x7e); i++)
				;
			continue;
		}
		if (c < 0x20 && c != '\t')
			continue;
		slot[out++] = (char)c;
	}
	slot[out] = '\0';
	supervisor->output_next = (supervisor->output_next + 1) % SUPERVISOR_OUTPUT_LINES;
	if (supervisor->cause_next) {
		const char *text = slot + strspn(slot, " \t");

		supervisor->cause_next = false;
		snprintf(supervisor->cause_line, sizeof supervisor->cause_line, "%s", text);
	} else if (strncmp(slot, "Caused by:", 10) == 0) {
		supervisor->cause_next = true;
	} else if (strncmp(slot, "Error:", 6) == 0 || strstr(slot, "EXIT:") != NULL ||
	    strstr(slot, "panicked") != NULL) {
		snprintf(supervisor->error_line, sizeof supervisor->error_line, "%s", slot);
	}
	log_info("scx_layered: %s", slot);
}

/* The most telling words of the last output: its "Error:" line with what
 * "Caused by:" added, or else the last line. */
static const char *
supervisor_last_words(struct supervisor *supervisor)
{
	static char words[2 * SUPERVISOR_LINE_MAX + 8];
	unsigned last = (supervisor->output_next + SUPERVISOR_OUTPUT_LINES - 1) %
	    SUPERVISOR_OUTPUT_LINES;

	if (supervisor->error_line[0] != '\0' && supervisor->cause_line[0] != '\0')
		snprintf(words, sizeof words, "%s: %s", supervisor->error_line,
		    supervisor->cause_line);
	else if (supervisor->error_line[0] != '\0')
		snprintf(words, sizeof words, "%s", supervisor->error_line);
	else if (supervisor->output[last][0] != '\0')
		snprintf(words, sizeof words, "%s", supervisor->output[last]);
	else
		snprintf(words, sizeof words, "(no output)");
	return words;
}

static void
supervisor_child_closed(uv_handle_t *handle)
{
	struct supervisor_child *child = handle->data;
	struct supervisor *supervisor = child->supervisor;

	if (--child->handles_open > 0)
		return;
	buf_free(&child->partial[0]);
	buf_free(&child->partial[1]);
	free(child);
	supervisor->children_open--;
	supervisor_check_stopped(supervisor);
}

static void
supervisor_check_stopped(struct supervisor *supervisor)
{
	if (supervisor->stopping && supervisor->children_open == 0 &&
	    supervisor->handles_open == 0 && supervisor->done != NULL) {
		void (*done)(void *) = supervisor->done;

		supervisor->done = NULL;
		done(supervisor->done_arg);
	}
}

static unsigned
supervisor_crashes_in_window(const struct supervisor *supervisor, uint64_t now)
{
	unsigned count = 0;

	for (unsigned i = 0; i < supervisor->options.crash_limit; i++)
		if (supervisor->crash_times[i] != 0 &&
		    now - supervisor->crash_times[i] <= supervisor->options.crash_window_ms)
			count++;
	return count;
}

static void
supervisor_forget_crashes(struct supervisor *supervisor)
{
	memset(supervisor->crash_times, 0,
	    supervisor->options.crash_limit * sizeof *supervisor->crash_times);
	backoff_reset(&supervisor->backoff);
}

static void
supervisor_retry_fired(uv_timer_t *timer)
{
	struct supervisor *supervisor = timer->data;

	if (supervisor->state == SUPERVISOR_BACKOFF)
		supervisor_spawn(supervisor);
}

/* The process exited and both pipes are drained: decide what comes next. */
static void
supervisor_child_finished(struct supervisor_child *child)
{
	struct supervisor *supervisor = child->supervisor;
	uint64_t now = supervisor_now_ms(supervisor), delay;
	char how[64];
	unsigned recent;

	if (child->term_signal != 0)
		snprintf(how, sizeof how, "killed by signal %d", child->term_signal);
	else
		snprintf(how, sizeof how, "exit status %lld", (long long)child->exit_status);
	free(supervisor->last_exit);
	if (asprintf(&supervisor->last_exit, "%s: %s", how, supervisor_last_words(supervisor)) < 0)
		supervisor->last_exit = NULL;
	uv_timer_stop(&supervisor->kill_timer);
	if (supervisor->child == child)
		supervisor->child = NULL;
	supervisor_stats_close(supervisor);
	uv_timer_stop(&supervisor->stats_timer);
	if (!uv_is_closing((uv_handle_t *)&child->process))
		uv_close((uv_handle_t *)&child->process, supervisor_child_closed);

	if (supervisor->stopping) {
		if (!uv_is_closing((uv_handle_t *)&supervisor->kill_timer))
			uv_close((uv_handle_t *)&supervisor->kill_timer, supervisor_timer_closed);
		return;
	}
	if (child->asked_to_stop && !child->timed_out) {
		log_info("scheduler supervisor: scx_layered (pid %d) stopped: %s",
		    child->pid, supervisor->last_exit != NULL ? supervisor->last_exit : how);
		if (supervisor->safe_mode) {
			supervisor_set_state(supervisor, SUPERVISOR_SAFE_MODE,
			    "safe mode: the stock scheduler runs");
		} else if (supervisor->restart_pending) {
			supervisor->restart_pending = false;
			supervisor->restarts++;
			if (supervisor->restarts_series != NULL)
				metric_inc(supervisor->restarts_series);
			supervisor_spawn(supervisor);
		}
		return;
	}

	/* Unasked (or never attached): a crash. */
	supervisor->crashes++;
	if (supervisor->crashes_series != NULL)
		metric_inc(supervisor->crashes_series);
	supervisor->crash_times[supervisor->crash_next] = now != 0 ? now : 1;
	supervisor->crash_next = (supervisor->crash_next + 1) % supervisor->options.crash_limit;
	recent = supervisor_crashes_in_window(supervisor, now);
	supervisor->gap_pending = false;
	if (recent >= supervisor->options.crash_limit) {
		supervisor_set_state(supervisor, SUPERVISOR_STOOD_DOWN,
		    "scx_layered failed %u times within %llu s (the last: %s%s); "
		    "standing down: the stock scheduler runs until the next sizing "
		    "change or a reload", recent,
		    (unsigned long long)(supervisor->options.crash_window_ms / 1000),
		    child->timed_out ? "never attached, " : "",
		    supervisor->last_exit != NULL ? supervisor->last_exit : how);
		return;
	}
	delay = backoff_next(&supervisor->backoff);
	supervisor_set_state(supervisor, SUPERVISOR_BACKOFF,
	    "scx_layered (pid %d) %s (%s); restarting in %llu ms (%u of %u failures "
	    "allowed within %llu s)", child->pid,
	    child->timed_out ? "never attached" : "exited unasked",
	    supervisor->last_exit != NULL ? supervisor->last_exit : how,
	    (unsigned long long)delay, recent, supervisor->options.crash_limit,
	    (unsigned long long)(supervisor->options.crash_window_ms / 1000));
	uv_timer_start(&supervisor->retry_timer, supervisor_retry_fired, delay, 0);
}

static void
supervisor_child_exited(uv_process_t *process, int64_t exit_status, int term_signal)
{
	struct supervisor_child *child = process->data;

	child->exited = true;
	child->exit_status = exit_status;
	child->term_signal = term_signal;
	if (child->streams_open == 0)
		supervisor_child_finished(child);
}

static void
supervisor_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	buf->base = malloc(suggested);
	buf->len = buf->base != NULL ? suggested : 0;
}

static void
supervisor_child_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct supervisor_child *child = stream->data;
	struct supervisor *supervisor = child->supervisor;
	struct buf *partial = &child->partial[(uv_pipe_t *)stream == &child->err];
	char *newline;

	if (nread > 0) {
		/* A line longer than the bound is cut, never grown without end. */
		if (partial->len + (size_t)nread > 4 * SUPERVISOR_LINE_MAX) {
			supervisor_remember_line(supervisor, partial->data, partial->len);
			buf_reset(partial);
		}
		if (buf_append(partial, buf->base, (size_t)nread) == 0)
			while ((newline = memchr(partial->data, '\n', partial->len)) != NULL) {
				size_t len = (size_t)(newline - partial->data);

				if (len > 0)
					supervisor_remember_line(supervisor, partial->data, len);
				buf_consume(partial, len + 1);
			}
	}
	free(buf->base);
	if (nread >= 0)
		return;
	if (partial->len > 0) {
		supervisor_remember_line(supervisor, partial->data, partial->len);
		buf_reset(partial);
	}
	uv_close((uv_handle_t *)stream, supervisor_child_closed);
	if (--child->streams_open == 0 && child->exited)
		supervisor_child_finished(child);
}

/* Write the newest generation where scx_layered reads it: a temporary
 * file, synced, renamed over the old one. */
static int
supervisor_write_config(struct supervisor *supervisor, const char *config, char **cause)
{
	char temporary[PATH_MAX];
	size_t len = strlen(config), done = 0;
	int fd, error = 0;

	if (snprintf(temporary, sizeof temporary, "%s.tmp", supervisor->config_path) >=
	    (int)sizeof temporary)
		return -ENAMETOOLONG;
	if ((fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = -errno;
		goto out;
	}
	while (done < len) {
		ssize_t wrote = write(fd, config + done, len - done);

		if (wrote < 0 && errno == EINTR)
			continue;
		if (wrote < 0) {
			error = -errno;
			break;
		}
		done += (size_t)wrote;
	}
	if (error == 0 && fsync(fd) != 0)
		error = -errno;
	if (close(fd) != 0 && error == 0)
		error = -errno;
	if (error == 0 && rename(temporary, supervisor->config_path) != 0)
		error = -errno;
	if (error != 0)
		unlink(temporary);
out:
	if (error != 0 && asprintf(cause, "cannot write %s: %s", supervisor->config_path,
	    strerror(-error)) < 0)
		*cause = NULL;
	return error;
}

static void
supervisor_kill_fired(uv_timer_t *timer)
{
	struct supervisor *supervisor = timer->data;

	if (supervisor->child != NULL && !supervisor->child->exited) {
		log_warn("scheduler supervisor: scx_layered (pid %d) ignored SIGTERM for "
		    "%llu ms; sending SIGKILL", supervisor->child->pid,
		    (unsigned long long)supervisor->options.stop_timeout_ms);
		uv_process_kill(&supervisor->child->process, SIGKILL);
	}
}

/* SIGTERM now, SIGKILL after stop_timeout_ms. */
static void
supervisor_request_stop(struct supervisor *supervisor)
{
	struct supervisor_child *child = supervisor->child;

	if (child == NULL || child->exited || child->asked_to_stop)
		return;
	child->asked_to_stop = true;
	uv_process_kill(&child->process, SIGTERM);
	uv_timer_start(&supervisor->kill_timer, supervisor_kill_fired,
	    supervisor->options.stop_timeout_ms, 0);
}

/* ------------------------------------------------------ stats socket */

static void
supervisor_stats_closed(uv_handle_t *handle)
{
	struct supervisor *supervisor = handle->data;

	supervisor->handles_open--;
	supervisor_check_stopped(supervisor);
}

static void
supervisor_stats_close(struct supervisor *supervisor)
{
	if (!supervisor->stats_open)
		return;
	supervisor->stats_open = false;
	supervisor->stats_connected = false;
	supervisor->stats_waiting = false;
	buf_reset(&supervisor->stats_in);
	uv_close((uv_handle_t *)&supervisor->stats_pipe, supervisor_stats_closed);
}

static void
supervisor_stats_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct supervisor *supervisor = stream->data;
	struct supervisor_layer_stats *layers;
	char *newline;
	size_t count;

	if (nread > 0 && buf_append(&supervisor->stats_in, buf->base, (size_t)nread) != 0)
		nread = UV_ENOMEM;
	free(buf->base);
	if (nread < 0 || supervisor->stats_in.len > SUPERVISOR_STATS_LINE_MAX) {
		supervisor_stats_close(supervisor);
		return;
	}
	while ((newline = memchr(supervisor->stats_in.data, '\n',
	    supervisor->stats_in.len)) != NULL) {
		*newline = '\0';
		if (supervisor_parse_stats(supervisor->stats_in.data, &layers, &count) == 0) {
			supervisor_layer_stats_free(supervisor->layers, supervisor->layer_count);
			supervisor->layers = layers;
			supervisor->layer_count = count;
			supervisor->stats_ms = supervisor_now_ms(supervisor);
		}
		buf_consume(&supervisor->stats_in,
		    (size_t)(newline - supervisor->stats_in.data) + 1);
		supervisor->stats_waiting = false;
	}
}

static void
supervisor_stats_written(uv_write_t *request, int status)
{
	struct supervisor *supervisor = request->data;

	if (status != 0)
		supervisor_stats_close(supervisor);
}

static void
supervisor_stats_request(struct supervisor *supervisor)
{
	static char request[] = "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}\n";
	uv_buf_t buf = uv_buf_init(request, sizeof request - 1);

	if (supervisor->stats_waiting)
		return;
	supervisor->stats_write.data = supervisor;
	if (uv_write(&supervisor->stats_write, (uv_stream_t *)&supervisor->stats_pipe,
	    &buf, 1, supervisor_stats_written) == 0)
		supervisor->stats_waiting = true;
	else
		supervisor_stats_close(supervisor);
}

static void
supervisor_stats_connected(uv_connect_t *request, int status)
{
	struct supervisor *supervisor = request->data;

	if (!supervisor->stats_open)
		return;
	if (status != 0) {
		supervisor_stats_close(supervisor);
		return;
	}
	supervisor->stats_connected = true;
	uv_read_start((uv_stream_t *)&supervisor->stats_pipe, supervisor_alloc,
	    supervisor_stats_read);
	supervisor_stats_request(supervisor);
}

static void
supervisor_stats_fired(uv_timer_t *timer)
{
	struct supervisor *supervisor = timer->data;
	struct stat st;

	if (supervisor->state != SUPERVISOR_ENFORCING || supervisor->stopping)
		return;
	if (supervisor->stats_connected) {
		supervisor_stats_request(supervisor);
		return;
	}
	if (supervisor->stats_open || stat(supervisor->stats_path, &st) != 0)
		return;
	if (uv_pipe_init(supervisor->loop, &supervisor->stats_pipe, 0) != 0)
		return;
	supervisor->stats_pipe.data = supervisor;
	supervisor->stats_open = true;
	supervisor->handles_open++;
	supervisor->stats_connect.data = supervisor;
	uv_pipe_connect(&supervisor->stats_connect, &supervisor->stats_pipe,
	    supervisor->stats_path, supervisor_stats_connected);
}

/* ------------------------------------------------- watching attach */

/* sched_ext's enable_seq: one more each time a scheduler is enabled; -1
 * when unreadable (then only state and ops are compared). */
static long long
supervisor_enable_seq(const struct supervisor *supervisor)
{
	char path[PATH_MAX], text[32];
	long long seq = -1;
	ssize_t got;
	int fd;

	snprintf(path, sizeof path, "%s/kernel/sched_ext/enable_seq", supervisor->sysfs_root);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	got = read(fd, text, sizeof text - 1);
	close(fd);
	if (got > 0) {
		text[got] = '\0';
		seq = strtoll(text, NULL, 10);
	}
	return seq;
}

/*
 * Is the scheduler we started the one sched_ext runs?  Read from sysfs:
 * state "enabled", ops "layered...", and an enable_seq past the one seen
 * at spawn, because the kernel disables the old scheduler asynchronously
 * and for a moment after its process exits still shows it enabled.
 */
static bool
supervisor_attached(struct supervisor *supervisor, long long spawn_seq)
{
	struct scx_gate_input input;
	long long seq;
	bool attached;

	if (scx_gate_read(supervisor->sysfs_root, "0.0", NULL, true, &input) != 0)
		return false;
	attached = input.state != NULL && strcmp(input.state, "enabled") == 0 &&
	    input.ops != NULL && strncmp(input.ops, "layered", 7) == 0;
	scx_gate_input_clear(&input);
	if (attached && spawn_seq >= 0 && (seq = supervisor_enable_seq(supervisor)) >= 0)
		attached = seq > spawn_seq;
	return attached;
}

static void
supervisor_poll_fired(uv_timer_t *timer)
{
	struct supervisor *supervisor = timer->data;
	struct supervisor_child *child = supervisor->child;
	uint64_t now = supervisor_now_ms(supervisor);

	if (child == NULL || child->exited || child->asked_to_stop)
		return;
	if (supervisor->state == SUPERVISOR_STARTING) {
		if (supervisor_attached(supervisor, child->spawn_seq)) {
			supervisor->attached_ms = now;
			supervisor->stable = false;
			supervisor->last_attach_seconds = (now - child->started_ms) / 1000.0;
			supervisor->running_generation = child->generation;
			if (supervisor->gap_pending) {
				double gap = (now - supervisor->stop_sent_ms) / 1000.0;

				supervisor->gap_pending = false;
				supervisor->last_gap_seconds = gap;
				if (supervisor->gap_series != NULL)
					metric_observe(supervisor->gap_series, gap);
				log_info("scheduler supervisor: restart gap %.3f s (SIGTERM "
				    "to the new scheduler attached)", gap);
			}
			supervisor_set_state(supervisor, SUPERVISOR_ENFORCING, "%s", "");
			uv_timer_start(&supervisor->poll_timer, supervisor_poll_fired,
			    SUPERVISOR_WATCH_MS, SUPERVISOR_WATCH_MS);
			uv_timer_start(&supervisor->stats_timer, supervisor_stats_fired, 0,
			    supervisor->options.stats_interval_ms);
		} else if (now - child->started_ms >= supervisor->options.attach_timeout_ms) {
			log_warn("scheduler supervisor: scx_layered (pid %d) not attached "
			    "after %llu ms; stopping it", child->pid,
			    (unsigned long long)supervisor->options.attach_timeout_ms);
			child->timed_out = true;
			supervisor_request_stop(supervisor);
		}
		return;
	}
	if (supervisor->state == SUPERVISOR_ENFORCING && !supervisor->stable &&
	    now - supervisor->attached_ms >= supervisor->options.stable_ms) {
		supervisor->stable = true;
		backoff_reset(&supervisor->backoff);
	}
}

/* --------------------------------------------------------- spawning */

static void
supervisor_spawn(struct supervisor *supervisor)
{
	struct supervisor_child *child;
	uv_process_options_t options;
	uv_stdio_container_t stdio[3];
	char parent[32], *config_arg = NULL, **args = NULL;
	size_t extra = 0, n = 0;
	int error;

	if (supervisor->stopping || !supervisor->have_config)
		return;
	uv_timer_stop(&supervisor->retry_timer);
	for (char **a = supervisor->extra_args; a != NULL && *a != NULL; a++)
		extra++;
	child = calloc(1, sizeof *child);
	args = calloc(9 + extra, sizeof *args);
	if (child == NULL || args == NULL ||
	    asprintf(&config_arg, "f:%s", supervisor->config_path) < 0) {
		config_arg = NULL;
		error = UV_ENOMEM;
		goto fail;
	}
	snprintf(parent, sizeof parent, "%d", (int)getpid());
	args[n++] = supervisor->exec_helper;
	args[n++] = "--parent";
	args[n++] = parent;
	args[n++] = "--";
	args[n++] = supervisor->scheduler_bin;
	args[n++] = config_arg;
	if (supervisor->hints != NULL) {
		args[n++] = "--task-hint-map";
		args[n++] = supervisor->hint_pin_path;
	}
	for (size_t i = 0; i < extra; i++)
		args[n++] = supervisor->extra_args[i];
	args[n] = NULL;

	child->supervisor = supervisor;
	child->generation = supervisor->generation;
	uv_pipe_init(supervisor->loop, &child->out, 0);
	uv_pipe_init(supervisor->loop, &child->err, 0);
	child->out.data = child->err.data = child->process.data = child;
	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&child->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&child->err;
	memset(&options, 0, sizeof options);
	options.file = supervisor->exec_helper;
	options.args = args;
	options.exit_cb = supervisor_child_exited;
	options.stdio = stdio;
	options.stdio_count = 3;
	supervisor->children_open++;
	child->handles_open = 3;
	/* Before the spawn: the child may attach before uv_spawn returns. */
	child->spawn_seq = supervisor_enable_seq(supervisor);
	error = uv_spawn(supervisor->loop, &child->process, &options);
	if (error != 0) {
		/* The process handle needs closing even when the spawn failed. */
		child->exited = true;
		child->exit_status = 127;
		child->streams_open = 0;
		uv_close((uv_handle_t *)&child->out, supervisor_child_closed);
		uv_close((uv_handle_t *)&child->err, supervisor_child_closed);
		snprintf(supervisor->output[supervisor->output_next], SUPERVISOR_LINE_MAX,
		    "Error: cannot spawn %s: %s", supervisor->exec_helper, uv_strerror(error));
		supervisor->output_next = (supervisor->output_next + 1) % SUPERVISOR_OUTPUT_LINES;
		supervisor->child = child;
		child->pid = 0;
		free(args);
		free(config_arg);
		supervisor_child_finished(child);
		return;
	}
	child->pid = child->process.pid;
	child->started_ms = supervisor_now_ms(supervisor);
	child->streams_open = 2;
	uv_read_start((uv_stream_t *)&child->out, supervisor_alloc, supervisor_child_read);
	uv_read_start((uv_stream_t *)&child->err, supervisor_alloc, supervisor_child_read);
	supervisor->child = child;
	memset(supervisor->output, 0, sizeof supervisor->output);
	supervisor->error_line[0] = supervisor->cause_line[0] = '\0';
	supervisor->cause_next = false;
	supervisor_set_state(supervisor, SUPERVISOR_STARTING,
	    "scx_layered (pid %d) started with generation %llu", child->pid,
	    (unsigned long long)child->generation);
	uv_timer_start(&supervisor->poll_timer, supervisor_poll_fired, 0,
	    supervisor->options.poll_ms);
	free(args);
	free(config_arg);
	return;
fail:
	free(child);
	free(args);
	free(config_arg);
	supervisor_set_state(supervisor, SUPERVISOR_BACKOFF, "cannot start scx_layered: %s",
	    uv_strerror(error));
	uv_timer_start(&supervisor->retry_timer, supervisor_retry_fired,
	    backoff_next(&supervisor->backoff), 0);
}

/* ------------------------------------------------------------- gate */

static void
supervisor_read_gate(struct supervisor *supervisor)
{
	bool own = supervisor->child != NULL && !supervisor->child->exited;

	scx_gate_input_clear(&supervisor->gate_input);
	scx_gate_clear(&supervisor->gate);
	if (scx_gate_read(supervisor->sysfs_root, supervisor->kernel_release,
	    supervisor->scheduler_bin, own, &supervisor->gate_input) != 0 ||
	    scx_gate_evaluate(&supervisor->gate_input, &supervisor->gate) != 0) {
		supervisor->gate.pass = false;
		free(supervisor->gate.reason);
		supervisor->gate.reason = strdup("out of memory reading the kernel gate");
	}
}

/* The gate passed: the hint writer, when wanted.  0 or -errno with *cause. */
static int
supervisor_open_hints(struct supervisor *supervisor, char **cause)
{
	char *why = NULL;

	if (supervisor->hint_pin_path == NULL || supervisor->hints != NULL)
		return 0;
	if ((supervisor->hints = hint_map_open(supervisor->hint_pin_path, &why)) == NULL) {
		int error = -errno;

		if (asprintf(cause, "the task-hint writer cannot load: %s",
		    why != NULL ? why : strerror(-error)) < 0)
			*cause = NULL;
		free(why);
		return error;
	}
	return supervisor_push_hints(supervisor);
}

const struct scx_gate *
supervisor_gate(const struct supervisor *supervisor)
{
	return &supervisor->gate;
}

void
supervisor_recheck(struct supervisor *supervisor)
{
	char *cause = NULL;

	if (supervisor->state == SUPERVISOR_OFF || supervisor->stopping)
		return;
	supervisor_read_gate(supervisor);
	if (supervisor->state != SUPERVISOR_OBSERVE &&
	    supervisor->state != SUPERVISOR_STOOD_DOWN)
		return;
	if (!supervisor->gate.pass) {
		if (supervisor->state == SUPERVISOR_OBSERVE)
			supervisor_set_state(supervisor, SUPERVISOR_OBSERVE,
			    "the kernel gate refuses scx_layered: %s", supervisor->gate.reason);
		return;
	}
	if (supervisor_open_hints(supervisor, &cause) != 0) {
		supervisor_set_state(supervisor, SUPERVISOR_OBSERVE, "%s",
		    cause != NULL ? cause : "the task-hint writer cannot load");
		free(cause);
		return;
	}
	supervisor_forget_crashes(supervisor);
	if (supervisor->safe_mode)
		supervisor_set_state(supervisor, SUPERVISOR_SAFE_MODE, "safe mode");
	else if (supervisor->have_config)
		supervisor_spawn(supervisor);
	else
		supervisor_set_state(supervisor, SUPERVISOR_WAITING, "waiting for a generation");
}

/* ------------------------------------------------------------ apply */

int
supervisor_apply(struct supervisor *supervisor, const struct generation *generation,
    const struct plan *plan, bool restart)
{
	char *cause = NULL;
	int error;

	if (supervisor->state == SUPERVISOR_OFF || supervisor->stopping)
		return 0;
	if ((error = supervisor_write_config(supervisor, generation->config, &cause)) != 0) {
		log_warn("scheduler supervisor: %s; keeping generation %llu",
		    cause != NULL ? cause : strerror(-error),
		    (unsigned long long)supervisor->generation);
		free(cause);
		return error;
	}
	supervisor->generation = generation->number;
	supervisor->have_config = true;
	supervisor->plan_hint_count = supervisor_plan_hints(plan, supervisor->plan_hints,
	    PLANNER_MAX_LAYERS);
	/* Hints first: a scheduler starting now finds its tasks labelled. */
	supervisor_push_hints(supervisor);

	switch (supervisor->state) {
	case SUPERVISOR_WAITING:
		supervisor_spawn(supervisor);
		break;
	case SUPERVISOR_STOOD_DOWN:
		if (restart) {
			log_info("scheduler supervisor: generation %llu changes sizing or matches; "
			    "trying scx_layered again",
			    (unsigned long long)generation->number);
			supervisor_forget_crashes(supervisor);
			supervisor_spawn(supervisor);
		}
		break;
	case SUPERVISOR_STARTING:
	case SUPERVISOR_ENFORCING:
		if (!restart) {
			log_debug("scheduler supervisor: generation %llu keeps sizing within "
			    "the band and the matches: no restart",
			    (unsigned long long)generation->number);
			break;
		}
		supervisor->restart_pending = true;
		supervisor->stop_sent_ms = supervisor_now_ms(supervisor);
		supervisor->gap_pending = true;
		supervisor_request_stop(supervisor);
		supervisor_set_state(supervisor, SUPERVISOR_RESTARTING,
		    "generation %llu changes sizing or matches: restarting scx_layered",
		    (unsigned long long)generation->number);
		break;
	default:
		/* observe, safe mode, backoff, restarting: the file waits. */
		break;
	}
	return 0;
}

void
supervisor_safe_mode(struct supervisor *supervisor, bool on)
{
	if (supervisor->safe_mode == on || supervisor->state == SUPERVISOR_OFF ||
	    supervisor->stopping)
		return;
	supervisor->safe_mode = on;
	if (on) {
		uv_timer_stop(&supervisor->retry_timer);
		supervisor->restart_pending = false;
		supervisor->gap_pending = false;
		if (supervisor->state == SUPERVISOR_OBSERVE ||
		    supervisor->state == SUPERVISOR_STOOD_DOWN)
			return;
		if (supervisor->child != NULL && !supervisor->child->exited)
			supervisor_request_stop(supervisor);
		else
			supervisor_set_state(supervisor, SUPERVISOR_SAFE_MODE,
			    "safe mode: the stock scheduler runs");
		return;
	}
	if (supervisor->state != SUPERVISOR_SAFE_MODE)
		return;
	if (supervisor->child != NULL) {
		/* Still stopping: start again once it is gone. */
		supervisor->restart_pending = true;
		return;
	}
	if (supervisor->have_config)
		supervisor_spawn(supervisor);
	else
		supervisor_set_state(supervisor, SUPERVISOR_WAITING, "waiting for a generation");
}

/* ----------------------------------------------------------- status */

cJSON *
supervisor_status_json(const struct supervisor *supervisor)
{
	cJSON *json = cJSON_CreateObject(), *scheduler, *hints, *layers, *gate, *output;
	struct hint_counters counters;

	if (json == NULL)
		return NULL;
	cJSON_AddStringToObject(json, "state", supervisor_state_name(supervisor->state));
	cJSON_AddNumberToObject(json, "state_code", supervisor->state);
	cJSON_AddStringToObject(json, "reason", supervisor_reason(supervisor));
	cJSON_AddStringToObject(json, "enforcement",
	    conf_enforcement_name(supervisor->options.enforcement));
	cJSON_AddBoolToObject(json, "safe_mode", supervisor->safe_mode);
	if ((gate = scx_gate_json(&supervisor->gate_input, &supervisor->gate)) != NULL)
		cJSON_AddItemToObject(json, "gate", gate);

	if ((scheduler = cJSON_AddObjectToObject(json, "scheduler")) != NULL) {
		cJSON_AddStringToObject(scheduler, "binary", supervisor->scheduler_bin);
		cJSON_AddStringToObject(scheduler, "config", supervisor->config_path);
		cJSON_AddNumberToObject(scheduler, "pid", supervisor_pid(supervisor));
		cJSON_AddNumberToObject(scheduler, "generation", (double)supervisor->generation);
		cJSON_AddNumberToObject(scheduler, "running_generation",
		    (double)supervisor->running_generation);
		cJSON_AddNumberToObject(scheduler, "restarts", (double)supervisor->restarts);
		cJSON_AddNumberToObject(scheduler, "crashes", (double)supervisor->crashes);
		if (supervisor->last_gap_seconds >= 0)
			cJSON_AddNumberToObject(scheduler, "last_gap_seconds",
			    supervisor->last_gap_seconds);
		if (supervisor->last_attach_seconds >= 0)
			cJSON_AddNumberToObject(scheduler, "last_attach_seconds",
			    supervisor->last_attach_seconds);
		if (supervisor->last_exit != NULL)
			cJSON_AddStringToObject(scheduler, "last_exit", supervisor->last_exit);
		if ((output = cJSON_AddArrayToObject(scheduler, "output")) != NULL)
			for (unsigned i = 0; i < SUPERVISOR_OUTPUT_LINES; i++) {
				const char *line = supervisor->output[(supervisor->output_next + i) %
				    SUPERVISOR_OUTPUT_LINES];

				if (*line != '\0')
					cJSON_AddItemToArray(output, cJSON_CreateString(line));
			}
	}

	if ((hints = cJSON_AddObjectToObject(json, "hints")) != NULL) {
		cJSON_AddBoolToObject(hints, "enabled", supervisor->hints != NULL);
		if (supervisor->hint_pin_path != NULL)
			cJSON_AddStringToObject(hints, "pin", supervisor->hint_pin_path);
		cJSON_AddNumberToObject(hints, "cgroups", (double)supervisor->pushed_count);
		cJSON_AddNumberToObject(hints, "updates", (double)supervisor->hint_updates);
		cJSON_AddNumberToObject(hints, "last_update_ms",
		    supervisor->hint_last_set_ns / 1e6);
		if (supervisor->hint_error != NULL)
			cJSON_AddStringToObject(hints, "error", supervisor->hint_error);
		if (supervisor->hints != NULL) {
			hint_map_counters(supervisor->hints, &counters);
			cJSON_AddNumberToObject(hints, "written", (double)counters.written);
			cJSON_AddNumberToObject(hints, "cleared", (double)counters.cleared);
			cJSON_AddNumberToObject(hints, "failed", (double)counters.failed);
		}
	}

	if ((layers = cJSON_AddArrayToObject(json, "layers")) != NULL)
		for (size_t i = 0; i < supervisor->layer_count; i++) {
			cJSON *layer = cJSON_CreateObject();

			if (layer == NULL)
				break;
			cJSON_AddStringToObject(layer, "name", supervisor->layers[i].name);
			cJSON_AddNumberToObject(layer, "util", supervisor->layers[i].util);
			cJSON_AddNumberToObject(layer, "tasks", (double)supervisor->layers[i].tasks);
			cJSON_AddNumberToObject(layer, "cpus", supervisor->layers[i].cpus);
			cJSON_AddNumberToObject(layer, "min_cpus", supervisor->layers[i].min_cpus);
			cJSON_AddNumberToObject(layer, "max_cpus", supervisor->layers[i].max_cpus);
			cJSON_AddItemToArray(layers, layer);
		}
	return json;
}

/* ------------------------------------------------ new, stop, free */

static char *
supervisor_default_helper(void)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

	if (len <= 0)
		return strdup(SUPERVISOR_EXEC_HELPER);
	self[len] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&path, "%s/%s", self, SUPERVISOR_EXEC_HELPER) < 0)
		return NULL;
	return path;
}

static int
supervisor_copy(char **to, const char *from)
{
	*to = NULL;
	if (from != NULL && (*to = strdup(from)) == NULL)
		return -ENOMEM;
	return 0;
}

static void
supervisor_register_metrics(struct supervisor *supervisor, struct metrics *metrics)
{
	static const char *const state_label[] = { "state", NULL };
	struct metric_family *family;

	if (metrics == NULL)
		return;
	family = metrics_family(metrics, METRIC_GAUGE, "temper_enforcement_state",
	    "1 for the scheduler supervisor's current state, 0 for the others "
	    "(off, observe, waiting, starting, enforcing, restarting, backoff, "
	    "stood-down, safe-mode)", state_label, NULL, 0);
	for (int i = 0; family != NULL && i < SUPERVISOR_STATE_COUNT; i++) {
		const char *value[] = { supervisor_state_names[i], NULL };

		supervisor->state_series[i] = metrics_series(family, value);
	}
	family = metrics_family(metrics, METRIC_COUNTER, "temper_scheduler_restarts_total",
	    "scx_layered restarts for a new sizing or new matches", NULL, NULL, 0);
	supervisor->restarts_series = family != NULL ? metrics_series0(family) : NULL;
	family = metrics_family(metrics, METRIC_COUNTER, "temper_scheduler_crashes_total",
	    "scx_layered exits nobody asked for (or attaches that never came)",
	    NULL, NULL, 0);
	supervisor->crashes_series = family != NULL ? metrics_series0(family) : NULL;
	family = metrics_family(metrics, METRIC_HISTOGRAM, "temper_scheduler_gap_seconds",
	    "restart gaps: SIGTERM to the old scheduler until the new one is attached",
	    NULL, supervisor_gap_buckets,
	    sizeof supervisor_gap_buckets / sizeof supervisor_gap_buckets[0]);
	supervisor->gap_series = family != NULL ? metrics_series0(family) : NULL;
	family = metrics_family(metrics, METRIC_COUNTER, "temper_hint_updates_total",
	    "pod cgroup entries added, changed or removed in the task-hint table",
	    NULL, NULL, 0);
	supervisor->hint_updates_series = family != NULL ? metrics_series0(family) : NULL;
}

struct supervisor *
supervisor_new(uv_loop_t *loop, struct metrics *metrics,
    const struct supervisor_options *options, char **cause)
{
	struct supervisor *supervisor;
	char *why = NULL;
	size_t extra = 0;
	int error = -ENOMEM;

	*cause = NULL;
	if ((supervisor = calloc(1, sizeof *supervisor)) == NULL)
		goto fail;
	supervisor->loop = loop;
	supervisor->options = *options;
	supervisor->last_gap_seconds = -1;
	supervisor->last_attach_seconds = -1;
	if (supervisor->options.crash_limit == 0)
		supervisor->options.crash_limit = 5;
	if (supervisor->options.crash_window_ms == 0)
		supervisor->options.crash_window_ms = 10 * 60 * 1000;
	if (supervisor->options.backoff_initial_ms == 0)
		supervisor->options.backoff_initial_ms = 1000;
	if (supervisor->options.backoff_max_ms == 0)
		supervisor->options.backoff_max_ms = 60000;
	if (supervisor->options.stable_ms == 0)
		supervisor->options.stable_ms = 30000;
	if (supervisor->options.attach_timeout_ms == 0)
		supervisor->options.attach_timeout_ms = 30000;
	if (supervisor->options.stop_timeout_ms == 0)
		supervisor->options.stop_timeout_ms = 5000;
	if (supervisor->options.poll_ms == 0)
		supervisor->options.poll_ms = 5;
	if (supervisor->options.stats_interval_ms == 0)
		supervisor->options.stats_interval_ms = 2000;
	backoff_init(&supervisor->backoff, supervisor->options.backoff_initial_ms,
	    supervisor->options.backoff_max_ms, options->random_seed != 0 ?
	    options->random_seed : (uint64_t)uv_hrtime() ^ (uint64_t)getpid());
	if ((supervisor->crash_times = calloc(supervisor->options.crash_limit,
	    sizeof *supervisor->crash_times)) == NULL)
		goto fail;
	if (supervisor_copy(&supervisor->scheduler_bin,
	    options->scheduler_bin != NULL ? options->scheduler_bin : "scx_layered") != 0 ||
	    supervisor_copy(&supervisor->state_dir,
	    options->state_dir != NULL ? options->state_dir : "/run/temper") != 0 ||
	    supervisor_copy(&supervisor->sysfs_root,
	    options->sysfs_root != NULL ? options->sysfs_root : "/sys") != 0 ||
	    supervisor_copy(&supervisor->kernel_release, options->kernel_release) != 0 ||
	    supervisor_copy(&supervisor->hint_pin_path, options->hint_pin_path) != 0 ||
	    supervisor_copy(&supervisor->stats_path,
	    options->stats_path != NULL ? options->stats_path : SUPERVISOR_DEFAULT_STATS) != 0)
		goto fail;
	supervisor->exec_helper = options->exec_helper != NULL ?
	    strdup(options->exec_helper) : supervisor_default_helper();
	if (supervisor->exec_helper == NULL ||
	    asprintf(&supervisor->config_path, "%s/%s", supervisor->state_dir,
	    SUPERVISOR_CONFIG_FILE) < 0) {
		supervisor->config_path = NULL;
		goto fail;
	}
	for (const char *const *a = options->extra_args; a != NULL && *a != NULL; a++)
		extra++;
	if ((supervisor->extra_args = calloc(extra + 1, sizeof *supervisor->extra_args)) == NULL)
		goto fail;
	for (size_t i = 0; i < extra; i++)
		if ((supervisor->extra_args[i] = strdup(options->extra_args[i])) == NULL)
			goto fail;
	if (mkdir(supervisor->state_dir, 0755) != 0 && errno != EEXIST) {
		error = -errno;
		if (asprintf(cause, "cannot create the state directory %s: %s",
		    supervisor->state_dir, strerror(errno)) < 0)
			*cause = NULL;
		goto fail;
	}

	supervisor_register_metrics(supervisor, metrics);
	if (options->enforcement != CONF_ENFORCEMENT_AUTO &&
	    options->enforcement != CONF_ENFORCEMENT_SCX) {
		supervisor_set_state(supervisor, SUPERVISOR_OFF, "enforcement is %s",
		    conf_enforcement_name(options->enforcement));
	} else {
		supervisor_read_gate(supervisor);
		if (supervisor->gate.pass && supervisor_open_hints(supervisor, &why) != 0) {
			supervisor->gate.pass = false;
		} else if (!supervisor->gate.pass && asprintf(&why,
		    "the kernel gate refuses scx_layered: %s", supervisor->gate.reason) < 0) {
			why = NULL;
		}
		if (!supervisor->gate.pass && options->enforcement == CONF_ENFORCEMENT_SCX) {
			if (asprintf(cause, "--enforcement=scx, but %s", why != NULL ? why :
			    "the kernel gate refuses") < 0)
				*cause = NULL;
			free(why);
			error = -ENOTSUP;
			goto fail;
		}
		if (!supervisor->gate.pass)
			supervisor_set_state(supervisor, SUPERVISOR_OBSERVE,
			    "%s; plans are computed and published, nothing is enforced",
			    why != NULL ? why : "the kernel gate refuses scx_layered");
		else
			supervisor_set_state(supervisor, SUPERVISOR_WAITING,
			    "waiting for a generation");
	}

	/* No handle exists before this point, so every failure above frees. */
	uv_timer_init(loop, &supervisor->poll_timer);
	uv_timer_init(loop, &supervisor->retry_timer);
	uv_timer_init(loop, &supervisor->kill_timer);
	uv_timer_init(loop, &supervisor->stats_timer);
	supervisor->poll_timer.data = supervisor->retry_timer.data = supervisor;
	supervisor->kill_timer.data = supervisor->stats_timer.data = supervisor;
	supervisor->handles_open = 4;
	free(why);
	return supervisor;
fail:
	if (*cause == NULL)
		*cause = strdup("out of memory");
	supervisor_free(supervisor);
	errno = -error;
	return NULL;
}

static void
supervisor_timer_closed(uv_handle_t *handle)
{
	struct supervisor *supervisor = handle->data;

	supervisor->handles_open--;
	supervisor_check_stopped(supervisor);
}

void
supervisor_stop(struct supervisor *supervisor, void (*done)(void *arg), void *arg)
{
	if (supervisor->stopping)
		return;
	supervisor->stopping = true;
	supervisor->done = done;
	supervisor->done_arg = arg;
	supervisor->restart_pending = false;
	if (supervisor->child != NULL && !supervisor->child->exited) {
		log_info("scheduler supervisor: stopping scx_layered (pid %d): SIGTERM",
		    supervisor->child->pid);
		supervisor->child->asked_to_stop = true;
		uv_process_kill(&supervisor->child->process, SIGTERM);
		/* The kill timer stays open until the child is gone. */
		uv_timer_start(&supervisor->kill_timer, supervisor_kill_fired,
		    supervisor->options.stop_timeout_ms, 0);
	}
	supervisor_stats_close(supervisor);
	uv_close((uv_handle_t *)&supervisor->poll_timer, supervisor_timer_closed);
	uv_close((uv_handle_t *)&supervisor->retry_timer, supervisor_timer_closed);
	uv_close((uv_handle_t *)&supervisor->stats_timer, supervisor_timer_closed);
	if (supervisor->child == NULL || supervisor->child->exited)
		uv_close((uv_handle_t *)&supervisor->kill_timer, supervisor_timer_closed);
	if (supervisor->state != SUPERVISOR_OFF)
		supervisor_set_state(supervisor, SUPERVISOR_OFF, "stopped");
	supervisor_check_stopped(supervisor);
}

void
supervisor_free(struct supervisor *supervisor)
{
	if (supervisor == NULL)
		return;
	hint_map_close(supervisor->hints);
	scx_gate_input_clear(&supervisor->gate_input);
	scx_gate_clear(&supervisor->gate);
	supervisor_layer_stats_free(supervisor->layers, supervisor->layer_count);
	buf_free(&supervisor->stats_in);
	for (char **a = supervisor->extra_args; a != NULL && *a != NULL; a++)
		free(*a);
	free(supervisor->extra_args);
	free(supervisor->scheduler_bin);
	free(supervisor->exec_helper);
	free(supervisor->state_dir);
	free(supervisor->sysfs_root);
	free(supervisor->kernel_release);
	free(supervisor->hint_pin_path);
	free(supervisor->stats_path);
	free(supervisor->config_path);
	free(supervisor->reason);
	free(supervisor->hint_error);
	free(supervisor->cgroup_ids);
	free(supervisor->cgroup_tiers);
	free(supervisor->pushed);
	free(supervisor->last_exit);
	free(supervisor->crash_times);
	free(supervisor);
}
