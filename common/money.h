/*
 * money.h - money as int64_t micro-units (1e-6 of the currency)
 *
 * Never floating point.  Parsing is exact (at most 6 decimals); rounding to a
 * precision of p decimals is half up (away from zero on ties), done once.
 *
 * Threading: pure functions, any thread.
 */
#ifndef SW_MONEY_H
#define SW_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_MONEY_UNIT 1000000LL /* micro-units per currency unit */
#define SW_MONEY_MAX  (INT64_MAX / 1000)

int     sw_money_parse(int64_t *valp, const char *s);
int     sw_money_format(char *buf, size_t size, int64_t val, int precision);
int64_t sw_money_round(int64_t val, int precision);
int     sw_money_div_round(int64_t *valp, __int128 num, int64_t den,
			   int precision);

#endif /* SW_MONEY_H */
