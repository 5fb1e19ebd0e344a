/*
 * observe-hist.h - log2 latency histograms: the in-kernel slots of
 * bpf/placement.h turned into quantiles, windows and Prometheus buckets.
 *
 * Pure: no I/O.  Slot 0 holds 0 and 1 ns, slot i holds [2^i, 2^(i+1)) ns,
 * the last slot everything from 2^31 ns up.
 */
#ifndef TEMPER_OBSERVE_HIST_H
#define TEMPER_OBSERVE_HIST_H

#include <stdint.h>

#define OBSERVE_HIST_SLOTS 32

struct observe_hist {
	uint64_t slots[OBSERVE_HIST_SLOTS];
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;	/* 0: unknown (a window keeps only its slots) */
};

unsigned observe_hist_slot(uint64_t ns);
/* The smallest value slot holds, and the first value past it. */
uint64_t observe_hist_slot_low(unsigned slot);
uint64_t observe_hist_slot_high(unsigned slot);

/* One value, as the kernel side records it (for tests and user-space sources). */
void observe_hist_record(struct observe_hist *hist, uint64_t ns);
/* into += from; the larger max. */
void observe_hist_add(struct observe_hist *into, const struct observe_hist *from);
/*
 * window = now - before, slot by slot, never below zero (a counter that went
 * backwards means the source was reset: the window then holds now).  The
 * window's max is the smaller of now's max and the top of its highest
 * non-empty slot: a bound, since the kernel keeps no windowed maximum.
 */
void observe_hist_window(struct observe_hist *window,
    const struct observe_hist *now, const struct observe_hist *before);

/*
 * The q-quantile (0 < q <= 1) in ns, interpolated inside its slot and never
 * above a known max; 0 for an empty histogram.
 */
uint64_t observe_hist_quantile(const struct observe_hist *hist, double q);

#endif
