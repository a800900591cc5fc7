/*
 * test_bd_rate.c - the SPEC §6 rating formula and longest-prefix selection
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "billingd/rate.h"
#include "common/money.h"

static const struct bd_rate_params defaults = BD_RATE_PARAMS_DEFAULT;

static int64_t fee_p(const struct bd_rate *r, const struct bd_rate_params *p,
		     int64_t hold_ms)
{
	struct bd_rate_result res;

	assert_int_equal(bd_rate_calc(&res, r, p, hold_ms), 0);
	return res.fee;
}

static void rate_first_and_next_interval(void **state)
{
	/* 0.0100/min, 30/6 billing, 47 s call: 30 s + ceil(17/6)*6 = 48 s */
	struct bd_rate r = {.first_s = 30,
			    .first_rate = 10000,
			    .next_s = 6,
			    .next_rate = 10000};
	struct bd_rate_result res;

	(void)state;
	assert_int_equal(bd_rate_fee(&r, 47000), 8000); /* micro-units */
	assert_int_equal(bd_rate_calc(&res, &r, &defaults, 47000), 0);
	assert_int_equal(res.billable_s, 47);
	assert_int_equal(res.fee_s, 48);
}

static void rate_first_interval_is_minimum(void **state)
{
	/* a 5 s call still pays the whole 30 s first interval */
	struct bd_rate r = {.first_s = 30,
			    .first_rate = 10000,
			    .next_s = 6,
			    .next_rate = 10000};
	struct bd_rate_result res;

	(void)state;
	assert_int_equal(bd_rate_calc(&res, &r, &defaults, 5000), 0);
	assert_int_equal(res.fee, 5000);
	assert_int_equal(res.fee_s, 30);
	/* exactly the first interval: no next interval */
	assert_int_equal(bd_rate_fee(&r, 30000), 5000);
	/* one second more: one next interval of 6 s */
	assert_int_equal(bd_rate_fee(&r, 31000), 6000);
}

static void rate_hold_time_precision(void **state)
{
	/* 1/1 billing at 0.06/min = 1000 micro-units per second */
	struct bd_rate r = {
	    .first_s = 1, .first_rate = 60000, .next_s = 1, .next_rate = 60000};
	struct bd_rate_params p = defaults;

	(void)state;
	assert_int_equal(bd_rate_billable_s(&p, 47049), 47);
	assert_int_equal(bd_rate_billable_s(&p, 47050), 48);
	assert_int_equal(bd_rate_fee(&r, 47049), 47000);
	assert_int_equal(bd_rate_fee(&r, 47050), 48000);
	assert_int_equal(bd_rate_fee(&r, 47000), 47000);

	/* under 50 ms in total is no second at all, hence free */
	assert_int_equal(bd_rate_fee(&r, 49), 0);
	assert_int_equal(bd_rate_fee(&r, 50), 1000);

	/* precision 0: any remainder counts, a round second does not */
	p.hold_precision_ms = 0;
	assert_int_equal(bd_rate_billable_s(&p, 47001), 48);
	assert_int_equal(bd_rate_billable_s(&p, 47000), 47);

	/* precision 1000: remainders never count (floor) */
	p.hold_precision_ms = 1000;
	assert_int_equal(bd_rate_billable_s(&p, 47999), 47);
}

static void rate_free_time(void **state)
{
	struct bd_rate r = {.connect_fee = 20000,
			    .first_s = 1,
			    .first_rate = 60000,
			    .next_s = 1,
			    .next_rate = 60000};
	struct bd_rate_params p = defaults;
	struct bd_rate_result res;

	(void)state;
	p.free_time_s = 10;
	assert_int_equal(bd_rate_calc(&res, &r, &p, 47000), 0);
	assert_int_equal(res.billable_s, 37);
	assert_int_equal(res.fee, 20000 + 37000);

	/* a call within the free time costs nothing, not even connect fee */
	assert_int_equal(bd_rate_calc(&res, &r, &p, 10000), 0);
	assert_int_equal(res.billable_s, 0);
	assert_int_equal(res.fee, 0);
	assert_int_equal(res.fee_s, 0);

	/* 10.05 s is 11 billable-before-free seconds, 1 after */
	assert_int_equal(fee_p(&r, &p, 10050), 20000 + 1000);
}

static void rate_connect_fee(void **state)
{
	struct bd_rate r = {.connect_fee = 20000,
			    .first_s = 60,
			    .first_rate = 6000,
			    .next_s = 60,
			    .next_rate = 6000};

	(void)state;
	/* unanswered or zero-second call: no connect fee */
	assert_int_equal(bd_rate_fee(&r, 0), 0);
	assert_int_equal(bd_rate_fee(&r, 40), 0);
	/* one second: connect fee + the first minute */
	assert_int_equal(bd_rate_fee(&r, 1000), 20000 + 6000);
	assert_int_equal(bd_rate_fee(&r, 61000), 20000 + 12000);
}

