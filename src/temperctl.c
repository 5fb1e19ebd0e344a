/*
 * temperctl.c - the operator CLI: options, the agent's address and token,
 * and the subcommands that read or change an agent through /api/v1.
 * Offline planning is in temperctl-simulate.c, the live view in
 * temperctl-top.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api-client.h"
#include "buf.h"
#include "temperctl.h"
#include "tier.h"

/* Long options; the bit of each in temperctl_args.given. */
enum temperctl_option {
	OPT_AGENT = 1,
	OPT_TOKEN_FILE,
	OPT_CA_FILE,
	OPT_INSECURE,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_GENERATION,
	OPT_SECONDS,
	OPT_OUTPUT,
	OPT_PODS,
	OPT_CPUS,
	OPT_TOPOLOGY,
	OPT_THREADS_PER_CORE,
	OPT_LLCS,
	OPT_NUMA_NODES,
	OPT_CONFIG,
	OPT_ALLOCATABLE,
	OPT_CGROUP_ROOT,
	OPT_CGROUP_DRIVER,
	OPT_NODE,
	OPT_AGENT_CGROUP,
	OPT_INTERVAL,
	OPT_ITERATIONS,
	OPT_HELP,
	OPT_VERSION,
};
#define OPT_BIT(option) (1ul << (option))
#define OPT_CONNECTION (OPT_BIT(OPT_AGENT) | OPT_BIT(OPT_TOKEN_FILE) | \
	OPT_BIT(OPT_CA_FILE) | OPT_BIT(OPT_INSECURE) | OPT_BIT(OPT_TIMEOUT))

static const struct option temperctl_options[] = {
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "generation", required_argument, NULL, OPT_GENERATION },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "pods", required_argument, NULL, OPT_PODS },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "threads-per-core", required_argument, NULL, OPT_THREADS_PER_CORE },
	{ "llcs", required_argument, NULL, OPT_LLCS },
	{ "numa-nodes", required_argument, NULL, OPT_NUMA_NODES },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "allocatable", required_argument, NULL, OPT_ALLOCATABLE },
	{ "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
	{ "cgroup-driver", required_argument, NULL, OPT_CGROUP_DRIVER },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "agent-cgroup", required_argument, NULL, OPT_AGENT_CGROUP },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "iterations", required_argument, NULL, OPT_ITERATIONS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char temperctl_usage_text[] =
"usage: temperctl [--agent ADDR] [--token-file FILE] [--ca-file FILE] [--insecure]\n"
"                 [--timeout MS] [--json] COMMAND [ARGS]\n"
"commands:\n"
"  status                          the agent, its plan and safe mode\n"
"  pods                            every pod: tier, layer, request, why\n"
"  explain POD                     why a pod is where it is (POD: NAME, NS/NAME or UID)\n"
"  config show [--generation G]    the scx_layered configuration\n"
"  config generations              the kept generations\n"
"  config diff G1 G2               a unified diff between two generations\n"
"  reload                          plan now\n"
"  safe-mode on|off                stand enforcement down, or resume\n"
"  trace --seconds N -o FILE       capture a Chrome JSON scheduling trace\n"
"  profiles list|show NAME|train NS/POD [SECONDS [NAME]]   workload profiles\n"
"  simulate --pods FILE (--cpus N | --topology DIR) [...]\n"
"                                  plan offline with the agent's planner\n"
"  top [--interval MS]             a live view of tiers, latency, busy threads\n"
"ADDR: a unix socket path (default " API_CLIENT_DEFAULT_SOCKET ", or $TEMPER_AGENT)\n"
"      or http(s)://HOST:PORT; the token comes from --token-file or $TEMPER_TOKEN.\n"
"exit: 0 ok, 1 the agent answered an error, 2 usage, 3 the agent cannot be\n"
"      reached, 4 not supported by this agent, 5 a local file or input is unusable.\n";

int
temperctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("temperctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
temperctl_usage_error(const struct temperctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("temperctl: ", stderr);
	if (ctl->command != NULL)
		fprintf(stderr, "%s: ", ctl->command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(temperctl --help lists the commands)\n", stderr);
	return TEMPERCTL_EXIT_USAGE;
}

bool
temperctl_parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long value;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return false;
	*out = value;
	return true;
}

/* --- talking to the agent -------------------------------------------------- */

/* The token file's first line, without trailing whitespace. */
static int
temperctl_read_token(struct temperctl *ctl, const char *path)
{
	char line[4096];
	size_t len;
	FILE *file = fopen(path, "r");

	if (file == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "cannot read the token file %s: %s",
		    path, strerror(errno));
	if (fgets(line, sizeof line, file) == NULL)
		line[0] = '\0';
	fclose(file);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	if (len == 0)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "the token file %s is empty", path);
	if ((ctl->token = strdup(line)) == NULL)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
	explicit_bzero(line, sizeof line);
	return TEMPERCTL_EXIT_OK;
}

int
temperctl_connect(struct temperctl *ctl)
{
	const char *token = getenv("TEMPER_TOKEN");
	char *cause = NULL;
	int code;

	if (ctl->client != NULL)
		return TEMPERCTL_EXIT_OK;
	ctl->client_options.address = ctl->args.agent ? ctl->args.agent : getenv("TEMPER_AGENT");
	if (ctl->client_options.address != NULL && ctl->client_options.address[0] == '\0')
		ctl->client_options.address = NULL;
	if (ctl->args.token_file != NULL) {
		if ((code = temperctl_read_token(ctl, ctl->args.token_file)) != 0)
			return code;
		token = ctl->token;
	}
	ctl->client_options.token = token != NULL && token[0] != '\0' ? token : NULL;
	ctl->client_options.ca_file = ctl->args.ca_file;
	ctl->client_options.insecure = ctl->args.insecure;
	ctl->client_options.timeout_ms = ctl->args.timeout_ms;
	ctl->client = api_client_new(&ctl->client_options, &cause);
	if (ctl->client == NULL) {
		code = errno == EINVAL ? TEMPERCTL_EXIT_USAGE : TEMPERCTL_EXIT_LOCAL;
		temperctl_fail(code, "%s", cause ? cause : strerror(errno));
		free(cause);
		return code;
	}
	return TEMPERCTL_EXIT_OK;
}

