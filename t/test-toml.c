/* t/test-toml.c - the strict TOML reader: every construct, every refusal. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"
#include "tap.h"

/* Parse a document that must be valid; a failure is reported with its cause. */
static struct toml_value *
parse_ok(const char *text, const char *what)
{
	struct toml_value *root;
	char *cause = NULL;

	root = toml_parse(text, strlen(text), &cause);
	if (!ok(root != NULL && cause == NULL, "%s parses", what))
		diag("  cause: %s", cause ? cause : "(none)");
	free(cause);
	return root;
}

/* The document must be refused with exactly this cause and errno EINVAL. */
static void
rejects(const char *text, size_t len, const char *expected, const char *what)
{
	struct toml_value *root;
	char *cause = NULL;

	errno = 0;
	root = toml_parse(text, len, &cause);
	ok(root == NULL && errno == EINVAL, "%s is rejected", what);
	is_str(cause, expected, "  because %s", expected);
	toml_free(root);
	free(cause);
}

#define REJECTS(text, expected, what) \
	rejects((text), sizeof(text) - 1, (expected), (what))

/* Follow a dotted path of plain keys ("a.b.c") through nested tables. */
static const struct toml_value *
path(const struct toml_value *table, const char *dotted)
{
	char key[128];
	const char *dot;
	size_t len;

	while (table != NULL && (dot = strchr(dotted, '.')) != NULL) {
		len = (size_t)(dot - dotted);
		if (len >= sizeof key)
			return NULL;
		memcpy(key, dotted, len);
		key[len] = '\0';
		table = toml_get(table, key);
		dotted = dot + 1;
	}
	return toml_get(table, dotted);
}

static const char *
string_at(const struct toml_value *root, const char *dotted)
{
	const struct toml_value *v = path(root, dotted);

	return v != NULL && v->type == TOML_STRING ? v->u.string.text : NULL;
}

static long long
integer_at(const struct toml_value *root, const char *dotted)
{
	const struct toml_value *v = path(root, dotted);

	return v != NULL && v->type == TOML_INTEGER ? (long long)v->u.integer :
	    -424242;
}

static void
test_scalars(void)
{
	struct toml_value *root;
	const struct toml_value *v;

	root = parse_ok(
	    "# scalars of every kind\n"
	    "int = 42\n"
	    "negative = -17\n"
	    "plus = +99\n"
	    "zero = 0\n"
	    "minus-zero = -0\n"
	    "under = 1_000_000\n"
	    "max = 9223372036854775807\n"
	    "min = -9223372036854775808\n"
	    "hex = 0xDEAD_beef\n"
	    "oct = 0o755\n"
	    "bin = 0b1101_0110\n"
	    "hexmax = 0x7fffffffffffffff\n"
	    "float = 3.1415\n"
	    "exp = 5e+22\n"
	    "exp2 = -2E-2\n"
	    "exp3 = 1.3e-53\n"
	    "exp4 = 12.5e-3\n"
	    "both = 6.626e-34\n"
	    "ufloat = 224_617.445_991\n"
	    "negzero = -0.0\n"
	    "pinf = inf\n"
	    "ninf = -inf\n"
	    "nan = nan\n"
	    "yes = true\n"
	    "no = false\n",
	    "a document of integers, floats and booleans");
	is_int(integer_at(root, "int"), 42, "decimal integer");
	is_int(integer_at(root, "negative"), -17, "negative integer");
	is_int(integer_at(root, "plus"), 99, "explicit plus sign");
	is_int(integer_at(root, "zero"), 0, "zero");
	is_int(integer_at(root, "minus-zero"), 0, "minus zero is an integer zero");
	is_int(integer_at(root, "under"), 1000000, "underscores between digits");
	ok(integer_at(root, "max") == INT64_MAX, "INT64_MAX");
	ok(integer_at(root, "min") == INT64_MIN, "INT64_MIN");
	is_int(integer_at(root, "hex"), 0xdeadbeef, "hexadecimal, mixed case");
	is_int(integer_at(root, "oct"), 0755, "octal");
	is_int(integer_at(root, "bin"), 0xd6, "binary");
	ok(integer_at(root, "hexmax") == INT64_MAX, "hexadecimal INT64_MAX");
	v = toml_get(root, "float");
	ok(v && v->type == TOML_FLOAT && v->u.floating == 3.1415, "float");
	v = toml_get(root, "exp");
	ok(v && v->type == TOML_FLOAT && v->u.floating == 5e22, "exponent");
	v = toml_get(root, "exp2");
	ok(v && v->u.floating == -2e-2, "negative exponent, capital E");
	/* Found by fuzz-toml: a '-' fifth made these read as dates. */
	v = toml_get(root, "exp3");
	ok(v && v->type == TOML_FLOAT && v->u.floating == 1.3e-53,
	    "1.3e-53, a '-' at the fifth character");
	v = toml_get(root, "exp4");
	ok(v && v->type == TOML_FLOAT && v->u.floating == 12.5e-3, "12.5e-3");
	v = toml_get(root, "both");
	ok(v && v->u.floating == 6.626e-34, "fraction and exponent");
	v = toml_get(root, "ufloat");
	ok(v && v->u.floating == 224617.445991, "underscores in a float");
	v = toml_get(root, "negzero");
	ok(v && v->u.floating == 0.0 && signbit(v->u.floating), "-0.0 keeps its sign");
	v = toml_get(root, "pinf");
	ok(v && isinf(v->u.floating) && v->u.floating > 0, "inf");
	v = toml_get(root, "ninf");
	ok(v && isinf(v->u.floating) && v->u.floating < 0, "-inf");
	v = toml_get(root, "nan");
	ok(v && v->type == TOML_FLOAT && isnan(v->u.floating), "nan");
	v = toml_get(root, "yes");
	ok(v && v->type == TOML_BOOLEAN && v->u.boolean, "true");
	v = toml_get(root, "no");
	ok(v && v->type == TOML_BOOLEAN && !v->u.boolean, "false");
	toml_free(root);
}

