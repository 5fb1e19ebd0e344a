/* t/test-kube-config.c - the kubeconfig YAML subset and in-cluster config. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube-config.h"
#include "kube-yaml.h"
#include "tap.h"

/* What kubectl writes, with comments, quotes and both sequence styles. */
static const char kubeconfig[] =
	"# written by hand, then by kubectl\n"
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: aGVsbG8gY2E=\n"
	"    server: https://127.0.0.1:6443\n"
	"  name: test\n"
	"- name: other   # a trailing comment\n"
	"  cluster:\n"
	"    server: \"https://[::1]:8443/prefix/\"\n"
	"    certificate-authority: ca/other.crt\n"
	"    tls-server-name: 'kubernetes.default'\n"
	"- name: insecure\n"
	"  cluster:\n"
	"    server: http://localhost\n"
	"    insecure-skip-tls-verify: true\n"
	"contexts:\n"
	"  - context:\n"
	"      cluster: test\n"
	"      user: admin\n"
	"      namespace: shop\n"
	"    name: test\n"
	"  - name: other\n"
	"    context:\n"
	"      cluster: other\n"
	"      user: tokens\n"
	"  - name: insecure\n"
	"    context:\n"
	"      cluster: insecure\n"
	"current-context: test\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key-data: a2V5\n"
	"- name: tokens\n"
	"  user:\n"
	"    token: \"abc\\u00e9\"\n"
	"    tokenFile: /run/token\n"
	"- name: plugin\n"
	"  user:\n"
	"    exec:\n"
	"      command: aws\n"
	"      args:\n"
	"      - eks\n"
	"      - get-token\n";

static void
test_yaml(void)
{
	static const struct {
		const char *text;
		const char *reason;
	} bad[] = {
		{ "a: 1\n\tb: 2\n", "line 2: tab in indentation" },
		{ "a: &x 1\n", "line 1: anchors, aliases and tags are not supported" },
		{ "a: *x\n", "line 1: anchors, aliases and tags are not supported" },
		{ "a: !!str 1\n", "line 1: anchors, aliases and tags are not supported" },
		{ "a: |\n  text\n", "line 1: block scalars are not supported" },
		{ "a: {b: 1}\n", "line 1: flow collections other than {} and [] are not supported" },
		{ "a: [1, 2]\n", "line 1: flow collections other than {} and [] are not supported" },
		{ "a: 1\na: 2\n", "line 2: duplicate key \"a\"" },
		{ "a: \"open\n", "line 1: unterminated quoted scalar (multi-line scalars are not supported)" },
		{ "a: 'x' y\n", "line 1: text after a quoted scalar" },
		{ "a: b: c\n", "line 1: a mapping value where a scalar was expected (quote it)" },
		{ "a:\n  b: 1\n   c: 2\n", "line 3: unexpected indentation" },
		{ "a: 1\n  b: 2\n", "line 2: unexpected indentation" },
		{ "- a\n  b\n", "line 2: unexpected indentation (multi-line scalars are not supported)" },
		{ "a: 1\n---\nb: 2\n", "line 2: only one document is supported" },
		{ "just text\n", "line 1: expected a mapping or a sequence" },
		{ "", "line 1: an empty document" },
		{ "# only a comment\n", "line 1: an empty document" },
		{ "  a: 1\n", "line 1: the document does not start at column 1" },
		{ "a:\n- 1\nb\n", "line 3: expected \"key: value\"" },
		{ "a: \"\\q\"\n", "line 1: unknown escape \\q" },
		{ "a: \"\\x0\"\n", "line 1: bad \\x escape" },
		{ "a:\n  - 1\n  b: 2\n", "line 3: unexpected indentation" },
	};
	struct kube_yaml_node *root, *copy;
	const struct kube_yaml_node *node;
	char *cause;
	size_t i;

	root = kube_yaml_parse(kubeconfig, sizeof kubeconfig - 1, &cause);
	ok(root != NULL && root->type == KUBE_YAML_MAPPING, "a kubeconfig parses");
	if (root == NULL) {
		diag("%s", cause);
		free(cause);
		return;
	}
	is_str(kube_yaml_scalar(kube_yaml_get(root, "current-context")), "test",
	    "a plain scalar");
	node = kube_yaml_get(root, "preferences");
	ok(node != NULL && node->type == KUBE_YAML_MAPPING && node->child == NULL,
	    "{} is an empty mapping");
	node = kube_yaml_get(root, "clusters");
	ok(node != NULL && node->type == KUBE_YAML_SEQUENCE && node->child &&
	    node->child->next && node->child->next->next &&
	    !node->child->next->next->next, "three clusters (kubectl's sequence style)");
	node = kube_yaml_get(node->child->next, "cluster");
	is_str(kube_yaml_scalar(kube_yaml_get(node, "server")),
	    "https://[::1]:8443/prefix/", "a double-quoted scalar");
	is_str(kube_yaml_scalar(kube_yaml_get(node, "tls-server-name")),
	    "kubernetes.default", "a single-quoted scalar");
	node = kube_yaml_get(kube_yaml_get(root, "contexts")->child, "context");
	is_str(kube_yaml_scalar(kube_yaml_get(node, "namespace")), "shop",
	    "an indented sequence of mappings");
	kube_yaml_free(root);

	{
		const char *text = "---\nk: 'it''s'\nn: null\nt: ~\ne:\n"
		    "q: \"\\\"\\\\\\t\\u263a\"\n"
		    "s:\n- - 1\n  - 2\n-\n  x: y\n- # empty\nlast: \"x\" # c\n";

		root = kube_yaml_parse(text, strlen(text), &cause);
	}
	ok(root != NULL, "quotes, nulls and nested sequences parse");
	if (root != NULL) {
		is_str(kube_yaml_scalar(kube_yaml_get(root, "k")), "it's", "'' escape");
		ok(kube_yaml_get(root, "n")->type == KUBE_YAML_NULL &&
		    kube_yaml_get(root, "t")->type == KUBE_YAML_NULL &&
		    kube_yaml_get(root, "e")->type == KUBE_YAML_NULL, "null, ~ and empty");
		is_str(kube_yaml_scalar(kube_yaml_get(root, "q")),
		    "\"\\\t\xe2\x98\xba", "double-quoted escapes");
		node = kube_yaml_get(root, "s");
		ok(node->child->type == KUBE_YAML_SEQUENCE &&
		    strcmp(node->child->child->next->scalar, "2") == 0,
		    "a sequence in a sequence");
		ok(node->child->next->type == KUBE_YAML_MAPPING &&
		    node->child->next->next->type == KUBE_YAML_NULL,
		    "a mapping under '-' and an empty item");
		is_str(kube_yaml_scalar(kube_yaml_get(root, "last")), "x",
		    "a comment after a quoted scalar");
	} else {
		diag("%s", cause);
		free(cause);
	}
	kube_yaml_free(root);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		copy = kube_yaml_parse(bad[i].text, strlen(bad[i].text), &cause);
		ok(copy == NULL && errno == EINVAL, "refused: %s", bad[i].reason);
		is_str(cause, bad[i].reason, "with the line and the reason");
		kube_yaml_free(copy);
		free(cause);
	}
	cause = NULL;
	copy = kube_yaml_parse("a: 1\0b", 6, &cause);
	ok(copy == NULL && cause != NULL, "a NUL byte is refused");
	free(cause);
}

