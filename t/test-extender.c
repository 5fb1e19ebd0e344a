/* test-extender.c - the extender's decisions and its wire JSON. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "extender-index.h"
#include "extender-policy.h"
#include "tap.h"
#include "toml.h"

static struct engine_config engine;
static struct cluster_config cluster;
static struct extender_policy policy = { &engine, &cluster };

/* A node state from allocatable millis and a distribution text. */
static struct extender_node_state
state_of(int64_t allocatable, const char *distribution, bool safe_mode)
{
	struct extender_node_state state = { 0 };

	state.allocatable_millis = allocatable;
	state.safe_mode = safe_mode;
	state.annotated = distribution != NULL &&
	    qos_distribution_parse(distribution, &state.distribution, NULL) == 0;
	return state;
}

#define EMPTY "{\"critical\":{\"pods\":0,\"cpu_millis\":0},\"high\":{\"pods\":0,\"cpu_millis\":0},\"normal\":{\"pods\":0,\"cpu_millis\":0},\"low\":{\"pods\":0,\"cpu_millis\":0},\"background\":{\"pods\":0,\"cpu_millis\":0}}"
#define CRIT(n, m) "{\"critical\":{\"pods\":" #n ",\"cpu_millis\":" #m "},\"high\":{\"pods\":0,\"cpu_millis\":0},\"normal\":{\"pods\":0,\"cpu_millis\":0},\"low\":{\"pods\":0,\"cpu_millis\":0},\"background\":{\"pods\":0,\"cpu_millis\":0}}"
#define BATCH(n, m) "{\"critical\":{\"pods\":0,\"cpu_millis\":0},\"high\":{\"pods\":0,\"cpu_millis\":0},\"normal\":{\"pods\":0,\"cpu_millis\":0},\"low\":{\"pods\":0,\"cpu_millis\":0},\"background\":{\"pods\":" #n ",\"cpu_millis\":" #m "}}"

static void
test_budget(void)
{
	struct extender_node_state s = state_of(8000, CRIT(1, 2000), false);
	struct extender_budget b;

	/* 8 CPUs: 1 system, max(1, 10% -> 1) reserve: 6 fenceable (the planner's rule). */
	extender_policy_budget(&policy, &s, &b);
	is_int(b.cpus, 8, "8000m allocatable is 8 CPUs");
	is_int(b.fenceable_cpus, 6, "... of which 6 are fenceable (1 system, 1 reserve)");
	is_int(b.critical_millis, 2000, "critical holds 2 whole cores");
	cluster.extender_threads_per_core = 2;
	extender_policy_budget(&policy, &s, &b);
	is_int(b.fenceable_cpus, 4, "with 2 threads per core the reserve rounds up to a core: 4");
	cluster.extender_threads_per_core = 1;
	s = state_of(2000, EMPTY, false);
	extender_policy_budget(&policy, &s, &b);
	is_int(b.fenceable_cpus, 0, "a 2-CPU node has nothing to fence");
	s = state_of(-1, EMPTY, false);
	extender_policy_budget(&policy, &s, &b);
	is_int(b.fenceable_cpus, 0, "a node without allocatable CPUs has nothing to fence");
}

