/*
 * t/fuzz/fuzz-profile.c - libFuzzer target for the profile reader.
 *
 * Oracles beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal is EINVAL with a cause naming the source ("fuzz: ...");
 *  - an accepted profile respects every bound the planner relies on
 *    (comm prefixes within the kernel's 15 bytes, at most 8 groups, a
 *    condition in every group);
 *  - an accepted profile, rendered back to TOML and read again, is equal.
 * Any violation aborts, which libFuzzer reports with its input.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_profile_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-profile: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

static void
fuzz_profile_check_bounds(const struct profile *profile)
{
	if (profile->group_count == 0 || profile->group_count > PROFILE_MAX_GROUPS)
		fuzz_profile_fail("group count out of bounds", profile->name);
	for (size_t i = 0; i < profile->group_count; i++) {
		const struct profile_group *group = &profile->groups[i];

		if ((group->comm_prefix && strlen(group->comm_prefix) > PROFILE_MAX_COMM) ||
		    (group->parent_comm_prefix &&
		    strlen(group->parent_comm_prefix) > PROFILE_MAX_COMM) ||
		    (group->cmd_join && strlen(group->cmd_join) > PROFILE_MAX_CMD_JOIN))
			fuzz_profile_fail("a prefix beyond the kernel's comm", group->name);
		if (group->comm_prefix == NULL && group->parent_comm_prefix == NULL &&
		    group->cmd_join == NULL && group->group_leader == PROFILE_LEADER_ANY)
			fuzz_profile_fail("a group without a condition", group->name);
		if (group->treatment >= PROFILE_TREATMENT_COUNT)
			fuzz_profile_fail("a treatment out of range", group->name);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *profile, *again;
	char *cause = NULL, *rendered;

	profile = profile_parse((const char *)data, size, "fuzz", &cause);
	if (profile == NULL) {
		if (errno == ENOMEM)
			return 0;
		if (errno != EINVAL || cause == NULL ||
		    strncmp(cause, "fuzz: ", 6) != 0)
			fuzz_profile_fail("a refusal without EINVAL and its source",
			    cause);
		free(cause);
		return 0;
	}
	if (cause != NULL)
		fuzz_profile_fail("a cause on success", cause);
	fuzz_profile_check_bounds(profile);
	if ((rendered = profile_render(profile)) == NULL)
		fuzz_profile_fail("render failed", profile->name);
	again = profile_parse(rendered, strlen(rendered), "rendered", &cause);
	if (again == NULL)
		fuzz_profile_fail("the rendering does not read back", cause);
	if (!profile_equal(profile, again))
		fuzz_profile_fail("the rendering reads back differently", rendered);
	profile_free(again);
	free(rendered);
	profile_free(profile);
	return 0;
}
