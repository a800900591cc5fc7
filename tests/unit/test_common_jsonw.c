/* test_common_jsonw.c - the JSON text writer reads back as what was written */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/jsonw.h"
#include "common/utf8.h"

static const char *const tricky[] = {
    "",
    "plain",
    "a\"quote",
    "back\\slash",
    "nl\ncr\rtab\t",
    "ctl\x01\x1f end",
    "\xe4\xb8\xad\xe6\x96\x87 UTF-8",
    "</script>",
};

static void strings_round_trip(void **state)
{
	struct sw_jw w = {0};
	json_error_t jerr;
	json_t *o;
	char key[16];

	(void)state;
	sw_jw_raw(&w, "{");
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		sw_jw_key(&w, key, i == 0);
		sw_jw_str(&w, tricky[i]);
	}
	sw_jw_kstr(&w, "null", NULL);
	sw_jw_ki64(&w, "min", INT64_MIN);
	sw_jw_ki64(&w, "max", INT64_MAX);
	sw_jw_raw(&w, "}");
	assert_false(w.oom);
	assert_int_equal(strlen(w.buf), w.len);

	o = json_loadb(w.buf, w.len, 0, &jerr);
	assert_non_null(o);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_string_equal(json_string_value(json_object_get(o, key)),
				    tricky[i]);
	}
	assert_string_equal(json_string_value(json_object_get(o, "null")), "");
	assert_true(json_integer_value(json_object_get(o, "min")) == INT64_MIN);
	assert_true(json_integer_value(json_object_get(o, "max")) == INT64_MAX);
	json_decref(o);
	sw_jw_free(&w);
}

/* jansson values of any size, after text that filled the buffer */
static void json_values_grow_the_buffer(void **state)
{
	struct sw_jw w = {0};
	json_t *big = json_array(), *back;
	char s[64];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		snprintf(s, sizeof(s), "value \"%d\"", i);
		json_array_append_new(big, json_string(s));
	}
	for (int round = 0; round < 2; round++) {
		sw_jw_reset(&w);
		sw_jw_raw(&w, "[");
		for (int i = 0; i < 300; i++) /* 4 KiB and more first */
			sw_jw_raw(&w, "1,");
		sw_jw_json(&w, big);
		sw_jw_raw(&w, ",");
		sw_jw_json(&w, NULL);
		sw_jw_raw(&w, "]");
		assert_false(w.oom);
		back = json_loads(w.buf, 0, NULL);
		assert_non_null(back);
		assert_int_equal(json_array_size(back), 302);
		assert_true(json_equal(json_array_get(back, 300), big));
		assert_true(json_is_null(json_array_get(back, 301)));
		json_decref(back);
	}
	json_decref(big);
	sw_jw_free(&w);
}

/* wire text reads back as exactly what sw_json_text() gives for it */
static void wire_text_as_sw_json_text(void **state)
{
	static const char *const wire[] = {
	    "plain",	       "caf\xe9 latin-1", "cut \xe4\xb8",
	    "nul\x01ctl\ttab", "\xff\xfe\"q\\",	  "\xe4\xb8\xad ok",
	};
	struct sw_jw w = {0};
	char key[16];
	json_t *o;

	(void)state;
	sw_jw_raw(&w, "{\"first\":");
	sw_jw_text(&w, NULL);
	for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		sw_jw_ktext(&w, key, wire[i]);
	}
	sw_jw_raw(&w, "}");
	assert_false(w.oom);
	o = json_loads(w.buf, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "first")), "");
	for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
		json_t *want = sw_json_text(wire[i]);

		snprintf(key, sizeof(key), "k%zu", i);
		assert_true(json_equal(json_object_get(o, key), want));
		json_decref(want);
	}
	/* the latin-1 byte became the four characters \xE9 */
	assert_string_equal(json_string_value(json_object_get(o, "k1")),
			    "caf\\xE9 latin-1");
	json_decref(o);
	sw_jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(strings_round_trip),
	    cmocka_unit_test(json_values_grow_the_buffer),
	    cmocka_unit_test(wire_text_as_sw_json_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