static void
test_filter_decisions(void)
{
	struct extender_node_state empty = state_of(8000, EMPTY, false);
	struct extender_node_state full = state_of(8000, CRIT(2, 5500), false);
	struct extender_node_state safe = state_of(8000, EMPTY, true);
	struct extender_node_state bare = state_of(8000, NULL, false);
	struct extender_decision d;
	char why[256];

	extender_policy_decide(&policy, TIER_CRITICAL, 2000, &empty, &d);
	is_int(d.outcome, EXTENDER_PASS, "a critical pod fits an empty node");
	is_int(d.score, 7, "... scoring 10 x (1 - 2/6) = 7");
	extender_policy_decide(&policy, TIER_CRITICAL, 500, &full, &d);
	is_int(d.outcome, EXTENDER_PASS, "5500m of critical plus 500m fits the 6 fenceable cores exactly");
	extender_policy_decide(&policy, TIER_CRITICAL, 1000, &full, &d);
	is_int(d.outcome, EXTENDER_FAILED, "... 1000m more does not: refused");
	is_int(d.reason, EXTENDER_REASON_FENCEABLE_EXHAUSTED, "... because fenceable cores are exhausted");
	extender_policy_explain(&d, TIER_CRITICAL, 1000, why, sizeof why);
	ok(strstr(why, "7000m") != NULL && strstr(why, "6000m") != NULL,
	    "the reason gives the numbers: %s", why);
	extender_policy_decide(&policy, TIER_HIGH, 500, &full, &d);
	is_int(d.outcome, EXTENDER_FAILED, "a high pod is refused there too (6000m + 500m > 6000m)");
	extender_policy_decide(&policy, TIER_BACKGROUND, 4000, &full, &d);
	is_int(d.outcome, EXTENDER_PASS, "a background pod passes anywhere");
	extender_policy_decide(&policy, TIER_CRITICAL, 100, &safe, &d);
	is_int(d.outcome, EXTENDER_UNRESOLVABLE, "a node in safe mode cannot protect: unresolvable");
	extender_policy_decide(&policy, TIER_HIGH, 100, &bare, &d);
	is_int(d.reason, EXTENDER_REASON_UNANNOTATED, "a node no agent reports refuses protected pods");
	cluster.extender_admit_unannotated = true;
	extender_policy_decide(&policy, TIER_HIGH, 100, &bare, &d);
	is_int(d.outcome, EXTENDER_PASS, "... unless unannotated_nodes = admit");
	cluster.extender_admit_unannotated = false;
	extender_policy_decide(&policy, TIER_CRITICAL, 100, NULL, &d);
	is_int(d.outcome, EXTENDER_UNRESOLVABLE, "an unknown node is unresolvable for critical");
	extender_policy_decide(&policy, TIER_LOW, 100, NULL, &d);
	is_int(d.outcome, EXTENDER_PASS, "... and passes for low");
	/* Critical counts whole cores: 1500m of critical plus 400m still needs 2 cores. */
	full = state_of(8000, CRIT(1, 1500), false);
	extender_policy_decide(&policy, TIER_CRITICAL, 400, &full, &d);
	is_int(d.protected_after_millis, 2000, "critical load rounds up to whole cores");
}

static void
test_scores(void)
{
	struct extender_node_state empty = state_of(8000, EMPTY, false);
	struct extender_node_state busy = state_of(8000, CRIT(1, 3000), false);
	struct extender_node_state batch = state_of(8000, BATCH(3, 3000), false);
	struct extender_decision a, b, c;

	extender_policy_decide(&policy, TIER_CRITICAL, 1000, &empty, &a);
	extender_policy_decide(&policy, TIER_CRITICAL, 1000, &busy, &b);
	ok(a.score > b.score, "critical prefers the least protected load (%d > %d)", a.score, b.score);
	extender_policy_decide(&policy, TIER_BACKGROUND, 500, &empty, &a);
	extender_policy_decide(&policy, TIER_BACKGROUND, 500, &busy, &b);
	extender_policy_decide(&policy, TIER_BACKGROUND, 500, &batch, &c);
	ok(c.score > b.score && c.score > a.score,
	    "batch prefers a node already carrying batch (%d > %d, %d)", c.score, b.score, a.score);
	ok(c.score >= 5 && c.score <= 10 && a.score <= 4, "batch nodes score 5..10, others 0..4");
	is_int(a.score, 0, "an empty node scores 0 for batch: kept free");
}

static const char *pod_json =
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"default\",\"uid\":\"u1\"},"
    "\"spec\":{\"priority\":1000000,\"priorityClassName\":\"temper-critical\","
    "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]},"
    "\"status\":{\"qosClass\":\"Burstable\"}}";

