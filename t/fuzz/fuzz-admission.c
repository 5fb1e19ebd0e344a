/*
 * t/fuzz/fuzz-admission.c - libFuzzer target for the webhook's
 * AdmissionReview decoder, decider and answer.
 *
 * Beyond "no crash, no leak, no undefined behaviour": a refused body must
 * carry a cause; an accepted one must give an answer that is JSON with the
 * request's uid, allowed, and a patch only together with patchType; the
 * patch must be base64 of a JSON list whose operations touch only CPU
 * requests and the original-requests annotation (never a limit), and
 * whose scaled values never exceed what they replace.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admission.h"
#include "buf.h"
#include "tier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-admission: %s\n", what);
	abort();
}

static bool
fuzz_path_allowed(const char *path)
{
	int index, end = 0;

	if (strcmp(path, "/metadata/annotations") == 0 ||
	    strcmp(path, "/metadata/annotations/temper.io~1original-cpu-requests") == 0)
		return true;
	if (sscanf(path, "/spec/containers/%d/resources/requests/cpu%n", &index, &end) == 1 &&
	    end > 0 && path[end] == '\0')
		return true;
	return sscanf(path, "/spec/initContainers/%d/resources/requests/cpu%n", &index,
	    &end) == 1 && end > 0 && path[end] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tier_thresholds thresholds;
	struct admission_options options;
	struct admission_request request;
	struct admission_decision decision;
	struct buf out = BUF_INIT;
	const cJSON *response, *patch, *op;
	cJSON *json;
	char *cause = NULL;

	tier_thresholds_defaults(&thresholds);
	options.thresholds = &thresholds;
	options.ratio = size > 0 ? (double)(1 + data[0] % 100) / 100 : 0.5;
	options.floor_millis = 10;
	options.guaranteed = size > 1 && data[1] % 2 ? CLUSTER_GUARANTEED_SCALE :
	    CLUSTER_GUARANTEED_SKIP;
	if (admission_decode((const char *)data, size, &request, &cause) != 0) {
		if (cause == NULL)
			fuzz_fail("a refusal without a cause");
		free(cause);
		return 0;
	}
	if (admission_decide(&options, &request, &decision) != 0)
		fuzz_fail("decide failed");
	if ((decision.patch != NULL) != (decision.action == ADMISSION_SCALED))
		fuzz_fail("a patch without scaling, or scaling without a patch");
	if (decision.after_millis > decision.before_millis)
		fuzz_fail("scaling raised the requests");
	if (admission_render(&request, &decision, &out) != 0)
		fuzz_fail("render failed");
	if ((json = cJSON_Parse(out.data)) == NULL)
		fuzz_fail("the answer is not JSON");
	response = cJSON_GetObjectItem(json, "response");
	if (!cJSON_IsTrue(cJSON_GetObjectItem(response, "allowed")) ||
	    cJSON_GetStringValue(cJSON_GetObjectItem(response, "uid")) == NULL ||
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(response, "uid")), request.uid) != 0)
		fuzz_fail("the answer does not allow with the request's uid");
	if ((cJSON_GetObjectItem(response, "patch") != NULL) !=
	    (cJSON_GetObjectItem(response, "patchType") != NULL))
		fuzz_fail("patch and patchType not together");
	cJSON_Delete(json);
	if (decision.patch != NULL) {
		if ((json = cJSON_Parse(decision.patch)) == NULL || !cJSON_IsArray(json))
			fuzz_fail("the patch is not a JSON list");
		patch = json;
		cJSON_ArrayForEach(op, patch) {
			const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(op, "path"));

			if (path == NULL || !fuzz_path_allowed(path))
				fuzz_fail("the patch touches something other than CPU requests");
		}
		cJSON_Delete(json);
	}
	buf_free(&out);
	admission_decision_release(&decision);
	admission_release(&request);
	return 0;
}
