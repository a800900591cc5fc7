/*
 * test_bd_auth.c - authorization decisions, the prefix list of the rate
 * lookup and the SERVER_BILLING_* parameter parsing
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "billingd/auth.h"
#include "billingd/lookup.h"
#include "billingd/params.h"
#include "billingd/rate.h"

static const struct bd_rate_params defaults = BD_RATE_PARAMS_DEFAULT;

/*
 * cust with the entry its rate table gives the number (the lookup keeps
 * the longest only): 0.0100/min 30/6 on "1", 0.06/min 1/1 + 0.02 connect
 * on "1212"
 */
static void account_for(struct bd_account *a, int64_t balance, int64_t credit,
			const char *number)
{
	memset(a, 0, sizeof(*a));
	a->found = true;
	a->id = 7;
	strcpy(a->name, "cust1");
	a->balance = balance;
	a->credit_limit = credit;
	a->nrates = 1;
	if (!strncmp(number, "1212", 4))
		a->rates[0] = (struct bd_rate){.prefix = "1212",
					       .connect_fee = 20000,
					       .first_s = 1,
					       .first_rate = 60000,
					       .next_s = 1,
					       .next_rate = 60000};
	else
		a->rates[0] = (struct bd_rate){.prefix = "1",
					       .first_s = 30,
					       .first_rate = 10000,
					       .next_s = 6,
					       .next_rate = 10000};
}

static void account(struct bd_account *a, int64_t balance, int64_t credit)
{
	account_for(a, balance, credit, "1");
}

static void auth_unknown_account(void **state)
{
	struct bd_auth_result r;
	struct bd_account a = {.found = false};

	(void)state;
	bd_auth_decide(&r, NULL, &defaults);
	assert_false(r.allow);
	assert_int_equal(r.sip_code, 404);
	assert_string_equal(r.reason, "AccountNotFound");
	bd_auth_decide(&r, &a, &defaults);
	assert_int_equal(r.sip_code, 404);
}

static void auth_balance(void **state)
{
	struct bd_auth_result r;
	struct bd_account a;

	(void)state;
	account(&a, 0, 0);
	bd_auth_decide(&r, &a, &defaults);
	assert_false(r.allow);
	assert_int_equal(r.sip_code, 403);
	assert_string_equal(r.reason, "InsufficientBalance");
	assert_int_equal(r.max_duration_s, 0);

	/* overdraft: a negative balance within the credit limit is fine */
	account(&a, -1000000, 2000000);
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	assert_int_equal(r.max_duration_s, 6000); /* 1.00 at 0.01/min */

	account(&a, -2000000, 2000000);
	bd_auth_decide(&r, &a, &defaults);
	assert_false(r.allow);
	assert_string_equal(r.reason, "InsufficientBalance");

	/* huge values do not overflow into "allowed" or a crash */
	account(&a, INT64_MAX, INT64_MAX);
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	account(&a, INT64_MIN, INT64_MAX);
	bd_auth_decide(&r, &a, &defaults);
	assert_false(r.allow);
}

static void auth_no_rate(void **state)
{
	struct bd_auth_result r;
	struct bd_account a;

	(void)state;
	account(&a, 1000000, 0);
	a.nrates = 0; /* the lookup found no entry for the number */
	bd_auth_decide(&r, &a, &defaults);
	assert_false(r.allow);
	assert_int_equal(r.sip_code, 403);
	assert_string_equal(r.reason, "NoRate");
}

static void auth_max_duration(void **state)
{
	struct bd_auth_result r;
	struct bd_account a;

	(void)state;
	/* 0.0060 buys 36 s at 30/6 0.01/min (0.005 + 0.001) */
	account(&a, 6000, 0);
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	assert_int_equal(r.max_duration_s, 36);
	assert_string_equal(r.prefix, "1");
	assert_string_equal(r.reason, "");
	assert_int_equal(r.sip_code, 0);

	/* not enough for the first interval: refused as insufficient */
	account(&a, 4999, 0);
	bd_auth_decide(&r, &a, &defaults);
	assert_false(r.allow);
	assert_string_equal(r.reason, "InsufficientBalance");

	/* longest prefix decides: connect 0.02 + 0.001/s; 0.03 buys 10 s */
	account_for(&a, 20000, 10000, "12125550000");
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	assert_string_equal(r.prefix, "1212");
	assert_int_equal(r.max_duration_s, 10);

	/* a free rate: the cap */
	account(&a, 1, 0);
	a.rates[0].first_rate = a.rates[0].next_rate = 0;
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	assert_int_equal(r.max_duration_s, BD_AUTH_MAX_DURATION_S);

	/* no hidden two-hour cap: 1000.00 at 0.0133/6 s buys far more than
	 * 7200 s, and SS_MAXCALLDURATION (up to a week) decides */
	account(&a, 1000000000LL, 0);
	bd_auth_decide(&r, &a, &defaults);
	assert_true(r.allow);
	assert_true(r.max_duration_s > 14400);
	assert_int_equal(BD_AUTH_MAX_DURATION_S, 604800);
}

static void lookup_prefix_literal(void **state)
{
	char buf[256], small[8];

	(void)state;
	assert_int_equal(bd_lookup_prefixes(buf, sizeof(buf), "123"), 0);
	assert_string_equal(buf, "{\"\",\"1\",\"12\",\"123\"}");
	assert_int_equal(bd_lookup_prefixes(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "{\"\"}");
	assert_int_equal(bd_lookup_prefixes(buf, sizeof(buf), "1\"\\"), 0);
	assert_string_equal(buf, "{\"\",\"1\",\"1\\\"\",\"1\\\"\\\\\"}");
	assert_int_not_equal(bd_lookup_prefixes(small, sizeof(small), "1234"),
			     0);
}

static void params_parse(void **state)
{
	struct bd_param_values v;

	(void)state;
	bd_params_defaults(&v);
	assert_int_equal(v.rate.fee_precision, 4);
	assert_int_equal(v.rate.hold_precision_ms, 50);
	assert_int_equal(v.rate.free_time_s, 0);
	assert_true(v.record_zero_hold);

	assert_int_equal(bd_params_set(&v, "SERVER_BILLING_FEE_PRECISION", "2"),
			 0);
	assert_int_equal(v.rate.fee_precision, 2);
	assert_int_not_equal(
	    bd_params_set(&v, "SERVER_BILLING_FEE_PRECISION", "7"), 0);
	assert_int_not_equal(
	    bd_params_set(&v, "SERVER_BILLING_FEE_PRECISION", "2x"), 0);
	assert_int_equal(v.rate.fee_precision, 2);
	assert_int_equal(bd_params_set(&v, "SERVER_BILLING_FREE_TIME", "5"), 0);
	assert_int_equal(v.rate.free_time_s, 5);
	assert_int_equal(
	    bd_params_set(&v, "SERVER_BILLING_RECORD_ZERO_HOLD_TIME", "0"), 0);
	assert_false(v.record_zero_hold);
	assert_int_equal(bd_params_set(&v, "SERVER_BILLING_OTHER", "1"),
			 ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(auth_unknown_account),
	    cmocka_unit_test(auth_balance),
	    cmocka_unit_test(auth_no_rate),
	    cmocka_unit_test(auth_max_duration),
	    cmocka_unit_test(lookup_prefix_literal),
	    cmocka_unit_test(params_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
