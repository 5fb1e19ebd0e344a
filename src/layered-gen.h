/*
 * layered-gen.h - a layer plan as scx_layered's JSON config.
 *
 * Pure and exact: only keys scx_layered's serde structs define (it ignores
 * unknown keys silently, so a typo here would be a silent misconfiguration),
 * in a fixed order and format, so the same plan gives the same bytes.
 */
#ifndef TEMPER_LAYERED_GEN_H
#define TEMPER_LAYERED_GEN_H

struct buf;
struct plan;

/* Append the JSON array to out.  0, -ENOMEM, or -EINVAL for an empty plan. */
int layered_gen(const struct plan *plan, struct buf *out);

/* The same as a malloc'd NUL-terminated string; NULL with errno. */
char *layered_gen_string(const struct plan *plan);

#endif