static void
test_strings(void)
{
	struct toml_value *root;
	const struct toml_value *v;

	root = parse_ok(
	    "basic = \"tab\\there \\\"quoted\\\" back\\\\slash\"\n"
	    "escapes = \"\\b\\f\\n\\r\"\n"
	    "unicode = \"caf\\u00E9 \\U0001F600\"\n"
	    "nul = \"a\\u0000b\"\n"
	    "literal = 'C:\\Users\\nodejs'\n"
	    "utf8 = \"\xce\xbb x\"\n"
	    "empty = \"\"\n"
	    "ml = \"\"\"\nline one\nline two\"\"\"\n"
	    "trim = \"\"\"\\\n    The quick \\  \t\r\n\n    fox.\\\n    \"\"\"\n"
	    "quotes = \"\"\"two \"\" inside, one at the end\"\"\"\"\n"
	    "crlf = \"\"\"a\r\nb\"\"\"\n"
	    "mllit = '''\nraw \\n text\n'''\n"
	    "litquotes = '''it's'''''\n",
	    "a document of strings");
	is_str(string_at(root, "basic"), "tab\there \"quoted\" back\\slash",
	    "basic string escapes");
	is_str(string_at(root, "escapes"), "\b\f\n\r", "control escapes");
	is_str(string_at(root, "unicode"), "caf\xc3\xa9 \xf0\x9f\x98\x80",
	    "\\u and \\U escapes become UTF-8");
	v = toml_get(root, "nul");
	ok(v && v->u.string.len == 3 && memcmp(v->u.string.text, "a\0b", 4) == 0,
	    "\\u0000 is kept, with the length");
	is_str(string_at(root, "literal"), "C:\\Users\\nodejs",
	    "literal strings take backslashes as they are");
	is_str(string_at(root, "utf8"), "\xce\xbb x", "UTF-8 passes through");
	v = toml_get(root, "empty");
	ok(v && v->type == TOML_STRING && v->u.string.len == 0 &&
	    v->u.string.text[0] == '\0', "empty string");
	is_str(string_at(root, "ml"), "line one\nline two",
	    "multi-line: the first newline is dropped");
	is_str(string_at(root, "trim"), "The quick fox.",
	    "multi-line: a line-ending backslash trims whitespace");
	is_str(string_at(root, "quotes"), "two \"\" inside, one at the end\"",
	    "multi-line: quotes inside and before the closing delimiter");
	is_str(string_at(root, "crlf"), "a\nb", "multi-line: CRLF reads as LF");
	is_str(string_at(root, "mllit"), "raw \\n text\n", "multi-line literal");
	is_str(string_at(root, "litquotes"), "it's''",
	    "multi-line literal ending in two quotes");
	toml_free(root);
}

static void
test_datetimes(void)
{
	static const struct {
		const char *key;
		const char *text;
		enum toml_datetime_kind kind;
	} cases[] = {
		{ "odt", "1979-05-27T07:32:00Z", TOML_DATETIME_OFFSET },
		{ "odt2", "1979-05-27T00:32:00.999999-07:00", TOML_DATETIME_OFFSET },
		{ "odt3", "1979-05-27 07:32:00+01:30", TOML_DATETIME_OFFSET },
		{ "ldt", "1979-05-27T07:32:00", TOML_DATETIME_LOCAL },
		{ "ld", "2024-02-29", TOML_DATE_LOCAL },
		{ "lt", "00:32:00.5", TOML_TIME_LOCAL },
	};
	struct toml_value *root;
	const struct toml_value *v;
	size_t i;

	root = parse_ok(
	    "odt = 1979-05-27T07:32:00Z\n"
	    "odt2 = 1979-05-27T00:32:00.999999-07:00\n"
	    "odt3 = 1979-05-27 07:32:00+01:30\n"
	    "ldt = 1979-05-27T07:32:00\n"
	    "ld = 2024-02-29\n"
	    "lt = 00:32:00.5\n",
	    "a document of dates and times");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = toml_get(root, cases[i].key);
		ok(v != NULL && v->type == TOML_DATETIME &&
		    v->datetime_kind == cases[i].kind,
		    "%s is a datetime of kind %d", cases[i].key, cases[i].kind);
		is_str(v ? v->u.string.text : NULL, cases[i].text,
		    "  kept as written");
	}
	toml_free(root);
}

