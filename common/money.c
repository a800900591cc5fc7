/*
 * money.c - exact parsing, rounding and formatting of micro-unit amounts
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/money.h"

static const int64_t pow10_tab[] = {1,	    10,	     100,     1000,
				    10000, 100000, 1000000};

/*
 * Parse a decimal amount ("12", "-0.5", "0.000001") into micro-units.
 * At most 6 decimals, no exponent, no spaces; EINVAL or ERANGE otherwise.
 */
int sw_money_parse(int64_t *valp, const char *s)
{
	int64_t whole = 0, frac = 0;
	int ndig = 0, nfrac = 0;
	bool neg = false;

	if (!valp || !s)
		return EINVAL;

	if (*s == '-') {
		neg = true;
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++, ndig++) {
		if (whole > (SW_MONEY_MAX / SW_MONEY_UNIT - 9) / 10)
			return ERANGE;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++, nfrac++) {
			if (nfrac == 6)
				return EINVAL;
			frac = frac * 10 + (*s - '0');
		}
		if (nfrac == 0)
			return EINVAL;
	}
	if (*s != '\0' || ndig == 0)
		return EINVAL;

	frac *= pow10_tab[6 - nfrac];
	*valp = (whole * SW_MONEY_UNIT + frac) * (neg ? -1 : 1);
	return 0;
}

/* Round to `precision` decimals (0..6), half away from zero. */
int64_t sw_money_round(int64_t val, int precision)
{
	int64_t q, r;

	if (precision < 0)
		precision = 0;
	if (precision >= 6)
		return val;

	q = pow10_tab[6 - precision];
	r = (val < 0 ? -val : val);
	r = (r + q / 2) / q * q;
	return val < 0 ? -r : r;
}

/*
 * Set *valp to num/den micro-units, rounded half up once to `precision`
 * decimals.  num is wide so that rate x seconds products never overflow.
 */
int sw_money_div_round(int64_t *valp, __int128 num, int64_t den, int precision)
{
	__int128 q, d, r;
	bool neg = false;

	if (!valp || den <= 0)
		return EINVAL;
	if (precision < 0)
		precision = 0;
	if (precision > 6)
		precision = 6;

	if (num < 0) {
		neg = true;
		num = -num;
	}
	q = pow10_tab[6 - precision];
	d = (__int128)den * q;
	r = (num * 2 + d) / (d * 2) * q;	/* half up */
	if (r > INT64_MAX)
		return ERANGE;

	*valp = (int64_t)(neg ? -r : r);
	return 0;
}

/* Format val with exactly `precision` decimals (rounded half up). */
int sw_money_format(char *buf, size_t size, int64_t val, int precision)
{
	int64_t v, whole, frac;
	int n;

	if (!buf || size == 0)
		return EINVAL;
	if (precision < 0)
		precision = 0;
	if (precision > 6)
		precision = 6;

	v = sw_money_round(val, precision);
	whole = (v < 0 ? -v : v) / SW_MONEY_UNIT;
	frac = (v < 0 ? -v : v) % SW_MONEY_UNIT / pow10_tab[6 - precision];

	if (precision == 0)
		n = snprintf(buf, size, "%s%lld", v < 0 ? "-" : "",
			     (long long)whole);
	else
		n = snprintf(buf, size, "%s%lld.%0*lld", v < 0 ? "-" : "",
			     (long long)whole, precision, (long long)frac);

	return (n < 0 || (size_t)n >= size) ? ENOSPC : 0;
}
