/* t/test-number-format.c - exact integer and shortest double text. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number-format.h"
#include "tap.h"

static const char *
format(double value)
{
	static char out[NUMBER_FORMAT_MAX];
	size_t len = number_format_double(out, value);

	if (len != strlen(out) || len >= NUMBER_FORMAT_MAX)
		return "(bad length)";
	return out;
}

/* Reads back as the very same double, sign of zero and all. */
static int
round_trips(double value)
{
	char out[NUMBER_FORMAT_MAX];
	double back;

	number_format_double(out, value);
	back = strtod(out, NULL);
	if (isnan(value))
		return isnan(back);
	return memcmp(&back, &value, sizeof value) == 0;
}

/* Significant digits in the text (mantissa only, no leading zeros). */
static int
significant_digits(const char *text)
{
	int digits = 0, leading = 1;

	for (const char *p = text; *p != '\0' && *p != 'e'; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (*p == '0' && leading)
			continue;
		leading = 0;
		digits++;
	}
	/* Trailing zeros of an integer are not significant. */
	if (strchr(text, '.') == NULL && strchr(text, 'e') == NULL) {
		for (const char *p = text + strlen(text) - 1; p > text && *p == '0'; p--)
			digits--;
	}
	return digits;
}

/* The fewest digits printf's correctly rounded %.*e needs to round-trip. */
static int
printf_shortest(double value)
{
	char text[64];

	for (int precision = 1; precision <= 17; precision++) {
		snprintf(text, sizeof text, "%.*e", precision - 1, value);
		if (strtod(text, NULL) == value)
			return precision;
	}
	return 17;
}

