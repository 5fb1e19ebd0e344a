/*
 * extender-index.h - the extender's node cache by name, for node-cache
 * mode, where every call looks up every feasible node.
 *
 * Pure.  An open-addressing table (linear probing, at most half full,
 * backward-shift deletion) of 16-byte slots, each with the name's hash
 * and length and one allocation holding a copy of the node's decided
 * state with the name after it: a lookup reads one slot and one entry,
 * with no allocation and no string compare but the one that confirms a
 * hash match.  The extender keeps it in step with its reflector's store
 * (adds, updates, deletes); it holds copies, so a relist that swaps the
 * store's objects under it leaves nothing dangling.
 */
#ifndef TEMPER_EXTENDER_INDEX_H
#define TEMPER_EXTENDER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "extender-policy.h"

struct extender_index_entry;

struct extender_index_slot {
	uint32_t hash;
	uint32_t length;
	struct extender_index_entry *entry;	/* NULL: free */
};

struct extender_index {
	struct extender_index_slot *slots;
	size_t size;			/* a power of two, or 0 */
	size_t count;
};

void extender_index_init(struct extender_index *index);
/* Free every entry; the index can be used again. */
void extender_index_clear(struct extender_index *index);

/* Insert or replace name's state.  0 or -ENOMEM (the index is unchanged). */
int extender_index_put(struct extender_index *index, const char *name,
    const struct extender_node_state *state);
/* Remove name; nothing when absent. */
void extender_index_remove(struct extender_index *index, const char *name);

const struct extender_node_state *extender_index_get(
    const struct extender_index *index, const struct extender_node_name *name);

#endif
