/* test_common_prefix.c - longest-prefix lookup (common/prefix.h) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/prefix.h"

struct seen {
	uint32_t value[16];
	size_t len[16];
	size_t n;
	size_t stop_after; /* 0 = never stop */
};

static bool seen_h(uint32_t value, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->value[s->n] = value;
		s->len[s->n] = len;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static void longest_first_then_order_added(void **state)
{
	struct sw_prefix_ix *ix = NULL;
	struct seen s = {0};
	uint32_t v = 0;
	size_t len = 0;

	(void)state;
	assert_int_equal(sw_prefix_ix_alloc(&ix), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 0, "1", 10), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 0, "1555", 11), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 0, "", 12), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 0, "1555", 13), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 0, "44", 14), 0);
	assert_int_equal(sw_prefix_ix_add(ix, 7, "1", 15), 0);
	/* added but not sealed: nothing matches yet */
	assert_false(sw_prefix_ix_longest(ix, 0, "15551", &v, &len));
	sw_prefix_ix_seal(ix);
	assert_int_equal(sw_prefix_ix_count(ix), 6);

	sw_prefix_ix_walk(ix, 0, "155512", seen_h, &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.value[0], 11); /* "1555", first added */
	assert_int_equal(s.value[1], 13); /* "1555", second */
	assert_int_equal(s.value[2], 10); /* "1" */
	assert_int_equal(s.value[3], 12); /* "" matches every number */
	assert_int_equal(s.len[0], 4);
	assert_int_equal(s.len[3], 0);

	/* the handler stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	sw_prefix_ix_walk(ix, 0, "155512", seen_h, &s);
	assert_int_equal(s.n, 1);

	assert_true(sw_prefix_ix_longest(ix, 0, "4420", &v, &len));
	assert_int_equal(v, 14);
	assert_int_equal(len, 2);
	/* a number shorter than a prefix does not match it */
	assert_true(sw_prefix_ix_longest(ix, 0, "155", &v, &len));
	assert_int_equal(v, 10);
	assert_true(sw_prefix_ix_longest(ix, 0, "", &v, &len));
	assert_int_equal(v, 12);
	/* spaces are apart: space 7 has "1" only */
	assert_true(sw_prefix_ix_longest(ix, 7, "15551", &v, &len));
	assert_int_equal(v, 15);
	assert_false(sw_prefix_ix_longest(ix, 7, "4420", &v, &len));
	assert_false(sw_prefix_ix_longest(ix, 3, "1", &v, &len));

	/* bad input */
	assert_int_equal(sw_prefix_ix_add(ix, 0, NULL, 1), EINVAL);
	{
		char big[SW_PREFIX_MAX + 2];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(sw_prefix_ix_add(ix, 0, big, 1), ERANGE);
	}
	assert_false(sw_prefix_ix_longest(NULL, 0, "1", &v, &len));
	assert_false(sw_prefix_ix_longest(ix, 0, NULL, &v, &len));
	assert_int_equal(sw_prefix_ix_alloc(NULL), EINVAL);
	sw_prefix_ix_free(ix);
	sw_prefix_ix_free(NULL);
}

/* the longest prefix by a plain scan, -1 when none: the reference */
static long brute(char (*pfx)[12], const uint64_t *space, size_t n, uint64_t sp,
		  const char *number, size_t *lenp)
{
	long best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(pfx[i]);

		if (space[i] != sp || strncmp(number, pfx[i], len))
			continue;
		if (best < 0 || len > best_len) {
			best = (long)i;
			best_len = len;
		}
	}
	*lenp = best_len;
	return best;
}

static void agrees_with_a_scan_of_100000(void **state)
{
	enum { N = 100000, Q = 1000 };
	char(*pfx)[12] = calloc(N, sizeof(*pfx));
	uint64_t *space = calloc(N, sizeof(*space));
	struct sw_prefix_ix *ix = NULL;
	unsigned seed = 12345;

	(void)state;
	assert_non_null(pfx);
	assert_non_null(space);
	assert_int_equal(sw_prefix_ix_alloc(&ix), 0);
	for (size_t i = 0; i < N; i++) {
		int len = 1 + (int)(rand_r(&seed) % 10);

		for (int k = 0; k < len; k++)
			pfx[i][k] = (char)('0' + rand_r(&seed) % 10);
		space[i] = rand_r(&seed) % 3;
		assert_int_equal(
		    sw_prefix_ix_add(ix, space[i], pfx[i], (uint32_t)i), 0);
	}
	sw_prefix_ix_seal(ix);
	assert_true(sw_prefix_ix_bytes(ix) > N * 16);

	for (int q = 0; q < Q; q++) {
		char number[16];
		uint64_t sp = rand_r(&seed) % 3;
		size_t want_len, len = 0;
		uint32_t v = 0;
		long want;
		bool found;

		snprintf(number, sizeof(number), "%u%u", rand_r(&seed) % 100000,
			 rand_r(&seed) % 100000);
		want = brute(pfx, space, N, sp, number, &want_len);
		found = sw_prefix_ix_longest(ix, sp, number, &v, &len);
		assert_int_equal(found, want >= 0);
		if (found) {
			/* same length; among equal prefixes the first */
			assert_int_equal(len, want_len);
			assert_int_equal(v, (uint32_t)want);
		}
	}
	sw_prefix_ix_free(ix);
	free(pfx);
	free(space);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(longest_first_then_order_added),
	    cmocka_unit_test(agrees_with_a_scan_of_100000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
