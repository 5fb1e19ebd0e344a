/* t/test-kube-quantity.c - resource.Quantity text to exact integers. */
#include "config.h"

#include <errno.h>

#include "kube-quantity.h"
#include "tap.h"

static void
check(const char *text, int scale, int expect_error, int64_t expected)
{
	int64_t value = 12345;
	int error;

	error = kube_quantity_parse(text, strlen(text), scale, &value);
	if (expect_error != 0) {
		is_int(error, expect_error, "\"%s\" is refused (%d)", text,
		    expect_error);
		return;
	}
	if (!ok(error == 0 && value == expected, "\"%s\" at scale %d is %lld",
	    text, scale, (long long)expected))
		diag("  error %d, value %lld", error, (long long)value);
}

int
main(void)
{
	/* CPU in millicores: MilliValue, fractions round up like the kubelet. */
	check("500m", 3, 0, 500);
	check("2", 3, 0, 2000);
	check("1.5", 3, 0, 1500);
	check("0.1", 3, 0, 100);
	check(".5", 3, 0, 500);
	check("5.", 3, 0, 5000);
	check("+1", 3, 0, 1000);
	check("0.0001", 3, 0, 1);	/* 0.1m rounds up to 1m */
	check("1.0001", 3, 0, 1001);
	check("100u", 3, 0, 1);
	check("1000000n", 3, 0, 1);
	check("1500000n", 3, 0, 2);
	check("1k", 3, 0, 1000000);
	check("1e3", 3, 0, 1000000);
	check("1E3", 3, 0, 1000000);
	check("1e-3", 3, 0, 1);
	check("25e-4", 3, 0, 3);
	check("0", 3, 0, 0);
	check("0m", 3, 0, 0);
	check("000.000", 3, 0, 0);
	check("1.000000000000000000000000000000", 3, 0, 1000);
	check("0.000000000000000000000000000001", 3, 0, 1);
	check("-1", 3, 0, -1000);
	check("-0.0001", 3, 0, -1);	/* away from zero, like inf.Dec RoundUp */

	/* Memory in bytes: Value. */
	check("1k", 0, 0, 1000);
	check("1Ki", 0, 0, 1024);
	check("1M", 0, 0, 1000000);
	check("1Mi", 0, 0, 1048576);
	check("1G", 0, 0, 1000000000);
	check("1Gi", 0, 0, 1073741824);
	check("1.5Gi", 0, 0, 1610612736);
	check("1T", 0, 0, 1000000000000LL);
	check("1Ti", 0, 0, 1099511627776LL);
	check("1Pi", 0, 0, 1125899906842624LL);
	check("1Ei", 0, 0, 1152921504606846976LL);
	check("7Ei", 0, 0, 8070450532247928832LL);
	check("1E", 0, 0, 1000000000000000000LL);
	check("1e3", 0, 0, 1000);
	check("128974848", 0, 0, 128974848);
	check("129e6", 0, 0, 129000000);
	check("123Mi", 0, 0, 128974848);
	check("0.5Ki", 0, 0, 512);
	check("0.3Ki", 0, 0, 308);	/* 307.2 rounds up */
	check("1m", 0, 0, 1);		/* a thousandth of a byte is a byte */
	check("9223372036854775807", 0, 0, INT64_MAX);
	check("-9223372036854775808", 0, 0, INT64_MIN);

	/* Refusals. */
	check("", 3, -EINVAL, 0);
	check(".", 3, -EINVAL, 0);
	check("m", 3, -EINVAL, 0);
	check("1.2.3", 3, -EINVAL, 0);
	check("1 m", 3, -EINVAL, 0);
	check("1K", 3, -EINVAL, 0);
	check("1KI", 3, -EINVAL, 0);
	check("1mi", 3, -EINVAL, 0);
	check("1e", 3, -EINVAL, 0);
	check("1e+", 3, -EINVAL, 0);
	check("1e3.5", 3, -EINVAL, 0);
	check("--1", 3, -EINVAL, 0);
	check("abc", 3, -EINVAL, 0);
	check("8Ei", 0, -ERANGE, 0);
	check("9223372036854775808", 0, -ERANGE, 0);
	check("10E", 3, -ERANGE, 0);
	check("1e1001", 3, -ERANGE, 0);
	check("123456789012345678901", 0, -ERANGE, 0);

	/* Length-bounded text: the byte after len is not read. */
	{
		int64_t value = 0;

		ok(kube_quantity_parse("250mX", 4, 3, &value) == 0 && value == 250,
		    "only len bytes are read");
	}
	return done_testing();
}
