/* profiles.c - builtin and directory profiles, inotify reload, selection, API. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http-router.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "pod.h"
#include "profile-train.h"
#include "profiles.h"

/* Directory events settle this long before the directory is read again. */
#define PROFILES_DEBOUNCE_MS 50
#define PROFILES_MAX_FILES 256
#define PROFILES_TRAIN_DEFAULT_SECONDS 10
#define PROFILES_TRAIN_MAX_SECONDS 300

/* One *.toml file of the directory. */
struct profiles_file {
	char *file;			/* its name in the directory */
	struct profile *good;		/* the last version that parsed, or NULL */
	char *error;			/* why the current version does not, or NULL */
	bool shadowed;			/* an earlier file has its profile's name */
};

struct profiles {
	uv_loop_t *loop;
	char *dir;
	struct profile **builtins;
	size_t builtin_count;
	struct profiles_file *files;
	size_t file_count;

	uv_fs_event_t watch;
	uv_timer_t debounce;
	uv_timer_t train_timer;
	bool watching;
	unsigned open_handles;
	void (*stop_done)(void *arg);
	void *stop_arg;

	void (*changed)(void *arg);
	void *changed_arg;

	struct profiles_train_source source;
	bool has_source;
	struct http_request *train_request;	/* one training at a time */
	struct profile_train_snapshot train_before;
	char *train_pod;
	char *train_name;
	unsigned train_seconds;

	struct metric_series *loaded;
	struct metric_series *errors;
	struct metric_series *reloads;
};

static void profiles_debounced(uv_timer_t *timer);

struct profiles *
profiles_new(uv_loop_t *loop, struct metrics *metrics, const char *dir,
    char **cause)
{
	struct profiles *profiles;
	struct metric_family *family;
	char *why = NULL;

	if (cause != NULL)
		*cause = NULL;
	if ((profiles = calloc(1, sizeof *profiles)) == NULL)
		return NULL;
	profiles->loop = loop;
	if ((dir != NULL && dir[0] != '\0' &&
	    (profiles->dir = strdup(dir)) == NULL) ||
	    (profiles->builtins = calloc(profile_builtin_count,
	    sizeof *profiles->builtins)) == NULL)
		goto nomem;
	for (size_t i = 0; i < profile_builtin_count; i++) {
		const struct profile_builtin *builtin = &profile_builtins[i];
		struct profile *profile;

		profile = profile_parse(builtin->text, strlen(builtin->text),
		    "builtin", &why);
		if (profile == NULL) {
			/* t/test-profile reads every builtin: cannot happen. */
			if (cause != NULL)
				*cause = why;
			else
				free(why);
			profiles_free(profiles);
			errno = EINVAL;
			return NULL;
		}
		profile->builtin = true;
		profiles->builtins[profiles->builtin_count++] = profile;
	}
	if (metrics != NULL) {
		family = metrics_family(metrics, METRIC_GAUGE,
		    "temper_profiles_loaded", "Workload profiles in effect, "
		    "builtins included.", NULL, NULL, 0);
		profiles->loaded = family ? metrics_series0(family) : NULL;
		family = metrics_family(metrics, METRIC_COUNTER,
		    "temper_profile_errors_total", "Profile files refused "
		    "(the last good version of each stays).", NULL, NULL, 0);
		profiles->errors = family ? metrics_series0(family) : NULL;
		family = metrics_family(metrics, METRIC_COUNTER,
		    "temper_profile_reloads_total", "Changes of the effective "
		    "profiles read from the profile directory.", NULL, NULL, 0);
		profiles->reloads = family ? metrics_series0(family) : NULL;
	}
	if (loop != NULL) {
		uv_timer_init(loop, &profiles->debounce);
		profiles->debounce.data = profiles;
		uv_timer_init(loop, &profiles->train_timer);
		profiles->train_timer.data = profiles;
		profiles->open_handles = 2;
	}
	return profiles;
nomem:
	profiles_free(profiles);
	errno = ENOMEM;
	return NULL;
}

void
profiles_on_change(struct profiles *profiles, void (*changed)(void *arg),
    void *arg)
{
	profiles->changed = changed;
	profiles->changed_arg = arg;
}

static void
profiles_file_clear(struct profiles_file *file)
{
	free(file->file);
	profile_free(file->good);
	free(file->error);
}

