/* extender-args.c - ExtenderArgs: a strict scanner, cJSON for the Pod only. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "extender-args.h"
#include "extender-policy.h"
#include "kube-node.h"
#include "kube-object.h"
#include "kube-pod.h"
#include "pod.h"

/* The Pod and the Nodes go to cJSON, which refuses deeper nesting anyway. */
#define EXTENDER_ARGS_MAX_DEPTH CJSON_NESTING_LIMIT
/*
 * Probes one name may take in the twin table before the check falls back
 * to sorting: far beyond what a half-empty table sees, short enough that
 * names chosen to collide cannot make the check quadratic.
 */
#define EXTENDER_ARGS_MAX_PROBES 64

/* Where a member's value lies in the body. */
struct extender_args_span {
	const char *start;		/* NULL: no such member */
	size_t len;
};

static const char *
extender_args_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The bytes a JSON string cannot hold raw: '"', '\\' and controls. */
static const unsigned char extender_args_special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

/*
 * Whether the 8 bytes at p hold none of them.  Exact (no false alarm) by
 * the usual word tricks: x - 0x20.. & ~x sets a byte's top bit only if
 * some byte is below 0x20; y - 0x01.. & ~y only if some byte of y is 0.
 */
static inline bool
extender_args_plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
	uint64_t x, quote, backslash;

	memcpy(&x, p, sizeof x);
	quote = x ^ (ones * '"');
	backslash = x ^ (ones * '\\');
	return ((((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
	    ((backslash - ones) & ~backslash)) & tops) == 0;
}

/* Past the raw run at p: to the next byte that ends or escapes it. */
static inline const char *
extender_args_run(const char *p, const char *end)
{
	while (end - p >= 8 && extender_args_plain8(p))
		p += 8;
	while (p < end && !extender_args_special[(unsigned char)*p])
		p++;
	return p;
}

static int
extender_args_hex(const char *p, const char *end, unsigned *out)
{
	unsigned value = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		value <<= 4;
		if (c >= '0' && c <= '9')
			value |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			value |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			value |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = value;
	return 0;
}

/*
 * The string at *p (its opening quote), checked and decoded.  At most
 * room bytes of it go to out (none when out is NULL); *length is its whole
 * decoded length, never more than the bytes it takes in the body, and
 * *escape (if not NULL) says whether it holds a byte JSON must escape.
 * *p is left past the closing quote.  0, or -1 on anything RFC 8259
 * refuses, a lone surrogate included (as cJSON refuses it).
 */
static int
extender_args_string(const char **at, const char *end, char *out, size_t room,
    size_t *length, bool *escape)
{
	const char *p = *at + 1;
	size_t n = 0;

	if (escape != NULL)
		*escape = false;
	for (;;) {
		const char *run = p;
		unsigned code, low;
		char utf8[4];
		size_t size;

		p = extender_args_run(p, end);
		if (out != NULL && n < room)
			memcpy(out + n, run, (size_t)(p - run) < room - n ?
			    (size_t)(p - run) : room - n);
		n += (size_t)(p - run);
		if (p == end || (unsigned char)*p < 0x20)
			return -1;
		if (*p == '"')
			break;
		if (++p == end)
			return -1;
		switch (*p++) {
		case '"': utf8[0] = '"'; size = 1; break;
		case '\\': utf8[0] = '\\'; size = 1; break;
		case '/': utf8[0] = '/'; size = 1; break;
		case 'b': utf8[0] = '\b'; size = 1; break;
		case 'f': utf8[0] = '\f'; size = 1; break;
		case 'n': utf8[0] = '\n'; size = 1; break;
		case 'r': utf8[0] = '\r'; size = 1; break;
		case 't': utf8[0] = '\t'; size = 1; break;
		case 'u':
			if (extender_args_hex(p, end, &code) != 0)
				return -1;
			p += 4;
			if (code >= 0xdc00 && code <= 0xdfff)
				return -1;
			if (code >= 0xd800 && code <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    extender_args_hex(p + 2, end, &low) != 0 ||
				    low < 0xdc00 || low > 0xdfff)
					return -1;
				p += 6;
				code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
			}
			if (code < 0x80) {
				utf8[0] = (char)code;
				size = 1;
			} else if (code < 0x800) {
				utf8[0] = (char)(0xc0 | (code >> 6));
				utf8[1] = (char)(0x80 | (code & 0x3f));
				size = 2;
			} else if (code < 0x10000) {
				utf8[0] = (char)(0xe0 | (code >> 12));
				utf8[1] = (char)(0x80 | ((code >> 6) & 0x3f));
				utf8[2] = (char)(0x80 | (code & 0x3f));
				size = 3;
			} else {
				utf8[0] = (char)(0xf0 | (code >> 18));
				utf8[1] = (char)(0x80 | ((code >> 12) & 0x3f));
				utf8[2] = (char)(0x80 | ((code >> 6) & 0x3f));
				utf8[3] = (char)(0x80 | (code & 0x3f));
				size = 4;
			}
			break;
		default:
			return -1;
		}
		if (escape != NULL && size == 1 &&
		    extender_args_special[(unsigned char)utf8[0]])
			*escape = true;
		for (size_t i = 0; i < size; i++, n++)
			if (out != NULL && n < room)
				out[n] = utf8[i];
	}
	*at = p + 1;
	*length = n;
	return 0;
}

