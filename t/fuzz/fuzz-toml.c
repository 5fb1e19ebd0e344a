/*
 * t/fuzz/fuzz-toml.c - libFuzzer target for the TOML reader.
 *
 * Beyond "no crash, no leak, no undefined behaviour", three oracles catch a
 * reader that misreads instead of refusing:
 *  - a refusal always carries a "line L, column C: " cause and EINVAL;
 *  - every date or time accepted matches an independent template reading;
 *  - an accepted document, written back as TOML (every table inline, every
 *    key quoted, every string escaped) and read again, gives the same tree.
 * Any violation aborts, which libFuzzer reports as a crash with its input.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_toml_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-toml: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

static void
fuzz_toml_write_string(struct buf *out, const char *text, size_t len)
{
	size_t i;

	buf_puts(out, "\"");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\u%04X", c);
		else
			buf_append(out, &text[i], 1);
	}
	buf_puts(out, "\"");
}

static void
fuzz_toml_write_value(struct buf *out, const struct toml_value *value)
{
	char number[64];
	size_t i;

	switch (value->type) {
	case TOML_TABLE:
		buf_puts(out, "{");
		for (i = 0; i < value->u.table.count; i++) {
			buf_puts(out, i ? ", " : " ");
			fuzz_toml_write_string(out, value->u.table.pairs[i].key,
			    value->u.table.pairs[i].key_len);
			buf_puts(out, " = ");
			fuzz_toml_write_value(out, value->u.table.pairs[i].value);
		}
		buf_puts(out, " }");
		break;
	case TOML_ARRAY:
		buf_puts(out, "[");
		for (i = 0; i < value->u.array.count; i++) {
			buf_puts(out, i ? ", " : "");
			fuzz_toml_write_value(out, value->u.array.items[i]);
		}
		buf_puts(out, "]");
		break;
	case TOML_STRING:
		fuzz_toml_write_string(out, value->u.string.text, value->u.string.len);
		break;
	case TOML_DATETIME:
		buf_append(out, value->u.string.text, value->u.string.len);
		break;
	case TOML_INTEGER:
		buf_printf(out, "%lld", (long long)value->u.integer);
		break;
	case TOML_FLOAT:
		if (isnan(value->u.floating)) {
			buf_puts(out, "nan");
		} else if (isinf(value->u.floating)) {
			buf_puts(out, value->u.floating < 0 ? "-inf" : "inf");
		} else {
			snprintf(number, sizeof number, "%.17g", value->u.floating);
			buf_puts(out, number);
			/* "5" would read back as an integer. */
			if (strpbrk(number, ".e") == NULL)
				buf_puts(out, ".0");
		}
		break;
	case TOML_BOOLEAN:
		buf_puts(out, value->u.boolean ? "true" : "false");
		break;
	}
}

static int
fuzz_toml_same(const struct toml_value *a, const struct toml_value *b)
{
	size_t i;

	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case TOML_TABLE:
		if (a->u.table.count != b->u.table.count)
			return 0;
		for (i = 0; i < a->u.table.count; i++) {
			const struct toml_pair *x = &a->u.table.pairs[i];
			const struct toml_pair *y = &b->u.table.pairs[i];

			if (x->key_len != y->key_len ||
			    memcmp(x->key, y->key, x->key_len) != 0 ||
			    !fuzz_toml_same(x->value, y->value))
				return 0;
		}
		return 1;
	case TOML_ARRAY:
		if (a->u.array.count != b->u.array.count)
			return 0;
		for (i = 0; i < a->u.array.count; i++) {
			if (!fuzz_toml_same(a->u.array.items[i], b->u.array.items[i]))
				return 0;
		}
		return 1;
	case TOML_DATETIME:
		if (a->datetime_kind != b->datetime_kind)
			return 0;
		/* fall through */
	case TOML_STRING:
		return a->u.string.len == b->u.string.len &&
		    memcmp(a->u.string.text, b->u.string.text, a->u.string.len) == 0;
	case TOML_INTEGER:
		return a->u.integer == b->u.integer;
	case TOML_FLOAT:
		if (isnan(a->u.floating))
			return isnan(b->u.floating);
		return memcmp(&a->u.floating, &b->u.floating, sizeof(double)) == 0;
	case TOML_BOOLEAN:
		return a->u.boolean == b->u.boolean;
	}
	return 0;
}

/* Match template at s[*at]: 'D' stands for a digit, anything else for itself. */
static int
fuzz_toml_match(const char *s, size_t len, size_t *at, const char *template)
{
	size_t i, n = strlen(template);

	if (len - *at < n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[*at + i];

		if (template[i] == 'D' ? (c < '0' || c > '9') : c != template[i])
			return 0;
	}
	*at += n;
	return 1;
}

static int
fuzz_toml_number(const char *s, size_t at, size_t digits)
{
	int value = 0;

	while (digits-- > 0)
		value = value * 10 + (s[at++] - '0');
	return value;
}

/*
 * A second, independent reading of TOML's dates and times (templates
 * rather than the reader's scanner), so that text the reader keeps
 * verbatim cannot be accepted wrongly without this disagreeing.
 */