/* The reason in an {"error": "..."} answer, or the body's first line. */
static char *
temperctl_error_text(const struct api_response *response)
{
	cJSON *json = cJSON_ParseWithLength(response->body.data ? response->body.data : "",
	    response->body.len);
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	char *text;

	if (cJSON_IsString(error))
		text = strdup(error->valuestring);
	else if (response->body.len > 0)
		text = strndup(response->body.data, strcspn(response->body.data, "\n"));
	else
		text = strdup("(no reason given)");
	cJSON_Delete(json);
	return text;
}

static bool
temperctl_route_missing(const struct api_response *response)
{
	char *text;
	bool missing;

	if (response->status == 405)
		return true;
	if (response->status != 404)
		return false;
	text = temperctl_error_text(response);
	missing = text != NULL && strncmp(text, "no such path", 12) == 0;
	free(text);
	return missing;
}

static int
temperctl_call_internal(struct temperctl *ctl, const char *method, const char *path,
    const char *body, struct api_response *response, cJSON **json, bool *missing)
{
	char *cause = NULL, *reason;
	int code, error;

	if (json != NULL)
		*json = NULL;
	if (missing != NULL)
		*missing = false;
	if ((code = temperctl_connect(ctl)) != 0)
		return code;
	error = api_client_request(ctl->client, method, path,
	    body ? "application/json" : NULL, body, body ? strlen(body) : 0, response, &cause);
	if (error != 0) {
		code = error == -ENOMEM || error == -EFBIG ? TEMPERCTL_EXIT_LOCAL :
		    error == -EPROTO ? TEMPERCTL_EXIT_AGENT_ERROR : TEMPERCTL_EXIT_UNREACHABLE;
		temperctl_fail(code, "%s %s: %s", method, path, cause ? cause : strerror(-error));
		free(cause);
		return code;
	}
	if (response->status < 200 || response->status > 299) {
		if (temperctl_route_missing(response)) {
			if (missing != NULL) {
				*missing = true;
				return TEMPERCTL_EXIT_UNSUPPORTED;
			}
			return temperctl_fail(TEMPERCTL_EXIT_UNSUPPORTED,
			    "not supported by this agent: %s %s answered %d (agent at %s)",
			    method, path, response->status, api_client_address(ctl->client));
		}
		reason = temperctl_error_text(response);
		temperctl_fail(TEMPERCTL_EXIT_AGENT_ERROR, "the agent at %s answered %d to %s %s: %s",
		    api_client_address(ctl->client), response->status, method, path,
		    reason ? reason : "(no reason given)");
		free(reason);
		return TEMPERCTL_EXIT_AGENT_ERROR;
	}
	if (json != NULL) {
		*json = cJSON_ParseWithLength(response->body.data ? response->body.data : "",
		    response->body.len);
		if (*json == NULL)
			return temperctl_fail(TEMPERCTL_EXIT_AGENT_ERROR,
			    "the agent at %s answered %s %s with something that is not JSON",
			    api_client_address(ctl->client), method, path);
	}
	return TEMPERCTL_EXIT_OK;
}

int
temperctl_call(struct temperctl *ctl, const char *method, const char *path,
    const char *body, struct api_response *response, cJSON **json)
{
	return temperctl_call_internal(ctl, method, path, body, response, json, NULL);
}

int
temperctl_call_optional(struct temperctl *ctl, const char *method, const char *path,
    struct api_response *response, cJSON **json, bool *missing)
{
	return temperctl_call_internal(ctl, method, path, NULL, response, json, missing);
}

/* Print the agent's body unchanged (--json, config show). */
static void
temperctl_print_body(const struct api_response *response)
{
	if (response->body.len == 0)
		return;
	fwrite(response->body.data, 1, response->body.len, stdout);
	if (response->body.data[response->body.len - 1] != '\n')
		putchar('\n');
}

/* --- JSON field helpers ---------------------------------------------------- */

static const char *
temperctl_string(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool
temperctl_bool(const cJSON *object, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(object, name));
}

static double
temperctl_number(const cJSON *object, const char *name, double fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

static const char *
temperctl_yes(bool value)
{
	return value ? "yes" : "no";
}

/* --- status ---------------------------------------------------------------- */

static int
temperctl_status(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	const cJSON *kube, *enforcement, *safe, *plan, *item;
	cJSON *json = NULL;
	int code;

	(void)argv;
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no arguments");
	if ((code = temperctl_call(ctl, "GET", "/api/v1/status", NULL, &response, &json)) != 0)
		goto out;
	if (ctl->args.json) {
		temperctl_print_body(&response);
		goto out;
	}
	kube = cJSON_GetObjectItemCaseSensitive(json, "kubernetes");
	enforcement = cJSON_GetObjectItemCaseSensitive(json, "enforcement");
	safe = cJSON_GetObjectItemCaseSensitive(json, "safe_mode");
	plan = cJSON_GetObjectItemCaseSensitive(json, "plan");
	printf("agent:       %s\n", api_client_address(ctl->client));
	printf("node:        %s (temperd %s, roles %s)\n",
	    temperctl_string(json, "node") && temperctl_string(json, "node")[0] ?
	    temperctl_string(json, "node") : "(no node name)",
	    temperctl_string(json, "version") ? temperctl_string(json, "version") : "?",
	    temperctl_string(json, "roles") ? temperctl_string(json, "roles") : "?");
	printf("ready:       %s\n", temperctl_yes(temperctl_bool(json, "ready")));
	printf("topology:    %s\n", temperctl_string(json, "topology") ?
	    temperctl_string(json, "topology") : "?");
	printf("kubernetes:  %s, pods %s, node %s; %.0f annotation patches, %.0f failed\n",
	    temperctl_bool(kube, "configured") ? "configured" : "not configured",
	    temperctl_bool(kube, "pods_synced") ? "listed" : "not listed yet",
	    temperctl_bool(kube, "node_synced") ? "read" : "not read yet",
	    temperctl_number(kube, "annotation_patches", 0),
	    temperctl_number(kube, "annotation_patch_failures", 0));
	if (temperctl_string(kube, "error") != NULL)
		printf("             error: %s\n", temperctl_string(kube, "error"));
	printf("enforcement: mode %s, %s\n             %s\n",
	    temperctl_string(enforcement, "mode") ? temperctl_string(enforcement, "mode") : "?",
	    temperctl_string(enforcement, "state") ? temperctl_string(enforcement, "state") : "?",
	    temperctl_string(enforcement, "reason") ? temperctl_string(enforcement, "reason") : "");
	printf("safe mode:   %s (node annotation %s, API %s%s%s)\n",
	    temperctl_bool(safe, "active") ? "ON" : "off",
	    temperctl_yes(temperctl_bool(safe, "annotation")),
	    temperctl_yes(temperctl_bool(safe, "api")),
	    temperctl_string(safe, "source") ? "; requested by " : "",
	    temperctl_string(safe, "source") ? temperctl_string(safe, "source") : "");
	printf("plan:        generation %.0f after %.0f passes, %.0f pods, membership %s\n",
	    temperctl_number(plan, "generation", 0), temperctl_number(plan, "passes", 0),
	    temperctl_number(plan, "pods", 0),
	    temperctl_string(plan, "membership") ? temperctl_string(plan, "membership") : "?");
	printf("layers:     ");
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(plan, "layers"))
		printf(" %s", cJSON_IsString(item) ? item->valuestring : "?");
	putchar('\n');
	if (temperctl_string(plan, "error") != NULL)
		printf("plan error:  %s\n", temperctl_string(plan, "error"));
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(plan, "notes"))
		if (cJSON_IsString(item))
			printf("note:        %s\n", item->valuestring);
