/*
 * profile.h - workload profiles: named thread groups inside a pod and the
 * treatment each receives from the scheduler.
 *
 * Pure: TOML text in, a struct out (profile.c); the builtin profiles are
 * TOML text read by the same parser (profile-builtin.c).  The format is
 * documented in temper-profile(5):
 *
 *	name = "mysql"
 *	description = "MySQL / InnoDB"
 *	[detect]
 *	images = ["mysql", "docker.io/library/mysql"]
 *	[[group]]
 *	name = "page-cleaners"
 *	comm_prefix = "ib_pg_flush"
 *	treatment = "yield"
 *
 * A group matches a thread when every condition it names holds (scx_layered
 * AND block): comm_prefix (CommPrefix), parent_comm_prefix (PcommPrefix: the
 * thread-group leader's comm), cmd_join (CmdJoin: the thread joined by
 * writing scx_layered's join command as its name) and group_leader
 * (IsGroupLeader).  Groups are tried in file order.
 */
#ifndef TEMPER_PROFILE_H
#define TEMPER_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "tier.h"

#define PROFILE_MAX_NAME 63		/* profile and group names */
#define PROFILE_MAX_GROUPS 8
#define PROFILE_MAX_IMAGES 16
#define PROFILE_MAX_COMM 15		/* TASK_COMM_LEN - 1 */
/* scx_layered's join command is 16 bytes: a 2-byte magic, an opcode and
 * the name with its NUL (examples/cmdjoin.c: SCX_LEN 13). */
#define PROFILE_MAX_CMD_JOIN 12
#define PROFILE_MAX_TEXT 4096		/* descriptions, images */
#define PROFILE_MAX_FILE (256 * 1024)	/* a profile file larger is refused */

enum profile_treatment {
	/* A hot loop: whole cores of its own, preempting, never shared. */
	PROFILE_TREATMENT_EXCLUSIVE,
	/* A wake chain: preempts and runs in short slices. */
	PROFILE_TREATMENT_LATENCY,
	/* Housekeeping: an Open layer of low weight, runs on what is idle. */
	PROFILE_TREATMENT_YIELD,
	PROFILE_TREATMENT_COUNT,
};

/* group_leader is a tri-state: not a condition, or must be true / false. */
enum profile_leader {
	PROFILE_LEADER_ANY,
	PROFILE_LEADER_YES,
	PROFILE_LEADER_NO,
};

struct profile_group {
	char *name;
	char *description;		/* or NULL */
	char *comm_prefix;		/* NULL when not a condition */
	char *parent_comm_prefix;
	char *cmd_join;
	enum profile_leader group_leader;
	enum profile_treatment treatment;
	unsigned line;			/* where [[group]] began */
};

struct profile {
	char *name;
	char *description;		/* or NULL */
	char *source;			/* "builtin" or the file's path */
	char **images;			/* [detect] images: repository prefixes */
	size_t image_count;
	struct profile_group *groups;
	size_t group_count;
	bool builtin;
};

/*
 * Read one profile.  source names it in errors ("builtin", a path).  NULL
 * with errno EINVAL and *cause "SOURCE: line L, column C: reason" (or
 * "SOURCE: reason" when no position applies), or ENOMEM.
 */
struct profile *profile_parse(const char *text, size_t len,
    const char *source, char **cause);
void profile_free(struct profile *profile);

/*
 * Whether the image (as a pod spec writes it: "[registry/]repo[:tag]
 * [@digest]") is one the profile's [detect] images names: an image rule
 * matches the repository exactly or as a prefix ending at a '/', with or
 * without a leading "docker.io/" or "docker.io/library/".
 */
bool profile_matches_image(const struct profile *profile, const char *image);

const char *profile_treatment_name(enum profile_treatment treatment);
int profile_treatment_from_name(const char *name,
    enum profile_treatment *treatment);

/* The profile as TOML, a file profile_parse() reads back identically;
 * malloc'd, NULL with errno. */
char *profile_render(const struct profile *profile);

/* Whether two profiles have the same name, images and groups. */
bool profile_equal(const struct profile *a, const struct profile *b);

/* Builtin profiles (profile-builtin.c): the TOML text of each. */
struct profile_builtin {
	const char *name;
	const char *text;
};
extern const struct profile_builtin profile_builtins[];
extern const size_t profile_builtin_count;

#endif
