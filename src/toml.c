/*
 * toml.c - Temper's strict TOML 1.0 reader.
 *
 * One pass of recursive descent over the document held in memory.  UTF-8 is
 * checked before anything else, so that the reader proper can count columns
 * in characters and copy string bytes without decoding them.  Every table and
 * array remembers how it came to be (its own [header], a parent on a header's
 * path, a dotted key, an inline value, [[header]]) because TOML's rules on
 * what a later line may extend depend on exactly that.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

/*
 * The reader and toml_free recurse once per level of nesting, so a document
 * may not nest deeper than this; positions are unsigned, so the document
 * size is bounded too.  A config file comes nowhere near either.
 */
#define TOML_MAX_DEPTH		100
#define TOML_MAX_DOCUMENT	(256u << 20)

/* Keys quoted in error messages are cut here to keep a message one line. */
#define TOML_MAX_KEY_SHOWN	80

enum toml_origin {
	TOML_ORIGIN_VALUE,	/* a scalar, or the root table */
	TOML_ORIGIN_HEADER,	/* table opened by its own [header] or [[header]] */
	TOML_ORIGIN_PARENT,	/* table created as a parent on a header's path */
	TOML_ORIGIN_DOTTED,	/* table created by a dotted key */
	TOML_ORIGIN_INLINE,	/* inline table or array value: complete as written */
	TOML_ORIGIN_TABLE_ARRAY, /* array grown by [[header]] */
};

/* The public value plus what only the reader needs to know about it. */
struct toml_node {
	struct toml_value value;	/* first, so a value pointer is its node */
	enum toml_origin origin;
	unsigned depth;			/* the root is 0 */
};

struct toml_position {
	unsigned line;
	unsigned column;
};

struct toml_key_part {
	char *text;
	size_t len;
	struct toml_position position;
};

/* A dotted key as written: a.b."c.d" has three parts. */
struct toml_key {
	struct toml_key_part *parts;
	size_t count;
	size_t allocated;
};

struct toml_parser {
	const char *text;
	size_t len;
	size_t at;			/* next byte to read */
	unsigned line;			/* line of text[at], 1-based */
	size_t line_start;		/* offset of that line's first byte */

	/*
	 * Columns count characters, not bytes.  Positions are asked for in
	 * document order, so counting resumes from the last answer instead
	 * of from the start of a possibly long line.
	 */
	size_t column_line_start;
	size_t column_at;
	unsigned column;

	struct toml_node *root;
	struct toml_node *current;	/* table that key = value lines fill */
	int error;			/* first error: -EINVAL or -ENOMEM */
	char *cause;
};

static void toml_node_free(struct toml_node *node);
static int toml_parse_value(struct toml_parser *p, unsigned depth,
    struct toml_node **out);
static int toml_parse_keyval(struct toml_parser *p, struct toml_node *table);

static const char *const toml_type_names[] = {
	[TOML_TABLE] = "table",
	[TOML_ARRAY] = "array",
	[TOML_STRING] = "string",
	[TOML_INTEGER] = "integer",
	[TOML_FLOAT] = "float",
	[TOML_BOOLEAN] = "boolean",
	[TOML_DATETIME] = "datetime",
};

const char *
toml_type_name(enum toml_type type)
{
	if ((size_t)type >= sizeof toml_type_names / sizeof toml_type_names[0])
		return "unknown";
	return toml_type_names[type];
}

/* The byte ahead bytes from the cursor, or -1 past the end. */
static int
toml_peek(const struct toml_parser *p, size_t ahead)
{
	if (ahead >= p->len - p->at)
		return -1;
	return (unsigned char)p->text[p->at + ahead];
}

static struct toml_position
toml_here(struct toml_parser *p)
{
	struct toml_position position;

	if (p->column_line_start != p->line_start || p->column_at > p->at) {
		p->column_line_start = p->line_start;
		p->column_at = p->line_start;
		p->column = 1;
	}
	/* Each byte that does not continue a UTF-8 sequence starts a character. */
	for (; p->column_at < p->at; p->column_at++) {
		if (((unsigned char)p->text[p->column_at] & 0xc0) != 0x80)
			p->column++;
	}
	position.line = p->line;
	position.column = p->column;
	return position;
}

static int
toml_no_memory(struct toml_parser *p)
{
	if (p->error == 0) {
		p->error = -ENOMEM;
		free(p->cause);
		p->cause = NULL;
	}
	return -ENOMEM;
}

/* Record the first error only: later ones are consequences of it. */
__attribute__((format(printf, 3, 4)))
static int
toml_fail(struct toml_parser *p, struct toml_position position,
    const char *fmt, ...)
{
	struct buf message = BUF_INIT;
	va_list ap;
	int error;

	if (p->error != 0)
		return p->error;
	error = buf_printf(&message, "line %u, column %u: ", position.line,
	    position.column);
	if (error == 0) {
		va_start(ap, fmt);
		error = buf_vprintf(&message, fmt, ap);
		va_end(ap);
	}
	if (error != 0) {
		buf_free(&message);
		return toml_no_memory(p);
	}
	p->error = -EINVAL;
	p->cause = buf_detach(&message);
	return -EINVAL;
}

#define toml_fail_here(p, ...) toml_fail((p), toml_here(p), __VA_ARGS__)

/*
 * The character ahead bytes from the cursor, for a message: printable ASCII
 * as itself, anything else by name or as U+XXXX.  The document is valid
 * UTF-8 by the time this is asked.
 */
static const char *
toml_show(const struct toml_parser *p, size_t ahead, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)p->text + p->at + ahead;
	int c = toml_peek(p, ahead);
	uint32_t code;

	if (c >= 0x80) {
		if (c < 0xe0)
			code = (uint32_t)(c & 0x1f) << 6 | (s[1] & 0x3f);
		else if (c < 0xf0)
			code = (uint32_t)(c & 0x0f) << 12 |
			    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		else
			code = (uint32_t)(c & 0x07) << 18 |
			    (uint32_t)(s[1] & 0x3f) << 12 |
			    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		snprintf(out, size, "U+%04X", (unsigned)code);
	} else if (c < 0)
		snprintf(out, size, "end of input");
	else if (c == '\n' || (c == '\r' && toml_peek(p, ahead + 1) == '\n'))
		snprintf(out, size, "end of line");
	else if (c == '\'')
		snprintf(out, size, "\"'\"");
	else if (c > 0x20 && c < 0x7f)
		snprintf(out, size, "'%c'", c);
	else if (c == ' ')
		snprintf(out, size, "a space");
	else if (c == '\t')
		snprintf(out, size, "a tab");
	else
		snprintf(out, size, "U+%04X", (unsigned)c);
	return out;
}

