/*
 * hint.h - shared between bpf/hint.bpf.c and src/hint-map.c: the layout of
 * scx_layered's task-hint map value and of the cgroup-to-hint table.
 *
 * HINT_VALUE must stay byte for byte scx_layered's struct task_hint
 * (scheds/rust/scx_layered/src/bpf/main.bpf.c, 1.1.x): scx_layered reuses
 * the map pinned at --task-hint-map only when type, key size, value size
 * and flags all agree, and reads the first 8 bytes as the hint.
 */
#ifndef TEMPER_BPF_HINT_H
#define TEMPER_BPF_HINT_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint32_t hint_u32;
typedef uint64_t hint_u64;
#else
typedef __u32 hint_u32;
typedef __u64 hint_u64;
#endif

/* A task-storage value: the hint, then room scx_layered keeps for itself. */
struct hint_task_value {
	hint_u64 hint;
	hint_u64 reserved[3];
};

/* HintEquals accepts 0..1024; a task without an entry has no hint. */
#define HINT_MAX_VALUE 1024

/* Pod cgroups the table can hold (a node runs a few hundred pods). */
#define HINT_MAX_CGROUPS 16384

/*
 * Cgroup levels walked up from a task's own cgroup to the nearest one in
 * the table: containers sit one or two levels below their pod's cgroup,
 * and the pod's own cgroup may be deep under kubepods (or a test tree).
 */
#define HINT_MAX_DEPTH 16

/* Counters user space reads from .bss; each is bumped by one event. */
struct hint_counters {
	hint_u64 forks;			/* new tasks given a hint */
	hint_u64 attaches;		/* cgroup moves seen */
	hint_u64 written;		/* hints set (fork, attach or sweep) */
	hint_u64 cleared;		/* hints removed: the task left every listed cgroup */
	hint_u64 failed;		/* task storage could not be created */
};

#endif
