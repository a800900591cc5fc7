/* test_sg_calls.c - the active calls, listed and indexed by id
 * (signaling/calls.h) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/call.h"
#include "signaling/calls.h"

#define NCALLS 1000 /* past several doublings of the 64 first buckets */

static struct sg_call *call_new(unsigned i)
{
	struct sg_call *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	(void)snprintf(c->id, sizeof(c->id), "cccccccc-0000-4000-8000-%012u",
		       i);
	return c;
}

/* every call is found by its id, the list walks newest first, and a
 * deleted call is gone from both while the others stay */
static void add_find_walk_del(void **state)
{
	static struct sg_call *calls[NCALLS];
	struct sg_calls *t = NULL;
	struct sg_call *c;
	unsigned n = 0;

	(void)state;
	assert_int_equal(sg_calls_alloc(&t), 0);
	for (unsigned i = 0; i < NCALLS; i++) {
		calls[i] = call_new(i);
		sg_calls_add(t, calls[i], i % 10 != 0);
	}
	assert_int_equal(sg_calls_count(t), NCALLS);
	assert_int_equal(sg_calls_started(t), NCALLS - NCALLS / 10);
	for (unsigned i = 0; i < NCALLS; i++)
		assert_ptr_equal(sg_calls_find(t, calls[i]->id), calls[i]);
	assert_null(sg_calls_find(t, "cccccccc-0000-4000-8000-999999999999"));
	assert_null(sg_calls_find(t, NULL));

	for (c = sg_calls_first(t); c; c = c->next) {
		assert_ptr_equal(c, calls[NCALLS - 1 - n]);
		n++;
	}
	assert_int_equal(n, NCALLS);

	/* the newest, the oldest and every third one in between */
	for (unsigned i = 0; i < NCALLS; i++) {
		if (i == 0 || i == NCALLS - 1 || i % 3 == 0)
			sg_calls_del(t, calls[i]);
	}
	n = 0;
	for (c = sg_calls_first(t); c; c = c->next)
		n++;
	assert_int_equal(n, sg_calls_count(t));
	for (unsigned i = 0; i < NCALLS; i++) {
		bool gone = i == 0 || i == NCALLS - 1 || i % 3 == 0;

		assert_ptr_equal(sg_calls_find(t, calls[i]->id),
				 gone ? NULL : calls[i]);
	}
	for (c = sg_calls_first(t); c; c = c->next)
		assert_null(c->prev ? (c->prev->next == c ? NULL : c) : NULL);

	for (unsigned i = 0; i < NCALLS; i++) {
		if (sg_calls_find(t, calls[i]->id))
			sg_calls_del(t, calls[i]);
		free(calls[i]);
	}
	assert_int_equal(sg_calls_count(t), 0);
	assert_null(sg_calls_first(t));
	sg_calls_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(add_find_walk_del),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