static const struct extender_node_state *
lookup(const struct extender_node_name *name, void *arg)
{
	static struct extender_node_state states[3];

	(void)arg;
	states[0] = state_of(8000, EMPTY, false);
	states[1] = state_of(8000, CRIT(2, 5500), false);
	states[2] = state_of(8000, CRIT(1, 4500), false);
	if (strcmp(name->text, "n-empty") == 0)
		return &states[0];
	if (strcmp(name->text, "n-full") == 0 || strcmp(name->text, "n-full-2") == 0 ||
	    strcmp(name->text, "n-\"odd\"\n") == 0)
		return &states[1];
	if (strcmp(name->text, "n-fuller") == 0)
		return &states[2];
	return NULL;
}

static void
test_wire(void)
{
	struct extender_args args;
	struct extender_summary summary;
	struct buf body = BUF_INIT, out = BUF_INIT;
	cJSON *json, *item;
	const char *twins;
	char *cause = NULL;
	int error;

	buf_printf(&body, "{\"Pod\":%s,\"Nodes\":null,\"NodeNames\":[\"n-empty\",\"n-full\",\"n-gone\"]}",
	    pod_json);
	is_int(extender_args_decode(body.data, body.len, &engine.thresholds, &args, &cause), 0,
	    "node-cache ExtenderArgs decode");
	ok(args.node_cache && args.node_count == 3, "... NodeNames mode, 3 nodes");
	is_int(args.tier, TIER_CRITICAL, "... the pod is critical");
	is_int(args.request_millis, 2000, "... requesting 2000m");
	is_int(extender_filter(&policy, &args, lookup, NULL, &out, &summary), 0, "filter answers");
	json = cJSON_Parse(out.data);
	ok(json != NULL, "the answer is JSON: %s", out.data);
	ok(cJSON_IsNull(cJSON_GetObjectItem(json, "Nodes")), "Nodes is null in node-cache mode");
	item = cJSON_GetObjectItem(json, "NodeNames");
	ok(cJSON_GetArraySize(item) == 1 &&
	    strcmp(cJSON_GetArrayItem(item, 0)->valuestring, "n-empty") == 0,
	    "NodeNames holds exactly the passing node");
	ok(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "FailedNodes"), "n-full") != NULL,
	    "the full node is in FailedNodes");
	ok(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "FailedAndUnresolvableNodes"), "n-gone") != NULL,
	    "the unknown node is in FailedAndUnresolvableNodes");
	is_str(cJSON_GetObjectItem(json, "Error")->valuestring, "", "Error is empty");
	cJSON_Delete(json);
	buf_reset(&out);
	is_int(extender_prioritize(&policy, &args, lookup, NULL, &out, &summary), 0,
	    "prioritize answers");
	json = cJSON_Parse(out.data);
	ok(cJSON_IsArray(json) && cJSON_GetArraySize(json) == 3, "a bare HostPriorityList: %s", out.data);
	item = cJSON_GetArrayItem(json, 0);
	is_str(cJSON_GetObjectItem(item, "Host")->valuestring, "n-empty", "Host names the node");
	is_int(cJSON_GetObjectItem(item, "Score")->valueint, 7, "Score is 0..10");
	is_str(summary.best, "n-empty", "the summary names the best node");
	cJSON_Delete(json);
	extender_args_release(&args);

	/* Nodes mode: whole nodes in, the passing ones echoed back. */
	buf_reset(&body);
	buf_reset(&out);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":null,\"Nodes\":{\"items\":["
	    "{\"metadata\":{\"name\":\"a\",\"uid\":\"ua\",\"annotations\":{\"temper.io/qos-distribution\":%s}},"
	    "\"status\":{\"allocatable\":{\"cpu\":\"8\"}}},"
	    "{\"metadata\":{\"name\":\"b\",\"uid\":\"ub\",\"annotations\":{\"temper.io/qos-distribution\":%s}},"
	    "\"status\":{\"allocatable\":{\"cpu\":\"8\"}}}]}}", pod_json,
	    "\"{\\\"critical\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"high\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"normal\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"low\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"background\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0}}\"",
	    "\"{\\\"critical\\\":{\\\"pods\\\":3,\\\"cpu_millis\\\":6000},\\\"high\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"normal\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"low\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0},\\\"background\\\":{\\\"pods\\\":0,\\\"cpu_millis\\\":0}}\"");
	free(cause);
	cause = NULL;
	is_int(extender_args_decode(body.data, body.len, &engine.thresholds, &args, &cause), 0,
	    "whole-Nodes ExtenderArgs decode%s%s", cause ? ": " : "", cause ? cause : "");
	ok(!args.node_cache && args.node_count == 2, "... Nodes mode, 2 nodes");
	extender_filter(&policy, &args, NULL, NULL, &out, &summary);
	json = cJSON_Parse(out.data);
	item = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "Nodes"), "items");
	ok(cJSON_GetArraySize(item) == 1, "Nodes.items holds the passing node only");
	is_str(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(item, 0), "metadata"),
	    "name")->valuestring, "a", "... node a, echoed whole");
	ok(cJSON_IsNull(cJSON_GetObjectItem(json, "NodeNames")), "NodeNames is null in Nodes mode");
	cJSON_Delete(json);
	extender_args_release(&args);

	error = extender_args_decode("{}", 2, &engine.thresholds, &args, &cause);
	ok(error < 0 && cause != NULL, "an empty object is refused: %s", cause);
	free(cause);
	/* Found by fuzz-extender: twins passed and failed under one name. */
	twins = "{\"Pod\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"u\"},\"spec\":{}},"
	    "\"NodeNames\":[\"a\",\"b\",\"a\"]}";
	error = extender_args_decode(twins, strlen(twins), &engine.thresholds, &args, &cause);
	ok(error == -EINVAL && cause != NULL && strcmp(cause, "node a is listed twice") == 0,
	    "a node listed twice is refused: %s", cause ? cause : "(no cause)");
	free(cause);
	twins = "{\"Pod\":{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"u\"},\"spec\":{}},"
	    "\"Nodes\":{\"items\":[{\"metadata\":{\"name\":\"b\",\"uid\":\"u1\"}},{\"metadata\":{\"name\":\"b\",\"uid\":\"u2\"}}]}}";
	error = extender_args_decode(twins, strlen(twins), &engine.thresholds, &args, &cause);
	ok(error == -EINVAL && cause != NULL && strcmp(cause, "node b is listed twice") == 0,
	    "... in Nodes mode too: %s", cause ? cause : "(no cause)");
	free(cause);
	ok(extender_args_decode("[1", 2, &engine.thresholds, &args, &cause) < 0,
	    "broken JSON is refused");
	free(cause);
	buf_free(&body);
	buf_free(&out);
}

