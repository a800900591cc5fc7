/* test_sg_stats.c - ASR window counters and their configuration */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/stats.h"

static void window(void **state)
{
	struct sg_gwstats *st = NULL;
	unsigned att, ans;

	(void)state;
	assert_int_equal(sg_stats_alloc(&st), 0);
	/* window 600 s = 60 buckets of 10 s */
	for (int i = 0; i < 10; i++)
		sg_stats_record(st, "gw", i < 3, 600, 1000000 + i * 1000);
	sg_stats_get(st, "gw", 600, 1010000, &att, &ans);
	assert_int_equal(att, 10);
	assert_int_equal(ans, 3);
	sg_stats_get(st, "other", 600, 1010000, &att, &ans);
	assert_int_equal(att, 0);
	/* 10 minutes later the old buckets have left the window */
	sg_stats_record(st, "gw", true, 600, 1000000 + 610000);
	sg_stats_get(st, "gw", 600, 1000000 + 610000, &att, &ans);
	assert_int_equal(att, 1);
	assert_int_equal(ans, 1);

	/* billingd's switch-wide counts win while fresh and not below ours */
	sg_stats_feed(st, "gw", 50, 40, 600, 1000000 + 610000);
	sg_stats_get(st, "gw", 600, 1000000 + 620000, &att, &ans);
	assert_int_equal(att, 50);
	assert_int_equal(ans, 40);
	sg_stats_get(st, "gw", 600,
		     1000000 + 610000 + SG_STATS_FED_FRESH_MS + 1, &att, &ans);
	assert_int_equal(att, 1);
	sg_stats_free(st);
	sg_stats_free(NULL);
}

static void config(void **state)
{
	struct sg_asr_config c;

	(void)state;
	assert_int_equal(sg_asr_config_parse(&c, "0"), 0);
	assert_false(c.on);
	assert_int_equal(sg_asr_config_parse(&c, "1"), 0);
	assert_true(c.on);
	assert_int_equal(c.threshold_pct, 30);
	assert_int_equal(c.min_calls, 20);
	assert_int_equal(c.window_s, 3600);
	assert_int_equal(sg_asr_config_parse(&c, "1,40,5,600"), 0);
	assert_int_equal(c.threshold_pct, 40);
	assert_int_equal(c.min_calls, 5);
	assert_int_equal(c.window_s, 600);
	assert_int_not_equal(sg_asr_config_parse(&c, "2"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, "1,101"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, "x"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, "1,30,20,10"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, "1,30,20,600,5"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, "1,"), 0);
	assert_int_not_equal(sg_asr_config_parse(&c, ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(window),
	    cmocka_unit_test(config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
