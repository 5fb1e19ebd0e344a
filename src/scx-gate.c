/* scx-gate.c - the kernel gate: sched_ext, its state, the kernel, BTF, the binary. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "scx-gate.h"

/* sysfs attributes and ops names are short; anything longer is not one. */
#define SCX_GATE_ATTRIBUTE_MAX 256

static const char *const scx_gate_failure_names[] = {
	"no-sched-ext",
	"state-unreadable",
	"busy",
	"transition",
	"kernel-too-old",
	"release-unparsable",
	"no-btf",
	"no-binary",
	"binary-not-runnable",
};
#define SCX_GATE_FAILURE_COUNT \
	(sizeof scx_gate_failure_names / sizeof scx_gate_failure_names[0])

const char *
scx_gate_failure_name(enum scx_gate_failure failure)
{
	for (size_t i = 0; i < SCX_GATE_FAILURE_COUNT; i++)
		if ((unsigned)failure == 1u << i)
			return scx_gate_failure_names[i];
	return "unknown";
}

void
scx_gate_input_clear(struct scx_gate_input *input)
{
	if (input == NULL)
		return;
	free(input->state);
	free(input->ops);
	free(input->release);
	free(input->binary);
	memset(input, 0, sizeof *input);
}

void
scx_gate_clear(struct scx_gate *gate)
{
	if (gate == NULL)
		return;
	free(gate->reason);
	memset(gate, 0, sizeof *gate);
}

int
scx_gate_parse_release(const char *release, unsigned *major, unsigned *minor)
{
	unsigned long parts[2];
	const char *p = release;
	char *end;

	if (release == NULL)
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		parts[i] = strtoul(p, &end, 10);
		if (errno != 0 || parts[i] > 100000)
			return -EINVAL;
		if (i == 0 && *end != '.')
			return -EINVAL;
		p = end + 1;
	}
	*major = (unsigned)parts[0];
	*minor = (unsigned)parts[1];
	return 0;
}

/* One sentence more, "; "-separated. */
__attribute__((format(printf, 2, 3)))
static int
scx_gate_say(struct buf *reason, const char *fmt, ...)
{
	va_list ap;
	int error = 0;

	if (reason->len > 0)
		error = buf_append(reason, "; ", 2);
	if (error == 0) {
		va_start(ap, fmt);
		error = buf_vprintf(reason, fmt, ap);
		va_end(ap);
	}
	return error;
}

int
scx_gate_evaluate(const struct scx_gate_input *input, struct scx_gate *gate)
{
	struct buf reason = BUF_INIT;
	unsigned failures = 0;
	int error = 0;

	memset(gate, 0, sizeof *gate);

	if (!input->sched_ext_present) {
		failures |= SCX_GATE_NO_SCHED_EXT;
		error = scx_gate_say(&reason, "the kernel has no sched_ext "
		    "(kernel/sched_ext is missing from sysfs: CONFIG_SCHED_CLASS_EXT is unset)");
	} else if (input->state == NULL) {
		failures |= SCX_GATE_STATE_UNREADABLE;
		error = scx_gate_say(&reason, "kernel/sched_ext/state cannot be read");
	} else if (strcmp(input->state, "enabled") == 0) {
		if (!input->own_scheduler_running) {
			failures |= SCX_GATE_BUSY;
			error = scx_gate_say(&reason, "another sched_ext scheduler is attached (%s)",
			    input->ops != NULL ? input->ops : "its name is unreadable");
		}
	} else if (strcmp(input->state, "enabling") == 0 ||
	    strcmp(input->state, "disabling") == 0) {
		if (!input->own_scheduler_running) {
			failures |= SCX_GATE_TRANSITION;
			error = scx_gate_say(&reason, "sched_ext is %s a scheduler (%s)",
			    input->state, input->ops != NULL ? input->ops : "unnamed");
		}
	} else if (strcmp(input->state, "disabled") != 0) {
		failures |= SCX_GATE_STATE_UNREADABLE;
		error = scx_gate_say(&reason, "kernel/sched_ext/state reads \"%s\", not a state this agent knows",
		    input->state);
	}

	if (error == 0 && scx_gate_parse_release(input->release,
	    &gate->kernel_major, &gate->kernel_minor) != 0) {
		failures |= SCX_GATE_RELEASE_UNPARSABLE;
		error = scx_gate_say(&reason, "the kernel release \"%s\" does not parse",
		    input->release != NULL ? input->release : "");
	} else if (error == 0 && (gate->kernel_major < SCX_GATE_MIN_MAJOR ||
	    (gate->kernel_major == SCX_GATE_MIN_MAJOR &&
	    gate->kernel_minor < SCX_GATE_MIN_MINOR))) {
		failures |= SCX_GATE_KERNEL_TOO_OLD;
		error = scx_gate_say(&reason, "kernel %u.%u is older than %d.%d, where sched_ext landed",
		    gate->kernel_major, gate->kernel_minor,
		    SCX_GATE_MIN_MAJOR, SCX_GATE_MIN_MINOR);
	}

	if (error == 0 && !input->btf_present) {
		failures |= SCX_GATE_NO_BTF;
		error = scx_gate_say(&reason, "the kernel's BTF (kernel/btf/vmlinux) is missing: "
		    "scx_layered needs CONFIG_DEBUG_INFO_BTF");
	}

	if (error == 0 && input->binary_error == -ENOENT) {
		failures |= SCX_GATE_NO_BINARY;
		error = scx_gate_say(&reason, "the scheduler binary %s does not exist",
		    input->binary != NULL ? input->binary : "(none configured)");
	} else if (error == 0 && input->binary_error != 0) {
		failures |= SCX_GATE_BINARY_NOT_RUNNABLE;
		error = scx_gate_say(&reason, "the scheduler binary %s is not runnable: %s",
		    input->binary != NULL ? input->binary : "(none configured)",
		    input->binary_error == -ENOEXEC ? "not an ELF executable or script" :
		    strerror(-input->binary_error));
	}

	if (error == 0)
		gate->reason = buf_detach(&reason);
	buf_free(&reason);
	if (error != 0 || gate->reason == NULL) {
		scx_gate_clear(gate);
		return -ENOMEM;
	}
	gate->failures = failures;
	gate->pass = failures == 0;
	return 0;
}

