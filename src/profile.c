/* profile.c - reading and validating workload profiles (temper-profile(5)). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "profile.h"
#include "toml.h"

static const char *const profile_treatment_names[PROFILE_TREATMENT_COUNT] = {
	[PROFILE_TREATMENT_EXCLUSIVE] = "exclusive",
	[PROFILE_TREATMENT_LATENCY] = "latency",
	[PROFILE_TREATMENT_YIELD] = "yield",
};

const char *
profile_treatment_name(enum profile_treatment treatment)
{
	if (treatment >= PROFILE_TREATMENT_COUNT)
		return "unknown";
	return profile_treatment_names[treatment];
}

int
profile_treatment_from_name(const char *name, enum profile_treatment *treatment)
{
	for (unsigned t = 0; t < PROFILE_TREATMENT_COUNT; t++) {
		if (strcmp(name, profile_treatment_names[t]) == 0) {
			*treatment = t;
			return 0;
		}
	}
	return -EINVAL;
}

/* Where a reading is: the source for messages and the first error. */
struct profile_reader {
	const char *source;
	char **cause;
	int error;
};

__attribute__((format(printf, 3, 4)))
static int
profile_fail(struct profile_reader *reader, const struct toml_value *at,
    const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	int n;

	if (reader->error != 0)
		return reader->error;
	reader->error = -EINVAL;
	if (reader->cause == NULL)
		return reader->error;
	va_start(ap, fmt);
	n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		reader->error = -ENOMEM;
		return reader->error;
	}
	if (at != NULL)
		n = asprintf(reader->cause, "%s: line %u, column %u: %s",
		    reader->source, at->line, at->column, message);
	else
		n = asprintf(reader->cause, "%s: %s", reader->source, message);
	if (n < 0)
		*reader->cause = NULL;
	free(message);
	return reader->error;
}

static const char *
profile_type_name(const struct toml_value *value)
{
	switch (value->type) {
	case TOML_TABLE:
		return "a table";
	case TOML_ARRAY:
		return "an array";
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOLEAN:
		return "a boolean";
	default:
		return "a date-time";
	}
}

static bool
profile_key_is(const struct toml_pair *pair, const char *name)
{
	return pair->key_len == strlen(name) &&
	    memcmp(pair->key, name, pair->key_len) == 0;
}

/* A key printed safely: NUL bytes and length bounded. */
static int
profile_key_length(const struct toml_pair *pair)
{
	size_t n = strnlen(pair->key, pair->key_len);

	return n > 64 ? 64 : (int)n;
}

static int
profile_unknown(struct profile_reader *reader, const struct toml_pair *pair,
    const char *where, const char *known)
{
	return profile_fail(reader, pair->value, "%s: unknown key \"%.*s\" "
	    "(known: %s)", where, profile_key_length(pair), pair->key, known);
}

/* A name: lower-case letters, digits and '-', starting with a letter. */
static bool
profile_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > PROFILE_MAX_NAME || name[0] < 'a' || name[0] > 'z')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return false;
	}
	return true;
}

/* A string value of at most max bytes without NUL or control bytes, copied. */
static int
profile_string(struct profile_reader *reader, const struct toml_pair *pair,
    const char *where, size_t max, char **out)
{
	const struct toml_value *value = pair->value;

	if (*out != NULL)
		return profile_fail(reader, value, "%s: %.*s given twice", where,
		    profile_key_length(pair), pair->key);
	if (value->type != TOML_STRING)
		return profile_fail(reader, value, "%s: %.*s must be a string, "
		    "not %s", where, profile_key_length(pair), pair->key,
		    profile_type_name(value));
	if (value->u.string.len == 0)
		return profile_fail(reader, value, "%s: %.*s must not be empty",
		    where, profile_key_length(pair), pair->key);
	if (value->u.string.len > max)
		return profile_fail(reader, value, "%s: %.*s is %zu bytes, more "
		    "than %zu", where, profile_key_length(pair), pair->key,
		    value->u.string.len, max);
	for (size_t i = 0; i < value->u.string.len; i++)
		if ((unsigned char)value->u.string.text[i] < 0x20 ||
		    value->u.string.text[i] == 0x7f)
			return profile_fail(reader, value, "%s: %.*s holds a "
			    "control character", where, profile_key_length(pair),
			    pair->key);
	if ((*out = strdup(value->u.string.text)) == NULL) {
		reader->error = -ENOMEM;
		return reader->error;
	}
	return 0;
}

