/* t/test-profile.c - the profile parser: valid files, every refusal with its
 * file, line and reason, image detection, the builtins, render round trips. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "tap.h"

static struct profile *
parse(const char *text, char **cause)
{
	return profile_parse(text, strlen(text), "t.toml", cause);
}

/* The text must be refused with exactly this cause. */
static void
refused(const char *text, const char *expected, const char *name)
{
	char *cause = NULL;
	struct profile *profile = parse(text, &cause);

	ok(profile == NULL && errno == EINVAL, "refused: %s", name);
	is_str(cause, expected, "  with its file, line and reason");
	profile_free(profile);
	free(cause);
}

static void
test_valid(void)
{
	static const char text[] =
	    "name = \"web\"\n"
	    "description = \"a \\\"quoted\\\" server\"\n"
	    "[detect]\n"
	    "images = [\"nginx\", \"registry.local:5000/team/web\"]\n"
	    "[[group]]\n"
	    "name = \"hot\"\n"
	    "comm_prefix = \"spin\"\n"
	    "treatment = \"exclusive\"\n"
	    "[[group]]\n"
	    "name = \"chain\"\n"
	    "parent_comm_prefix = \"server\"\n"
	    "group_leader = false\n"
	    "treatment = \"latency\"\n"
	    "[[group]]\n"
	    "name = \"joined\"\n"
	    "cmd_join = \"housekeep\"\n"
	    "treatment = \"yield\"\n";
	char *cause = NULL, *rendered;
	struct profile *profile = parse(text, &cause), *again;

	ok(profile != NULL, "a valid profile parses");
	is_str(cause, NULL, "  without a cause");
	if (profile == NULL)
		return;
	is_str(profile->name, "web", "  name");
	is_str(profile->description, "a \"quoted\" server", "  description");
	is_int(profile->image_count, 2, "  two images");
	is_int(profile->group_count, 3, "  three groups");
	is_str(profile->groups[0].comm_prefix, "spin", "  comm_prefix");
	is_int(profile->groups[0].treatment, PROFILE_TREATMENT_EXCLUSIVE, "  exclusive");
	is_int(profile->groups[0].line, 5, "  the group's line");
	is_str(profile->groups[1].parent_comm_prefix, "server", "  parent_comm_prefix");
	is_int(profile->groups[1].group_leader, PROFILE_LEADER_NO, "  group_leader = false");
	is_int(profile->groups[1].treatment, PROFILE_TREATMENT_LATENCY, "  latency");
	is_str(profile->groups[2].cmd_join, "housekeep", "  cmd_join");
	is_int(profile->groups[2].treatment, PROFILE_TREATMENT_YIELD, "  yield");

	ok(profile_matches_image(profile, "nginx"), "image: bare repository");
	ok(profile_matches_image(profile, "nginx:1.27"), "image: with a tag");
	ok(profile_matches_image(profile, "docker.io/library/nginx@sha256:abcd"),
	    "image: Docker Hub spelt out, with a digest");
	ok(profile_matches_image(profile, "registry.local:5000/team/web:v2"),
	    "image: a registry with a port, and a tag");
	ok(profile_matches_image(profile, "registry.local:5000/team/web/sidecar"),
	    "image: a rule is a prefix ending at a '/'");
	ok(!profile_matches_image(profile, "nginx-exporter:1"),
	    "image: not a prefix in the middle of a name");
	ok(!profile_matches_image(profile, "registry.local:5000/team/webapp"),
	    "image: not a prefix in the middle of a path element");
	ok(!profile_matches_image(profile, "quay.io/nginx"),
	    "image: another registry is another image");

	rendered = profile_render(profile);
	ok(rendered != NULL, "rendered as TOML");
	again = rendered ? profile_parse(rendered, strlen(rendered), "again",
	    &cause) : NULL;
	ok(again != NULL && profile_equal(profile, again),
	    "the rendering reads back identically");
	if (cause != NULL)
		diag("%s", cause);
	profile_free(again);
	free(rendered);
	profile_free(profile);
}