static int
toml_unexpected(struct toml_parser *p, const char *expected)
{
	char shown[32];

	return toml_fail_here(p, "expected %s, found %s", expected,
	    toml_show(p, 0, shown, sizeof shown));
}

/* Consume one newline (LF or CRLF) if the cursor is on one. */
static bool
toml_newline(struct toml_parser *p)
{
	size_t width;

	if (toml_peek(p, 0) == '\n')
		width = 1;
	else if (toml_peek(p, 0) == '\r' && toml_peek(p, 1) == '\n')
		width = 2;
	else
		return false;
	p->at += width;
	p->line++;
	p->line_start = p->at;
	return true;
}

static void
toml_skip_space(struct toml_parser *p)
{
	while (toml_peek(p, 0) == ' ' || toml_peek(p, 0) == '\t')
		p->at++;
}

/*
 * Control characters other than tab may appear neither in comments nor in
 * strings: they would hide text from a reader of the file.
 */
static bool
toml_is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static int
toml_control_error(struct toml_parser *p, const char *where)
{
	int c = toml_peek(p, 0);

	if (c == '\r')
		return toml_fail_here(p, "carriage return not followed by a line feed in %s",
		    where);
	return toml_fail_here(p, "control character U+%04X in %s", (unsigned)c, where);
}

/* At '#': skip the comment up to, not including, the end of its line. */
static int
toml_skip_comment(struct toml_parser *p)
{
	int c;

	p->at++;
	while ((c = toml_peek(p, 0)) != -1 && c != '\n') {
		if (c == '\r' && toml_peek(p, 1) == '\n')
			break;
		if (toml_is_control(c))
			return toml_control_error(p, "a comment");
		p->at++;
	}
	return 0;
}

/* Whitespace, newlines and comments: what may separate array items. */
static int
toml_skip_blank(struct toml_parser *p)
{
	int error;

	for (;;) {
		toml_skip_space(p);
		if (toml_peek(p, 0) == '#') {
			if ((error = toml_skip_comment(p)) != 0)
				return error;
		} else if (!toml_newline(p)) {
			return 0;
		}
	}
}

/* After a header or a key/value pair only a comment may share the line. */
static int
toml_end_of_line(struct toml_parser *p, const char *after)
{
	char shown[32];
	int error;

	toml_skip_space(p);
	if (toml_peek(p, 0) == '#' && (error = toml_skip_comment(p)) != 0)
		return error;
	if (toml_peek(p, 0) == -1 || toml_newline(p))
		return 0;
	return toml_fail_here(p, "expected the end of the line after %s, found %s",
	    after, toml_show(p, 0, shown, sizeof shown));
}

/*
 * Check the whole document is UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF) before reading it.
 */
static int
toml_check_utf8(struct toml_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t i = p->at, line_start = p->line_start, need, k;
	unsigned line = p->line;
	unsigned char low, high;

	while (i < p->len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			if (c == '\n') {
				line++;
				line_start = i + 1;
			}
			i++;
			continue;
		}
		low = 0x80;
		high = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				low = 0xa0;
			else if (c == 0xed)
				high = 0x9f;	/* U+D800..U+DFFF are surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				low = 0x90;
			else if (c == 0xf4)
				high = 0x8f;	/* nothing past U+10FFFF */
		} else {
			goto bad;
		}
		if (p->len - i <= need || s[i + 1] < low || s[i + 1] > high)
			goto bad;
		for (k = 2; k <= need; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				goto bad;
		}
		i += need + 1;
	}
	return 0;

bad:
	p->line = line;
	p->line_start = line_start;
	p->at = i;
	return toml_fail_here(p, "invalid UTF-8 (byte 0x%02X)", s[i]);
}

static struct toml_node *
toml_node_new(struct toml_parser *p, enum toml_type type,
    enum toml_origin origin, unsigned depth, struct toml_position position)
{
	struct toml_node *node;

	if (depth > TOML_MAX_DEPTH) {
		toml_fail(p, position, "nested deeper than %d levels",
		    TOML_MAX_DEPTH);
		return NULL;
	}
	if ((node = calloc(1, sizeof *node)) == NULL) {
		toml_no_memory(p);
		return NULL;
	}
	node->value.type = type;
	node->value.line = position.line;
	node->value.column = position.column;
	node->origin = origin;
	node->depth = depth;
	return node;
}

static void
toml_node_free(struct toml_node *node)
{
	struct toml_value *value;
	size_t i;

	if (node == NULL)
		return;
	value = &node->value;
	switch (value->type) {
	case TOML_TABLE:
		for (i = 0; i < value->u.table.count; i++) {
			free(value->u.table.pairs[i].key);
			toml_node_free((struct toml_node *)value->u.table.pairs[i].value);
		}
		free(value->u.table.pairs);
		break;
	case TOML_ARRAY:
		for (i = 0; i < value->u.array.count; i++)
			toml_node_free((struct toml_node *)value->u.array.items[i]);
		free(value->u.array.items);
		break;
	case TOML_STRING:
	case TOML_DATETIME:
		free(value->u.string.text);
		break;
	default:
		break;
	}
	free(node);
}

void
toml_free(struct toml_value *value)
{
	toml_node_free((struct toml_node *)value);
}

/*
 * Tables and arrays keep no capacity field (the public struct has none):
 * their storage holds 4 entries, then doubles whenever the count reaches a
 * power of two, so the count alone says when it is full.
 */
static bool
toml_full(size_t count)
{
	return count == 0 || (count >= 4 && (count & (count - 1)) == 0);
}

/*
 * A linear search: Temper's tables hold tens of keys, and 20000 keys in one
 * table still read in a third of a second.
 */
static struct toml_node *
toml_table_find(const struct toml_node *table, const char *key, size_t len)
{
	const struct toml_pair *pair;
	size_t i;

	for (i = 0; i < table->value.u.table.count; i++) {
		pair = &table->value.u.table.pairs[i];
		if (pair->key_len == len && memcmp(pair->key, key, len) == 0)
			return (struct toml_node *)pair->value;
	}
	return NULL;
}

/*
 * Add child under the key part, taking both: the part's text on success,
 * the child always (freed on failure).
 */
