/* kube-yaml.c - a strict reader for the YAML subset kubeconfig files use. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kube-yaml.h"

struct kube_yaml_line {
	size_t indent;
	char *text;		/* content after the indentation */
	size_t len;
	size_t number;
};

struct kube_yaml_parser {
	struct kube_yaml_line *lines;
	size_t count;
	size_t at;
	char **cause;
	bool failed;
};

__attribute__((format(printf, 3, 4)))
static void
kube_yaml_error(struct kube_yaml_parser *parser, size_t line, const char *fmt,
    ...)
{
	char reason[256];
	va_list ap;

	if (parser->failed)
		return;
	parser->failed = true;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (parser->cause != NULL) {
		free(*parser->cause);
		if (asprintf(parser->cause, "line %zu: %s", line, reason) < 0)
			*parser->cause = NULL;
	}
}

static struct kube_yaml_node *
kube_yaml_new(struct kube_yaml_parser *parser, enum kube_yaml_type type,
    size_t line)
{
	struct kube_yaml_node *node;

	if ((node = calloc(1, sizeof *node)) == NULL) {
		kube_yaml_error(parser, line, "out of memory");
		return NULL;
	}
	node->type = type;
	node->line = line;
	return node;
}

void
kube_yaml_free(struct kube_yaml_node *node)
{
	struct kube_yaml_node *next;

	while (node != NULL) {
		next = node->next;
		kube_yaml_free(node->child);
		free(node->key);
		free(node->scalar);
		free(node);
		node = next;
	}
}

static bool
kube_yaml_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether what follows a scalar is nothing but blanks and a comment. */
static bool
kube_yaml_only_comment(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && kube_yaml_blank(text[i]))
		i++;
	if (i == len)
		return true;
	return text[i] == '#' && (i > 0);
}

static bool
kube_yaml_is_dash(const struct kube_yaml_line *line)
{
	return line->text[0] == '-' && (line->len == 1 ||
	    kube_yaml_blank(line->text[1]));
}