out:
	cJSON_Delete(json);
	api_response_free(&response);
	return code;
}

/* --- pods ------------------------------------------------------------------ */

static int
temperctl_tier_rank(const cJSON *pod)
{
	enum tier tier;
	const char *name = temperctl_string(pod, "tier");

	return name != NULL && tier_from_name(name, &tier) == 0 ? (int)tier : TIER_COUNT;
}

static int
temperctl_pod_compare(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int rank = temperctl_tier_rank(x) - temperctl_tier_rank(y), by;

	if (rank != 0)
		return rank;
	if ((by = strcmp(temperctl_string(x, "namespace") ? temperctl_string(x, "namespace") : "",
	    temperctl_string(y, "namespace") ? temperctl_string(y, "namespace") : "")) != 0)
		return by;
	return strcmp(temperctl_string(x, "name") ? temperctl_string(x, "name") : "",
	    temperctl_string(y, "name") ? temperctl_string(y, "name") : "");
}

static int
temperctl_pods(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	cJSON *json = NULL, *item;
	const cJSON **sorted = NULL;
	size_t count = 0, width = 4;
	char name[512];
	int code;

	(void)argv;
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no arguments");
	if ((code = temperctl_call(ctl, "GET", "/api/v1/pods", NULL, &response, &json)) != 0)
		goto out;
	if (ctl->args.json) {
		temperctl_print_body(&response);
		goto out;
	}
	if (!cJSON_IsArray(json)) {
		code = temperctl_fail(TEMPERCTL_EXIT_AGENT_ERROR,
		    "the agent at %s answered GET /api/v1/pods with no array",
		    api_client_address(ctl->client));
		goto out;
	}
	if ((sorted = calloc((size_t)cJSON_GetArraySize(json) + 1, sizeof *sorted)) == NULL) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(item, json) {
		sorted[count++] = item;
		snprintf(name, sizeof name, "%s/%s", temperctl_string(item, "namespace") ?
		    temperctl_string(item, "namespace") : "?", temperctl_string(item, "name") ?
		    temperctl_string(item, "name") : "?");
		if (strlen(name) > width)
			width = strlen(name);
	}
	qsort(sorted, count, sizeof *sorted, temperctl_pod_compare);
	printf("%-*s  %-10s  %-12s  %7s  %s\n", (int)width, "POD", "TIER", "LAYER", "REQUEST", "WHY");
	for (size_t i = 0; i < count; i++) {
		const char *layer = temperctl_string(sorted[i], "layer");
		char request[32];

		snprintf(name, sizeof name, "%s/%s", temperctl_string(sorted[i], "namespace") ?
		    temperctl_string(sorted[i], "namespace") : "?",
		    temperctl_string(sorted[i], "name") ? temperctl_string(sorted[i], "name") : "?");
		snprintf(request, sizeof request, "%.0fm",
		    temperctl_number(sorted[i], "cpu_request_millis", 0));
		printf("%-*s  %-10s  %-12s  %7s  %s\n", (int)width, name,
		    temperctl_string(sorted[i], "tier") ? temperctl_string(sorted[i], "tier") : "?",
		    layer ? layer : "(none)", request,
		    temperctl_string(sorted[i], "why") ? temperctl_string(sorted[i], "why") : "");
	}
	if (count == 0)
		printf("(no pods on this node)\n");
out:
	free(sorted);
	cJSON_Delete(json);
	api_response_free(&response);
	return code;
}

/* --- explain --------------------------------------------------------------- */

