/*
 * t/test-topology.c - the CPU topology read from fake sysfs trees of several
 * machine shapes (written by t/fixtures/mksysfs.sh into a temporary
 * directory), from hand-made broken trees, and from this machine's /sys.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topology.h"
#include "tap.h"

static char tmpdir[] = "/tmp/temper-topology-XXXXXX";

struct shape {
	const char *name;
	unsigned nodes, llcs_per_node, cores_per_llc, threads;
	unsigned offline[2];	/* ids of offline CPUs, 0-terminated past the first */
	size_t offline_count;
};

static const struct shape shapes[] = {
	{ "2cpu-smt", 1, 1, 1, 2, { 0 }, 0 },
	{ "2cpu-nosmt", 1, 1, 2, 1, { 0 }, 0 },
	{ "8cpu-smt", 1, 1, 4, 2, { 0 }, 0 },
	{ "8cpu-nosmt", 1, 1, 8, 1, { 0 }, 0 },
	{ "8cpu-smt-offline", 1, 1, 4, 2, { 7 }, 1 },
	{ "64cpu-smt", 1, 4, 8, 2, { 0 }, 0 },
	{ "64cpu-nosmt", 1, 4, 16, 1, { 0 }, 0 },
	{ "192cpu-smt", 2, 4, 12, 2, { 0 }, 0 },
	{ "192cpu-offline", 2, 4, 12, 2, { 5, 100 }, 2 },
};

static bool
is_offline(const struct shape *shape, unsigned id)
{
	for (size_t i = 0; i < shape->offline_count; i++)
		if (shape->offline[i] == id)
			return true;
	return false;
}

static const struct topology_cpu *
find_cpu(const struct topology *topology, unsigned id)
{
	for (size_t i = 0; i < topology->cpu_count; i++)
		if (topology->cpus[i].id == id)
			return &topology->cpus[i];
	return NULL;
}

static void
test_shape(const struct shape *shape)
{
	unsigned cores = shape->nodes * shape->llcs_per_node * shape->cores_per_llc;
	unsigned cpus = cores * shape->threads;
	struct topology *topology, *synthetic;
	char root[256], *cause = NULL, *text;
	bool pairs_ok = true, nodes_ok = true, llcs_ok = true, same = true;

	snprintf(root, sizeof root, "%s/%s", tmpdir, shape->name);
	topology = topology_read(root, &cause);
	if (!ok(topology != NULL, "%s: read", shape->name)) {
		diag("  %s", cause ? cause : "(no cause)");
		free(cause);
		return;
	}
	is_int(topology->cpu_count, cpus - shape->offline_count,
	    "  online CPUs");
	is_int(topology->offline_count, shape->offline_count, "  offline CPUs");
	is_int(topology->core_count, cores, "  cores");
	is_int(topology->threads_per_core, shape->threads, "  threads per core");
	is_int(topology->llc_count, shape->nodes * shape->llcs_per_node, "  LLCs");
	is_int(topology->node_count, shape->nodes, "  NUMA nodes");

	for (size_t i = 0; i < shape->offline_count; i++)
		ok(find_cpu(topology, shape->offline[i]) == NULL,
		    "  offline CPU %u excluded", shape->offline[i]);

	/* x86 numbering: CPU c and c + cores are the two threads of core c. */
	for (unsigned c = 0; c < cores; c++) {
		for (unsigned t = 1; t < shape->threads; t++) {
			unsigned sibling = c + t * cores;
			bool expect = !is_offline(shape, c) &&
			    !is_offline(shape, sibling);

			if (topology_siblings(topology, c, sibling) != expect)
				pairs_ok = false;
		}
		if (c + 1 < cores && topology_siblings(topology, c, c + 1))
			pairs_ok = false;
	}
	ok(pairs_ok, "  sibling pairs are (c, c + %u), no others", cores);

	for (size_t i = 0; i < topology->cpu_count; i++) {
		const struct topology_cpu *cpu = &topology->cpus[i];
		unsigned core = cpu->id % cores;

		if (cpu->node != core / (shape->llcs_per_node * shape->cores_per_llc))
			nodes_ok = false;
		if (cpu->llc != core / shape->cores_per_llc)
			llcs_ok = false;
	}
	ok(nodes_ok, "  every CPU on its NUMA node");
	ok(llcs_ok, "  every CPU on its LLC");

	/* The pure builder must describe the same machine as sysfs does. */
	synthetic = topology_synthetic(shape->nodes, shape->llcs_per_node,
	    shape->cores_per_llc, shape->threads);
	if (synthetic == NULL)
		same = false;
	else if (shape->offline_count == 0) {
		same = synthetic->cpu_count == topology->cpu_count &&
		    synthetic->core_count == topology->core_count &&
		    synthetic->llc_count == topology->llc_count &&
		    synthetic->node_count == topology->node_count &&
		    memcmp(synthetic->cpus, topology->cpus,
		    topology->cpu_count * sizeof *topology->cpus) == 0 &&
		    memcmp(synthetic->cores, topology->cores,
		    topology->core_count * sizeof *topology->cores) == 0;
	}
	ok(same, "  topology_synthetic agrees with sysfs");
	topology_free(synthetic);

	text = topology_describe(topology);
	diag("  %s", text ? text : "(describe failed)");
	free(text);
	topology_free(topology);
}

static void
write_file(const char *root, const char *relative, const char *text)
{
	char path[512], command[600];
	FILE *file;

	snprintf(path, sizeof path, "%s/%s", root, relative);
	snprintf(command, sizeof command, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(command) != 0 || (file = fopen(path, "w")) == NULL) {
		diag("cannot write %s", path);
		return;
	}
	fputs(text, file);
	fclose(file);
}