static int
kube_yaml_hex(const char *text, size_t digits, uint32_t *out)
{
	size_t i;
	char c;

	*out = 0;
	for (i = 0; i < digits; i++) {
		c = text[i];
		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (uint32_t)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	return 0;
}

static int
kube_yaml_utf8(struct buf *out, uint32_t code)
{
	unsigned char bytes[4];
	size_t n;

	if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
		return -EINVAL;
	if (code < 0x80) {
		bytes[0] = (unsigned char)code;
		n = 1;
	} else if (code < 0x800) {
		bytes[0] = (unsigned char)(0xc0 | (code >> 6));
		bytes[1] = (unsigned char)(0x80 | (code & 0x3f));
		n = 2;
	} else if (code < 0x10000) {
		bytes[0] = (unsigned char)(0xe0 | (code >> 12));
		bytes[1] = (unsigned char)(0x80 | ((code >> 6) & 0x3f));
		bytes[2] = (unsigned char)(0x80 | (code & 0x3f));
		n = 3;
	} else {
		bytes[0] = (unsigned char)(0xf0 | (code >> 18));
		bytes[1] = (unsigned char)(0x80 | ((code >> 12) & 0x3f));
		bytes[2] = (unsigned char)(0x80 | ((code >> 6) & 0x3f));
		bytes[3] = (unsigned char)(0x80 | (code & 0x3f));
		n = 4;
	}
	return buf_append(out, bytes, n);
}

/*
 * A quoted scalar starting at text[0] (the quote).  Sets *end past the
 * closing quote and returns the unescaped text, or NULL after an error.
 */
static char *
kube_yaml_quoted(struct kube_yaml_parser *parser, const char *text, size_t len,
    size_t line, size_t *end)
{
	struct buf out = BUF_INIT;
	char quote = text[0], c;
	uint32_t code;
	size_t i = 1, digits;
	int error = 0;

	for (;;) {
		if (i >= len) {
			kube_yaml_error(parser, line, "unterminated quoted scalar "
			    "(multi-line scalars are not supported)");
			goto fail;
		}
		c = text[i];
		if (c == quote) {
			if (quote == '\'' && i + 1 < len && text[i + 1] == '\'') {
				error = buf_append(&out, "'", 1);
				i += 2;
				goto next;
			}
			i++;
			break;
		}
		if (c == '\\' && quote == '"') {
			if (i + 1 >= len) {
				kube_yaml_error(parser, line, "a backslash ends the line");
				goto fail;
			}
			c = text[i + 1];
			i += 2;
			digits = 0;
			switch (c) {
			case '\\': case '"': case '/':
				error = buf_append(&out, &c, 1);
				break;
			case 'n': error = buf_append(&out, "\n", 1); break;
			case 't': error = buf_append(&out, "\t", 1); break;
			case 'r': error = buf_append(&out, "\r", 1); break;
			case '0':
				kube_yaml_error(parser, line, "a NUL escape in a scalar");
				goto fail;
			case 'x': digits = 2; break;
			case 'u': digits = 4; break;
			case 'U': digits = 8; break;
			default:
				kube_yaml_error(parser, line, "unknown escape \\%c", c);
				goto fail;
			}
			if (digits > 0) {
				if (i + digits > len ||
				    kube_yaml_hex(text + i, digits, &code) != 0 ||
				    code == 0 || kube_yaml_utf8(&out, code) != 0) {
					kube_yaml_error(parser, line, "bad \\%c escape", c);
					goto fail;
				}
				i += digits;
			}
			goto next;
		}
		error = buf_append(&out, &c, 1);
		i++;
next:
		if (error != 0) {
			kube_yaml_error(parser, line, "out of memory");
			goto fail;
		}
	}
	*end = i;
	return buf_detach(&out);
fail:
	buf_free(&out);
	return NULL;
}

/*
 * The scalar (or empty flow collection) that fills the rest of a line.
 * Plain text stops at a comment; ": " inside it is an error, as in YAML.
 */
static struct kube_yaml_node *
kube_yaml_scalar_node(struct kube_yaml_parser *parser, const char *text,
    size_t len, size_t line)
{
	struct kube_yaml_node *node;
	size_t end, i;
	char *value;

	switch (text[0]) {
	case '"':
	case '\'':
		if ((value = kube_yaml_quoted(parser, text, len, line, &end)) == NULL)
			return NULL;
		if (!kube_yaml_only_comment(text + end, len - end)) {
			free(value);
			kube_yaml_error(parser, line, "text after a quoted scalar");
			return NULL;
		}
		if ((node = kube_yaml_new(parser, KUBE_YAML_SCALAR, line)) == NULL) {
			free(value);
			return NULL;
		}
		node->scalar = value;
		return node;
	case '{':
	case '[':
		if (len < 2 || text[1] != (text[0] == '{' ? '}' : ']') ||
		    !kube_yaml_only_comment(text + 2, len - 2) ||
		    (len > 2 && text[2] == '#')) {
			kube_yaml_error(parser, line, "flow collections other than "
			    "{} and [] are not supported");
			return NULL;
		}
		return kube_yaml_new(parser, text[0] == '{' ? KUBE_YAML_MAPPING :
		    KUBE_YAML_SEQUENCE, line);
	case '&': case '*': case '!':
		kube_yaml_error(parser, line, "anchors, aliases and tags are not supported");
		return NULL;
	case '|': case '>':
		kube_yaml_error(parser, line, "block scalars are not supported");
		return NULL;
	case '%': case '@': case '`': case ',': case ']': case '}': case '#':
		kube_yaml_error(parser, line, "a scalar cannot start with '%c'", text[0]);
		return NULL;
	case '-': case '?': case ':':
		if (len == 1 || kube_yaml_blank(text[1])) {
			kube_yaml_error(parser, line, "unexpected '%c' indicator", text[0]);
			return NULL;
		}
		break;
	}

	/* Plain: up to a comment, trailing blanks trimmed. */
	for (end = 0; end < len; end++) {
		if (text[end] == '#' && end > 0 && kube_yaml_blank(text[end - 1]))
			break;
	}
	while (end > 0 && kube_yaml_blank(text[end - 1]))
		end--;
	for (i = 0; i < end; i++) {
		if (text[i] == ':' && (i + 1 == end || kube_yaml_blank(text[i + 1]))) {
			kube_yaml_error(parser, line, "a mapping value where a scalar "
			    "was expected (quote it)");
			return NULL;
		}
	}
	if ((end == 1 && text[0] == '~') || (end == 4 &&
	    (memcmp(text, "null", 4) == 0 || memcmp(text, "Null", 4) == 0 ||
	    memcmp(text, "NULL", 4) == 0)))
		return kube_yaml_new(parser, KUBE_YAML_NULL, line);
	if ((node = kube_yaml_new(parser, KUBE_YAML_SCALAR, line)) == NULL)
		return NULL;
	if ((node->scalar = strndup(text, end)) == NULL) {
		kube_yaml_error(parser, line, "out of memory");
		kube_yaml_free(node);
		return NULL;
	}
	return node;
}

/*
 * Whether a line holds "key:" (1), something else (0), or a broken key
 * (-1, error set).  On 1, *key is the key and *value_at the offset of what
 * follows the colon and its blanks.
 */
static int
kube_yaml_key(struct kube_yaml_parser *parser, const struct kube_yaml_line *line,
    char **key, size_t *value_at)
{
	const char *text = line->text;
	size_t len = line->len, end, i;

	*key = NULL;
	if (text[0] == '"' || text[0] == '\'') {
		if ((*key = kube_yaml_quoted(parser, text, len, line->number,
		    &end)) == NULL)
			return -1;
		i = end;
		while (i < len && kube_yaml_blank(text[i]))
			i++;
		if (i >= len || text[i] != ':' ||
		    (i + 1 < len && !kube_yaml_blank(text[i + 1]))) {
			free(*key);
			*key = NULL;
			return 0;
		}
		end = i;
	} else {
		if (strchr("?[]{}#&*!|>%@`,", text[0]) != NULL || text[0] == ':')
			return 0;
		for (end = 0; end < len; end++) {
			if (text[end] == '#' && end > 0 && kube_yaml_blank(text[end - 1]))
				return 0;
			if (text[end] == ':' && (end + 1 == len ||
			    kube_yaml_blank(text[end + 1])))
				break;
		}
		if (end == len)
			return 0;
		i = end;
		while (i > 0 && kube_yaml_blank(text[i - 1]))
			i--;
		if ((*key = strndup(text, i)) == NULL) {
			kube_yaml_error(parser, line->number, "out of memory");
			return -1;
		}
	}
	i = end + 1;
	while (i < len && kube_yaml_blank(text[i]))
		i++;
	*value_at = i;
	return 1;
}

static struct kube_yaml_node *kube_yaml_block(struct kube_yaml_parser *parser,
    unsigned depth);
static bool kube_yaml_marker(const struct kube_yaml_line *line,
    const char *marker);

static void
kube_yaml_append(struct kube_yaml_node *parent, struct kube_yaml_node **tail,
    struct kube_yaml_node *node)
{
	if (*tail == NULL)
		parent->child = node;
	else
		(*tail)->next = node;
	*tail = node;
}

/* Whether the line after the current one is deeper than indent. */
static bool
kube_yaml_deeper_follows(struct kube_yaml_parser *parser, size_t indent)
{
	return parser->at < parser->count &&
	    parser->lines[parser->at].indent > indent;
}

static struct kube_yaml_node *
kube_yaml_sequence(struct kube_yaml_parser *parser, unsigned depth)
{
	struct kube_yaml_line *line = &parser->lines[parser->at];
	struct kube_yaml_node *sequence, *item, *tail = NULL;
	size_t indent = line->indent, skip, line_number;
	char *key;
	int is_key;

	if ((sequence = kube_yaml_new(parser, KUBE_YAML_SEQUENCE,
	    line->number)) == NULL)
		return NULL;
	while (parser->at < parser->count && !parser->failed) {
		line = &parser->lines[parser->at];
		if (line->indent != indent || !kube_yaml_is_dash(line))
			break;
		line_number = line->number;
		skip = 1;
		while (skip < line->len && kube_yaml_blank(line->text[skip]))
			skip++;
		if (skip == line->len || line->text[skip] == '#') {
			/* "-" alone: the item is the deeper block below, or null. */
			parser->at++;
			if (kube_yaml_deeper_follows(parser, indent))
				item = kube_yaml_block(parser, depth + 1);
			else
				item = kube_yaml_new(parser, KUBE_YAML_NULL, line_number);
		} else {
			/*
			 * "- rest": rest continues at the column it starts in,
			 * so a mapping's later keys line up under its first.
			 */
			if (memchr(line->text, '\t', skip) != NULL) {
				kube_yaml_error(parser, line_number, "tab after '-'");
				break;
			}
			line->indent += skip;
			line->text += skip;
			line->len -= skip;
			key = NULL;
			is_key = kube_yaml_key(parser, line, &key, &(size_t){ 0 });
			free(key);
			if (is_key < 0)
				break;
			if (is_key == 1 || kube_yaml_is_dash(line)) {
				item = kube_yaml_block(parser, depth + 1);
			} else {
				item = kube_yaml_scalar_node(parser, line->text,
				    line->len, line_number);
				parser->at++;
				if (item != NULL && kube_yaml_deeper_follows(parser,
				    indent)) {
					kube_yaml_error(parser,
					    parser->lines[parser->at].number,
					    "unexpected indentation (multi-line "
					    "scalars are not supported)");
				}
			}
		}
		if (item == NULL)
			break;
		kube_yaml_append(sequence, &tail, item);
	}
	if (parser->failed) {
		kube_yaml_free(sequence);
		return NULL;
	}
	return sequence;
}

static struct kube_yaml_node *
kube_yaml_mapping(struct kube_yaml_parser *parser, unsigned depth)
{
	struct kube_yaml_line *line = &parser->lines[parser->at];
	struct kube_yaml_node *mapping, *value, *tail = NULL, *other;
	size_t indent = line->indent, value_at, line_number;
	char *key = NULL;
	int is_key;

	if ((mapping = kube_yaml_new(parser, KUBE_YAML_MAPPING,
	    line->number)) == NULL)
		return NULL;
	while (parser->at < parser->count && !parser->failed) {
		line = &parser->lines[parser->at];
		if (line->indent < indent)
			break;
		line_number = line->number;
		if (line->indent > indent) {
			kube_yaml_error(parser, line_number, "unexpected indentation");
			break;
		}
		/* A document marker ends the document; the caller refuses it. */
		if (kube_yaml_marker(line, "---") || kube_yaml_marker(line, "..."))
			break;
		if (kube_yaml_is_dash(line)) {
			kube_yaml_error(parser, line_number,
			    "a sequence item where a mapping key was expected");
			break;
		}
		if ((is_key = kube_yaml_key(parser, line, &key, &value_at)) <= 0) {
			if (is_key == 0)
				kube_yaml_error(parser, line_number,
				    "expected \"key: value\"");
			break;
		}
		for (other = mapping->child; other != NULL; other = other->next) {
			if (strcmp(other->key, key) == 0) {
				kube_yaml_error(parser, line_number,
				    "duplicate key \"%s\"", key);
				break;
			}
		}
		if (parser->failed)
			break;
		if (kube_yaml_only_comment(line->text + value_at,
		    line->len - value_at) || line->text[value_at] == '#') {
			parser->at++;
			if (kube_yaml_deeper_follows(parser, indent))
				value = kube_yaml_block(parser, depth + 1);
			else if (parser->at < parser->count &&
			    parser->lines[parser->at].indent == indent &&
			    kube_yaml_is_dash(&parser->lines[parser->at]))
				value = kube_yaml_sequence(parser, depth + 1);
			else
				value = kube_yaml_new(parser, KUBE_YAML_NULL,
				    line_number);
		} else {
			value = kube_yaml_scalar_node(parser, line->text + value_at,
			    line->len - value_at, line_number);
			parser->at++;
		}
		if (value == NULL)
			break;
		value->key = key;
		key = NULL;
		kube_yaml_append(mapping, &tail, value);
	}
	free(key);
	if (parser->failed) {
		kube_yaml_free(mapping);
		return NULL;
	}
	return mapping;
}

static struct kube_yaml_node *
kube_yaml_block(struct kube_yaml_parser *parser, unsigned depth)
{
	const struct kube_yaml_line *line = &parser->lines[parser->at];
	char *key = NULL;
	int is_key;

	if (depth > KUBE_YAML_MAX_DEPTH) {
		kube_yaml_error(parser, line->number, "nested deeper than %d",
		    KUBE_YAML_MAX_DEPTH);
		return NULL;
	}
	if (kube_yaml_is_dash(line))
		return kube_yaml_sequence(parser, depth);
	is_key = kube_yaml_key(parser, line, &key, &(size_t){ 0 });
	free(key);
	if (is_key < 0)
		return NULL;
	if (is_key == 0) {
		kube_yaml_error(parser, line->number,
		    "expected a mapping or a sequence");
		return NULL;
	}
	return kube_yaml_mapping(parser, depth);
}

/* Split into significant lines: no blank or comment-only lines, no CR. */
static int
kube_yaml_lines(struct kube_yaml_parser *parser, char *text, size_t len)
{
	struct kube_yaml_line *lines = NULL, *grown;
	size_t capacity = 0, number = 0, start = 0, end, indent;

	while (start < len) {
		number++;
		end = start;
		while (end < len && text[end] != '\n')
			end++;
		text[end] = '\0';
		if (end > start && text[end - 1] == '\r')
			text[end - 1] = '\0';
		indent = 0;
		while (text[start + indent] == ' ')
			indent++;
		if (text[start + indent] == '\t') {
			/* Blank lines may hold tabs; indentation may not. */
			size_t i = start + indent;

			while (text[i] == ' ' || text[i] == '\t')
				i++;
			if (text[i] != '\0' && text[i] != '#') {
				kube_yaml_error(parser, number, "tab in indentation");
				free(lines);
				return -EINVAL;
			}
		}
		if (text[start + indent] != '\0' && text[start + indent] != '#' &&
		    text[start + indent] != '\t') {
			if (parser->count == capacity) {
				capacity = capacity ? capacity * 2 : 64;
				grown = reallocarray(lines, capacity, sizeof *lines);
				if (grown == NULL) {
					kube_yaml_error(parser, number, "out of memory");
					free(lines);
					return -ENOMEM;
				}
				lines = grown;
			}
			lines[parser->count].indent = indent;
			lines[parser->count].text = text + start + indent;
			lines[parser->count].len = strlen(text + start + indent);
			lines[parser->count].number = number;
			parser->count++;
		}
		start = end + 1;
	}
	parser->lines = lines;
	return 0;
}

static bool
kube_yaml_marker(const struct kube_yaml_line *line, const char *marker)
{
	return line->indent == 0 && strncmp(line->text, marker, 3) == 0 &&
	    kube_yaml_only_comment(line->text + 3, line->len - 3);
}

struct kube_yaml_node *
kube_yaml_parse(const char *text, size_t len, char **cause)
{
	struct kube_yaml_parser parser = { .cause = cause };
	struct kube_yaml_node *root = NULL;
	char *copy = NULL;

	if (len > KUBE_YAML_MAX_BYTES) {
		kube_yaml_error(&parser, 0, "larger than %d bytes",
		    KUBE_YAML_MAX_BYTES);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		kube_yaml_error(&parser, 0, "a NUL byte in the text");
		goto out;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		kube_yaml_error(&parser, 0, "out of memory");
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (kube_yaml_lines(&parser, copy, len) != 0)
		goto out;
	if (parser.count > 0 && kube_yaml_marker(&parser.lines[0], "---"))
		parser.at++;
	if (parser.at == parser.count) {
		kube_yaml_error(&parser, 1, "an empty document");
		goto out;
	}
	if (parser.lines[parser.at].indent != 0) {
		kube_yaml_error(&parser, parser.lines[parser.at].number,
		    "the document does not start at column 1");
		goto out;
	}
	if ((root = kube_yaml_block(&parser, 0)) == NULL)
		goto out;
	if (parser.at < parser.count) {
		const struct kube_yaml_line *line = &parser.lines[parser.at];

		if (kube_yaml_marker(line, "---") || kube_yaml_marker(line, "..."))
			kube_yaml_error(&parser, line->number,
			    "only one document is supported");
		else
			kube_yaml_error(&parser, line->number,
			    "unexpected text after the document");
		kube_yaml_free(root);
		root = NULL;
	}
out:
	free(parser.lines);
	free(copy);
	if (root == NULL)
		errno = EINVAL;
	return root;
}

const struct kube_yaml_node *
kube_yaml_get(const struct kube_yaml_node *node, const char *key)
{
	const struct kube_yaml_node *entry;

	if (node == NULL || node->type != KUBE_YAML_MAPPING)
		return NULL;
	for (entry = node->child; entry != NULL; entry = entry->next) {
		if (strcmp(entry->key, key) == 0)
			return entry;
	}
	return NULL;
}

const char *
kube_yaml_scalar(const struct kube_yaml_node *node)
{
	if (node == NULL || node->type != KUBE_YAML_SCALAR)
		return NULL;
	return node->scalar;
}
