/*
 * t/fuzz/fuzz-kubeconfig.c - libFuzzer target for the kubeconfig YAML
 * reader and the configuration resolver on top of it.
 *
 * Oracles beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal carries a "line N: " cause and EINVAL;
 *  - an accepted document, written back in a canonical form (block style,
 *    every key and scalar double-quoted and escaped) and read again, gives
 *    the same tree;
 *  - resolving it as a kubeconfig either succeeds or gives a cause, and
 *    never yields insecure unless that was allowed.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kube-config.h"
#include "kube-yaml.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-kubeconfig: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

static void
fuzz_quote(struct buf *out, const char *text)
{
	const unsigned char *p;

	buf_puts(out, "\"");
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(out, "\\x%02x", *p);
		else
			buf_append(out, p, 1);
	}
	buf_puts(out, "\"");
}

static void fuzz_write(struct buf *out, const struct kube_yaml_node *node,
    unsigned indent);

/* What follows "key:" or "-": inline for leaves, a deeper block otherwise. */
static void
fuzz_write_value(struct buf *out, const struct kube_yaml_node *node,
    unsigned indent)
{
	switch (node->type) {
	case KUBE_YAML_NULL:
		buf_puts(out, " ~\n");
		break;
	case KUBE_YAML_SCALAR:
		buf_puts(out, " ");
		fuzz_quote(out, node->scalar);
		buf_puts(out, "\n");
		break;
	case KUBE_YAML_MAPPING:
	case KUBE_YAML_SEQUENCE:
		if (node->child == NULL) {
			buf_puts(out, node->type == KUBE_YAML_MAPPING ? " {}\n" : " []\n");
			break;
		}
		buf_puts(out, "\n");
		fuzz_write(out, node, indent + 2);
		break;
	}
}

static void
fuzz_write(struct buf *out, const struct kube_yaml_node *node, unsigned indent)
{
	const struct kube_yaml_node *child;

	for (child = node->child; child != NULL; child = child->next) {
		buf_printf(out, "%*s", (int)indent, "");
		if (node->type == KUBE_YAML_MAPPING) {
			fuzz_quote(out, child->key);
			buf_puts(out, ":");
		} else {
			buf_puts(out, "-");
		}
		fuzz_write_value(out, child, indent);
	}
}

static int
fuzz_same(const struct kube_yaml_node *a, const struct kube_yaml_node *b)
{
	for (; a != NULL && b != NULL; a = a->next, b = b->next) {
		if (a->type != b->type)
			return 0;
		if ((a->key == NULL) != (b->key == NULL) ||
		    (a->key != NULL && strcmp(a->key, b->key) != 0))
			return 0;
		if (a->type == KUBE_YAML_SCALAR && strcmp(a->scalar, b->scalar) != 0)
			return 0;
		if (!fuzz_same(a->child, b->child))
			return 0;
	}
	return a == NULL && b == NULL;
}

static void
fuzz_check_cause(const char *cause)
{
	unsigned long line;
	char *end;

	if (cause == NULL || strncmp(cause, "line ", 5) != 0)
		fuzz_fail("a refusal without \"line N: \"", cause);
	line = strtoul(cause + 5, &end, 10);
	(void)line;
	if (end == cause + 5 || strncmp(end, ": ", 2) != 0)
		fuzz_fail("a refusal without \"line N: \"", cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_yaml_node *root, *again;
	struct kube_config *config;
	struct buf canonical = BUF_INIT;
	char *cause = NULL;
	int allow;

	log_init("fuzz-kubeconfig", LOG_LEVEL_ERROR);
	errno = 0;
	root = kube_yaml_parse((const char *)data, size, &cause);
	if (root == NULL) {
		if (errno != EINVAL)
			fuzz_fail("a refusal without EINVAL", cause);
		fuzz_check_cause(cause);
		free(cause);
		return 0;
	}
	if (root->type != KUBE_YAML_MAPPING && root->type != KUBE_YAML_SEQUENCE)
		fuzz_fail("a root that is not a collection", NULL);

	fuzz_write(&canonical, root, 0);
	again = kube_yaml_parse(canonical.data, canonical.len, &cause);
	if (again == NULL)
		fuzz_fail("the canonical form was refused", cause);
	if (again->type != root->type || !fuzz_same(root->child, again->child))
		fuzz_fail("the canonical form reads differently", canonical.data);
	kube_yaml_free(again);
	kube_yaml_free(root);
	buf_free(&canonical);

	for (allow = 0; allow < 2; allow++) {
		config = kube_config_parse_kubeconfig((const char *)data, size,
		    "/nonexistent", NULL, allow, &cause);
		if (config == NULL) {
			if (cause == NULL)
				fuzz_fail("a kubeconfig refused without a cause", NULL);
		} else {
			if (config->insecure && !allow)
				fuzz_fail("insecure without permission", NULL);
			if (config->host == NULL || config->port == NULL ||
			    config->path_prefix == NULL || config->server_name == NULL)
				fuzz_fail("a config without its server parts", NULL);
		}
		kube_config_free(config);
		free(cause);
		cause = NULL;
	}
	return 0;
}