/* Decode body; the cause (or "") in *why, which the caller frees. */
static int
decode(const char *body, struct extender_args *args, char **why)
{
	int error = extender_args_decode(body, strlen(body), &engine.thresholds, args, why);

	if (*why == NULL)
		*why = strdup("");
	return error;
}

static void
refused(const char *body, const char *cause, const char *what)
{
	struct extender_args args;
	char *why = NULL;
	int error = decode(body, &args, &why);

	ok(error == -EINVAL && strcmp(why, cause) == 0, "%s: refused, %s", what, why);
	free(why);
}

static void
test_args(void)
{
	struct extender_args args;
	struct extender_summary summary;
	struct buf body = BUF_INIT, out = BUF_INIT;
	const char *emoji = "\xf0\x9f\x98\x80", *cafe = "caf\xc3\xa9";
	cJSON *json, *failed, *unresolvable;
	char *why = NULL;

	/* Escapes decode as cJSON decodes them, and go back out escaped. */
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[\"n\\u002dempty\",\"n-\\\"odd\\\"\\n\","
	    "\"\\ud83d\\ude00\",\"caf\\u00e9\",\"n\\/full-2\"]}", pod_json);
	is_int(decode(body.data, &args, &why), 0, "escaped names decode%s", why);
	free(why);
	why = NULL;
	is_int(args.node_count, 5, "... all five");
	is_str(args.names[0].text, "n-empty", "\\u002d is '-'");
	is_str(args.names[1].text, "n-\"odd\"\n", "\\\" and \\n");
	is_str(args.names[2].text, emoji, "a surrogate pair is one 4-byte UTF-8 character");
	is_str(args.names[3].text, cafe, "\\u00e9 is 2 bytes of UTF-8");
	is_str(args.names[4].text, "n/full-2", "\\/ is '/'");
	is_int(args.names[2].length, 4, "... lengths are bytes");
	ok(args.names[1].hash == extender_name_hash("n-\"odd\"\n", 8), "... hashes are of the decoded name");
	ok(args.names[1].escape && !args.names[0].escape && !args.names[2].escape &&
	    !args.names[4].escape, "... and only a name holding '\"' or a control needs escaping back");
	is_int(extender_filter(&policy, &args, lookup, NULL, &out, &summary), 0, "filter answers");
	json = cJSON_Parse(out.data);
	failed = cJSON_GetObjectItem(json, "FailedNodes");
	unresolvable = cJSON_GetObjectItem(json, "FailedAndUnresolvableNodes");
	ok(json != NULL && cJSON_GetArraySize(cJSON_GetObjectItem(json, "NodeNames")) == 1,
	    "the answer is JSON, n-empty passing: %s", out.data);
	ok(cJSON_GetObjectItemCaseSensitive(failed, "n-\"odd\"\n") != NULL,
	    "a name that needs escaping is escaped back");
	ok(cJSON_GetObjectItemCaseSensitive(unresolvable, emoji) != NULL &&
	    cJSON_GetObjectItemCaseSensitive(unresolvable, cafe) != NULL &&
	    cJSON_GetObjectItemCaseSensitive(unresolvable, "n/full-2") != NULL,
	    "... UTF-8 and '/' go back as they came");
	cJSON_Delete(json);
	buf_reset(&out);
	is_int(extender_prioritize(&policy, &args, lookup, NULL, &out, &summary), 0, "prioritize answers");
	json = cJSON_Parse(out.data);
	ok(cJSON_IsArray(json) && cJSON_GetArraySize(json) == 5 &&
	    strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(json, 1), "Host")->valuestring,
	    "n-\"odd\"\n") == 0, "... every Host named back: %s", out.data);
	cJSON_Delete(json);
	extender_args_release(&args);

	/*
	 * Found by fuzz-extender: a refused name that grows sixfold escaped,
	 * 165 controls leaving less room than its reason takes after it.
	 */
	buf_reset(&body);
	buf_reset(&out);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[\"", pod_json);
	for (int i = 0; i < 165; i++)
		buf_puts(&body, "\\u0001");
	buf_puts(&body, "\"]}");
	is_int(decode(body.data, &args, &why), 0, "a name of 165 controls decodes%s", why);
	free(why);
	why = NULL;
	extender_filter(&policy, &args, lookup, NULL, &out, &summary);
	json = cJSON_Parse(out.data);
	unresolvable = cJSON_GetObjectItem(json, "FailedAndUnresolvableNodes");
	ok(unresolvable != NULL && unresolvable->child != NULL &&
	    strcmp(unresolvable->child->string, args.names[0].text) == 0,
	    "... and goes back escaped, whole, as the key of its refusal");
	cJSON_Delete(json);
	extender_args_release(&args);

	/* Two refused nodes with different figures get their own reasons. */
	buf_reset(&body);
	buf_reset(&out);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[\"n-full\",\"n-fuller\",\"n-full-2\"]}", pod_json);
	is_int(decode(body.data, &args, &why), 0, "three refused nodes decode");
	free(why);
	why = NULL;
	extender_filter(&policy, &args, lookup, NULL, &out, &summary);
	json = cJSON_Parse(out.data);
	failed = cJSON_GetObjectItem(json, "FailedNodes");
	ok(strstr(cJSON_GetObjectItem(failed, "n-full")->valuestring, "8000m") != NULL &&
	    strstr(cJSON_GetObjectItem(failed, "n-fuller")->valuestring, "7000m") != NULL &&
	    strstr(cJSON_GetObjectItem(failed, "n-full-2")->valuestring, "8000m") != NULL,
	    "each refusal gives its own node's figures: %s", out.data);
	ok(summary.first_refused != NULL && strcmp(summary.first_refused, "n-full") == 0 &&
	    strstr(summary.first_reason, "8000m") != NULL, "the summary's example: %s: %s",
	    summary.first_refused, summary.first_reason);
	cJSON_Delete(json);
	extender_args_release(&args);

	/* Keys as cJSON_GetObjectItem finds them: any case, the first one. */
	buf_reset(&body);
	buf_printf(&body, "{\"x\":[1,-2.5e+3,0.5E-1,true,false,null,{\"y\":\"\\u00e9\",\"z\":[]},{}],"
	    "\"pod\":%s,\"NODENAMES\":[\"n-empty\"],\"NodeNames\":[1],\"Pod\":7}", pod_json);
	is_int(decode(body.data, &args, &why), 0, "any value is stepped over, keys ignore case%s", why);
	free(why);
	why = NULL;
	ok(args.node_cache && args.node_count == 1 && strcmp(args.names[0].text, "n-empty") == 0,
	    "... and the first of each wins");
	extender_args_release(&args);
	buf_reset(&body);
	buf_printf(&body, " {\"Pod\" : 1 , \"pod\":%s,\"NodeNames\":[]} \n", pod_json);
	refused(body.data, "no Pod object", "the first Pod is not an object");
	buf_reset(&body);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[ ]}", pod_json);
	is_int(decode(body.data, &args, &why), 0, "an empty NodeNames decodes%s", why);
	free(why);
	why = NULL;
	ok(args.node_cache && args.node_count == 0, "... to no node");
	extender_args_release(&args);

	/* What cJSON let through and the scanner does not. */
