/*
 * t/test-observe-hist.c - log2 histogram maths: slots agree with the
 * kernel side's, windows subtract, quantiles land where the data is.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "observe-hist.h"
#include "tap.h"

int
main(void)
{
	struct observe_hist a, b, window;
	uint64_t q;

	is_int(observe_hist_slot(0), 0, "0 ns is slot 0");
	is_int(observe_hist_slot(1), 0, "1 ns is slot 0");
	is_int(observe_hist_slot(2), 1, "2 ns is slot 1");
	is_int(observe_hist_slot(1023), 9, "1023 ns is slot 9");
	is_int(observe_hist_slot(1024), 10, "1024 ns is slot 10");
	is_int(observe_hist_slot(UINT64_C(1) << 31), 31, "2^31 ns is the last slot");
	is_int(observe_hist_slot(UINT64_MAX), 31, "everything beyond stays in the last slot");
	is_int(observe_hist_slot_low(10), 1024, "slot 10 starts at 1024 ns");
	is_int(observe_hist_slot_high(10), 2048, "and ends before 2048 ns");
	ok(observe_hist_slot_high(31) == UINT64_MAX, "the last slot is open");
	for (unsigned s = 1; s < OBSERVE_HIST_SLOTS; s++)
		if (observe_hist_slot(observe_hist_slot_low(s)) != s ||
		    (s < OBSERVE_HIST_SLOTS - 1 &&
		    observe_hist_slot(observe_hist_slot_high(s) - 1) != s))
			ok(0, "slot %u's bounds map back to it", s);

	memset(&a, 0, sizeof a);
	is_int(observe_hist_quantile(&a, 0.99), 0, "an empty histogram's p99 is 0");
	/* 99 waits of ~10 us and one of ~5 ms. */
	for (int i = 0; i < 99; i++)
		observe_hist_record(&a, 10000);
	observe_hist_record(&a, 5000000);
	is_int(a.count, 100, "100 values recorded");
	is_int(a.max_ns, 5000000, "the max is kept");
	q = observe_hist_quantile(&a, 0.5);
	ok(q >= 8192 && q < 16384, "p50 lies in 10 us's slot (%llu)", (unsigned long long)q);
	q = observe_hist_quantile(&a, 0.99);
	ok(q >= 8192 && q <= 16384, "p99 is still the 99th value's slot, at most its top (%llu)",
	    (unsigned long long)q);
	q = observe_hist_quantile(&a, 1.0);
	ok(q >= 4194304 && q <= 5000000, "p100 is the outlier, capped at the max (%llu)",
	    (unsigned long long)q);

	/* Windows: what happened between two cumulative readings. */
	b = a;
	for (int i = 0; i < 10; i++)
		observe_hist_record(&b, 1000000);
	observe_hist_window(&window, &b, &a);
	is_int(window.count, 10, "the window holds the 10 new values");
	is_int(window.sum_ns, 10000000, "and their sum");
	is_int(window.slots[observe_hist_slot(1000000)], 10, "in their slot");
	ok(window.max_ns >= 1000000 && window.max_ns < 2 * 1048576,
	    "its max is bounded by its top slot, not the old outlier (%llu)",
	    (unsigned long long)window.max_ns);
	q = observe_hist_quantile(&window, 0.99);
	ok(q >= 524288 && q <= window.max_ns, "the window's p99 is the new values' (%llu)",
	    (unsigned long long)q);
	/* A reset source (a counter that went backwards) gives the new reading. */
	observe_hist_window(&window, &a, &b);
	is_int(window.count, a.count, "a reset: the window is the new reading");

	observe_hist_add(&a, &b);
	is_int(a.count, 210, "add sums counts");
	is_int(a.max_ns, 5000000, "and keeps the larger max");
	return done_testing();
}
