/*
 * number-format.c - integers and doubles as exact decimal text.
 *
 * Integers go out two digits at a time from a table.  A double that is not
 * an integer below 2^63 is tried as a short decimal first (most values a
 * metric holds are: 0.25, 3.85), checked exactly with one division.  The
 * rest take the free-format algorithm of Steele & White as refined by
 * Burger & Dybvig ("Printing Floating-Point Numbers Quickly and
 * Accurately", PLDI 1996): with exact integer arithmetic, digits are
 * generated until the number written so far lies inside the interval of
 * reals that round to the double, which gives the shortest digit string
 * that reads back exactly.  The arithmetic needs at most ~1,100 bits
 * (denormals scaled by 10^323), so a fixed array of 32-bit limbs on the
 * stack holds every operand; a latency sum in seconds keeps to two or
 * three limbs.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "number-format.h"

/* "00", "01", ... "99": two digits per division by 100. */
static const char number_format_pairs[200] =
	"00010203040506070809" "10111213141516171819"
	"20212223242526272829" "30313233343536373839"
	"40414243444546474849" "50515253545556575859"
	"60616263646566676869" "70717273747576777879"
	"80818283848586878889" "90919293949596979899";

size_t
number_format_u64(char *out, uint64_t value)
{
	uint64_t bound = 10;
	size_t len = 1;
	char *p;

	/* Count the digits first, then write them in place from the end. */
	while (len < 20 && value >= bound) {
		len++;
		bound *= 10;
	}
	p = out + len;
	*p = '\0';
	while (value >= 100) {
		unsigned pair = (unsigned)(value % 100);

		value /= 100;
		p -= 2;
		memcpy(p, number_format_pairs + 2 * pair, 2);
	}
	if (value >= 10) {
		p -= 2;
		memcpy(p, number_format_pairs + 2 * value, 2);
	} else {
		*--p = (char)('0' + value);
	}
	return len;
}

size_t
number_format_i64(char *out, int64_t value)
{
	if (value >= 0)
		return number_format_u64(out, (uint64_t)value);
	/* The magnitude of INT64_MIN only fits unsigned. */
	out[0] = '-';
	return 1 + number_format_u64(out + 1, -(uint64_t)value);
}

/* --- exact arithmetic on non-negative integers ------------------------------ */

#define NUMBER_BIG_LIMBS 40	/* 1,280 bits */

struct number_big {
	uint32_t limb[NUMBER_BIG_LIMBS];	/* least significant first */
	int len;			/* limbs in use; the top one is not 0 */
};

static void
number_big_set(struct number_big *b, uint64_t value)
{
	b->len = 0;
	while (value != 0) {
		b->limb[b->len++] = (uint32_t)value;
		value >>= 32;
	}
}

static void
number_big_mul_small(struct number_big *b, uint32_t factor)
{
	uint64_t carry = 0;

	for (int i = 0; i < b->len; i++) {
		carry += (uint64_t)b->limb[i] * factor;
		b->limb[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry != 0)
		b->limb[b->len++] = (uint32_t)carry;
}

static void
number_big_mul_pow10(struct number_big *b, int exponent)
{
	static const uint32_t pow10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000,
	};

	while (exponent >= 9) {
		number_big_mul_small(b, pow10[9]);
		exponent -= 9;
	}
	if (exponent > 0)
		number_big_mul_small(b, pow10[exponent]);
}

static void
number_big_shift_left(struct number_big *b, int bits)
{
	int words = bits / 32, shift = bits % 32;

	if (b->len == 0)
		return;
	if (shift != 0) {
		uint32_t carry = 0;

		for (int i = 0; i < b->len; i++) {
			uint32_t limb = b->limb[i];

			b->limb[i] = limb << shift | carry;
			carry = limb >> (32 - shift);
		}
		if (carry != 0)
			b->limb[b->len++] = carry;
	}
	if (words != 0) {
		memmove(b->limb + words, b->limb, (size_t)b->len * sizeof b->limb[0]);
		memset(b->limb, 0, (size_t)words * sizeof b->limb[0]);
		b->len += words;
	}
}

static int
number_big_compare(const struct number_big *a, const struct number_big *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (int i = a->len - 1; i >= 0; i--) {
		if (a->limb[i] != b->limb[i])
			return a->limb[i] < b->limb[i] ? -1 : 1;
	}
	return 0;
}

static void
number_big_add(struct number_big *sum, const struct number_big *a,
    const struct number_big *b)
{
	const struct number_big *longer = a->len >= b->len ? a : b;
	uint64_t carry = 0;
	int i;

	for (i = 0; i < longer->len; i++) {
		carry += (uint64_t)(i < a->len ? a->limb[i] : 0) +
		    (i < b->len ? b->limb[i] : 0);
		sum->limb[i] = (uint32_t)carry;
		carry >>= 32;
	}
	sum->len = longer->len;
	if (carry != 0)
		sum->limb[sum->len++] = (uint32_t)carry;
}

