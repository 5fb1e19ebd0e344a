/* t/tap.h - a minimal TAP producer for Temper's C unit tests. */
#ifndef TEMPER_TAP_H
#define TEMPER_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static void tap_vresult(int passed, const char *fmt, va_list ap)
{
	tap_count++;
	if (!passed)
		tap_failed++;
	printf("%s %d - ", passed ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int ok(int passed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(passed, fmt, ap);
	va_end(ap);
	return passed;
}

__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define is_int(got, expected, ...) do {					\
	long long tap_g_ = (long long)(got), tap_e_ = (long long)(expected); \
	if (!ok(tap_g_ == tap_e_, __VA_ARGS__))				\
		diag("  got %lld, expected %lld", tap_g_, tap_e_);	\
} while (0)

#define is_str(got, expected, ...) do {					\
	const char *tap_g_ = (got), *tap_e_ = (expected);		\
	int tap_same_ = (tap_g_ == NULL && tap_e_ == NULL) ||		\
	    (tap_g_ != NULL && tap_e_ != NULL && strcmp(tap_g_, tap_e_) == 0); \
	if (!ok(tap_same_, __VA_ARGS__))				\
		diag("  got '%s', expected '%s'",			\
		    tap_g_ ? tap_g_ : "(null)", tap_e_ ? tap_e_ : "(null)"); \
} while (0)

__attribute__((format(printf, 1, 2)))
static inline void skip_all(const char *fmt, ...)
{
	va_list ap;

	fputs("1..0 # SKIP ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(0);
}

/* Print the plan and turn failures into a non-zero exit status. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