static int
toml_table_add(struct toml_parser *p, struct toml_node *table,
    struct toml_key_part *part, struct toml_node *child)
{
	struct toml_value *value = &table->value;
	struct toml_pair *pairs;
	size_t allocated;

	if (toml_full(value->u.table.count)) {
		allocated = value->u.table.count ? value->u.table.count * 2 : 4;
		pairs = realloc(value->u.table.pairs, allocated * sizeof *pairs);
		if (pairs == NULL) {
			toml_node_free(child);
			return toml_no_memory(p);
		}
		value->u.table.pairs = pairs;
	}
	pairs = &value->u.table.pairs[value->u.table.count++];
	pairs->key = part->text;
	pairs->key_len = part->len;
	pairs->value = &child->value;
	part->text = NULL;
	return 0;
}

/* Append item, taking it (freed on failure). */
static int
toml_array_add(struct toml_parser *p, struct toml_node *array,
    struct toml_node *item)
{
	struct toml_value *value = &array->value;
	struct toml_value **items;
	size_t allocated;

	if (toml_full(value->u.array.count)) {
		allocated = value->u.array.count ? value->u.array.count * 2 : 4;
		items = realloc(value->u.array.items, allocated * sizeof *items);
		if (items == NULL) {
			toml_node_free(item);
			return toml_no_memory(p);
		}
		value->u.array.items = items;
	}
	value->u.array.items[value->u.array.count++] = &item->value;
	return 0;
}

static bool
toml_is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
toml_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
toml_append_utf8(struct buf *out, uint32_t code)
{
	char bytes[4];
	size_t n;

	if (code < 0x80) {
		bytes[0] = (char)code;
		n = 1;
	} else if (code < 0x800) {
		bytes[0] = (char)(0xc0 | (code >> 6));
		bytes[1] = (char)(0x80 | (code & 0x3f));
		n = 2;
	} else if (code < 0x10000) {
		bytes[0] = (char)(0xe0 | (code >> 12));
		bytes[1] = (char)(0x80 | ((code >> 6) & 0x3f));
		bytes[2] = (char)(0x80 | (code & 0x3f));
		n = 3;
	} else {
		bytes[0] = (char)(0xf0 | (code >> 18));
		bytes[1] = (char)(0x80 | ((code >> 12) & 0x3f));
		bytes[2] = (char)(0x80 | ((code >> 6) & 0x3f));
		bytes[3] = (char)(0x80 | (code & 0x3f));
		n = 4;
	}
	return buf_append(out, bytes, n);
}

/* At \u or \U: append the character the hexadecimal digits name. */
static int
toml_parse_unicode_escape(struct toml_parser *p, struct buf *out, int digits)
{
	struct toml_position position = toml_here(p);
	uint32_t code = 0;
	int i, value;

	for (i = 0; i < digits; i++) {
		if ((value = toml_hex_value(toml_peek(p, 2 + (size_t)i))) < 0)
			return toml_fail(p, position,
			    "\\%c needs exactly %d hexadecimal digits",
			    digits == 4 ? 'u' : 'U', digits);
		code = code << 4 | (uint32_t)value;
	}
	if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
		return toml_fail(p, position,
		    "escape names U+%04X, which is not a Unicode scalar value",
		    (unsigned)code);
	p->at += 2 + (size_t)digits;
	if (toml_append_utf8(out, code) != 0)
		return toml_no_memory(p);
	return 0;
}

/* At a backslash in a basic string: append what the escape stands for. */
static int
toml_parse_escape(struct toml_parser *p, struct buf *out)
{
	char shown[32], byte;

	switch (toml_peek(p, 1)) {
	case 'b': byte = '\b'; break;
	case 't': byte = '\t'; break;
	case 'n': byte = '\n'; break;
	case 'f': byte = '\f'; break;
	case 'r': byte = '\r'; break;
	case '"': byte = '"'; break;
	case '\\': byte = '\\'; break;
	case 'u': return toml_parse_unicode_escape(p, out, 4);
	case 'U': return toml_parse_unicode_escape(p, out, 8);
	default:
		return toml_fail_here(p, "invalid escape: backslash followed by %s",
		    toml_show(p, 1, shown, sizeof shown));
	}
	p->at += 2;
	if (buf_append(out, &byte, 1) != 0)
		return toml_no_memory(p);
	return 0;
}

/* Append the bytes from start up to the cursor. */
static int
toml_append_span(struct toml_parser *p, struct buf *out, size_t start)
{
	if (p->at > start && buf_append(out, p->text + start, p->at - start) != 0)
		return toml_no_memory(p);
	return 0;
}

/* "basic" or 'literal' on one line; the cursor is on the opening quote. */
static int
toml_parse_line_string(struct toml_parser *p, struct buf *out)
{
	struct toml_position position = toml_here(p);
	int quote = toml_peek(p, 0), c, error;
	size_t start;

	p->at++;
	start = p->at;
	for (;;) {
		c = toml_peek(p, 0);
		if (c == quote)
			break;
		if (c == -1 || c == '\n' || (c == '\r' && toml_peek(p, 1) == '\n'))
			return toml_fail(p, position,
			    "string not closed on its line (multi-line strings take %s)",
			    quote == '"' ? "\"\"\"" : "'''");
		if (toml_is_control(c))
			return toml_control_error(p, "a string");
		if (c == '\\' && quote == '"') {
			if ((error = toml_append_span(p, out, start)) != 0 ||
			    (error = toml_parse_escape(p, out)) != 0)
				return error;
			start = p->at;
			continue;
		}
		p->at++;
	}
	if ((error = toml_append_span(p, out, start)) != 0)
		return error;
	p->at++;
	return 0;
}

/*
 * At a backslash in a multi-line basic string: if only whitespace follows on
 * its line, the backslash trims it, the newline and all whitespace and
 * newlines after.  Returns 1 when it did, 0 when this is an ordinary escape.
 */
static int
toml_line_ending_backslash(struct toml_parser *p)
{
	size_t i = 1;
	int c;

	while ((c = toml_peek(p, i)) == ' ' || c == '\t')
		i++;
	if (c != '\n' && !(c == '\r' && toml_peek(p, i + 1) == '\n')) {
		if (i > 1)
			return toml_fail_here(p,
			    "a backslash followed by whitespace must end its line");
		return 0;
	}
	p->at += i;
	for (;;) {
		toml_skip_space(p);
		if (!toml_newline(p))
			return 1;
	}
}