static const char *
extender_args_digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
extender_args_number(const char **at, const char *end)
{
	const char *p = *at, *digits;

	if (p < end && *p == '-')
		p++;
	digits = p;
	if (p < end && *p == '0')
		p++;
	else if ((p = extender_args_digits(p, end)) == digits)
		return -1;
	if (p < end && *p == '.') {
		digits = ++p;
		if ((p = extender_args_digits(p, end)) == digits)
			return -1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		digits = p;
		if ((p = extender_args_digits(p, end)) == digits)
			return -1;
	}
	*at = p;
	return 0;
}

static int
extender_args_literal(const char **at, const char *end, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(end - *at) < len || memcmp(*at, word, len) != 0)
		return -1;
	*at += len;
	return 0;
}

/* Step over the value at *p (no space before it).  0 or -1. */
static int
extender_args_value(const char **at, const char *end, unsigned depth)
{
	const char *p = *at;
	size_t length;
	char close;

	if (p == end)
		return -1;
	switch (*p) {
	case '"':
		if (extender_args_string(&p, end, NULL, 0, &length, NULL) != 0)
			return -1;
		break;
	case 't':
		return extender_args_literal(at, end, "true");
	case 'f':
		return extender_args_literal(at, end, "false");
	case 'n':
		return extender_args_literal(at, end, "null");
	case '{':
	case '[':
		if (depth >= EXTENDER_ARGS_MAX_DEPTH)
			return -1;
		close = *p == '{' ? '}' : ']';
		p = extender_args_space(p + 1, end);
		if (p < end && *p == close) {
			p++;
			break;
		}
		for (;;) {
			if (close == '}') {
				if (p == end || *p != '"' ||
				    extender_args_string(&p, end, NULL, 0, &length, NULL) != 0)
					return -1;
				p = extender_args_space(p, end);
				if (p == end || *p++ != ':')
					return -1;
				p = extender_args_space(p, end);
			}
			if (extender_args_value(&p, end, depth + 1) != 0)
				return -1;
			p = extender_args_space(p, end);
			if (p < end && *p == ',') {
				p = extender_args_space(p + 1, end);
				continue;
			}
			if (p < end && *p == close) {
				p++;
				break;
			}
			return -1;
		}
		break;
	default:
		if (extender_args_number(&p, end) != 0)
			return -1;
		break;
	}
	*at = p;
	return 0;
}

/* key, decoded, equals word (lower case letters) ignoring ASCII case. */
static bool
extender_args_key_is(const char *key, size_t length, const char *word)
{
	size_t i;

	for (i = 0; i < length && word[i] != '\0'; i++)
		if ((key[i] | 0x20) != word[i])
			return false;
	return i == length && word[i] == '\0';
}

/* What the scan of the top-level object found. */
struct extender_args_scan {
	struct extender_args_span pod, nodes, names;
	/* NodeNames' faults, reported once the Pod has been decoded. */
	bool too_many;
	const char *fault;
};

