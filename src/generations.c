/* generations.c - numbered, timestamped scx_layered configurations. */
#include "config.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "cause.h"
#include "generations.h"

/* A generation file is a few KiB; anything past this is not ours. */
#define GENERATIONS_MAX_FILE (4 * 1024 * 1024)
/* The line diff is quadratic; bigger inputs are shown as a whole replace. */
#define GENERATIONS_DIFF_MAX_CELLS (8u * 1024 * 1024)
#define GENERATIONS_CONTEXT 3

static void
generation_clear(struct generation *generation)
{
	free(generation->reason);
	free(generation->notes);
	free(generation->config);
	memset(generation, 0, sizeof *generation);
}

static char *
generations_path(const struct generations *generations, uint64_t number)
{
	char *path;

	if (asprintf(&path, "%s/%06" PRIu64 ".json", generations->dir, number) < 0)
		return NULL;
	return path;
}

static int
generations_read_file(const char *path, struct generation *out)
{
	struct stat st;
	cJSON *json = NULL, *number, *created, *reason, *notes, *config;
	char *text = NULL;
	ssize_t n;
	int fd, error = -EINVAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || st.st_size > GENERATIONS_MAX_FILE ||
	    (text = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	if ((n = read(fd, text, (size_t)st.st_size)) != st.st_size)
		goto out;
	text[n] = '\0';
	json = cJSON_Parse(text);
	number = cJSON_GetObjectItemCaseSensitive(json, "generation");
	created = cJSON_GetObjectItemCaseSensitive(json, "created_ms");
	reason = cJSON_GetObjectItemCaseSensitive(json, "reason");
	notes = cJSON_GetObjectItemCaseSensitive(json, "notes");
	config = cJSON_GetObjectItemCaseSensitive(json, "config");
	if (!cJSON_IsNumber(number) || number->valuedouble < 1 ||
	    !cJSON_IsNumber(created) || !cJSON_IsString(reason) ||
	    !cJSON_IsString(notes) || !cJSON_IsString(config))
		goto out;
	out->number = (uint64_t)number->valuedouble;
	out->created_ms = (int64_t)created->valuedouble;
	out->reason = strdup(reason->valuestring);
	out->notes = strdup(notes->valuestring);
	out->config = strdup(config->valuestring);
	if (out->reason == NULL || out->notes == NULL || out->config == NULL) {
		generation_clear(out);
		error = -ENOMEM;
		goto out;
	}
	error = 0;
out:
	cJSON_Delete(json);
	free(text);
	close(fd);
	return error;
}

static int
generations_compare(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static void
generations_drop_oldest(struct generations *generations)
{
	char *path;

	if (generations->count == 0)
		return;
	if (generations->dir != NULL &&
	    (path = generations_path(generations, generations->items[0].number)) != NULL) {
		unlink(path);
		free(path);
	}
	generation_clear(&generations->items[0]);
	memmove(&generations->items[0], &generations->items[1],
	    (generations->count - 1) * sizeof generations->items[0]);
	generations->count--;
}

int
generations_open(struct generations *generations, const char *state_dir,
    unsigned *skipped, char **cause)
{
	struct generation loaded;
	struct dirent *entry;
	DIR *dir;
	int error;

	memset(generations, 0, sizeof *generations);
	*skipped = 0;
	if ((generations->items = calloc(GENERATIONS_KEEP + 1, sizeof *generations->items)) == NULL)
		return -ENOMEM;
	if (state_dir == NULL)
		return 0;
	if (asprintf(&generations->dir, "%s/generations", state_dir) < 0) {
		generations->dir = NULL;
		return -ENOMEM;
	}
	if ((mkdir(state_dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(generations->dir, 0700) != 0 && errno != EEXIST)) {
		error = -errno;
		cause_set(cause, "cannot create %s: %s", generations->dir,
		    strerror(errno));
		return error;
	}
	if ((dir = opendir(generations->dir)) == NULL) {
		error = -errno;
		cause_set(cause, "cannot read %s: %s", generations->dir,
		    strerror(errno));
		return error;
	}
	while ((entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);
		char *path;

		if (len < 6 || strcmp(entry->d_name + len - 5, ".json") != 0 ||
		    entry->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", generations->dir, entry->d_name) < 0)
			continue;
		memset(&loaded, 0, sizeof loaded);
		if (generations_read_file(path, &loaded) != 0) {
			(*skipped)++;
		} else {
			if (generations->count == GENERATIONS_KEEP + 1) {
				qsort(generations->items, generations->count,
				    sizeof generations->items[0], generations_compare);
				generations_drop_oldest(generations);
			}
			generations->items[generations->count++] = loaded;
		}
		free(path);
	}
	closedir(dir);
	qsort(generations->items, generations->count, sizeof generations->items[0],
	    generations_compare);
	while (generations->count > GENERATIONS_KEEP)
		generations_drop_oldest(generations);
	if (generations->count > 0)
		generations->last_number = generations->items[generations->count - 1].number;
	return 0;
}

static int
generations_write(const struct generations *generations,
    const struct generation *generation, char **cause)
{
	cJSON *json = cJSON_CreateObject();
	char *text = NULL, *path = NULL, *tmp = NULL;
	size_t len, off = 0;
	int fd = -1, error = -ENOMEM;

	if (json == NULL ||
	    cJSON_AddNumberToObject(json, "generation", (double)generation->number) == NULL ||
	    cJSON_AddNumberToObject(json, "created_ms", (double)generation->created_ms) == NULL ||
	    cJSON_AddStringToObject(json, "reason", generation->reason) == NULL ||
	    cJSON_AddStringToObject(json, "notes", generation->notes) == NULL ||
	    cJSON_AddStringToObject(json, "config", generation->config) == NULL ||
	    (text = cJSON_PrintUnformatted(json)) == NULL ||
	    (path = generations_path(generations, generation->number)) == NULL ||
	    asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		goto out;
	}
	/* Write, sync, rename: a crash leaves the old file or the new, never half. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		goto fail;
	len = strlen(text);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	error = 0;
	goto out;
fail:
	error = -errno;
	cause_set(cause, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	free(text);
	cJSON_Delete(json);
	return error;
}

int
generations_add(struct generations *generations, const char *config,
    const char *notes, const char *reason, const struct generation **added,
    char **cause)
{
	struct generation generation = { 0 };
	struct timeval now;
	int error;

	gettimeofday(&now, NULL);
	generation.number = generations->last_number + 1;
	generation.created_ms = (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
	generation.config = strdup(config);
	generation.notes = strdup(notes ? notes : "");
	generation.reason = strdup(reason ? reason : "");
	if (generation.config == NULL || generation.notes == NULL || generation.reason == NULL) {
		generation_clear(&generation);
		return -ENOMEM;
	}
	if (generations->dir != NULL &&
	    (error = generations_write(generations, &generation, cause)) != 0) {
		generation_clear(&generation);
		return error;
	}
	generations->items[generations->count++] = generation;
	generations->last_number = generation.number;
	while (generations->count > GENERATIONS_KEEP)
		generations_drop_oldest(generations);
	if (added != NULL)
		*added = &generations->items[generations->count - 1];
	return 0;
}

const struct generation *
generations_latest(const struct generations *generations)
{
	return generations->count ? &generations->items[generations->count - 1] : NULL;
}

const struct generation *
generations_find(const struct generations *generations, uint64_t number)
{
	for (size_t i = 0; i < generations->count; i++) {
		if (generations->items[i].number == number)
			return &generations->items[i];
	}
	return NULL;
}

void
generations_close(struct generations *generations)
{
	for (size_t i = 0; i < generations->count; i++)
		generation_clear(&generations->items[i]);
	free(generations->items);
	free(generations->dir);
	memset(generations, 0, sizeof *generations);
}

/* --- the diff ------------------------------------------------------------- */

struct generations_lines {
	const char **start;
	size_t *len;
	size_t count;
};

static int
generations_split(const char *text, struct generations_lines *lines)
{
	size_t cap = 16;
	const char *p = text;

	lines->count = 0;
	lines->start = malloc(cap * sizeof *lines->start);
	lines->len = malloc(cap * sizeof *lines->len);
	if (lines->start == NULL || lines->len == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (lines->count == cap) {
			const char **start;
			size_t *lens;

			cap *= 2;
			start = realloc(lines->start, cap * sizeof *start);
			if (start == NULL)
				return -ENOMEM;
			lines->start = start;
			lens = realloc(lines->len, cap * sizeof *lens);
			if (lens == NULL)
				return -ENOMEM;
			lines->len = lens;
		}
		lines->start[lines->count] = p;
		lines->len[lines->count++] = len;
		p += len + (end ? 1 : 0);
	}
	return 0;
}

static bool
generations_same(const struct generations_lines *a, size_t i,
    const struct generations_lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->start[i], b->start[j], a->len[i]) == 0;
}

enum generations_op { DIFF_SAME = ' ', DIFF_DEL = '-', DIFF_ADD = '+' };

struct generations_edit {
	char op;
	size_t a, b;	/* line indexes into from and to */
};

/* The edit script from an LCS table, or a whole replace when too big. */
static struct generations_edit *
generations_script(const struct generations_lines *a,
    const struct generations_lines *b, size_t *count)
{
	size_t n = a->count, m = b->count, i = 0, j = 0, k = 0;
	struct generations_edit *edits;
	uint32_t *lcs = NULL;

	if ((edits = malloc((n + m + 1) * sizeof *edits)) == NULL)
		return NULL;
	if ((n + 1) * (m + 1) <= GENERATIONS_DIFF_MAX_CELLS)
		lcs = calloc((n + 1) * (m + 1), sizeof *lcs);
	if (lcs != NULL) {
		/* lcs[i][j]: longest common subsequence of a[i..] and b[j..]. */
		for (size_t x = n; x-- > 0;)
			for (size_t y = m; y-- > 0;)
				lcs[x * (m + 1) + y] = generations_same(a, x, b, y) ?
				    lcs[(x + 1) * (m + 1) + y + 1] + 1 :
				    (lcs[(x + 1) * (m + 1) + y] > lcs[x * (m + 1) + y + 1] ?
				    lcs[(x + 1) * (m + 1) + y] : lcs[x * (m + 1) + y + 1]);
		while (i < n && j < m) {
			if (generations_same(a, i, b, j)) {
				edits[k++] = (struct generations_edit){ DIFF_SAME, i++, j++ };
			} else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
				edits[k++] = (struct generations_edit){ DIFF_DEL, i++, j };
			} else {
				edits[k++] = (struct generations_edit){ DIFF_ADD, i, j++ };
			}
		}
		free(lcs);
	}
	while (i < n)
		edits[k++] = (struct generations_edit){ DIFF_DEL, i++, j };
	while (j < m)
		edits[k++] = (struct generations_edit){ DIFF_ADD, i, j++ };
	*count = k;
	return edits;
}

char *
generations_diff(const char *from, const char *to, const char *from_label,
    const char *to_label)
{
	struct generations_lines a = { 0 }, b = { 0 };
	struct generations_edit *edits = NULL;
	struct buf out = BUF_INIT;
	size_t count = 0, e = 0;
	char *result = NULL;

	if (generations_split(from, &a) != 0 || generations_split(to, &b) != 0)
		goto out;
	if ((edits = generations_script(&a, &b, &count)) == NULL)
		goto out;
	if (buf_reserve(&out, 0) != 0)
		goto out;
	while (e < count) {
		size_t first, last, a_start, b_start, a_len = 0, b_len = 0;

		/* Find the next change, then grow the hunk while changes are close. */
		while (e < count && edits[e].op == DIFF_SAME)
			e++;
		if (e == count)
			break;
		first = e > GENERATIONS_CONTEXT ? e - GENERATIONS_CONTEXT : 0;
		last = e;
		for (size_t x = e; x < count; x++) {
			if (edits[x].op != DIFF_SAME)
				last = x;
			else if (x - last > 2 * GENERATIONS_CONTEXT)
				break;
		}
		last = last + GENERATIONS_CONTEXT < count - 1 ? last + GENERATIONS_CONTEXT : count - 1;
		if (out.len == 0)
			buf_printf(&out, "--- %s\n+++ %s\n", from_label, to_label);
		a_start = edits[first].a;
		b_start = edits[first].b;
		for (size_t x = first; x <= last; x++) {
			a_len += edits[x].op != DIFF_ADD;
			b_len += edits[x].op != DIFF_DEL;
		}
		buf_printf(&out, "@@ -%zu,%zu +%zu,%zu @@\n", a_start + 1, a_len, b_start + 1, b_len);
		for (size_t x = first; x <= last; x++) {
			const struct generations_lines *side = edits[x].op == DIFF_ADD ? &b : &a;
			size_t line = edits[x].op == DIFF_ADD ? edits[x].b : edits[x].a;

			buf_printf(&out, "%c%.*s\n", edits[x].op, (int)side->len[line],
			    side->start[line]);
		}
		e = last + 1;
	}
	result = buf_detach(&out);
out:
	buf_free(&out);
	free(edits);
	free(a.start);
	free(a.len);
	free(b.start);
	free(b.len);
	return result;
}
