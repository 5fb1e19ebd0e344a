/* t/test-backoff.c - jittered exponential backoff. */
#include "config.h"

#include "backoff.h"
#include "tap.h"

int
main(void)
{
	struct backoff b;
	uint64_t d, prev_ceiling = 0;
	int within = 1, differs = 0;

	backoff_init(&b, 100, 30000, 42);
	for (unsigned i = 0; i < 20; i++) {
		uint64_t ceiling = 100ULL << (i < 20 ? i : 19);

		if (ceiling > 30000)
			ceiling = 30000;
		d = backoff_next(&b);
		if (d < ceiling / 2 || d > ceiling)
			within = 0;
		if (ceiling < prev_ceiling)
			within = 0;
		prev_ceiling = ceiling;
	}
	ok(within, "each delay lies in [d/2, d] with d doubling up to the cap");
	d = backoff_next(&b);
	ok(d >= 15000 && d <= 30000, "the delay stays capped after many failures (%llu ms)",
	    (unsigned long long)d);

	backoff_reset(&b);
	d = backoff_next(&b);
	ok(d >= 50 && d <= 100, "a success starts over from the initial delay (%llu ms)",
	    (unsigned long long)d);

	/* Two clients with different seeds must not retry in lock step. */
	{
		struct backoff x, y;

		backoff_init(&x, 1000, 60000, 1);
		backoff_init(&y, 1000, 60000, 2);
		for (int i = 0; i < 8; i++)
			if (backoff_next(&x) != backoff_next(&y))
				differs = 1;
	}
	ok(differs, "differently seeded clients get different delays");

	backoff_init(&b, 0, 0, 0);
	d = backoff_next(&b);
	ok(d >= 1 && d <= 1, "degenerate bounds are clamped to 1 ms");
	return done_testing();
}
