/*
 * number-format.h - integers and doubles as exact decimal text.
 *
 * Pure, no locale, no printf.  A double is written with the fewest
 * significant digits that read back (strtod, Go's ParseFloat) as the very
 * same double, laid out as printf's %g lays out digits: plain notation
 * from 1e-4 up to 1e21, an exponent of two or more digits outside
 * ("1e+21", "1.5e-07").  Integral values below 2^63 in magnitude are
 * printed as integers, digit for digit.  NaN, +Inf and -Inf are spelt the
 * way the Prometheus text format spells them; -0 keeps its sign.
 */
#ifndef TEMPER_NUMBER_FORMAT_H
#define TEMPER_NUMBER_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any number these functions write, with its NUL. */
#define NUMBER_FORMAT_MAX 32

/* Each writes a NUL-terminated number into out and returns its length. */
size_t number_format_u64(char *out, uint64_t value);
size_t number_format_i64(char *out, int64_t value);
size_t number_format_double(char *out, double value);

#endif