static size_t profile_repository_length(const char *image);

static int
profile_read_detect(struct profile_reader *reader,
    const struct toml_value *table, struct profile *profile)
{
	const struct toml_value *images = NULL;

	if (table->type != TOML_TABLE)
		return profile_fail(reader, table, "detect must be a table, not "
		    "%s", profile_type_name(table));
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (!profile_key_is(pair, "images"))
			return profile_unknown(reader, pair, "[detect]", "images");
		images = pair->value;
	}
	if (images == NULL)
		return 0;
	if (images->type != TOML_ARRAY)
		return profile_fail(reader, images, "[detect] images must be an "
		    "array of strings, not %s", profile_type_name(images));
	if (images->u.array.count > PROFILE_MAX_IMAGES)
		return profile_fail(reader, images, "[detect] images has %zu "
		    "entries, more than %d", images->u.array.count,
		    PROFILE_MAX_IMAGES);
	if ((profile->images = calloc(images->u.array.count + 1,
	    sizeof *profile->images)) == NULL)
		return reader->error = -ENOMEM;
	for (size_t i = 0; i < images->u.array.count; i++) {
		struct toml_pair item = {
			.key = "images entry",
			.key_len = strlen("images entry"),
			.value = images->u.array.items[i],
		};
		const char *text;
		int error;

		if ((error = profile_string(reader, &item, "[detect]",
		    PROFILE_MAX_TEXT, &profile->images[i])) != 0)
			return error;
		profile->image_count++;
		text = profile->images[i];
		if (strchr(text, ' ') != NULL ||
		    profile_repository_length(text) != strlen(text))
			return profile_fail(reader, item.value, "[detect] image "
			    "\"%.64s\" must be a repository without tag, digest "
			    "or spaces", text);
	}
	return 0;
}

/* One condition's prefix: at most max bytes, and no NUL (comm is a C string). */
static int
profile_prefix(struct profile_reader *reader, const struct toml_pair *pair,
    size_t max, char **out)
{
	const struct toml_value *value = pair->value;

	if (value->type == TOML_STRING && value->u.string.len > max)
		return profile_fail(reader, value, "[[group]] %.*s \"%.64s\" is "
		    "%zu bytes; the kernel keeps at most %zu of a thread's "
		    "name, so it could never match", profile_key_length(pair),
		    pair->key, value->u.string.text, value->u.string.len, max);
	return profile_string(reader, pair, "[[group]]", max, out);
}

