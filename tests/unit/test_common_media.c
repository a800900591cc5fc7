/* test_common_media.c - the media vocabulary (proto/media.h) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/media.h"

static void codecs_parse_in_any_case(void **state)
{
	enum sw_codec c = SW_CODEC_COUNT;

	(void)state;
	assert_int_equal(sw_codec_parse(&c, "pcma"), 0);
	assert_int_equal(c, SW_CODEC_PCMA);
	assert_int_equal(sw_codec_parse(&c, "OPUS"), 0);
	assert_int_equal(c, SW_CODEC_OPUS);
	/* Annex A is the same codec, written apart */
	assert_int_equal(sw_codec_parse(&c, "g729a"), 0);
	assert_int_equal(c, SW_CODEC_G729);
	assert_true(sw_codec_is_g729a("G729A"));
	assert_false(sw_codec_is_g729a("G729"));
	/* G.723.1 is decoded; GSM is known to SIP, not decoded by the switch */
	assert_int_equal(sw_codec_parse(&c, "g723"), 0);
	assert_int_equal(c, SW_CODEC_G723);
	assert_int_equal(sw_codec_static_pt(c), 4);
	assert_false(sw_codec_default_offer(c));
	assert_true(sw_codec_default_offer(SW_CODEC_G722));
	assert_int_equal(sw_codec_default_ptime(c), 30);
	assert_int_equal(sw_codec_default_ptime(SW_CODEC_PCMA), 20);
	assert_int_equal(sw_codec_parse(&c, "GSM"), ENOTSUP);
	assert_int_equal(c, SW_CODEC_G723); /* untouched on failure */
	assert_int_equal(sw_codec_parse(&c, "G729"), 0);
	assert_int_equal(sw_codec_parse(&c, ""), EINVAL);
	assert_int_equal(sw_codec_parse(&c, NULL), EINVAL);
	assert_int_equal(c, SW_CODEC_G729); /* untouched on failure */

	assert_string_equal(sw_codec_canon("pcmu"), "PCMU");
	assert_string_equal(sw_codec_canon("Opus"), "opus");
	assert_string_equal(sw_codec_canon("G729A"), "G729");
	assert_null(sw_codec_canon("GSM"));
	assert_string_equal(sw_codec_name(SW_CODEC_G722), "G722");
	assert_string_equal(sw_codec_name(SW_CODEC_COUNT), "?");
	/* every canonical name parses back to its own id */
	for (int i = 0; i < SW_CODEC_COUNT; i++) {
		assert_int_equal(sw_codec_parse(&c, sw_codec_names[i]), 0);
		assert_int_equal(c, i);
	}
	assert_null(sw_codec_names[SW_CODEC_COUNT]);
}

static void payload_types_and_clocks(void **state)
{
	uint32_t clock = 0;

	(void)state;
	assert_int_equal(sw_codec_static_pt(SW_CODEC_PCMU), 0);
	assert_int_equal(sw_codec_static_pt(SW_CODEC_PCMA), 8);
	assert_int_equal(sw_codec_static_pt(SW_CODEC_G722), 9);
	assert_int_equal(sw_codec_static_pt(SW_CODEC_G729), 18);
	assert_int_equal(sw_codec_static_pt(SW_CODEC_OPUS), -1);
	/* G.722's RTP clock stays 8000 (RFC 3551) */
	assert_int_equal(sw_codec_clock(SW_CODEC_G722), 8000);
	assert_int_equal(sw_codec_clock(SW_CODEC_OPUS), 48000);
	assert_int_equal(sw_codec_clock(SW_CODEC_COUNT), 0);

	/* static types name codecs the switch only passes through, too */
	assert_string_equal(sw_static_pt_name(3, &clock), "GSM");
	assert_int_equal(clock, 8000);
	assert_string_equal(sw_static_pt_name(4, NULL), "G723");
	assert_string_equal(sw_static_pt_name(18, NULL), "G729");
	assert_null(sw_static_pt_name(96, NULL));
	/* every codec with a static type is named back by it */
	for (int i = 0; i < SW_CODEC_COUNT; i++) {
		int pt = sw_codec_static_pt((enum sw_codec)i);

		if (pt >= 0)
			assert_string_equal(sw_static_pt_name(pt, NULL),
					    sw_codec_names[i]);
	}
}

