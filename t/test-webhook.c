/* test-webhook.c - the overcommit webhook's decisions and its wire JSON. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admission.h"
#include "buf.h"
#include "cluster-config.h"
#include "tap.h"
#include "tier.h"
#include "toml.h"

static struct tier_thresholds thresholds;
static struct admission_options options;

/* An AdmissionReview for a pod: containers as JSON text. */
static char *
review(const char *operation, const char *sub_resource, const char *annotations,
    const char *priority, const char *containers)
{
	char *text = NULL;

	if (asprintf(&text, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	    "\"request\":{\"uid\":\"abc-123\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
	    "\"operation\":\"%s\",\"subResource\":\"%s\",\"namespace\":\"team\",\"name\":\"web\","
	    "\"object\":{\"metadata\":{\"name\":\"web\",\"namespace\":\"team\"%s},"
	    "\"spec\":{%s\"containers\":%s}}}}", operation, sub_resource, annotations,
	    priority, containers) < 0)
		abort();
	return text;
}

/* Decide on text; the decoded patch (NULL when none) in *patch. */
static enum admission_action
decide(const char *text, cJSON **patch, struct buf *answer)
{
	struct admission_request request;
	struct admission_decision decision;
	char *cause = NULL;
	enum admission_action action;

	if (admission_decode(text, strlen(text), &request, &cause) != 0) {
		diag("decode failed: %s", cause);
		free(cause);
		return ADMISSION_ACTION_COUNT;
	}
	if (admission_decide(&options, &request, &decision) != 0)
		abort();
	*patch = decision.patch ? cJSON_Parse(decision.patch) : NULL;
	if (answer != NULL)
		admission_render(&request, &decision, answer);
	action = decision.action;
	admission_decision_release(&decision);
	admission_release(&request);
	return action;
}

static const char *
op_field(const cJSON *patch, int index, const char *field)
{
	const cJSON *value = cJSON_GetObjectItem(cJSON_GetArrayItem(patch, index), field);

	return cJSON_IsString(value) ? value->valuestring : "";
}

static void
test_scale(void)
{
	is_int(admission_scale(1000, 0.5, 10), 500, "1000m at 0.5 is 500m");
	is_int(admission_scale(15, 0.5, 10), 10, "15m at 0.5 is the floor, 10m");
	is_int(admission_scale(5, 0.5, 10), 5, "a request under the floor is kept as it is");
	is_int(admission_scale(333, 0.5, 10), 167, "rounded up to a whole millicore");
	is_int(admission_scale(1000, 1.0, 10), 1000, "a ratio of 1 changes nothing");
}

static void
test_burstable(void)
{
	struct buf answer = BUF_INIT;
	cJSON *patch, *json, *value;
	char *text = review("CREATE", "", "", "\"priority\":0,",
	    "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
	    "\"limits\":{\"cpu\":\"2\"}}},{\"name\":\"side\",\"resources\":{\"requests\":{\"cpu\":\"300m\"}}},"
	    "{\"name\":\"none\"}]");

	is_int(decide(text, &patch, &answer), ADMISSION_SCALED, "a Burstable normal pod is scaled");
	is_int(cJSON_GetArraySize(patch), 3, "... two replaces and the annotation");
	is_str(op_field(patch, 0, "op"), "replace", "requests are replaced");
	is_str(op_field(patch, 0, "path"), "/spec/containers/0/resources/requests/cpu",
	    "... at the container's request, never its limit");
	is_str(op_field(patch, 0, "value"), "500m", "... 1 CPU becomes 500m");
	is_str(op_field(patch, 1, "path"), "/spec/containers/1/resources/requests/cpu",
	    "the second container too");
	is_str(op_field(patch, 1, "value"), "150m", "... 300m becomes 150m");
	is_str(op_field(patch, 2, "path"), "/metadata/annotations",
	    "without annotations the whole object is added");
	value = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(patch, 2), "value"),
	    ADMISSION_ORIGINAL_KEY);
	is_str(cJSON_IsString(value) ? value->valuestring : "", "{\"app\":\"1\",\"side\":\"300m\"}",
	    "the originals are recorded as given");
	json = cJSON_Parse(answer.data);
	value = cJSON_GetObjectItem(json, "response");
	is_str(cJSON_GetObjectItem(value, "uid")->valuestring, "abc-123", "the answer copies the uid");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(value, "allowed")), "... allows");
	is_str(cJSON_GetObjectItem(value, "patchType")->valuestring, "JSONPatch", "... JSONPatch");
	ok(cJSON_IsString(cJSON_GetObjectItem(value, "patch")), "... base64 patch");
	is_str(cJSON_GetObjectItem(json, "kind")->valuestring, "AdmissionReview", "... AdmissionReview");
	ok(cJSON_GetArraySize(cJSON_GetObjectItem(value, "warnings")) == 1, "... with a warning for kubectl");
	cJSON_Delete(json);
	cJSON_Delete(patch);
	free(text);
	buf_free(&answer);

	text = review("CREATE", "", ",\"annotations\":{\"x\":\"y\"}", "",
	    "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"400m\"}}}]");
	decide(text, &patch, NULL);
	is_str(op_field(patch, 1, "path"), "/metadata/annotations/temper.io~1original-cpu-requests",
	    "existing annotations get one more key, its slash escaped");
	cJSON_Delete(patch);
	free(text);
}