static void
test_invalid(void)
{
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"0123456789abcdef\"\ntreatment = \"yield\"\n",
	    "t.toml: line 4, column 15: [[group]] comm_prefix "
	    "\"0123456789abcdef\" is 16 bytes; the kernel keeps at most 15 of "
	    "a thread's name, so it could never match",
	    "a comm prefix longer than the kernel keeps");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\ntreatment = \"fast\"\n",
	    "t.toml: line 5, column 13: group \"a\": treatment must be "
	    "\"exclusive\", \"latency\" or \"yield\"", "an unknown treatment");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefx = \"a\"\ntreatment = \"yield\"\n",
	    "t.toml: line 4, column 14: [[group]]: unknown key \"comm_prefx\" "
	    "(known: name, description, comm_prefix, parent_comm_prefix, "
	    "cmd_join, group_leader, treatment)", "a misspelt key");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ntreatment = \"yield\"\n",
	    "t.toml: line 2, column 1: group \"a\" matches every thread: give "
	    "comm_prefix, parent_comm_prefix, cmd_join or group_leader",
	    "a group without a condition");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\n",
	    "t.toml: line 2, column 1: group \"a\" needs a treatment "
	    "(exclusive, latency or yield)", "a group without a treatment");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\ntreatment = \"yield\"\n"
	    "[[group]]\nname = \"a\"\ncomm_prefix = \"b\"\ntreatment = \"yield\"\n",
	    "t.toml: line 6, column 1: group \"a\" is defined twice (first at "
	    "line 2)", "a group name twice");
	refused("name = \"Bad Name\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\ntreatment = \"yield\"\n",
	    "t.toml: line 1, column 8: profile name \"Bad Name\" must be "
	    "lower-case letters, digits and '-', starting with a letter, at "
	    "most 63 bytes", "an invalid profile name");
	refused("description = \"d\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\ntreatment = \"yield\"\n",
	    "t.toml: the profile needs a name (name = \"...\")", "no name");
	refused("name = \"x\"\n", "t.toml: profile \"x\" has no [[group]]",
	    "no group");
	refused("name = \"x\"\n[detect]\nimages = [\"mysql:8\"]\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\"\ntreatment = \"yield\"\n",
	    "t.toml: line 3, column 11: [detect] image \"mysql:8\" must be a "
	    "repository without tag, digest or spaces", "an image with a tag");
	refused("name = \"x\"\n[detect]\nimage = [\"mysql\"]\n",
	    "t.toml: line 3, column 9: [detect]: unknown key \"image\" "
	    "(known: images)", "a misspelt detect key");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ngroup_leader = \"yes\"\ntreatment = \"yield\"\n",
	    "t.toml: line 4, column 16: [[group]] group_leader must be a "
	    "boolean, not a string", "group_leader not a boolean");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncmd_join = \"thirteen-byte\"\ntreatment = \"yield\"\n",
	    "t.toml: line 4, column 12: [[group]] cmd_join \"thirteen-byte\" "
	    "is 13 bytes; the kernel keeps at most 12 of a thread's name, so "
	    "it could never match", "a cmd_join name beyond the join command");
	refused("name = \"x\"\n[[group]]\nname = \"a\"\ncomm_prefix = \"a\\u0001\"\ntreatment = \"yield\"\n",
	    "t.toml: line 4, column 15: [[group]]: comm_prefix holds a control "
	    "character", "a control character in a prefix");
	refused("name = \"x\"\ngroup = 3\n",
	    "t.toml: line 2, column 9: group must be an array of tables "
	    "([[group]]), not an integer", "group not an array of tables");
	refused("name = \"x\"\n[[group]\n",
	    "t.toml: line 2, column 9: expected ']]' closing a [[header]], "
	    "found end of line", "not TOML: the TOML reader's position kept");
}

static void
test_too_many_groups(void)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof text, "name = \"x\"\n");

	for (int i = 0; i <= PROFILE_MAX_GROUPS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "[[group]]\n"
		    "name = \"g%d\"\ncomm_prefix = \"c%d\"\ntreatment = \"yield\"\n",
		    i, i);
	refused(text, "t.toml: line 2, column 1: 9 groups, more than 8",
	    "more groups than a profile may have");
}

static void
test_builtins(void)
{
	is_int(profile_builtin_count, 3, "three builtin profiles");
	for (size_t i = 0; i < profile_builtin_count; i++) {
		char *cause = NULL;
		struct profile *profile = profile_parse(profile_builtins[i].text,
		    strlen(profile_builtins[i].text), "builtin", &cause);

		ok(profile != NULL, "builtin %s parses", profile_builtins[i].name);
		if (profile == NULL) {
			diag("%s", cause ? cause : "?");
			free(cause);
			continue;
		}
		is_str(profile->name, profile_builtins[i].name, "  its name");
		for (size_t g = 0; g < profile->group_count; g++) {
			const char *c = profile->groups[g].comm_prefix;

			ok(c == NULL || strlen(c) <= PROFILE_MAX_COMM,
			    "  group %s fits the kernel's comm", profile->groups[g].name);
		}
		profile_free(profile);
	}
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_too_many_groups();
	test_builtins();
	return done_testing();
}
