/* test_common_ntab.c - entries keyed by name (common/ntab.h) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/ntab.h"

struct gw {
	unsigned active;
	char *owned; /* freed by the destructor */
};

static unsigned freed;

static void gw_free(void *entry)
{
	struct gw *g = entry;

	free(g->owned);
	freed++;
}

static void found_or_created(void **state)
{
	struct sw_ntab *t = NULL;
	struct gw *a, *b;
	bool created = false;
	char big[SW_NTAB_NAME_MAX + 2];

	(void)state;
	freed = 0;
	assert_int_equal(sw_ntab_alloc(&t, sizeof(struct gw), gw_free), 0);
	assert_null(sw_ntab_find(t, "gwA"));

	a = sw_ntab_get(t, "gwA", &created);
	assert_non_null(a);
	assert_true(created);
	assert_int_equal(a->active, 0); /* zeroed */
	a->active = 3;
	a->owned = strdup("x");
	b = sw_ntab_get(t, "gwA", &created);
	assert_ptr_equal(a, b);
	assert_false(created);
	assert_ptr_equal(sw_ntab_find(t, "gwA"), a);
	assert_string_equal(sw_ntab_name(a), "gwA");
	assert_int_equal(sw_ntab_count(t), 1);

	/* names are exact: case and length matter */
	assert_null(sw_ntab_find(t, "gwa"));
	assert_null(sw_ntab_find(t, "gwA "));

	/* a name too long is refused, not cut */
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(sw_ntab_get(t, big, &created));
	assert_false(created);

	sw_ntab_del(t, "gwA");
	assert_int_equal(freed, 1);
	assert_null(sw_ntab_find(t, "gwA"));
	assert_int_equal(sw_ntab_count(t), 0);
	sw_ntab_del(t, "gwA"); /* absent: nothing */
	assert_int_equal(freed, 1);

	/* bad input */
	assert_int_equal(sw_ntab_alloc(NULL, 8, NULL), EINVAL);
	assert_int_equal(sw_ntab_alloc(&t, 0, NULL), EINVAL);
	assert_null(sw_ntab_get(NULL, "x", NULL));
	assert_null(sw_ntab_get(t, NULL, NULL));
	assert_null(sw_ntab_find(NULL, "x"));
	sw_ntab_free(t);
	sw_ntab_free(NULL);
}

static bool sum_h(const char *name, void *entry, void *arg)
{
	const struct gw *g = entry;
	unsigned long *sum = arg;

	(void)name;
	*sum += g->active;
	return false;
}

/* deletes the odd ones as it goes */
static bool del_odd_h(const char *name, void *entry, void *arg)
{
	const struct gw *g = entry;

	if (g->active % 2)
		sw_ntab_del(arg, name);
	return false;
}

static void ten_thousand_grow_walk_delete(void **state)
{
	enum { N = 10000 };
	struct sw_ntab *t = NULL;
	unsigned long sum = 0;
	char name[32];

	(void)state;
	freed = 0;
	assert_int_equal(sw_ntab_alloc(&t, sizeof(struct gw), gw_free), 0);
	for (unsigned i = 1; i <= N; i++) {
		struct gw *g;

		snprintf(name, sizeof(name), "gw%u", i);
		g = sw_ntab_get(t, name, NULL);
		assert_non_null(g);
		g->active = i;
	}
	assert_int_equal(sw_ntab_count(t), N);
	/* every entry survived the table growing under it */
	for (unsigned i = 1; i <= N; i++) {
		const struct gw *g;

		snprintf(name, sizeof(name), "gw%u", i);
		g = sw_ntab_find(t, name);
		assert_non_null(g);
		assert_int_equal(g->active, i);
	}
	sw_ntab_walk(t, sum_h, &sum);
	assert_int_equal(sum, (unsigned long)N * (N + 1) / 2);

	sw_ntab_walk(t, del_odd_h, t);
	assert_int_equal(sw_ntab_count(t), N / 2);
	assert_int_equal(freed, N / 2);
	assert_null(sw_ntab_find(t, "gw1"));
	assert_non_null(sw_ntab_find(t, "gw2"));
	sw_ntab_free(t);
	assert_int_equal(freed, N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(found_or_created),
	    cmocka_unit_test(ten_thousand_grow_walk_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
