/*
 * generations.h - numbered, timestamped scx_layered configurations.
 *
 * Every plan that differs from the last becomes a generation: kept in
 * memory and as one file in STATE_DIR/generations/ (the newest 50), so the
 * history and the numbering survive a restart.  generations_diff is pure.
 */
#ifndef TEMPER_GENERATIONS_H
#define TEMPER_GENERATIONS_H

#include <stddef.h>
#include <stdint.h>

#define GENERATIONS_KEEP 50

struct buf;

struct generation {
	uint64_t number;
	int64_t created_ms;		/* Unix time in milliseconds */
	char *reason;			/* what triggered it ("pod added ns/name", ...) */
	char *notes;			/* the planner's notes, one per line */
	char *config;			/* scx_layered JSON, pretty-printed */
};

struct generations {
	char *dir;			/* NULL: memory only */
	struct generation *items;	/* oldest first */
	size_t count;
	uint64_t last_number;
};

/*
 * Open the store under state_dir (NULL for memory only), loading what an
 * earlier run left.  Files that do not parse are skipped and counted in
 * *skipped, for the caller to log.  0 or a negative errno with *cause.
 */
int generations_open(struct generations *generations, const char *state_dir,
    unsigned *skipped, char **cause);

/*
 * Add the next generation and persist it (written to a temporary file,
 * synced, renamed), dropping the oldest beyond GENERATIONS_KEEP.  The new
 * generation is returned through *added.  0 or a negative errno with
 * *cause; on error nothing changes.
 */
int generations_add(struct generations *generations, const char *config,
    const char *notes, const char *reason, const struct generation **added,
    char **cause);

const struct generation *generations_latest(const struct generations *generations);
const struct generation *generations_find(const struct generations *generations,
    uint64_t number);

void generations_close(struct generations *generations);

/*
 * A unified diff of two texts by line, with three lines of context.
 * Returns "" when they are equal.  Pure; NULL on ENOMEM.
 */
char *generations_diff(const char *from, const char *to, const char *from_label,
    const char *to_label);

#endif