/*
 * The first NodeNames array, checked and decoded in the same pass: the
 * names into one arena, no allocation per name.  A name longer than a
 * string's bytes in the body cannot be, so the rest of the body bounds
 * the arena.  0, -1 when the body is not JSON, or -ENOMEM.
 */
static int
extender_args_names(struct extender_args *args, const char **at,
    const char *end, struct extender_args_scan *scan)
{
	const char *p = extender_args_space(*at + 1, end);
	size_t room = (size_t)(end - *at), used = 0, count = 0, capacity = 0;

	if ((args->arena = malloc(room)) == NULL)
		return -ENOMEM;
	if (p < end && *p == ']') {
		*at = p + 1;
		return 0;
	}
	for (;;) {
		struct extender_node_name *name;
		size_t length;
		const char *run;
		bool escape;

		/* After a fault the rest is only checked: NodeNames is refused. */
		if (p < end && *p == '"' && count < EXTENDER_MAX_NODES && scan->fault == NULL) {
			if (args->node_count == capacity) {
				struct extender_node_name *grown;

				capacity = capacity ? 2 * capacity : 256;
				if ((grown = reallocarray(args->names, capacity, sizeof *grown)) == NULL)
					return -ENOMEM;
				args->names = grown;
			}
			/* Most names hold no escape: one run, copied whole. */
			run = extender_args_run(p + 1, end);
			if (run < end && *run == '"') {
				length = (size_t)(run - p - 1);
				memcpy(args->arena + used, p + 1, length);
				escape = false;
				p = run + 1;
			} else if (extender_args_string(&p, end, args->arena + used,
			    room - used, &length, &escape) != 0) {
				return -1;
			}
			/* Only an escape can put a NUL there. */
			if (escape && memchr(args->arena + used, '\0', length) != NULL)
				scan->fault = "NodeNames holds a name with U+0000";
			name = &args->names[args->node_count++];
			name->text = args->arena + used;
			name->length = (uint32_t)length;
			name->hash = extender_name_hash(name->text, length);
			name->escape = escape;
			args->arena[used + length] = '\0';
			used += length + 1;
		} else {
			if (extender_args_value(&p, end, 2) != 0)
				return -1;
			if (count >= EXTENDER_MAX_NODES)
				scan->too_many = true;
			else if (scan->fault == NULL)
				scan->fault = "NodeNames holds a non-string";
		}
		count++;
		p = extender_args_space(p, end);
		if (p < end && *p == ',') {
			p = extender_args_space(p + 1, end);
			continue;
		}
		if (p < end && *p == ']') {
			*at = p + 1;
			return 0;
		}
		return -1;
	}
}

/*
 * The top-level object at *p: every byte checked, the first Pod, Nodes and
 * NodeNames members found (as cJSON_GetObjectItem finds them), NodeNames
 * decoded on the way.  0, -1 when the body is not JSON, or -ENOMEM.
 */
