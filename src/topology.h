/*
 * topology.h - the node's CPUs as the planner needs them: online CPUs,
 * whole cores (SMT siblings), last-level caches and NUMA nodes.
 *
 * topology_read() is the only I/O: it reads --sysfs-root once.  Everything
 * else builds and queries plain structs, so planner tests and simulations
 * describe machines without touching /sys.
 */
#ifndef TEMPER_TOPOLOGY_H
#define TEMPER_TOPOLOGY_H

#include <stddef.h>

/* Far above scx_layered's MAX_CPUS (512): bounds what a sysfs tree can make us allocate. */
#define TOPOLOGY_MAX_CPUS 8192

struct topology_cpu {
	unsigned id;		/* the kernel's CPU number */
	unsigned package;	/* physical_package_id */
	unsigned core;		/* index into topology.cores */
	unsigned llc;		/* dense index, 0 .. llc_count - 1 */
	unsigned node;		/* NUMA node id as the kernel numbers it */
};

struct topology_core {
	unsigned first_cpu;	/* lowest online CPU id of the core */
	unsigned cpu_count;	/* online threads of the core */
	unsigned llc;
	unsigned node;
};

struct topology {
	struct topology_cpu *cpus;	/* online CPUs only, ascending id */
	size_t cpu_count;
	struct topology_core *cores;	/* ordered by first_cpu */
	size_t core_count;
	size_t llc_count;
	size_t node_count;		/* nodes with at least one online CPU */
	unsigned threads_per_core;	/* the most threads a core has online */
	size_t offline_count;		/* CPUs sysfs lists that are not online */
};

/*
 * Read sysfs_root/devices/system/{cpu,node}.  The online mask is required;
 * per-CPU topology, caches and nodes fall back to "each CPU its own core,
 * one LLC per package, node 0" when a kernel or container hides them.
 * Returns NULL with errno and *cause on failure.
 */
struct topology *topology_read(const char *sysfs_root, char **cause);

/*
 * A machine of the given shape, numbered like x86 Linux (first threads of all
 * cores, then second threads): nodes x llcs_per_node x cores_per_llc cores
 * of threads_per_core CPUs.  For tests, benchmarks and simulation.  NULL with
 * errno EINVAL or ENOMEM.
 */
struct topology *topology_synthetic(unsigned nodes, unsigned llcs_per_node,
    unsigned cores_per_llc, unsigned threads_per_core);

/* Whether two online CPUs are SMT siblings of one core (false for unknown ids). */
int topology_siblings(const struct topology *topology, unsigned cpu_a,
    unsigned cpu_b);

/* "8 CPUs (4 cores x 2 threads), 1 LLC, 1 NUMA node" into a malloc'd string. */
char *topology_describe(const struct topology *topology);

void topology_free(struct topology *topology);

#endif
