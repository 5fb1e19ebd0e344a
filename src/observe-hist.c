/* observe-hist.c - log2 latency histograms: slots, windows and quantiles. */
#include "config.h"

#include <string.h>

#include "observe-hist.h"

unsigned
observe_hist_slot(uint64_t ns)
{
	unsigned slot = 0;

	while (ns > 1 && slot < OBSERVE_HIST_SLOTS - 1) {
		ns >>= 1;
		slot++;
	}
	return slot;
}

uint64_t
observe_hist_slot_low(unsigned slot)
{
	if (slot == 0)
		return 0;
	if (slot >= OBSERVE_HIST_SLOTS)
		slot = OBSERVE_HIST_SLOTS - 1;
	return UINT64_C(1) << slot;
}

uint64_t
observe_hist_slot_high(unsigned slot)
{
	if (slot >= OBSERVE_HIST_SLOTS - 1)
		return UINT64_MAX;
	return UINT64_C(1) << (slot + 1);
}

void
observe_hist_record(struct observe_hist *hist, uint64_t ns)
{
	hist->slots[observe_hist_slot(ns)]++;
	hist->count++;
	hist->sum_ns += ns;
	if (ns > hist->max_ns)
		hist->max_ns = ns;
}

void
observe_hist_add(struct observe_hist *into, const struct observe_hist *from)
{
	for (unsigned i = 0; i < OBSERVE_HIST_SLOTS; i++)
		into->slots[i] += from->slots[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

void
observe_hist_window(struct observe_hist *window, const struct observe_hist *now,
    const struct observe_hist *before)
{
	uint64_t top = 0;

	if (now->count < before->count || now->sum_ns < before->sum_ns) {
		*window = *now;
		return;
	}
	memset(window, 0, sizeof *window);
	for (unsigned i = 0; i < OBSERVE_HIST_SLOTS; i++) {
		window->slots[i] = now->slots[i] >= before->slots[i] ?
		    now->slots[i] - before->slots[i] : now->slots[i];
		if (window->slots[i] != 0)
			top = observe_hist_slot_high(i) - (i < OBSERVE_HIST_SLOTS - 1);
	}
	window->count = now->count - before->count;
	window->sum_ns = now->sum_ns - before->sum_ns;
	window->max_ns = now->max_ns != 0 && now->max_ns < top ? now->max_ns : top;
}

uint64_t
observe_hist_quantile(const struct observe_hist *hist, double q)
{
	uint64_t total = 0, seen = 0, low, high, value;
	double rank, fraction;

	for (unsigned i = 0; i < OBSERVE_HIST_SLOTS; i++)
		total += hist->slots[i];
	if (total == 0)
		return 0;
	if (q <= 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < OBSERVE_HIST_SLOTS; i++) {
		if (hist->slots[i] == 0 || (double)(seen + hist->slots[i]) < rank) {
			seen += hist->slots[i];
			continue;
		}
		low = observe_hist_slot_low(i);
		/* The open top slot interpolates up to the max, or twice its floor. */
		high = i == OBSERVE_HIST_SLOTS - 1 ?
		    (hist->max_ns > low ? hist->max_ns : low * 2) :
		    observe_hist_slot_high(i);
		fraction = (rank - (double)seen) / (double)hist->slots[i];
		value = low + (uint64_t)(fraction * (double)(high - low));
		if (hist->max_ns != 0 && value > hist->max_ns)
			value = hist->max_ns;
		return value;
	}
	return hist->max_ns;
}
