/* test_sg_dtmfinfo.c - SIP INFO DTMF bodies in and out (SPEC §5) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/dtmfinfo.h"

static int parse(const char *body, char *d, unsigned *ms)
{
	return sg_dtmf_info_parse(body, strlen(body), d, ms);
}

static void content_types(void **state)
{
	(void)state;
	assert_true(sg_dtmf_info_type("application/dtmf-relay"));
	assert_true(sg_dtmf_info_type("Application/DTMF-Relay"));
	assert_true(sg_dtmf_info_type("application/dtmf"));
	assert_true(sg_dtmf_info_type("application/dtmf;charset=x"));
	assert_false(sg_dtmf_info_type("application/dtmf-relayx"));
	assert_false(sg_dtmf_info_type("application/sdp"));
	assert_false(sg_dtmf_info_type("application/media_control+xml"));
	assert_false(sg_dtmf_info_type("text/plain"));
	assert_false(sg_dtmf_info_type(""));
	assert_false(sg_dtmf_info_type(NULL));
}

static void relay_bodies(void **state)
{
	char d = 0;
	unsigned ms = 0;

	(void)state;
	assert_int_equal(parse("Signal=5\r\nDuration=160\r\n", &d, &ms), 0);
	assert_int_equal(d, '5');
	assert_int_equal(ms, 160);
	assert_int_equal(parse("signal= #\nduration = 250", &d, &ms), 0);
	assert_int_equal(d, '#');
	assert_int_equal(ms, 250);
	assert_int_equal(parse("Signal=*\r\n", &d, &ms), 0);
	assert_int_equal(d, '*');
	assert_int_equal(ms, SG_DTMF_DURATION_DEFAULT);
	assert_int_equal(parse("Signal=d\r\nDuration=0\r\n", &d, &ms), 0);
	assert_int_equal(d, 'D');
	assert_int_equal(ms, SG_DTMF_DURATION_DEFAULT);
	/* event numbers 10-16 */
	assert_int_equal(parse("Signal=10\r\n", &d, &ms), 0);
	assert_int_equal(d, '*');
	assert_int_equal(parse("Signal=11\r\n", &d, &ms), 0);
	assert_int_equal(d, '#');
	assert_int_equal(parse("Signal=15\r\n", &d, &ms), 0);
	assert_int_equal(d, 'D');
	assert_int_equal(parse("Signal=16\r\n", &d, &ms), 0);
	assert_int_equal(d, '!');
	/* long durations are capped, unknown keys ignored */
	assert_int_equal(parse("Signal=1\r\nDuration=999999\r\nVolume=10\r\n",
			       &d, &ms), 0);
	assert_int_equal(ms, SG_DTMF_DURATION_MAX);
	/* application/dtmf: the digit alone */
	assert_int_equal(parse("7", &d, &ms), 0);
	assert_int_equal(d, '7');
	assert_int_equal(parse("9\r\n", &d, &ms), 0);
	assert_int_equal(d, '9');
}

static void bad_bodies(void **state)
{
	char d = 'x';
	unsigned ms = 1;

	(void)state;
	assert_int_equal(parse("", &d, &ms), EBADMSG);
	assert_int_equal(parse("\r\n\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Duration=160\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=E\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=17\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=55\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=5\r\nSignal=6\r\n", &d, &ms), EBADMSG);
	assert_int_equal(parse("Signal=5\r\nDuration=-1\r\n", &d, &ms),
			 EBADMSG);
	assert_int_equal(parse("Signal=5\r\nDuration=1e3\r\n", &d, &ms),
			 EBADMSG);
	assert_int_equal(parse("Signal=5\r\nDuration=\r\n", &d, &ms),
			 EBADMSG);
	assert_int_equal(parse("Signal=5\r\nDuration=99999999999\r\n", &d,
			       &ms), EBADMSG);
	assert_int_equal(parse("Signal=5\r\nDuration=1\r\nDuration=2\r\n", &d,
			       &ms), EBADMSG);
	assert_int_equal(parse("hello world", &d, &ms), EBADMSG);
	assert_int_equal(parse("5\r\n6\r\n", &d, &ms), EBADMSG);
	assert_int_equal(sg_dtmf_info_parse("Signal=5\0", 9, &d, &ms),
			 EBADMSG);
	{
		char big[2000];

		memset(big, ' ', sizeof(big));
		/* a body, not a string: no NUL wanted */
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(big, "Signal=5", 8);
		assert_int_equal(sg_dtmf_info_parse(big, sizeof(big), &d,
						    &ms), EBADMSG);
	}
	/* nothing written on failure */
	assert_int_equal(d, 'x');
	assert_int_equal(ms, 1);
	assert_int_equal(sg_dtmf_info_parse(NULL, 0, &d, &ms), EINVAL);
}

static void build(void **state)
{
	char buf[64], d;
	unsigned ms;

	(void)state;
	assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), '5', 160), 0);
	assert_string_equal(buf, "Signal=5\r\nDuration=160\r\n");
	assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), '#', 0), 0);
	assert_string_equal(buf, "Signal=#\r\nDuration=160\r\n");
	assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), '!', 500), 0);
	assert_string_equal(buf, "Signal=16\r\nDuration=500\r\n");
	assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), 'e', 100),
			 EINVAL);
	assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), '\0', 100),
			 EINVAL);
	assert_int_equal(sg_dtmf_info_build(buf, 10, '5', 160), ENOSPC);
	/* every digit round-trips */
	for (const char *p = "0123456789*#ABCD!"; *p; p++) {
		assert_int_equal(sg_dtmf_info_build(buf, sizeof(buf), *p, 80),
				 0);
		assert_int_equal(sg_dtmf_info_parse(buf, strlen(buf), &d, &ms),
				 0);
		assert_int_equal(d, *p);
		assert_int_equal(ms, 80);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(content_types),
		cmocka_unit_test(relay_bodies),
		cmocka_unit_test(bad_bodies),
		cmocka_unit_test(build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
