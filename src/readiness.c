/* readiness.c - named readiness checks behind /readyz. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readiness.h"

int
readiness_set(struct readiness *readiness, const char *name, bool ready,
    const char *reason_fmt, ...)
{
	struct readiness_check *check = NULL, *checks;
	char *reason = NULL;
	va_list ap;

	if (reason_fmt != NULL) {
		va_start(ap, reason_fmt);
		if (vasprintf(&reason, reason_fmt, ap) < 0)
			reason = NULL;
		va_end(ap);
		if (reason == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < readiness->count; i++) {
		if (strcmp(readiness->checks[i].name, name) == 0)
			check = &readiness->checks[i];
	}
	if (check == NULL) {
		checks = realloc(readiness->checks, (readiness->count + 1) * sizeof *checks);
		if (checks == NULL) {
			free(reason);
			return -ENOMEM;
		}
		readiness->checks = checks;
		check = &checks[readiness->count];
		if ((check->name = strdup(name)) == NULL) {
			free(reason);
			return -ENOMEM;
		}
		check->reason = NULL;
		readiness->count++;
	}
	free(check->reason);
	check->reason = reason;
	check->ready = ready;
	return 0;
}

bool
readiness_ready(const struct readiness *readiness)
{
	for (size_t i = 0; i < readiness->count; i++) {
		if (!readiness->checks[i].ready)
			return false;
	}
	return true;
}

void
readiness_free(struct readiness *readiness)
{
	for (size_t i = 0; i < readiness->count; i++) {
		free(readiness->checks[i].name);
		free(readiness->checks[i].reason);
	}
	free(readiness->checks);
	readiness->checks = NULL;
	readiness->count = 0;
}