static void
profiles_set_loaded(struct profiles *profiles)
{
	size_t count = 0;

	for (size_t i = 0; i < profiles->file_count; i++)
		if (profiles->files[i].good != NULL &&
		    !profiles->files[i].shadowed)
			count++;
	for (size_t i = 0; i < profiles->builtin_count; i++)
		if (profiles_find(profiles, profiles->builtins[i]->name) ==
		    profiles->builtins[i])
			count++;
	if (profiles->loaded != NULL)
		metric_set(profiles->loaded, (double)count);
}

static int
profiles_compare_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool
profiles_is_profile_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".toml") == 0;
}

/* The file's text, at most PROFILE_MAX_FILE + 1 bytes (the parser refuses more). */
static char *
profiles_read_file(const char *path, size_t *len, int *error)
{
	char *text;
	ssize_t n;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		*error = -errno;
		return NULL;
	}
	if ((text = malloc(PROFILE_MAX_FILE + 2)) == NULL) {
		close(fd);
		*error = -ENOMEM;
		return NULL;
	}
	while (*len <= PROFILE_MAX_FILE &&
	    (n = read(fd, text + *len, PROFILE_MAX_FILE + 1 - *len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error = -errno;
			close(fd);
			free(text);
			return NULL;
		}
		*len += (size_t)n;
	}
	close(fd);
	text[*len] = '\0';
	*error = 0;
	return text;
}

/* The directory's *.toml names, sorted; NULL with *count 0 when unreadable. */
static char **
profiles_list_dir(const char *dir, size_t *count, int *error)
{
	char **names = NULL, **grown;
	struct dirent *entry;
	size_t used = 0;
	DIR *handle;

	*count = 0;
	*error = 0;
	if ((handle = opendir(dir)) == NULL) {
		*error = -errno;
		return NULL;
	}
	while ((entry = readdir(handle)) != NULL && used < PROFILES_MAX_FILES) {
		if (!profiles_is_profile_file(entry->d_name))
			continue;
		if ((grown = realloc(names, (used + 1) * sizeof *names)) == NULL ||
		    (grown[used] = strdup(entry->d_name)) == NULL) {
			names = grown ? grown : names;
			*error = -ENOMEM;
			break;
		}
		names = grown;
		used++;
	}
	closedir(handle);
	if (used > 0)
		qsort(names, used, sizeof *names, profiles_compare_names);
	*count = used;
	return names;
}

static struct profiles_file *
profiles_old_file(struct profiles *profiles, const char *name)
{
	for (size_t i = 0; i < profiles->file_count; i++)
		if (profiles->files[i].file != NULL &&
		    strcmp(profiles->files[i].file, name) == 0)
			return &profiles->files[i];
	return NULL;
}

/* Read one file into next, keeping old's good version when it is broken. */
static void
profiles_read_one(struct profiles *profiles, const char *name,
    struct profiles_file *old, struct profiles_file *next)
{
	char path[4096], *text, *why = NULL;
	struct profile *profile;
	size_t len;
	int error;

	snprintf(path, sizeof path, "%s/%s", profiles->dir, name);
	next->file = strdup(name);
	text = profiles_read_file(path, &len, &error);
	profile = text ? profile_parse(text, len, path, &why) : NULL;
	free(text);
	if (profile != NULL) {
		next->good = profile;
	} else {
		if (why == NULL && asprintf(&why, "%s: %s", path,
		    strerror(text ? errno : -error)) < 0)
			why = NULL;
		next->error = why;
		next->good = old != NULL ? old->good : NULL;
		/* Report a broken version once, not on every rescan. */
		if (old == NULL || old->error == NULL || why == NULL ||
		    strcmp(old->error, why) != 0) {
			log_warn("profiles: %s; %s", why ? why : path,
			    next->good ? "its last good version stays in effect" :
			    "not in effect");
			if (profiles->errors != NULL)
				metric_inc(profiles->errors);
		}
	}
}

static bool
profiles_same_effect(const struct profiles_file *a, size_t a_count,
    const struct profiles_file *b, size_t b_count)
{
	size_t i = 0, j = 0;

	/* Files without a good version have no effect: skip them. */
	for (;;) {
		while (i < a_count && a[i].good == NULL)
			i++;
		while (j < b_count && b[j].good == NULL)
			j++;
		if (i == a_count || j == b_count)
			return i == a_count && j == b_count;
		if (strcmp(a[i].file, b[j].file) != 0 ||
		    !profile_equal(a[i].good, b[j].good))
			return false;
		i++;
		j++;
	}
}