#define WITH_POD(fmt, ...) (buf_reset(&body), buf_printf(&body, fmt, pod_json, __VA_ARGS__), body.data)
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[]}%s", "x"), "body is not JSON", "bytes after the object");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\t"), "body is not JSON",
	    "a raw control character in a string");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\x"), "body is not JSON", "an unknown escape");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\ud800"), "body is not JSON", "a lone high surrogate");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\udc00"), "body is not JSON", "a lone low surrogate");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\ud800\\u0041"), "body is not JSON",
	    "a high surrogate before no low one");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\u12"), "body is not JSON", "a short \\u");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "01"), "body is not JSON", "a leading zero");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "1."), "body is not JSON", "a bare decimal point");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "-"), "body is not JSON", "a bare minus");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "1e"), "body is not JSON", "an empty exponent");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", ".5"), "body is not JSON", "a number without its integer part");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "tru"), "body is not JSON", "a cut literal");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "[1,]"), "body is not JSON", "a trailing comma");
	refused(WITH_POD("{\"Pod\":%s,\"x\":%s}", "{\"a\"}"), "body is not JSON", "a member without a value");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a\"%s", ""), "body is not JSON", "a body cut short");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a%sb\"]}", "\\u0000"),
	    "NodeNames holds a name with U+0000", "a name holding NUL");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a\",%s]}", "null"), "NodeNames holds a non-string",
	    "a null among the names");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[%s,\"a\",\"b\"]}", "{}"), "NodeNames holds a non-string",
	    "an object before the names");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":[\"a\\u0000\",%s,\"b\"]}", "2"),
	    "NodeNames holds a name with U+0000", "... the first fault is the one reported");
	refused("[1]", "body is not an object", "an array");
	refused("", "body is not JSON", "nothing");
	refused("{\"NodeNames\":[]}", "no Pod object", "no Pod");
	refused(WITH_POD("{\"Pod\":%s,\"NodeNames\":%s}", "null"), "neither NodeNames nor Nodes",
	    "NodeNames null and no Nodes");
