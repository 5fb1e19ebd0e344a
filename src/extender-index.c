/* extender-index.c - the extender's nodes by name, one probe sequence each. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extender-index.h"

struct extender_index_entry {
	struct extender_node_state state;
	char name[];
};

void
extender_index_init(struct extender_index *index)
{
	memset(index, 0, sizeof *index);
}

void
extender_index_clear(struct extender_index *index)
{
	for (size_t i = 0; i < index->size; i++)
		free(index->slots[i].entry);
	free(index->slots);
	extender_index_init(index);
}

static struct extender_index_slot *
extender_index_find(const struct extender_index *index, const char *name,
    uint32_t length, uint32_t hash)
{
	size_t mask = index->size - 1, at;

	if (index->size == 0)
		return NULL;
	for (at = hash & mask; index->slots[at].entry != NULL; at = (at + 1) & mask) {
		struct extender_index_slot *slot = &index->slots[at];

		if (slot->hash == hash && slot->length == length &&
		    memcmp(slot->entry->name, name, length) == 0)
			return slot;
	}
	return NULL;
}

const struct extender_node_state *
extender_index_get(const struct extender_index *index,
    const struct extender_node_name *name)
{
	const struct extender_index_slot *slot;

	slot = extender_index_find(index, name->text, name->length, name->hash);
	return slot != NULL ? &slot->entry->state : NULL;
}

static void
extender_index_place(struct extender_index_slot *slots, size_t size,
    const struct extender_index_slot *slot)
{
	size_t at;

	for (at = slot->hash & (size - 1); slots[at].entry != NULL; at = (at + 1) & (size - 1))
		;
	slots[at] = *slot;
}

/* Keep the table at most half full: probe sequences stay short. */
static int
extender_index_grow(struct extender_index *index)
{
	struct extender_index_slot *slots;
	size_t size;

	if (2 * (index->count + 1) <= index->size)
		return 0;
	size = index->size ? 2 * index->size : 64;
	if ((slots = calloc(size, sizeof *slots)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < index->size; i++)
		if (index->slots[i].entry != NULL)
			extender_index_place(slots, size, &index->slots[i]);
	free(index->slots);
	index->slots = slots;
	index->size = size;
	return 0;
}

int
extender_index_put(struct extender_index *index, const char *name,
    const struct extender_node_state *state)
{
	struct extender_index_slot *slot, fresh;
	size_t length = strlen(name);

	/* Names come from the API server, which keeps them far shorter. */
	if (length > UINT32_MAX / 2)
		return -ENOMEM;
	fresh.length = (uint32_t)length;
	fresh.hash = extender_name_hash(name, length);
	if ((slot = extender_index_find(index, name, fresh.length, fresh.hash)) != NULL) {
		slot->entry->state = *state;
		return 0;
	}
	if (extender_index_grow(index) != 0 ||
	    (fresh.entry = malloc(sizeof *fresh.entry + length + 1)) == NULL)
		return -ENOMEM;
	fresh.entry->state = *state;
	memcpy(fresh.entry->name, name, length + 1);
	extender_index_place(index->slots, index->size, &fresh);
	index->count++;
	return 0;
}

/*
 * Backward-shift deletion: each later slot of the run that may move up
 * into the hole does, so no tombstone lengthens later probes.
 */
void
extender_index_remove(struct extender_index *index, const char *name)
{
	struct extender_index_slot *slot;
	size_t length = strlen(name), mask = index->size - 1, hole, at;

	if (length > UINT32_MAX / 2 || (slot = extender_index_find(index, name,
	    (uint32_t)length, extender_name_hash(name, length))) == NULL)
		return;
	free(slot->entry);
	hole = (size_t)(slot - index->slots);
	index->slots[hole].entry = NULL;
	for (at = (hole + 1) & mask; index->slots[at].entry != NULL; at = (at + 1) & mask) {
		size_t home = index->slots[at].hash & mask;

		/* It stays when its home lies cyclically in (hole, at]. */
		if ((at > hole && home > hole && home <= at) ||
		    (at < hole && (home > hole || home <= at)))
			continue;
		index->slots[hole] = index->slots[at];
		index->slots[at].entry = NULL;
		hole = at;
	}
	index->count--;
}