/*
 * """basic""" or '''literal''' over several lines; the cursor is on the
 * first of the three opening quotes.  CRLF inside reads as LF.
 */
static int
toml_parse_multiline_string(struct toml_parser *p, struct buf *out)
{
	struct toml_position position = toml_here(p);
	int quote = toml_peek(p, 0), c, error, trimmed;
	size_t quotes, start;

	p->at += 3;
	/* A newline right after the opening quotes is not part of the text. */
	toml_newline(p);
	for (;;) {
		c = toml_peek(p, 0);
		if (c == -1)
			return toml_fail(p, position, "multi-line string not closed");
		if (c == quote) {
			for (quotes = 0; toml_peek(p, quotes) == quote; quotes++)
				;
			if (quotes >= 3) {
				/* Up to two quotes may end the text itself. */
				if (quotes > 5)
					return toml_fail_here(p,
					    "too many quotes closing a multi-line string");
				if (buf_append(out, p->text + p->at, quotes - 3) != 0)
					return toml_no_memory(p);
				p->at += quotes;
				return 0;
			}
			if (buf_append(out, p->text + p->at, quotes) != 0)
				return toml_no_memory(p);
			p->at += quotes;
		} else if (c == '\n' || c == '\r') {
			if (!toml_newline(p))
				return toml_control_error(p, "a string");
			if (buf_append(out, "\n", 1) != 0)
				return toml_no_memory(p);
		} else if (toml_is_control(c)) {
			return toml_control_error(p, "a string");
		} else if (c == '\\' && quote == '"') {
			if ((trimmed = toml_line_ending_backslash(p)) < 0)
				return trimmed;
			if (!trimmed && (error = toml_parse_escape(p, out)) != 0)
				return error;
		} else {
			/* Copy the run of ordinary characters in one go. */
			start = p->at;
			while ((c = toml_peek(p, 0)) != -1 && c != quote &&
			    c != '\n' && c != '\r' && !toml_is_control(c) &&
			    !(c == '\\' && quote == '"'))
				p->at++;
			if ((error = toml_append_span(p, out, start)) != 0)
				return error;
		}
	}
}

static bool
toml_at_multiline_quotes(const struct toml_parser *p)
{
	int quote = toml_peek(p, 0);

	return toml_peek(p, 1) == quote && toml_peek(p, 2) == quote;
}

static void
toml_key_free(struct toml_key *key)
{
	size_t i;

	for (i = 0; i < key->count; i++)
		free(key->parts[i].text);
	free(key->parts);
	key->parts = NULL;
	key->count = key->allocated = 0;
}