/* Find POD (NAME, NAMESPACE/NAME or UID) among the agent's pods. */
static int
temperctl_find_pod(const struct temperctl *ctl, const cJSON *pods, const char *query,
    const cJSON **found)
{
	const char *slash = strchr(query, '/');
	const cJSON *item;
	struct buf candidates = BUF_INIT;
	size_t matches = 0;

	*found = NULL;
	cJSON_ArrayForEach(item, pods) {
		const char *namespace = temperctl_string(item, "namespace");
		const char *name = temperctl_string(item, "name");
		const char *uid = temperctl_string(item, "uid");
		bool hit;

		if (namespace == NULL || name == NULL)
			continue;
		if (slash != NULL)
			hit = strlen(namespace) == (size_t)(slash - query) &&
			    strncmp(namespace, query, (size_t)(slash - query)) == 0 &&
			    strcmp(name, slash + 1) == 0;
		else
			hit = strcmp(name, query) == 0 || (uid != NULL && strcmp(uid, query) == 0);
		if (hit) {
			*found = item;
			matches++;
			buf_printf(&candidates, " %s/%s", namespace, name);
		}
	}
	if (matches > 1) {
		temperctl_fail(TEMPERCTL_EXIT_USAGE, "explain: %zu pods are named %s:%s; "
		    "say which as NAMESPACE/NAME", matches, query,
		    candidates.data ? candidates.data : "");
		buf_free(&candidates);
		return TEMPERCTL_EXIT_USAGE;
	}
	buf_free(&candidates);
	if (matches == 0)
		return temperctl_fail(TEMPERCTL_EXIT_AGENT_ERROR,
		    "explain: the agent at %s plans no pod %s (temperctl pods lists them)",
		    api_client_address(ctl->client), query);
	return TEMPERCTL_EXIT_OK;
}

static const cJSON *
temperctl_layer_named(const cJSON *config, const char *name)
{
	const cJSON *layer;

	cJSON_ArrayForEach(layer, config) {
		const char *layer_name = temperctl_string(layer, "name");

		if (layer_name != NULL && name != NULL && strcmp(layer_name, name) == 0)
			return layer;
	}
	return NULL;
}

/* "Confined: cpus 2-2, util 0.5-0.65, slice 5000 us, weight 2000, protected, ..." */
static void
temperctl_describe_kind(const cJSON *layer, struct buf *out)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(layer, "kind");
	const cJSON *sizing = kind ? kind->child : NULL;
	const cJSON *range;

	if (sizing == NULL || sizing->string == NULL) {
		buf_puts(out, "(no kind)");
		return;
	}
	buf_puts(out, sizing->string);
	range = cJSON_GetObjectItemCaseSensitive(sizing, "cpus_range");
	if (cJSON_GetArraySize(range) == 2)
		buf_printf(out, ", %g to %g CPUs", cJSON_GetArrayItem(range, 0)->valuedouble,
		    cJSON_GetArrayItem(range, 1)->valuedouble);
	range = cJSON_GetObjectItemCaseSensitive(sizing, "util_range");
	if (cJSON_GetArraySize(range) == 2)
		buf_printf(out, ", utilisation kept between %g and %g",
		    cJSON_GetArrayItem(range, 0)->valuedouble,
		    cJSON_GetArrayItem(range, 1)->valuedouble);
	buf_printf(out, ", slice %g us, weight %g", temperctl_number(sizing, "slice_us", 0),
	    temperctl_number(sizing, "weight", 0));
	if (temperctl_bool(sizing, "protected"))
		buf_puts(out, ", protected");
	if (temperctl_bool(sizing, "preempt"))
		buf_puts(out, ", preempts");
	if (temperctl_bool(sizing, "exclusive"))
		buf_puts(out, ", exclusive cores");
}

/* The match block of layer that selects cgroup (the longest prefix), or NULL. */
static const cJSON *
temperctl_matching_block(const cJSON *layer, const char *cgroup)
{
	const cJSON *block, *best = NULL;
	size_t best_len = 0;

	cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(layer, "matches")) {
		const cJSON *condition = cJSON_GetArrayItem(block, 0);
		const char *prefix = temperctl_string(condition, "CgroupPrefix");
		const char *path = cgroup;

		if (condition == NULL || cJSON_GetArraySize(block) != 1)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(condition, "HintEquals") != NULL && best == NULL)
			best = block;
		if (prefix == NULL || path == NULL)
			continue;
		while (*path == '/')
			path++;
		if (strncmp(path, prefix, strlen(prefix)) == 0 && strlen(prefix) >= best_len) {
			best = block;
			best_len = strlen(prefix);
		}
	}
	return best;
}

static bool
temperctl_note_concerns(const char *note, const cJSON *pod, const char *layer)
{
	char name[512];
	size_t len;

	snprintf(name, sizeof name, "%s/%s", temperctl_string(pod, "namespace") ?
	    temperctl_string(pod, "namespace") : "", temperctl_string(pod, "name") ?
	    temperctl_string(pod, "name") : "");
	if (strstr(note, name) != NULL)
		return true;
	if (temperctl_string(pod, "uid") != NULL && strstr(note, temperctl_string(pod, "uid")))
		return true;
	/* A tier's sizing note starts "critical: ..." and the budget note "node:"
	 * (rendered notes carry an "info: " or "warning: " level first). */
	if (strncmp(note, "info: ", 6) == 0)
		note += 6;
	else if (strncmp(note, "warning: ", 9) == 0)
		note += 9;
	if (strncmp(note, "node:", 5) == 0)
		return true;
	if (layer == NULL)
		return false;
	len = strcspn(layer, "-");
	return strncmp(note, layer, len) == 0 && note[len] == ':';
}

/* Fields an explanation wants that this agent's API does not report. */
static const char *const temperctl_explain_wanted[] = {
	"priority", "priority_class", "qos_class", "cpu_limit_millis", "profile",
};

