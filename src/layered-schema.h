/*
 * layered-schema.h - a strict checker for scx_layered JSON configs.
 *
 * scx_layered ignores unknown keys and checks some limits only after its
 * BPF program loads (or panics on them), so every config Temper writes is
 * checked here first: known keys only, each with its type, enum spellings,
 * the limits of scheds/rust/scx_layered/src/bpf/intf.h and the rules of
 * verify_layer_specs(), plus a few of Temper's own (no duplicate names or
 * keys, an empty match block only in the last layer).
 */
#ifndef TEMPER_LAYERED_SCHEMA_H
#define TEMPER_LAYERED_SCHEMA_H

#include <stddef.h>

/*
 * 0 when json (len bytes) is a config scx_layered accepts as Temper means
 * it; -EINVAL with *cause ("layer 2 (\"high\"): kind.Grouped: unknown key
 * \"slice\"") otherwise; -ENOMEM.
 */
int layered_schema_check(const char *json, size_t len, char **cause);

#endif
