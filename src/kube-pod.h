/*
 * kube-pod.h - a Pod's JSON into the compact struct pod of pod.h.
 *
 * Pure: no I/O.  The JSON tree is not kept; every string the struct points
 * to is copied into one block owned by the pod.
 */
#ifndef TEMPER_KUBE_POD_H
#define TEMPER_KUBE_POD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube-object.h"
#include "pod.h"

/* Pods sanely have a handful of containers; more is a hostile object. */
#define KUBE_POD_MAX_CONTAINERS 256

/* A new pod, or NULL with errno set and *cause saying which field is wrong. */
struct pod *kube_pod_decode(const cJSON *json, char **cause);

/* Parse text first (for tests and tools). */
struct pod *kube_pod_decode_text(const char *text, size_t len, char **cause);

/* The kind the reflector lists and watches as "pods". */
extern const struct kube_kind kube_pod_kind;

#endif