static int
temperctl_explain(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response pods_response, status_response, config_response;
	cJSON *pods = NULL, *status = NULL, *config = NULL, *out = NULL, *list;
	const cJSON *pod, *layer = NULL, *plan, *note, *block, *other;
	const char *layer_name, *cgroup, *generation;
	struct buf text = BUF_INIT;
	double members = 0, requested = 0;
	int code;

	memset(&status_response, 0, sizeof status_response);
	memset(&config_response, 0, sizeof config_response);
	if (argc != 1)
		return temperctl_usage_error(ctl, "expected one pod: NAME, NAMESPACE/NAME or UID");
	if ((code = temperctl_call(ctl, "GET", "/api/v1/pods", NULL, &pods_response, &pods)) != 0 ||
	    (code = temperctl_call(ctl, "GET", "/api/v1/status", NULL, &status_response,
	    &status)) != 0 ||
	    (code = temperctl_call(ctl, "GET", "/api/v1/config", NULL, &config_response,
	    &config)) != 0)
		goto out;
	if ((code = temperctl_find_pod(ctl, pods, argv[0], &pod)) != 0)
		goto out;
	layer_name = temperctl_string(pod, "layer");
	cgroup = temperctl_string(pod, "cgroup");
	layer = temperctl_layer_named(config, layer_name);
	generation = config_response.generation;
	plan = cJSON_GetObjectItemCaseSensitive(status, "plan");
	cJSON_ArrayForEach(other, pods)
		if (layer_name != NULL && temperctl_string(other, "layer") != NULL &&
		    strcmp(temperctl_string(other, "layer"), layer_name) == 0) {
			members++;
			requested += temperctl_number(other, "cpu_request_millis", 0);
		}

	if (ctl->args.json) {
		out = cJSON_CreateObject();
		cJSON_AddItemToObject(out, "pod", cJSON_Duplicate(pod, true));
		cJSON_AddNumberToObject(out, "generation", generation ? strtod(generation, NULL) : 0);
		cJSON_AddItemToObject(out, "layer", layer ? cJSON_Duplicate(layer, true) :
		    cJSON_CreateNull());
		cJSON_AddNumberToObject(out, "layer_members", members);
		cJSON_AddNumberToObject(out, "layer_request_millis", requested);
		block = layer ? temperctl_matching_block(layer, cgroup) : NULL;
		cJSON_AddItemToObject(out, "matched_by", block ? cJSON_Duplicate(block, true) :
		    cJSON_CreateNull());
		cJSON_AddStringToObject(out, "topology", temperctl_string(status, "topology") ?
		    temperctl_string(status, "topology") : "");
		cJSON_AddStringToObject(out, "membership", temperctl_string(plan, "membership") ?
		    temperctl_string(plan, "membership") : "");
		list = cJSON_AddArrayToObject(out, "notes");
		cJSON_ArrayForEach(note, cJSON_GetObjectItemCaseSensitive(plan, "notes"))
			if (cJSON_IsString(note) && temperctl_note_concerns(note->valuestring, pod,
			    layer_name))
				cJSON_AddItemToArray(list, cJSON_CreateString(note->valuestring));
		list = cJSON_AddArrayToObject(out, "not_reported");
		for (size_t i = 0; i < sizeof temperctl_explain_wanted /
		    sizeof temperctl_explain_wanted[0]; i++)
			if (cJSON_GetObjectItemCaseSensitive(pod, temperctl_explain_wanted[i]) == NULL)
				cJSON_AddItemToArray(list,
				    cJSON_CreateString(temperctl_explain_wanted[i]));
		char *printed = cJSON_Print(out);

		if (printed == NULL) {
			code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
			goto out;
		}
		puts(printed);
		free(printed);
		goto out;
	}

	printf("pod %s/%s\n", temperctl_string(pod, "namespace"), temperctl_string(pod, "name"));
	printf("  uid:       %s\n", temperctl_string(pod, "uid") ? temperctl_string(pod, "uid") : "?");
	printf("tier %s\n", temperctl_string(pod, "tier") ? temperctl_string(pod, "tier") : "?");
	printf("  because:   %s\n", temperctl_string(pod, "why") && temperctl_string(pod, "why")[0] ?
	    temperctl_string(pod, "why") : "(the agent gave no reason)");
	if (cJSON_GetObjectItemCaseSensitive(pod, "priority") != NULL)
		printf("  priority:  %.0f\n", temperctl_number(pod, "priority", 0));
	if (temperctl_string(pod, "priority_class") != NULL)
		printf("  class:     %s\n", temperctl_string(pod, "priority_class"));
	if (temperctl_string(pod, "qos_class") != NULL)
		printf("  QoS class: %s\n", temperctl_string(pod, "qos_class"));
	printf("requests %.0fm CPU", temperctl_number(pod, "cpu_request_millis", 0));
	if (cJSON_GetObjectItemCaseSensitive(pod, "cpu_limit_millis") != NULL)
		printf(", limit %.0fm", temperctl_number(pod, "cpu_limit_millis", 0));
	putchar('\n');
	if (layer_name != NULL)
		printf("  sizing:    layer %s is sized for its %.0f pod%s requesting %.0fm in total\n",
		    layer_name, members, members == 1 ? "" : "s", requested);
	if (layer_name == NULL) {
		printf("layer (none)\n  the pod is in no layer of the current plan: it runs in the "
		    "catch-all layer; the notes below say why\n");
	} else {
		printf("layer %s (generation %s, membership %s)\n", layer_name,
		    generation ? generation : "?", temperctl_string(plan, "membership") ?
		    temperctl_string(plan, "membership") : "?");
		if (layer != NULL) {
			temperctl_describe_kind(layer, &text);
			printf("  kind:      %s\n", text.data ? text.data : "");
			if ((block = temperctl_matching_block(layer, cgroup)) != NULL) {
				char *printed = cJSON_PrintUnformatted(block);

				printf("  matched:   %s\n", printed ? printed : "?");
				free(printed);
			}
		} else {
			printf("  (generation %s has no layer %s: the plan moved since the pod list "
			    "was read; run explain again)\n", generation ? generation : "?", layer_name);
		}
	}
	printf("  node:      %s\n", temperctl_string(status, "topology") ?
	    temperctl_string(status, "topology") : "?");
	printf("cgroup %s\n", cgroup ? cgroup : "(not discovered yet: the pod cannot be matched)");
	if (temperctl_string(pod, "profile") != NULL)
		printf("profile %s\n", temperctl_string(pod, "profile"));
	else
		printf("profile (not reported by this agent's GET /api/v1/pods)\n");
	printf("notes\n");
	cJSON_ArrayForEach(note, cJSON_GetObjectItemCaseSensitive(plan, "notes"))
		if (cJSON_IsString(note) && temperctl_note_concerns(note->valuestring, pod, layer_name))
			printf("  %s\n", note->valuestring);
	buf_reset(&text);
	for (size_t i = 0; i < sizeof temperctl_explain_wanted / sizeof temperctl_explain_wanted[0]; i++)
		if (cJSON_GetObjectItemCaseSensitive(pod, temperctl_explain_wanted[i]) == NULL)
			buf_printf(&text, "%s%s", text.len ? ", " : "", temperctl_explain_wanted[i]);
	if (text.len > 0)
		printf("not reported by this agent: %s\n", text.data);
out:
	buf_free(&text);
	cJSON_Delete(out);
	cJSON_Delete(pods);
	cJSON_Delete(status);
	cJSON_Delete(config);
	api_response_free(&pods_response);
	api_response_free(&status_response);
	api_response_free(&config_response);
	return code;
}

