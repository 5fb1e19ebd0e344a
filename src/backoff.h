/*
 * backoff.h - jittered exponential backoff.
 *
 * Pure: the caller owns the timer and the randomness source, so tests can
 * drive it deterministically.
 */
#ifndef TEMPER_BACKOFF_H
#define TEMPER_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t initial_ms;	/* first delay */
	uint64_t max_ms;	/* the delay never grows past this */
	unsigned attempt;	/* failures since the last success */
	uint64_t random_state;	/* xorshift state; seeded by backoff_init */
};

void backoff_init(struct backoff *backoff, uint64_t initial_ms,
    uint64_t max_ms, uint64_t seed);

/*
 * Record a failure and return the delay before the next try: a uniformly
 * random value in [d/2, d] where d = min(max, initial * 2^attempt), so that
 * many clients failing together do not retry together ("equal jitter").
 */
uint64_t backoff_next(struct backoff *backoff);

/* Record a success: the next failure starts from initial_ms again. */
void backoff_reset(struct backoff *backoff);

#endif