#undef WITH_POD

	/* Nesting: as deep as cJSON goes and no deeper. */
	for (int depth = 999; depth <= 1000; depth++) {
		buf_reset(&body);
		buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[],\"x\":", pod_json);
		for (int i = 0; i < depth; i++)
			buf_puts(&body, "[");
		for (int i = 0; i < depth; i++)
			buf_puts(&body, "]");
		buf_puts(&body, "}");
		json = cJSON_Parse(body.data);
		is_int(decode(body.data, &args, &why), json != NULL ? 0 : -EINVAL,
		    "%d nested arrays: %s as by cJSON", depth, json != NULL ? "accepted" : "refused");
		cJSON_Delete(json);
		free(why);
		why = NULL;
		extender_args_release(&args);
	}

	/* Too many names is refused before anything is allocated for them. */
	buf_reset(&body);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[\"\"", pod_json);
	for (int i = 0; i < EXTENDER_MAX_NODES; i++)
		buf_puts(&body, ",\"\"");
	buf_puts(&body, "]}");
	refused(body.data, "too many nodes", "more names than EXTENDER_MAX_NODES");

	/* Twins, however spelled. */
	buf_reset(&body);
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[\"b\",\"a\",\"\\u0061\"]}", pod_json);
	refused(body.data, "node a is listed twice", "a twin spelled with an escape");
	buf_free(&body);
	buf_free(&out);
}

