/* log.h - one logfmt line per event on stderr. */
#ifndef TEMPER_LOG_H
#define TEMPER_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_init(const char *program, enum log_level level);
/* "error", "warn", "info", "debug"; anything else is info. */
enum log_level log_level_from_name(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/*
 * Each call writes one line, ts=... level=... msg="...", the formatted
 * message escaped for logfmt.  A message says what happened, to what, and
 * what the daemon does next.
 */
__attribute__((format(printf, 2, 3)))
void log_write(enum log_level level, const char *fmt, ...);
void log_vwrite(enum log_level level, const char *fmt, va_list ap);

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

__attribute__((format(printf, 1, 2)))
noreturn void log_fatal(const char *fmt, ...);

/* Route libbpf's printer into this log. */
void log_route_libbpf(void);

#endif