static void
test_tables(void)
{
	struct toml_value *root;
	const struct toml_value *v;

	root = parse_ok(
	    "title = \"root\"\n"
	    "site.\"google.com\" = true\n"
	    "fruit . color = 'red'\n"
	    "\n"
	    "[server]\n"
	    "port = 8080\n"
	    "\n"
	    "[server.tls]   # a sub-table\n"
	    "cert = \"/etc/c.pem\"\n"
	    "\n"
	    "[a.b.c]\n"
	    "deep = 1\n"
	    "[a]\n"
	    "shallow = 2\n"
	    "[ 'quoted key' . \"x\" ]\n"
	    "y = 3\n"
	    "[dog.\"tater.man\"]\n"
	    "type.name = \"pug\"\n",
	    "a document of tables and dotted keys");
	is_str(string_at(root, "title"), "root", "key before any header");
	v = path(root, "site");
	ok(v && v->type == TOML_TABLE && v->u.table.count == 1,
	    "a dotted key creates a table");
	v = v ? toml_get(v, "google.com") : NULL;
	ok(v && v->type == TOML_BOOLEAN, "a quoted key part keeps its dot");
	is_str(string_at(root, "fruit.color"), "red", "whitespace around the dot");
	is_int(integer_at(root, "server.port"), 8080, "[server]");
	is_str(string_at(root, "server.tls.cert"), "/etc/c.pem", "[server.tls]");
	is_int(integer_at(root, "a.b.c.deep"), 1, "[a.b.c] creates its parents");
	is_int(integer_at(root, "a.shallow"), 2, "[a] may follow [a.b.c]");
	v = toml_get(root, "quoted key");
	ok(v && toml_get(v, "x") && integer_at(toml_get(v, "x"), "y") == 3,
	    "quoted parts in a header, with whitespace");
	v = toml_get(root, "dog");
	v = v ? toml_get(v, "tater.man") : NULL;
	is_str(v ? string_at(v, "type.name") : NULL, "pug",
	    "a dotted key inside a table with a quoted name");
	/* Keys stay in document order. */
	ok(root && root->u.table.count == 7 &&
	    strcmp(root->u.table.pairs[0].key, "title") == 0 &&
	    strcmp(root->u.table.pairs[6].key, "dog") == 0,
	    "keys in document order");
	toml_free(root);

	/* A dotted key may pass through a parent no header defined yet. */
	root = parse_ok("[a.b.c]\nz = 1\n[a]\nb.y = 2\n[a.b.d]\nw = 3\n",
	    "dotted keys through an implicit parent");
	is_int(integer_at(root, "a.b.y"), 2, "  the dotted key lands in a.b");
	is_int(integer_at(root, "a.b.d.w"), 3, "  sub-tables still open under it");
	toml_free(root);

	/* Sub-tables of tables made by dotted keys are allowed (TOML 1.0). */
	root = parse_ok("[fruit]\napple.color = 'red'\napple.taste.sweet = true\n"
	    "[fruit.apple.texture]\nsmooth = true\n",
	    "a [header] under a table made by dotted keys");
	v = path(root, "fruit.apple.texture.smooth");
	ok(v && v->type == TOML_BOOLEAN && v->u.boolean, "  fruit.apple.texture");
	toml_free(root);
}

static void
test_arrays(void)
{
	struct toml_value *root;
	const struct toml_value *v, *item;

	root = parse_ok(
	    "ints = [1, 2, 3]\n"
	    "empty = []\n"
	    "nested = [[1, 2], ['a'], []]\n"
	    "mixed = [1, 'two', 3.0, {four = 4}]\n"
	    "lines = [  # comment\n"
	    "  1,\n"
	    "\n"
	    "  # another\n"
	    "  2,   # trailing comma next\n"
	    "]\n",
	    "a document of arrays");
	v = toml_get(root, "ints");
	ok(v && v->type == TOML_ARRAY && v->u.array.count == 3 &&
	    v->u.array.items[2]->u.integer == 3, "array of integers");
	v = toml_get(root, "empty");
	ok(v && v->type == TOML_ARRAY && v->u.array.count == 0, "empty array");
	v = toml_get(root, "nested");
	ok(v && v->u.array.count == 3 && v->u.array.items[0]->type == TOML_ARRAY &&
	    v->u.array.items[0]->u.array.count == 2 &&
	    v->u.array.items[2]->u.array.count == 0, "nested arrays");
	v = toml_get(root, "mixed");
	item = v && v->u.array.count == 4 ? v->u.array.items[3] : NULL;
	ok(item && item->type == TOML_TABLE && integer_at(item, "four") == 4,
	    "mixed types, an inline table inside (TOML 1.0)");
	v = toml_get(root, "lines");
	ok(v && v->u.array.count == 2 && v->u.array.items[1]->u.integer == 2,
	    "newlines, comments and a trailing comma");
	toml_free(root);
}

