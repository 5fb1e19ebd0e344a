/* backoff.c - jittered exponential backoff. */
#include "config.h"

#include "backoff.h"

void
backoff_init(struct backoff *backoff, uint64_t initial_ms, uint64_t max_ms,
    uint64_t seed)
{
	backoff->initial_ms = initial_ms > 0 ? initial_ms : 1;
	backoff->max_ms = max_ms >= backoff->initial_ms ? max_ms : backoff->initial_ms;
	backoff->attempt = 0;
	backoff->random_state = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t
backoff_random(struct backoff *backoff)
{
	uint64_t x = backoff->random_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	backoff->random_state = x;
	return x;
}

uint64_t
backoff_next(struct backoff *backoff)
{
	uint64_t delay = backoff->initial_ms, half;

	for (unsigned i = 0; i < backoff->attempt && delay < backoff->max_ms; i++)
		delay *= 2;
	if (delay > backoff->max_ms)
		delay = backoff->max_ms;
	if (backoff->attempt < 64)
		backoff->attempt++;
	half = delay / 2;
	return delay - half + backoff_random(backoff) % (half + 1);
}

void
backoff_reset(struct backoff *backoff)
{
	backoff->attempt = 0;
}