static void rate_next_interval_zero(void **state)
{
	/* next interval 0 means 1: 30 s first, then per second */
	struct bd_rate r = {.first_s = 30,
			    .first_rate = 60000,
			    .next_s = 0,
			    .next_rate = 60000};
	struct bd_rate_result res;

	(void)state;
	assert_int_equal(bd_rate_calc(&res, &r, &defaults, 47000), 0);
	assert_int_equal(res.fee, 47000);
	assert_int_equal(res.fee_s, 47);

	/* first interval 0 too: pure per-second billing */
	r.first_s = 0;
	assert_int_equal(bd_rate_fee(&r, 3000), 3000);
}

static void rate_precision_half_up_once(void **state)
{
	struct bd_rate r = {.first_s = 1, .first_rate = 9000, .next_s = 1};
	struct bd_rate_params p = defaults;

	(void)state;
	/* 9000/min for 1 s = exactly 150 micro-units: half up to 200 */
	assert_int_equal(fee_p(&r, &p, 1000), 200);
	/* 8999/min for 1 s = 149.98...: down to 100 */
	r.first_rate = 8999;
	assert_int_equal(fee_p(&r, &p, 1000), 100);
	/* precision 6 keeps micro-units: 149.98 -> 150 */
	p.fee_precision = 6;
	assert_int_equal(fee_p(&r, &p, 1000), 150);
	/* precision 2: 0.01 steps, 150 -> 0 */
	p.fee_precision = 2;
	assert_int_equal(fee_p(&r, &p, 1000), 0);
	/* an exact fee ending in 50 with precision 4 */
	r.connect_fee = 12350;
	r.first_rate = 0;
	p.fee_precision = 4;
	assert_int_equal(fee_p(&r, &p, 1000), 12400);
	r.connect_fee = 12349;
	assert_int_equal(fee_p(&r, &p, 1000), 12300);

	/* rounded once: 50 + 50 = 100, never 100 + 100 */
	r.connect_fee = 50;
	r.first_rate = 3000;
	assert_int_equal(fee_p(&r, &p, 1000), 100);

	/* a third of a micro-unit per second adds up exactly:
	 * 20 micro-units/min over 3 s = 1 micro-unit */
	r.connect_fee = 0;
	r.first_s = 3;
	r.first_rate = 20;
	p.fee_precision = 6;
	assert_int_equal(fee_p(&r, &p, 3000), 1);
}

static void rate_bad_input(void **state)
{
	struct bd_rate r = {.first_s = 30,
			    .first_rate = 10000,
			    .next_s = 6,
			    .next_rate = 10000};
	struct bd_rate_result res;

	(void)state;
	assert_int_not_equal(bd_rate_calc(&res, &r, &defaults, -1), 0);
	r.next_rate = -5;
	assert_int_not_equal(bd_rate_calc(&res, &r, &defaults, 1000), 0);
	r.next_rate = INT64_MAX;
	assert_int_not_equal(bd_rate_calc(&res, &r, &defaults, 1000), 0);
	assert_int_equal(bd_rate_fee(&r, 1000), -1);

	/* the biggest legal values do not overflow silently */
	r.next_rate = SW_MONEY_MAX;
	r.next_s = INT32_MAX;
	(void)bd_rate_calc(&res, &r, &defaults, INT64_MAX / 2);
}

static void rate_max_duration(void **state)
{
	struct bd_rate r = {
	    .first_s = 1, .first_rate = 60000, .next_s = 1, .next_rate = 60000};
	struct bd_rate free_rate = {.first_s = 60, .next_s = 60};
	struct bd_rate_params p = defaults;

	(void)state;
	/* 1000 micro-units a second: 0.01 buys 10 s */
	assert_int_equal(bd_rate_max_duration(&r, &p, 10000, 7200), 10);
	assert_int_equal(bd_rate_max_duration(&r, &p, 10999, 7200), 10);
	assert_int_equal(bd_rate_max_duration(&r, &p, 100 * 1000000LL, 7200),
			 7200);
	assert_int_equal(bd_rate_max_duration(&r, &p, 999, 7200), 0);
	assert_int_equal(bd_rate_max_duration(&free_rate, &p, 0, 7200), 7200);

	/* 30/6 at 0.01/min: 0.005 buys the first 30 s only */
	r.first_s = 30;
	r.next_s = 6;
	r.first_rate = r.next_rate = 10000;
	assert_int_equal(bd_rate_max_duration(&r, &p, 5000, 7200), 30);
	assert_int_equal(bd_rate_max_duration(&r, &p, 6000, 7200), 36);

	/* free time is always affordable */
	p.free_time_s = 20;
	assert_int_equal(bd_rate_max_duration(&r, &p, 0, 7200), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rate_first_and_next_interval),
	    cmocka_unit_test(rate_first_interval_is_minimum),
	    cmocka_unit_test(rate_hold_time_precision),
	    cmocka_unit_test(rate_free_time),
	    cmocka_unit_test(rate_connect_fee),
	    cmocka_unit_test(rate_next_interval_zero),
	    cmocka_unit_test(rate_precision_half_up_once),
	    cmocka_unit_test(rate_bad_input),
	    cmocka_unit_test(rate_max_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