static void
test_inline_tables(void)
{
	struct toml_value *root;
	const struct toml_value *v;

	root = parse_ok(
	    "name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
	    "point = {x=1,y=2}\n"
	    "empty = {}\n"
	    "animal = { type.name = \"pug\", type.size = 'small' }\n"
	    "nest = { a = { b = [ { c = 1 } ] } }\n",
	    "a document of inline tables");
	is_str(string_at(root, "name.last"), "Preston-Werner", "inline table");
	is_int(integer_at(root, "point.y"), 2, "no spaces");
	v = toml_get(root, "empty");
	ok(v && v->type == TOML_TABLE && v->u.table.count == 0, "empty inline table");
	is_str(string_at(root, "animal.type.size"), "small",
	    "dotted keys inside an inline table");
	v = path(root, "nest.a.b");
	ok(v && v->type == TOML_ARRAY && v->u.array.count == 1 &&
	    integer_at(v->u.array.items[0], "c") == 1, "nested inline values");
	toml_free(root);
}

static void
test_arrays_of_tables(void)
{
	struct toml_value *root;
	const struct toml_value *v, *first, *second;

	root = parse_ok(
	    "[[products]]\n"
	    "name = \"Hammer\"\n"
	    "[products.dimensions]\n"
	    "depth = 2\n"
	    "[[products.parts]]\n"
	    "id = 1\n"
	    "[[products.parts]]\n"
	    "id = 2\n"
	    "\n"
	    "[[products]]  # empty element\n"
	    "\n"
	    "[[products]]\n"
	    "name = \"Nail\"\n",
	    "a document with arrays of tables");
	v = toml_get(root, "products");
	ok(v && v->type == TOML_ARRAY && v->u.array.count == 3,
	    "three [[products]] make three elements");
	first = v && v->u.array.count == 3 ? v->u.array.items[0] : NULL;
	second = v && v->u.array.count == 3 ? v->u.array.items[1] : NULL;
	is_str(first ? string_at(first, "name") : NULL, "Hammer", "first element");
	is_int(first ? integer_at(first, "dimensions.depth") : 0, 2,
	    "[products.dimensions] lands in the latest element");
	v = first ? toml_get(first, "parts") : NULL;
	ok(v && v->u.array.count == 2 && integer_at(v->u.array.items[1], "id") == 2,
	    "nested array of tables");
	ok(second && second->type == TOML_TABLE && second->u.table.count == 0,
	    "an element may be empty");
	toml_free(root);
}

static void
test_document_forms(void)
{
	struct toml_value *root;

	root = parse_ok("", "an empty document");
	ok(root && root->type == TOML_TABLE && root->u.table.count == 0,
	    "  is an empty table");
	toml_free(root);
	root = parse_ok("# only a comment", "a comment without a final newline");
	toml_free(root);
	root = parse_ok("a = 1\r\n[t]\r\nb = 2 # c\r\n", "CRLF line endings");
	is_int(integer_at(root, "t.b"), 2, "  read through");
	toml_free(root);
	root = parse_ok("\xef\xbb\xbf" "a = 1\n", "a leading byte order mark");
	is_int(integer_at(root, "a"), 1, "  is skipped");
	toml_free(root);
	root = parse_ok("\t a\t=\t1\t\n", "tabs as whitespace");
	toml_free(root);
}

static void
test_positions(void)
{
	struct toml_value *root;
	const struct toml_value *v;

	root = parse_ok("a = 1\n[t]\n  \"\xce\xbb\xce\xbb\" = 'x'\n  arr = [\n    true ]\n",
	    "a document to locate values in");
	v = toml_get(root, "a");
	ok(v && v->line == 1 && v->column == 5, "value position is line 1, column 5");
	v = toml_get(root, "t");
	ok(v && v->line == 2 && v->column == 1, "a table sits at its header");
	v = path(root, "t.\xce\xbb\xce\xbb");
	ok(v && v->line == 3 && v->column == 10,
	    "columns count characters, not bytes");
	v = path(root, "t.arr");
	v = v && v->u.array.count == 1 ? v->u.array.items[0] : NULL;
	ok(v && v->line == 5 && v->column == 5, "an item on a later line");
	toml_free(root);
}

