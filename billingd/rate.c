/*
 * rate.c - the SPEC §6 rating formula, exact in micro-units
 *
 *   billable s = whole seconds of hold_ms (+1 when the remainder is at least
 *                the hold-time precision), minus the free time, floor 0
 *   s = 0      => nothing is charged, not even the connect fee
 *   fee        = connect + first_rate * first / 60
 *                + ceil(max(0, s - first) / next) * next * next_rate / 60
 *
 * The sum is built over a common denominator of 60 in an __int128 and
 * rounded half up once (sw_money_div_round), so no intermediate rounding
 * ever leaks into a balance.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "billingd/rate.h"
#include "common/money.h"

/* Billable seconds of a hold time: precision rule, then free time. */
int64_t bd_rate_billable_s(const struct bd_rate_params *p, int64_t hold_ms)
{
	int64_t s, rem;

	if (!p || hold_ms <= 0)
		return 0;

	s = hold_ms / 1000;
	rem = hold_ms % 1000;
	/* a zero remainder is never "at least" anything worth a second */
	if (rem > 0 && rem >= p->hold_precision_ms)
		s++;

	s -= p->free_time_s > 0 ? p->free_time_s : 0;

	return s > 0 ? s : 0;
}

static bool rate_valid(const struct bd_rate *r)
{
	return r->connect_fee >= 0 && r->first_s >= 0 && r->first_rate >= 0 &&
	       r->next_s >= 0 && r->next_rate >= 0 &&
	       r->connect_fee <= SW_MONEY_MAX &&
	       r->first_rate <= SW_MONEY_MAX && r->next_rate <= SW_MONEY_MAX &&
	       r->first_s <= INT32_MAX && r->next_s <= INT32_MAX;
}

/*
 * Rate one call of hold_ms milliseconds with entry r.  EINVAL for negative
 * or absurd inputs, ERANGE when the fee does not fit in int64_t.
 */
int bd_rate_calc(struct bd_rate_result *res, const struct bd_rate *r,
		 const struct bd_rate_params *p, int64_t hold_ms)
{
	int64_t s, next, extra, k, fee;
	__int128 num;
	int err;

	if (!res || !r || !p || hold_ms < 0 || !rate_valid(r))
		return EINVAL;

	s = bd_rate_billable_s(p, hold_ms);
	if (s == 0) {
		memset(res, 0, sizeof(*res));
		return 0;
	}

	next = r->next_s > 0 ? r->next_s : 1;
	extra = s > r->first_s ? s - r->first_s : 0;
	k = extra / next + (extra % next ? 1 : 0);

	/* the first interval is the minimum billed, even when s < first */
	num = (__int128)r->connect_fee * 60 +
	      (__int128)r->first_rate * r->first_s +
	      (__int128)k * next * r->next_rate;

	err = sw_money_div_round(&fee, num, 60, (int)p->fee_precision);
	if (err)
		return err;

	res->billable_s = s;
	res->fee_s = r->first_s + k * next;
	res->fee = fee;

	return 0;
}

/* Fee of hold_ms under the default parameters (precision 4, 50 ms, 0 s). */
int64_t bd_rate_fee(const struct bd_rate *r, int64_t hold_ms)
{
	const struct bd_rate_params p = BD_RATE_PARAMS_DEFAULT;
	struct bd_rate_result res;

	if (bd_rate_calc(&res, r, &p, hold_ms))
		return -1;

	return res.fee;
}

static bool affordable(const struct bd_rate *r, const struct bd_rate_params *p,
		       int64_t available, int64_t t)
{
	struct bd_rate_result res;

	if (bd_rate_calc(&res, r, p, t * 1000))
		return false;

	return res.fee <= available;
}

/*
 * The longest whole number of seconds, at most cap_s, whose fee under r does
 * not exceed `available`.  The fee is monotonic in the duration, so a binary
 * search finds it.  0 means not even the first interval is affordable.
 */
int64_t bd_rate_max_duration(const struct bd_rate *r,
			     const struct bd_rate_params *p, int64_t available,
			     int64_t cap_s)
{
	int64_t lo = 0, hi = cap_s;

	if (!r || !p || cap_s <= 0 || available < 0)
		return 0;

	if (affordable(r, p, available, cap_s))
		return cap_s;

	/* invariant: lo affordable (fee(0) = 0), hi not */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (affordable(r, p, available, mid))
			lo = mid;
		else
			hi = mid;
	}

	return lo;
}
