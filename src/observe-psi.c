/* observe-psi.c - pressure stall information: parse, read, trigger. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "observe-psi.h"

static int
observe_psi_parse_line(const char *line, const char *end,
    struct observe_psi_line *out)
{
	char copy[256];
	size_t len = (size_t)(end - line);
	int consumed = 0;
	unsigned long long total;

	if (len >= sizeof copy)
		return -EINVAL;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (sscanf(copy, " avg10=%lf avg60=%lf avg300=%lf total=%llu%n",
	    &out->avg10, &out->avg60, &out->avg300, &total, &consumed) != 4)
		return -EINVAL;
	if (copy[consumed] != '\0' || out->avg10 < 0 || out->avg60 < 0 ||
	    out->avg300 < 0 || out->avg10 > 100 || out->avg60 > 100 ||
	    out->avg300 > 100)
		return -EINVAL;
	out->total_us = total;
	return 0;
}

int
observe_psi_parse(const char *text, size_t len, struct observe_psi *psi)
{
	struct observe_psi out;
	const char *line = text, *end = text + len, *eol;
	bool has_some = false;
	int error;

	memset(&out, 0, sizeof out);
	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if (eol - line >= 4 && memcmp(line, "some", 4) == 0) {
			if ((error = observe_psi_parse_line(line + 4, eol, &out.some)) != 0)
				return error;
			has_some = true;
		} else if (eol - line >= 4 && memcmp(line, "full", 4) == 0) {
			if ((error = observe_psi_parse_line(line + 4, eol, &out.full)) != 0)
				return error;
			out.has_full = true;
		} else if (eol != line) {
			return -EINVAL;
		}
		line = eol + 1;
	}
	if (!has_some)
		return -EINVAL;
	*psi = out;
	return 0;
}

int
observe_psi_read(const char *path, struct observe_psi *psi)
{
	char text[512];
	ssize_t n;
	int fd, error;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, text, sizeof text - 1);
	error = n < 0 ? -errno : 0;
	close(fd);
	if (error != 0)
		return error;
	return observe_psi_parse(text, (size_t)n, psi);
}

int
observe_psi_trigger_open(const char *path, uint64_t stall_us, uint64_t window_us,
    char **cause)
{
	char trigger[64];
	int fd, error, len;

	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		error = -errno;
		if (cause != NULL && asprintf(cause, "%s: %s", path,
		    strerror(-error)) == -1)
			*cause = NULL;
		return error;
	}
	/* The kernel wants the terminating NUL written with the text. */
	len = snprintf(trigger, sizeof trigger, "some %" PRIu64 " %" PRIu64,
	    stall_us, window_us);
	if (write(fd, trigger, (size_t)len + 1) == -1) {
		error = -errno;
		close(fd);
		if (cause != NULL && asprintf(cause, "%s: trigger \"%s\" refused: %s",
		    path, trigger, strerror(-error)) == -1)
			*cause = NULL;
		return error;
	}
	return fd;
}