/* A small sysfs attribute, trailing whitespace cut; NULL when unreadable. */
static char *
scx_gate_read_attribute(const char *path)
{
	char text[SCX_GATE_ATTRIBUTE_MAX];
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	got = read(fd, text, sizeof text - 1);
	close(fd);
	if (got < 0)
		return NULL;
	while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' ' ||
	    text[got - 1] == '\t'))
		got--;
	text[got] = '\0';
	return strdup(text);
}

/* 0, or the -errno that keeps the binary from running. */
static int
scx_gate_check_binary(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	ssize_t got;
	int fd;

	if (path == NULL || *path == '\0')
		return -ENOENT;
	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	if (access(path, X_OK) != 0)
		return -errno;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = read(fd, magic, sizeof magic);
	close(fd);
	if (got >= 4 && memcmp(magic, "\177ELF", 4) == 0)
		return 0;
	if (got >= 2 && memcmp(magic, "#!", 2) == 0)
		return 0;
	return -ENOEXEC;
}

int
scx_gate_read(const char *sysfs_root, const char *release, const char *binary,
    bool own_scheduler_running, struct scx_gate_input *input)
{
	char path[4096];
	struct utsname uts;
	struct stat st;

	memset(input, 0, sizeof *input);
	if (sysfs_root == NULL)
		sysfs_root = "/sys";
	input->own_scheduler_running = own_scheduler_running;

	snprintf(path, sizeof path, "%s/kernel/sched_ext", sysfs_root);
	input->sched_ext_present = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (input->sched_ext_present) {
		snprintf(path, sizeof path, "%s/kernel/sched_ext/state", sysfs_root);
		input->state = scx_gate_read_attribute(path);
		snprintf(path, sizeof path, "%s/kernel/sched_ext/root/ops", sysfs_root);
		input->ops = scx_gate_read_attribute(path);
	}
	snprintf(path, sizeof path, "%s/kernel/btf/vmlinux", sysfs_root);
	input->btf_present = stat(path, &st) == 0;

	if (release == NULL && uname(&uts) == 0)
		release = uts.release;
	input->release = strdup(release != NULL ? release : "");
	input->binary = binary != NULL ? strdup(binary) : NULL;
	input->binary_error = scx_gate_check_binary(binary);
	if (input->release == NULL || (binary != NULL && input->binary == NULL)) {
		scx_gate_input_clear(input);
		return -ENOMEM;
	}
	return 0;
}

cJSON *
scx_gate_json(const struct scx_gate_input *input, const struct scx_gate *gate)
{
	cJSON *json, *failures;
	char kernel[32];

	if ((json = cJSON_CreateObject()) == NULL)
		return NULL;
	snprintf(kernel, sizeof kernel, "%u.%u", gate->kernel_major, gate->kernel_minor);
	failures = cJSON_AddArrayToObject(json, "failures");
	for (size_t i = 0; failures != NULL && i < SCX_GATE_FAILURE_COUNT; i++)
		if (gate->failures & (1u << i))
			cJSON_AddItemToArray(failures,
			    cJSON_CreateString(scx_gate_failure_names[i]));
	if (failures == NULL ||
	    cJSON_AddBoolToObject(json, "pass", gate->pass) == NULL ||
	    cJSON_AddStringToObject(json, "reason", gate->reason != NULL ? gate->reason : "") == NULL ||
	    cJSON_AddBoolToObject(json, "sched_ext", input->sched_ext_present) == NULL ||
	    (input->state != NULL ?
	    cJSON_AddStringToObject(json, "state", input->state) :
	    cJSON_AddNullToObject(json, "state")) == NULL ||
	    (input->ops != NULL ?
	    cJSON_AddStringToObject(json, "ops", input->ops) :
	    cJSON_AddNullToObject(json, "ops")) == NULL ||
	    cJSON_AddStringToObject(json, "release", input->release != NULL ? input->release : "") == NULL ||
	    cJSON_AddStringToObject(json, "kernel", kernel) == NULL ||
	    cJSON_AddBoolToObject(json, "btf", input->btf_present) == NULL ||
	    cJSON_AddStringToObject(json, "binary", input->binary != NULL ? input->binary : "") == NULL) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}