static int
extender_args_members(struct extender_args *args, const char **at,
    const char *end, struct extender_args_scan *scan)
{
	const char *p = extender_args_space(*at + 1, end);
	struct extender_args_span *span;
	char key[sizeof "nodenames"];
	size_t length;
	int error;

	if (p < end && *p == '}') {
		*at = p + 1;
		return 0;
	}
	for (;;) {
		const char *value;

		if (p == end || *p != '"' ||
		    extender_args_string(&p, end, key, sizeof key, &length, NULL) != 0)
			return -1;
		span = NULL;
		if (length <= sizeof key) {
			if (extender_args_key_is(key, length, "pod"))
				span = &scan->pod;
			else if (extender_args_key_is(key, length, "nodes"))
				span = &scan->nodes;
			else if (extender_args_key_is(key, length, "nodenames"))
				span = &scan->names;
		}
		if (span != NULL && span->start != NULL)
			span = NULL;
		p = extender_args_space(p, end);
		if (p == end || *p++ != ':')
			return -1;
		value = p = extender_args_space(p, end);
		if (span == &scan->names && p < end && *p == '[')
			error = extender_args_names(args, &p, end, scan);
		else
			error = extender_args_value(&p, end, 1);
		if (error != 0)
			return error;
		if (span != NULL) {
			span->start = value;
			span->len = (size_t)(p - value);
		}
		p = extender_args_space(p, end);
		if (p < end && *p == ',') {
			p = extender_args_space(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			*at = p + 1;
			return 0;
		}
		return -1;
	}
}

static int
extender_args_nodes(struct extender_args *args,
    const struct extender_args_span *span, char **cause)
{
	const cJSON *items, *item;
	char *why = NULL;
	size_t count, i = 0;

	if ((args->nodes_json = cJSON_ParseWithLength(span->start, span->len)) == NULL) {
		cause_set(cause, "Nodes: unparsable");
		return -EINVAL;
	}
	items = cJSON_GetObjectItem(args->nodes_json, "items");
	if (!cJSON_IsArray(items) && !cJSON_IsNull(items) && items != NULL) {
		cause_set(cause, "Nodes.items is not a list");
		return -EINVAL;
	}
	count = cJSON_IsArray(items) ? (size_t)cJSON_GetArraySize(items) : 0;
	if (count > EXTENDER_MAX_NODES) {
		cause_set(cause, "too many nodes");
		return -EINVAL;
	}
	if (count == 0)
		return 0;
	if ((args->names = calloc(count, sizeof *args->names)) == NULL ||
	    (args->items = calloc(count, sizeof *args->items)) == NULL ||
	    (args->states = calloc(count, sizeof *args->states)) == NULL) {
		cause_set(cause, "out of memory");
		return -ENOMEM;
	}
	cJSON_ArrayForEach(item, items) {
		struct kube_node *node = kube_node_decode(item, &why);
		const char *name;

		if (node == NULL) {
			int error = errno == ENOMEM ? -ENOMEM : -EINVAL;

			cause_set(cause, "Nodes.items[%zu]: %s", i, why ? why : "undecodable");
			free(why);
			return error;
		}
		extender_node_state_from(node, &args->states[i]);
		kube_node_free(node);
		/* The name from the tree: it lives as long as the args. */
		if ((name = kube_object_string(item, "metadata", "name", NULL)) != NULL) {
			size_t length = strlen(name);

			args->names[i].text = name;
			args->names[i].length = length > UINT32_MAX ? UINT32_MAX : (uint32_t)length;
			args->names[i].hash = extender_name_hash(name, args->names[i].length);
			for (size_t k = 0; k < length && !args->names[i].escape; k++)
				args->names[i].escape = extender_args_special[(unsigned char)name[k]];
		}
		args->items[i++] = item;
	}
	args->node_count = i;
	return 0;
}

static int
extender_args_compare(const void *a, const void *b)
{
	const struct extender_node_name *x = *(const struct extender_node_name *const *)a;
	const struct extender_node_name *y = *(const struct extender_node_name *const *)b;
	size_t common = x->length < y->length ? x->length : y->length;
	int order = memcmp(x->text, y->text, common);

	return order != 0 ? order : (x->length > y->length) - (x->length < y->length);
}

/* The twin check when hashing will not do: sort the names, O(n log n). */
static int
extender_args_twin_sorted(const struct extender_args *args,
    const struct extender_node_name **twin)
{
	const struct extender_node_name **sorted;
	size_t n = 0;

	if ((sorted = malloc(args->node_count * sizeof *sorted)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < args->node_count; i++)
		if (args->names[i].text != NULL)
			sorted[n++] = &args->names[i];
	qsort(sorted, n, sizeof *sorted, extender_args_compare);
	for (size_t i = 1; i < n && *twin == NULL; i++)
		if (extender_args_compare(&sorted[i - 1], &sorted[i]) == 0)
			*twin = sorted[i];
	free(sorted);
	return 0;
}

/*
 * A node name listed twice, in *twin (else NULL).  Names are unique in a
 * cluster; an answer to a list with twins would pass and fail the same
 * name at once.  Names are hashed once anyway, for the node cache, so a
 * table of their indexes finds twins in one pass.
 */
static int
extender_args_twin(const struct extender_args *args,
    const struct extender_node_name **twin)
{
	uint32_t *slots;
	size_t size = 16, mask;

	*twin = NULL;
	if (args->node_count < 2)
		return 0;
	while (size < 2 * args->node_count)
		size *= 2;
	if ((slots = calloc(size, sizeof *slots)) == NULL)
		return -ENOMEM;
	mask = size - 1;
	for (size_t i = 0; i < args->node_count && *twin == NULL; i++) {
		const struct extender_node_name *name = &args->names[i];
		size_t at = name->hash & mask, probes = 0;

		if (name->text == NULL)
			continue;
		for (; slots[at] != 0; at = (at + 1) & mask) {
			const struct extender_node_name *other = &args->names[slots[at] - 1];

			if (other->hash == name->hash && other->length == name->length &&
			    memcmp(other->text, name->text, name->length) == 0) {
				*twin = name;
				break;
			}
			if (++probes == EXTENDER_ARGS_MAX_PROBES) {
				free(slots);
				return extender_args_twin_sorted(args, twin);
			}
		}
		slots[at] = (uint32_t)i + 1;
	}
	free(slots);
	return 0;
}

void
extender_args_release(struct extender_args *args)
{
	if (args == NULL)
		return;
	pod_free(args->pod);
	free(args->names);
	free(args->arena);
	cJSON_Delete(args->nodes_json);
	free(args->items);
	free(args->states);
	memset(args, 0, sizeof *args);
}

int
extender_args_decode(const char *body, size_t len,
    const struct tier_thresholds *thresholds, struct extender_args *args,
    char **cause)
{
	struct extender_args_scan scan;
	const struct extender_node_name *twin;
	const char *p = body, *end = body + len;
	cJSON *pod_json;
	char *why = NULL;
	int error;

	memset(args, 0, sizeof *args);
	memset(&scan, 0, sizeof scan);
	if (cause != NULL)
		*cause = NULL;
	p = extender_args_space(p, end);
	if (p == end || *p != '{') {
		error = extender_args_value(&p, end, 0);
		p = extender_args_space(p, end);
		cause_set(cause, "%s", error == 0 && p == end ? "body is not an object" :
		    "body is not JSON");
		return -EINVAL;
	}
	if ((error = extender_args_members(args, &p, end, &scan)) != 0 ||
	    extender_args_space(p, end) != end) {
		cause_set(cause, "%s", error == -ENOMEM ? "out of memory" : "body is not JSON");
		error = error == -ENOMEM ? -ENOMEM : -EINVAL;
		goto fail;
	}
	if (scan.pod.start == NULL || *scan.pod.start != '{') {
		error = -EINVAL;
		cause_set(cause, "no Pod object");
		goto fail;
	}
	/*
	 * Checked already: cJSON refuses it now only for want of memory or by
	 * a limit of its own.  Either way the call cannot be decided.
	 */
	if ((pod_json = cJSON_ParseWithLength(scan.pod.start, scan.pod.len)) == NULL) {
		error = -EINVAL;
		cause_set(cause, "Pod: unparsable");
		goto fail;
	}
	args->pod = kube_pod_decode(pod_json, &why);
	cJSON_Delete(pod_json);
	if (args->pod == NULL) {
		error = errno == ENOMEM ? -ENOMEM : -EINVAL;
		cause_set(cause, "Pod: %s", why ? why : "undecodable");
		free(why);
		goto fail;
	}
	if ((error = tier_classify(thresholds, args->pod, &args->tier, NULL)) != 0) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	args->request_millis = pod_cpu_request_millis(args->pod);

	if (scan.names.start != NULL && *scan.names.start == '[') {
		args->node_cache = true;
		if (scan.too_many || scan.fault != NULL) {
			error = -EINVAL;
			cause_set(cause, "%s", scan.too_many ? "too many nodes" : scan.fault);
			goto fail;
		}
	} else if (scan.nodes.start != NULL && *scan.nodes.start == '{') {
		if ((error = extender_args_nodes(args, &scan.nodes, cause)) != 0)
			goto fail;
	} else {
		error = -EINVAL;
		cause_set(cause, "neither NodeNames nor Nodes");
		goto fail;
	}
	if ((error = extender_args_twin(args, &twin)) != 0) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if (twin != NULL) {
		error = -EINVAL;
		cause_set(cause, "node %s is listed twice", twin->text);
		goto fail;
	}
	return 0;
fail:
	extender_args_release(args);
	return error;
}