/* The first parts of a key as one printable name: a."b c".d */
static void
toml_key_name(struct buf *out, const struct toml_key *key, size_t parts)
{
	const struct toml_key_part *part;
	size_t i, k;
	bool bare;

	for (i = 0; i < parts; i++) {
		part = &key->parts[i];
		bare = part->len > 0;
		for (k = 0; k < part->len; k++)
			bare = bare && toml_is_bare_key_char((unsigned char)part->text[k]);
		if (i > 0)
			buf_puts(out, ".");
		if (!bare)
			buf_puts(out, "\"");
		for (k = 0; k < part->len && k < TOML_MAX_KEY_SHOWN; k++) {
			unsigned char c = (unsigned char)part->text[k];

			if (c == '"' || c == '\\')
				buf_printf(out, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\u%04X", c);
			else
				buf_append(out, &part->text[k], 1);
		}
		if (part->len > TOML_MAX_KEY_SHOWN)
			buf_puts(out, "...");
		if (!bare)
			buf_puts(out, "\"");
	}
}

/* A dotted key, with the whitespace TOML allows around its dots. */
static int
toml_parse_key(struct toml_parser *p, struct toml_key *key)
{
	struct toml_key_part *part;
	struct buf text = BUF_INIT;
	struct toml_position position;
	size_t start;
	int c, error;

	for (;;) {
		toml_skip_space(p);
		position = toml_here(p);
		c = toml_peek(p, 0);
		if (c == '"' || c == '\'') {
			if (toml_at_multiline_quotes(p))
				return toml_fail(p, position,
				    "a key cannot be a multi-line string");
			if ((error = toml_parse_line_string(p, &text)) != 0) {
				buf_free(&text);
				return error;
			}
		} else if (toml_is_bare_key_char(c)) {
			start = p->at;
			while (toml_is_bare_key_char(toml_peek(p, 0)))
				p->at++;
			if (buf_append(&text, p->text + start, p->at - start) != 0)
				return toml_no_memory(p);
		} else {
			return toml_unexpected(p, "a key");
		}
		if (key->count == TOML_MAX_DEPTH) {
			buf_free(&text);
			return toml_fail(p, position, "key has more than %d parts",
			    TOML_MAX_DEPTH);
		}
		if (key->count == key->allocated) {
			size_t allocated = key->allocated ? key->allocated * 2 : 4;

			part = realloc(key->parts, allocated * sizeof *part);
			if (part == NULL) {
				buf_free(&text);
				return toml_no_memory(p);
			}
			key->parts = part;
			key->allocated = allocated;
		}
		part = &key->parts[key->count++];
		part->len = text.len;
		part->text = buf_detach(&text);
		part->position = position;
		toml_skip_space(p);
		if (toml_peek(p, 0) != '.')
			return 0;
		p->at++;
	}
}

static const char *
toml_origin_phrase(const struct toml_node *node)
{
	switch (node->origin) {
	case TOML_ORIGIN_HEADER:
		return "a table with its own [header]";
	case TOML_ORIGIN_PARENT:
		return "a table";
	case TOML_ORIGIN_DOTTED:
		return "a table made by dotted keys";
	case TOML_ORIGIN_INLINE:
		return node->value.type == TOML_TABLE ? "an inline table" :
		    "an array value";
	case TOML_ORIGIN_TABLE_ARRAY:
		return "an array of tables";
	default:
		return "a value";
	}
}

/*
 * "cannot extend 'a.b' with dotted keys: it is an inline table (line 3,
 * column 5)": what was refused, and what stands in the way since where.
 */
static int
toml_conflict(struct toml_parser *p, const struct toml_key *key, size_t parts,
    const struct toml_node *existing, const char *action, const char *manner)
{
	struct buf name = BUF_INIT;
	const char *type;
	int error;

	toml_key_name(&name, key, parts);
	if (existing->origin != TOML_ORIGIN_VALUE) {
		error = toml_fail(p, key->parts[parts - 1].position,
		    "%s '%s'%s: it is %s (line %u, column %u)", action,
		    name.data ? name.data : "", manner,
		    toml_origin_phrase(existing), existing->value.line,
		    existing->value.column);
	} else {
		type = toml_type_name(existing->value.type);
		error = toml_fail(p, key->parts[parts - 1].position,
		    "%s '%s'%s: it holds %s %s (line %u, column %u)", action,
		    name.data ? name.data : "", manner,
		    type[0] == 'i' ? "an" : "a", type, existing->value.line,
		    existing->value.column);
	}
	buf_free(&name);
	return error;
}

static bool
toml_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * Digits of a base with single underscores between them, from s[*i] on,
 * appended to out without the underscores.  Returns 0, -EINVAL when there
 * is no digit or an underscore is misplaced, or -ENOMEM.
 */
static int
toml_scan_digits(const char *s, size_t n, size_t *i, int base, struct buf *out)
{
	int value;

	for (;;) {
		if (*i >= n || (value = toml_hex_value((unsigned char)s[*i])) < 0 ||
		    value >= base)
			return -EINVAL;
		if (buf_append(out, &s[*i], 1) != 0)
			return -ENOMEM;
		(*i)++;
		if (*i < n && s[*i] == '_') {
			(*i)++;
			continue;
		}
		if (*i < n && (value = toml_hex_value((unsigned char)s[*i])) >= 0 &&
		    value < base)
			continue;
		return 0;
	}
}

static int
toml_number_error(struct toml_parser *p, struct toml_position position,
    const char *token, size_t n, const char *why)
{
	return toml_fail(p, position, "invalid number '%.*s': %s",
	    (int)(n > 40 ? 40 : n), token, why);
}

/* 0x, 0o, 0b: unsigned in the text, but the value must fit an int64_t. */
static int
toml_parse_based_integer(struct toml_parser *p, const char *s, size_t n,
    struct toml_position position, struct toml_node *node)
{
	struct buf digits = BUF_INIT;
	int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
	uint64_t value = 0;
	size_t i = 2, k;
	int error = 0;

	error = toml_scan_digits(s, n, &i, base, &digits);
	if (error == -ENOMEM) {
		error = toml_no_memory(p);
		goto out;
	}
	if (error != 0 || i != n) {
		error = toml_number_error(p, position, s, n,
		    "digits of its base with single underscores between them");
		goto out;
	}
	for (k = 0; k < digits.len; k++) {
		uint64_t digit = (uint64_t)toml_hex_value((unsigned char)digits.data[k]);

		if (value > ((uint64_t)INT64_MAX - digit) / (uint64_t)base) {
			error = toml_number_error(p, position, s, n,
			    "out of the range of a 64-bit signed integer");
			goto out;
		}
		value = value * (uint64_t)base + digit;
	}
	node->value.type = TOML_INTEGER;
	node->value.u.integer = (int64_t)value;
out:
	buf_free(&digits);
	return error;
}

/*
 * Decimal integers and floats, which share their leading part:
 * [+-] int [. digits] [e [+-] digits], with no leading zeros in int.
 */
static int
toml_parse_decimal(struct toml_parser *p, const char *s, size_t n,
    struct toml_position position, struct toml_node *node)
{
	struct buf clean = BUF_INIT;
	bool negative = false, is_float = false;
	size_t i = 0, int_start;
	int error = 0;
	char *end;

	if (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-';
		if (buf_append(&clean, &s[i], 1) != 0)
			goto no_memory;
		i++;
	}
	int_start = clean.len;
	if ((error = toml_scan_digits(s, n, &i, 10, &clean)) == -ENOMEM)
		goto no_memory;
	if (error != 0) {
		error = toml_number_error(p, position, s, n,
		    "expected digits with single underscores between them");
		goto out;
	}
	if (clean.len - int_start > 1 && clean.data[int_start] == '0') {
		error = toml_number_error(p, position, s, n,
		    "leading zeros are not allowed");
		goto out;
	}
	if (i < n && s[i] == '.') {
		is_float = true;
		i++;
		if (buf_append(&clean, ".", 1) != 0)
			goto no_memory;
		if ((error = toml_scan_digits(s, n, &i, 10, &clean)) == -ENOMEM)
			goto no_memory;
		if (error != 0) {
			error = toml_number_error(p, position, s, n,
			    "a decimal point needs digits on both sides");
			goto out;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		is_float = true;
		i++;
		if (buf_append(&clean, "e", 1) != 0)
			goto no_memory;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			if (buf_append(&clean, &s[i], 1) != 0)
				goto no_memory;
			i++;
		}
		if ((error = toml_scan_digits(s, n, &i, 10, &clean)) == -ENOMEM)
			goto no_memory;
		if (error != 0) {
			error = toml_number_error(p, position, s, n,
			    "an exponent needs digits");
			goto out;
		}
	}
	if (i != n) {
		error = toml_number_error(p, position, s, n,
		    "unexpected characters");
		goto out;
	}

	if (is_float) {
		double value;

		errno = 0;
		value = strtod(clean.data, &end);
		if (*end != '\0') {
			error = toml_number_error(p, position, s, n, "not a float");
			goto out;
		}
		if (errno == ERANGE && isinf(value)) {
			error = toml_number_error(p, position, s, n,
			    "out of the range of a 64-bit float");
			goto out;
		}
		node->value.type = TOML_FLOAT;
		node->value.u.floating = value;
	} else {
		uint64_t value = 0, limit = negative ? (uint64_t)INT64_MAX + 1 :
		    (uint64_t)INT64_MAX;
		size_t k;

		for (k = int_start; k < clean.len; k++) {
			uint64_t digit = (uint64_t)(clean.data[k] - '0');

			if (value > (limit - digit) / 10) {
				error = toml_number_error(p, position, s, n,
				    "out of the range of a 64-bit signed integer");
				goto out;
			}
			value = value * 10 + digit;
		}
		node->value.type = TOML_INTEGER;
		/* Negate in unsigned arithmetic: -2^63 has no positive twin. */
		node->value.u.integer = negative ? (int64_t)(0 - value) :
		    (int64_t)value;
	}
	goto out;

no_memory:
	error = toml_no_memory(p);
out:
	buf_free(&clean);
	return error;
}

/* Exactly count digits at s[at..]; -1 when they are not all digits. */
static int
toml_fixed_digits(const char *s, size_t n, size_t at, size_t count)
{
	int value = 0;
	size_t i;

	if (at + count > n)
		return -1;
	for (i = at; i < at + count; i++) {
		if (!toml_is_digit((unsigned char)s[i]))
			return -1;
		value = value * 10 + (s[i] - '0');
	}
	return value;
}

static int
toml_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month == 2 && leap)
		return 29;
	return days[month - 1];
}

