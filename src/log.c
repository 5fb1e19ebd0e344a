/* log.c - one logfmt line per event on stderr. */
#include "config.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static const char *log_program = "temper";
static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level = level;
}

enum log_level
log_level_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof log_level_names / sizeof log_level_names[0]; i++) {
		if (strcmp(name, log_level_names[i]) == 0)
			return (enum log_level)i;
	}
	return LOG_LEVEL_INFO;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char message[2048], line[4400], stamp[32];
	struct timeval now;
	struct tm tm;
	size_t at = 0;
	int saved_errno = errno;

	if (level > log_level)
		return;
	vsnprintf(message, sizeof message, fmt, ap);

	gettimeofday(&now, NULL);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	at = (size_t)snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s prog=%s msg=\"",
	    stamp, (long)(now.tv_usec / 1000), log_level_names[level], log_program);

	/* Escape so that one event stays one line whatever the message holds. */
	for (const char *p = message; *p != '\0' && at < sizeof line - 4; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			line[at++] = '\\';
			line[at++] = (char)c;
		} else if (c == '\n') {
			line[at++] = '\\';
			line[at++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			line[at++] = ' ';
		} else {
			line[at++] = (char)c;
		}
	}
	line[at++] = '"';
	line[at++] = '\n';
	fwrite(line, 1, at, stderr);
	errno = saved_errno;
}

void
log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

noreturn void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

static int
log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char message[1024];
	size_t len;

	vsnprintf(message, sizeof message, fmt, ap);
	len = strlen(message);
	while (len > 0 && message[len - 1] == '\n')
		message[--len] = '\0';
	/* libbpf starts most messages with "libbpf: " already. */
	switch (level) {
	case LIBBPF_WARN:
		log_warn("%s", message);
		break;
	case LIBBPF_INFO:
		log_info("%s", message);
		break;
	default:
		log_debug("%s", message);
		break;
	}
	return 0;
}

void
log_route_libbpf(void)
{
	libbpf_set_print(log_libbpf_print);
}
