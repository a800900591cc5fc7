/* test_sg_sestimer.c - session timers (RFC 4028): what each leg of a call
 * gets from the caller's INVITE, the vendor's 200 and the refreshes */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/sestimer.h"
#include "tests/unit/test_sg_sip.h"

#define HEAD                                                                   \
	"Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\n"                        \
	"From: <sip:017@10.0.0.5>;tag=a\r\n"                                   \
	"To: <sip:15551230001@10.0.0.1>\r\n"                                   \
	"Call-ID: c1\r\n"

static sip_t const *sip_of(msg_t *m)
{
	return sip_object(m);
}

/* an INVITE with these extra header lines */
static msg_t *invite(const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "INVITE sip:15551230001@10.0.0.1 SIP/2.0\r\n" HEAD
		 "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
		 extra);
	return sip_text(text);
}

static msg_t *ok(const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "SIP/2.0 200 OK\r\n" HEAD
		 "CSeq: 1 INVITE\r\n%sContent-Length: 0\r\n\r\n",
		 extra);
	return sip_text(text);
}

static void header_is(const struct sg_st_leg *l, bool in_request,
		      const char *want)
{
	char buf[SG_ST_HDR_MAX];

	assert_int_equal(sg_st_header(l, in_request, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void caller_leg(void **state)
{
	struct sg_st st;
	msg_t *m;
	char buf[SG_ST_HDR_MAX];

	(void)state;
	/* asks for 600 s, refresher not named, supports timers: it
	 * refreshes, at its interval (shorter than ours) */
	memset(&st, 0, sizeof(st));
	m = invite("Session-Expires: 600\r\nSupported: timer\r\n"
		   "Allow: INVITE, ACK, BYE, UPDATE\r\n");
	assert_int_equal(sg_st_too_small(sip_of(m), 90), 0);
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 1800, 90);
	assert_int_equal(st.a.se, 600);
	assert_false(st.a.we_refresh);
	assert_true(st.a.update_ok);
	assert_true(st.a.require);
	header_is(&st.a, false, "600;refresher=uac");
	msg_destroy(m);

	/* longer than ours: ours; refresher=uas: we refresh, by re-INVITE
	 * (no UPDATE in Allow) */
	memset(&st, 0, sizeof(st));
	m = invite("Session-Expires: 7200;refresher=uas\r\n"
		   "Supported: timer\r\n");
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 1800, 90);
	assert_int_equal(st.a.se, 1800);
	assert_true(st.a.we_refresh);
	assert_false(st.a.update_ok);
	header_is(&st.a, false, "1800;refresher=uas");
	header_is(&st.a, true, "1800;refresher=uac");
	msg_destroy(m);

	/* its Min-SE above ours raises the interval */
	memset(&st, 0, sizeof(st));
	m = invite("Session-Expires: 100\r\nMin-SE: 300\r\nSupported: "
		   "timer\r\n");
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 1800, 90);
	assert_int_equal(st.a.se, 300);
	msg_destroy(m);

	/* below our Min-SE: 422 with ours */
	m = invite("Session-Expires: 30\r\n");
	assert_int_equal(sg_st_too_small(sip_of(m), 90), 90);
	assert_int_equal(sg_st_too_small(sip_of(m), 0), 0);
	msg_destroy(m);

	/* no timer support, no Session-Expires: no timer on that leg */
	memset(&st, 0, sizeof(st));
	m = invite("");
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 1800, 90);
	assert_int_equal(st.a.se, 0);
	assert_int_equal(sg_st_header(&st.a, false, buf, sizeof(buf)), ENOENT);
	msg_destroy(m);

	/* a Session-Expires without Supported: timer: we refresh */
	memset(&st, 0, sizeof(st));
	m = invite("Session-Expires: 1000\r\n");
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 1800, 90);
	assert_int_equal(st.a.se, 1000);
	assert_true(st.a.we_refresh);
	assert_false(st.a.require);
	msg_destroy(m);

	/* session timers off (SS_SESSION_EXPIRES 0) */
	memset(&st, 0, sizeof(st));
	m = invite("Session-Expires: 600\r\nSupported: timer\r\n");
	sg_st_caller_request(&st, sip_of(m));
	sg_st_caller_decide(&st, 0, 90);
	assert_int_equal(st.a.se, 0);
	msg_destroy(m);
}