/* HH:MM:SS[.fraction] at s[*i]; 1.0 requires the seconds. */
static const char *
toml_scan_time(const char *s, size_t n, size_t *i)
{
	int hour, minute, second;

	hour = toml_fixed_digits(s, n, *i, 2);
	if (hour < 0 || *i + 2 >= n || s[*i + 2] != ':')
		return "expected a time as HH:MM:SS";
	minute = toml_fixed_digits(s, n, *i + 3, 2);
	if (minute < 0 || *i + 5 >= n || s[*i + 5] != ':')
		return "expected a time as HH:MM:SS (TOML 1.0 requires seconds)";
	second = toml_fixed_digits(s, n, *i + 6, 2);
	if (second < 0)
		return "expected a time as HH:MM:SS (TOML 1.0 requires seconds)";
	if (hour > 23 || minute > 59 || second > 60)
		return "hour, minute or second out of range";
	*i += 8;
	if (*i < n && s[*i] == '.') {
		(*i)++;
		if (*i >= n || !toml_is_digit((unsigned char)s[*i]))
			return "a decimal point in the seconds needs digits";
		while (*i < n && toml_is_digit((unsigned char)s[*i]))
			(*i)++;
	}
	return NULL;
}

/* RFC 3339 date-times and their local forms, kept as written. */
static int
toml_parse_datetime(struct toml_parser *p, const char *s, size_t n,
    struct toml_position position, struct toml_node *node)
{
	enum toml_datetime_kind kind;
	const char *why = NULL;
	size_t i = 0;
	int year, month, day, hour, minute;

	if (n > 2 && s[2] == ':') {
		kind = TOML_TIME_LOCAL;
		if ((why = toml_scan_time(s, n, &i)) != NULL)
			goto bad;
		if (i != n) {
			why = "a local time takes no offset or other text after it";
			goto bad;
		}
		goto done;
	}
	year = toml_fixed_digits(s, n, 0, 4);
	month = toml_fixed_digits(s, n, 5, 2);
	day = toml_fixed_digits(s, n, 8, 2);
	if (year < 0 || month < 0 || day < 0 || s[4] != '-' || s[7] != '-') {
		why = "expected a date as YYYY-MM-DD";
		goto bad;
	}
	if (month < 1 || month > 12 || day < 1 ||
	    day > toml_days_in_month(year, month)) {
		why = "no such day";
		goto bad;
	}
	i = 10;
	if (i == n) {
		kind = TOML_DATE_LOCAL;
		goto done;
	}
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
		why = "expected 'T' between date and time";
		goto bad;
	}
	i++;
	if ((why = toml_scan_time(s, n, &i)) != NULL)
		goto bad;
	if (i == n) {
		kind = TOML_DATETIME_LOCAL;
		goto done;
	}
	kind = TOML_DATETIME_OFFSET;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		hour = toml_fixed_digits(s, n, i + 1, 2);
		minute = toml_fixed_digits(s, n, i + 4, 2);
		if (hour < 0 || minute < 0 || s[i + 3] != ':') {
			why = "expected an offset as +HH:MM or -HH:MM";
			goto bad;
		}
		if (hour > 23 || minute > 59) {
			why = "offset out of range";
			goto bad;
		}
		i += 6;
	}
	if (i != n) {
		why = "expected 'Z' or an offset after the time";
		goto bad;
	}

done:
	if ((node->value.u.string.text = malloc(n + 1)) == NULL)
		return toml_no_memory(p);
	memcpy(node->value.u.string.text, s, n);
	node->value.u.string.text[n] = '\0';
	node->value.u.string.len = n;
	node->value.type = TOML_DATETIME;
	node->value.datetime_kind = kind;
	return 0;

bad:
	return toml_fail(p, position, "invalid date or time '%.*s': %s",
	    (int)(n > 40 ? 40 : n), s, why);
}