static void
test_degraded(void)
{
	struct topology *topology;
	char root[256], command[800], *cause = NULL, *text;

	/* A container's /sys may hide everything but the online mask. */
	snprintf(root, sizeof root, "%s/bare", tmpdir);
	write_file(root, "devices/system/cpu/online", "0-3\n");
	topology = topology_read(root, &cause);
	ok(topology != NULL, "bare online mask: read");
	if (topology != NULL) {
		is_int(topology->cpu_count, 4, "  4 CPUs");
		is_int(topology->core_count, 4, "  each its own core");
		is_int(topology->llc_count, 1, "  one LLC (per package)");
		is_int(topology->node_count, 1, "  one node");
		text = topology_describe(topology);
		is_str(text, "4 CPUs (4 cores x 1 thread), 1 LLC, 1 NUMA node",
		    "  described");
		free(text);
	}
	topology_free(topology);

	/* Uneven cores: an offline sibling leaves a one-thread core. */
	snprintf(root, sizeof root, "%s/8cpu-smt-offline", tmpdir);
	topology = topology_read(root, NULL);
	if (topology != NULL) {
		text = topology_describe(topology);
		is_str(text, "7 CPUs (4 cores of up to 2 threads), 1 LLC, "
		    "1 NUMA node, 1 offline", "offline sibling described");
		free(text);
	}
	topology_free(topology);

	/* No sibling lists: cores come from package and core_id. */
	snprintf(root, sizeof root, "%s/192cpu-smt", tmpdir);
	snprintf(command, sizeof command, "cp -r '%s' '%s/ids' && find "
	    "'%s/ids' -name thread_siblings_list -delete", root, tmpdir, tmpdir);
	snprintf(root, sizeof root, "%s/ids", tmpdir);
	if (system(command) == 0 && (topology = topology_read(root, NULL)) != NULL) {
		is_int(topology->core_count, 96, "no sibling lists: 96 cores "
		    "from package and core_id");
		is_int(topology->threads_per_core, 2, "  of 2 threads");
		ok(topology_siblings(topology, 0, 96) &&
		    topology_siblings(topology, 48, 144) &&
		    !topology_siblings(topology, 0, 48),
		    "  pairs (c, c + 96), not across packages");
		topology_free(topology);
	} else {
		ok(0, "no sibling lists: read");
	}

	snprintf(root, sizeof root, "%s/missing", tmpdir);
	topology = topology_read(root, &cause);
	ok(topology == NULL && errno == ENOENT, "missing sysfs root: ENOENT");
	ok(cause != NULL && strstr(cause, "/devices/system/cpu/online") != NULL,
	    "  cause names the file: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;

	snprintf(root, sizeof root, "%s/garbage", tmpdir);
	write_file(root, "devices/system/cpu/online", "0-x\n");
	topology = topology_read(root, &cause);
	ok(topology == NULL && errno == EINVAL, "malformed online mask: EINVAL");
	free(cause);
	cause = NULL;

	snprintf(root, sizeof root, "%s/huge", tmpdir);
	write_file(root, "devices/system/cpu/online", "0-99999\n");
	topology = topology_read(root, &cause);
	ok(topology == NULL && errno == ERANGE, "CPU id beyond the bound: ERANGE");
	free(cause);
	cause = NULL;

	snprintf(root, sizeof root, "%s/empty", tmpdir);
	write_file(root, "devices/system/cpu/online", "\n");
	topology = topology_read(root, &cause);
	ok(topology == NULL, "empty online mask refused");
	free(cause);

	ok(topology_synthetic(0, 1, 1, 1) == NULL && errno == EINVAL,
	    "synthetic: zero nodes refused");
	ok(topology_synthetic(1, 1, 8192, 2) == NULL && errno == EINVAL,
	    "synthetic: more than TOPOLOGY_MAX_CPUS refused");
}

static void
test_this_machine(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct topology *topology;
	char *cause = NULL, *text;
	bool cores_ok = true;
	size_t threads = 0;

	topology = topology_read("/sys", &cause);
	if (!ok(topology != NULL, "this machine's /sys: read")) {
		diag("  %s", cause ? cause : "(no cause)");
		free(cause);
		return;
	}
	is_int(topology->cpu_count, online, "  CPU count = sysconf online CPUs");
	ok(topology->core_count >= 1 && topology->core_count <= topology->cpu_count,
	    "  1 <= cores <= CPUs");
	ok(topology->llc_count >= 1 && topology->llc_count <= topology->core_count,
	    "  1 <= LLCs <= cores");
	ok(topology->node_count >= 1, "  at least one NUMA node");
	for (size_t i = 0; i < topology->core_count; i++) {
		threads += topology->cores[i].cpu_count;
		if (topology->cores[i].cpu_count > topology->threads_per_core)
			cores_ok = false;
	}
	ok(cores_ok && threads == topology->cpu_count,
	    "  every online CPU in exactly one core");
	text = topology_describe(topology);
	diag("  this machine: %s", text ? text : "(describe failed)");
	free(text);
	topology_free(topology);
}

int
main(void)
{
	const char *srcdir = getenv("TOP_SRCDIR");
	char command[512];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(command, sizeof command, "sh '%s/t/fixtures/mksysfs.sh' '%s'",
	    srcdir ? srcdir : ".", tmpdir);
	if (!ok(system(command) == 0, "fixture trees written by mksysfs.sh"))
		return done_testing();
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		test_shape(&shapes[i]);
	test_degraded();
	test_this_machine();

	snprintf(command, sizeof command, "rm -rf '%s'", tmpdir);
	if (system(command) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