static void
test_skips(void)
{
	const char *guaranteed = "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"1\","
	    "\"memory\":\"1Gi\"},\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]";
	cJSON *patch;
	char *text;

	text = review("CREATE", "", "", "\"priority\":1000000,", "[{\"name\":\"app\","
	    "\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_CRITICAL, "the critical tier is never scaled");
	ok(patch == NULL, "... no patch");
	free(text);

	text = review("CREATE", "", "", "\"priority\":0,", guaranteed);
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_GUARANTEED,
	    "a Guaranteed pod is left whole by default");
	ok(patch == NULL, "... no patch");
	options.guaranteed = CLUSTER_GUARANTEED_SCALE;
	is_int(decide(text, &patch, NULL), ADMISSION_SCALED,
	    "with guaranteed = scale it is scaled (and becomes Burstable)");
	is_str(op_field(patch, 0, "value"), "500m", "... its request halved, its limit untouched");
	cJSON_Delete(patch);
	options.guaranteed = CLUSTER_GUARANTEED_SKIP;
	free(text);

	text = review("CREATE", "", ",\"annotations\":{\"temper.io/original-cpu-requests\":\"{}\"}",
	    "", "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"500m\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_ALREADY_SCALED,
	    "a reinvocation on a scaled pod is a no-op");
	free(text);

	text = review("CREATE", "", "", "", "[{\"name\":\"app\"}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_NO_CPU_REQUESTS,
	    "a pod without CPU requests is left alone");
	free(text);

	text = review("CREATE", "", "", "", "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"10m\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_NO_CPU_REQUESTS,
	    "a request already at the floor is left alone");
	free(text);

	text = review("UPDATE", "resize", ",\"annotations\":{\"temper.io/original-cpu-requests\":\"{}\"}",
	    "", "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"800m\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_RESIZE, "a resize is taken as asked");
	ok(patch == NULL, "... no patch");
	free(text);

	text = review("UPDATE", "", "", "", "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"800m\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_OPERATION, "a plain update is not scaled");
	free(text);

	text = review("CREATE", "", "", "", "[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"lots\"}}}]");
	is_int(decide(text, &patch, NULL), ADMISSION_SKIP_UNPARSABLE,
	    "an unreadable quantity is left for the API to refuse");
	free(text);
}

static void
test_refusals(void)
{
	struct admission_request request;
	char *cause = NULL;
	int error;

	error = admission_decode("{\"kind\":\"AdmissionReview\"}", 26, &request, &cause);
	ok(error == -EINVAL && cause != NULL, "a review without apiVersion v1 is refused: %s", cause);
	free(cause);
	error = admission_decode("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
	    62, &request, &cause);
	ok(error == -EINVAL, "a review without a request is refused: %s", cause);
	free(cause);
	error = admission_decode("nonsense", 8, &request, &cause);
	ok(error == -EINVAL, "non-JSON is refused");
	free(cause);
}

static void
test_config(void)
{
	struct cluster_config config;
	struct toml_value *root;
	char *cause = NULL;
	const char *text = "[webhook]\nratio = 0.25\nfloor_millis = 50\nguaranteed = \"scale\"\n"
	    "[controller]\nresync_seconds = 30\n";
	int error;

	cluster_config_defaults(&config);
	ok(config.webhook_ratio == 0.5 && config.webhook_floor_millis == 10 &&
	    config.webhook_guaranteed == CLUSTER_GUARANTEED_SKIP, "defaults: 0.5, 10m, skip");
	root = toml_parse(text, strlen(text), NULL);
	is_int(cluster_config_from_toml(root, &config, &cause), 0, "[webhook] and [controller] parse");
	ok(config.webhook_ratio == 0.25 && config.webhook_floor_millis == 50 &&
	    config.webhook_guaranteed == CLUSTER_GUARANTEED_SCALE &&
	    config.controller_resync_seconds == 30, "... every key read");
	toml_free(root);
	text = "[webhook]\nratio = 1.5\n";
	root = toml_parse(text, strlen(text), NULL);
	error = cluster_config_from_toml(root, &config, &cause);
	ok(error == -EINVAL && strstr(cause, "(0, 1]") != NULL, "a ratio above 1 is refused: %s", cause);
	ok(config.webhook_ratio == 0.25, "... and the config is untouched");
	free(cause);
	toml_free(root);
	text = "[webhook]\nguaranteed = \"maybe\"\n";
	root = toml_parse(text, strlen(text), NULL);
	error = cluster_config_from_toml(root, &config, &cause);
	ok(error == -EINVAL && cause != NULL, "guaranteed must be skip or scale: %s", cause);
	free(cause);
	toml_free(root);
}

int
main(void)
{
	tier_thresholds_defaults(&thresholds);
	options.thresholds = &thresholds;
	options.ratio = 0.5;
	options.floor_millis = 10;
	options.guaranteed = CLUSTER_GUARANTEED_SKIP;
	test_scale();
	test_burstable();
	test_skips();
	test_refusals();
	test_config();
	return done_testing();
}