static bool
toml_is_token_char(int c)
{
	return toml_is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static bool
toml_token_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Booleans, numbers, dates and times: everything not quoted or bracketed. */
static int
toml_parse_bare_value(struct toml_parser *p, struct toml_node *node)
{
	struct toml_position position = toml_here(p);
	const char *s = p->text + p->at, *word;
	size_t n, start = p->at;

	while (toml_is_token_char(toml_peek(p, 0)))
		p->at++;
	/* A date and a time may be separated by one space. */
	n = p->at - start;
	if (n == 10 && toml_fixed_digits(s, n, 0, 4) >= 0 && s[4] == '-' &&
	    toml_peek(p, 0) == ' ' &&
	    toml_is_digit(toml_peek(p, 1)) && toml_is_digit(toml_peek(p, 2)) &&
	    toml_peek(p, 3) == ':') {
		p->at++;
		while (toml_is_token_char(toml_peek(p, 0)))
			p->at++;
	}
	n = p->at - start;
	if (n == 0)
		return toml_unexpected(p, "a value");

	if (toml_token_is(s, n, "true") || toml_token_is(s, n, "false")) {
		node->value.type = TOML_BOOLEAN;
		node->value.u.boolean = s[0] == 't';
		return 0;
	}
	word = s[0] == '+' || s[0] == '-' ? s + 1 : s;
	if (toml_token_is(word, n - (size_t)(word - s), "inf") ||
	    toml_token_is(word, n - (size_t)(word - s), "nan")) {
		node->value.type = TOML_FLOAT;
		node->value.u.floating = word[0] == 'i' ? INFINITY : NAN;
		if (s[0] == '-')
			node->value.u.floating = -node->value.u.floating;
		return 0;
	}
	/* Four digits and '-' start a date; "1.5e-10" has its '-' there too. */
	if ((n >= 5 && toml_fixed_digits(s, n, 0, 4) >= 0 && s[4] == '-') ||
	    (n >= 3 && toml_fixed_digits(s, n, 0, 2) >= 0 && s[2] == ':'))
		return toml_parse_datetime(p, s, n, position, node);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
		return toml_parse_based_integer(p, s, n, position, node);
	if (n >= 3 && (s[0] == '+' || s[0] == '-') && s[1] == '0' &&
	    (s[2] == 'x' || s[2] == 'o' || s[2] == 'b'))
		return toml_number_error(p, position, s, n,
		    "hexadecimal, octal and binary integers take no sign");
	if (toml_is_digit((unsigned char)s[0]) ||
	    ((s[0] == '+' || s[0] == '-') && n > 1))
		return toml_parse_decimal(p, s, n, position, node);
	return toml_fail(p, position,
	    "invalid value '%.*s' (strings need quotes)", (int)(n > 40 ? 40 : n), s);
}

static int
toml_parse_string_value(struct toml_parser *p, struct toml_node *node)
{
	struct buf text = BUF_INIT;
	int error;

	if (toml_at_multiline_quotes(p))
		error = toml_parse_multiline_string(p, &text);
	else
		error = toml_parse_line_string(p, &text);
	if (error != 0) {
		buf_free(&text);
		return error;
	}
	node->value.u.string.len = text.len;
	node->value.u.string.text = buf_detach(&text);
	return 0;
}

/* [ value, value, ] across any number of lines; the cursor is on '['. */
static int
toml_parse_array(struct toml_parser *p, struct toml_node *array)
{
	struct toml_node *item;
	int error;

	p->at++;
	for (;;) {
		if ((error = toml_skip_blank(p)) != 0)
			return error;
		if (toml_peek(p, 0) == ']')
			break;
		if ((error = toml_parse_value(p, array->depth + 1, &item)) != 0)
			return error;
		if ((error = toml_array_add(p, array, item)) != 0)
			return error;
		if ((error = toml_skip_blank(p)) != 0)
			return error;
		if (toml_peek(p, 0) == ',') {
			p->at++;
			continue;
		}
		if (toml_peek(p, 0) != ']')
			return toml_unexpected(p, "',' or ']' in an array");
		break;
	}
	p->at++;
	return 0;
}

/* { key = value, ... } on one line, no trailing comma (TOML 1.0). */
static int
toml_parse_inline_table(struct toml_parser *p, struct toml_node *table)
{
	int error;

	p->at++;
	toml_skip_space(p);
	if (toml_peek(p, 0) == '}') {
		p->at++;
		return 0;
	}
	for (;;) {
		if ((error = toml_parse_keyval(p, table)) != 0)
			return error;
		toml_skip_space(p);
		if (toml_peek(p, 0) == ',') {
			p->at++;
			continue;
		}
		if (toml_peek(p, 0) != '}')
			return toml_unexpected(p, "',' or '}' in an inline table");
		p->at++;
		return 0;
	}
}

static int
toml_parse_value(struct toml_parser *p, unsigned depth, struct toml_node **out)
{
	struct toml_node *node;
	enum toml_type type;
	enum toml_origin origin = TOML_ORIGIN_VALUE;
	int c = toml_peek(p, 0), error;

	*out = NULL;
	if (c == '[')
		type = TOML_ARRAY;
	else if (c == '{')
		type = TOML_TABLE;
	else if (c == '"' || c == '\'')
		type = TOML_STRING;
	else
		type = TOML_BOOLEAN;	/* settled by toml_parse_bare_value */
	if (type == TOML_ARRAY || type == TOML_TABLE)
		origin = TOML_ORIGIN_INLINE;
	if ((node = toml_node_new(p, type, origin, depth, toml_here(p))) == NULL)
		return p->error;

	if (type == TOML_ARRAY)
		error = toml_parse_array(p, node);
	else if (type == TOML_TABLE)
		error = toml_parse_inline_table(p, node);
	else if (type == TOML_STRING)
		error = toml_parse_string_value(p, node);
	else
		error = toml_parse_bare_value(p, node);
	if (error != 0) {
		toml_node_free(node);
		return error;
	}
	*out = node;
	return 0;
}

/*
 * key = value into table.  Each part but the last of a dotted key names a
 * table, created here when missing; only tables created by dotted keys (or
 * parents no header has defined yet) may be extended this way.
 */
static int
toml_parse_keyval(struct toml_parser *p, struct toml_node *table)
{
	struct toml_key key = { NULL, 0, 0 };
	struct toml_node *child, *value;
	struct toml_key_part *part;
	size_t i;
	int error;

	if ((error = toml_parse_key(p, &key)) != 0)
		goto out;
	if (toml_peek(p, 0) != '=') {
		error = toml_unexpected(p, "'=' after a key");
		goto out;
	}
	p->at++;
	toml_skip_space(p);

	for (i = 0; i + 1 < key.count; i++) {
		part = &key.parts[i];
		child = toml_table_find(table, part->text, part->len);
		if (child == NULL) {
			child = toml_node_new(p, TOML_TABLE, TOML_ORIGIN_DOTTED,
			    table->depth + 1, part->position);
			if (child == NULL) {
				error = p->error;
				goto out;
			}
			if ((error = toml_table_add(p, table, part, child)) != 0)
				goto out;
		} else if (child->value.type == TOML_TABLE &&
		    (child->origin == TOML_ORIGIN_DOTTED ||
		    child->origin == TOML_ORIGIN_PARENT)) {
			/* Now defined by dotted keys: no [header] may define it. */
			child->origin = TOML_ORIGIN_DOTTED;
		} else {
			error = toml_conflict(p, &key, i + 1, child,
			    "cannot extend", " with dotted keys");
			goto out;
		}
		table = child;
	}

	part = &key.parts[key.count - 1];
	if ((child = toml_table_find(table, part->text, part->len)) != NULL) {
		error = toml_conflict(p, &key, key.count, child, "duplicate key",
		    "");
		goto out;
	}
	if ((error = toml_parse_value(p, table->depth + 1, &value)) != 0)
		goto out;
	error = toml_table_add(p, table, part, value);
out:
	toml_key_free(&key);
	return error;
}

/* [a.b.c] or [[a.b.c]]; the cursor is on the first '['. */
static int
toml_parse_header(struct toml_parser *p)
{
	struct toml_position position = toml_here(p);
	struct toml_key key = { NULL, 0, 0 };
	struct toml_node *table = p->root, *child, *element;
	struct toml_key_part *part;
	bool array;
	size_t i;
	int error;

	p->at++;
	array = toml_peek(p, 0) == '[';
	if (array)
		p->at++;
	if ((error = toml_parse_key(p, &key)) != 0)
		goto out;
	if (toml_peek(p, 0) != ']' || (array && toml_peek(p, 1) != ']')) {
		/* Point past a lone ']' of "[[a] ]" at what should be the second. */
		if (array && toml_peek(p, 0) == ']')
			p->at++;
		error = toml_unexpected(p, array ? "']]' closing a [[header]]" :
		    "']' closing a [header]");
		goto out;
	}
	p->at += array ? 2 : 1;

	/* Walk the parents, creating those never mentioned before. */
	for (i = 0; i + 1 < key.count; i++) {
		part = &key.parts[i];
		child = toml_table_find(table, part->text, part->len);
		if (child == NULL) {
			child = toml_node_new(p, TOML_TABLE, TOML_ORIGIN_PARENT,
			    table->depth + 1, part->position);
			if (child == NULL) {
				error = p->error;
				goto out;
			}
			if ((error = toml_table_add(p, table, part, child)) != 0)
				goto out;
		} else if (child->origin == TOML_ORIGIN_TABLE_ARRAY) {
			/* [a.b] after [[a]] means b in the latest a. */
			child = (struct toml_node *)child->value.u.array.items[
			    child->value.u.array.count - 1];
		} else if (child->value.type != TOML_TABLE ||
		    child->origin == TOML_ORIGIN_INLINE) {
			error = toml_conflict(p, &key, i + 1, child,
			    "cannot extend", " with a [header]");
			goto out;
		}
		table = child;
	}

	part = &key.parts[key.count - 1];
	child = toml_table_find(table, part->text, part->len);
	if (!array) {
		if (child == NULL) {
			child = toml_node_new(p, TOML_TABLE, TOML_ORIGIN_HEADER,
			    table->depth + 1, position);
			if (child == NULL) {
				error = p->error;
				goto out;
			}
			if ((error = toml_table_add(p, table, part, child)) != 0)
				goto out;
		} else if (child->value.type == TOML_TABLE &&
		    child->origin == TOML_ORIGIN_PARENT) {
			child->origin = TOML_ORIGIN_HEADER;
			child->value.line = position.line;
			child->value.column = position.column;
		} else {
			error = toml_conflict(p, &key, key.count, child,
			    "cannot define table", "");
			goto out;
		}
		p->current = child;
	} else {
		if (child == NULL) {
			child = toml_node_new(p, TOML_ARRAY,
			    TOML_ORIGIN_TABLE_ARRAY, table->depth + 1, position);
			if (child == NULL) {
				error = p->error;
				goto out;
			}
			if ((error = toml_table_add(p, table, part, child)) != 0)
				goto out;
		} else if (child->origin != TOML_ORIGIN_TABLE_ARRAY) {
			error = toml_conflict(p, &key, key.count, child,
			    "cannot append to", " with [[header]]");
			goto out;
		}
		element = toml_node_new(p, TOML_TABLE, TOML_ORIGIN_HEADER,
		    child->depth + 1, position);
		if (element == NULL) {
			error = p->error;
			goto out;
		}
		if ((error = toml_array_add(p, child, element)) != 0)
			goto out;
		p->current = element;
	}
	error = toml_end_of_line(p, array ? "a [[header]]" : "a [header]");
out:
	toml_key_free(&key);
	return error;
}

static int
toml_parse_document(struct toml_parser *p)
{
	int c, error;

	/* Editors on some systems begin UTF-8 files with a byte order mark. */
	if (p->len >= 3 && memcmp(p->text, "\xef\xbb\xbf", 3) == 0) {
		p->at = 3;
		p->line_start = 3;
	}
	if ((error = toml_check_utf8(p)) != 0)
		return error;
	for (;;) {
		toml_skip_space(p);
		c = toml_peek(p, 0);
		if (c == -1)
			return 0;
		if (c == '#') {
			if ((error = toml_skip_comment(p)) != 0)
				return error;
		} else if (toml_newline(p)) {
			continue;
		} else if (c == '[') {
			if ((error = toml_parse_header(p)) != 0)
				return error;
		} else if (toml_is_bare_key_char(c) || c == '"' || c == '\'') {
			if ((error = toml_parse_keyval(p, p->current)) != 0 ||
			    (error = toml_end_of_line(p, "a value")) != 0)
				return error;
		} else if (toml_is_control(c)) {
			return toml_control_error(p, "the document");
		} else {
			return toml_unexpected(p, "a key, a [header] or the end of the line");
		}
	}
}

struct toml_value *
toml_parse(const char *text, size_t len, char **cause)
{
	struct toml_parser p;
	struct toml_position start = { 1, 1 };
	int error;

	if (cause != NULL)
		*cause = NULL;
	memset(&p, 0, sizeof p);
	p.text = text != NULL ? text : "";
	p.len = len;
	p.line = 1;
	p.column_line_start = (size_t)-1;

	if (text == NULL && len > 0) {
		error = toml_fail(&p, start, "no text for a document of %zu bytes",
		    len);
		goto out;
	}
	if (p.len > TOML_MAX_DOCUMENT) {
		error = toml_fail(&p, start, "document larger than %u bytes",
		    TOML_MAX_DOCUMENT);
		goto out;
	}
	if ((p.root = toml_node_new(&p, TOML_TABLE, TOML_ORIGIN_HEADER, 0,
	    start)) == NULL) {
		error = p.error;
		goto out;
	}
	p.current = p.root;
	error = toml_parse_document(&p);
out:
	if (error != 0) {
		toml_node_free(p.root);
		p.root = NULL;
		if (cause != NULL)
			*cause = p.cause != NULL ? p.cause :
			    strdup(error == -ENOMEM ? "out of memory" : "invalid TOML");
		else
			free(p.cause);
		errno = -error;
		return NULL;
	}
	return &p.root->value;
}

const struct toml_value *
toml_get(const struct toml_value *table, const char *key)
{
	const struct toml_node *node;

	if (table == NULL || key == NULL || table->type != TOML_TABLE)
		return NULL;
	node = toml_table_find((const struct toml_node *)table, key, strlen(key));
	return node != NULL ? &node->value : NULL;
}

int
toml_cause_at(char **cause, const struct toml_value *at, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	int n;

	if (cause == NULL)
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(cause, "line %u, column %u: %s", at->line, at->column,
	    message) < 0)
		*cause = NULL;
	free(message);
	return -EINVAL;
}