static void dtmf_methods_by_setting(void **state)
{
	enum sw_dtmf m = SW_DTMF_NONE;

	(void)state;
	assert_int_equal(sw_dtmf_parse(&m, "INBAND", SW_DTMF_ANY), 0);
	assert_int_equal(m, SW_DTMF_INBAND);
	/* "all" is a receive setting, "auto" a send setting */
	assert_int_equal(sw_dtmf_parse(&m, "all", SW_DTMF_RECEIVE), 0);
	assert_int_equal(m, SW_DTMF_ALL);
	assert_int_equal(sw_dtmf_parse(&m, "all", SW_DTMF_SEND), EINVAL);
	assert_int_equal(sw_dtmf_parse(&m, "auto", SW_DTMF_RECEIVE), EINVAL);
	assert_int_equal(sw_dtmf_parse(&m, "none", SW_DTMF_METHODS), EINVAL);
	assert_int_equal(sw_dtmf_parse(&m, "smoke", SW_DTMF_ANY), EINVAL);
	assert_int_equal(sw_dtmf_parse(&m, "", SW_DTMF_ANY), EINVAL);
	assert_int_equal(sw_dtmf_parse(&m, NULL, SW_DTMF_ANY), EINVAL);
	assert_int_equal(m, SW_DTMF_ALL);
	assert_string_equal(sw_dtmf_name(SW_DTMF_RFC2833), "rfc2833");
	assert_string_equal(sw_dtmf_name(SW_DTMF_COUNT), "none");
}

static void name_lists_for_errors(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(sw_names_find(sw_media_proxy_names, "OFF"),
			 SW_MEDIA_PROXY_OFF);
	assert_int_equal(sw_names_find(sw_g729_mode_names, "g729a"), SW_G729_A);
	assert_int_equal(sw_names_find(sw_codec_mode_names, "x"), -1);
	assert_int_equal(sw_names_find(NULL, "x"), -1);

	sw_names_list(buf, sizeof(buf), sw_dtmf_names, SW_DTMF_RECEIVE);
	assert_string_equal(buf, "rfc2833, info, inband, all");
	sw_names_list(buf, sizeof(buf), sw_dtmf_names, SW_DTMF_SEND);
	assert_string_equal(buf, "rfc2833, info, inband, auto");
	/* a short buffer keeps whole names only */
	sw_names_list(buf, 12, sw_codec_names, ~0u);
	assert_string_equal(buf, "PCMA, PCMU");
}

/* the one rule signalingd and the engine send and accept digits by */
static void codec_same_by_meaning(void **state)
{
	(void)state;
	/* G.729 and G.729A are one bitstream: relayed, never transcoded */
	assert_true(sw_codec_same("G729", "G729A"));
	assert_true(sw_codec_same("g729a", "G729"));
	assert_true(sw_codec_same("pcma", "PCMA"));
	assert_false(sw_codec_same("PCMA", "PCMU"));
	assert_false(sw_codec_same("G729", "G723"));
	/* codecs the switch does not decode: by name, any case */
	assert_true(sw_codec_same("GSM", "gsm"));
	assert_false(sw_codec_same("GSM", "iLBC"));
	assert_false(sw_codec_same("PCMA", "PCMA-X"));
	assert_false(sw_codec_same("", "PCMA"));
	assert_false(sw_codec_same(NULL, "PCMA"));
}

static void dtmf_send_and_receive_rules(void **state)
{
	(void)state;
	/* auto and rfc2833: events when negotiated, else SIP INFO */
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_AUTO, true),
			 SW_DTMF_RFC2833);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_AUTO, false),
			 SW_DTMF_INFO);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_RFC2833, true),
			 SW_DTMF_RFC2833);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_RFC2833, false),
			 SW_DTMF_INFO);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_ALL, false),
			 SW_DTMF_INFO);
	/* info and inband whatever the SDP has; none stays none */
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_INFO, true),
			 SW_DTMF_INFO);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_INBAND, true),
			 SW_DTMF_INBAND);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_NONE, true),
			 SW_DTMF_NONE);
	assert_int_equal(sw_dtmf_send_resolve(SW_DTMF_COUNT, true),
			 SW_DTMF_NONE);

	for (int m = SW_DTMF_RFC2833; m <= SW_DTMF_INBAND; m++) {
		assert_true(sw_dtmf_recv_accepts(SW_DTMF_ALL, m));
		assert_true(sw_dtmf_recv_accepts(SW_DTMF_AUTO, m));
		assert_false(sw_dtmf_recv_accepts(SW_DTMF_NONE, m));
		for (int r = SW_DTMF_RFC2833; r <= SW_DTMF_INBAND; r++)
			assert_int_equal(sw_dtmf_recv_accepts(r, m), r == m);
	}

	assert_true(sw_is_te("telephone-event"));
	assert_true(sw_is_te("Telephone-Event"));
	assert_false(sw_is_te("telephone-events"));
	assert_false(sw_is_te(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(codecs_parse_in_any_case),
	    cmocka_unit_test(payload_types_and_clocks),
	    cmocka_unit_test(dtmf_methods_by_setting),
	    cmocka_unit_test(name_lists_for_errors),
	    cmocka_unit_test(codec_same_by_meaning),
	    cmocka_unit_test(dtmf_send_and_receive_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
