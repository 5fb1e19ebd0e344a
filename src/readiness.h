/*
 * readiness.h - named readiness checks behind /readyz.
 *
 * Pure: each subsystem sets its check (ready, or not with a reason); the
 * process is ready when every check is.
 */
#ifndef TEMPER_READINESS_H
#define TEMPER_READINESS_H

#include <stdbool.h>
#include <stddef.h>

struct readiness_check {
	char *name;
	bool ready;
	char *reason;
};

struct readiness {
	struct readiness_check *checks;
	size_t count;
};

/* Add or update a check. 0 or -ENOMEM. */
__attribute__((format(printf, 4, 5)))
int readiness_set(struct readiness *readiness, const char *name, bool ready,
    const char *reason_fmt, ...);
bool readiness_ready(const struct readiness *readiness);
void readiness_free(struct readiness *readiness);

#endif
