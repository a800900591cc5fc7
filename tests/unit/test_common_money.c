/* test_common_money.c - parsing, rounding and formatting of micro-units */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/money.h"

static void parse_exact(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(sw_money_parse(&v, "12"), 0);
	assert_int_equal(v, 12000000);
	assert_int_equal(sw_money_parse(&v, "0.0100"), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(sw_money_parse(&v, "-0.000001"), 0);
	assert_int_equal(v, -1);
	assert_int_equal(sw_money_parse(&v, "100.5"), 0);
	assert_int_equal(v, 100500000);
}

static void parse_rejects(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(sw_money_parse(&v, ""), EINVAL);
	assert_int_equal(sw_money_parse(&v, "1.0000001"), EINVAL);
	assert_int_equal(sw_money_parse(&v, "1e3"), EINVAL);
	assert_int_equal(sw_money_parse(&v, " 1"), EINVAL);
	assert_int_equal(sw_money_parse(&v, "1."), EINVAL);
	assert_int_equal(sw_money_parse(&v, ".5"), EINVAL);
	assert_int_equal(sw_money_parse(&v, "-"), EINVAL);
	assert_int_equal(sw_money_parse(&v, "99999999999999999999"), ERANGE);
	assert_int_equal(v, 7);	/* untouched on failure */
}

static void round_half_up(void **state)
{
	(void)state;
	/* precision 4 = multiples of 100 micro-units */
	assert_int_equal(sw_money_round(8050, 4), 8100);
	assert_int_equal(sw_money_round(8049, 4), 8000);
	assert_int_equal(sw_money_round(-8050, 4), -8100);
	assert_int_equal(sw_money_round(1234567, 6), 1234567);
	assert_int_equal(sw_money_round(1500000, 0), 2000000);
	assert_int_equal(sw_money_round(1499999, 0), 1000000);
}

static void div_round(void **state)
{
	int64_t v;

	(void)state;
	/* 0.0100/min for 48 s = 10000*48/60 = 8000 */
	assert_int_equal(sw_money_div_round(&v, (__int128)10000 * 48, 60, 4), 0);
	assert_int_equal(v, 8000);
	/* 0.0133/min for 7 s = 1551.66.. micro -> 0.0016 at precision 4 */
	assert_int_equal(sw_money_div_round(&v, (__int128)13300 * 7, 60, 4), 0);
	assert_int_equal(v, 1600);
	/* exactly half: 150 micro at precision 4 rounds up to 200 */
	assert_int_equal(sw_money_div_round(&v, 9000, 60, 4), 0);
	assert_int_equal(v, 200);
	assert_int_equal(sw_money_div_round(&v, 1, 0, 4), EINVAL);
}

static void format(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(sw_money_format(buf, sizeof(buf), 8000, 4), 0);
	assert_string_equal(buf, "0.0080");
	assert_int_equal(sw_money_format(buf, sizeof(buf), -1234567, 6), 0);
	assert_string_equal(buf, "-1.234567");
	assert_int_equal(sw_money_format(buf, sizeof(buf), 1234567, 2), 0);
	assert_string_equal(buf, "1.23");
	assert_int_equal(sw_money_format(buf, sizeof(buf), 1995000, 2), 0);
	assert_string_equal(buf, "2.00");
	assert_int_equal(sw_money_format(buf, sizeof(buf), 42000000, 0), 0);
	assert_string_equal(buf, "42");
	assert_int_equal(sw_money_format(buf, 3, 42000000, 4), ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_exact),	 cmocka_unit_test(parse_rejects),
		cmocka_unit_test(round_half_up), cmocka_unit_test(div_round),
		cmocka_unit_test(format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