static int
fuzz_toml_datetime_ok(const char *s, size_t len, enum toml_datetime_kind kind)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t at = 0, start;
	int year, month, day;

	if (kind != TOML_TIME_LOCAL) {
		if (!fuzz_toml_match(s, len, &at, "DDDD-DD-DD"))
			return 0;
		year = fuzz_toml_number(s, 0, 4);
		month = fuzz_toml_number(s, 5, 2);
		day = fuzz_toml_number(s, 8, 2);
		if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
			return 0;
		if (month == 2 && day == 29 &&
		    !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
			return 0;
		if (kind == TOML_DATE_LOCAL)
			return at == len;
		if (at == len || (s[at] != 'T' && s[at] != 't' && s[at] != ' '))
			return 0;
		at++;
	}
	start = at;
	if (!fuzz_toml_match(s, len, &at, "DD:DD:DD") ||
	    fuzz_toml_number(s, start, 2) > 23 ||
	    fuzz_toml_number(s, start + 3, 2) > 59 ||
	    fuzz_toml_number(s, start + 6, 2) > 60)
		return 0;
	if (at < len && s[at] == '.') {
		at++;
		if (!fuzz_toml_match(s, len, &at, "D"))
			return 0;
		while (fuzz_toml_match(s, len, &at, "D"))
			;
	}
	if (kind != TOML_DATETIME_OFFSET)
		return at == len;
	if (fuzz_toml_match(s, len, &at, "Z") || fuzz_toml_match(s, len, &at, "z"))
		return at == len;
	start = at;
	if (!fuzz_toml_match(s, len, &at, "+DD:DD") &&
	    !fuzz_toml_match(s, len, &at, "-DD:DD"))
		return 0;
	return at == len && fuzz_toml_number(s, start + 1, 2) <= 23 &&
	    fuzz_toml_number(s, start + 4, 2) <= 59;
}

/* What every tree must satisfy, whatever the input. */
static void
fuzz_toml_check_tree(const struct toml_value *value)
{
	size_t i, k;

	if (value->line == 0 || value->column == 0)
		fuzz_toml_fail("a value without a position", NULL);
	switch (value->type) {
	case TOML_TABLE:
		for (i = 0; i < value->u.table.count; i++) {
			const struct toml_pair *pair = &value->u.table.pairs[i];

			if (pair->key[pair->key_len] != '\0')
				fuzz_toml_fail("a key not NUL-terminated", NULL);
			for (k = 0; k < i; k++) {
				const struct toml_pair *other = &value->u.table.pairs[k];

				if (other->key_len == pair->key_len &&
				    memcmp(other->key, pair->key, pair->key_len) == 0)
					fuzz_toml_fail("a table with a duplicate key",
					    pair->key);
			}
			if (strlen(pair->key) == pair->key_len &&
			    toml_get(value, pair->key) != pair->value)
				fuzz_toml_fail("toml_get misses a key", pair->key);
			fuzz_toml_check_tree(pair->value);
		}
		break;
	case TOML_ARRAY:
		for (i = 0; i < value->u.array.count; i++)
			fuzz_toml_check_tree(value->u.array.items[i]);
		break;
	case TOML_DATETIME:
		if (!fuzz_toml_datetime_ok(value->u.string.text, value->u.string.len,
		    value->datetime_kind))
			fuzz_toml_fail("a malformed date or time accepted",
			    value->u.string.text);
		/* fall through */
	case TOML_STRING:
		if (value->u.string.text[value->u.string.len] != '\0')
			fuzz_toml_fail("a string not NUL-terminated", NULL);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root, *again = NULL;
	struct buf text = BUF_INIT;
	char *cause = NULL, *cause_again = NULL;
	size_t i;

	errno = 0;
	root = toml_parse((const char *)data, size, &cause);
	if (root == NULL) {
		if (errno == ENOMEM)
			goto out;
		if (errno != EINVAL || cause == NULL ||
		    strncmp(cause, "line ", 5) != 0 || strstr(cause, ", column ") == NULL)
			fuzz_toml_fail("a refusal without a position", cause);
		goto out;
	}
	if (cause != NULL)
		fuzz_toml_fail("a cause on success", cause);
	fuzz_toml_check_tree(root);

	/* Write the root's pairs as top-level lines, then read them back. */
	for (i = 0; i < root->u.table.count; i++) {
		fuzz_toml_write_string(&text, root->u.table.pairs[i].key,
		    root->u.table.pairs[i].key_len);
		buf_puts(&text, " = ");
		fuzz_toml_write_value(&text, root->u.table.pairs[i].value);
		buf_puts(&text, "\n");
	}
	again = toml_parse(text.data ? text.data : "", text.len, &cause_again);
	if (again == NULL)
		fuzz_toml_fail("the written-back document is refused", cause_again);
	if (!fuzz_toml_same(root, again))
		fuzz_toml_fail("the written-back document reads differently", text.data);

out:
	toml_free(root);
	toml_free(again);
	free(cause);
	free(cause_again);
	buf_free(&text);
	return 0;
}
