/* test_common_jarena.c - trees parsed in the arena reuse its memory, and a
 * node kept past its tree, freed elsewhere or built outside stays right */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/jarena.h"

/* one CDR-sized message: ~40 keys, nested arrays and objects */
static json_t *parse_one(int n)
{
	char text[2048];
	json_t *j;

	snprintf(text, sizeof(text),
		 "{\"v\":1,\"type\":\"cdr.submit\",\"n\":%d,\"body\":{\"cdr\":"
		 "{\"id\":\"c0ffee%d\",\"caller\":\"1001\",\"callee\":"
		 "\"4420%d\",\"attempts\":[{\"gateway\":\"gw1\",\"code\":"
		 "503},{\"gateway\":\"gw2\",\"code\":200}],\"rtp\":{\"a\":"
		 "{\"rx_packets\":%d},\"b\":{\"rx_packets\":2}}}}}",
		 n, n, n, n);
	sw_jarena_begin();
	j = json_loads(text, 0, NULL);
	sw_jarena_end();
	assert_non_null(j);
	return j;
}

static const char *callee_of(const json_t *j)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(j, "body"), "cdr"), "callee"));
}

static void trees_reuse_one_chunk(void **state)
{
	struct sw_jarena_stats s0, s1;

	(void)state;
	json_decref(parse_one(0)); /* the thread takes its chunk */
	sw_jarena_stats(&s0);
	for (int i = 0; i < 10000; i++) {
		json_t *j = parse_one(i);
		char want[32];

		snprintf(want, sizeof(want), "4420%d", i);
		assert_string_equal(callee_of(j), want);
		json_decref(j);
	}
	sw_jarena_stats(&s1);
	assert_int_equal(s1.chunks, 64);
	/* every node came from the arena, and one chunk held them all */
	assert_true(s1.arena_allocs - s0.arena_allocs > 10000 * 20);
	assert_int_equal(s1.malloc_allocs, s0.malloc_allocs);
	assert_int_equal(s1.chunks_free, s0.chunks_free);
}

static void a_kept_node_outlives_its_tree(void **state)
{
	struct sw_jarena_stats s0, s1;
	json_t *first = parse_one(7), *kept;

	(void)state;
	sw_jarena_stats(&s0);
	kept = json_object_get(json_object_get(first, "body"), "cdr");
	json_incref(kept);
	json_decref(first);
	/* enough trees to fill the chunk and move on */
	for (int i = 0; i < 5000; i++)
		json_decref(parse_one(1000000 + i));
	assert_string_equal(json_string_value(json_object_get(kept, "callee")),
			    "44207");
	sw_jarena_stats(&s1);
	assert_true(s1.chunks_free < s0.chunks_free); /* one is held */
	json_decref(kept);
	sw_jarena_stats(&s1);
	assert_int_equal(s1.chunks_free, s0.chunks_free); /* back */
}

static void *free_elsewhere(void *arg)
{
	json_decref(arg);
	return NULL;
}

static void trees_freed_by_another_thread(void **state)
{
	struct sw_jarena_stats s0, s1;

	(void)state;
	sw_jarena_stats(&s0);
	for (int i = 0; i < 3000; i++) {
		pthread_t t;
		json_t *j = parse_one(i);

		assert_int_equal(pthread_create(&t, NULL, free_elsewhere, j),
				 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	json_decref(parse_one(0));
	sw_jarena_stats(&s1);
	assert_int_equal(s1.chunks_free, s0.chunks_free);
}

static void outside_a_window_is_malloc(void **state)
{
	struct sw_jarena_stats s0, s1;
	json_t *big, *j;
	char *huge = malloc(100000);

	(void)state;
	assert_non_null(huge);
	memset(huge, 'x', 99999);
	huge[99999] = '\0';
	sw_jarena_stats(&s0);
	j = json_pack("{s:s}", "k", "v"); /* no window */
	sw_jarena_begin();
	big = json_string(huge); /* above the block limit */
	sw_jarena_end();
	sw_jarena_stats(&s1);
	assert_true(s1.malloc_allocs - s0.malloc_allocs >= 3);
	assert_int_equal(strlen(json_string_value(big)), 99999);
	json_decref(big);
	json_decref(j);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(trees_reuse_one_chunk),
	    cmocka_unit_test(a_kept_node_outlives_its_tree),
	    cmocka_unit_test(trees_freed_by_another_thread),
	    cmocka_unit_test(outside_a_window_is_malloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
