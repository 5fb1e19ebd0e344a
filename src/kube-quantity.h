/*
 * kube-quantity.h - Kubernetes resource quantities ("500m", "1.5Gi", "1e3")
 * as exact integers.
 *
 * Follows apimachinery's resource.Quantity grammar: a signed decimal number
 * followed by a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m
 * k M G T P E or none) or a decimal exponent (e3, E-2).  Values are scaled
 * the way the kubelet reads them (MilliValue for CPU, Value for bytes): a
 * fraction left over is rounded up, away from zero.
 */
#ifndef TEMPER_KUBE_QUANTITY_H
#define TEMPER_KUBE_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse text (len bytes, no NUL needed) and store value * 10^scale, rounded
 * up, in *out: scale 3 gives millis (CPU), 0 gives units (bytes).  Returns 0,
 * -EINVAL for text that is not a quantity, -ERANGE when the result does not
 * fit an int64_t.
 */
int kube_quantity_parse(const char *text, size_t len, int scale, int64_t *out);

/* Shorthands for NUL-terminated text. */
int kube_quantity_millis(const char *text, int64_t *out);
int kube_quantity_value(const char *text, int64_t *out);

#endif
