/*
 * toml.h - Temper's strict TOML reader.
 *
 * Pure: text in, a tree out, no I/O.  All of TOML 1.0 is read (toml-test's
 * 1.0 suite passes whole, see t/14-toml-test.sh); anything else is rejected
 * with a reason, never misread.  Errors name line and column.
 *
 * What the tree keeps of the text: strings as UTF-8 with escapes resolved
 * and CRLF in multi-line strings read as LF; dates and times as written;
 * tables' keys in document order.  A leading UTF-8 byte order mark is
 * skipped.  Nesting deeper than 100 levels is refused (the reader recurses).
 */
#ifndef TEMPER_TOML_H
#define TEMPER_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOLEAN,
	TOML_DATETIME,		/* kept as its text; see toml_datetime_kind */
};

enum toml_datetime_kind {
	TOML_DATETIME_OFFSET,	/* 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL,	/* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,	/* 1979-05-27 */
	TOML_TIME_LOCAL,	/* 07:32:00 */
};

struct toml_value;

struct toml_pair {
	char *key;
	size_t key_len;
	struct toml_value *value;
};

struct toml_value {
	enum toml_type type;
	unsigned line;			/* 1-based position of the value; */
	unsigned column;		/* columns count characters, a tab as 1 */
	union {
		struct {
			char *text;	/* NUL-terminated; may hold NUL bytes */
			size_t len;
		} string;		/* TOML_STRING and TOML_DATETIME */
		int64_t integer;
		double floating;
		bool boolean;
		struct {
			struct toml_pair *pairs;	/* in document order */
			size_t count;
		} table;
		struct {
			struct toml_value **items;
			size_t count;
		} array;
	} u;
	enum toml_datetime_kind datetime_kind;	/* TOML_DATETIME only */
};

/*
 * Parse a whole document of len bytes (NUL bytes in it are characters, and
 * refused as such).  Returns the root table, or NULL with errno EINVAL and
 * *cause (when cause is not NULL) a malloc'd "line L, column C: reason", or
 * errno ENOMEM and "out of memory".  *cause is NULL on success.
 */
struct toml_value *toml_parse(const char *text, size_t len, char **cause);
void toml_free(struct toml_value *value);

/*
 * The value under key in a table, or NULL (also when table is not a table).
 * Keys holding a NUL byte can be reached only through u.table.pairs.
 */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);

const char *toml_type_name(enum toml_type type);

/*
 * For readers of a parsed document: set *cause (when not NULL) to
 * "line L, column C: " and the formatted reason, at value at.  Returns
 * -EINVAL, for `return toml_cause_at(...)`.
 */
__attribute__((format(printf, 3, 4)))
int toml_cause_at(char **cause, const struct toml_value *at, const char *fmt, ...);

#endif
