/*
 * t/toml-decoder.c - the decoder toml-test drives: TOML on stdin, the
 * suite's tagged JSON on stdout, exit 1 with the reader's reason on stderr
 * when the document is invalid.
 *
 * The JSON is written by hand: each scalar becomes {"type":T,"value":V}
 * with V always a string, as toml-test's format wants.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

static int toml_decoder_value(struct buf *out, const struct toml_value *value);

static int
toml_decoder_string(struct buf *out, const char *text, size_t len)
{
	size_t i;
	int error = buf_puts(out, "\"");

	for (i = 0; i < len && error == 0; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"' || c == '\\')
			error = buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			error = buf_printf(out, "\\u%04x", c);
		else
			error = buf_append(out, &text[i], 1);	/* UTF-8 passes through */
	}
	return error != 0 ? error : buf_puts(out, "\"");
}

static int
toml_decoder_tagged(struct buf *out, const char *type, const char *text,
    size_t len)
{
	int error;

	if ((error = buf_printf(out, "{\"type\":\"%s\",\"value\":", type)) != 0 ||
	    (error = toml_decoder_string(out, text, len)) != 0)
		return error;
	return buf_puts(out, "}");
}

static const char *
toml_decoder_datetime_type(enum toml_datetime_kind kind)
{
	switch (kind) {
	case TOML_DATETIME_OFFSET:
		return "datetime";
	case TOML_DATETIME_LOCAL:
		return "datetime-local";
	case TOML_DATE_LOCAL:
		return "date-local";
	default:
		return "time-local";
	}
}

static int
toml_decoder_value(struct buf *out, const struct toml_value *value)
{
	char number[64];
	size_t i;
	int error = 0;

	switch (value->type) {
	case TOML_TABLE:
		error = buf_puts(out, "{");
		for (i = 0; i < value->u.table.count && error == 0; i++) {
			const struct toml_pair *pair = &value->u.table.pairs[i];

			if (i > 0)
				error = buf_puts(out, ",");
			if (error == 0)
				error = toml_decoder_string(out, pair->key, pair->key_len);
			if (error == 0)
				error = buf_puts(out, ":");
			if (error == 0)
				error = toml_decoder_value(out, pair->value);
		}
		return error != 0 ? error : buf_puts(out, "}");
	case TOML_ARRAY:
		error = buf_puts(out, "[");
		for (i = 0; i < value->u.array.count && error == 0; i++) {
			if (i > 0)
				error = buf_puts(out, ",");
			if (error == 0)
				error = toml_decoder_value(out, value->u.array.items[i]);
		}
		return error != 0 ? error : buf_puts(out, "]");
	case TOML_STRING:
		return toml_decoder_tagged(out, "string", value->u.string.text,
		    value->u.string.len);
	case TOML_DATETIME:
		return toml_decoder_tagged(out,
		    toml_decoder_datetime_type(value->datetime_kind),
		    value->u.string.text, value->u.string.len);
	case TOML_INTEGER:
		snprintf(number, sizeof number, "%lld", (long long)value->u.integer);
		return toml_decoder_tagged(out, "integer", number, strlen(number));
	case TOML_FLOAT:
		if (isnan(value->u.floating))
			snprintf(number, sizeof number, "nan");
		else if (isinf(value->u.floating))
			snprintf(number, sizeof number, "%sinf",
			    value->u.floating < 0 ? "-" : "");
		else
			snprintf(number, sizeof number, "%.17g", value->u.floating);
		return toml_decoder_tagged(out, "float", number, strlen(number));
	case TOML_BOOLEAN:
		return toml_decoder_tagged(out, "bool",
		    value->u.boolean ? "true" : "false",
		    value->u.boolean ? 4 : 5);
	}
	return -EINVAL;
}

int
main(void)
{
	struct buf input = BUF_INIT, output = BUF_INIT;
	struct toml_value *root = NULL;
	char chunk[65536], *cause = NULL;
	size_t n;
	int status = 1;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (buf_append(&input, chunk, n) != 0) {
			fprintf(stderr, "toml-decoder: out of memory\n");
			goto out;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "toml-decoder: reading stdin: %s\n", strerror(errno));
		goto out;
	}
	if ((root = toml_parse(input.data, input.len, &cause)) == NULL) {
		fprintf(stderr, "toml-decoder: %s\n", cause ? cause : strerror(errno));
		goto out;
	}
	if (toml_decoder_value(&output, root) != 0 || buf_puts(&output, "\n") != 0) {
		fprintf(stderr, "toml-decoder: out of memory\n");
		goto out;
	}
	fwrite(output.data, 1, output.len, stdout);
	status = 0;
out:
	free(cause);
	toml_free(root);
	buf_free(&input);
	buf_free(&output);
	return status;
}
