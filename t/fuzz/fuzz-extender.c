/*
 * t/fuzz/fuzz-extender.c - libFuzzer target for the extender's ExtenderArgs
 * decoder and its filter and prioritize deciders.
 *
 * Beyond "no crash, no leak, no undefined behaviour": a refused body must
 * carry a cause; an accepted one must give a filter answer that is JSON,
 * names back only input nodes, puts every named input node in exactly one
 * of the passing list, FailedNodes and FailedAndUnresolvableNodes, and a
 * prioritize answer whose scores are all in 0..10.  Node-cache lookups see
 * a state derived from the name, so every decision path is reachable.
 *
 * The scanner of extender-args.c against cJSON: a body both accept must
 * read the same to both (the same names in the same order, the same
 * pod), and one the scanner accepts and cJSON refuses is a finding but
 * for cJSON's own limits.  Bodies with \u0000 are left out of the
 * comparison: cJSON cuts a string there, the scanner does not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cluster-config.h"
#include "engine-config.h"
#include "extender-policy.h"
#include "kube-pod.h"
#include "pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-extender: %s\n", what);
	abort();
}

static const struct extender_node_state *
fuzz_lookup(const struct extender_node_name *name, void *arg)
{
	static struct extender_node_state state;
	unsigned hash = 0;

	(void)arg;
	if (name->hash != extender_name_hash(name->text, name->length) ||
	    strlen(name->text) != name->length)
		fuzz_fail("a name's hash or length does not match it");
	for (size_t i = 0; i < name->length; i++)
		hash = hash * 31 + (unsigned char)name->text[i];
	if (hash % 7 == 0)
		return NULL;
	memset(&state, 0, sizeof state);
	state.annotated = hash % 5 != 0;
	state.safe_mode = hash % 11 == 0;
	state.allocatable_millis = (int64_t)(hash % 64) * 1000 - 1000;
	for (int t = 0; t < TIER_COUNT; t++) {
		state.distribution.tiers[t].pods = (hash >> t) % 4;
		state.distribution.tiers[t].cpu_millis = (int64_t)((hash >> (2 * t)) % 9000);
	}
	return &state;
}

static bool
fuzz_named(const struct extender_args *args, const char *name)
{
	for (size_t i = 0; i < args->node_count; i++)
		if (args->names[i].text != NULL && strcmp(args->names[i].text, name) == 0)
			return true;
	return false;
}

/* The scanner reads the body as cJSON does. */
static void
fuzz_compare(const uint8_t *data, size_t size, const struct extender_args *args)
{
	const cJSON *names, *item;
	struct pod *pod;
	cJSON *json;
	size_t i = 0;

	if (memmem(data, size, "\\u0000", 6) != NULL)
		return;
	if ((json = cJSON_ParseWithLength((const char *)data, size)) == NULL)
		return;		/* cJSON's own limits; the scanner checked the body */
	if ((pod = kube_pod_decode(cJSON_GetObjectItem(json, "Pod"), NULL)) == NULL ||
	    strcmp(pod->uid, args->pod->uid) != 0 || strcmp(pod->name, args->pod->name) != 0 ||
	    pod_cpu_request_millis(pod) != args->request_millis)
		fuzz_fail("the scanner and cJSON read different pods");
	pod_free(pod);
	names = cJSON_GetObjectItem(json, "NodeNames");
	if (cJSON_IsArray(names) != args->node_cache)
		fuzz_fail("the scanner and cJSON disagree on node-cache mode");
	if (args->node_cache) {
		cJSON_ArrayForEach(item, names) {
			if (i >= args->node_count || !cJSON_IsString(item) ||
			    strcmp(item->valuestring, args->names[i].text) != 0)
				fuzz_fail("the scanner and cJSON read different NodeNames");
			i++;
		}
		if (i != args->node_count)
			fuzz_fail("the scanner and cJSON count different NodeNames");
	}
	cJSON_Delete(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_config engine;
	struct cluster_config cluster;
	struct extender_policy policy = { &engine, &cluster };
	struct extender_args args;
	struct extender_summary summary;
	struct buf out = BUF_INIT;
	const cJSON *item, *passing, *failed, *unresolvable;
	cJSON *json;
	char *cause = NULL;

	engine_config_defaults(&engine);
	cluster_config_defaults(&cluster);
	if (size > 0)
		cluster.extender_threads_per_core = 1 + data[0] % 2;
	if (extender_args_decode((const char *)data, size, &engine.thresholds, &args,
	    &cause) != 0) {
		if (cause == NULL)
			fuzz_fail("a refusal without a cause");
		free(cause);
		return 0;
	}
	fuzz_compare(data, size, &args);
	if (extender_filter(&policy, &args, fuzz_lookup, NULL, &out, &summary) != 0)
		fuzz_fail("filter failed");
	if ((json = cJSON_Parse(out.data)) == NULL)
		fuzz_fail("the filter answer is not JSON");
	passing = cJSON_GetObjectItem(json, args.node_cache ? "NodeNames" : "Nodes");
	if (!args.node_cache)
		passing = cJSON_GetObjectItem(passing, "items");
	failed = cJSON_GetObjectItem(json, "FailedNodes");
	unresolvable = cJSON_GetObjectItem(json, "FailedAndUnresolvableNodes");
	if (!cJSON_IsArray(passing) || !cJSON_IsObject(failed) || !cJSON_IsObject(unresolvable))
		fuzz_fail("the filter answer lacks a list");
	cJSON_ArrayForEach(item, passing) {
		const char *name = args.node_cache ? cJSON_GetStringValue(item) :
		    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(item,
		    "metadata"), "name"));

		if (name == NULL || !fuzz_named(&args, name))
			fuzz_fail("a passing node that was not in the input");
		if (cJSON_GetObjectItem(failed, name) != NULL &&
		    cJSON_GetObjectItem(unresolvable, name) != NULL)
			fuzz_fail("a node both failed and unresolvable");
	}
	if ((size_t)cJSON_GetArraySize(passing) != summary.passed)
		fuzz_fail("the passing list does not match the summary");
	cJSON_ArrayForEach(item, failed)
		if (!fuzz_named(&args, item->string))
			fuzz_fail("a failed node that was not in the input");
	cJSON_Delete(json);

	buf_reset(&out);
	if (extender_prioritize(&policy, &args, fuzz_lookup, NULL, &out, &summary) != 0)
		fuzz_fail("prioritize failed");
	if ((json = cJSON_Parse(out.data)) == NULL || !cJSON_IsArray(json))
		fuzz_fail("the prioritize answer is not a JSON list");
	cJSON_ArrayForEach(item, json) {
		const cJSON *score = cJSON_GetObjectItem(item, "Score");

		if (!cJSON_IsNumber(score) || score->valuedouble < 0 ||
		    score->valuedouble > EXTENDER_MAX_SCORE)
			fuzz_fail("a score outside 0..10");
	}
	cJSON_Delete(json);
	buf_free(&out);
	extender_args_release(&args);
	return 0;
}
