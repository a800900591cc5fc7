/* test_common_utf8.c - wire strings made valid UTF-8 (common/utf8.h) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/utf8.h"

static void copy_escapes_and_cuts(void **state)
{
	char out[32];
	const char ff[] = "ab\xff"
			  "cd";
	const char e_acute[] = "abc\xc3\xa9"; /* "abcé" */

	(void)state;
	/* valid text is copied as it is */
	assert_int_equal(sw_utf8_copy(out, sizeof(out), "h\xc3\xa9llo", 6), 6);
	assert_string_equal(out, "h\xc3\xa9llo");
	/* an invalid byte becomes \xHH */
	assert_int_equal(sw_utf8_copy(out, sizeof(out), ff, 5), 5);
	assert_string_equal(out, "ab\\xFFcd");
	/* a two-byte character that does not fit is left out whole */
	assert_int_equal(sw_utf8_copy(out, 5, e_acute, 5), 3);
	assert_string_equal(out, "abc");
	/* ... and one cut by the sender is escaped byte by byte */
	assert_int_equal(sw_utf8_copy(out, sizeof(out), e_acute, 4), 4);
	assert_string_equal(out, "abc\\xC3");
	/* an escape is never cut either */
	assert_int_equal(sw_utf8_copy(out, 6, ff, 5), 2);
	assert_string_equal(out, "ab");
	/* overlong forms, surrogates, above U+10FFFF, controls */
	sw_utf8_copy(out, sizeof(out), "\xc0\xaf", 2);
	assert_string_equal(out, "\\xC0\\xAF");
	sw_utf8_copy(out, sizeof(out), "\xed\xa0\x80", 3);
	assert_string_equal(out, "\\xED\\xA0\\x80");
	sw_utf8_copy(out, sizeof(out), "\xf4\x90\x80\x80", 4);
	assert_string_equal(out, "\\xF4\\x90\\x80\\x80");
	sw_utf8_copy(out, sizeof(out), "a\nb", 3);
	assert_string_equal(out, "a\\x0Ab");
}

static void json_text_never_fails(void **state)
{
	json_t *j;

	(void)state;
	j = sw_json_text("caller\xff");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "caller\\xFF");
	json_decref(j);
	j = sw_json_text(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
	assert_true(sw_utf8_valid("\xe2\x82\xac", 3));
	assert_false(sw_utf8_valid("\xe2\x82", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(copy_escapes_and_cuts),
	    cmocka_unit_test(json_text_never_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