bool
profiles_rescan(struct profiles *profiles)
{
	struct profiles_file *next = NULL, *old = profiles->files;
	size_t count = 0, old_count = profiles->file_count;
	char **names;
	bool changed;
	int error;

	if (profiles->dir == NULL)
		return false;
	names = profiles_list_dir(profiles->dir, &count, &error);
	if (error != 0 && error != -ENOENT && names == NULL) {
		log_warn("profiles: reading %s: %s; the profiles read before "
		    "stay in effect", profiles->dir, strerror(-error));
		return false;
	}
	if (count > 0 && (next = calloc(count, sizeof *next)) == NULL) {
		for (size_t i = 0; i < count; i++)
			free(names[i]);
		free(names);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		profiles_read_one(profiles, names[i],
		    profiles_old_file(profiles, names[i]), &next[i]);
		for (size_t k = 0; k < i; k++)
			if (next[i].good != NULL && next[k].good != NULL &&
			    !next[k].shadowed &&
			    strcmp(next[k].good->name, next[i].good->name) == 0)
				next[i].shadowed = true;
		free(names[i]);
	}
	free(names);
	changed = !profiles_same_effect(old, old_count, next, count);
	/* Removed files, and versions replaced, stay readable until the callback returned. */
	profiles->files = next;
	profiles->file_count = count;
	profiles_set_loaded(profiles);
	if (changed) {
		log_info("profiles: %s changed: %zu file%s", profiles->dir,
		    count, count == 1 ? "" : "s");
		if (profiles->reloads != NULL)
			metric_inc(profiles->reloads);
		if (profiles->changed != NULL)
			profiles->changed(profiles->changed_arg);
	}
	for (size_t i = 0; i < old_count; i++) {
		/* A broken file's last good version moved on to next. */
		for (size_t k = 0; k < count; k++)
			if (next[k].good == old[i].good)
				old[i].good = NULL;
		profiles_file_clear(&old[i]);
	}
	free(old);
	return changed;
}

static void
profiles_debounced(uv_timer_t *timer)
{
	profiles_rescan(timer->data);
}

static void
profiles_dir_event(uv_fs_event_t *handle, const char *filename, int events,
    int status)
{
	struct profiles *profiles = handle->data;

	(void)filename;
	(void)events;
	if (status < 0) {
		log_warn("profiles: watching %s: %s; rescanning", profiles->dir,
		    uv_strerror(status));
	}
	uv_timer_start(&profiles->debounce, profiles_debounced,
	    PROFILES_DEBOUNCE_MS, 0);
}

int
profiles_start(struct profiles *profiles)
{
	int error;

	if (profiles->dir == NULL || profiles->loop == NULL)
		return 0;
	profiles_rescan(profiles);
	if ((error = uv_fs_event_init(profiles->loop, &profiles->watch)) != 0)
		return error;
	profiles->watch.data = profiles;
	profiles->open_handles++;
	profiles->watching = true;
	if ((error = uv_fs_event_start(&profiles->watch, profiles_dir_event,
	    profiles->dir, 0)) != 0) {
		/* A directory made later is read on SIGHUP (profiles_rescan). */
		log_warn("profiles: cannot watch %s: %s; builtin profiles%s only",
		    profiles->dir, uv_strerror(error),
		    profiles->file_count ? " and the files read now" : "");
	}
	profiles_set_loaded(profiles);
	return 0;
}

/* --- training ------------------------------------------------------------ */

static void
profiles_train_clear(struct profiles *profiles)
{
	profile_train_snapshot_free(&profiles->train_before);
	free(profiles->train_pod);
	free(profiles->train_name);
	profiles->train_pod = profiles->train_name = NULL;
	profiles->train_request = NULL;
}

static void
profiles_train_cancelled(struct http_request *request, void *arg)
{
	struct profiles *profiles = arg;

	(void)request;
	uv_timer_stop(&profiles->train_timer);
	profiles_train_clear(profiles);
}

/* A name as profile.c accepts one: [a-z][a-z0-9-]*. */
static bool
profiles_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PROFILE_MAX_NAME || !islower((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '-')
			return false;
	return true;
}

