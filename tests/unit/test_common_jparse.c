/* test_common_jparse.c - the bus's JSON reader: the trees it builds, what
 * it refuses and why, and that it agrees with jansson on both */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/jparse.h"

static json_t *parse(const char *s, char *err, size_t errsz)
{
	return sw_json_parse(s, strlen(s), err, errsz);
}

/* ours and jansson's trees are equal, and the value is what we expect */
static json_t *agree(const char *s)
{
	char err[160];
	json_t *ours = parse(s, err, sizeof(err));
	json_t *ref = json_loads(s, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(ref);
	if (!ours)
		fail_msg("refused %s: %s", s, err);
	assert_true(json_equal(ours, ref));
	json_decref(ref);
	return ours;
}

static void values_as_jansson_builds_them(void **state)
{
	json_t *j = agree(" {\"a\" : [1, -0, 1.5e-3, -9223372036854775808,"
			  " 9223372036854775807, true, false, null, {}, []],"
			  " \"s\":\"x\\u00e9\\n\\t\\\"\\\\\\/\\ud83d\\ude00\","
			  " \"k\\u00e9y\": {\"\":\"\"}} ");
	json_t *a = json_object_get(j, "a");

	(void)state;
	assert_int_equal(json_array_size(a), 10);
	assert_true(json_is_integer(json_array_get(a, 1)));
	assert_true(json_is_real(json_array_get(a, 2)));
	assert_int_equal(json_integer_value(json_array_get(a, 3)), INT64_MIN);
	assert_int_equal(json_integer_value(json_array_get(a, 4)), INT64_MAX);
	assert_string_equal(json_string_value(json_object_get(j, "s")),
			    "x\xc3\xa9\n\t\"\\/\xf0\x9f\x98\x80");
	assert_non_null(json_object_get(j, "k\xc3\xa9y"));
	json_decref(j);

	/* raw UTF-8 passes through; a string with escapes then one without */
	j = agree("[\"\xe6\x97\xa5\xe6\x9c\xac\", \"a\\nb\", \"plain\"]");
	assert_string_equal(json_string_value(json_array_get(j, 2)), "plain");
	json_decref(j);
}

static void refused_with_a_reason(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"", "'[' or '{' expected"},
	    {"1", "'[' or '{' expected"},
	    {"\"s\"", "'[' or '{' expected"},
	    {"[1,]", "invalid token"},
	    {"{\"a\":1,}", "string or '}' expected"},
	    {"{\"a\":1,\"a\":2}", "duplicate object key"},
	    {"{\"a\" 1}", "':' expected"},
	    {"[1 2]", "']' expected"},
	    {"[01]", "invalid token"},
	    {"[1.]", "invalid token"},
	    {"[-]", "invalid token"},
	    {"[1e]", "invalid token"},
	    {"[9223372036854775808]", "too big integer"},
	    {"[-9223372036854775809]", "too big negative integer"},
	    {"[1e400]", "real number overflow"},
	    {"[\"\\u0000\"]", "\\u0000 is not allowed"},
	    {"[\"\\ud800\"]", "invalid Unicode"},
	    {"[\"\\udc00\"]", "invalid Unicode"},
	    {"[\"\\x\"]", "invalid escape"},
	    {"[\"\\u12g4\"]", "invalid escape"},
	    {"[\"a\tb\"]", "control character 0x9"},
	    {"[\"\xff\"]", "unable to decode byte 0xff"},
	    {"[\"\xc0\xaf\"]", "unable to decode byte 0xc0"},
	    {"[\"\xed\xa0\x80\"]", "unable to decode byte 0xed"},
	    {"[\"open", "premature end of input"},
	    {"[tru]", "invalid token"},
	    {"[] x", "end of file expected"},
	    {"{\"a\":[", "premature end of input"},
	};
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = parse(bad[i].text, err, sizeof(err));

		if (j)
			fail_msg("accepted %s", bad[i].text);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: \"%s\", wanted \"%s\"", bad[i].text, err,
				 bad[i].why);
		/* jansson refuses each as well */
		assert_null(
		    json_loads(bad[i].text, JSON_REJECT_DUPLICATES, NULL));
	}

	/* the offset where it went wrong leads the reason */
	assert_null(parse("[1,2 3]", err, sizeof(err)));
	assert_string_equal(err, "5: ']' expected");

	/* a raw NUL byte is refused (jansson drops one after a number) */
	assert_null(sw_json_parse("[0\0]", 4, err, sizeof(err)));
}

static void depth_is_bounded(void **state)
{
	static char deep[2 * 2050 + 1];
	char err[160];
	json_t *j;

	(void)state;
	/* 2048 nested arrays: the limit; 2049: one too many */
	memset(deep, '[', 2048);
	memset(deep + 2048, ']', 2048);
	j = sw_json_parse(deep, 4096, err, sizeof(err));
	assert_non_null(j);
	json_decref(j);
	memset(deep, '[', 2049);
	memset(deep + 2049, ']', 2049);
	assert_null(sw_json_parse(deep, 4098, err, sizeof(err)));
	assert_non_null(strstr(err, "maximum parsing depth reached"));
	assert_null(json_loadb(deep, 4098, 0, NULL));
}

/* long strings and keys with escapes go through the scratch buffer */
static void long_escaped_strings(void **state)
{
	static char text[20000];
	size_t n = 0;
	json_t *j;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "k\\n");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\":\"");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "v\\t");
	snprintf(text + n, sizeof(text) - n, "\",\"x\":[1.25,\"\\\"\"]}");
	j = agree(text);
	assert_int_equal(json_object_size(j), 2);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_as_jansson_builds_them),
	    cmocka_unit_test(refused_with_a_reason),
	    cmocka_unit_test(depth_is_bounded),
	    cmocka_unit_test(long_escaped_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