static void
test_api(void)
{
	struct toml_value *root;
	char *cause = (char *)"untouched";

	toml_free(NULL);
	ok(1, "toml_free(NULL) is harmless");
	ok(toml_get(NULL, "a") == NULL, "toml_get on NULL");
	root = toml_parse("a = 1\n", 6, NULL);
	ok(root != NULL, "cause may be NULL");
	ok(toml_get(root, "b") == NULL, "toml_get of a missing key");
	ok(toml_get(toml_get(root, "a"), "x") == NULL, "toml_get on a non-table");
	toml_free(root);
	errno = 0;
	ok(toml_parse("a =", 3, NULL) == NULL && errno == EINVAL,
	    "a failure without a cause pointer still sets errno");
	errno = 0;
	root = toml_parse(NULL, 0, NULL);
	ok(root != NULL && root->u.table.count == 0,
	    "no text and no length is an empty document");
	toml_free(root);
	ok(toml_parse(NULL, 3, NULL) == NULL && errno == EINVAL,
	    "no text for a length is refused");
	root = toml_parse("x = 1", 5, &cause);
	ok(root != NULL && cause == NULL, "cause is NULL on success");
	toml_free(root);
	/* The length is the document: a NUL inside it is a character. */
	REJECTS("a = 1\0b = 2", "line 1, column 6: expected the end of the line "
	    "after a value, found U+0000", "a NUL byte within the length");
	root = toml_parse("a = 1\nb = 2", 5, NULL);
	ok(root && toml_get(root, "b") == NULL, "bytes past len are not read");
	toml_free(root);
	is_str(toml_type_name(TOML_TABLE), "table", "type name: table");
	is_str(toml_type_name(TOML_DATETIME), "datetime", "type name: datetime");
}

static void
test_duplicates(void)
{
	REJECTS("a = 1\na = 2\n",
	    "line 2, column 1: duplicate key 'a': it holds an integer (line 1, column 5)",
	    "a duplicate key");
	REJECTS("a = 1\n\"a\" = 2\n",
	    "line 2, column 1: duplicate key 'a': it holds an integer (line 1, column 5)",
	    "a duplicate key, quoted the second time");
	REJECTS("[t]\nx.y = 1\nx.y = 2\n",
	    "line 3, column 3: duplicate key 'x.y': it holds an integer (line 2, column 7)",
	    "a duplicate dotted key");
	REJECTS("[a]\n[a]\n",
	    "line 2, column 2: cannot define table 'a': it is a table with its own "
	    "[header] (line 1, column 1)",
	    "a table defined twice");
	REJECTS("[a]\nb = 1\n[a.b]\n",
	    "line 3, column 4: cannot define table 'a.b': it holds an integer "
	    "(line 2, column 5)",
	    "a header over a value");
	REJECTS("[a.b]\n[a]\n[a]\n",
	    "line 3, column 2: cannot define table 'a': it is a table with its own "
	    "[header] (line 2, column 1)",
	    "an implicit table defined twice");
	REJECTS("t = { a = 1, a = 2 }\n",
	    "line 1, column 14: duplicate key 'a': it holds an integer (line 1, column 11)",
	    "a duplicate key in an inline table");
	REJECTS("[\"a b\"]\n['a b']\n",
	    "line 2, column 2: cannot define table '\"a b\"': it is a table with its own "
	    "[header] (line 1, column 1)",
	    "the same quoted header twice");
}

static void
test_dotted_rules(void)
{
	REJECTS("a.b = 1\n[a.b]\n",
	    "line 2, column 4: cannot define table 'a.b': it holds an integer (line 1, column 7)",
	    "a header over a dotted value");
	REJECTS("a.b.c = 1\n[a.b]\n",
	    "line 2, column 4: cannot define table 'a.b': it is a table made by dotted "
	    "keys (line 1, column 3)",
	    "a header over a table made by dotted keys");
	REJECTS("a.b.c = 1\n[a]\n",
	    "line 2, column 2: cannot define table 'a': it is a table made by dotted "
	    "keys (line 1, column 1)",
	    "a header over the root of a dotted key");
	REJECTS("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
	    "line 4, column 3: cannot extend 'b.c' with dotted keys: it is a table with "
	    "its own [header] (line 1, column 1)",
	    "dotted keys into a table with its own header");
	REJECTS("a = 1\na.b = 2\n",
	    "line 2, column 1: cannot extend 'a' with dotted keys: it holds an integer "
	    "(line 1, column 5)",
	    "dotted keys through a value");
	REJECTS("[[a.b]]\n[a]\nb.y = 2\n",
	    "line 3, column 1: cannot extend 'b' with dotted keys: it is an array of "
	    "tables (line 1, column 1)",
	    "dotted keys into an array of tables");
	REJECTS("a = { b = 1 }\na.c = 2\n",
	    "line 2, column 1: cannot extend 'a' with dotted keys: it is an inline table "
	    "(line 1, column 5)",
	    "dotted keys into an inline table");
	REJECTS("a = {}\n[a.b]\n",
	    "line 2, column 2: cannot extend 'a' with a [header]: it is an inline table "
	    "(line 1, column 5)",
	    "a header under an inline table");
	REJECTS("t = { x = { y = 1 }, x.z = 2 }\n",
	    "line 1, column 22: cannot extend 'x' with dotted keys: it is an inline "
	    "table (line 1, column 11)",
	    "an inline table extended inside its parent");
}