/*
 * Names chosen to share a slot in the twin table overflow its probe limit:
 * the check sorts instead, and still finds a twin or none.
 */
static void
test_twins_colliding(void)
{
	struct extender_args args;
	struct buf body = BUF_INIT;
	char name[32], *why = NULL, *first = NULL;
	int found = 0;

	/* 100 names: a table of 256 slots, so hash & 255 decides the slot. */
	buf_printf(&body, "{\"Pod\":%s,\"NodeNames\":[", pod_json);
	for (unsigned i = 0; found < 100; i++) {
		snprintf(name, sizeof name, "node-%u", i);
		if ((extender_name_hash(name, strlen(name)) & 255) != 7)
			continue;
		buf_printf(&body, "%s\"%s\"", found++ > 0 ? "," : "", name);
		if (first == NULL)
			first = strdup(name);
	}
	buf_puts(&body, "]}");
	is_int(decode(body.data, &args, &why), 0, "100 colliding names, no twin: accepted%s", why);
	ok(args.node_count == 100, "... all of them");
	extender_args_release(&args);
	free(why);
	why = NULL;
	body.len -= 2;
	buf_printf(&body, ",\"%s\"]}", first);
	is_int(decode(body.data, &args, &why), -EINVAL, "... one more, a twin of the first: refused");
	ok(strstr(why, first) != NULL && strstr(why, "listed twice") != NULL, "... %s", why);
	free(why);
	free(first);
	buf_free(&body);
}

/* Look name up with the key the decoder would make. */
static const struct extender_node_state *
index_get(const struct extender_index *index, const char *name)
{
	struct extender_node_name key = { 0 };

	key.text = name;
	key.length = (uint32_t)strlen(name);
	key.hash = extender_name_hash(name, key.length);
	return extender_index_get(index, &key);
}

