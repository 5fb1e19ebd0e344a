/*
 * t/test-scx-gate.c - the kernel gate on fixture sysfs trees (written here
 * into a temporary directory) and on this host's own /sys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "scx-gate.h"
#include "tap.h"

static char root[] = "/tmp/test-scx-gate.XXXXXX";

static void
put(const char *relative, const char *text, mode_t mode)
{
	char path[4096], command[8192];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, relative);
	snprintf(command, sizeof command, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(command) != 0)
		abort();
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
wipe(const char *relative)
{
	char command[8192];

	snprintf(command, sizeof command, "rm -rf '%s/%s'", root, relative);
	if (system(command) != 0)
		abort();
}

/* A sysfs tree: sched_ext in STATE (NULL: absent), ops (NULL: none), BTF. */
static void
tree(const char *state, const char *ops, int btf)
{
	wipe("sys");
	put("sys/kernel/.keep", "", 0644);
	if (state != NULL) {
		put("sys/kernel/sched_ext/state", state, 0444);
		put("sys/kernel/sched_ext/switch_all", "0\n", 0444);
		put("sys/kernel/sched_ext/enable_seq", "3\n", 0444);
	}
	if (ops != NULL)
		put("sys/kernel/sched_ext/root/ops", ops, 0444);
	if (btf)
		put("sys/kernel/btf/vmlinux", "BTF", 0444);
}

static struct scx_gate
gate_of(const char *release, const char *binary, bool own, struct scx_gate_input *input)
{
	char sysfs[4096], bin[4096];
	struct scx_gate gate;

	snprintf(sysfs, sizeof sysfs, "%s/sys", root);
	snprintf(bin, sizeof bin, "%s/%s", root, binary);
	if (scx_gate_read(sysfs, release, bin, own, input) != 0 ||
	    scx_gate_evaluate(input, &gate) != 0)
		abort();
	return gate;
}

static void
check(const char *label, const char *release, const char *binary, bool own,
    unsigned failures, const char *reason_part)
{
	struct scx_gate_input input;
	struct scx_gate gate = gate_of(release, binary, own, &input);

	is_int(gate.failures, failures, "%s: failure bits", label);
	ok(gate.pass == (failures == 0), "%s: %s", label, gate.pass ? "passes" : "refuses");
	if (reason_part != NULL && !ok(strstr(gate.reason, reason_part) != NULL,
	    "%s: the reason says \"%s\"", label, reason_part))
		diag("  reason: %s", gate.reason);
	if (reason_part == NULL)
		is_str(gate.reason, "", "%s: no reason", label);
	else
		diag("%s: %s", label, gate.reason);
	scx_gate_clear(&gate);
	scx_gate_input_clear(&input);
}