static void
test_array_of_tables_rules(void)
{
	REJECTS("a = [1]\n[[a]]\n",
	    "line 2, column 3: cannot append to 'a' with [[header]]: it is an array "
	    "value (line 1, column 5)",
	    "[[a]] after a = [...]");
	REJECTS("[a]\n[[a]]\n",
	    "line 2, column 3: cannot append to 'a' with [[header]]: it is a table with "
	    "its own [header] (line 1, column 1)",
	    "[[a]] after [a]");
	REJECTS("[[a]]\n[a]\n",
	    "line 2, column 2: cannot define table 'a': it is an array of tables "
	    "(line 1, column 1)",
	    "[a] after [[a]]");
	REJECTS("[[a.b]]\n[[a]]\n",
	    "line 2, column 3: cannot append to 'a' with [[header]]: it is a table "
	    "(line 1, column 3)",
	    "[[a]] after an implicit a");
	REJECTS("a = [{}]\n[a.b]\n",
	    "line 2, column 2: cannot extend 'a' with a [header]: it is an array value "
	    "(line 1, column 5)",
	    "a header through an array value");
	REJECTS("[ [a] ]\n", "line 1, column 3: expected a key, found '['",
	    "a [[header]] with a space between the brackets");
	REJECTS("[[a] ]\n",
	    "line 1, column 5: expected ']]' closing a [[header]], found a space",
	    "a [[header]] closed with a space between the brackets");
}

static void
test_syntax_errors(void)
{
	REJECTS("a = \"abc\n", "line 1, column 5: string not closed on its line "
	    "(multi-line strings take \"\"\")", "an unclosed string");
	REJECTS("\n\na = '''abc\n", "line 3, column 5: multi-line string not closed",
	    "an unclosed multi-line literal");
	REJECTS("a = \"\\q\"", "line 1, column 6: invalid escape: backslash followed by 'q'",
	    "an unknown escape");
	REJECTS("a = \"\\x41\"", "line 1, column 6: invalid escape: backslash followed by 'x'",
	    "\\x is TOML 1.1, not 1.0");
	REJECTS("a = \"\\uD800\"", "line 1, column 6: escape names U+D800, which is not "
	    "a Unicode scalar value", "a surrogate escape");
	REJECTS("a = \"\\U00110000\"", "line 1, column 6: escape names U+110000, which "
	    "is not a Unicode scalar value", "an escape past U+10FFFF");
	REJECTS("a = \"\\u12\"", "line 1, column 6: \\u needs exactly 4 hexadecimal "
	    "digits", "a short \\u escape");
	REJECTS("a = \"\"\"x \\ y\"\"\"", "line 1, column 10: a backslash followed "
	    "by whitespace must end its line", "a backslash before a space mid-line");
	REJECTS("a = \"\"\"\"\"\"\"\"\"\n", "line 1, column 8: too many quotes closing a "
	    "multi-line string", "six quotes in a row");
	REJECTS("a = \"a\x01\"", "line 1, column 7: control character U+0001 in a string",
	    "a raw control character in a string");
	REJECTS("a = 'a\x7f'", "line 1, column 7: control character U+007F in a string",
	    "DEL in a literal string");
	REJECTS("a = 1 # bell\x07\n", "line 1, column 13: control character U+0007 in a "
	    "comment", "a control character in a comment");
	REJECTS("a = 1\rb = 2", "line 1, column 6: expected the end of the line after a "
	    "value, found U+000D", "a bare carriage return");
	REJECTS("a = 1 # x\r", "line 1, column 10: carriage return not followed by a "
	    "line feed in a comment", "a bare carriage return in a comment");
	REJECTS("a = \xc3\x28", "line 1, column 5: invalid UTF-8 (byte 0xC3)",
	    "a broken UTF-8 sequence");
	REJECTS("# ok\n# \xe2\x82\n", "line 2, column 3: invalid UTF-8 (byte 0xE2)",
	    "a truncated UTF-8 sequence at the end");
	REJECTS("a = \"\xed\xa0\x80\"", "line 1, column 6: invalid UTF-8 (byte 0xED)",
	    "an encoded surrogate");
	REJECTS("a = \"\xc0\xaf\"", "line 1, column 6: invalid UTF-8 (byte 0xC0)",
	    "an overlong encoding");
	REJECTS("a = 1 b = 2", "line 1, column 7: expected the end of the line after a "
	    "value, found 'b'", "two pairs on one line");
	REJECTS("[t] x = 1", "line 1, column 5: expected the end of the line after a "
	    "[header], found 'x'", "a pair on a header's line");
	REJECTS("a =\n1", "line 1, column 4: expected a value, found end of line",
	    "a value on the next line");
	REJECTS("a =\r\n1", "line 1, column 4: expected a value, found end of line",
	    "a value after CRLF");
	REJECTS("\xce\xbb = 1", "line 1, column 1: expected a key, a [header] or the end "
	    "of the line, found U+03BB", "a non-ASCII bare key (TOML 1.1 only)");
	REJECTS("a = \"\\\xc3\xa9\"", "line 1, column 6: invalid escape: backslash "
	    "followed by U+00E9", "a backslash before a non-ASCII character");
	REJECTS("a", "line 1, column 2: expected '=' after a key, found end of input",
	    "a key without a value");
	REJECTS("= 1", "line 1, column 1: expected a key, a [header] or the end of the "
	    "line, found '='", "a value without a key");
	REJECTS("a. = 1", "line 1, column 4: expected a key, found '='",
	    "a trailing dot in a key");
	REJECTS("a = \"\"\"x\"\"\"\n\"\"\"k\"\"\" = 1",
	    "line 2, column 1: a key cannot be a multi-line string",
	    "a multi-line string as a key");
	REJECTS("[a\n", "line 1, column 3: expected ']' closing a [header], found end "
	    "of line", "an unclosed header");
	REJECTS("a = [1 2]", "line 1, column 8: expected ',' or ']' in an array, found '2'",
	    "array items without a comma");
	REJECTS("a = [,]", "line 1, column 6: expected a value, found ','",
	    "an array with only a comma");
	REJECTS("a = [1,,2]", "line 1, column 8: expected a value, found ','",
	    "a double comma in an array");
	REJECTS("a = {b = 1,}", "line 1, column 12: expected a key, found '}'",
	    "a trailing comma in an inline table (TOML 1.0)");
	REJECTS("a = {b = 1\n}", "line 1, column 11: expected ',' or '}' in an inline "
	    "table, found end of line", "a newline in an inline table (TOML 1.0)");
	REJECTS("a = tru", "line 1, column 5: invalid value 'tru' (strings need quotes)",
	    "an unquoted word");
	REJECTS("a = True", "line 1, column 5: invalid value 'True' (strings need quotes)",
	    "booleans are lower case");
}

