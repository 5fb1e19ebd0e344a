/* kube-quantity.c - Kubernetes resource quantities as exact integers. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kube-quantity.h"

/*
 * More significant digits than this (trailing zeros do not count) cannot
 * describe a resource amount anyone writes, and 10^20 * 2^60 still fits 128
 * bits, so the arithmetic below stays exact without a bignum.
 */
#define KUBE_QUANTITY_MAX_DIGITS 20
#define KUBE_QUANTITY_MAX_EXPONENT 1000

typedef unsigned __int128 kube_quantity_wide;

static bool
kube_quantity_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decode the suffix into a power of ten and a power of two; -EINVAL if unknown. */
static int
kube_quantity_suffix(const char *s, size_t len, int *exp10, int *exp2)
{
	static const struct {
		const char *text;
		int exp10;
		int exp2;
	} suffixes[] = {
		{ "", 0, 0 }, { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 },
		{ "k", 3, 0 }, { "M", 6, 0 }, { "G", 9, 0 }, { "T", 12, 0 },
		{ "P", 15, 0 }, { "E", 18, 0 },
		{ "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 },
		{ "Ti", 0, 40 }, { "Pi", 0, 50 }, { "Ei", 0, 60 },
	};
	size_t i;
	long exponent = 0;
	bool negative = false;

	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (strlen(suffixes[i].text) == len &&
		    memcmp(suffixes[i].text, s, len) == 0) {
			*exp10 = suffixes[i].exp10;
			*exp2 = suffixes[i].exp2;
			return 0;
		}
	}

	/* A decimal exponent: e or E, an optional sign, at least one digit. */
	if (len < 2 || (s[0] != 'e' && s[0] != 'E'))
		return -EINVAL;
	i = 1;
	if (s[i] == '+' || s[i] == '-')
		negative = s[i++] == '-';
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (!kube_quantity_is_digit(s[i]))
			return -EINVAL;
		exponent = exponent * 10 + (s[i] - '0');
		if (exponent > KUBE_QUANTITY_MAX_EXPONENT)
			return -ERANGE;
	}
	*exp10 = negative ? (int)-exponent : (int)exponent;
	*exp2 = 0;
	return 0;
}

int
kube_quantity_parse(const char *text, size_t len, int scale, int64_t *out)
{
	kube_quantity_wide mantissa = 0, limit, divisor, quotient;
	size_t i = 0, digits = 0, fraction_digits = 0, zeros = 0;
	bool negative = false, seen_digit = false, seen_point = false;
	int exp10, exp2, error;

	/* Real quantities are a few bytes; bounding them keeps the counts
	 * below far from overflowing an int. */
	if (len > 128)
		return -ERANGE;
	if (len > 0 && (text[0] == '+' || text[0] == '-'))
		negative = text[i++] == '-';
	for (; i < len; i++) {
		if (text[i] == '.' && !seen_point) {
			seen_point = true;
			continue;
		}
		if (!kube_quantity_is_digit(text[i]))
			break;
		seen_digit = true;
		if (seen_point)
			fraction_digits++;
		if (text[i] == '0') {
			/* Leading zeros carry nothing; others wait for a
			 * non-zero digit, so "1.000000" costs no precision. */
			if (mantissa != 0)
				zeros++;
			continue;
		}
		digits += zeros + 1;
		if (digits > KUBE_QUANTITY_MAX_DIGITS)
			return -ERANGE;
		for (; zeros > 0; zeros--)
			mantissa *= 10;
		mantissa = mantissa * 10 + (unsigned)(text[i] - '0');
	}
	if (!seen_digit)
		return -EINVAL;
	if ((error = kube_quantity_suffix(text + i, len - i, &exp10, &exp2)) != 0)
		return error;

	if (mantissa == 0) {
		*out = 0;
		return 0;
	}
	mantissa <<= exp2;	/* at most 2^60 on a 100-bit mantissa: exact */
	exp10 += scale + (int)zeros - (int)fraction_digits;

	limit = negative ? (kube_quantity_wide)INT64_MAX + 1 : INT64_MAX;
	if (exp10 >= 0) {
		for (; exp10 > 0; exp10--) {
			if (mantissa > limit / 10)
				return -ERANGE;
			mantissa *= 10;
		}
	} else {
		/* 10^38 exceeds any mantissa here: what is left rounds up to 1. */
		if (exp10 < -38) {
			mantissa = 1;
		} else {
			divisor = 1;
			for (; exp10 < 0; exp10++)
				divisor *= 10;
			quotient = mantissa / divisor;
			if (quotient * divisor != mantissa)
				quotient++;
			mantissa = quotient;
		}
	}
	if (mantissa > limit)
		return -ERANGE;
	*out = negative ? (int64_t)(0 - (uint64_t)mantissa) : (int64_t)mantissa;
	return 0;
}

int
kube_quantity_millis(const char *text, int64_t *out)
{
	return kube_quantity_parse(text, strlen(text), 3, out);
}

int
kube_quantity_value(const char *text, int64_t *out)
{
	return kube_quantity_parse(text, strlen(text), 0, out);
}