static void
test_index(void)
{
	enum { NAMES = 3000, OPS = 30000 };
	struct extender_index index;
	struct extender_node_state state = state_of(8000, EMPTY, false), other;
	static bool present[NAMES];
	static int64_t millis[NAMES];
	char name[32];
	unsigned seed = 12345, wrong = 0, run[100], n = 0;

	extender_index_init(&index);
	ok(index_get(&index, "a") == NULL, "an empty index finds nothing");
	is_int(extender_index_put(&index, "a", &state), 0, "put a");
	other = state_of(16000, CRIT(1, 1000), true);
	is_int(extender_index_put(&index, "a", &other), 0, "put a again");
	is_int(index.count, 1, "... replaces it");
	ok(index_get(&index, "a")->allocatable_millis == 16000, "... with the new state");
	extender_index_remove(&index, "a");
	extender_index_remove(&index, "b");
	is_int(index.count, 0, "remove a; removing an absent b does nothing");
	extender_index_clear(&index);

	/* Random puts and removes against a plain array. */
	for (unsigned op = 0; op < OPS; op++) {
		unsigned i;

		seed = seed * 1103515245u + 12345u;
		i = (seed >> 8) % NAMES;
		snprintf(name, sizeof name, "node-%u", i);
		if ((seed >> 4) % 3 == 0) {
			extender_index_remove(&index, name);
			present[i] = false;
		} else {
			state.allocatable_millis = millis[i] = op;
			if (extender_index_put(&index, name, &state) != 0)
				wrong++;
			present[i] = true;
		}
		if (op % 1000 != 999)
			continue;
		for (unsigned j = 0; j < NAMES; j++) {
			const struct extender_node_state *got;

			snprintf(name, sizeof name, "node-%u", j);
			got = index_get(&index, name);
			if (present[j] ? got == NULL || got->allocatable_millis != millis[j] : got != NULL)
				wrong++;
		}
	}
	is_int(wrong, 0, "30,000 random puts and removes: every lookup as in a plain array");
	extender_index_clear(&index);

	/* A run of colliding names that wraps past the table's end, emptied in turn. */
	for (unsigned i = 0; n < 100; i++) {
		snprintf(name, sizeof name, "w%u", i);
		if ((extender_name_hash(name, strlen(name)) & 255) == 250)
			run[n++] = i;
	}
	for (unsigned k = 0; k < n; k++) {
		snprintf(name, sizeof name, "w%u", run[k]);
		extender_index_put(&index, name, &state);
	}
	is_int(index.size, 256, "100 names: 256 slots, the run wraps from 250");
	wrong = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned gone = run[(k * 37) % n];

		snprintf(name, sizeof name, "w%u", gone);
		extender_index_remove(&index, name);
		for (unsigned j = 0; j < n; j++) {
			bool removed = false;

			for (unsigned m = 0; m <= k; m++)
				removed |= run[(m * 37) % n] == run[j];
			snprintf(name, sizeof name, "w%u", run[j]);
			if ((index_get(&index, name) != NULL) == removed)
				wrong++;
		}
	}
	is_int(wrong, 0, "removing from a wrapped run keeps every other name found");
	is_int(index.count, 0, "... until none is left");
	extender_index_clear(&index);
}

static void
test_config(void)
{
	struct cluster_config config;
	struct toml_value *root;
	char *cause = NULL;
	int error;
	const char *text = "[extender]\nunannotated_nodes = \"admit\"\nthreads_per_core = 2\n";

	cluster_config_defaults(&config);
	root = toml_parse(text, strlen(text), NULL);
	is_int(cluster_config_from_toml(root, &config, &cause), 0, "[extender] parses");
	ok(config.extender_admit_unannotated && config.extender_threads_per_core == 2,
	    "... both keys read");
	toml_free(root);
	text = "[extender]\nthreads = 2\n";
	root = toml_parse(text, strlen(text), NULL);
	error = cluster_config_from_toml(root, &config, &cause);
	ok(error == -EINVAL && cause != NULL && strstr(cause, "line 2") != NULL, "an unknown key is refused with its line: %s", cause);
	free(cause);
	toml_free(root);
	ok(cluster_config_section("extender") && !cluster_config_section("planner"),
	    "the sections this module owns");
}

int
main(void)
{
	engine_config_defaults(&engine);
	cluster_config_defaults(&cluster);
	test_budget();
	test_filter_decisions();
	test_scores();
	test_wire();
	test_args();
	test_twins_colliding();
	test_index();
	test_config();
	return done_testing();
}
