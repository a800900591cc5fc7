/* test_sg_edge.c - the SIP edge layer: token buckets per source and per
 * /24, failures per source and per account, the blacklist and its sync,
 * bounded memory */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"
#include "signaling/edge.h"

static const struct sg_edge_conf conf = {
    .src_rate = 10,
    .src_burst = 20,
    .net_rate = 50,
    .net_burst = 100,
    .fail_limit = 10,
    .fail_window_ms = 60000,
    .ban_ms = 3600000,
};

static struct sg_edge_addr addr(const char *s)
{
	struct sg_edge_addr a;

	assert_true(sg_edge_addr_text(&a, s));
	return a;
}

static struct sg_edge *edge(void)
{
	struct sg_edge *e = NULL;

	assert_int_equal(sg_edge_alloc(&e), 0);
	sg_edge_set_conf(e, &conf);
	return e;
}

static void source_bucket(void **state)
{
	struct sg_edge *e = edge();
	struct sg_edge_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	int64_t now = 1000000;

	(void)state;
	/* a burst of 20, then nothing until it refills at 10/s */
	for (int i = 0; i < 20; i++)
		assert_int_equal(sg_edge_check(e, &a, now), SG_EDGE_PASS);
	assert_int_equal(sg_edge_check(e, &a, now), SG_EDGE_OVER_SOURCE);
	assert_int_equal(sg_edge_check(e, &a, now + 99), SG_EDGE_OVER_SOURCE);
	assert_int_equal(sg_edge_check(e, &a, now + 100), SG_EDGE_PASS);
	/* another source of the /24 has its own bucket */
	assert_int_equal(sg_edge_check(e, &b, now + 100), SG_EDGE_PASS);
	/* a registered phone's source is not limited */
	sg_edge_trust(e, &a, now + 100, now + 60000);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sg_edge_check(e, &a, now + 100), SG_EDGE_PASS);
	assert_int_equal(sg_edge_stats(e)->dropped_source, 2);
	sg_edge_free(e);
}

static void network_cap(void **state)
{
	struct sg_edge *e = edge();
	int64_t now = 1000000;
	int passed = 0;
	char ip[32];

	(void)state;
	/* 200 sources of one /24, 2 requests each: the /24's 100 pass */
	for (int i = 0; i < 200; i++) {
		struct sg_edge_addr a;

		snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		a = addr(ip);
		for (int k = 0; k < 2; k++)
			passed += sg_edge_check(e, &a, now) == SG_EDGE_PASS;
	}
	assert_int_equal(passed, 100);
	/* the next /24 is not affected */
	{
		struct sg_edge_addr a = addr("198.51.101.1");

		assert_int_equal(sg_edge_check(e, &a, now), SG_EDGE_PASS);
	}
	sg_edge_free(e);
}

static void failures_blacklist(void **state)
{
	struct sg_edge *e = edge();
	struct sg_edge_addr a = addr("203.0.113.5"), phone = addr("10.0.0.7");
	int64_t now = 5000000;

	(void)state;
	for (int i = 1; i < 10; i++) {
		assert_false(
		    sg_edge_fail(e, &a, "7001", SG_EDGE_FAIL_AUTH, now + i));
		assert_int_equal(sg_edge_check(e, &a, now + i), SG_EDGE_PASS);
	}
	assert_true(sg_edge_fail(e, &a, "7001", SG_EDGE_FAIL_AUTH, now + 10));
	assert_int_equal(sg_edge_check(e, &a, now + 11), SG_EDGE_BLACKLISTED);
	assert_true(sg_edge_blacklisted(e, &a, now + 3600000 + 9));
	assert_false(sg_edge_blacklisted(e, &a, now + 3600000 + 10));
	/* the account is under attack, not locked: the phone passes, and
	 * a second attacker failing on it is blacklisted at once */
	assert_int_equal(sg_edge_check(e, &phone, now + 12), SG_EDGE_PASS);
	{
		struct sg_edge_addr b = addr("203.0.113.77");

		assert_true(sg_edge_fail(e, &b, "7001", SG_EDGE_FAIL_UNKNOWN,
					 now + 13));
	}
	/* a registered phone's source is not banned automatically */
	sg_edge_trust(e, &phone, now + 14, now + 600000);
	for (int i = 0; i < 20; i++)
		assert_false(sg_edge_fail(e, &phone, "7001",
					  SG_EDGE_FAIL_SCANNER, now + 15 + i));
	assert_int_equal(sg_edge_check(e, &phone, now + 40), SG_EDGE_PASS);
	/* failures spread beyond the window do not add up */
	{
		struct sg_edge_addr c = addr("203.0.113.99");

		for (int i = 0; i < 30; i++)
			assert_false(sg_edge_fail(e, &c, NULL,
						  SG_EDGE_FAIL_SCANNER,
						  now + (int64_t)i * 7000));
	}
	/* over-rate drops count once a second */
	{
		struct sg_edge_addr d = addr("203.0.113.100");

		for (int i = 0; i < 100; i++)
			assert_false(sg_edge_fail(
			    e, &d, NULL, SG_EDGE_FAIL_RATE, now + 200000 + i));
	}
	sg_edge_free(e);
}

