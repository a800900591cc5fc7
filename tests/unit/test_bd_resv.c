/* test_bd_resv.c - credit reservations: N calls never hold more than the
 * money, extensions grant the exact remaining seconds, releases, expiry */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "billingd/libre.h"

#include "billingd/resv.h"

static const struct bd_rate_params P = BD_RATE_PARAMS_DEFAULT;
/* 0.6 per minute, 1 s intervals: 10000 micro-units a second */
static const struct bd_rate R = {"1", 0, 1, 600000, 1, 600000};
/* the agent's own rate: 0.3 per minute, 5000 a second */
static const struct bd_rate RA = {"1", 0, 1, 300000, 1, 300000};

static void open1(struct bd_resv_table *t, struct bd_resv_grant *g,
		  const char *call, int64_t money, int64_t adv, int64_t now)
{
	struct bd_resv_level lv = {"cust", &R, money};

	bd_resv_open(t, g, call, &lv, 1, &P, adv, now);
}

static void extend1(struct bd_resv_table *t, struct bd_resv_grant *g,
		    const char *call, int64_t money, int64_t granted,
		    int64_t adv, bool resume)
{
	struct bd_resv_level lv = {"cust", &R, money};

	bd_resv_extend(t, g, call, &lv, 1, &P, granted, adv, resume, 0);
}

static void concurrent_calls_share_the_money(void **state)
{
	struct bd_resv_table *t;
	struct bd_resv_grant g;
	const int64_t money = 250000; /* 25 s */
	char call[16];
	int64_t granted = 0;

	(void)state;
	assert_int_equal(bd_resv_alloc(&t), 0);
	/* 10 calls, 4 s slices: six get 4 s, the seventh the last 1 s */
	for (int i = 0; i < 10; i++) {
		snprintf(call, sizeof(call), "c%d", i);
		open1(t, &g, call, money, 4, 0);
		if (i < 6) {
			assert_true(g.allow);
			assert_int_equal(g.granted_s, 4);
			assert_true(g.extendable);
		} else if (i == 6) {
			assert_true(g.allow);
			assert_int_equal(g.granted_s, 1);
			assert_false(g.extendable);
		} else {
			assert_false(g.allow);
			assert_string_equal(g.reason, "InsufficientBalance");
		}
		granted += g.allow ? g.granted_s : 0;
	}
	assert_int_equal(granted, 25);
	assert_int_equal(bd_resv_held(t, "cust"), money);
	assert_int_equal(bd_resv_count(t), 7);

	/* nothing is free: an extension keeps what the call has */
	extend1(t, &g, "c0", money, 4, 4, false);
	assert_true(g.allow);
	assert_int_equal(g.granted_s, 4);
	assert_false(g.extendable);

	/* c6 ends and its CDR is stored for 1 s: released and debited */
	bd_resv_end(t, "c6", 0);
	assert_int_equal(bd_resv_held(t, "cust"), money);
	assert_int_equal(bd_resv_commit(t, "c6"), 10000);
	assert_int_equal(bd_resv_held(t, "cust"), money - 10000);
	bd_resv_free(t);
}

static void extension_grants_the_remaining_seconds(void **state)
{
	struct bd_resv_table *t;
	struct bd_resv_grant g;

	(void)state;
	assert_int_equal(bd_resv_alloc(&t), 0);
	open1(t, &g, "a", 100000, 4, 0); /* 10 s */
	assert_int_equal(g.granted_s, 4);
	extend1(t, &g, "a", 100000, 4, 4, false);
	assert_int_equal(g.granted_s, 8);
	assert_true(g.extendable);
	extend1(t, &g, "a", 100000, 8, 4, false);
	assert_int_equal(g.granted_s, 10);
	assert_false(g.extendable);
	assert_int_equal(g.amount, 100000);
	assert_int_equal(bd_resv_held(t, "cust"), 100000);

	/* a billingd restart: resume re-creates what the call had */
	bd_resv_free(t);
	assert_int_equal(bd_resv_alloc(&t), 0);
	extend1(t, &g, "a", 0, 10, 4, true);
	assert_true(g.allow);
	assert_int_equal(bd_resv_held(t, "cust"), 100000);
	bd_resv_free(t);
}

/* a reseller whose agent is poorer: the agent's money decides */
static void the_poorest_level_decides(void **state)
{
	struct bd_resv_table *t;
	struct bd_resv_grant g;
	/* the customer could pay 100 s, its agent only 6 s (30000 at 5000) */
	struct bd_resv_level lv[2] = {{"cust", &R, 1000000},
				      {"agent", &RA, 30000}};

	(void)state;
	assert_int_equal(bd_resv_alloc(&t), 0);
	bd_resv_open(t, &g, "a", lv, 2, &P, 4, 0);
	assert_int_equal(g.granted_s, 4);
	assert_int_equal(bd_resv_held(t, "cust"), 40000);
	assert_int_equal(bd_resv_held(t, "agent"), 20000);
	bd_resv_extend(t, &g, "a", lv, 2, &P, 4, 4, false, 0);
	assert_int_equal(g.granted_s, 6);
	assert_false(g.extendable);
	assert_int_equal(bd_resv_held(t, "agent"), 30000);
	assert_int_equal(bd_resv_amount_of(t, "a", "agent"), 30000);
	/* a second call of another customer of the same agent: nothing */
	lv[0].account = "cust2";
	bd_resv_open(t, &g, "b", lv, 2, &P, 4, 0);
	assert_false(g.allow);
	/* the CDR: both released, the agent's fee counted as debited */
	assert_int_equal(bd_resv_commit(t, "a"), 60000);
	assert_int_equal(bd_resv_held(t, "agent"), 0);
	bd_resv_free(t);
}

static void reservations_expire(void **state)
{
	struct bd_resv_table *t;
	struct bd_resv_grant g;

	(void)state;
	assert_int_equal(bd_resv_alloc(&t), 0);
	open1(t, &g, "live", 1000000, 4, 0);
	open1(t, &g, "ended", 1000000, 4, 0);
	bd_resv_end(t, "ended", 1000);
	/* a live one lasts its 4 s plus the grace */
	assert_int_equal(bd_resv_expire(t, 4000 + BD_RESV_LIVE_GRACE_MS - 1),
			 0);
	assert_int_equal(bd_resv_expire(t, 4000 + BD_RESV_LIVE_GRACE_MS), 1);
	assert_false(bd_resv_has(t, "live"));
	/* an ended one waits for its CDR for the TTL */
	assert_int_equal(bd_resv_expire(t, 1000 + BD_RESV_ENDED_TTL_MS), 1);
	assert_int_equal(bd_resv_held(t, "cust"), 0);
	assert_int_equal(bd_resv_commit(t, "ended"), -1);
	bd_resv_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(concurrent_calls_share_the_money),
	    cmocka_unit_test(extension_grants_the_remaining_seconds),
	    cmocka_unit_test(the_poorest_level_decides),
	    cmocka_unit_test(reservations_expire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