/* a -= b, for a >= b. */
static void
number_big_subtract(struct number_big *a, const struct number_big *b)
{
	int64_t borrow = 0;

	for (int i = 0; i < a->len; i++) {
		borrow += (int64_t)a->limb[i] - (i < b->len ? b->limb[i] : 0);
		a->limb[i] = (uint32_t)borrow;
		borrow = borrow < 0 ? -1 : 0;
	}
	while (a->len > 0 && a->limb[a->len - 1] == 0)
		a->len--;
}

/* r -= q s, for q s <= r. */
static void
number_big_subtract_multiple(struct number_big *r, const struct number_big *s,
    uint32_t q)
{
	uint64_t product = 0;
	int64_t borrow = 0;

	for (int i = 0; i < r->len; i++) {
		product += i < s->len ? (uint64_t)s->limb[i] * q : 0;
		borrow += (int64_t)r->limb[i] - (uint32_t)product;
		product >>= 32;
		r->limb[i] = (uint32_t)borrow;
		borrow = borrow < 0 ? -1 : 0;
	}
	while (r->len > 0 && r->limb[r->len - 1] == 0)
		r->len--;
}

/*
 * The quotient r / s when it is a digit (r < 10 s), r left with the
 * remainder.  With the top bit of s set, dividing r's top 64 bits by s's
 * top limb plus one falls short of the quotient by at most one.
 */
static uint32_t
number_big_divide_digit(struct number_big *r, const struct number_big *s)
{
	int n = s->len;
	uint64_t top;
	uint32_t q;

	if (r->len < n)
		return 0;
	top = (r->len > n ? (uint64_t)r->limb[n] << 32 : 0) | r->limb[n - 1];
	q = (uint32_t)(top / ((uint64_t)s->limb[n - 1] + 1));
	if (q > 0)
		number_big_subtract_multiple(r, s, q);
	while (number_big_compare(r, s) >= 0) {
		number_big_subtract(r, s);
		q++;
	}
	return q;
}

/* r + m >= s (inclusive) or r + m > s. */
static bool
number_big_sum_reaches(const struct number_big *r, const struct number_big *m,
    const struct number_big *s, bool inclusive)
{
	struct number_big sum;
	int compare;

	number_big_add(&sum, r, m);
	compare = number_big_compare(&sum, s);
	return inclusive ? compare >= 0 : compare > 0;
}

/* --- shortest digits ----------------------------------------------------- */

/*
 * A finite value > 0 as the paper takes it: value = f x 2^e; the reals
 * that round to it lie within (value - m-, value + m+), ends included when
 * f is even (round half to even).  m- is half m+ at a power of two (the
 * gap below is half the gap above), except at the smallest normal, whose
 * gap below is the denormals' gap.
 */
struct number_float {
	uint64_t f;
	int e;
	bool even;
	bool power_of_two;
	/*
	 * k, the least integer with value + m+ below 10^k (or at it, when the
	 * ends count), estimated from the binary exponent x (2^x <= value <
	 * 2^(x+1)): 78913 / 2^18 is just under log10 2, and C's division
	 * truncates, so the estimate is at most ceil(x log10 2), never above
	 * k and at most three below.  Generation raises it until the bound
	 * holds.
	 */
	int estimate;
};

/*
 * The digits in 1,280-bit arithmetic, for any double.  Everything is
 * scaled by 2 (4 at a power of two) so the half-gaps are integers: r / s
 * is value, m+ / s and m- / s the half-gaps.
 */
