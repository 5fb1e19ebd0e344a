/*
 * scx-gate.h - may this node run scx_layered?  The kernel gate.
 *
 * Five questions, each answered with a reason a human can act on: does the
 * kernel have sched_ext (SYSFS/kernel/sched_ext), is it free (state
 * "disabled", or "enabled" by our own scheduler), is the kernel 6.12 or
 * newer (sched_ext landed in 6.12), is its BTF there (scx_layered reads
 * /sys/kernel/btf/vmlinux before anything else), is the scheduler binary
 * there and runnable.
 *
 * scx_gate_evaluate() is pure: what was read in, a verdict out, so fixture
 * trees and made-up releases test every outcome.  scx_gate_read() is the
 * thin layer that reads a sysfs root, uname and the binary.
 */
#ifndef TEMPER_SCX_GATE_H
#define TEMPER_SCX_GATE_H

#include <stdbool.h>

struct cJSON;

/* sched_ext landed in Linux 6.12. */
#define SCX_GATE_MIN_MAJOR 6
#define SCX_GATE_MIN_MINOR 12

/* What the gate looks at, as read (or made up by a test). */
struct scx_gate_input {
	bool sched_ext_present;		/* SYSFS/kernel/sched_ext is a directory */
	char *state;			/* its "state", trimmed; NULL: unreadable */
	char *ops;			/* root/ops, trimmed; NULL: no scheduler */
	bool btf_present;		/* SYSFS/kernel/btf/vmlinux */
	char *release;			/* uname -r, or a test's */
	char *binary;			/* the scheduler binary's path */
	int binary_error;		/* 0, or the -errno of its check */
	bool own_scheduler_running;	/* our child holds sched_ext now */
};

/* Each failed question is one bit. */
enum scx_gate_failure {
	SCX_GATE_NO_SCHED_EXT = 1 << 0,
	SCX_GATE_STATE_UNREADABLE = 1 << 1,
	SCX_GATE_BUSY = 1 << 2,			/* another scheduler holds sched_ext */
	SCX_GATE_TRANSITION = 1 << 3,		/* enabling or disabling right now */
	SCX_GATE_KERNEL_TOO_OLD = 1 << 4,
	SCX_GATE_RELEASE_UNPARSABLE = 1 << 5,
	SCX_GATE_NO_BTF = 1 << 6,
	SCX_GATE_NO_BINARY = 1 << 7,
	SCX_GATE_BINARY_NOT_RUNNABLE = 1 << 8,
};

struct scx_gate {
	bool pass;
	unsigned failures;		/* enum scx_gate_failure bits */
	unsigned kernel_major, kernel_minor;
	char *reason;			/* "; "-joined sentences; "" when it passes */
};

/* Free the strings of an input (not the struct itself). */
void scx_gate_input_clear(struct scx_gate_input *input);
void scx_gate_clear(struct scx_gate *gate);

/*
 * Parse the "6.12.3-amd64" style release into major and minor.  0, or
 * -EINVAL when it does not start with two dot-separated numbers.
 */
int scx_gate_parse_release(const char *release, unsigned *major, unsigned *minor);

/* Pure.  0 or -ENOMEM (then *gate is cleared). */
int scx_gate_evaluate(const struct scx_gate_input *input, struct scx_gate *gate);

/*
 * Read SYSFS_ROOT/kernel/sched_ext/{state,root/ops}, SYSFS_ROOT/kernel/btf/
 * vmlinux, the release (uname when release is NULL) and the binary (a
 * regular file, executable, starting with an ELF header or "#!").  0 or
 * -ENOMEM; what cannot be read is recorded in the input, not returned.
 */
int scx_gate_read(const char *sysfs_root, const char *release,
    const char *binary, bool own_scheduler_running,
    struct scx_gate_input *input);

/* The name of a failure bit ("no-sched-ext", ...), for JSON. */
const char *scx_gate_failure_name(enum scx_gate_failure failure);

/* {"pass":..,"reason":..,"failures":[..],"kernel":"6.18",...}; NULL on ENOMEM. */
struct cJSON *scx_gate_json(const struct scx_gate_input *input,
    const struct scx_gate *gate);

#endif