static void vendor_leg(void **state)
{
	struct sg_st st;
	msg_t *m;

	(void)state;
	memset(&st, 0, sizeof(st));
	m = ok("Session-Expires: 900;refresher=uac\r\nRequire: timer\r\n"
	       "Allow: INVITE, UPDATE\r\n");
	sg_st_vendor_decide(&st, sip_of(m));
	assert_int_equal(st.b.se, 900);
	assert_true(st.b.we_refresh);
	assert_true(st.b.update_ok);
	assert_true(st.b.require);
	header_is(&st.b, true, "900;refresher=uac");
	msg_destroy(m);

	m = ok("Session-Expires: 900;refresher=uas\r\n");
	sg_st_vendor_decide(&st, sip_of(m));
	assert_false(st.b.we_refresh);
	assert_false(st.b.update_ok);
	msg_destroy(m);

	/* an absurd interval is bounded; none: no timer */
	m = ok("Session-Expires: 99999999\r\n");
	sg_st_vendor_decide(&st, sip_of(m));
	assert_int_equal(st.b.se, 86400);
	msg_destroy(m);
	m = ok("");
	sg_st_vendor_decide(&st, sip_of(m));
	assert_int_equal(st.b.se, 0);
	msg_destroy(m);
	sg_st_vendor_decide(&st, NULL);
	assert_int_equal(st.b.se, 0);
}

static void refresh_and_expiry(void **state)
{
	struct sg_st_leg l = {.se = 1800, .we_refresh = false};
	msg_t *m;

	(void)state;
	/* a refresh may move the interval and hand the refreshing to us */
	m = invite("Session-Expires: 1200;refresher=uas\r\n");
	sg_st_refresh_seen(&l, sip_of(m));
	assert_int_equal(l.se, 1200);
	assert_true(l.we_refresh);
	msg_destroy(m);
	m = invite("");
	sg_st_refresh_seen(&l, sip_of(m));
	assert_int_equal(l.se, 1200);
	msg_destroy(m);

	/* the side that does not refresh waits the interval less a third,
	 * at most 32 s */
	assert_int_equal(sg_st_expiry_s(6), 4);
	assert_int_equal(sg_st_expiry_s(90), 60);
	assert_int_equal(sg_st_expiry_s(1800), 1768);
}

/* what a restart reads back is what was decided; junk reads as no timer */
static void journal_round_trip(void **state)
{
	struct sg_st st, back;
	json_t *j;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_null(sg_st_journal(&st)); /* no timer: nothing journaled */
	st.a.se = 1800;
	st.a.we_refresh = false;
	st.a.require = true;
	st.b.se = 90;
	st.b.we_refresh = true;
	st.b.update_ok = true;
	j = sg_st_journal(&st);
	assert_non_null(j);
	memset(&back, 0, sizeof(back));
	sg_st_from_journal(&back, j);
	assert_int_equal(back.a.se, 1800);
	assert_false(back.a.we_refresh);
	assert_true(back.a.require);
	assert_false(back.a.update_ok);
	assert_int_equal(back.b.se, 90);
	assert_true(back.b.we_refresh);
	assert_true(back.b.update_ok);
	json_decref(j);

	j = json_pack("{s:{s:i}, s:s}", "a", "se", -5, "b", "x");
	memset(&back, 0, sizeof(back));
	sg_st_from_journal(&back, j);
	assert_int_equal(back.a.se, 0);
	assert_int_equal(back.b.se, 0);
	json_decref(j);
	sg_st_from_journal(&back, NULL);
	assert_int_equal(back.a.se, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(caller_leg),
	    cmocka_unit_test(vendor_leg),
	    cmocka_unit_test(refresh_and_expiry),
	    cmocka_unit_test(journal_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