static int
number_format_digits_wide(const struct number_float *v, char *digits, int *exponent)
{
	struct number_big r, s, m_plus, m_minus_storage, *m_minus = &m_plus;
	int e = v->e, k, shift, n = 0;

	number_big_set(&r, v->f);
	if (e >= 0) {
		number_big_shift_left(&r, e + (v->power_of_two ? 2 : 1));
		number_big_set(&s, v->power_of_two ? 4 : 2);
		number_big_set(&m_plus, 1);
		number_big_shift_left(&m_plus, e + (v->power_of_two ? 1 : 0));
		if (v->power_of_two) {
			m_minus = &m_minus_storage;
			number_big_set(m_minus, 1);
			number_big_shift_left(m_minus, e);
		}
	} else {
		number_big_shift_left(&r, v->power_of_two ? 2 : 1);
		number_big_set(&s, 1);
		number_big_shift_left(&s, -e + (v->power_of_two ? 2 : 1));
		number_big_set(&m_plus, v->power_of_two ? 2 : 1);
		if (v->power_of_two) {
			m_minus = &m_minus_storage;
			number_big_set(m_minus, 1);
		}
	}
	if (v->estimate >= 0) {
		number_big_mul_pow10(&s, v->estimate);
	} else {
		number_big_mul_pow10(&r, -v->estimate);
		number_big_mul_pow10(&m_plus, -v->estimate);
		if (m_minus != &m_plus)
			number_big_mul_pow10(m_minus, -v->estimate);
	}
	for (k = v->estimate; number_big_sum_reaches(&r, &m_plus, &s, v->even); k++)
		number_big_mul_small(&s, 10);
	/* The first digit is the integer part of 10 r / s. */
	number_big_mul_small(&r, 10);
	number_big_mul_small(&m_plus, 10);
	if (m_minus != &m_plus)
		number_big_mul_small(m_minus, 10);
	/* Only ratios matter: scale everything so s's top bit is set. */
	shift = __builtin_clz(s.limb[s.len - 1]);
	number_big_shift_left(&r, shift);
	number_big_shift_left(&s, shift);
	number_big_shift_left(&m_plus, shift);
	if (m_minus != &m_plus)
		number_big_shift_left(m_minus, shift);

	for (;;) {
		int digit = (int)number_big_divide_digit(&r, &s), compare;
		bool low, high;

		compare = number_big_compare(&r, m_minus);
		low = v->even ? compare <= 0 : compare < 0;
		high = number_big_sum_reaches(&r, &m_plus, &s, v->even);
		if (!low && !high && n < 16) {
			digits[n++] = (char)('0' + digit);
			number_big_mul_small(&r, 10);
			number_big_mul_small(&m_plus, 10);
			if (m_minus != &m_plus)
				number_big_mul_small(m_minus, 10);
			continue;
		}
		if (low == high) {
			/*
			 * Both candidates read back: take the nearer one.  (Neither
			 * does only if 17 digits were not enough, which the
			 * interval's width rules out for a double.)
			 */
			struct number_big twice = r;

			number_big_shift_left(&twice, 1);
			if (number_big_compare(&twice, &s) >= 0)
				digit++;
		} else if (high) {
			digit++;
		}
		digits[n++] = (char)('0' + digit);
		break;
	}
	*exponent = k;
	return n;
}

#ifdef __SIZEOF_INT128__
/*
 * The same digits in 128-bit arithmetic, for what metrics hold beside
 * integers and short decimals (sums of latencies and the like): values
 * with a fraction, e from -120 to -1, where s is the power of two 2^t: a
 * digit is a shift, the remainder a mask.  The integer part (below 2^53)
 * is exact and no shorter form ends inside it (the nearest integers are
 * an ulp away, beyond the interval), so its digits go out as they are and
 * generation starts at the fraction; a value below 1 moves its leading
 * zeros into the exponent.  Bounds: r and m+ stay below 10 s = 10 x 2^t
 * (m+ < s at every step that goes on), so with t <= 122 every sum fits.
 */
static int
number_format_digits_fraction(const struct number_float *v, char *digits, int *exponent)
{
	int point = -v->e, t = point + (v->power_of_two ? 2 : 1), n = 0, k = 0;
	uint64_t integer = point < 64 ? v->f >> point : 0;
	uint64_t fraction = point < 64 ? v->f & ((UINT64_C(1) << point) - 1) : v->f;
	unsigned __int128 s = (unsigned __int128)1 << t, mask = s - 1;
	unsigned __int128 r = (unsigned __int128)fraction << (v->power_of_two ? 2 : 1);
	unsigned __int128 m_plus = v->power_of_two ? 2 : 1, m_minus = 1;

	if (integer > 0)
		n = k = (int)number_format_u64(digits, integer);
	for (;;) {
		int digit;
		bool low, high;

		r *= 10;
		m_plus *= 10;
		m_minus *= 10;
		digit = (int)(r >> t);
		r &= mask;
		/* A leading zero: no interval this wide holds 0. */
		if (n == 0 && digit == 0) {
			k--;
			continue;
		}
		low = v->even ? r <= m_minus : r < m_minus;
		high = v->even ? r + m_plus >= s : r + m_plus > s;
		if (!low && !high && n < 16) {
			digits[n++] = (char)('0' + digit);
			continue;
		}
		if (low == high) {
			if (2 * r >= s)
				digit++;
		} else if (high) {
			digit++;
		}
		digits[n++] = (char)('0' + digit);
		break;
	}
	*exponent = k;
	return n;
}
#endif

/*
 * The shortest digits of a finite value > 0, at most 17 of them, with the
 * decimal exponent k such that value reads back from 0.DIGITS x 10^k.
 */