static int
profile_read_group(struct profile_reader *reader,
    const struct toml_value *table, struct profile *profile)
{
	struct profile_group *group = &profile->groups[profile->group_count];
	const struct toml_value *treatment = NULL, *leader = NULL;
	int error = 0;

	memset(group, 0, sizeof *group);
	group->line = table->line;
	profile->group_count++;
	if (table->type != TOML_TABLE)
		return profile_fail(reader, table, "each group must be a table "
		    "([[group]]), not %s", profile_type_name(table));
	for (size_t i = 0; i < table->u.table.count && error == 0; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (profile_key_is(pair, "name"))
			error = profile_string(reader, pair, "[[group]]",
			    PROFILE_MAX_NAME, &group->name);
		else if (profile_key_is(pair, "description"))
			error = profile_string(reader, pair, "[[group]]",
			    PROFILE_MAX_TEXT, &group->description);
		else if (profile_key_is(pair, "comm_prefix"))
			error = profile_prefix(reader, pair, PROFILE_MAX_COMM,
			    &group->comm_prefix);
		else if (profile_key_is(pair, "parent_comm_prefix"))
			error = profile_prefix(reader, pair, PROFILE_MAX_COMM,
			    &group->parent_comm_prefix);
		else if (profile_key_is(pair, "cmd_join"))
			error = profile_prefix(reader, pair,
			    PROFILE_MAX_CMD_JOIN, &group->cmd_join);
		else if (profile_key_is(pair, "group_leader")) {
			if (pair->value->type != TOML_BOOLEAN)
				return profile_fail(reader, pair->value,
				    "[[group]] group_leader must be a boolean, "
				    "not %s", profile_type_name(pair->value));
			leader = pair->value;
			group->group_leader = pair->value->u.boolean ?
			    PROFILE_LEADER_YES : PROFILE_LEADER_NO;
		} else if (profile_key_is(pair, "treatment"))
			treatment = pair->value;
		else
			return profile_unknown(reader, pair, "[[group]]",
			    "name, description, comm_prefix, parent_comm_prefix, "
			    "cmd_join, group_leader, treatment");
	}
	if (error != 0)
		return error;
	if (group->name == NULL)
		return profile_fail(reader, table, "a group needs a name");
	if (!profile_name_valid(group->name, strlen(group->name)))
		return profile_fail(reader, table, "group name \"%.64s\" must be "
		    "lower-case letters, digits and '-', starting with a "
		    "letter, at most %d bytes", group->name, PROFILE_MAX_NAME);
	for (size_t i = 0; i + 1 < profile->group_count; i++)
		if (strcmp(profile->groups[i].name, group->name) == 0)
			return profile_fail(reader, table, "group \"%s\" is "
			    "defined twice (first at line %u)", group->name,
			    profile->groups[i].line);
	if (group->comm_prefix == NULL && group->parent_comm_prefix == NULL &&
	    group->cmd_join == NULL && leader == NULL)
		return profile_fail(reader, table, "group \"%s\" matches every "
		    "thread: give comm_prefix, parent_comm_prefix, cmd_join or "
		    "group_leader", group->name);
	if (treatment == NULL)
		return profile_fail(reader, table, "group \"%s\" needs a "
		    "treatment (exclusive, latency or yield)", group->name);
	if (treatment->type != TOML_STRING ||
	    strlen(treatment->u.string.text) != treatment->u.string.len ||
	    profile_treatment_from_name(treatment->u.string.text,
	    &group->treatment) != 0)
		return profile_fail(reader, treatment, "group \"%s\": treatment "
		    "must be \"exclusive\", \"latency\" or \"yield\"",
		    group->name);
	return 0;
}

static int
profile_read_groups(struct profile_reader *reader,
    const struct toml_value *array, struct profile *profile)
{
	int error;

	if (array->type != TOML_ARRAY)
		return profile_fail(reader, array, "group must be an array of "
		    "tables ([[group]]), not %s", profile_type_name(array));
	if (array->u.array.count > PROFILE_MAX_GROUPS)
		return profile_fail(reader, array, "%zu groups, more than %d",
		    array->u.array.count, PROFILE_MAX_GROUPS);
	if ((profile->groups = calloc(array->u.array.count + 1,
	    sizeof *profile->groups)) == NULL)
		return reader->error = -ENOMEM;
	for (size_t i = 0; i < array->u.array.count; i++)
		if ((error = profile_read_group(reader, array->u.array.items[i],
		    profile)) != 0)
			return error;
	return 0;
}