/* xorshift64*: reproducible, every bit pattern reachable. */
static uint64_t
random_u64(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static double
random_double(uint64_t *state)
{
	uint64_t bits;
	double value;

	do {
		bits = random_u64(state);
		memcpy(&value, &bits, sizeof value);
	} while (!isfinite(value));
	return value;
}

/* A random mantissa with a binary exponent in [low, high]. */
static double
random_scaled(uint64_t *state, int low, int high)
{
	uint64_t bits = random_u64(state);
	uint64_t exponent = (uint64_t)(1023 + low + (int)(bits >> 52) % (high - low + 1));
	double value;

	bits = exponent << 52 | (bits & ((UINT64_C(1) << 52) - 1));
	memcpy(&value, &bits, sizeof value);
	return value;
}

int
main(void)
{
	char out[NUMBER_FORMAT_MAX];
	uint64_t state = 88172645463325252ULL;
	int bad_trip = 0, longer = 0, integers_bad = 0;
	double denormal_min = 0x1p-1074, denormal_max = DBL_MIN - 0x1p-1074;

	is_int(number_format_u64(out, 0), 1, "u64 0 is one byte");
	is_str(out, "0", "u64 0");
	number_format_u64(out, UINT64_MAX);
	is_str(out, "18446744073709551615", "u64 max");
	number_format_i64(out, INT64_MIN);
	is_str(out, "-9223372036854775808", "i64 min");
	number_format_i64(out, -7);
	is_str(out, "-7", "a small negative integer");
	number_format_u64(out, 1000000000000ULL);
	is_str(out, "1000000000000", "a round integer keeps its zeros");
	{
		uint64_t power = 1;
		int bad = 0;

		/* Each digit count's first and last value. */
		for (int digits = 1; digits <= 20; digits++) {
			char expected[32];
			uint64_t last = digits == 20 ? UINT64_MAX : power * 10 - 1;

			snprintf(expected, sizeof expected, "%llu", (unsigned long long)power);
			bad += number_format_u64(out, power) != strlen(expected) || strcmp(out, expected) != 0;
			snprintf(expected, sizeof expected, "%llu", (unsigned long long)last);
			bad += number_format_u64(out, last) != strlen(expected) || strcmp(out, expected) != 0;
			if (digits < 20)
				power *= 10;
		}
		is_int(bad, 0, "10^n and 10^(n+1) - 1, for every length up to 20 digits");
	}

	is_str(format(0), "0", "0");
	is_str(format(-0.0), "-0", "-0 keeps its sign");
	is_str(format(NAN), "NaN", "NaN");
	is_str(format(-NAN), "NaN", "a negative NaN is still NaN");
	is_str(format(INFINITY), "+Inf", "+Inf");
	is_str(format(-INFINITY), "-Inf", "-Inf");
	is_str(format(1), "1", "1");
	is_str(format(-1.5), "-1.5", "-1.5");
	is_str(format(0.1), "0.1", "0.1 is shortest, not 0.10000000000000001");
	is_str(format(0.1 + 0.2), "0.30000000000000004", "0.1 + 0.2 keeps the digits that tell it from 0.3");
	is_str(format(3.85), "3.85", "3.85");
	is_str(format(0.0001), "0.0001", "a histogram bound, plain");
	is_str(format(0.00025), "0.00025", "another bound");
	is_str(format(0.00012), "0.00012", "1.2e-4 is still plain");
	is_str(format(0.00001), "1e-05", "1e-5 takes an exponent, two digits as printf's");
	is_str(format(1.024e-6), "1.024e-06", "a BPF histogram bound, as printf's %%g wrote it");
	is_str(format(1e-7), "1e-07", "1e-7");
	is_str(format(-1.5e-7), "-1.5e-07", "-1.5e-7");
	is_str(format(1.25e-100), "1.25e-100", "a three-digit exponent");
	is_str(format(1e20), "100000000000000000000", "1e20 plain");
	is_str(format(1e21), "1e+21", "1e21 takes an exponent");
	is_str(format(-1e21), "-1e+21", "-1e21");
	is_str(format(123456789012345680000.0), "123456789012345680000", "21 digits, plain");
	is_str(format(0x1p53), "9007199254740992", "2^53 as an integer");
	is_str(format(0x1p53 + 2), "9007199254740994", "2^53 + 2 as an integer");
	is_str(format(-0x1p53), "-9007199254740992", "-2^53");
	is_str(format(0x1p63), "9223372036854776000",
	    "2^63, past int64: shortest digits, still without exponent");
	is_str(format(-0x1p63), "-9223372036854775808", "-2^63 is an int64, digit for digit");
	is_str(format(1e15), "1000000000000000", "1e15 without exponent");
	is_str(format(DBL_MAX), "1.7976931348623157e+308", "DBL_MAX");
	is_str(format(-DBL_MAX), "-1.7976931348623157e+308", "-DBL_MAX");
	is_str(format(DBL_MIN), "2.2250738585072014e-308", "the smallest normal");
	is_str(format(denormal_min), "5e-324", "the smallest denormal");
	is_str(format(denormal_max), "2.225073858507201e-308", "the largest denormal");
	is_str(format(0x1p-1022 * 1.5), "3.337610787760802e-308", "a normal near the bottom");
	is_str(format(5e-324 * 3), "1.5e-323", "three denormal steps");
	is_str(format(1.0 / 3), "0.3333333333333333", "a third");
	is_str(format(2.0 / 3), "0.6666666666666666", "two thirds");
	is_str(format(0x1p-3), "0.125", "a power of two below 1");
	is_str(format(0x1p100), "1.2676506002282294e+30", "a power of two above 2^63");
	is_str(format(9007199254740993.0), "9007199254740992", "2^53 + 1 is not a double");

	ok(round_trips(0.0) && round_trips(-0.0) && round_trips(NAN) &&
	    round_trips(INFINITY) && round_trips(-INFINITY) && round_trips(DBL_MAX) &&
	    round_trips(DBL_MIN) && round_trips(denormal_min) &&
	    round_trips(denormal_max) && round_trips(0x1p53) && round_trips(1e21) &&
	    round_trips(1e-7) && round_trips(0.1), "the edge cases read back exactly");

	/* Every power of two and of ten in range, and their neighbours. */
	for (int e = -1074; e <= 1023; e++) {
		double p = ldexp(1, e);

		if (!round_trips(p) || !round_trips(nextafter(p, 0)) ||
		    !round_trips(nextafter(p, INFINITY)))
			bad_trip++;
	}
	for (int e = -323; e <= 308; e++) {
		char text[16];
		double p;

		snprintf(text, sizeof text, "1e%d", e);
		p = strtod(text, NULL);
		if (!round_trips(p) || !round_trips(nextafter(p, 0)) ||
		    !round_trips(nextafter(p, INFINITY)))
			bad_trip++;
		if (significant_digits(format(p)) != 1)
			longer++;
	}
	is_int(bad_trip, 0, "powers of two and ten and their neighbours read back");
	is_int(longer, 0, "powers of ten print one significant digit");

	/* Random bit patterns: exact, and never longer than printf's shortest. */
	bad_trip = longer = 0;
	for (int i = 0; i < 50000; i++) {
		double value = random_double(&state);

		if (!round_trips(value)) {
			if (bad_trip++ < 5)
				diag("%a printed as %s", value, format(value));
		}
		/* (Integers below 2^63 are printed digit for digit instead.) */
		if ((fabs(value) >= 0x1p63 || value != trunc(value)) &&
		    significant_digits(format(value)) > printf_shortest(value)) {
			if (longer++ < 5)
				diag("%a printed as %s, %d digits would do", value,
				    format(value), printf_shortest(value));
		}
	}
	is_int(bad_trip, 0, "50,000 random doubles read back exactly");
	is_int(longer, 0, "... and none but integers longer than the shortest printf rounding");

	/* Fractions from 1e-19 to 2^53, sums of latencies among them. */
	bad_trip = longer = 0;
	for (int i = 0; i < 50000; i++) {
		double value = random_scaled(&state, -63, 52);

		if (!round_trips(value) || significant_digits(format(value)) > printf_shortest(value)) {
			if (bad_trip++ < 5)
				diag("%a printed as %s", value, format(value));
		}
	}
	is_int(bad_trip, 0, "50,000 fractions between 2^-63 and 2^52 read back, shortest");

	/* Short decimals (what metrics hold): exactly what was written. */
	bad_trip = 0;
	for (int i = 0; i < 100000; i++) {
		char text[32];
		double value;

		snprintf(text, sizeof text, "%d.%0*d", i % 1000, 1 + i % 6, i % 997);
		value = strtod(text, NULL);
		if (!round_trips(value) || significant_digits(format(value)) > printf_shortest(value))
			bad_trip++;
	}
	is_int(bad_trip, 0, "short decimals print shortest and read back");

	/*
	 * The text is what the exposition printed before (%.15g) wherever
	 * that was exact, but for integers of 1e15 and more (then printed with
	 * an exponent, now digit for digit) and denormals (fewer than 15
	 * digits may tell them apart, and then fewer are printed).
	 */
	bad_trip = 0;
	for (int i = 0; i < 100000; i++) {
		char text[64], old[64];
		double value;

		if (i % 2 == 0) {
			snprintf(text, sizeof text, "%d.%0*de%d", i % 1000, 1 + i % 7, i % 9973,
			    i % 41 - 20);
			value = strtod(text, NULL);
		} else {
			value = random_double(&state);
		}
		snprintf(old, sizeof old, "%.15g", value);
		if (strtod(old, NULL) != value || (value == trunc(value) && fabs(value) >= 1e15) ||
		    fabs(value) < DBL_MIN)
			continue;
		if (strcmp(format(value), old) != 0 && bad_trip++ < 5)
			diag("%s printed as %s", old, format(value));
	}
	is_int(bad_trip, 0, "values %%.15g printed exactly come out byte for byte the same");

	/* Integral doubles print as integers with no exponent below 1e21. */
	for (int i = 0; i < 100000; i++) {
		double value = trunc(random_double(&state));
		const char *text;

		if (fabs(value) >= 1e21)
			continue;
		text = format(value);
		if (strchr(text, 'e') != NULL || strchr(text, '.') != NULL || !round_trips(value))
			integers_bad++;
	}
	is_int(integers_bad, 0, "integral values below 1e21 print without exponent or point");

	return done_testing();
}