static void
test_number_errors(void)
{
	REJECTS("a = 9223372036854775808", "line 1, column 5: invalid number "
	    "'9223372036854775808': out of the range of a 64-bit signed integer",
	    "INT64_MAX + 1");
	REJECTS("a = -9223372036854775809", "line 1, column 5: invalid number "
	    "'-9223372036854775809': out of the range of a 64-bit signed integer",
	    "INT64_MIN - 1");
	REJECTS("a = 0x8000000000000000", "line 1, column 5: invalid number "
	    "'0x8000000000000000': out of the range of a 64-bit signed integer",
	    "a hexadecimal integer past INT64_MAX");
	REJECTS("a = 1e400", "line 1, column 5: invalid number '1e400': out of the "
	    "range of a 64-bit float", "a float that overflows");
	REJECTS("a = 012", "line 1, column 5: invalid number '012': leading zeros are "
	    "not allowed", "a leading zero");
	REJECTS("a = -01.5", "line 1, column 5: invalid number '-01.5': leading zeros "
	    "are not allowed", "a leading zero in a float");
	REJECTS("a = 1__2", "line 1, column 5: invalid number '1__2': expected digits "
	    "with single underscores between them", "a double underscore");
	REJECTS("a = _1", "line 1, column 5: invalid value '_1' (strings need quotes)",
	    "a leading underscore");
	REJECTS("a = 1_", "line 1, column 5: invalid number '1_': expected digits with "
	    "single underscores between them", "a trailing underscore");
	REJECTS("a = 0X1F", "line 1, column 5: invalid number '0X1F': unexpected "
	    "characters", "an upper-case base prefix");
	REJECTS("a = +0x1F", "line 1, column 5: invalid number '+0x1F': hexadecimal, "
	    "octal and binary integers take no sign", "a signed hexadecimal integer");
	REJECTS("a = 0b102", "line 1, column 5: invalid number '0b102': digits of its "
	    "base with single underscores between them", "a 2 in a binary integer");
	REJECTS("a = 1.", "line 1, column 5: invalid number '1.': a decimal point needs "
	    "digits on both sides", "a trailing decimal point");
	REJECTS("a = .5", "line 1, column 5: invalid value '.5' (strings need quotes)",
	    "a leading decimal point");
	REJECTS("a = 1e", "line 1, column 5: invalid number '1e': an exponent needs "
	    "digits", "an empty exponent");
	REJECTS("a = 1.5.2", "line 1, column 5: invalid number '1.5.2': unexpected "
	    "characters", "two decimal points");
	REJECTS("a = Inf", "line 1, column 5: invalid value 'Inf' (strings need quotes)",
	    "inf is lower case");
}

