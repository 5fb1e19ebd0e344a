/*
 * admission.h - the overcommit webhook's decisions, pure: an AdmissionReview
 * v1 in, an AdmissionReview answer with a JSONPatch out.
 *
 * On CREATE of a pod (the MutatingWebhookConfiguration's namespaceSelector
 * has already chosen namespaces labelled temper.io/overcommit=enabled, so
 * the webhook trusts it and reads no namespace), each container's and init
 * container's CPU *request* is scaled by [webhook] ratio, rounded up to a
 * millicore and never below floor_millis (nor above what it was).  Limits
 * are never touched, so requests stay <= limits.  The originals go into
 * temper.io/original-cpu-requests as a JSON object {"container":"500m"},
 * the source of truth for restoring them.
 *
 * Left alone, each with its reason: pods of the critical tier; Guaranteed
 * pods unless [webhook] guaranteed = "scale" (scaling requests only would
 * make them Burstable: a new cgroup parent, no exclusive CPUs from a static
 * CPU manager, a different OOM score); pods already carrying the
 * annotation (reinvocation and a second webhook entry are no-ops); pods
 * with no CPU requests; every UPDATE, including pods/resize: resources are
 * immutable outside resize, and a resize states the new values the user
 * wants, which the webhook takes as they are (scaling them again would
 * compound the ratio, and the resize subresource cannot carry the
 * annotation's update).
 */
#ifndef TEMPER_ADMISSION_H
#define TEMPER_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cluster-config.h"
#include "tier.h"

struct buf;

#define ADMISSION_ORIGINAL_KEY "temper.io/original-cpu-requests"
#define ADMISSION_ORIGINAL_LEGACY_KEY "infera.io/original-cpu-requests"
#define ADMISSION_MAX_CONTAINERS 256

struct admission_request {
	cJSON *json;			/* owns every pointer below */
	const char *uid;
	const char *kind;		/* request.kind.kind, "" when absent */
	const char *operation;		/* CREATE, UPDATE, ... */
	const char *sub_resource;	/* "" or "resize" */
	const char *namespace;
	char name[256];			/* the pod's name, or "generateName*" */
	const cJSON *object;		/* NULL for DELETE */
};

struct admission_options {
	const struct tier_thresholds *thresholds;
	double ratio;
	int64_t floor_millis;
	enum cluster_guaranteed guaranteed;
};

enum admission_action {
	ADMISSION_SCALED,
	ADMISSION_SKIP_CRITICAL,
	ADMISSION_SKIP_GUARANTEED,
	ADMISSION_SKIP_ALREADY_SCALED,
	ADMISSION_SKIP_NO_CPU_REQUESTS,	/* none, or all at the floor already */
	ADMISSION_SKIP_UNPARSABLE,	/* a quantity the API will refuse anyway */
	ADMISSION_SKIP_RESIZE,
	ADMISSION_SKIP_OPERATION,	/* UPDATE, DELETE, CONNECT */
	ADMISSION_SKIP_NOT_A_POD,
};
#define ADMISSION_ACTION_COUNT 9

struct admission_decision {
	enum admission_action action;
	enum tier tier;
	bool guaranteed;
	int64_t before_millis;		/* sum of the changed requests */
	int64_t after_millis;
	unsigned changed;		/* containers whose request changed */
	char *patch;			/* JSONPatch text, NULL when none */
	char message[512];		/* for the log and the warning */
};

/* 0, or -EINVAL (-ENOMEM) with *cause.  Release is safe after a failure. */
int admission_decode(const char *body, size_t len,
    struct admission_request *request, char **cause);
void admission_release(struct admission_request *request);

/* Fill decision (release it after).  0 or -ENOMEM. */
int admission_decide(const struct admission_options *options,
    const struct admission_request *request,
    struct admission_decision *decision);
void admission_decision_release(struct admission_decision *decision);

/* The AdmissionReview answer (allowed, with the patch if any). */
int admission_render(const struct admission_request *request,
    const struct admission_decision *decision, struct buf *out);

/* The scaled request: ceil(millis * ratio), at least floor, at most millis. */
int64_t admission_scale(int64_t millis, double ratio, int64_t floor_millis);

const char *admission_action_name(enum admission_action action);

#endif