struct profile *
profile_parse(const char *text, size_t len, const char *source, char **cause)
{
	struct profile_reader reader = {
		.source = source != NULL ? source : "profile",
		.cause = cause,
	};
	const struct toml_value *groups = NULL;
	struct profile *profile = NULL;
	struct toml_value *root = NULL;
	char *reason = NULL;

	if (cause != NULL)
		*cause = NULL;
	if (len > PROFILE_MAX_FILE) {
		profile_fail(&reader, NULL, "%zu bytes, more than a profile's "
		    "%d", len, PROFILE_MAX_FILE);
		goto out;
	}
	if ((root = toml_parse(text, len, &reason)) == NULL) {
		if (errno == ENOMEM)
			reader.error = -ENOMEM;
		else
			profile_fail(&reader, NULL, "%s",
			    reason != NULL ? reason : "not TOML");
		goto out;
	}
	if ((profile = calloc(1, sizeof *profile)) == NULL ||
	    (profile->source = strdup(reader.source)) == NULL) {
		reader.error = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < root->u.table.count && reader.error == 0; i++) {
		const struct toml_pair *pair = &root->u.table.pairs[i];

		if (profile_key_is(pair, "name"))
			profile_string(&reader, pair, "profile",
			    PROFILE_MAX_NAME, &profile->name);
		else if (profile_key_is(pair, "description"))
			profile_string(&reader, pair, "profile",
			    PROFILE_MAX_TEXT, &profile->description);
		else if (profile_key_is(pair, "detect"))
			profile_read_detect(&reader, pair->value, profile);
		else if (profile_key_is(pair, "group"))
			groups = pair->value;
		else
			profile_unknown(&reader, pair, "profile",
			    "name, description, detect, group");
	}
	if (reader.error != 0)
		goto out;
	if (profile->name == NULL) {
		profile_fail(&reader, NULL, "the profile needs a name "
		    "(name = \"...\")");
		goto out;
	}
	if (!profile_name_valid(profile->name, strlen(profile->name))) {
		profile_fail(&reader, toml_get(root, "name"), "profile name "
		    "\"%.64s\" must be lower-case letters, digits and '-', "
		    "starting with a letter, at most %d bytes", profile->name,
		    PROFILE_MAX_NAME);
		goto out;
	}
	if (groups == NULL) {
		profile_fail(&reader, NULL, "profile \"%s\" has no [[group]]",
		    profile->name);
		goto out;
	}
	profile_read_groups(&reader, groups, profile);
out:
	free(reason);
	toml_free(root);
	if (reader.error != 0) {
		profile_free(profile);
		errno = -reader.error;
		return NULL;
	}
	return profile;
}

void
profile_free(struct profile *profile)
{
	if (profile == NULL)
		return;
	for (size_t i = 0; i < profile->group_count; i++) {
		struct profile_group *group = &profile->groups[i];

		free(group->name);
		free(group->description);
		free(group->comm_prefix);
		free(group->parent_comm_prefix);
		free(group->cmd_join);
	}
	free(profile->groups);
	for (size_t i = 0; i < profile->image_count; i++)
		free(profile->images[i]);
	free(profile->images);
	free(profile->name);
	free(profile->description);
	free(profile->source);
	free(profile);
}

/* The repository of an image reference: without tag and digest. */
static size_t
profile_repository_length(const char *image)
{
	size_t len = strcspn(image, "@");
	const char *slash, *colon;

	/* A colon after the last slash is a tag; before it, a registry port. */
	slash = memrchr(image, '/', len);
	colon = memrchr(slash != NULL ? slash : image, ':',
	    len - (size_t)((slash != NULL ? slash : image) - image));
	if (colon != NULL)
		len = (size_t)(colon - image);
	return len;
}

static bool
profile_repository_matches(const char *repository, size_t len,
    const char *rule)
{
	size_t n = strlen(rule);

	if (n > len || memcmp(repository, rule, n) != 0)
		return false;
	return n == len || repository[n] == '/';
}

bool
profile_matches_image(const struct profile *profile, const char *image)
{
	static const char *const defaults[] = {
		"docker.io/library/", "docker.io/", "index.docker.io/library/",
		"index.docker.io/", "",
	};
	size_t len;

	if (profile == NULL || image == NULL)
		return false;
	len = profile_repository_length(image);
	for (size_t i = 0; i < profile->image_count; i++) {
		const char *rule = profile->images[i];

		/* Either side may spell Docker Hub's implicit registry. */
		for (size_t d = 0; d < sizeof defaults / sizeof defaults[0]; d++) {
			size_t skip = strlen(defaults[d]);

			if (skip > len || strncmp(image, defaults[d], skip) != 0)
				continue;
			if (profile_repository_matches(image + skip, len - skip,
			    rule))
				return true;
			for (size_t r = 0; r < sizeof defaults / sizeof defaults[0]; r++) {
				size_t rskip = strlen(defaults[r]);

				if (rskip > 0 && strncmp(rule, defaults[r], rskip) == 0 &&
				    profile_repository_matches(image + skip,
				    len - skip, rule + rskip))
					return true;
			}
		}
	}
	return false;
}