/* --- config ------------------------------------------------------------------ */

static int
temperctl_config(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	struct buf path = BUF_INIT;
	unsigned long from, to, generation;
	cJSON *json = NULL, *item;
	int code;

	memset(&response, 0, sizeof response);
	if (argc < 1)
		return temperctl_usage_error(ctl, "expected show, generations or diff");
	if (strcmp(argv[0], "show") == 0) {
		ctl->command = "config show";
		if (argc != 1)
			return temperctl_usage_error(ctl,
			    "takes no arguments (--generation G picks one)");
		buf_puts(&path, "/api/v1/config");
		if (ctl->args.generation != NULL) {
			if (!temperctl_parse_unsigned(ctl->args.generation, UINT64_MAX, &generation) ||
			    generation == 0)
				return temperctl_usage_error(ctl,
				    "--generation wants a positive number, not '%s'",
				    ctl->args.generation);
			buf_printf(&path, "?generation=%lu", generation);
		}
		if ((code = temperctl_call(ctl, "GET", path.data, NULL, &response, NULL)) == 0)
			temperctl_print_body(&response);
	} else if (strcmp(argv[0], "generations") == 0) {
		ctl->command = "config generations";
		if (argc != 1)
			return temperctl_usage_error(ctl, "takes no arguments");
		if ((code = temperctl_call(ctl, "GET", "/api/v1/config/generations", NULL, &response,
		    &json)) != 0)
			goto out;
		if (ctl->args.json) {
			temperctl_print_body(&response);
			goto out;
		}
		printf("%10s  %-24s  %s\n", "GENERATION", "CREATED (UTC)", "REASON");
		cJSON_ArrayForEach(item, json) {
			time_t created = (time_t)(temperctl_number(item, "created_ms", 0) / 1000);
			struct tm tm;
			char when[32] = "?";

			if (gmtime_r(&created, &tm) != NULL)
				strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			printf("%10.0f  %-24s  %s\n", temperctl_number(item, "generation", 0), when,
			    temperctl_string(item, "reason") ? temperctl_string(item, "reason") : "");
		}
	} else if (strcmp(argv[0], "diff") == 0) {
		ctl->command = "config diff";
		if (argc != 3 || !temperctl_parse_unsigned(argv[1], UINT64_MAX, &from) ||
		    !temperctl_parse_unsigned(argv[2], UINT64_MAX, &to) || from == 0 || to == 0)
			return temperctl_usage_error(ctl, "expected two generation numbers, G1 G2");
		buf_printf(&path, "/api/v1/config/diff?from=%lu&to=%lu", from, to);
		if ((code = temperctl_call(ctl, "GET", path.data, NULL, &response, NULL)) != 0)
			goto out;
		if (ctl->args.json) {
			json = cJSON_CreateObject();
			cJSON_AddNumberToObject(json, "from", (double)from);
			cJSON_AddNumberToObject(json, "to", (double)to);
			cJSON_AddStringToObject(json, "diff",
			    response.body.data ? response.body.data : "");
			char *printed = cJSON_Print(json);

			puts(printed ? printed : "null");
			free(printed);
		} else if (response.body.len > 0) {
			fwrite(response.body.data, 1, response.body.len, stdout);
		}
	} else {
		return temperctl_usage_error(ctl, "unknown subcommand '%s' (show, generations, diff)",
		    argv[0]);
	}
out:
	cJSON_Delete(json);
	buf_free(&path);
	api_response_free(&response);
	return code;
}

/* --- reload, safe mode --------------------------------------------------------- */

static int
temperctl_reload(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	cJSON *json = NULL;
	int code;

	(void)argv;
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no arguments");
	if ((code = temperctl_call(ctl, "POST", "/api/v1/reload", NULL, &response, &json)) != 0)
		goto out;
	if (ctl->args.json)
		temperctl_print_body(&response);
	else if (temperctl_string(json, "error") != NULL)
		printf("planned; generation %.0f stays: the pass failed: %s\n",
		    temperctl_number(json, "generation", 0), temperctl_string(json, "error"));
	else
		printf("planned; generation %.0f is current\n",
		    temperctl_number(json, "generation", 0));
	/* A pass that failed is the agent's error, said with its reason. */
	if (temperctl_string(json, "error") != NULL)
		code = TEMPERCTL_EXIT_AGENT_ERROR;
out:
	cJSON_Delete(json);
	api_response_free(&response);
	return code;
}

static int
temperctl_safe_mode(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	cJSON *json = NULL;
	bool on;
	int code;

	if (argc != 1 || (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0))
		return temperctl_usage_error(ctl, "expected on or off");
	on = strcmp(argv[0], "on") == 0;
	if ((code = temperctl_call(ctl, "POST", "/api/v1/safe-mode",
	    on ? "{\"enabled\":true}" : "{\"enabled\":false}", &response, &json)) != 0)
		goto out;
	if (ctl->args.json) {
		temperctl_print_body(&response);
	} else {
		printf("safe mode %s", temperctl_bool(json, "active") ? "ON" : "off");
		if (!on && temperctl_bool(json, "active"))
			printf(": still requested by the node annotation "
			    "temper.io/safe-mode-requested");
		else if (on)
			printf(": enforcement stands down");
		putchar('\n');
	}
out:
	cJSON_Delete(json);
	api_response_free(&response);
	return code;
}

/* --- trace ------------------------------------------------------------------- */

