/* test_sg_callerpool.c - caller number pools (digest 2, P-13..P-15) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/callerpool.h"

static const char conf3[] = "{\"enabled\":true,\"numbers\":[\"A1\",\"B2\","
			    "\"C3\"],\"multiplexes\":1}";

static void in_turn(void **state)
{
	struct sg_callerpool *p;
	struct sg_pool_conf pc;
	char err[128], k[4][SG_POOL_KEY_MAX];
	const char *want[] = {"A1", "B2", "C3"};

	(void)state;
	assert_int_equal(sg_pool_conf_parse(&pc, conf3, err, sizeof(err)), 0);
	assert_true(pc.enabled);
	assert_int_equal(sg_callerpool_alloc(&p), 0);
	for (int i = 0; i < 3; i++)
		assert_string_equal(
		    sg_callerpool_take(p, "gw", &pc, true, k[i]), want[i]);
	/* all in use: none, and the gateway is full */
	assert_null(sg_callerpool_take(p, "gw", &pc, true, k[3]));
	assert_string_equal(k[3], "");
	assert_true(sg_callerpool_full(p, "gw", &pc));
	/* another gateway's pool of the same numbers is its own */
	assert_false(sg_callerpool_full(p, "gw2", &pc));
	/* B2 back: the next in turn is B2 (after C3, A1 is busy) */
	sg_callerpool_release(p, k[1]);
	assert_false(sg_callerpool_full(p, "gw", &pc));
	assert_string_equal(sg_callerpool_take(p, "gw", &pc, true, k[1]), "B2");
	for (int i = 0; i < 3; i++)
		sg_callerpool_release(p, k[i]);
	/* all back: the turn goes on after the last taken (B2) */
	assert_string_equal(sg_callerpool_take(p, "gw", &pc, true, k[0]), "C3");
	sg_callerpool_free(p);
	sg_pool_conf_free(&pc);
}

static void random_and_multiplexes(void **state)
{
	struct sg_callerpool *p;
	struct sg_pool_conf pc;
	char err[128], k[7][SG_POOL_KEY_MAX];
	int seen[3] = {0};

	(void)state;
	assert_int_equal(
	    sg_pool_conf_parse(&pc,
			       "{\"enabled\":true,\"numbers\":[\"A1\",\"B2\","
			       "\"C3\"],\"multiplexes\":2}",
			       err, sizeof(err)),
	    0);
	assert_int_equal(sg_callerpool_alloc(&p), 0);
	for (int i = 0; i < 6; i++) {
		const char *n = sg_callerpool_take(p, "gw", &pc, false, k[i]);

		assert_non_null(n);
		seen[n[0] - 'A']++;
	}
	/* each number twice, never a third time */
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 2);
	assert_null(sg_callerpool_take(p, "gw", &pc, false, k[6]));
	sg_callerpool_free(p);
	sg_pool_conf_free(&pc);
}

static void conf(void **state)
{
	struct sg_pool_conf pc;
	char err[128];

	(void)state;
	assert_int_equal(sg_pool_conf_parse(&pc, "", err, sizeof(err)), 0);
	assert_false(pc.enabled);
	assert_int_equal(sg_pool_conf_parse(&pc, "[1]", err, sizeof(err)),
			 EINVAL);
	/* enabled without numbers is no pool */
	assert_int_equal(sg_pool_conf_parse(&pc,
					    "{\"enabled\":true,\"numbers\":[]}",
					    err, sizeof(err)),
			 0);
	assert_false(pc.enabled);
	sg_pool_conf_free(&pc);
	assert_int_equal(
	    sg_pool_conf_parse(&pc, "{\"enabled\":false,\"numbers\":[\"1\"]}",
			       err, sizeof(err)),
	    0);
	assert_false(pc.enabled);
	assert_int_equal(pc.multiplexes, 1);
	sg_pool_conf_free(&pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(in_turn),
	    cmocka_unit_test(random_and_multiplexes),
	    cmocka_unit_test(conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
