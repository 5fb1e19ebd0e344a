/* t/test-conf.c - temper.conf: keys, types, errors with line and column. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

static int
parse(struct conf *conf, const char *text, char **cause)
{
	free(*cause);
	*cause = NULL;
	return conf_parse(conf, text, strlen(text), "test.conf", cause);
}

int
main(void)
{
	struct conf conf;
	char *cause = NULL, roles[64];
	unsigned bits;

	conf_init(&conf);
	is_str(conf.listen, "0.0.0.0:9470", "the default listen address");
	ok(conf.roles == CONF_ROLE_AGENT, "the default role is agent");

	ok(parse(&conf,
	    "# a full file\n"
	    "[daemon]\nroles = [\"agent\", \"webhook\"]\nlisten = \"127.0.0.1:1\"\n"
	    "state_dir = \"/tmp/s\"\nlog_level = \"debug\"\n"
	    "[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\n"
	    "[http]\nmax_header_bytes = 100\nmax_body_bytes = 200\n"
	    "request_timeout_ms = 300\nidle_timeout_ms = 400\nmax_connections = 5\n"
	    "[kubernetes]\nkubeconfig = \"/kc\"\nnode_name = \"n1\"\nlegacy_annotations = false\n"
	    "[node]\ncgroup_root = \"/cg\"\nsysfs_root = \"/sy\"\n"
	    "[enforcement]\nmode = \"cgroup\"\nscheduler_bin = \"/bin/scx\"\n"
	    "attach_timeout_ms = 240000\n",
	    &cause) == 0, "a file with every key parses (%s)", cause ? cause : "ok");
	ok(conf.roles == (CONF_ROLE_AGENT | CONF_ROLE_WEBHOOK), "roles from an array");
	is_str(conf.listen, "127.0.0.1:1", "listen");
	is_str(conf.state_dir, "/tmp/s", "state_dir");
	is_str(conf.log_level, "debug", "log_level");
	is_str(conf.tls_cert, "/c.pem", "tls cert");
	is_int(conf.http.max_header_bytes, 100, "max_header_bytes");
	is_int(conf.http.max_body_bytes, 200, "max_body_bytes");
	is_int(conf.http.request_timeout_ms, 300, "request_timeout_ms");
	is_int(conf.http.idle_timeout_ms, 400, "idle_timeout_ms");
	is_int(conf.http.max_connections, 5, "max_connections");
	is_str(conf.node_name, "n1", "node_name");
	ok(!conf.legacy_annotations, "legacy_annotations");
	is_str(conf.cgroup_root, "/cg", "cgroup_root");
	ok(conf.enforcement == CONF_ENFORCEMENT_CGROUP, "enforcement mode");
	is_int(conf.attach_timeout_ms, 240000, "attach_timeout_ms");

	/* A failed parse leaves the previous configuration whole. */
	ok(parse(&conf, "[daemon]\nlisten = \"1.2.3.4:5\"\n[http]\nmax_connections = 0\n",
	    &cause) < 0, "zero connections is refused");
	is_str(cause, "test.conf: line 4, column 19: expected 1 to 1000000, found 0",
	    "the reason names file, line and column");
	is_str(conf.listen, "127.0.0.1:1", "nothing of the failed file was applied");

	ok(parse(&conf, "[daemon]\nlisen = \"x\"\n", &cause) < 0, "a misspelt key is refused");
	is_str(cause, "test.conf: line 2, column 9: unknown key 'lisen' in [daemon]",
	    "... naming it");
	ok(parse(&conf, "[deamon]\n", &cause) < 0 && strstr(cause, "unknown section [deamon]"),
	    "a misspelt section is refused");
	ok(parse(&conf, "listen = \"x\"\n", &cause) < 0 && strstr(cause, "outside any section"),
	    "a key outside a section is refused");
	ok(parse(&conf, "[http]\nmax_body_bytes = \"big\"\n", &cause) < 0 &&
	    strstr(cause, "expected an integer, found string"), "a wrong type is refused");
	ok(parse(&conf, "[daemon]\nstate_dir = \"relative\"\n", &cause) < 0 &&
	    strstr(cause, "absolute path"), "a relative path is refused");
	ok(parse(&conf, "[daemon]\nroles = [\"agent\", \"chef\"]\n", &cause) < 0 &&
	    strstr(cause, "line 2, column 19: unknown role 'chef'"), "an unknown role is refused");
	ok(parse(&conf, "[tls]\ncert = \"/c\"\n", &cause) < 0 &&
	    strstr(cause, "needs both cert and key"), "a certificate without a key is refused");
	ok(parse(&conf, "[enforcement]\nmode = \"fast\"\n", &cause) < 0,
	    "an unknown enforcement mode is refused");
	ok(parse(&conf, "[daemon\n", &cause) < 0 && strstr(cause, "test.conf: line 1"),
	    "TOML syntax errors carry the file name and line");

	ok(conf_parse_roles("agent,extender", &bits, &cause) == 0 &&
	    bits == (CONF_ROLE_AGENT | CONF_ROLE_EXTENDER), "roles from a flag");
	conf_format_roles(bits, roles, sizeof roles);
	is_str(roles, "agent,extender", "roles formatted back");
	free(cause);
	cause = NULL;
	ok(conf_parse_roles("agent,", &bits, &cause) == 0, "a trailing comma is tolerated");
	ok(conf_parse_roles("", &bits, &cause) < 0, "no role is refused");

	free(cause);
	conf_free(&conf);
	return done_testing();
}