static int
temperctl_write_file(const char *path, const char *data, size_t len)
{
	struct buf temporary = BUF_INIT;
	FILE *file;
	int code = TEMPERCTL_EXIT_OK;

	if (strcmp(path, "-") == 0) {
		fwrite(data, 1, len, stdout);
		return fflush(stdout) == 0 ? TEMPERCTL_EXIT_OK : TEMPERCTL_EXIT_LOCAL;
	}
	if (buf_printf(&temporary, "%s.tmp.%ld", path, (long)getpid()) != 0)
		return temperctl_fail(TEMPERCTL_EXIT_LOCAL, "out of memory");
	if ((file = fopen(temporary.data, "w")) == NULL) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "cannot write %s: %s", temporary.data,
		    strerror(errno));
		goto out;
	}
	if (fwrite(data, 1, len, file) != len || fclose(file) != 0) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "cannot write %s: %s", temporary.data,
		    strerror(errno));
		unlink(temporary.data);
		goto out;
	}
	/* A reader never sees half a trace. */
	if (rename(temporary.data, path) != 0) {
		code = temperctl_fail(TEMPERCTL_EXIT_LOCAL, "cannot rename %s to %s: %s",
		    temporary.data, path, strerror(errno));
		unlink(temporary.data);
	}
out:
	buf_free(&temporary);
	return code;
}

static int
temperctl_trace(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	struct buf path = BUF_INIT;
	unsigned long seconds;
	cJSON *json = NULL;
	int code, events;

	(void)argv;
	memset(&response, 0, sizeof response);
	if (argc != 0)
		return temperctl_usage_error(ctl, "takes no arguments (--seconds N -o FILE)");
	if (ctl->args.seconds == NULL || ctl->args.output == NULL)
		return temperctl_usage_error(ctl, "--seconds N and -o FILE are required");
	if (!temperctl_parse_unsigned(ctl->args.seconds, 3600, &seconds) || seconds == 0)
		return temperctl_usage_error(ctl, "--seconds wants a whole number from 1 to 3600");
	if ((code = temperctl_connect(ctl)) != 0)
		return code;
	/* The agent answers when the capture ends. */
	api_client_set_timeout(ctl->client, (int)seconds * 1000 +
	    (ctl->args.timeout_ms > 0 ? ctl->args.timeout_ms : API_CLIENT_DEFAULT_TIMEOUT_MS));
	buf_printf(&path, "/api/v1/trace?seconds=%lu", seconds);
	if ((code = temperctl_call(ctl, "POST", path.data, NULL, &response, &json)) != 0)
		goto out;
	events = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(json, "traceEvents"));
	if ((code = temperctl_write_file(ctl->args.output, response.body.data ?
	    response.body.data : "", response.body.len)) != 0)
		goto out;
	if (strcmp(ctl->args.output, "-") == 0)
		goto out;
	if (ctl->args.json) {
		cJSON *report = cJSON_CreateObject();
		char *printed;

		cJSON_AddStringToObject(report, "file", ctl->args.output);
		cJSON_AddNumberToObject(report, "bytes", (double)response.body.len);
		cJSON_AddNumberToObject(report, "events", events);
		printed = cJSON_PrintUnformatted(report);
		puts(printed ? printed : "null");
		free(printed);
		cJSON_Delete(report);
	} else {
		printf("wrote %s: %zu bytes, %d trace events over %lu s (open it in "
		    "ui.perfetto.dev or chrome://tracing)\n", ctl->args.output, response.body.len,
		    events, seconds);
	}
out:
	cJSON_Delete(json);
	buf_free(&path);
	api_response_free(&response);
	return code;
}

/* --- profiles ------------------------------------------------------------------ */

static int
temperctl_profiles(struct temperctl *ctl, int argc, char **argv)
{
	struct api_response response;
	struct buf path = BUF_INIT;
	bool missing;
	int code;

	memset(&response, 0, sizeof response);
	if (argc < 1 || (strcmp(argv[0], "list") == 0 && argc != 1) ||
	    (strcmp(argv[0], "show") == 0 && argc != 2) ||
	    (strcmp(argv[0], "train") == 0 && (argc < 2 || argc > 4 ||
	    strchr(argv[1], '/') == NULL)) ||
	    (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "show") != 0 &&
	    strcmp(argv[0], "train") != 0))
		return temperctl_usage_error(ctl,
		    "expected list, show NAME or train NAMESPACE/POD [SECONDS [NAME]]");
	/* The subsystem is optional: ask for the list first, whatever the verb. */
	code = temperctl_call_optional(ctl, "GET", "/api/v1/profiles", &response, NULL, &missing);
	if (missing) {
		code = temperctl_fail(TEMPERCTL_EXIT_UNSUPPORTED,
		    "not supported by this agent: GET /api/v1/profiles answered %d (agent at %s)",
		    response.status, api_client_address(ctl->client));
		goto out;
	}
	if (code != 0)
		goto out;
	if (strcmp(argv[0], "show") == 0) {
		api_response_free(&response);
		buf_printf(&path, "/api/v1/profiles/%s", argv[1]);
		code = temperctl_call(ctl, "GET", path.data, NULL, &response, NULL);
	} else if (strcmp(argv[0], "train") == 0) {
		api_response_free(&response);
		unsigned long seconds = 10;

		if (argc >= 3 && !temperctl_parse_unsigned(argv[2], 3600, &seconds)) {
			code = temperctl_usage_error(ctl, "train: SECONDS must be 1 to 3600");
			goto out;
		}
		buf_printf(&path, "/api/v1/profiles/train?pod=%s&seconds=%lu", argv[1], seconds);
		if (argc == 4)
			buf_printf(&path, "&name=%s", argv[3]);
		/* The agent answers when the training window has passed. */
		api_client_set_timeout(ctl->client, (int)seconds * 1000 +
		    (ctl->args.timeout_ms > 0 ? ctl->args.timeout_ms : API_CLIENT_DEFAULT_TIMEOUT_MS));
		code = temperctl_call(ctl, "POST", path.data, NULL, &response, NULL);
	}
	/* Whatever the agent's profile subsystem answers, as it answered it. */
	if (code == 0)
		temperctl_print_body(&response);
out:
	buf_free(&path);
	api_response_free(&response);
	return code;
}

