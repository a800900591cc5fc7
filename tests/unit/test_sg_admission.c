/* test_sg_admission.c - the CPS token bucket */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "signaling/admission.h"

static void burst_then_rate(void **state)
{
	struct sg_bucket b = {0};
	int ok = 0;

	(void)state;
	/* burst of 5 at t=0, the 6th refused */
	for (int i = 0; i < 6; i++)
		ok += sg_bucket_take(&b, 5, 1000);
	assert_int_equal(ok, 5);
	/* 5/s: one token every 200 ms */
	assert_false(sg_bucket_take(&b, 5, 1100));
	assert_true(sg_bucket_take(&b, 5, 1200));
	assert_false(sg_bucket_take(&b, 5, 1200));
	/* a long pause refills to the burst only */
	ok = 0;
	for (int i = 0; i < 10; i++)
		ok += sg_bucket_take(&b, 5, 60000);
	assert_int_equal(ok, 5);
}

static void no_limit(void **state)
{
	struct sg_bucket b = {0};

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_true(sg_bucket_take(&b, 0, 0));
}

static void one_per_second(void **state)
{
	struct sg_bucket b = {0};
	int ok = 0;

	(void)state;
	/* 10 s at 1 call every 100 ms against a 1/s limit: 1 + 10 */
	for (int64_t t = 0; t <= 10000; t += 100)
		ok += sg_bucket_take(&b, 1, t);
	assert_int_equal(ok, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(no_limit),
		cmocka_unit_test(one_per_second),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
