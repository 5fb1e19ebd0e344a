/*
 * t/test-profile-train.c - training mode on real threads: t/profile-workload
 * runs a hot loop, a wake chain and a housekeeper; two snapshots of the
 * kernel's per-thread scheduler figures two seconds apart must classify
 * each as exclusive, latency and yield, and the synthesized profile must
 * read back through the profile parser.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"
#include "profile-train.h"
#include "tap.h"

static const struct profile_train_group *
group_of(const struct profile_train_result *result, const char *key)
{
	for (size_t i = 0; i < result->count; i++)
		if (strcmp(result->groups[i].key, key) == 0)
			return &result->groups[i];
	return NULL;
}

static void
expect(const struct profile_train_result *result, const char *key, int treatment)
{
	const struct profile_train_group *group = group_of(result, key);

	if (!ok(group != NULL && group->treatment == treatment,
	    "\"%s\" classified %s", key, profile_treatment_name(treatment)))
		diag("  got %s", group ? (group->treatment < 0 ? "none" :
		    profile_treatment_name(group->treatment)) : "no group");
	if (group != NULL)
		diag("  %zu thread(s): ran %.3f, wanted %.3f of a CPU, %.1f "
		    "wakeups/s, %.0f us per run, %.0f us wait per run",
		    group->threads, group->cpu_share, group->demand_share,
		    group->wakeups_per_second, group->run_us,
		    group->wait_us);
}

int
main(void)
{
	const char *build = getenv("TOP_BUILDDIR");
	struct profile_train_snapshot before, after;
	struct profile_train_result result;
	struct profile_train_rules rules;
	struct profile *profile;
	char path[4096], line[64], *toml, *cause = NULL;
	struct timespec window = { 2, 0 };
	int out[2], status;
	FILE *ready;
	pid_t child;

	snprintf(path, sizeof path, "%s/t/profile-workload", build ? build : ".");
	if (access(path, X_OK) != 0)
		skip_all("%s not built", path);
	if (pipe(out) != 0 || (child = fork()) < 0)
		return 1;
	if (child == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	ready = fdopen(out[0], "r");
	ok(fgets(line, sizeof line, ready) != NULL && strcmp(line, "ready\n") == 0,
	    "the workload's threads are named");

	ok(profile_train_snapshot_pids(&child, 1, "/proc", &before) == 0 &&
	    before.count == 5, "first snapshot: 5 threads");
	nanosleep(&window, NULL);
	ok(profile_train_snapshot_pids(&child, 1, "/proc", &after) == 0 &&
	    after.count == 5, "second snapshot, 2 s later");
	profile_train_rules_default(&rules);
	ok(profile_train_classify(&before, &after, &rules, &result) == 0,
	    "classified");
	expect(&result, "hot", PROFILE_TREATMENT_EXCLUSIVE);
	expect(&result, "chain-", PROFILE_TREATMENT_LATENCY);
	expect(&result, "housekeep", PROFILE_TREATMENT_YIELD);
	ok(group_of(&result, "chain-") && group_of(&result, "chain-")->threads == 2,
	    "chain-1 and chain-2 are one group");

	toml = profile_train_render(&result, "trained", "t/profile-workload");
	ok(toml != NULL, "a profile synthesized");
	profile = toml ? profile_parse(toml, strlen(toml), "trained", &cause) : NULL;
	if (!ok(profile != NULL, "it reads back as a profile"))
		diag("%s\n%s", cause ? cause : "?", toml ? toml : "");
	ok(toml != NULL && strstr(toml, "# \"hot\": 1 thread") != NULL,
	    "the evidence is in comments");
	if (profile != NULL)
		diag("synthesized:\n%s", toml);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	fclose(ready);
	free(cause);
	free(toml);
	profile_free(profile);
	profile_train_result_free(&result);
	profile_train_snapshot_free(&before);
	profile_train_snapshot_free(&after);
	return done_testing();
}
