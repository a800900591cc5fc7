/* test_sg_dialplan.c - number rewriting rules */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/dialplan.h"

static void first_match_wins(void **state)
{
	struct sg_dialplan dp;
	char err[128], out[64];

	(void)state;
	assert_int_equal(
	    sg_dialplan_parse(&dp,
			      "[{\"prefix\":\"00\",\"strip\":2},"
			      "{\"regex\":\"^0[1-9]\",\"strip\":1,"
			      "\"prepend\":\"44\",\"min_length\":10,"
			      "\"max_length\":11},"
			      "{\"prefix\":\"0\",\"prepend\":\"X\"}]",
			      err, sizeof(err)),
	    0);
	assert_int_equal(dp.n, 3);

	assert_true(sg_dialplan_apply(&dp, "0012125551234", out, sizeof(out)));
	assert_string_equal(out, "12125551234");
	assert_true(sg_dialplan_apply(&dp, "02079460000", out, sizeof(out)));
	assert_string_equal(out, "442079460000");
	/* too short for rule 2: rule 3 */
	assert_true(sg_dialplan_apply(&dp, "0207", out, sizeof(out)));
	assert_string_equal(out, "X0207");
	/* no rule */
	assert_false(sg_dialplan_apply(&dp, "15551234", out, sizeof(out)));
	assert_string_equal(out, "15551234");
	sg_dialplan_free(&dp);
}

static void catch_all_and_strip_all(void **state)
{
	struct sg_dialplan dp;
	char err[128], out[64];

	(void)state;
	assert_int_equal(sg_dialplan_parse(&dp,
					   "[{\"strip\":32,\"prepend\":\"9\"}]",
					   err, sizeof(err)),
			 0);
	assert_true(sg_dialplan_apply(&dp, "123", out, sizeof(out)));
	assert_string_equal(out, "9");
	sg_dialplan_free(&dp);
}

static void empty_and_bad(void **state)
{
	struct sg_dialplan dp;
	char err[128], out[64];

	(void)state;
	assert_int_equal(sg_dialplan_parse(&dp, "[]", err, sizeof(err)), 0);
	assert_false(sg_dialplan_apply(&dp, "1", out, sizeof(out)));
	assert_string_equal(out, "1");
	assert_int_equal(sg_dialplan_parse(&dp, "", err, sizeof(err)), 0);
	assert_int_equal(sg_dialplan_parse(&dp, NULL, err, sizeof(err)), 0);
	assert_false(sg_dialplan_apply(NULL, "1", out, sizeof(out)));

	assert_int_not_equal(sg_dialplan_parse(&dp, "{}", err, sizeof(err)), 0);
	assert_int_not_equal(
	    sg_dialplan_parse(&dp, "[{\"regex\":\"(\"}]", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "[0].regex"));
	assert_int_not_equal(
	    sg_dialplan_parse(&dp, "[{\"strip\":99}]", err, sizeof(err)), 0);
	assert_int_equal(dp.n, 0);
}

static void card_split(void **state)
{
	char d[8];
	const char *dest;

	(void)state;
	assert_true(
	    sg_dialplan_card_split("8812345%23155", "88", d, sizeof(d), &dest));
	assert_string_equal(d, "12345");
	assert_string_equal(dest, "155");
	assert_true(sg_dialplan_card_split("1#2", "", d, sizeof(d), &dest));
	assert_string_equal(d, "1");
	assert_string_equal(dest, "2");
	/* not card calls: no prefix, no digits, no '#', no destination,
	 * a letter before '#', too many digits */
	assert_false(sg_dialplan_card_split("7712%231", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("88%231", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("881234", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("881234%23", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("8812a4#1", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("8812345678#1", "88", d, 8, &dest));
	assert_false(sg_dialplan_card_split("8812%2", "88", d, 8, &dest));
	assert_string_equal(d, "");
	assert_null(dest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(first_match_wins),
	    cmocka_unit_test(catch_all_and_strip_all),
	    cmocka_unit_test(empty_and_bad),
	    cmocka_unit_test(card_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
