/*
 * t/test-profiles.c - the profile directory on a real loop: files added,
 * changed, broken (the last good version stays, the error is reported) and
 * deleted apply through inotify without a restart; selection by annotation
 * and by image; [profiles] of temper.conf; the API documents.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "pod.h"
#include "profile-config.h"
#include "profiles.h"
#include "toml.h"
#include "tap.h"

static unsigned changes;
static bool timed_out;

static void
on_change(void *arg)
{
	(void)arg;
	changes++;
}

static void
on_timeout(uv_timer_t *timer)
{
	timed_out = true;
	uv_stop(timer->loop);
}

static void
on_change_stop(void *arg)
{
	changes++;
	uv_stop(arg);
}

/* Run the loop until the next change callback, or 5 s. */
static bool
wait_change(uv_loop_t *loop, uv_timer_t *timer)
{
	unsigned before = changes;

	timed_out = false;
	uv_timer_start(timer, on_timeout, 5000, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_timer_stop(timer);
	return changes > before;
}

/* Run the loop for ms (the debounce and a rescan that changes nothing). */
static void
settle(uv_loop_t *loop, uv_timer_t *timer, unsigned ms)
{
	uv_timer_start(timer, on_timeout, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[4096], temp[4096];
	FILE *file;

	/* As editors and config management do: write aside, then rename. */
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(temp, sizeof temp, "%s/.%s.tmp", dir, name);
	if ((file = fopen(temp, "w")) == NULL || fputs(text, file) < 0 ||
	    fclose(file) != 0 || rename(temp, path) != 0)
		abort();
}

static const char web_v1[] =
    "name = \"web\"\n[detect]\nimages = [\"nginx\"]\n"
    "[[group]]\nname = \"workers\"\ncomm_prefix = \"nginx\"\ntreatment = \"latency\"\n";
static const char web_v2[] =
    "name = \"web\"\n[detect]\nimages = [\"nginx\"]\n"
    "[[group]]\nname = \"workers\"\ncomm_prefix = \"nginx\"\ntreatment = \"yield\"\n";
static const char web_broken[] =
    "name = \"web\"\n[[group]]\nname = \"workers\"\ncomm_prefix = \"nginx\"\n"
    "treatment = \"fastest\"\n";
static const char mysql_override[] =
    "name = \"mysql\"\n[detect]\nimages = [\"mysql\"]\n"
    "[[group]]\nname = \"all\"\nparent_comm_prefix = \"mysqld\"\ntreatment = \"latency\"\n";

static struct pod
make_pod(const char *annotation, struct pod_container *container,
    const char *image)
{
	struct pod pod;

	memset(&pod, 0, sizeof pod);
	memset(container, 0, sizeof *container);
	container->name = "main";
	container->image = image;
	pod.uid = "u";
	pod.namespace = "ns";
	pod.name = "p";
	pod.profile = annotation;
	pod.containers = container;
	pod.container_count = 1;
	return pod;
}

static const char *
selected(struct profiles *profiles, const char *annotation, const char *image)
{
	struct pod_container container;
	struct pod pod = make_pod(annotation, &container, image);
	const struct profile *profile = profiles_select(profiles, &pod);

	return profile ? profile->name : NULL;
}

static void
test_config(void)
{
	struct profile_config config;
	struct toml_value *root;
	char *cause = NULL;
	static const char good[] = "[profiles]\ndir = \"/srv/profiles\"\n";
	static const char bad[] = "[profiles]\ndir = \"relative\"\n";
	static const char unknown[] = "[profiles]\ndirectory = \"/x\"\n";

	profile_config_defaults(&config);
	is_str(config.dir, "/etc/temper/profiles", "[profiles] dir defaults");
	root = toml_parse(good, strlen(good), NULL);
	ok(profile_config_from_toml(root, &config, &cause) == 0 &&
	    strcmp(config.dir, "/srv/profiles") == 0, "[profiles] dir read");
	toml_free(root);
	root = toml_parse(bad, strlen(bad), NULL);
	ok(profile_config_from_toml(root, &config, &cause) == -EINVAL,
	    "a relative dir refused");
	is_str(cause, "line 2, column 7: [profiles] dir must be an absolute path",
	    "  with its line and column");
	free(cause);
	cause = NULL;
	toml_free(root);
	root = toml_parse(unknown, strlen(unknown), NULL);
	ok(profile_config_from_toml(root, &config, &cause) == -EINVAL,
	    "an unknown key refused");
	is_str(cause, "line 2, column 13: [profiles] unknown key (known: dir)",
	    "  with its line and column");
	is_str(config.dir, "/srv/profiles", "  the config untouched");
	free(cause);
	toml_free(root);
	profile_config_free(&config);
}

int
main(void)
{
	char dir[] = "/tmp/temper-profiles.XXXXXX", path[4096];
	struct profiles *profiles;
	uv_loop_t loop;
	uv_timer_t timer;
	cJSON *json, *errors;
	char *cause = NULL;

	test_config();
	if (mkdtemp(dir) == NULL)
		return 1;
	uv_loop_init(&loop);
	uv_timer_init(&loop, &timer);

	write_file(dir, "web.toml", web_v1);
	write_file(dir, "notes.txt", "not a profile\n");
	profiles = profiles_new(&loop, NULL, dir, &cause);
	ok(profiles != NULL, "profiles created");
	ok(profiles_start(profiles) == 0, "started: the directory read and watched");
	profiles_on_change(profiles, on_change_stop, &loop);
	ok(profiles_find(profiles, "web") != NULL, "web.toml in effect at start");
	ok(profiles_find(profiles, "pytorch") != NULL &&
	    profiles_find(profiles, "mysql")->builtin, "the builtins too");

	/* Selection. */
	is_str(selected(profiles, NULL, "nginx:1.27"), "web", "detected by image");
	is_str(selected(profiles, NULL, "docker.io/library/mysql:8.4"), "mysql",
	    "a builtin detected by image");
	is_str(selected(profiles, "jvm", "nginx:1.27"), "jvm",
	    "the annotation wins over detection");
	is_str(selected(profiles, "none", "nginx:1.27"), NULL,
	    "annotation \"none\": no profile, no detection");
	is_str(selected(profiles, "missing", "nginx"), NULL,
	    "an unknown name selects nothing");
	is_str(selected(profiles, NULL, "busybox"), NULL, "no rule matches");

	/* A change applies without a restart. */
	write_file(dir, "web.toml", web_v2);
	ok(wait_change(&loop, &timer), "a changed file: the change callback ran");
	ok(profiles_find(profiles, "web") &&
	    profiles_find(profiles, "web")->groups[0].treatment ==
	    PROFILE_TREATMENT_YIELD, "  the new version is in effect");

	/* A broken file keeps its last good version, and is reported. */
	write_file(dir, "web.toml", web_broken);
	settle(&loop, &timer, 300);
	ok(profiles_find(profiles, "web") &&
	    profiles_find(profiles, "web")->groups[0].treatment ==
	    PROFILE_TREATMENT_YIELD, "a broken file: its last good version stays");
	json = profiles_list_json(profiles);
	errors = cJSON_GetObjectItem(json, "errors");
	ok(cJSON_GetArraySize(errors) == 1, "  the error is listed");
	snprintf(path, sizeof path, "%s/web.toml: line 5, column 13: group "
	    "\"workers\": treatment must be \"exclusive\", \"latency\" or "
	    "\"yield\"", dir);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(errors, 0), "error")), path,
	    "  naming the file, line and reason");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 0),
	    "last_good_in_effect")), "  and that the last good version is in effect");
	cJSON_Delete(json);

	/* A new file applies; it hides the builtin of its name. */
	write_file(dir, "mysql.toml", mysql_override);
	ok(wait_change(&loop, &timer), "a new file: the change callback ran");
	ok(profiles_find(profiles, "mysql") &&
	    !profiles_find(profiles, "mysql")->builtin,
	    "  the file's mysql hides the builtin");
	json = profiles_list_json(profiles);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(json, "profiles")), 4,
	    "  listed: web, mysql (file), pytorch, jvm");
	cJSON_Delete(json);

	/* A deleted file is dropped; the builtin is back. */
	snprintf(path, sizeof path, "%s/mysql.toml", dir);
	unlink(path);
	ok(wait_change(&loop, &timer), "a deleted file: the change callback ran");
	ok(profiles_find(profiles, "mysql") &&
	    profiles_find(profiles, "mysql")->builtin, "  the builtin mysql is back");

	/* The fixed file applies again. */
	write_file(dir, "web.toml", web_v1);
	ok(wait_change(&loop, &timer), "the broken file fixed: the change callback ran");
	json = profiles_list_json(profiles);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(json, "errors")), 0,
	    "  no error listed any more");
	cJSON_Delete(json);
	json = profiles_profile_json(profiles_find(profiles, "web"));
	ok(json && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(json, "toml")),
	    "treatment = \"latency\"") != NULL, "show: the profile as TOML");
	cJSON_Delete(json);
	profiles_on_change(profiles, on_change, NULL);

	profiles_stop(profiles, NULL, NULL);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "every handle closed");
	profiles_free(profiles);
	snprintf(path, sizeof path, "%s/web.toml", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