/* A TOML basic string; values never hold control characters (checked). */
static int
profile_render_quoted(struct buf *out, const char *text)
{
	int error = buf_puts(out, "\"");

	for (const char *p = text; *p != '\0' && error == 0; p++) {
		if (*p == '"' || *p == '\\')
			error = buf_printf(out, "\\%c", *p);
		else
			error = buf_append(out, p, 1);
	}
	if (error == 0)
		error = buf_puts(out, "\"");
	return error;
}

static int
profile_render_string(struct buf *out, const char *key, const char *text)
{
	int error = buf_printf(out, "%s = ", key);

	if (error == 0)
		error = profile_render_quoted(out, text);
	if (error == 0)
		error = buf_puts(out, "\n");
	return error;
}

char *
profile_render(const struct profile *profile)
{
	struct buf out = BUF_INIT;
	int error;

	error = profile_render_string(&out, "name", profile->name);
	if (error == 0 && profile->description != NULL)
		error = profile_render_string(&out, "description",
		    profile->description);
	if (error == 0 && profile->image_count > 0) {
		error = buf_puts(&out, "\n[detect]\nimages = [");
		for (size_t i = 0; i < profile->image_count && error == 0; i++) {
			if (i > 0)
				error = buf_puts(&out, ", ");
			if (error == 0)
				error = profile_render_quoted(&out,
				    profile->images[i]);
		}
		if (error == 0)
			error = buf_puts(&out, "]\n");
	}
	for (size_t i = 0; i < profile->group_count && error == 0; i++) {
		const struct profile_group *group = &profile->groups[i];

		error = buf_puts(&out, "\n[[group]]\n");
		if (error == 0)
			error = profile_render_string(&out, "name", group->name);
		if (error == 0 && group->description != NULL)
			error = profile_render_string(&out, "description",
			    group->description);
		if (error == 0 && group->comm_prefix != NULL)
			error = profile_render_string(&out, "comm_prefix",
			    group->comm_prefix);
		if (error == 0 && group->parent_comm_prefix != NULL)
			error = profile_render_string(&out, "parent_comm_prefix",
			    group->parent_comm_prefix);
		if (error == 0 && group->cmd_join != NULL)
			error = profile_render_string(&out, "cmd_join",
			    group->cmd_join);
		if (error == 0 && group->group_leader != PROFILE_LEADER_ANY)
			error = buf_printf(&out, "group_leader = %s\n",
			    group->group_leader == PROFILE_LEADER_YES ?
			    "true" : "false");
		if (error == 0)
			error = profile_render_string(&out, "treatment",
			    profile_treatment_name(group->treatment));
	}
	if (error != 0) {
		buf_free(&out);
		errno = -error;
		return NULL;
	}
	return buf_detach(&out);
}

static bool
profile_text_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
profile_equal(const struct profile *a, const struct profile *b)
{
	if (!profile_text_equal(a->name, b->name) ||
	    !profile_text_equal(a->description, b->description) ||
	    a->image_count != b->image_count || a->group_count != b->group_count)
		return false;
	for (size_t i = 0; i < a->image_count; i++)
		if (strcmp(a->images[i], b->images[i]) != 0)
			return false;
	for (size_t i = 0; i < a->group_count; i++) {
		const struct profile_group *x = &a->groups[i], *y = &b->groups[i];

		if (!profile_text_equal(x->name, y->name) ||
		    !profile_text_equal(x->description, y->description) ||
		    !profile_text_equal(x->comm_prefix, y->comm_prefix) ||
		    !profile_text_equal(x->parent_comm_prefix,
		    y->parent_comm_prefix) ||
		    !profile_text_equal(x->cmd_join, y->cmd_join) ||
		    x->group_leader != y->group_leader ||
		    x->treatment != y->treatment)
			return false;
	}
	return true;
}