static int
number_format_shortest(double value, char digits[NUMBER_FORMAT_MAX], int *exponent)
{
	struct number_float v;
	uint64_t bits;
	int biased;

	memcpy(&bits, &value, sizeof bits);
	biased = (int)(bits >> 52 & 0x7ff);
	v.f = bits & ((UINT64_C(1) << 52) - 1);
	if (biased == 0) {
		v.e = -1074;
	} else {
		v.f |= UINT64_C(1) << 52;
		v.e = biased - 1075;
	}
	v.even = (v.f & 1) == 0;
	v.power_of_two = v.f == UINT64_C(1) << 52 && biased > 1;
	v.estimate = (v.e + (63 - __builtin_clzll(v.f))) * 78913 / 262144;
#ifdef __SIZEOF_INT128__
	if (v.e < 0 && v.e >= -120)
		return number_format_digits_fraction(&v, digits, exponent);
#endif
	return number_format_digits_wide(&v, digits, exponent);
}

/*
 * Most values a metric holds have a short decimal at hand: take it without
 * the exact arithmetic.  With at most 15 digits, D = round(value x 10^p)
 * is the only candidate for p decimals: the reals that round to value
 * span less than 0.12 at that scale, and so does the error of the
 * product.  D and 10^p (p <= 22) are exact doubles, so one division
 * rounds D / 10^p correctly, as strtod would: it reads back as value iff
 * it equals value.  A form with p decimals gives one with p + 1 (a zero
 * more), so the most decimals that keep D below 10^15 are tried first:
 * none there, none at all (16 or 17 digits, or too small: 0, and the
 * exact algorithm takes those).  Then the fewest that work, from 0 up.
 */
static const double number_format_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static uint64_t
number_format_decimals(double value, int decimals)
{
	uint64_t d = (uint64_t)(value * number_format_pow10[decimals] + 0.5);

	if (d == 0 || (double)d / number_format_pow10[decimals] != value)
		return 0;
	return d;
}

static int
number_format_short(double value, char digits[NUMBER_FORMAT_MAX], int *exponent)
{
	int most = (int)(sizeof number_format_pow10 / sizeof number_format_pow10[0]) - 1;
	uint64_t d = 0;
	int decimals, n;

	while (most >= 0 && value * number_format_pow10[most] >= 1e15)
		most--;
	if (most < 0 || number_format_decimals(value, most) == 0)
		return 0;
	for (decimals = 0; decimals < most; decimals++) {
		if ((d = number_format_decimals(value, decimals)) != 0)
			break;
	}
	if (d == 0)
		d = number_format_decimals(value, most);
	n = (int)number_format_u64(digits, d);
	*exponent = n - decimals;
	return n;
}

/*
 * Lay digits out as printf's %g does (what the exposition printed before,
 * and what Go and Python print): plain notation for 1e-4 <= |value| <
 * 1e21, an exponent of at least two digits outside.
 */
static size_t
number_format_layout(char *out, bool negative, const char *digits, int n, int k)
{
	char *p = out;

	if (negative)
		*p++ = '-';
	if (k < -3 || k > 21) {
		*p++ = digits[0];
		if (n > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)(n - 1));
			p += n - 1;
		}
		*p++ = 'e';
		*p++ = k - 1 < 0 ? '-' : '+';
		if (k - 1 > -10 && k - 1 < 10)
			*p++ = '0';
		p += number_format_u64(p, (uint64_t)(k - 1 < 0 ? 1 - k : k - 1));
	} else if (k <= 0) {
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)-k);
		p += -k;
		memcpy(p, digits, (size_t)n);
		p += n;
	} else if (n <= k) {
		memcpy(p, digits, (size_t)n);
		p += n;
		memset(p, '0', (size_t)(k - n));
		p += k - n;
	} else {
		memcpy(p, digits, (size_t)k);
		p += k;
		*p++ = '.';
		memcpy(p, digits + k, (size_t)(n - k));
		p += n - k;
	}
	*p = '\0';
	return (size_t)(p - out);
}

size_t
number_format_double(char *out, double value)
{
	char digits[NUMBER_FORMAT_MAX];
	int n, k;

	if (isnan(value)) {
		memcpy(out, "NaN", 4);
		return 3;
	}
	if (isinf(value)) {
		memcpy(out, value > 0 ? "+Inf" : "-Inf", 5);
		return 4;
	}
	if (value == 0) {
		if (signbit(value)) {
			memcpy(out, "-0", 3);
			return 2;
		}
		memcpy(out, "0", 2);
		return 1;
	}
	/* Counters and most gauges: exact integers, digit for digit. */
	if (value >= -0x1p63 && value < 0x1p63 && value == (double)(int64_t)value)
		return number_format_i64(out, (int64_t)value);
	if ((n = number_format_short(value < 0 ? -value : value, digits, &k)) == 0)
		n = number_format_shortest(value < 0 ? -value : value, digits, &k);
	return number_format_layout(out, value < 0, digits, n, k);
}
