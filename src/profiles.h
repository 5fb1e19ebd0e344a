/*
 * profiles.h - the node's workload profiles: the builtins, the profile
 * directory watched with inotify, selection for a pod, and the API.
 *
 * Files named *.toml in the directory (temper-profile(5)) are read at start
 * and again whenever the directory changes (uv_fs_event, debounced so an
 * editor's write-rename settles): a new or changed file applies without a
 * restart, a deleted one is dropped, and a broken one keeps its last good
 * version, its error logged, counted and shown by GET /api/v1/profiles.  A
 * file's profile hides a builtin of the same name; of two files with one
 * name the first by file name wins and the other is reported.
 *
 * Selection: the pod's temper.io/profile (or infera.io/profile) annotation
 * names the profile ("none": no profile, no detection); without it, the
 * first profile whose [detect] images match one of the pod's app
 * containers' images (files by file name, then the builtins).
 *
 * A profile returned by profiles_find() or profiles_select() stays valid
 * until the change callback has returned: plan again from it, and do not
 * keep the pointer past the next change.
 */
#ifndef TEMPER_PROFILES_H
#define TEMPER_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "profile.h"
#include "profile-config.h"

struct cJSON;
struct http_router;
struct metrics;
struct pod;
struct profiles;

/*
 * Training needs the pod's threads: the agent says where its cgroup is.
 * pod_cgroup returns the absolute cgroup directory of namespace/name
 * (malloc'd), or NULL with *cause (malloc'd) when the pod is unknown here.
 */
struct profiles_train_source {
	char *(*pod_cgroup)(void *arg, const char *namespace, const char *name,
	    char **cause);
	void *arg;
	const char *proc_root;		/* "/proc"; NULL: "/proc" */
};

/* dir NULL: builtins only.  NULL with errno and *cause. */
struct profiles *profiles_new(uv_loop_t *loop, struct metrics *metrics,
    const char *dir, char **cause);
/*
 * Read the directory and watch it.  A directory that does not exist is
 * logged and watched for nothing (builtins only); 0 or a negative errno
 * (a libuv failure).
 */
int profiles_start(struct profiles *profiles);
/* Called after a change of the effective profiles (not for a broken file). */
void profiles_on_change(struct profiles *profiles, void (*changed)(void *arg),
    void *arg);
/* Re-read the directory now (SIGHUP; the watch does this by itself).
 * Returns whether the effective profiles changed. */
bool profiles_rescan(struct profiles *profiles);
/* Close every handle (an unanswered training answers 503 first); done runs
 * once all close callbacks have run. */
void profiles_stop(struct profiles *profiles, void (*done)(void *arg),
    void *arg);
void profiles_free(struct profiles *profiles);

const struct profile *profiles_find(const struct profiles *profiles,
    const char *name);
const struct profile *profiles_select(const struct profiles *profiles,
    const struct pod *pod);

/* GET /api/v1/profiles, GET /api/v1/profiles/NAME, and with a source
 * POST /api/v1/profiles/train?pod=NS/NAME&seconds=N[&name=PROFILE].
 * 0 or -ENOMEM. */
int profiles_register_routes(struct profiles *profiles,
    struct http_router *router, const struct profiles_train_source *source);

/* The documents those routes answer (tests); NULL with errno. */
struct cJSON *profiles_list_json(const struct profiles *profiles);
struct cJSON *profiles_profile_json(const struct profile *profile);

#endif