static void
test_datetime_errors(void)
{
	REJECTS("a = 2023-02-29", "line 1, column 5: invalid date or time '2023-02-29': "
	    "no such day", "29 February of a common year");
	REJECTS("a = 2024-13-01", "line 1, column 5: invalid date or time '2024-13-01': "
	    "no such day", "month 13");
	REJECTS("a = 1979-05-27T24:00:00", "line 1, column 5: invalid date or time "
	    "'1979-05-27T24:00:00': hour, minute or second out of range", "hour 24");
	REJECTS("a = 07:32", "line 1, column 5: invalid date or time '07:32': expected "
	    "a time as HH:MM:SS (TOML 1.0 requires seconds)", "a time without seconds");
	REJECTS("a = 1979-05-27T07:32:00+7:00", "line 1, column 5: invalid date or "
	    "time '1979-05-27T07:32:00+7:00': expected an offset as +HH:MM or -HH:MM",
	    "a one-digit offset hour");
	REJECTS("a = 1979-05-27T07:32:00.Z", "line 1, column 5: invalid date or time "
	    "'1979-05-27T07:32:00.Z': a decimal point in the seconds needs digits",
	    "a fraction without digits");
	REJECTS("a = 07:32:00Z", "line 1, column 5: invalid date or time '07:32:00Z': "
	    "a local time takes no offset or other text after it",
	    "a local time with an offset");
	REJECTS("a = 07:32:00.5x", "line 1, column 5: invalid date or time '07:32:00.5x': "
	    "a local time takes no offset or other text after it",
	    "a local time with text after its fraction");
	REJECTS("a = 1979-05-27T07:32:00Zx", "line 1, column 5: invalid date or time "
	    "'1979-05-27T07:32:00Zx': expected 'Z' or an offset after the time",
	    "text after an offset date-time");
	REJECTS("a = 1979-5-27", "line 1, column 5: invalid date or time '1979-5-27': "
	    "expected a date as YYYY-MM-DD", "a one-digit month");
}

/* Nesting is bounded so that neither the reader nor toml_free runs out of stack. */
static void
test_depth(void)
{
	struct buf doc = BUF_INIT;
	struct toml_value *root;
	char *cause = NULL;
	int i;

	buf_puts(&doc, "a = ");
	for (i = 0; i < 100; i++)
		buf_puts(&doc, "[");
	for (i = 0; i < 100; i++)
		buf_puts(&doc, "]");
	root = toml_parse(doc.data, doc.len, &cause);
	ok(root != NULL, "arrays nested 100 deep parse");
	toml_free(root);
	free(cause);
	cause = NULL;

	buf_reset(&doc);
	buf_puts(&doc, "a = ");
	for (i = 0; i < 100000; i++)
		buf_puts(&doc, "[");
	root = toml_parse(doc.data, doc.len, &cause);
	ok(root == NULL && errno == EINVAL, "arrays nested 100000 deep are refused");
	is_str(cause, "line 1, column 105: nested deeper than 100 levels", "  with a reason");
	free(cause);
	cause = NULL;

	buf_reset(&doc);
	for (i = 0; i < 100000; i++)
		buf_puts(&doc, i ? ".k" : "k");
	buf_puts(&doc, " = 1");
	root = toml_parse(doc.data, doc.len, &cause);
	ok(root == NULL && errno == EINVAL, "a key of 100000 parts is refused");
	is_str(cause, "line 1, column 201: key has more than 100 parts", "  with a reason");
	free(cause);
	cause = NULL;

	buf_reset(&doc);
	buf_puts(&doc, "a = ");
	for (i = 0; i < 100000; i++)
		buf_puts(&doc, "{b=");
	root = toml_parse(doc.data, doc.len, &cause);
	ok(root == NULL && errno == EINVAL, "inline tables nested 100000 deep are refused");
	free(cause);
	buf_free(&doc);
}

/* A large flat table and array: growth paths past a few doublings. */
static void
test_many(void)
{
	struct buf doc = BUF_INIT;
	struct toml_value *root;
	const struct toml_value *v;
	int i;

	buf_puts(&doc, "list = [");
	for (i = 0; i < 1000; i++)
		buf_printf(&doc, "%d,", i);
	buf_puts(&doc, "]\n");
	for (i = 0; i < 1000; i++)
		buf_printf(&doc, "k%d = %d\n", i, i);
	root = toml_parse(doc.data, doc.len, NULL);
	ok(root != NULL && root->u.table.count == 1001, "1000 keys and one array");
	v = toml_get(root, "list");
	ok(v && v->u.array.count == 1000 && v->u.array.items[999]->u.integer == 999,
	    "an array of 1000 items");
	is_int(integer_at(root, "k777"), 777, "the 778th key");
	toml_free(root);
	buf_free(&doc);
}

int
main(void)
{
	test_scalars();
	test_strings();
	test_datetimes();
	test_tables();
	test_arrays();
	test_inline_tables();
	test_arrays_of_tables();
	test_document_forms();
	test_positions();
	test_api();
	test_duplicates();
	test_dotted_rules();
	test_array_of_tables_rules();
	test_syntax_errors();
	test_number_errors();
	test_datetime_errors();
	test_depth();
	test_many();
	return done_testing();
}
