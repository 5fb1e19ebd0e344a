/*
 * temperctl.h - the operator CLI's private interface: what the subcommand
 * families (temperctl.c: the agent's API; temperctl-simulate.c: offline
 * planning; temperctl-top.c: the live view) share.
 */
#ifndef TEMPERCTL_H
#define TEMPERCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "api-client.h"

/* Exit codes, documented in temperctl(1). */
enum temperctl_exit {
	TEMPERCTL_EXIT_OK = 0,
	TEMPERCTL_EXIT_AGENT_ERROR = 1,	/* the agent answered an error */
	TEMPERCTL_EXIT_USAGE = 2,
	TEMPERCTL_EXIT_UNREACHABLE = 3,	/* no answer from the agent */
	TEMPERCTL_EXIT_UNSUPPORTED = 4,	/* the agent lacks the route */
	TEMPERCTL_EXIT_LOCAL = 5,	/* a local file or input is unusable */
};

/* Every option of every subcommand, parsed once. */
struct temperctl_args {
	const char *agent;
	const char *token_file;
	const char *ca_file;
	bool insecure;
	bool json;
	int timeout_ms;

	const char *generation;		/* config show */
	const char *seconds;		/* trace */
	const char *output;		/* trace */

	/* simulate */
	const char *pods_file;
	const char *cpus;
	const char *topology_dir;
	const char *threads_per_core;
	const char *llcs;
	const char *numa_nodes;
	const char *config_file;
	const char *allocatable;
	const char *cgroup_root;
	const char *cgroup_driver;
	const char *node_name;
	const char *agent_cgroup;

	/* top */
	const char *interval;
	const char *iterations;

	/* which were given, to refuse those a subcommand does not take */
	unsigned long given;
};

struct temperctl {
	struct temperctl_args args;
	struct api_client_options client_options;
	struct api_client *client;
	char *token;
	const char *command;		/* for messages: "config show" */
};

/* Print "temperctl: ..." on stderr; returns code for `return temperctl_fail(...)`. */
__attribute__((format(printf, 2, 3)))
int temperctl_fail(int code, const char *fmt, ...);
/* A usage error for the current command: the message and a hint. */
__attribute__((format(printf, 2, 3)))
int temperctl_usage_error(const struct temperctl *ctl, const char *fmt, ...);

/* Make ctl->client from the options and environment; an exit code. */
int temperctl_connect(struct temperctl *ctl);

/*
 * One request to the agent.  On success (a 2xx answer) 0 with *response
 * filled and, when json is not NULL, the parsed body.  Otherwise the
 * failure is printed and the exit code returned: UNREACHABLE when the
 * agent could not be reached, UNSUPPORTED when it has no such route (a
 * 404 "no such path" or a 405), AGENT_ERROR for any other error answer.
 */
int temperctl_call(struct temperctl *ctl, const char *method, const char *path,
    const char *body, struct api_response *response, cJSON **json);

/* The same, quiet about a 404/405 for a missing route: *missing is set. */
int temperctl_call_optional(struct temperctl *ctl, const char *method,
    const char *path, struct api_response *response, cJSON **json,
    bool *missing);

/* Parse a positive integer option; false for anything else. */
bool temperctl_parse_unsigned(const char *text, unsigned long max,
    unsigned long *out);

int temperctl_simulate(struct temperctl *ctl, int argc, char **argv);
int temperctl_top(struct temperctl *ctl, int argc, char **argv);

#endif