int
main(void)
{
	struct scx_gate_input input;
	struct scx_gate gate;
	unsigned major, minor;
	cJSON *json;
	char *text;

	if (mkdtemp(root) == NULL)
		skip_all("mkdtemp: %s", strerror(errno));
	put("bin/scx_layered", "#!/bin/sh\nexit 0\n", 0755);
	put("bin/not-executable", "#!/bin/sh\n", 0644);
	put("bin/garbage", "hello\n", 0755);
	put("bin/dir/.keep", "", 0644);

	/* Releases. */
	ok(scx_gate_parse_release("6.18.44-fc-v657", &major, &minor) == 0 &&
	    major == 6 && minor == 18, "6.18.44-fc-v657 is 6.18");
	ok(scx_gate_parse_release("6.12", &major, &minor) == 0 &&
	    major == 6 && minor == 12, "6.12 is 6.12");
	ok(scx_gate_parse_release("6.1.0-18-amd64", &major, &minor) == 0 &&
	    major == 6 && minor == 1, "6.1.0-18-amd64 is 6.1");
	ok(scx_gate_parse_release("6", &major, &minor) == -EINVAL, "\"6\" does not parse");
	ok(scx_gate_parse_release("linux-6.12", &major, &minor) == -EINVAL,
	    "\"linux-6.12\" does not parse");
	ok(scx_gate_parse_release("", &major, &minor) == -EINVAL, "\"\" does not parse");
	ok(scx_gate_parse_release(NULL, &major, &minor) == -EINVAL, "NULL does not parse");

	/* The four outcomes the issue names. */
	tree(NULL, NULL, 1);
	check("sched_ext absent", "6.12.0", "bin/scx_layered", false,
	    SCX_GATE_NO_SCHED_EXT, "the kernel has no sched_ext");
	tree("disabled\n", NULL, 1);
	check("present and disabled", "6.12.0", "bin/scx_layered", false, 0, NULL);
	tree("enabled\n", "rusty_1.0.8_x86_64\n", 1);
	check("enabled by another scheduler", "6.12.0", "bin/scx_layered", false,
	    SCX_GATE_BUSY, "another sched_ext scheduler is attached (rusty_1.0.8_x86_64)");
	tree("disabled\n", NULL, 1);
	check("kernel too old (a backport's sysfs)", "6.6.30-backport", "bin/scx_layered",
	    false, SCX_GATE_KERNEL_TOO_OLD, "kernel 6.6 is older than 6.12");

	/* Around them. */
	tree("enabled\n", "layered_1.1.4_x86_64\n", 1);
	check("enabled by our own scheduler", "6.13.2", "bin/scx_layered", true, 0, NULL);
	check("enabled by a layered we did not start", "6.13.2", "bin/scx_layered", false,
	    SCX_GATE_BUSY, "(layered_1.1.4_x86_64)");
	tree("enabling\n", "layered\n", 1);
	check("another scheduler enabling", "6.12.0", "bin/scx_layered", false,
	    SCX_GATE_TRANSITION, "sched_ext is enabling a scheduler (layered)");
	tree("disabled\n", NULL, 0);
	check("no BTF", "6.12.0", "bin/scx_layered", false, SCX_GATE_NO_BTF,
	    "CONFIG_DEBUG_INFO_BTF");
	tree("disabled\n", NULL, 1);
	check("binary missing", "6.12.0", "bin/nothing", false, SCX_GATE_NO_BINARY,
	    "does not exist");
	check("binary not executable", "6.12.0", "bin/not-executable", false,
	    SCX_GATE_BINARY_NOT_RUNNABLE, "Permission denied");
	check("binary neither ELF nor script", "6.12.0", "bin/garbage", false,
	    SCX_GATE_BINARY_NOT_RUNNABLE, "not an ELF executable or script");
	check("binary a directory", "6.12.0", "bin/dir", false,
	    SCX_GATE_BINARY_NOT_RUNNABLE, "Is a directory");
	check("release garbage", "unknown", "bin/scx_layered", false,
	    SCX_GATE_RELEASE_UNPARSABLE, "does not parse");
	tree("weird\n", NULL, 1);
	check("unknown state", "6.12.0", "bin/scx_layered", false,
	    SCX_GATE_STATE_UNREADABLE, "\"weird\"");
	tree(NULL, NULL, 0);
	check("everything missing", "5.10.0", "bin/nothing", false,
	    SCX_GATE_NO_SCHED_EXT | SCX_GATE_KERNEL_TOO_OLD | SCX_GATE_NO_BTF |
	    SCX_GATE_NO_BINARY, "; ");

	/* JSON for /api/v1/status. */
	tree("enabled\n", "rusty\n", 1);
	gate = gate_of("6.12.0", "bin/scx_layered", false, &input);
	json = scx_gate_json(&input, &gate);
	text = cJSON_PrintUnformatted(json);
	ok(text != NULL && strstr(text, "\"pass\":false") != NULL &&
	    strstr(text, "\"failures\":[\"busy\"]") != NULL &&
	    strstr(text, "\"ops\":\"rusty\"") != NULL &&
	    strstr(text, "\"kernel\":\"6.12\"") != NULL, "the JSON says why: %s", text);
	free(text);
	cJSON_Delete(json);
	scx_gate_clear(&gate);
	scx_gate_input_clear(&input);
	is_str(scx_gate_failure_name(SCX_GATE_NO_BTF), "no-btf", "failure names");

	/* This host, as the daemon reads it. */
	if (scx_gate_read("/sys", NULL, "/bin/true", false, &input) != 0 ||
	    scx_gate_evaluate(&input, &gate) != 0)
		abort();
	if (input.sched_ext_present)
		diag("this host has sched_ext (state %s)", input.state ? input.state : "?");
	else
		ok(!gate.pass && (gate.failures & SCX_GATE_NO_SCHED_EXT),
		    "this host (%s) has no sched_ext and the gate says so", input.release);
	diag("this host: %s", gate.pass ? "passes" : gate.reason);
	scx_gate_clear(&gate);
	scx_gate_input_clear(&input);

	wipe("");
	return done_testing();
}