/* A profile name from the pod's name: "trained-" and its letters. */
static void
profiles_train_default_name(const char *pod, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "trained-");

	for (const char *p = pod; *p != '\0' && n + 1 < size &&
	    n < PROFILE_MAX_NAME; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (!isalnum((unsigned char)c))
			c = '-';
		if (c == '-' && out[n - 1] == '-')
			continue;
		out[n++] = c;
	}
	while (out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

static void
profiles_train_done(uv_timer_t *timer)
{
	struct profiles *profiles = timer->data;
	struct http_request *request = profiles->train_request;
	struct profile_train_snapshot after;
	struct profile_train_result result;
	struct profile_train_rules rules;
	char *cgroup, *why = NULL, *toml = NULL, path[4096] = "";
	cJSON *json = NULL, *groups;
	FILE *file;
	int error;

	memset(&result, 0, sizeof result);
	memset(&after, 0, sizeof after);
	cgroup = profiles->source.pod_cgroup(profiles->source.arg,
	    profiles->train_pod, strchr(profiles->train_pod, '\0') + 1, &why);
	if (cgroup == NULL) {
		http_respond_error(request, 404, "pod %s is gone: %s",
		    profiles->train_pod, why ? why : "unknown");
		goto out;
	}
	error = profile_train_snapshot(cgroup, profiles->source.proc_root ?
	    profiles->source.proc_root : "/proc", &after, &why);
	free(cgroup);
	profile_train_rules_default(&rules);
	if (error == 0)
		error = profile_train_classify(&profiles->train_before, &after,
		    &rules, &result);
	if (error != 0) {
		http_respond_error(request, 500, "training on %s: %s",
		    profiles->train_pod, why ? why : strerror(-error));
		goto out;
	}
	{
		char about[600];

		snprintf(about, sizeof about, "pod %s/%s", profiles->train_pod,
		    strchr(profiles->train_pod, '\0') + 1);
		toml = profile_train_render(&result, profiles->train_name, about);
	}
	if (toml == NULL) {
		http_respond_error(request, 422, "no thread of pod %s/%s showed "
		    "a pattern in %u s (%zu thread groups seen)",
		    profiles->train_pod, strchr(profiles->train_pod, '\0') + 1,
		    profiles->train_seconds, result.count);
		goto out;
	}
	/* Written beside the profiles, not as one: renaming it applies it. */
	if (profiles->dir != NULL) {
		snprintf(path, sizeof path, "%s/%s.toml.trained", profiles->dir,
		    profiles->train_name);
		if ((file = fopen(path, "we")) == NULL ||
		    fputs(toml, file) < 0 || fclose(file) != 0) {
			log_warn("profiles: writing %s: %s", path, strerror(errno));
			path[0] = '\0';
		}
	}
	if ((json = cJSON_CreateObject()) == NULL ||
	    (groups = cJSON_AddArrayToObject(json, "groups")) == NULL) {
		http_respond_error(request, 500, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(json, "name", profiles->train_name);
	cJSON_AddNumberToObject(json, "seconds", result.seconds);
	for (size_t i = 0; i < result.count; i++) {
		const struct profile_train_group *group = &result.groups[i];
		cJSON *item = cJSON_CreateObject();

		if (item == NULL)
			break;
		cJSON_AddItemToArray(groups, item);
		cJSON_AddStringToObject(item, "comm_prefix", group->key);
		cJSON_AddBoolToObject(item, "leader", group->leader);
		cJSON_AddNumberToObject(item, "threads", (double)group->threads);
		cJSON_AddNumberToObject(item, "cpu_share", group->cpu_share);
		cJSON_AddNumberToObject(item, "demand_share", group->demand_share);
		cJSON_AddNumberToObject(item, "wakeups_per_second",
		    group->wakeups_per_second);
		cJSON_AddNumberToObject(item, "run_us", group->run_us);
		cJSON_AddNumberToObject(item, "runqueue_wait_us", group->wait_us);
		if (group->treatment >= 0)
			cJSON_AddStringToObject(item, "treatment",
			    profile_treatment_name(group->treatment));
		else
			cJSON_AddNullToObject(item, "treatment");
	}
	if (path[0] != '\0')
		cJSON_AddStringToObject(json, "path", path);
	else
		cJSON_AddNullToObject(json, "path");
	cJSON_AddStringToObject(json, "toml", toml);
	http_respond_json(request, 200, json);
out:
	cJSON_Delete(json);
	free(toml);
	free(why);
	profile_train_result_free(&result);
	profile_train_snapshot_free(&after);
	profiles_train_clear(profiles);
}

static void
profiles_handle_train(struct http_request *request, void *arg)
{
	struct profiles *profiles = arg;
	char pod[512], seconds_text[16], name[PROFILE_MAX_NAME + 1];
	char *slash, *cgroup, *why = NULL, *end;
	unsigned long seconds = PROFILES_TRAIN_DEFAULT_SECONDS;
	int error;

	if (profiles->train_request != NULL) {
		http_respond_error(request, 409, "a training on %s/%s is under "
		    "way", profiles->train_pod,
		    strchr(profiles->train_pod, '\0') + 1);
		return;
	}
	if (http_request_query_param(request, "pod", pod, sizeof pod) != 0 ||
	    (slash = strchr(pod, '/')) == NULL || slash == pod ||
	    slash[1] == '\0') {
		http_respond_error(request, 400, "pod=NAMESPACE/NAME is required");
		return;
	}
	if (http_request_query_param(request, "seconds", seconds_text,
	    sizeof seconds_text) == 0) {
		seconds = strtoul(seconds_text, &end, 10);
		if (*end != '\0' || seconds < 1 ||
		    seconds > PROFILES_TRAIN_MAX_SECONDS) {
			http_respond_error(request, 400, "seconds must be 1 to %d",
			    PROFILES_TRAIN_MAX_SECONDS);
			return;
		}
	}
	*slash = '\0';
	error = http_request_query_param(request, "name", name, sizeof name);
	if (error == -ENOSPC || (error == 0 && !profiles_name_ok(name))) {
		http_respond_error(request, 400, "name must be lower-case "
		    "letters, digits and '-', starting with a letter, at most "
		    "%d bytes", PROFILE_MAX_NAME);
		return;
	}
	if (error != 0)
		profiles_train_default_name(slash + 1, name, sizeof name);
	if ((cgroup = profiles->source.pod_cgroup(profiles->source.arg, pod,
	    slash + 1, &why)) == NULL) {
		http_respond_error(request, 404, "pod %s/%s: %s", pod, slash + 1,
		    why ? why : "not on this node");
		free(why);
		return;
	}
	error = profile_train_snapshot(cgroup, profiles->source.proc_root ?
	    profiles->source.proc_root : "/proc", &profiles->train_before, &why);
	free(cgroup);
	if (error != 0) {
		http_respond_error(request, 500, "pod %s/%s: %s", pod, slash + 1,
		    why ? why : strerror(-error));
		free(why);
		return;
	}
	/* "namespace\0name": both halves in one allocation. */
	if ((profiles->train_pod = malloc(strlen(pod) + strlen(slash + 1) + 2)) == NULL ||
	    (profiles->train_name = strdup(name)) == NULL) {
		profiles_train_clear(profiles);
		http_respond_error(request, 500, "out of memory");
		return;
	}
	memcpy(profiles->train_pod, pod, strlen(pod) + 1);
	memcpy(profiles->train_pod + strlen(pod) + 1, slash + 1,
	    strlen(slash + 1) + 1);
	profiles->train_seconds = (unsigned)seconds;
	profiles->train_request = request;
	http_request_on_cancel(request, profiles_train_cancelled, profiles);
	uv_timer_start(&profiles->train_timer, profiles_train_done,
	    seconds * 1000, 0);
}

/* --- stop and free -------------------------------------------------------- */

static void
profiles_handle_closed(uv_handle_t *handle)
{
	struct profiles *profiles = handle->data;

	if (--profiles->open_handles == 0 && profiles->stop_done != NULL)
		profiles->stop_done(profiles->stop_arg);
}

void
profiles_stop(struct profiles *profiles, void (*done)(void *arg), void *arg)
{
	profiles->stop_done = done;
	profiles->stop_arg = arg;
	if (profiles->train_request != NULL) {
		http_respond_error(profiles->train_request, 503, "the agent is "
		    "stopping");
		profiles_train_clear(profiles);
	}
	if (profiles->open_handles == 0) {
		if (done != NULL)
			done(arg);
		return;
	}
	if (profiles->watching)
		uv_close((uv_handle_t *)&profiles->watch, profiles_handle_closed);
	uv_close((uv_handle_t *)&profiles->debounce, profiles_handle_closed);
	uv_close((uv_handle_t *)&profiles->train_timer, profiles_handle_closed);
}

void
profiles_free(struct profiles *profiles)
{
	if (profiles == NULL)
		return;
	for (size_t i = 0; i < profiles->builtin_count; i++)
		profile_free(profiles->builtins[i]);
	free(profiles->builtins);
	for (size_t i = 0; i < profiles->file_count; i++)
		profiles_file_clear(&profiles->files[i]);
	free(profiles->files);
	profiles_train_clear(profiles);
	free(profiles->dir);
	free(profiles);
}

/* --- selection ------------------------------------------------------------ */

const struct profile *
profiles_find(const struct profiles *profiles, const char *name)
{
	if (profiles == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < profiles->file_count; i++) {
		const struct profiles_file *file = &profiles->files[i];

		if (file->good != NULL && !file->shadowed &&
		    strcmp(file->good->name, name) == 0)
			return file->good;
	}
	for (size_t i = 0; i < profiles->builtin_count; i++)
		if (strcmp(profiles->builtins[i]->name, name) == 0)
			return profiles->builtins[i];
	return NULL;
}

static bool
profiles_detects(const struct profile *profile, const struct pod *pod)
{
	for (size_t c = 0; c < pod->container_count; c++)
		if (!pod->containers[c].init &&
		    profile_matches_image(profile, pod->containers[c].image))
			return true;
	return false;
}

const struct profile *
profiles_select(const struct profiles *profiles, const struct pod *pod)
{
	const struct profile *profile;

	if (profiles == NULL || pod == NULL)
		return NULL;
	if (pod->profile != NULL)
		return strcmp(pod->profile, "none") == 0 ? NULL :
		    profiles_find(profiles, pod->profile);
	for (size_t i = 0; i < profiles->file_count; i++) {
		profile = profiles->files[i].good;
		if (profile != NULL && !profiles->files[i].shadowed &&
		    profiles_detects(profile, pod))
			return profile;
	}
	for (size_t i = 0; i < profiles->builtin_count; i++) {
		profile = profiles->builtins[i];
		/* A file of the same name hides the builtin. */
		if (profiles_find(profiles, profile->name) == profile &&
		    profiles_detects(profile, pod))
			return profile;
	}
	return NULL;
}

/* --- API ------------------------------------------------------------------ */

cJSON *
profiles_profile_json(const struct profile *profile)
{
	cJSON *json = cJSON_CreateObject(), *images, *groups;
	char *toml;

	if (json == NULL)
		return NULL;
	cJSON_AddStringToObject(json, "name", profile->name);
	cJSON_AddStringToObject(json, "source", profile->source);
	cJSON_AddBoolToObject(json, "builtin", profile->builtin);
	if (profile->description != NULL)
		cJSON_AddStringToObject(json, "description", profile->description);
	else
		cJSON_AddNullToObject(json, "description");
	images = cJSON_AddArrayToObject(json, "images");
	for (size_t i = 0; images != NULL && i < profile->image_count; i++)
		cJSON_AddItemToArray(images, cJSON_CreateString(profile->images[i]));
	groups = cJSON_AddArrayToObject(json, "groups");
	for (size_t i = 0; groups != NULL && i < profile->group_count; i++) {
		const struct profile_group *group = &profile->groups[i];
		cJSON *item = cJSON_CreateObject();

		if (item == NULL)
			break;
		cJSON_AddItemToArray(groups, item);
		cJSON_AddStringToObject(item, "name", group->name);
		cJSON_AddStringToObject(item, "treatment",
		    profile_treatment_name(group->treatment));
		if (group->comm_prefix != NULL)
			cJSON_AddStringToObject(item, "comm_prefix", group->comm_prefix);
		if (group->parent_comm_prefix != NULL)
			cJSON_AddStringToObject(item, "parent_comm_prefix",
			    group->parent_comm_prefix);
		if (group->cmd_join != NULL)
			cJSON_AddStringToObject(item, "cmd_join", group->cmd_join);
		if (group->group_leader != PROFILE_LEADER_ANY)
			cJSON_AddBoolToObject(item, "group_leader",
			    group->group_leader == PROFILE_LEADER_YES);
		if (group->description != NULL)
			cJSON_AddStringToObject(item, "description",
			    group->description);
	}
	if ((toml = profile_render(profile)) != NULL) {
		cJSON_AddStringToObject(json, "toml", toml);
		free(toml);
	}
	return json;
}

cJSON *
profiles_list_json(const struct profiles *profiles)
{
	cJSON *json = cJSON_CreateObject(), *list, *errors, *item;

	if (json == NULL)
		return NULL;
	if (profiles->dir != NULL)
		cJSON_AddStringToObject(json, "dir", profiles->dir);
	else
		cJSON_AddNullToObject(json, "dir");
	/* A training under way: what a second one would be refused for. */
	if (profiles->train_request != NULL &&
	    (item = cJSON_AddObjectToObject(json, "training")) != NULL) {
		char pod[600];

		snprintf(pod, sizeof pod, "%s/%s", profiles->train_pod,
		    strchr(profiles->train_pod, '\0') + 1);
		cJSON_AddStringToObject(item, "pod", pod);
		cJSON_AddStringToObject(item, "name", profiles->train_name);
		cJSON_AddNumberToObject(item, "seconds", profiles->train_seconds);
	} else {
		cJSON_AddNullToObject(json, "training");
	}
	list = cJSON_AddArrayToObject(json, "profiles");
	errors = cJSON_AddArrayToObject(json, "errors");
	if (list == NULL || errors == NULL) {
		cJSON_Delete(json);
		return NULL;
	}
	for (size_t i = 0; i < profiles->file_count; i++) {
		const struct profiles_file *file = &profiles->files[i];

		if (file->good != NULL && !file->shadowed &&
		    (item = profiles_profile_json(file->good)) != NULL) {
			cJSON_AddBoolToObject(item, "stale", file->error != NULL);
			cJSON_AddItemToArray(list, item);
		}
		if (file->error != NULL || file->shadowed) {
			if ((item = cJSON_CreateObject()) == NULL)
				continue;
			cJSON_AddStringToObject(item, "file", file->file);
			if (file->error != NULL)
				cJSON_AddStringToObject(item, "error", file->error);
			else
				cJSON_AddStringToObject(item, "error", "another "
				    "file earlier by name has this profile's "
				    "name: not in effect");
			cJSON_AddBoolToObject(item, "last_good_in_effect",
			    file->good != NULL && file->error != NULL &&
			    !file->shadowed);
			cJSON_AddItemToArray(errors, item);
		}
	}
	for (size_t i = 0; i < profiles->builtin_count; i++) {
		const struct profile *profile = profiles->builtins[i];

		if (profiles_find(profiles, profile->name) != profile)
			continue;
		if ((item = profiles_profile_json(profile)) != NULL) {
			cJSON_AddBoolToObject(item, "stale", false);
			cJSON_AddItemToArray(list, item);
		}
	}
	return json;
}

static void
profiles_handle_list(struct http_request *request, void *arg)
{
	cJSON *json = profiles_list_json(arg);

	if (json == NULL) {
		http_respond_error(request, 500, "out of memory");
		return;
	}
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

static void
profiles_handle_show(struct http_request *request, void *arg)
{
	const char *path = http_request_path(request);
	const char *name = path + strlen("/api/v1/profiles/");
	const struct profile *profile = profiles_find(arg, name);
	cJSON *json;

	if (profile == NULL) {
		http_respond_error(request, 404, "no profile named \"%.64s\"",
		    name);
		return;
	}
	if ((json = profiles_profile_json(profile)) == NULL) {
		http_respond_error(request, 500, "out of memory");
		return;
	}
	http_respond_json(request, 200, json);
	cJSON_Delete(json);
}

int
profiles_register_routes(struct profiles *profiles, struct http_router *router,
    const struct profiles_train_source *source)
{
	int error;

	if ((error = http_router_add(router, "GET", "/api/v1/profiles",
	    profiles_handle_list, profiles)) != 0 ||
	    (error = http_router_add(router, "GET", "/api/v1/profiles/*",
	    profiles_handle_show, profiles)) != 0)
		return error;
	if (source == NULL || source->pod_cgroup == NULL)
		return 0;
	profiles->source = *source;
	profiles->has_source = true;
	return http_router_add(router, "POST", "/api/v1/profiles/train",
	    profiles_handle_train, profiles);
}
