/*
 * cause.h - the human reason that travels with an error code.
 *
 * Functions return 0 or a negative errno; where a person needs to know
 * why, they also fill a `char **cause` (NULL when the caller does not
 * care).  *cause is NULL or a malloc'd string the caller frees.
 */
#ifndef TEMPER_CAUSE_H
#define TEMPER_CAUSE_H

/* Replace *cause with the formatted reason; out of memory leaves NULL. */
__attribute__((format(printf, 2, 3)))
void cause_set(char **cause, const char *fmt, ...);

#endif
