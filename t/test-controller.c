/* test-controller.c - TemperPolicy selection, node ownership, status. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "controller-policy.h"
#include "tap.h"

static struct controller_node *
node(const char *name, const char *labels, const char *annotations)
{
	char *text = NULL;
	cJSON *json;
	struct controller_node *result;

	if (asprintf(&text, "{\"metadata\":{\"name\":\"%s\",\"uid\":\"u-%s\",\"resourceVersion\":\"7\","
	    "\"labels\":%s,\"annotations\":%s}}", name, name, labels, annotations) < 0)
		abort();
	json = cJSON_Parse(text);
	result = controller_node_decode(json, NULL);
	cJSON_Delete(json);
	free(text);
	return result;
}

static struct controller_policy *
policy(const char *name, const char *spec, const char *status)
{
	char *text = NULL;
	cJSON *json;
	struct controller_policy *result;

	if (asprintf(&text, "{\"metadata\":{\"name\":\"%s\",\"uid\":\"p-%s\",\"generation\":3},"
	    "\"spec\":%s%s%s}", name, name, spec, status ? ",\"status\":" : "",
	    status ? status : "") < 0)
		abort();
	json = cJSON_Parse(text);
	result = controller_policy_decode(json, NULL);
	cJSON_Delete(json);
	free(text);
	return result;
}

static void
test_selectors(void)
{
	struct controller_node *gpu = node("gpu-1", "{\"pool\":\"gpu\",\"zone\":\"a\"}", "{}");
	struct controller_node *web = node("web-1", "{\"pool\":\"web\"}", "{}");
	struct controller_policy *all = policy("all", "{}", NULL);
	struct controller_policy *empty = policy("empty", "{\"nodeSelector\":{}}", NULL);
	struct controller_policy *labels = policy("gpu", "{\"nodeSelector\":{\"matchLabels\":{\"pool\":\"gpu\"}}}", NULL);
	struct controller_policy *in = policy("in", "{\"nodeSelector\":{\"matchExpressions\":"
	    "[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"web\",\"db\"]}]}}", NULL);
	struct controller_policy *notin = policy("notin", "{\"nodeSelector\":{\"matchExpressions\":"
	    "[{\"key\":\"pool\",\"operator\":\"NotIn\",\"values\":[\"web\"]}]}}", NULL);
	struct controller_policy *exists = policy("exists", "{\"nodeSelector\":{\"matchExpressions\":"
	    "[{\"key\":\"zone\",\"operator\":\"Exists\"}]}}", NULL);
	struct controller_policy *absent = policy("absent", "{\"nodeSelector\":{\"matchExpressions\":"
	    "[{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}}", NULL);
	struct controller_policy *bad = policy("bad", "{\"nodeSelector\":{\"matchExpressions\":"
	    "[{\"key\":\"zone\",\"operator\":\"Near\"}]}}", NULL);

	ok(gpu != NULL && web != NULL && all != NULL && bad != NULL, "nodes and policies decode");
	ok(controller_policy_selects(all, gpu) && controller_policy_selects(all, web),
	    "no selector selects every node");
	ok(controller_policy_selects(empty, gpu) && controller_policy_selects(empty, web),
	    "an empty selector selects every node");
	ok(controller_policy_selects(labels, gpu) && !controller_policy_selects(labels, web),
	    "matchLabels");
	ok(!controller_policy_selects(in, gpu) && controller_policy_selects(in, web), "In");
	ok(controller_policy_selects(notin, gpu) && !controller_policy_selects(notin, web), "NotIn");
	ok(controller_policy_selects(exists, gpu) && !controller_policy_selects(exists, web), "Exists");
	ok(!controller_policy_selects(absent, gpu) && controller_policy_selects(absent, web),
	    "DoesNotExist");
	ok(bad->invalid != NULL && !controller_policy_selects(bad, gpu),
	    "an unknown operator makes the policy invalid and selects nothing: %s", bad->invalid);
	ok(all->safe_mode, "spec.safeMode defaults to true");
	controller_node_free(gpu);
	controller_node_free(web);
	controller_policy_free(all);
	controller_policy_free(empty);
	controller_policy_free(labels);
	controller_policy_free(in);
	controller_policy_free(notin);
	controller_policy_free(exists);
	controller_policy_free(absent);
	controller_policy_free(bad);
}

static void
test_ownership(void)
{
	struct controller_node *plain = node("a", "{}", "{}");
	struct controller_node *ours = node("b", "{}",
	    "{\"temper.io/safe-mode-requested\":\"true\",\"temper.io/safe-mode-policy\":\"p1\"}");
	struct controller_node *theirs = node("c", "{}", "{\"temper.io/safe-mode-requested\":\"true\"}");
	struct controller_policy *policies[2] = {
		policy("p2", "{}", NULL),
		policy("p1", "{\"safeMode\":true}", NULL),
	};
	struct buf owners = BUF_INIT;

	is_int(controller_node_plan(plain, "p1"), CONTROLLER_NODE_SET, "a wanted node is set");
	is_int(controller_node_plan(plain, ""), CONTROLLER_NODE_KEEP, "an unwanted plain node is kept");
	is_int(controller_node_plan(ours, "p1"), CONTROLLER_NODE_KEEP, "ours, as wanted: kept");
	is_int(controller_node_plan(ours, "p1,p2"), CONTROLLER_NODE_SET, "ours, owners changed: set again");
	is_int(controller_node_plan(ours, ""), CONTROLLER_NODE_CLEAR,
	    "ours, no longer wanted (the policy is gone): cleared");
	is_int(controller_node_plan(theirs, ""), CONTROLLER_NODE_KEEP,
	    "someone else's safe mode is never cleared");
	is_int(controller_node_plan(theirs, "p1"), CONTROLLER_NODE_FOREIGN,
	    "... nor taken over when a policy wants it too");
	controller_owners(policies, 2, plain, &owners);
	is_str(owners.data, "p1,p2", "owners are sorted and comma-separated");
	controller_policy_free(policies[0]);
	policies[0] = policy("p2", "{\"safeMode\":false}", NULL);
	controller_owners(policies, 2, plain, &owners);
	is_str(owners.data, "p1", "a policy with safeMode false owns nothing");
	buf_free(&owners);
	controller_node_free(plain);
	controller_node_free(ours);
	controller_node_free(theirs);
	controller_policy_free(policies[0]);
	controller_policy_free(policies[1]);
}

static void
test_status(void)
{
	struct controller_policy *fresh = policy("p", "{}", NULL);
	struct controller_policy *stored = policy("p", "{}", "{\"observedGeneration\":3,"
	    "\"matchedNodes\":2,\"appliedNodes\":2,\"conditions\":[{\"type\":\"Applied\","
	    "\"status\":\"True\",\"reason\":\"SafeModeRequested\",\"message\":"
	    "\"safe mode requested on all 2 selected nodes\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}");
	struct controller_status status;
	struct buf out = BUF_INIT;
	cJSON *json, *condition;

	controller_status_compute(fresh, 2, 1, &status);
	is_str(status.reason, "Pending", "1 of 2 nodes applied is Pending");
	is_str(status.condition, "False", "... Applied=False");
	ok(controller_status_changed(fresh, &status), "a policy without status needs one");
	controller_status_compute(stored, 2, 2, &status);
	is_str(status.reason, "SafeModeRequested", "all applied is SafeModeRequested");
	ok(!controller_status_changed(stored, &status), "an unchanged status is not written again");
	controller_status_patch(stored, &status, "2026-11-22T10:00:00Z", &out);
	json = cJSON_Parse(out.data);
	condition = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "status"),
	    "conditions"), 0);
	is_str(cJSON_GetObjectItem(condition, "lastTransitionTime")->valuestring,
	    "2026-01-01T00:00:00Z", "the transition time stays while the status does");
	cJSON_Delete(json);
	buf_reset(&out);
	controller_status_compute(stored, 3, 2, &status);
	controller_status_patch(stored, &status, "2026-11-22T10:00:00Z", &out);
	json = cJSON_Parse(out.data);
	condition = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "status"),
	    "conditions"), 0);
	is_str(cJSON_GetObjectItem(condition, "lastTransitionTime")->valuestring,
	    "2026-11-22T10:00:00Z", "... and moves when it changes");
	is_int(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "status"), "observedGeneration")->valueint,
	    3, "observedGeneration is the policy's generation");
	cJSON_Delete(json);
	buf_free(&out);
	controller_policy_free(fresh);
	controller_policy_free(stored);
}

int
main(void)
{
	test_selectors();
	test_ownership();
	test_status();
	return done_testing();
}
