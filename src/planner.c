/*
 * planner.c - from the node's pods, tiers and topology to a layer plan.
 *
 * The CPU budget, in whole cores (scx_layered hands out cores, so SMT
 * siblings are counted together):
 *
 *   system   config system_layer_cpus, the scheduler's and agent's threads;
 *   reserve  max(open_reserve_cpus, open_reserve_percent of the node),
 *            rounded up to whole cores: never fenced, so everyone else
 *            always has somewhere to run;
 *   fenceable = online - system - reserve, rounded down to whole cores:
 *            the most Critical may confine.
 *
 * Critical takes the whole cores its requests need (at least one); when
 * those do not fit in the fenceable CPUs, Critical is demoted to a
 * protected Grouped layer and the plan says so in a warning.  High and
 * Normal get as minimum the whole cores their requests need, from what
 * Critical left, and may grow over everything not confined.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cause.h"
#include "planner.h"
#include "pod.h"
#include "profile.h"
#include "topology.h"

/* Tier layers may use what the system layer and the catch-all leave. */
#define PLANNER_MAX_TIER_LAYERS (PLANNER_MAX_LAYERS - 2)

/* One usable input pod. */
struct planner_entry {
	const struct pod *pod;
	enum tier tier;
	char *cgroup;		/* normalised; NULL when unknown or unusable */
	int64_t request_millis;
	int64_t limit_millis;	/* -1 when unlimited */
	size_t block;		/* cgroup mode: its match block in its tier */
	bool agent;		/* the agent runs inside it: system layer */
	size_t input_index;
	const struct profile *profile;	/* borrowed, or NULL */
};

/* One CgroupPrefix OR block of a tier: a pod's cgroup or a shared parent. */
struct planner_block {
	const char *prefix;	/* borrowed from an entry, or owned_prefix */
	char *owned_prefix;
	size_t layer;		/* which of the tier's layers holds it */
	size_t original;	/* its index before sorting */
	bool overflow;		/* beyond the layer budget */
};

struct planner_tier {
	size_t *members;	/* entry indexes with a cgroup, in entry order */
	size_t member_count;
	size_t pod_count;	/* all pods of the tier, cgroup or not */
	int64_t request_millis;
	struct planner_block *blocks;
	size_t block_count;
	size_t layer_count;	/* granted */
	size_t layers_wanted;
	size_t usable_blocks;	/* blocks within the layer budget */
	size_t first_layer;	/* index in plan->layers */
};

struct planner_context {
	struct plan *plan;
	const struct engine_config *config;
	const struct topology *topology;
	struct planner_entry *entries;
	size_t entry_count;
	struct planner_tier tiers[TIER_COUNT];
	char *agent_cgroup;
	int error;
};

/* Per-tier constants: the tier table of DESIGN.md plus sizing bases. */
static const struct {
	enum plan_kind kind;
	bool protected, preempt, exclusive;
	unsigned util_high_permille;	/* at a share of zero */
	unsigned weight;		/* at a share of zero */
} planner_tier_table[TIER_COUNT] = {
	[TIER_CRITICAL] = { PLAN_KIND_CONFINED, true, true, true, 700, 1000 },
	[TIER_HIGH] = { PLAN_KIND_GROUPED, true, true, false, 800, 400 },
	[TIER_NORMAL] = { PLAN_KIND_GROUPED, false, false, false, 900, 100 },
	[TIER_LOW] = { PLAN_KIND_OPEN, false, false, false, 0, 25 },
	[TIER_BACKGROUND] = { PLAN_KIND_OPEN, false, false, false, 0, 5 },
};

/* The utilisation band a sized layer keeps its CPUs within. */
#define PLANNER_UTIL_BAND_PERMILLE 150
/* How much a tier's share of the node lowers its utilisation target. */
#define PLANNER_UTIL_SHARE_PERMILLE 200
/* A tier holding the whole node weighs this many times its base. */
#define PLANNER_WEIGHT_SHARE_FACTOR 5
#define PLANNER_MIN_WEIGHT 1
#define PLANNER_MAX_WEIGHT 10000
#define PLANNER_SYSTEM_WEIGHT 1000
#define PLANNER_SYSTEM_SLICE_US 5000
#define PLANNER_DEFAULT_WEIGHT 100

static const char *const planner_system_comms[] = { "scx_layered", "temperd" };

unsigned
planner_tier_hint(enum tier tier)
{
	/* 0 is the map's "no hint"; tiers start at 1. */
	return (unsigned)tier + 1;
}

const char *
planner_kind_name(enum plan_kind kind)
{
	switch (kind) {
	case PLAN_KIND_CONFINED:
		return "Confined";
	case PLAN_KIND_GROUPED:
		return "Grouped";
	default:
		return "Open";
	}
}

__attribute__((format(printf, 4, 5)))
static void
planner_note(struct planner_context *context, enum plan_note_level level,
    const char *pod_uid, const char *fmt, ...)
{
	struct plan *plan = context->plan;
	struct plan_note *notes, *note;
	va_list ap;
	int n;

	if (context->error != 0)
		return;
	notes = realloc(plan->notes, (plan->note_count + 1) * sizeof *notes);
	if (notes == NULL) {
		context->error = -ENOMEM;
		return;
	}
	plan->notes = notes;
	note = &notes[plan->note_count];
	memset(note, 0, sizeof *note);
	note->level = level;
	va_start(ap, fmt);
	n = vasprintf(&note->text, fmt, ap);
	va_end(ap);
	if (n < 0 || (pod_uid != NULL &&
	    (note->pod_uid = strdup(pod_uid)) == NULL)) {
		if (n >= 0)
			free(note->text);
		context->error = -ENOMEM;
		return;
	}
	plan->note_count++;
}

static const char *
planner_pod_label(const struct pod *pod, char *label, size_t size)
{
	snprintf(label, size, "%s/%s (%s)", pod->namespace ? pod->namespace : "?",
	    pod->name ? pod->name : "?", pod->uid);
	return label;
}

/*
 * The path as scx_layered compares it: relative, with a trailing slash so
 * that "pod1/" never matches "pod10/".  NULL with *reason when unusable:
 * the root would match every task on the node, and serde_json wants UTF-8,
 * which kubelet's ASCII cgroup names always are.
 */
static char *
planner_normalise_cgroup(const char *path, const char **reason)
{
	size_t len;
	char *out;

	while (*path == '/')
		path++;
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/' && path[len - 2] == '/')
		len--;
	if (len == 0 || (len == 1 && path[0] == '/')) {
		*reason = "it is the cgroup root, which would match every task";
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c >= 0x7f) {
			*reason = "it holds a control or non-ASCII byte";
			return NULL;
		}
	}
	if (len + (path[len - 1] != '/') > PLANNER_MAX_CGROUP_PATH) {
		*reason = "it is longer than scx_layered's 4095 bytes";
		return NULL;
	}
	if ((out = malloc(len + 2)) == NULL) {
		*reason = NULL;
		return NULL;
	}
	memcpy(out, path, len);
	if (out[len - 1] != '/')
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

static int
planner_compare_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);	/* unknown cgroups last */
	return strcmp(a, b);
}

/* Planning order: tier, then cgroup path, then uid: input order never matters. */
static int
planner_compare_entries(const void *x, const void *y)
{
	const struct planner_entry *a = x, *b = y;
	int c;

	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	if ((c = planner_compare_text(a->cgroup, b->cgroup)) != 0)
		return c;
	if ((c = strcmp(a->pod->uid, b->pod->uid)) != 0)
		return c;
	return (a->input_index > b->input_index) - (a->input_index < b->input_index);
}

static int
planner_compare_uid_first(const void *x, const void *y)
{
	const struct planner_entry *a = x, *b = y;
	int c;

	if ((c = strcmp(a->pod->uid, b->pod->uid)) != 0)
		return c;
	return planner_compare_entries(x, y);
}

static int
planner_compare_blocks(const void *x, const void *y)
{
	const struct planner_block *a = x, *b = y;

	return strcmp(a->prefix, b->prefix);
}