static struct kube_config *
parse(const char *context, bool allow_insecure, char **cause)
{
	*cause = NULL;
	return kube_config_parse_kubeconfig(kubeconfig, sizeof kubeconfig - 1,
	    "/etc/kube", context, allow_insecure, cause);
}

static void
test_kubeconfig(void)
{
	struct kube_config *config;
	char *cause;

	config = parse(NULL, false, &cause);
	if (!ok(config != NULL, "current-context resolves")) {
		diag("%s", cause);
		free(cause);
		return;
	}
	is_str(config->context, "test", "the current context");
	ok(config->tls, "https");
	is_str(config->host, "127.0.0.1", "host");
	is_str(config->port, "6443", "port");
	is_str(config->path_prefix, "", "no path prefix");
	is_str(config->server_name, "127.0.0.1", "verify the host by default");
	is_str(config->ca_pem, "hello ca", "certificate-authority-data decoded");
	is_str(config->cert_pem, "cert", "client-certificate-data decoded");
	is_str(config->key_pem, "key", "client-key-data decoded");
	is_int(config->key_len, 3, "key length");
	is_str(config->namespace, "shop", "the context's namespace");
	ok(config->token == NULL && config->token_path == NULL, "no token");
	kube_config_free(config);

	config = parse("other", false, &cause);
	ok(config != NULL, "a named context");
	if (config != NULL) {
		is_str(config->host, "::1", "IPv6 host without brackets");
		is_str(config->port, "8443", "its port");
		is_str(config->path_prefix, "/prefix", "prefix without trailing slash");
		is_str(config->server_name, "kubernetes.default", "tls-server-name");
		is_str(config->ca_path, "/etc/kube/ca/other.crt",
		    "a relative CA file is resolved against the kubeconfig's directory");
		is_str(config->token, "abc\xc3\xa9", "an inline token");
		is_str(config->token_path, "/run/token", "tokenFile");
	} else {
		diag("%s", cause);
		free(cause);
	}
	kube_config_free(config);

	config = parse("insecure", false, &cause);
	ok(config == NULL && cause && strstr(cause, "insecure-skip-tls-verify"),
	    "insecure-skip-tls-verify refused by default: %s", cause ? cause : "");
	free(cause);
	config = parse("insecure", true, &cause);
	ok(config != NULL && config->insecure && !config->tls &&
	    strcmp(config->port, "80") == 0, "allowed explicitly (http, port 80)");
	kube_config_free(config);

	config = parse("nowhere", false, &cause);
	is_str(cause, "no contexts entry named \"nowhere\"", "an unknown context");
	free(cause);
	kube_config_free(config);

	{
		static const char plugin[] =
			"current-context: p\ncontexts:\n- name: p\n  context:\n"
			"    cluster: c\n    user: plugin\nclusters:\n- name: c\n"
			"  cluster:\n    server: https://h\nusers:\n- name: plugin\n"
			"  user:\n    exec:\n      command: aws\n";

		cause = NULL;
		config = kube_config_parse_kubeconfig(plugin, sizeof plugin - 1,
		    NULL, NULL, false, &cause);
		is_str(cause, "user \"plugin\": exec is not supported",
		    "exec plugins refused");
		free(cause);
		kube_config_free(config);
	}
	{
		static const char bad64[] =
			"current-context: p\ncontexts:\n- name: p\n  context:\n"
			"    cluster: c\nclusters:\n- name: c\n  cluster:\n"
			"    server: https://h:1\n    certificate-authority-data: \"a$b\"\n";

		cause = NULL;
		config = kube_config_parse_kubeconfig(bad64, sizeof bad64 - 1,
		    NULL, NULL, false, &cause);
		is_str(cause, "certificate-authority-data is not base64",
		    "bad base64 refused");
		free(cause);
		kube_config_free(config);
	}
	{
		static const char *servers[] = {
			"ftp://h", "https://", "https://h:0", "https://h:99999",
			"https://u@h", "https://h/?q", "https://[::1", "https://h:x",
		};
		struct kube_config scratch = { 0 };
		size_t i;

		for (i = 0; i < sizeof servers / sizeof servers[0]; i++) {
			cause = NULL;
			ok(kube_config_set_server(&scratch, servers[i], &cause) ==
			    -EINVAL, "server %s refused: %s", servers[i],
			    cause ? cause : "");
			free(cause);
		}
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_in_cluster(void)
{
	struct kube_config *config;
	char dir[] = "/tmp/test-kube-config.XXXXXX", path[256], *cause = NULL;
	char *token = NULL;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/token", dir);
	write_file(path, "  first-token\n");
	snprintf(path, sizeof path, "%s/ca.crt", dir);
	write_file(path, "-----BEGIN CERTIFICATE-----\n");
	snprintf(path, sizeof path, "%s/namespace", dir);
	write_file(path, "temper-system\n");

	unsetenv("KUBERNETES_SERVICE_HOST");
	config = kube_config_in_cluster(dir, &cause);
	ok(config == NULL && cause && strstr(cause, "not in a cluster"),
	    "outside a cluster: %s", cause ? cause : "");
	free(cause);
	cause = NULL;

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	config = kube_config_in_cluster(dir, &cause);
	if (ok(config != NULL, "in-cluster config from a service-account directory")) {
		is_str(config->server, "https://[fd00::1]:443", "host and port from the environment");
		is_str(config->token, "first-token", "token trimmed");
		is_str(config->ca_pem, "-----BEGIN CERTIFICATE-----\n", "CA read");
		is_str(config->namespace, "temper-system", "namespace read");
		ok(config->token_path != NULL && strstr(config->token_path, "/token"),
		    "the token file is kept for re-reading");
	} else {
		diag("%s", cause);
		free(cause);
	}
	kube_config_free(config);

	snprintf(path, sizeof path, "%s/token", dir);
	write_file(path, "\n\n");
	cause = NULL;
	ok(kube_config_read_token(path, &token, &cause) == -EINVAL &&
	    token == NULL, "an empty token is refused: %s", cause ? cause : "");
	free(cause);
	cause = NULL;
	write_file(path, "second\n");
	ok(kube_config_read_token(path, &token, &cause) == 0 &&
	    strcmp(token, "second") == 0, "a rotated token is read again");
	free(token);
	unlink(path);
	snprintf(path, sizeof path, "%s/ca.crt", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/namespace", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_yaml();
	test_kubeconfig();
	test_in_cluster();
	return done_testing();
}