static void no_ban_time(void **state)
{
	struct sg_edge *e = edge();
	struct sg_edge_conf c = conf;
	struct sg_edge_addr a = addr("2001:db8::1");

	(void)state;
	c.ban_ms = 0; /* SS_BLACKLIST_TIME 0: counted, nobody blacklisted */
	sg_edge_set_conf(e, &c);
	for (int i = 0; i < 50; i++)
		assert_false(
		    sg_edge_fail(e, &a, NULL, SG_EDGE_FAIL_SCANNER, 1000 + i));
	assert_int_equal(sg_edge_check(e, &a, 2000), SG_EDGE_PASS);
	sg_edge_free(e);
}

static void sync_from_db(void **state)
{
	struct sg_edge *e = edge();
	struct sg_edge_addr a = addr("192.0.2.50"), b = addr("192.0.2.51"),
			    l = addr("192.0.2.52");
	int64_t now = 1000000;

	(void)state;
	sg_edge_bl_begin(e);
	sg_edge_bl_add(e, &a, INT64_MAX, now);
	sg_edge_bl_add(e, &b, now + 1000, now);
	sg_edge_bl_end(e, now);
	assert_int_equal(sg_edge_check(e, &a, now), SG_EDGE_BLACKLISTED);
	assert_int_equal(sg_edge_check(e, &b, now), SG_EDGE_BLACKLISTED);
	assert_int_equal(sg_edge_bl_count(e, now), 2);
	/* a local ban, then a reload that does not show it yet, nor b */
	for (int i = 0; i < 10; i++)
		sg_edge_fail(e, &l, NULL, SG_EDGE_FAIL_SCANNER, now + i);
	sg_edge_bl_begin(e);
	sg_edge_bl_add(e, &a, INT64_MAX, now + 20);
	sg_edge_bl_end(e, now + 20);
	assert_true(sg_edge_blacklisted(e, &l, now + 20));
	assert_false(sg_edge_blacklisted(e, &b, now + 20));
	/* much later, the database still does not list it: deleted */
	sg_edge_bl_begin(e);
	sg_edge_bl_end(e, now + SG_EDGE_LOCAL_KEEP_MS + 100);
	assert_false(
	    sg_edge_blacklisted(e, &l, now + SG_EDGE_LOCAL_KEEP_MS + 100));
	assert_false(
	    sg_edge_blacklisted(e, &a, now + SG_EDGE_LOCAL_KEEP_MS + 100));
	/* and a source unlisted starts counting from zero again */
	assert_false(sg_edge_fail(e, &l, NULL, SG_EDGE_FAIL_SCANNER,
				  now + SG_EDGE_LOCAL_KEEP_MS + 200));
	sg_edge_free(e);
}

/* a hundred thousand sources, each blacklisted: the tables keep their size and
 * every lookup still works */
static void bounded(void **state)
{
	struct sg_edge *e = edge();
	int64_t now = 1000000;
	const int n = 100000;

	(void)state;
	sw_log_set_level(SW_LOG_ERR); /* no line per ban */
	for (int i = 0; i < n; i++) {
		char ip[32];
		struct sg_edge_addr a;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255,
			 (i >> 8) & 255, i & 255);
		a = addr(ip);
		(void)sg_edge_check(e, &a, now + i / 1000);
		for (int k = 0; k < 10; k++)
			(void)sg_edge_fail(e, &a, NULL, SG_EDGE_FAIL_SCANNER,
					   now + i / 1000);
	}
	assert_true(sg_edge_bl_count(e, now + n / 1000) <=
		    (size_t)SG_EDGE_BL_BUCKETS * SG_EDGE_WAYS);
	assert_true(sg_edge_bl_count(e, now + n / 1000) >
		    (size_t)SG_EDGE_BL_BUCKETS * SG_EDGE_WAYS / 2);
	assert_true(sg_edge_stats(e)->evicted > 0);
	/* the newest sources are the ones kept */
	{
		struct sg_edge_addr a = addr("10.1.134.159"); /* i = 99999 */

		assert_true(sg_edge_blacklisted(e, &a, now + n / 1000));
	}
	sg_edge_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(source_bucket),	  cmocka_unit_test(network_cap),
	    cmocka_unit_test(failures_blacklist), cmocka_unit_test(no_ban_time),
	    cmocka_unit_test(sync_from_db),	  cmocka_unit_test(bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