static bool
planner_has_prefix(const char *path, const char *prefix)
{
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Take the input pods: validate, normalise, drop duplicates, sort. */
static int
planner_collect(struct planner_context *context,
    const struct planner_pod *pods, size_t pod_count, char **cause)
{
	struct planner_entry *entries;
	const char *reason;
	char label[512];
	size_t count = 0, kept = 0;

	if (pod_count == 0)
		return 0;
	if ((entries = calloc(pod_count, sizeof *entries)) == NULL)
		return -ENOMEM;
	context->entries = entries;
	for (size_t i = 0; i < pod_count; i++) {
		const struct pod *pod = pods[i].pod;
		struct planner_entry *entry = &entries[count];

		if (pod == NULL || (unsigned)pods[i].tier >= TIER_COUNT) {
			cause_set(cause, "planner input %zu has %s", i,
			    pod == NULL ? "no pod" : "no valid tier");
			return -EINVAL;
		}
		if (pod->uid == NULL || pod->uid[0] == '\0') {
			planner_note(context, PLAN_NOTE_WARNING, NULL,
			    "pod %s/%s has no uid: not planned",
			    pod->namespace ? pod->namespace : "?",
			    pod->name ? pod->name : "?");
			continue;
		}
		planner_pod_label(pod, label, sizeof label);
		if (pod->phase == POD_PHASE_SUCCEEDED ||
		    pod->phase == POD_PHASE_FAILED) {
			planner_note(context, PLAN_NOTE_INFO, pod->uid,
			    "pod %s has finished (%s): not planned", label,
			    pod_phase_name(pod->phase));
			continue;
		}
		entry->pod = pod;
		entry->tier = pods[i].tier;
		entry->input_index = i;
		entry->profile = pods[i].profile;
		entry->request_millis = pod_cpu_request_millis(pod);
		entry->limit_millis = pod_cpu_limit_millis(pod);
		if (pods[i].cgroup != NULL) {
			entry->cgroup = planner_normalise_cgroup(pods[i].cgroup,
			    &reason);
			if (entry->cgroup == NULL && reason == NULL)
				return -ENOMEM;
			if (entry->cgroup == NULL)
				planner_note(context, PLAN_NOTE_WARNING, pod->uid,
				    "pod %s: cgroup \"%.200s\" cannot be matched "
				    "because %s", label, pods[i].cgroup, reason);
		}
		count++;
	}
	context->entry_count = count;

	/* One pod, one place: later copies of a uid are reported and dropped. */
	qsort(entries, count, sizeof *entries, planner_compare_uid_first);
	for (size_t i = 0; i < count; i++) {
		if (kept > 0 && strcmp(entries[kept - 1].pod->uid,
		    entries[i].pod->uid) == 0) {
			planner_note(context, PLAN_NOTE_WARNING,
			    entries[i].pod->uid, "pod %s is listed more than "
			    "once: planned once, as %s",
			    planner_pod_label(entries[i].pod, label, sizeof label),
			    tier_name(entries[kept - 1].tier));
			free(entries[i].cgroup);
			continue;
		}
		entries[kept++] = entries[i];
	}
	context->entry_count = kept;
	qsort(entries, kept, sizeof *entries, planner_compare_entries);
	return context->error;
}

/*
 * Whether prefix may stand for all of tier's pods under it.  scx_layered
 * takes the first layer that matches, so a shared parent is safe only when
 * no later layer has a pod under it (earlier layers still win theirs), no
 * later pod's whereabouts are unknown, and the agent is not beneath it.
 * Cgroups under it that the plan does not know yet (a pod starting) join
 * this tier until the next plan, debounce_ms later.
 */
static bool
planner_parent_is_safe(const struct planner_context *context, enum tier tier,
    const char *prefix)
{
	if (context->agent_cgroup != NULL &&
	    planner_has_prefix(context->agent_cgroup, prefix))
		return false;
	for (size_t i = 0; i < context->entry_count; i++) {
		const struct planner_entry *entry = &context->entries[i];

		if (entry->tier <= tier)
			continue;
		if (entry->cgroup == NULL ||
		    planner_has_prefix(entry->cgroup, prefix))
			return false;
	}
	return true;
}

/* The parent of a normalised path ("a/b/c/" -> length of "a/b/"), 0 for none. */
static size_t
planner_parent_length(const char *path)
{
	size_t len = strlen(path);

	if (len < 2)
		return 0;
	for (size_t i = len - 1; i > 0; i--)
		if (path[i - 1] == '/')
			return i;
	return 0;
}

struct planner_parent {
	const char *path;	/* borrowed from the first member under it */
	size_t length;
	size_t count;
};

static int
planner_compare_parents(const void *x, const void *y)
{
	const struct planner_parent *a = x, *b = y;
	size_t n = a->length < b->length ? a->length : b->length;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if ((c = memcmp(a->path, b->path, n)) != 0)
		return c;
	return (a->length > b->length) - (a->length < b->length);
}

/*
 * The tier's OR blocks in cgroup mode.  Up to 32 pods each get their own
 * block.  Past 32 (scx_layered's MAX_LAYER_MATCH_ORS), pods sharing a parent
 * cgroup -- typically kubelet's QoS-class parent, kubepods-burstable.slice/
 * -- are folded into one block for that parent, largest groups first, where
 * planner_parent_is_safe() allows; what still does not fit spreads over
 * extra layers (planner_grant_layers), and past the 16-layer budget the
 * rest is reported pod by pod, never dropped silently.  Hint mode avoids
 * all this: one HintEquals block per tier, whatever its size.
 */
static int
planner_tier_blocks(struct planner_context *context, enum tier tier)
{
	struct planner_tier *group = &context->tiers[tier];
	struct planner_parent *parents = NULL;
	size_t parent_count = 0, blocks;
	bool *folded = NULL;
	int error = 0;

	if (group->member_count == 0)
		return 0;
	group->blocks = calloc(group->member_count, sizeof *group->blocks);
	parents = calloc(group->member_count, sizeof *parents);
	folded = calloc(group->member_count, sizeof *folded);
	if (group->blocks == NULL || parents == NULL || folded == NULL) {
		error = -ENOMEM;
		goto out;
	}

	/* Distinct cgroups (two pods in one cgroup share its block). */
	blocks = 0;
	for (size_t i = 0; i < group->member_count; i++) {
		const char *path = context->entries[group->members[i]].cgroup;

		if (i == 0 || strcmp(path,
		    context->entries[group->members[i - 1]].cgroup) != 0)
			blocks++;
	}

	if (blocks > PLANNER_MAX_OR_BLOCKS) {
		for (size_t i = 0; i < group->member_count; i++) {
			const char *path = context->entries[group->members[i]].cgroup;
			size_t length = planner_parent_length(path), j;

			if (length == 0)
				continue;
			for (j = 0; j < parent_count; j++)
				if (parents[j].length == length &&
				    memcmp(parents[j].path, path, length) == 0)
					break;
			if (j == parent_count) {
				parents[parent_count].path = path;
				parents[parent_count].length = length;
				parent_count++;
			}
			parents[j].count++;
		}
		qsort(parents, parent_count, sizeof *parents,
		    planner_compare_parents);
		for (size_t j = 0; j < parent_count && blocks >
		    PLANNER_MAX_OR_BLOCKS; j++) {
			const char *previous = NULL;
			size_t distinct = 0;
			char *prefix;

			if (parents[j].count < 2)
				break;
			if ((prefix = strndup(parents[j].path,
			    parents[j].length)) == NULL) {
				error = -ENOMEM;
				goto out;
			}
			if (!planner_parent_is_safe(context, tier, prefix)) {
				free(prefix);
				continue;
			}
			for (size_t i = 0; i < group->member_count; i++) {
				const char *path =
				    context->entries[group->members[i]].cgroup;

				if (folded[i] || !planner_has_prefix(path, prefix))
					continue;
				if (previous == NULL || strcmp(previous, path) != 0)
					distinct++;
				previous = path;
			}
			/* Everything under it already folded deeper: no gain. */
			if (distinct == 0) {
				free(prefix);
				continue;
			}
			for (size_t i = 0; i < group->member_count; i++) {
				struct planner_entry *entry =
				    &context->entries[group->members[i]];

				if (folded[i] ||
				    !planner_has_prefix(entry->cgroup, prefix))
					continue;
				folded[i] = true;
				entry->block = group->block_count;
			}
			group->blocks[group->block_count].prefix = prefix;
			group->blocks[group->block_count].owned_prefix = prefix;
			group->block_count++;
			/* Folding n distinct cgroups into one saves n - 1 blocks. */
			blocks -= distinct - 1;
		}
	}

	for (size_t i = 0; i < group->member_count; i++) {
		struct planner_entry *entry = &context->entries[group->members[i]];

		if (folded[i])
			continue;
		if (i > 0 && !folded[i - 1] && strcmp(entry->cgroup,
		    context->entries[group->members[i - 1]].cgroup) == 0) {
			entry->block = group->block_count - 1;
			continue;
		}
		group->blocks[group->block_count].prefix = entry->cgroup;
		entry->block = group->block_count++;
	}
	group->layers_wanted = (group->block_count + PLANNER_MAX_OR_BLOCKS - 1) /
	    PLANNER_MAX_OR_BLOCKS;
out:
	free(parents);
	free(folded);
	return error;
}

/*
 * Every tier with members gets a layer; tiers needing more (more than 32
 * blocks) get extra layers in tier order, Critical first, while the
 * 14 tier layers last.
 */
static void
planner_grant_layers(struct planner_context *context)
{
	size_t spare = PLANNER_MAX_TIER_LAYERS, extra;

	for (unsigned t = 0; t < TIER_COUNT; t++)
		if (context->tiers[t].layers_wanted > 0) {
			context->tiers[t].layer_count = 1;
			spare--;
		}
	for (unsigned t = 0; t < TIER_COUNT; t++) {
		struct planner_tier *group = &context->tiers[t];

		if (group->layers_wanted <= 1)
			continue;
		extra = group->layers_wanted - 1;
		if (extra > spare)
			extra = spare;
		group->layer_count += extra;
		spare -= extra;
	}
}

/* Which of the tier's layers each block lands in; the rest overflow. */
static void
planner_assign_blocks(struct planner_context *context, enum tier tier)
{
	struct planner_tier *group = &context->tiers[tier];
	struct planner_block *sorted = group->blocks;
	size_t usable, per_layer, remainder, at = 0, *new_index;

	if (group->block_count == 0)
		return;
	if ((new_index = calloc(group->block_count, sizeof *new_index)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	/*
	 * Sorting by prefix before cutting keeps cgroups of one parent in
	 * one layer, so a pod does not move between layers because another
	 * arrived elsewhere.
	 */
	for (size_t i = 0; i < group->block_count; i++)
		sorted[i].original = i;
	qsort(sorted, group->block_count, sizeof *sorted,
	    planner_compare_blocks);
	for (size_t i = 0; i < group->block_count; i++)
		new_index[sorted[i].original] = i;
	for (size_t i = 0; i < group->member_count; i++) {
		struct planner_entry *entry = &context->entries[group->members[i]];

		entry->block = new_index[entry->block];
	}
	free(new_index);

	usable = group->block_count;
	if (usable > group->layer_count * PLANNER_MAX_OR_BLOCKS)
		usable = group->layer_count * PLANNER_MAX_OR_BLOCKS;
	per_layer = usable / group->layer_count;
	remainder = usable % group->layer_count;
	for (size_t layer = 0; layer < group->layer_count; layer++) {
		size_t take = per_layer + (layer < remainder ? 1 : 0);

		for (size_t k = 0; k < take; k++)
			sorted[at++].layer = layer;
	}
	for (; at < group->block_count; at++)
		sorted[at].overflow = true;
	group->usable_blocks = usable;
}

static struct plan_layer *
planner_new_layer(struct planner_context *context, const char *name,
    const char *comment)
{
	struct plan *plan = context->plan;
	struct plan_layer *layer;

	if (plan->layer_count >= PLANNER_MAX_LAYERS) {
		context->error = -E2BIG;	/* cannot happen: budgeted */
		return NULL;
	}
	layer = &plan->layers[plan->layer_count];
	memset(layer, 0, sizeof *layer);
	if ((layer->name = strdup(name)) == NULL ||
	    (layer->comment = strdup(comment)) == NULL) {
		context->error = -ENOMEM;
		free(layer->name);
		layer->name = NULL;
		return NULL;
	}
	layer->weight = PLANNER_DEFAULT_WEIGHT;
	plan->layer_count++;
	return layer;
}

static void
planner_add_match(struct planner_context *context, struct plan_layer *layer,
    enum plan_match_kind kind, const char *text, unsigned hint)
{
	struct plan_match *matches;

	if (context->error != 0)
		return;
	matches = realloc(layer->matches,
	    (layer->match_count + 1) * sizeof *matches);
	if (matches == NULL) {
		context->error = -ENOMEM;
		return;
	}
	layer->matches = matches;
	matches[layer->match_count].kind = kind;
	matches[layer->match_count].hint = hint;
	matches[layer->match_count].text = NULL;
	matches[layer->match_count].also = NULL;
	matches[layer->match_count].also_count = 0;
	if (text != NULL &&
	    (matches[layer->match_count].text = strdup(text)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	layer->match_count++;
}

static void
planner_add_member(struct planner_context *context, struct plan_layer *layer,
    const struct planner_entry *entry)
{
	char **members;

	if (context->error != 0)
		return;
	members = realloc(layer->members,
	    (layer->member_count + 1) * sizeof *members);
	if (members == NULL) {
		context->error = -ENOMEM;
		return;
	}
	layer->members = members;
	if ((members[layer->member_count] = strdup(entry->pod->uid)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	layer->member_count++;
	layer->request_millis += entry->request_millis;
	if (entry->limit_millis < 0 || layer->limit_millis < 0)
		layer->limit_millis = -1;
	else
		layer->limit_millis += entry->limit_millis;
}

/* The tier's layers with their matches and members; sizing comes later. */
static void
planner_tier_layers(struct planner_context *context, enum tier tier)
{
	struct planner_tier *group = &context->tiers[tier];
	char name[PLANNER_MAX_NAME + 1], comment[128];

	group->first_layer = context->plan->layer_count;
	for (size_t part = 0; part < group->layer_count; part++) {
		struct plan_layer *layer;

		if (part == 0) {
			snprintf(name, sizeof name, "%s", tier_name(tier));
			snprintf(comment, sizeof comment, "temper: %s tier",
			    tier_name(tier));
		} else {
			snprintf(name, sizeof name, "%s-%zu", tier_name(tier),
			    part + 1);
		}
		if (group->layer_count > 1)
			snprintf(comment, sizeof comment,
			    "temper: %s tier, part %zu of %zu", tier_name(tier),
			    part + 1, group->layer_count);
		if ((layer = planner_new_layer(context, name, comment)) == NULL)
			return;
		layer->role = PLAN_ROLE_TIER;
		layer->tier = tier;
		layer->kind = planner_tier_table[tier].kind;
		layer->protected = planner_tier_table[tier].protected;
		layer->preempt = planner_tier_table[tier].preempt;
		layer->exclusive = planner_tier_table[tier].exclusive;
		layer->slice_us = context->config->slice_us[tier];

		if (context->plan->membership == ENGINE_MEMBERSHIP_HINT) {
			planner_add_match(context, layer, PLAN_MATCH_HINT_EQUALS,
			    NULL, planner_tier_hint(tier));
			continue;
		}
		for (size_t b = 0; b < group->block_count; b++)
			if (!group->blocks[b].overflow &&
			    group->blocks[b].layer == part)
				planner_add_match(context, layer,
				    PLAN_MATCH_CGROUP_PREFIX,
				    group->blocks[b].prefix, 0);
	}
}

/* A CgroupPrefix of the plan and the first layer that has it. */
struct planner_prefix {
	const char *text;
	size_t length;
	size_t layer;
};

static int
planner_compare_prefixes(const void *x, const void *y)
{
	const struct planner_prefix *a = x, *b = y;
	size_t n = a->length < b->length ? a->length : b->length;
	int c;

	if ((c = memcmp(a->text, b->text, n)) != 0)
		return c;
	if (a->length != b->length)
		return a->length < b->length ? -1 : 1;
	return (a->layer > b->layer) - (a->layer < b->layer);
}

static int
planner_compare_prefixes_text(const void *x, const void *y)
{
	const struct planner_prefix *a = x, *b = y;
	size_t n = a->length < b->length ? a->length : b->length;
	int c;

	if ((c = memcmp(a->text, b->text, n)) != 0)
		return c;
	return (a->length > b->length) - (a->length < b->length);
}

/*
 * Every prefix the plan matches on, sorted, each with the first layer that
 * has it.  All of them end in '/', so the ones matching a path are exactly
 * the path's '/'-ended heads: a few lookups per pod instead of a scan of
 * every block.
 */
static struct planner_prefix *
planner_prefix_index(const struct plan *plan, size_t *count)
{
	struct planner_prefix *index;
	size_t total = 0, kept = 0;

	for (size_t i = 0; i < plan->layer_count; i++)
		total += plan->layers[i].match_count;
	if ((index = calloc(total + 1, sizeof *index)) == NULL)
		return NULL;
	for (size_t i = 0; i < plan->layer_count; i++)
		for (size_t m = 0; m < plan->layers[i].match_count; m++) {
			const struct plan_match *match = &plan->layers[i].matches[m];

			if (match->kind != PLAN_MATCH_CGROUP_PREFIX)
				continue;
			index[kept].text = match->text;
			index[kept].length = strlen(match->text);
			index[kept].layer = i;
			kept++;
		}
	qsort(index, kept, sizeof *index, planner_compare_prefixes);
	*count = 0;
	for (size_t i = 0; i < kept; i++)
		if (*count == 0 || index[*count - 1].length != index[i].length ||
		    memcmp(index[*count - 1].text, index[i].text,
		    index[i].length) != 0)
			index[(*count)++] = index[i];
	return index;
}

/* The first layer whose CgroupPrefix matches path, as scx_layered picks. */
static struct plan_layer *
planner_first_match(struct plan *plan, const struct planner_prefix *index,
    size_t count, const char *path)
{
	struct planner_prefix key;
	const struct planner_prefix *hit;
	size_t best = SIZE_MAX;

	for (const char *slash = strchr(path, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		key.text = path;
		key.length = (size_t)(slash - path) + 1;
		key.layer = 0;
		hit = bsearch(&key, index, count, sizeof *index,
		    planner_compare_prefixes_text);
		if (hit != NULL && hit->layer < best)
			best = hit->layer;
	}
	return best == SIZE_MAX ? NULL : &plan->layers[best];
}

static struct plan_layer *
planner_system_layer(struct plan *plan)
{
	for (size_t i = 0; i < plan->layer_count; i++)
		if (plan->layers[i].role == PLAN_ROLE_SYSTEM)
			return &plan->layers[i];
	return NULL;
}

/*
 * Members are where scx_layered will put each pod, found by running its
 * first-match rule over the planned matches rather than assumed: a pod
 * whose cgroup lies under another tier's prefix, or that the layer budget
 * left out, is reported with where it really lands.
 */
static void
planner_assign_members(struct planner_context *context)
{
	struct plan *plan = context->plan;
	struct planner_prefix *index;
	struct plan_layer *layer;
	size_t count = 0;
	char label[512];

	if ((index = planner_prefix_index(plan, &count)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < context->entry_count; i++) {
		const struct planner_entry *entry = &context->entries[i];
		const struct planner_tier *group = &context->tiers[entry->tier];

		if (entry->agent) {
			layer = plan->membership == ENGINE_MEMBERSHIP_HINT ?
			    planner_system_layer(plan) :
			    planner_first_match(plan, index, count, entry->cgroup);
			if (layer != NULL) {
				planner_add_member(context, layer, entry);
				planner_note(context, PLAN_NOTE_INFO,
				    entry->pod->uid, "pod %s (tier %s) holds the "
				    "agent: it runs in layer %s", planner_pod_label(
				    entry->pod, label, sizeof label),
				    tier_name(entry->tier), layer->name);
			}
			continue;
		}
		if (entry->cgroup == NULL || group->layer_count == 0)
			continue;
		if (plan->membership == ENGINE_MEMBERSHIP_HINT) {
			planner_add_member(context,
			    &plan->layers[group->first_layer], entry);
			continue;
		}
		layer = planner_first_match(plan, index, count, entry->cgroup);
		if (group->blocks[entry->block].overflow)
			planner_note(context, PLAN_NOTE_WARNING, entry->pod->uid,
			    "pod %s (tier %s) is left out of the layer matches: "
			    "its tier needs %zu cgroup match blocks and the "
			    "16-layer budget holds %zu; it runs in %s%s%s "
			    "(membership = \"hint\" lifts this limit)",
			    planner_pod_label(entry->pod, label, sizeof label),
			    tier_name(entry->tier), group->block_count,
			    group->usable_blocks,
			    layer != NULL ? "layer " : "the catch-all layer",
			    layer != NULL ? layer->name : "",
			    layer != NULL ? ", which matches its cgroup first" : "");
		else if (layer == NULL || layer->role != PLAN_ROLE_TIER ||
		    layer->tier != entry->tier)
			planner_note(context, PLAN_NOTE_WARNING, entry->pod->uid,
			    "pod %s (tier %s): its cgroup %s lies under a prefix "
			    "of layer %s, which scx_layered matches first; it runs "
			    "there", planner_pod_label(entry->pod, label,
			    sizeof label), tier_name(entry->tier), entry->cgroup,
			    layer != NULL ? layer->name : "open");
		if (layer != NULL)
			planner_add_member(context, layer, entry);
	}
	free(index);
}

static unsigned
planner_min(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* Whole cores for millis of CPU, as CPUs. */
static unsigned
planner_core_cpus(int64_t millis, unsigned threads)
{
	int64_t per_core = 1000 * (int64_t)threads;

	if (millis <= 0)
		return 0;
	if (millis > (int64_t)TOPOLOGY_MAX_CPUS * 1000)
		millis = (int64_t)TOPOLOGY_MAX_CPUS * 1000;
	return (unsigned)((millis + per_core - 1) / per_core) * threads;
}

static unsigned
planner_share_permille(const struct plan *plan, int64_t millis)
{
	if (millis <= 0)
		return 0;
	if (millis >= plan->allocatable_millis)
		return 1000;
	return (unsigned)(millis * 1000 / plan->allocatable_millis);
}

/*
 * Utilisation target and weight from the layer's requests relative to the
 * node: a tier holding more of the node keeps more headroom (a lower
 * target, so it grows before its pods queue) and weighs more against the
 * others, up to PLANNER_WEIGHT_SHARE_FACTOR times its base.
 */
static void
planner_size_common(struct plan *plan, struct plan_layer *layer)
{
	unsigned share = planner_share_permille(plan, layer->request_millis);
	uint64_t weight;

	weight = (uint64_t)planner_tier_table[layer->tier].weight *
	    (1000 + (PLANNER_WEIGHT_SHARE_FACTOR - 1) * share) / 1000;
	if (weight < PLANNER_MIN_WEIGHT)
		weight = PLANNER_MIN_WEIGHT;
	if (weight > PLANNER_MAX_WEIGHT)
		weight = PLANNER_MAX_WEIGHT;
	layer->weight = (unsigned)weight;
	if (layer->kind == PLAN_KIND_OPEN)
		return;
	layer->util_high_permille = planner_tier_table[layer->tier].util_high_permille -
	    share * PLANNER_UTIL_SHARE_PERMILLE / 1000;
	layer->util_low_permille = layer->util_high_permille -
	    PLANNER_UTIL_BAND_PERMILLE;
}

static void
planner_size_critical(struct planner_context *context, unsigned *taken)
{
	struct planner_tier *group = &context->tiers[TIER_CRITICAL];
	struct plan *plan = context->plan;
	unsigned threads = plan->threads_per_core, need = 0, left, limit_cpus;
	int64_t requested = 0;
	size_t members = 0;

	for (size_t i = 0; i < group->layer_count; i++) {
		struct plan_layer *layer = &plan->layers[group->first_layer + i];
		unsigned cpus = planner_core_cpus(layer->request_millis, threads);

		/* A Confined layer needs a CPU to exist (cpus_range.1 > 0). */
		layer->cpus_min = cpus > threads ? cpus : threads;
		need += layer->cpus_min;
		requested += layer->request_millis;
		members += layer->member_count;
	}
	if (group->layer_count == 0)
		return;

	if (need <= plan->fenceable_cpus) {
		for (size_t i = 0; i < group->layer_count; i++) {
			struct plan_layer *layer =
			    &plan->layers[group->first_layer + i];

			/* Burst up to the limits, never past what may be fenced. */
			limit_cpus = layer->limit_millis < 0 ? plan->fenceable_cpus :
			    planner_core_cpus(layer->limit_millis, threads);
			layer->cpus_max = planner_min(plan->fenceable_cpus,
			    limit_cpus > layer->cpus_min ? limit_cpus :
			    layer->cpus_min);
			planner_size_common(plan, layer);
		}
		*taken = need;
		planner_note(context, PLAN_NOTE_INFO, NULL,
		    "critical: %zu pod%s requesting %" PRId64 "m confined to "
		    "%u CPUs (%u whole core%s of %u thread%s); %u CPUs "
		    "fenceable", members, members == 1 ? "" : "s", requested,
		    need, need / threads, need / threads == 1 ? "" : "s",
		    threads, threads == 1 ? "" : "s", plan->fenceable_cpus);
		return;
	}

	planner_note(context, PLAN_NOTE_WARNING, NULL,
	    "critical tier demoted to Grouped: its %zu pod%s request%s %" PRId64
	    "m, which takes %u CPUs in whole cores of %u thread%s, but only %u "
	    "of the node's %u CPUs can be fenced while keeping %u for the "
	    "other tiers and %u for the system layer; critical pods keep "
	    "priority (protected, preempting) but get no exclusive CPUs",
	    members, members == 1 ? "" : "s", members == 1 ? "s" : "",
	    requested, need, threads, threads == 1 ? "" : "s",
	    plan->fenceable_cpus, plan->cpu_count, plan->reserve_cpus,
	    plan->system_cpus);
	left = plan->fenceable_cpus;
	for (size_t i = 0; i < group->layer_count; i++) {
		struct plan_layer *layer = &plan->layers[group->first_layer + i];

		layer->demoted = true;
		layer->kind = PLAN_KIND_GROUPED;
		layer->exclusive = false;
		layer->cpus_min = planner_min(layer->cpus_min, left);
		left -= layer->cpus_min;
		*taken += layer->cpus_min;
		layer->cpus_max = plan->cpu_count - plan->system_cpus;
		if (layer->cpus_max < 1)
			layer->cpus_max = 1;
		free(layer->comment);
		if ((layer->comment = strdup("temper: critical tier, demoted to "
		    "Grouped")) == NULL)
			context->error = -ENOMEM;
		planner_size_common(plan, layer);
	}
}

/* High and Normal: minimum from requests, growth over what is not fenced. */
static void
planner_size_grouped(struct planner_context *context, enum tier tier,
    unsigned fenced, unsigned *unclaimed)
{
	struct planner_tier *group = &context->tiers[tier];
	struct plan *plan = context->plan;
	unsigned threads = plan->threads_per_core, want, grant, room;

	room = plan->cpu_count - plan->system_cpus - fenced;
	for (size_t i = 0; i < group->layer_count; i++) {
		struct plan_layer *layer = &plan->layers[group->first_layer + i];

		want = planner_core_cpus(layer->request_millis, threads);
		grant = planner_min(want, *unclaimed - *unclaimed % threads);
		if (grant < want)
			planner_note(context, PLAN_NOTE_INFO, NULL,
			    "%s: requests of %" PRId64 "m want %u CPUs in whole "
			    "cores, only %u are unclaimed; its minimum is %u",
			    layer->name, layer->request_millis, want, grant, grant);
		*unclaimed -= grant;
		layer->cpus_min = grant;
		layer->cpus_max = room > grant ? room : grant;
		if (layer->cpus_max == 0)
			layer->cpus_max = 1;
		planner_size_common(plan, layer);
	}
}

static void
planner_size(struct planner_context *context)
{
	struct plan *plan = context->plan;
	unsigned taken = 0, unclaimed, fenced;

	planner_size_critical(context, &taken);
	fenced = 0;
	for (size_t i = 0; i < context->tiers[TIER_CRITICAL].layer_count; i++) {
		const struct plan_layer *layer =
		    &plan->layers[context->tiers[TIER_CRITICAL].first_layer + i];

		if (layer->kind == PLAN_KIND_CONFINED)
			fenced += layer->cpus_min;
	}
	unclaimed = plan->cpu_count - plan->system_cpus - taken;
	planner_size_grouped(context, TIER_HIGH, fenced, &unclaimed);
	planner_size_grouped(context, TIER_NORMAL, fenced, &unclaimed);
	for (enum tier t = TIER_LOW; t <= TIER_BACKGROUND; t++)
		for (size_t i = 0; i < context->tiers[t].layer_count; i++)
			planner_size_common(plan,
			    &plan->layers[context->tiers[t].first_layer + i]);
}

static void
planner_system_layers(struct planner_context *context)
{
	struct plan *plan = context->plan;
	struct plan_layer *layer;
	size_t agent_pods = 0;

	layer = planner_new_layer(context, "system",
	    "temper: the scheduler's and the agent's own threads");
	if (layer == NULL)
		return;
	layer->role = PLAN_ROLE_SYSTEM;
	layer->kind = PLAN_KIND_GROUPED;
	layer->cpus_min = layer->cpus_max = plan->system_cpus;
	layer->util_low_permille = 500;
	layer->util_high_permille = 800;
	/* The scheduler's own threads must never wait behind a busy node. */
	layer->preempt = true;
	layer->slice_us = PLANNER_SYSTEM_SLICE_US;
	layer->weight = PLANNER_SYSTEM_WEIGHT;
	for (size_t i = 0; i < sizeof planner_system_comms /
	    sizeof planner_system_comms[0]; i++) {
		planner_add_match(context, layer, PLAN_MATCH_COMM_PREFIX,
		    planner_system_comms[i], 0);
		planner_add_match(context, layer, PLAN_MATCH_PCOMM_PREFIX,
		    planner_system_comms[i], 0);
	}
	for (size_t i = 0; i < context->entry_count; i++) {
		const struct planner_entry *entry = &context->entries[i];

		if (!entry->agent)
			continue;
		if (layer->match_count >= PLANNER_MAX_OR_BLOCKS) {
			planner_note(context, PLAN_NOTE_WARNING, entry->pod->uid,
			    "pod %s holds the agent's cgroup but the system "
			    "layer is out of match blocks", entry->pod->uid);
			continue;
		}
		agent_pods++;
		planner_add_match(context, layer, PLAN_MATCH_CGROUP_PREFIX,
		    entry->cgroup, 0);
	}
	/* The agent's pod, when listed, covers the agent's own cgroup. */
	if (context->agent_cgroup != NULL && agent_pods == 0)
		planner_add_match(context, layer, PLAN_MATCH_CGROUP_PREFIX,
		    context->agent_cgroup, 0);

	layer = planner_new_layer(context, "open",
	    "temper: everything else (kubelet, system daemons, unplanned pods)");
	if (layer == NULL)
		return;
	layer->role = PLAN_ROLE_CATCH_ALL;
	layer->kind = PLAN_KIND_OPEN;
	layer->slice_us = context->config->slice_us[TIER_NORMAL];
	layer->weight = PLANNER_DEFAULT_WEIGHT;
}

/*
 * Profile layers.  A profiled pod's thread groups are matched by the pod's
 * cgroup AND the group's conditions, in layers placed before every tier
 * layer so that they win the threads they name; the pod's other threads
 * stay in its tier's layer.  Groups of one tier and treatment share a layer,
 * whichever pod or profile they come from.  A treatment never lifts a
 * thread beyond its tier: sizes come from the tier's layer, exclusive cores
 * are for Critical only (elsewhere the group is planned as latency), and
 * preemption only where the tier preempts.  Overlapping groups: exclusive
 * layers come first, then latency, then yield.
 */
#define PLANNER_LATENCY_SLICE_US 1000
#define PLANNER_YIELD_WEIGHT_DIVISOR 10

static const struct plan_layer *
planner_tier_base(const struct plan *plan, enum tier tier)
{
	for (size_t i = 0; i < plan->layer_count; i++)
		if (plan->layers[i].role == PLAN_ROLE_TIER &&
		    plan->layers[i].tier == tier)
			return &plan->layers[i];
	return NULL;
}

static void
planner_add_also(struct planner_context *context, struct plan_match *match,
    enum plan_match_kind kind, const char *text, unsigned hint)
{
	struct plan_match *also;

	if (context->error != 0)
		return;
	if ((also = realloc(match->also,
	    (match->also_count + 1) * sizeof *also)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	match->also = also;
	memset(&also[match->also_count], 0, sizeof *also);
	also[match->also_count].kind = kind;
	also[match->also_count].hint = hint;
	if (text != NULL &&
	    (also[match->also_count].text = strdup(text)) == NULL) {
		context->error = -ENOMEM;
		return;
	}
	match->also_count++;
}

/* One OR block: the pod's cgroup AND the group's conditions. */
static void
planner_add_profile_block(struct planner_context *context,
    struct plan_layer *layer, const char *cgroup,
    const struct profile_group *group)
{
	struct plan_match *match;

	planner_add_match(context, layer, PLAN_MATCH_CGROUP_PREFIX, cgroup, 0);
	if (context->error != 0)
		return;
	match = &layer->matches[layer->match_count - 1];
	match->also = NULL;
	match->also_count = 0;
	if (group->comm_prefix != NULL)
		planner_add_also(context, match, PLAN_MATCH_COMM_PREFIX,
		    group->comm_prefix, 0);
	if (group->parent_comm_prefix != NULL)
		planner_add_also(context, match, PLAN_MATCH_PCOMM_PREFIX,
		    group->parent_comm_prefix, 0);
	if (group->cmd_join != NULL)
		planner_add_also(context, match, PLAN_MATCH_CMD_JOIN,
		    group->cmd_join, 0);
	if (group->group_leader != PROFILE_LEADER_ANY)
		planner_add_also(context, match, PLAN_MATCH_IS_GROUP_LEADER,
		    NULL, group->group_leader == PROFILE_LEADER_YES);
}

/* Sizes and flags from the tier's own layer; see the comment above. */
static void
planner_size_profile_layer(const struct plan *plan, struct plan_layer *layer,
    const struct plan_layer *base)
{
	bool sized = base->kind != PLAN_KIND_OPEN;

	layer->cpus_min = 0;
	layer->cpus_max = sized ? base->cpus_max : 0;
	layer->util_low_permille = sized ? base->util_low_permille : 0;
	layer->util_high_permille = sized ? base->util_high_permille : 0;
	layer->slice_us = base->slice_us;
	layer->weight = base->weight;
	switch ((enum profile_treatment)layer->treatment) {
	case PROFILE_TREATMENT_EXCLUSIVE:
		layer->kind = PLAN_KIND_GROUPED;
		layer->cpus_min = planner_min(plan->threads_per_core,
		    base->cpus_max);
		layer->protected = true;
		layer->preempt = true;
		layer->exclusive = true;
		break;
	case PROFILE_TREATMENT_LATENCY:
		layer->kind = sized ? PLAN_KIND_GROUPED : PLAN_KIND_OPEN;
		layer->protected = base->protected;
		layer->preempt = base->preempt;
		if (layer->slice_us > PLANNER_LATENCY_SLICE_US)
			layer->slice_us = PLANNER_LATENCY_SLICE_US;
		break;
	default:
		layer->kind = PLAN_KIND_OPEN;
		layer->cpus_max = 0;
		layer->util_low_permille = layer->util_high_permille = 0;
		layer->weight = base->weight / PLANNER_YIELD_WEIGHT_DIVISOR;
		if (layer->weight < PLANNER_MIN_WEIGHT)
			layer->weight = PLANNER_MIN_WEIGHT;
		break;
	}
}

/* One layer being gathered: its blocks and the profiles they come from. */
struct planner_profile_stage {
	struct plan_layer layer;
	const char *profiles[PLANNER_MAX_OR_BLOCKS];	/* distinct names, borrowed */
	size_t profile_count;
	size_t pods;
};

/* "pytorch, mysql": the profiles a layer serves, for its comment. */
static void
planner_profile_names(const struct planner_profile_stage *stage, char *out,
    size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < stage->profile_count && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i ? ", " : "", stage->profiles[i]);
}

static void
planner_stage_profile(struct planner_context *context,
    struct planner_profile_stage *stage, const struct planner_entry *entry,
    const struct profile_group *group, bool *counted)
{
	const char *name = entry->profile->name;
	bool listed = false;

	planner_add_profile_block(context, &stage->layer, entry->cgroup, group);
	for (size_t i = 0; i < stage->profile_count; i++)
		if (strcmp(stage->profiles[i], name) == 0)
			listed = true;
	if (!listed && stage->profile_count < PLANNER_MAX_OR_BLOCKS)
		stage->profiles[stage->profile_count++] = name;
	if (!*counted) {
		stage->pods++;
		*counted = true;
	}
}

static void
planner_profile_layers(struct planner_context *context)
{
	struct planner_profile_stage stages[TIER_COUNT][PROFILE_TREATMENT_COUNT];
	struct plan_layer ready[PLANNER_MAX_LAYERS];
	struct plan *plan = context->plan;
	size_t ready_count = 0, room;
	char label[512], name[PLANNER_MAX_NAME + 1], comment[256], names[160];

	if (context->error != 0)
		return;
	memset(stages, 0, sizeof stages);
	for (size_t i = 0; i < context->entry_count; i++) {
		const struct planner_entry *entry = &context->entries[i];
		const struct profile *profile = entry->profile;
		const struct plan_layer *base;
		bool counted[PROFILE_TREATMENT_COUNT] = { false };
		size_t planned = 0;

		if (profile == NULL || entry->agent || entry->cgroup == NULL)
			continue;
		planner_pod_label(entry->pod, label, sizeof label);
		if ((base = planner_tier_base(plan, entry->tier)) == NULL) {
			planner_note(context, PLAN_NOTE_WARNING, entry->pod->uid,
			    "pod %s: profile %s not applied: its tier %s has no "
			    "layer", label, profile->name, tier_name(entry->tier));
			continue;
		}
		for (size_t g = 0; g < profile->group_count; g++) {
			const struct profile_group *group = &profile->groups[g];
			enum profile_treatment treatment = group->treatment;
			struct planner_profile_stage *stage;

			if (treatment == PROFILE_TREATMENT_EXCLUSIVE &&
			    !(entry->tier == TIER_CRITICAL && base->exclusive)) {
				planner_note(context, PLAN_NOTE_INFO,
				    entry->pod->uid, "pod %s: profile %s group "
				    "%s asks for exclusive cores, which tier %s "
				    "does not have: planned as latency", label,
				    profile->name, group->name,
				    tier_name(entry->tier));
				treatment = PROFILE_TREATMENT_LATENCY;
			}
			stage = &stages[entry->tier][treatment];
			if (stage->layer.match_count >= PLANNER_MAX_OR_BLOCKS) {
				planner_note(context, PLAN_NOTE_WARNING,
				    entry->pod->uid, "pod %s: profile %s group %s "
				    "not applied: layer %s-%s is out of match "
				    "blocks (%d); its threads stay in the tier's "
				    "layer", label, profile->name, group->name,
				    tier_name(entry->tier),
				    profile_treatment_name(treatment),
				    PLANNER_MAX_OR_BLOCKS);
				continue;
			}
			planner_stage_profile(context, stage, entry, group,
			    &counted[treatment]);
			planned++;
		}
		planner_note(context, PLAN_NOTE_INFO, entry->pod->uid,
		    "pod %s (tier %s) runs profile %s: %zu of %zu thread "
		    "group%s in profile layers", label, tier_name(entry->tier),
		    profile->name, planned, profile->group_count,
		    profile->group_count == 1 ? "" : "s");
	}

	/* What fits beside the tiers, the system layer and the catch-all. */
	room = PLANNER_MAX_LAYERS - plan->layer_count;
	for (enum tier t = 0; t < TIER_COUNT; t++) {
		for (unsigned k = 0; k < PROFILE_TREATMENT_COUNT; k++) {
			struct planner_profile_stage *stage = &stages[t][k];
			struct plan_layer *layer = &stage->layer;

			if (layer->match_count == 0)
				continue;
			snprintf(name, sizeof name, "%s-%s", tier_name(t),
			    profile_treatment_name(k));
			planner_profile_names(stage, names, sizeof names);
			if (context->error != 0 || ready_count >= room) {
				if (context->error == 0)
					planner_note(context, PLAN_NOTE_WARNING,
					    NULL, "profile layer %s (%zu thread "
					    "group%s of %zu pod%s, profiles %s) "
					    "not planned: scx_layered allows %d "
					    "layers and the plan has %zu; those "
					    "threads stay in their tier's layer",
					    name, layer->match_count,
					    layer->match_count == 1 ? "" : "s",
					    stage->pods,
					    stage->pods == 1 ? "" : "s",
					    names, PLANNER_MAX_LAYERS,
					    plan->layer_count + ready_count);
				continue;	/* freed with the staged layers below */
			}
			snprintf(comment, sizeof comment, "temper: %s threads of "
			    "%s pods (profiles %s)", profile_treatment_name(k),
			    tier_name(t), names);
			if ((layer->name = strdup(name)) == NULL ||
			    (layer->comment = strdup(comment)) == NULL) {
				context->error = -ENOMEM;
				continue;
			}
			layer->role = PLAN_ROLE_PROFILE;
			layer->tier = t;
			layer->treatment = (int)k;
			planner_size_profile_layer(plan, layer,
			    planner_tier_base(plan, t));
			ready[ready_count++] = *layer;
			memset(layer, 0, sizeof *layer);
		}
	}
	/* Staged layers not placed: their matches (and names) freed here. */
	for (enum tier t = 0; t < TIER_COUNT; t++) {
		for (unsigned k = 0; k < PROFILE_TREATMENT_COUNT; k++) {
			struct plan_layer *layer = &stages[t][k].layer;

			for (size_t m = 0; m < layer->match_count; m++) {
				for (size_t c = 0; c < layer->matches[m].also_count; c++)
					free(layer->matches[m].also[c].text);
				free(layer->matches[m].also);
				free(layer->matches[m].text);
			}
			free(layer->matches);
			free(layer->name);
			free(layer->comment);
		}
	}
	if (context->error != 0) {
		for (size_t i = 0; i < ready_count; i++) {
			plan->layers[plan->layer_count] = ready[i];
			plan->layer_count++;	/* planner_free frees them */
		}
		return;
	}
	memmove(plan->layers + ready_count, plan->layers,
	    plan->layer_count * sizeof *plan->layers);
	memcpy(plan->layers, ready, ready_count * sizeof *plan->layers);
	plan->layer_count += ready_count;
}

/* The CPU budget; see the comment at the top. */
static void
planner_budget(struct plan *plan, const struct engine_config *config,
    const struct topology *topology, int64_t allocatable_millis)
{
	unsigned cpus = (unsigned)topology->cpu_count;
	unsigned threads = topology->threads_per_core ? topology->threads_per_core : 1;
	unsigned reserve, by_percent, used;

	plan->cpu_count = cpus;
	plan->threads_per_core = threads;
	plan->system_cpus = planner_min(config->system_layer_cpus, cpus);
	by_percent = (cpus * config->open_reserve_percent + 99) / 100;
	reserve = config->open_reserve_cpus > by_percent ?
	    config->open_reserve_cpus : by_percent;
	reserve = (reserve + threads - 1) / threads * threads;
	plan->reserve_cpus = planner_min(reserve, cpus);
	used = plan->system_cpus + plan->reserve_cpus;
	plan->fenceable_cpus = used >= cpus ? 0 :
	    (cpus - used) - (cpus - used) % threads;
	plan->allocatable_millis = allocatable_millis > 0 ? allocatable_millis :
	    (int64_t)cpus * 1000;
}

struct plan *
planner_plan(const struct planner_pod *pods, size_t pod_count,
    const struct topology *topology, const struct planner_options *options,
    char **cause)
{
	struct planner_context context = { 0 };
	struct engine_config defaults;
	const char *reason = NULL;
	struct plan *plan = NULL;
	char label[512];
	int error = 0;

	if (cause != NULL)
		*cause = NULL;
	engine_config_defaults(&defaults);
	context.config = options != NULL && options->config != NULL ?
	    options->config : &defaults;
	context.topology = topology;
	if (topology == NULL || topology->cpu_count == 0) {
		cause_set(cause, "no CPU topology to plan on");
		error = -EINVAL;
		goto out;
	}
	if ((plan = calloc(1, sizeof *plan)) == NULL ||
	    (plan->layers = calloc(PLANNER_MAX_LAYERS, sizeof *plan->layers)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	context.plan = plan;
	plan->membership = context.config->membership;
	planner_budget(plan, context.config, topology,
	    options != NULL ? options->allocatable_millis : 0);
	planner_note(&context, PLAN_NOTE_INFO, NULL, "node: %u CPUs in whole "
	    "cores of %u thread%s, %" PRId64 "m allocatable; %u CPU%s for the "
	    "system layer, %u kept in reserve, %u fenceable for critical; "
	    "membership by %s", plan->cpu_count, plan->threads_per_core,
	    plan->threads_per_core == 1 ? "" : "s", plan->allocatable_millis,
	    plan->system_cpus, plan->system_cpus == 1 ? "" : "s",
	    plan->reserve_cpus, plan->fenceable_cpus,
	    plan->membership == ENGINE_MEMBERSHIP_HINT ? "task hint" : "cgroup");

	if (options != NULL && options->agent_cgroup != NULL) {
		context.agent_cgroup = planner_normalise_cgroup(
		    options->agent_cgroup, &reason);
		if (context.agent_cgroup == NULL && reason == NULL) {
			error = -ENOMEM;
			goto out;
		}
		if (context.agent_cgroup == NULL)
			planner_note(&context, PLAN_NOTE_WARNING, NULL,
			    "the agent's cgroup \"%.200s\" is not matched by the "
			    "system layer because %s", options->agent_cgroup,
			    reason);
	}
	if ((error = planner_collect(&context, pods, pod_count, cause)) != 0)
		goto out;

	for (size_t i = 0; i < context.entry_count; i++) {
		struct planner_entry *entry = &context.entries[i];
		struct planner_tier *group = &context.tiers[entry->tier];

		/*
		 * The agent's own pod (typically system-node-critical, so
		 * Critical by value) must not pull the agent and the
		 * scheduler it starts behind a tier's fence: it belongs to
		 * the system layer, which matches its whole cgroup.
		 */
		if (entry->cgroup != NULL && context.agent_cgroup != NULL &&
		    planner_has_prefix(context.agent_cgroup, entry->cgroup)) {
			entry->agent = true;
			continue;
		}
		group->pod_count++;
		group->request_millis += entry->request_millis;
		if (entry->cgroup == NULL) {
			planner_note(&context, PLAN_NOTE_WARNING, entry->pod->uid,
			    "pod %s (tier %s) has no usable cgroup: scx_layered "
			    "cannot %s it; until its cgroup is found it runs "
			    "where another layer's prefix covers it, the "
			    "catch-all at worst",
			    planner_pod_label(entry->pod, label, sizeof label),
			    tier_name(entry->tier),
			    plan->membership == ENGINE_MEMBERSHIP_HINT ?
			    "receive a task hint for" : "match");
			continue;
		}
		if (group->members == NULL &&
		    (group->members = calloc(context.entry_count,
		    sizeof *group->members)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
		group->members[group->member_count++] = i;
	}

	for (enum tier t = 0; t < TIER_COUNT; t++) {
		struct planner_tier *group = &context.tiers[t];

		if (group->member_count == 0) {
			if (group->pod_count > 0)
				planner_note(&context, PLAN_NOTE_WARNING, NULL,
				    "tier %s has %zu pod%s but none with a usable "
				    "cgroup: no layer planned for it",
				    tier_name(t), group->pod_count,
				    group->pod_count == 1 ? "" : "s");
			continue;
		}
		if (plan->membership == ENGINE_MEMBERSHIP_HINT)
			group->layers_wanted = 1;
		else if ((error = planner_tier_blocks(&context, t)) != 0)
			goto out;
	}
	planner_grant_layers(&context);
	for (enum tier t = 0; t < TIER_COUNT; t++) {
		if (plan->membership == ENGINE_MEMBERSHIP_CGROUP)
			planner_assign_blocks(&context, t);
		planner_tier_layers(&context, t);
	}
	planner_system_layers(&context);
	planner_assign_members(&context);
	planner_size(&context);
	planner_profile_layers(&context);
	error = context.error;
out:
	for (unsigned t = 0; t < TIER_COUNT; t++) {
		for (size_t b = 0; b < context.tiers[t].block_count; b++)
			free(context.tiers[t].blocks[b].owned_prefix);
		free(context.tiers[t].blocks);
		free(context.tiers[t].members);
	}
	for (size_t i = 0; i < context.entry_count; i++)
		free(context.entries[i].cgroup);
	free(context.entries);
	free(context.agent_cgroup);
	if (error != 0) {
		planner_free(plan);
		errno = -error;
		return NULL;
	}
	return plan;
}

void
planner_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->layer_count; i++) {
		struct plan_layer *layer = &plan->layers[i];

		free(layer->name);
		free(layer->comment);
		for (size_t m = 0; m < layer->match_count; m++) {
			struct plan_match *match = &layer->matches[m];

			for (size_t c = 0; c < match->also_count; c++)
				free(match->also[c].text);
			free(match->also);
			free(match->text);
		}
		free(layer->matches);
		for (size_t m = 0; m < layer->member_count; m++)
			free(layer->members[m]);
		free(layer->members);
	}
	free(plan->layers);
	for (size_t i = 0; i < plan->note_count; i++) {
		free(plan->notes[i].pod_uid);
		free(plan->notes[i].text);
	}
	free(plan->notes);
	free(plan);
}

static bool
planner_text_equal(const char *a, const char *b)
{
	return planner_compare_text(a, b) == 0;
}

static bool
planner_match_equal(const struct plan_match *a, const struct plan_match *b)
{
	if (a->kind != b->kind || a->hint != b->hint ||
	    !planner_text_equal(a->text, b->text) ||
	    a->also_count != b->also_count)
		return false;
	for (size_t i = 0; i < a->also_count; i++)
		if (!planner_match_equal(&a->also[i], &b->also[i]))
			return false;
	return true;
}

static bool
planner_layer_equal(const struct plan_layer *a, const struct plan_layer *b)
{
	if (!planner_text_equal(a->name, b->name) ||
	    !planner_text_equal(a->comment, b->comment) ||
	    a->role != b->role || a->tier != b->tier || a->kind != b->kind ||
	    a->treatment != b->treatment ||
	    a->demoted != b->demoted || a->cpus_min != b->cpus_min ||
	    a->cpus_max != b->cpus_max ||
	    a->util_low_permille != b->util_low_permille ||
	    a->util_high_permille != b->util_high_permille ||
	    a->protected != b->protected || a->slice_us != b->slice_us ||
	    a->preempt != b->preempt || a->exclusive != b->exclusive ||
	    a->weight != b->weight || a->match_count != b->match_count ||
	    a->member_count != b->member_count ||
	    a->request_millis != b->request_millis ||
	    a->limit_millis != b->limit_millis)
		return false;
	for (size_t i = 0; i < a->match_count; i++)
		if (!planner_match_equal(&a->matches[i], &b->matches[i]))
			return false;
	for (size_t i = 0; i < a->member_count; i++)
		if (strcmp(a->members[i], b->members[i]) != 0)
			return false;
	return true;
}

bool
planner_equal(const struct plan *a, const struct plan *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->layer_count != b->layer_count || a->note_count != b->note_count ||
	    a->membership != b->membership || a->cpu_count != b->cpu_count ||
	    a->threads_per_core != b->threads_per_core ||
	    a->system_cpus != b->system_cpus ||
	    a->reserve_cpus != b->reserve_cpus ||
	    a->fenceable_cpus != b->fenceable_cpus ||
	    a->allocatable_millis != b->allocatable_millis)
		return false;
	for (size_t i = 0; i < a->layer_count; i++)
		if (!planner_layer_equal(&a->layers[i], &b->layers[i]))
			return false;
	for (size_t i = 0; i < a->note_count; i++)
		if (a->notes[i].level != b->notes[i].level ||
		    !planner_text_equal(a->notes[i].pod_uid, b->notes[i].pod_uid) ||
		    !planner_text_equal(a->notes[i].text, b->notes[i].text))
			return false;
	return true;
}

/* Whether new moved away from old by more than band_percent of old. */
static bool
planner_beyond_band(uint64_t old, uint64_t new, unsigned band_percent)
{
	uint64_t delta = old > new ? old - new : new - old;

	if (old == 0)
		return new != 0;
	return delta * 100 > (uint64_t)band_percent * old;
}

bool
planner_sizing_changed(const struct plan *old, const struct plan *new,
    unsigned band_percent)
{
	if (old == NULL || new == NULL)
		return old != new;
	if (old->layer_count != new->layer_count ||
	    old->membership != new->membership)
		return true;
	for (size_t i = 0; i < old->layer_count; i++) {
		const struct plan_layer *a = &old->layers[i], *b = &new->layers[i];

		if (!planner_text_equal(a->name, b->name) || a->kind != b->kind ||
		    a->role != b->role || a->demoted != b->demoted ||
		    a->protected != b->protected || a->preempt != b->preempt ||
		    a->exclusive != b->exclusive || a->slice_us != b->slice_us)
			return true;
		if (planner_beyond_band(a->weight, b->weight, band_percent))
			return true;
		if (a->kind == PLAN_KIND_OPEN)
			continue;
		if (planner_beyond_band(a->cpus_min, b->cpus_min, band_percent) ||
		    planner_beyond_band(a->cpus_max, b->cpus_max, band_percent) ||
		    planner_beyond_band(a->util_low_permille,
		    b->util_low_permille, band_percent) ||
		    planner_beyond_band(a->util_high_permille,
		    b->util_high_permille, band_percent))
			return true;
	}
	return false;
}

bool
planner_needs_restart(const struct plan *old, const struct plan *new,
    unsigned band_percent)
{
	if (planner_sizing_changed(old, new, band_percent))
		return true;
	if (old == NULL || new == NULL)
		return false;
	/* Same layer count and names here: compare each layer's matches. */
	for (size_t i = 0; i < old->layer_count; i++) {
		const struct plan_layer *a = &old->layers[i], *b = &new->layers[i];

		if (a->match_count != b->match_count)
			return true;
		for (size_t m = 0; m < a->match_count; m++)
			if (!planner_match_equal(&a->matches[m], &b->matches[m]))
				return true;
	}
	return false;
}

const char *
planner_layer_of(const struct plan *plan, const char *pod_uid)
{
	for (size_t i = 0; i < plan->layer_count; i++)
		for (size_t m = 0; m < plan->layers[i].member_count; m++)
			if (strcmp(plan->layers[i].members[m], pod_uid) == 0)
				return plan->layers[i].name;
	return NULL;
}

char *
planner_render_notes(const struct plan *plan)
{
	struct buf out = BUF_INIT;
	int error = 0;

	for (size_t i = 0; i < plan->note_count && error == 0; i++)
		error = buf_printf(&out, "%s: %s\n",
		    plan->notes[i].level == PLAN_NOTE_WARNING ? "warning" : "info",
		    plan->notes[i].text);
	if (error != 0) {
		buf_free(&out);
		errno = -error;
		return NULL;
	}
	return buf_detach(&out);
}