/* --- main ----------------------------------------------------------------------- */

struct temperctl_command {
	const char *name;
	int (*run)(struct temperctl *ctl, int argc, char **argv);
	unsigned long options;		/* beyond --json and the connection's */
	bool offline;
};

static const struct temperctl_command temperctl_commands[] = {
	{ "status", temperctl_status, 0, false },
	{ "pods", temperctl_pods, 0, false },
	{ "explain", temperctl_explain, 0, false },
	{ "config", temperctl_config, OPT_BIT(OPT_GENERATION), false },
	{ "reload", temperctl_reload, 0, false },
	{ "safe-mode", temperctl_safe_mode, 0, false },
	{ "trace", temperctl_trace, OPT_BIT(OPT_SECONDS) | OPT_BIT(OPT_OUTPUT), false },
	{ "profiles", temperctl_profiles, 0, false },
	{ "simulate", temperctl_simulate, OPT_BIT(OPT_PODS) | OPT_BIT(OPT_CPUS) |
	    OPT_BIT(OPT_TOPOLOGY) | OPT_BIT(OPT_THREADS_PER_CORE) | OPT_BIT(OPT_LLCS) |
	    OPT_BIT(OPT_NUMA_NODES) | OPT_BIT(OPT_CONFIG) | OPT_BIT(OPT_ALLOCATABLE) |
	    OPT_BIT(OPT_CGROUP_ROOT) | OPT_BIT(OPT_CGROUP_DRIVER) | OPT_BIT(OPT_NODE) |
	    OPT_BIT(OPT_AGENT_CGROUP) | OPT_BIT(OPT_OUTPUT), true },
	{ "top", temperctl_top, OPT_BIT(OPT_INTERVAL) | OPT_BIT(OPT_ITERATIONS), false },
};

static int
temperctl_parse(struct temperctl *ctl, int argc, char **argv)
{
	struct temperctl_args *args = &ctl->args;
	unsigned long timeout;
	int option;

	opterr = 0;
	while ((option = getopt_long(argc, argv, ":ho:V", temperctl_options, NULL)) != -1) {
		if (option == 'h')
			option = OPT_HELP;
		else if (option == 'V')
			option = OPT_VERSION;
		else if (option == 'o')
			option = OPT_OUTPUT;
		if (option == '?')
			return temperctl_usage_error(ctl, "unknown option %s", argv[optind - 1]);
		if (option == ':')
			return temperctl_usage_error(ctl, "%s needs a value", argv[optind - 1]);
		args->given |= OPT_BIT(option);
		switch (option) {
		case OPT_AGENT: args->agent = optarg; break;
		case OPT_TOKEN_FILE: args->token_file = optarg; break;
		case OPT_CA_FILE: args->ca_file = optarg; break;
		case OPT_INSECURE: args->insecure = true; break;
		case OPT_JSON: args->json = true; break;
		case OPT_TIMEOUT:
			if (!temperctl_parse_unsigned(optarg, 3600000, &timeout) || timeout == 0)
				return temperctl_usage_error(ctl, "--timeout wants milliseconds, "
				    "1 to 3600000");
			args->timeout_ms = (int)timeout;
			break;
		case OPT_GENERATION: args->generation = optarg; break;
		case OPT_SECONDS: args->seconds = optarg; break;
		case OPT_OUTPUT: args->output = optarg; break;
		case OPT_PODS: args->pods_file = optarg; break;
		case OPT_CPUS: args->cpus = optarg; break;
		case OPT_TOPOLOGY: args->topology_dir = optarg; break;
		case OPT_THREADS_PER_CORE: args->threads_per_core = optarg; break;
		case OPT_LLCS: args->llcs = optarg; break;
		case OPT_NUMA_NODES: args->numa_nodes = optarg; break;
		case OPT_CONFIG: args->config_file = optarg; break;
		case OPT_ALLOCATABLE: args->allocatable = optarg; break;
		case OPT_CGROUP_ROOT: args->cgroup_root = optarg; break;
		case OPT_CGROUP_DRIVER: args->cgroup_driver = optarg; break;
		case OPT_NODE: args->node_name = optarg; break;
		case OPT_AGENT_CGROUP: args->agent_cgroup = optarg; break;
		case OPT_INTERVAL: args->interval = optarg; break;
		case OPT_ITERATIONS: args->iterations = optarg; break;
		default: break;
		}
	}
	return TEMPERCTL_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct temperctl ctl = { 0 };
	const struct temperctl_command *command = NULL;
	int code;

	/* GNU getopt permutes: options may come before or after the command. */
	if ((code = temperctl_parse(&ctl, argc, argv)) != 0)
		return code;
	if (ctl.args.given & OPT_BIT(OPT_HELP)) {
		fputs(temperctl_usage_text, stdout);
		return TEMPERCTL_EXIT_OK;
	}
	if (ctl.args.given & OPT_BIT(OPT_VERSION)) {
		printf("temperctl %s\n", PACKAGE_VERSION);
		return TEMPERCTL_EXIT_OK;
	}
	if (optind >= argc) {
		fputs(temperctl_usage_text, stderr);
		return TEMPERCTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof temperctl_commands / sizeof temperctl_commands[0]; i++)
		if (strcmp(argv[optind], temperctl_commands[i].name) == 0)
			command = &temperctl_commands[i];
	if (command == NULL)
		return temperctl_usage_error(&ctl, "unknown command '%s'", argv[optind]);
	ctl.command = command->name;
	if (ctl.args.given & ~(command->options | OPT_BIT(OPT_JSON) | OPT_CONNECTION))
		return temperctl_usage_error(&ctl, "an option given does not apply to %s",
		    command->name);
	if (command->offline && (ctl.args.given & OPT_CONNECTION))
		return temperctl_usage_error(&ctl, "plans offline: it talks to no agent");
	code = command->run(&ctl, argc - optind - 1, argv + optind + 1);
	api_client_free(ctl.client);
	if (ctl.token != NULL)
		explicit_bzero(ctl.token, strlen(ctl.token));
	free(ctl.token);
	return code;
}
