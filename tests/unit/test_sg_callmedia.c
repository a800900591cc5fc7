/* test_sg_callmedia.c - a call's media, offer to answer, for each policy:
 * pass-through, same codec end to end, transcoding, DTMF conversion, a
 * re-INVITE across an answered call, media mode 0; every SDP written is
 * asserted line by line and every leg plan field by field */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "common/jsonw.h"
#include "signaling/callmedia.h"
#include "signaling/media.h"
#include "tests/unit/test_sg_util.h"

#define NODE_IP "192.0.2.1"
#define NODE_A	20000 /* the node's side facing the caller */
#define NODE_B	30000 /* and the vendor */

static const char caller_pcma_te[] = "v=0\r\n"
				     "o=alice 7 7 IN IP4 10.0.0.5\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.0.0.5\r\n"
				     "t=0 0\r\n"
				     "m=audio 6000 RTP/AVP 8 0 101\r\n"
				     "a=rtpmap:8 PCMA/8000\r\n"
				     "a=rtpmap:0 PCMU/8000\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n"
				     "a=fmtp:101 0-16\r\n"
				     "a=ptime:20\r\n"
				     "a=sendrecv\r\n";

static const char caller_pcma[] = "v=0\r\n"
				  "o=alice 7 7 IN IP4 10.0.0.5\r\n"
				  "s=-\r\n"
				  "c=IN IP4 10.0.0.5\r\n"
				  "t=0 0\r\n"
				  "m=audio 6000 RTP/AVP 8\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n";

static const char caller_public[] = "v=0\r\n"
				    "o=alice 7 7 IN IP4 198.51.100.7\r\n"
				    "s=-\r\n"
				    "c=IN IP4 198.51.100.7\r\n"
				    "t=0 0\r\n"
				    "m=audio 6000 RTP/AVP 8\r\n"
				    "a=rtpmap:8 PCMA/8000\r\n";

static const char caller_srtp[] = "v=0\r\n"
				  "o=alice 7 7 IN IP4 198.51.100.7\r\n"
				  "s=-\r\n"
				  "c=IN IP4 198.51.100.7\r\n"
				  "t=0 0\r\n"
				  "m=audio 6000 RTP/SAVP 8\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				  "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9\r\n";

static void plan_is(const struct sg_cm_leg *l, const char *codec, int pt,
		    int te_pt, const char *send, const char *recv,
		    const char *ip, int port, const char *direction)
{
	assert_true(l->set);
	assert_string_equal(l->plan.codec, codec);
	assert_int_equal(l->plan.pt, pt);
	assert_int_equal(l->plan.te_pt, te_pt);
	assert_string_equal(l->plan.dtmf_send, send);
	assert_string_equal(l->plan.dtmf_recv, recv);
	assert_string_equal(l->ip, ip);
	assert_int_equal(l->port, port);
	assert_string_equal(l->direction, direction);
}

/* same codec end to end: the vendor gets the caller's formats at the
 * node, the caller gets the vendor's choice at the node */
static void same_codec(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 0 101\r\n"
				     "a=rtpmap:0 PCMU/8000\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n"
				     "a=ptime:30\r\n";

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{}");
	assert_int_equal(
	    sg_cm_read_offer(&m, caller_pcma_te, strlen(caller_pcma_te)), 0);
	assert_int_equal(sg_cm_check(&m, &mg, true, &why), 0);

	/* media.offer: the caller's leg as it offered, the vendor's alike */
	sg_cm_node_legs(&m, &a, &b);
	plan_is(&a, "PCMA", 8, 101, "rfc2833", "rfc2833", "10.0.0.5", 6000,
		"sendrecv");
	plan_is(&b, "PCMA", 8, 101, "rfc2833", "rfc2833", "", 0, "sendrecv");

	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=alice 7 7 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 8 0 101\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	free(out);

	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	assert_true(m.have_ans);
	assert_false(m.ans.transcoding);
	assert_string_equal(out, "v=0\r\n"
				 "o=gw 1 1 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 0 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:30\r\n");
	plan_is(&a, "PCMU", 0, 101, "rfc2833", "all", "10.0.0.5", 6000,
		"sendrecv");
	plan_is(&b, "PCMU", 0, 101, "rfc2833", "all", "10.9.9.9", 7000,
		"sendrecv");
	assert_int_equal(a.plan.ptime, 20);
	assert_int_equal(b.plan.ptime, 30);
	assert_string_equal(b.name, "PCMU");
	free(out);

	/* answered: the offers go, the decision stays */
	sg_cm_settled(&m);
	assert_null(m.text);
	assert_null(m.caller);
	assert_null(m.offer);
	assert_true(m.have_ans);
	sg_cm_free(&m);
}

/* the vendor answers what it was not offered: passed through, the
 * caller gets the vendor's formats at the node, leg a unchanged */
static void pass_through(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 3\r\n"
				     "a=rtpmap:3 GSM/8000\r\n"
				     "a=sendonly\r\n";

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{}");
	assert_int_equal(sg_cm_read_offer(&m, caller_pcma, strlen(caller_pcma)),
			 0);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	free(out);
	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	assert_false(m.have_ans);
	assert_non_null(strstr(why, "no codec it was offered"));
	assert_string_equal(out, "v=0\r\n"
				 "o=gw 1 1 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 3\r\n"
				 "a=rtpmap:3 GSM/8000\r\n"
				 "a=sendonly\r\n");
	assert_false(a.set);
	/* a codec the node does not know has no name in the plan; the CDR
	 * still names it */
	plan_is(&b, "", 3, 0, "none", "none", "10.9.9.9", 7000, "sendonly");
	assert_string_equal(b.name, "GSM");
	free(out);
	sg_cm_free(&m);
}

/* transcoding: the vendor offered G.729 only, the caller keeps PCMA */
static void transcode(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 18 101\r\n"
				     "a=rtpmap:18 G729/8000\r\n"
				     "a=fmtp:18 annexb=no\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n";

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"allow_transcoding\":true,\"codecs\":[\"G729\"]}");
	assert_int_equal(
	    sg_cm_read_offer(&m, caller_pcma_te, strlen(caller_pcma_te)), 0);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=alice 7 7 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 18 101\r\n"
				 "a=rtpmap:18 G729/8000\r\n"
				 "a=fmtp:18 annexb=no\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	free(out);
	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	assert_true(m.have_ans);
	assert_true(m.ans.transcoding);
	assert_string_equal(out, "v=0\r\n"
				 "o=gw 1 1 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 8 101\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n");
	plan_is(&a, "PCMA", 8, 101, "rfc2833", "all", "10.0.0.5", 6000,
		"sendrecv");
	plan_is(&b, "G729", 18, 101, "rfc2833", "all", "10.9.9.9", 7000,
		"sendrecv");
	assert_string_equal(b.plan.fmtp, "annexb=no");
	free(out);
	sg_cm_free(&m);
}

/* DTMF conversion: a caller without telephone-event gets digits by SIP
 * INFO, the vendor by RFC 2833 on the PT of its gateway's settings */
static void dtmf_conversion(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 8 98\r\n"
				     "a=rtpmap:8 PCMA/8000\r\n"
				     "a=rtpmap:98 telephone-event/8000\r\n";

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{\"rfc2833_pt\":98,\"use_peer_rfc2833\":false}");
	assert_int_equal(sg_cm_read_offer(&m, caller_pcma, strlen(caller_pcma)),
			 0);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=alice 7 7 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 8 98\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:98 telephone-event/8000\r\n"
				 "a=fmtp:98 0-16\r\n");
	free(out);
	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	assert_true(m.have_ans);
	/* the caller's answer has no telephone-event: it never offered one */
	assert_string_equal(out, "v=0\r\n"
				 "o=gw 1 1 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 8\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n");
	plan_is(&a, "PCMA", 8, 0, "info", "all", "10.0.0.5", 6000, "sendrecv");
	plan_is(&b, "PCMA", 8, 98, "rfc2833", "all", "10.9.9.9", 7000,
		"sendrecv");
	free(out);
	sg_cm_free(&m);
}

/* a re-INVITE across the answered call keeps the decided codecs */
static void across(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b, leg;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 8\r\n"
				     "a=rtpmap:8 PCMA/8000\r\n";
	static const char hold[] = "v=0\r\n"
				   "o=alice 7 8 IN IP4 10.0.0.7\r\n"
				   "s=-\r\n"
				   "c=IN IP4 10.0.0.7\r\n"
				   "t=0 0\r\n"
				   "m=audio 6002 RTP/AVP 8 0\r\n"
				   "a=rtpmap:8 PCMA/8000\r\n"
				   "a=rtpmap:0 PCMU/8000\r\n"
				   "a=sendonly\r\n";
	static const char g729_only[] = "v=0\r\n"
					"o=alice 7 9 IN IP4 10.0.0.7\r\n"
					"s=-\r\n"
					"c=IN IP4 10.0.0.7\r\n"
					"t=0 0\r\n"
					"m=audio 6002 RTP/AVP 18\r\n"
					"a=rtpmap:18 G729/8000\r\n";

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{}");
	assert_int_equal(sg_cm_read_offer(&m, caller_pcma, strlen(caller_pcma)),
			 0);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	free(out);
	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	free(out);
	sg_cm_settled(&m);

	/* hold from the caller: to the vendor at the node's vendor side,
	 * PCMA only as decided; the node learns the caller's new address */
	assert_int_equal(sg_cm_across(&m, true, hold, strlen(hold), NODE_IP,
				      NODE_B, &out, &leg),
			 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=alice 7 8 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 8\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=sendonly\r\n");
	plan_is(&leg, "PCMA", 8, 0, "info", "all", "10.0.0.7", 6002,
		"sendonly");
	free(out);

	/* a codec change the decision cannot serve: refused (488) */
	assert_int_equal(sg_cm_across(&m, true, g729_only, strlen(g729_only),
				      NODE_IP, NODE_B, &out, &leg),
			 ENOTSUP);
	assert_null(out);

	/* without a decision (a call recovered after a restart): passed
	 * through, the node gets the SDP's first format */
	m.have_ans = false;
	assert_int_equal(sg_cm_across(&m, true, hold, strlen(hold), NODE_IP,
				      NODE_B, &out, &leg),
			 0);
	assert_non_null(strstr(out, "m=audio 30000 RTP/AVP 8 0\r\n"));
	plan_is(&leg, "PCMA", 8, 0, "none", "none", "10.0.0.7", 6002,
		"sendonly");
	free(out);
	assert_int_equal(
	    sg_cm_across(&m, true, "v=0\r\n", 5, NODE_IP, NODE_B, &out, &leg),
	    EBADMSG);
	assert_null(out);
	sg_cm_free(&m);
}

/* media mode 0: the policy's formats, the caller's own address; and an
 * offer without audio (T.38 only) goes out as it came */
static void not_relayed(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	const char *why = "";
	char *out = NULL;
	static const char gsm[] = "v=0\r\n"
				  "o=alice 7 7 IN IP4 10.0.0.5\r\n"
				  "s=-\r\n"
				  "c=IN IP4 10.0.0.5\r\n"
				  "t=0 0\r\n"
				  "m=audio 6000 RTP/AVP 3 8\r\n";
	static const char t38[] = "v=0\n"
				  "o=fax 1 1 IN IP4 10.0.0.5\n"
				  "c=IN IP4 10.0.0.5\n"
				  "m=image 6000 udptl t38\n";

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{\"codecs\":[\"PCMA\"]}");
	assert_int_equal(sg_cm_read_offer(&m, gsm, strlen(gsm)), 0);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NULL, 0, &out, &why), 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=alice 7 7 IN IP4 10.0.0.5\r\n"
				 "s=-\r\n"
				 "c=IN IP4 10.0.0.5\r\n"
				 "t=0 0\r\n"
				 "m=audio 6000 RTP/AVP 8\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n");
	free(out);

	/* a gateway that cannot take it is skipped and remembered */
	conf(&rg, "{\"codecs\":[\"G722\"]}");
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NULL, 0, &out, &why),
			 ENOTSUP);
	assert_null(out);
	assert_true(m.codec_refused);

	assert_int_equal(sg_cm_read_offer(&m, t38, strlen(t38)), ENOENT);
	assert_non_null(m.text);
	assert_null(m.caller);
	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NULL, 0, &out, &why), 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=fax 1 1 IN IP4 10.0.0.5\r\n"
				 "c=IN IP4 10.0.0.5\r\n"
				 "m=image 6000 udptl t38\r\n");
	free(out);
	sg_cm_free(&m);
}

/* the mapping gateway's specified codec the caller did not offer: 488
 * before routing */
static void caller_refused(void **state)
{
	struct sg_cp_conf mg;
	struct sg_cm m = {0};
	const char *why = "";

	(void)state;
	conf(&mg,
	     "{\"codec_mode\":\"specified\",\"specified_codec\":\"G729\"}");
	assert_int_equal(sg_cm_read_offer(&m, caller_pcma, strlen(caller_pcma)),
			 0);
	assert_int_equal(sg_cm_check(&m, &mg, true, &why), EPERM);
	assert_non_null(strstr(why, "specified codec"));
	sg_cm_free(&m);
}

/* delayed offer: the caller sent no SDP.  The vendor is offered what the
 * caller's gateway allows (transcoded to the vendor's G.729), the caller
 * is offered the decided PCMA and, with transcoding, PCMU too; its answer
 * in the ACK decides its leg */
static void late_offer(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_cm m = {0};
	struct sg_cm_leg a, b;
	const char *why = "";
	char *out = NULL;
	static const char vendor[] = "v=0\r\n"
				     "o=gw 1 1 IN IP4 10.9.9.9\r\n"
				     "s=-\r\n"
				     "c=IN IP4 10.9.9.9\r\n"
				     "t=0 0\r\n"
				     "m=audio 7000 RTP/AVP 18 101\r\n"
				     "a=rtpmap:18 G729/8000\r\n"
				     "a=fmtp:18 annexb=no\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n";
	static const char pcmu_answer[] =
	    "v=0\r\n"
	    "o=alice 7 7 IN IP4 10.0.0.5\r\n"
	    "s=-\r\n"
	    "c=IN IP4 10.0.0.5\r\n"
	    "t=0 0\r\n"
	    "m=audio 6000 RTP/AVP 0 101\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n";
	static const char g722_answer[] = "v=0\r\n"
					  "o=alice 7 7 IN IP4 10.0.0.5\r\n"
					  "s=-\r\n"
					  "c=IN IP4 10.0.0.5\r\n"
					  "t=0 0\r\n"
					  "m=audio 6000 RTP/AVP 9\r\n"
					  "a=rtpmap:9 G722/8000\r\n";
	static const char refused[] = "v=0\r\n"
				      "o=alice 7 7 IN IP4 10.0.0.5\r\n"
				      "s=-\r\n"
				      "c=IN IP4 10.0.0.5\r\n"
				      "t=0 0\r\n"
				      "m=audio 0 RTP/AVP 8\r\n";

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true,\"codecs\":[\"PCMA\","
		  "\"PCMU\"]}");
	conf(&rg, "{\"allow_transcoding\":true,\"codecs\":[\"G729\"]}");
	assert_int_equal(sg_cm_late_offer(&m, &mg), 0);
	assert_true(m.late);
	assert_int_equal(sg_cm_check(&m, &mg, true, &why), 0);

	/* media.offer: the caller's leg has no peer yet */
	sg_cm_node_legs(&m, &a, &b);
	plan_is(&a, "PCMA", 8, 101, "rfc2833", "rfc2833", "", 0, "sendrecv");

	assert_int_equal(sg_cm_offer(&m, &mg, &rg, NODE_IP, NODE_B, &out, &why),
			 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=tandem 1 1 IN IP4 192.0.2.1\r\n"
				 "s=tandem\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 18 101\r\n"
				 "a=rtpmap:18 G729/8000\r\n"
				 "a=fmtp:18 annexb=no\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=sendrecv\r\n");
	free(out);

	assert_int_equal(sg_cm_answer(&m, vendor, strlen(vendor), &mg, &rg,
				      NODE_IP, NODE_A, &out, &a, &b, &why),
			 0);
	assert_true(m.have_ans);
	/* an offer to the caller: the decided PCMA, then PCMU */
	assert_string_equal(out, "v=0\r\n"
				 "o=gw 1 1 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 8 0 101\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n");
	/* leg a waits for the ACK; leg b is the vendor's */
	assert_false(a.set);
	plan_is(&b, "G729", 18, 101, "rfc2833", "all", "10.9.9.9", 7000,
		"sendrecv");
	assert_non_null(m.vendor);
	free(out);
	sg_cm_settled(&m);

	/* answers the caller may not give */
	assert_int_equal(sg_cm_late_answer(&m, g722_answer, strlen(g722_answer),
					   &mg, &rg, &a, &why),
			 ENOTSUP);
	assert_int_equal(
	    sg_cm_late_answer(&m, refused, strlen(refused), &mg, &rg, &a, &why),
	    ENOTSUP);
	assert_non_null(strstr(why, "refused"));
	assert_int_equal(sg_cm_late_answer(&m, "junk", 4, &mg, &rg, &a, &why),
			 EBADMSG);

	/* PCMU, the second codec offered: transcoded to the vendor's G.729 */
	assert_int_equal(sg_cm_late_answer(&m, pcmu_answer, strlen(pcmu_answer),
					   &mg, &rg, &a, &why),
			 0);
	assert_true(m.ans.transcoding);
	plan_is(&a, "PCMU", 0, 101, "rfc2833", "all", "10.0.0.5", 6000,
		"sendrecv");
	assert_string_equal(m.ans.b.codec, "G729");
	sg_cm_free(&m);
}

/* SPEC §4: which attempts need the media node, mode by mode */
static void media_modes(void **state)
{
	struct sg_cp_conf def, off, on, xc_a, xc_b, info;
	struct sg_cm m = {0}, late = {0};
	const char *why = "";

	(void)state;
	conf(&def, "{}");
	conf(&off, "{\"media_proxy\":\"off\"}");
	conf(&on, "{\"media_proxy\":\"on\"}");
	conf(&xc_a, "{\"allow_transcoding\":true,\"codecs\":[\"PCMA\"],"
		    "\"media_proxy\":\"off\"}");
	conf(&xc_b, "{\"allow_transcoding\":true,\"codecs\":[\"G729\"]}");
	conf(&info, "{\"dtmf_send\":\"info\"}");
	assert_int_equal(sg_cm_read_offer(&m, caller_pcma, strlen(caller_pcma)),
			 0);

	/* 0 never, 3 always, whatever the gateways say */
	assert_false(sg_cm_relay_wanted(&m, 0, &def, &on, "10.0.0.5", &why));
	assert_true(sg_cm_relay_wanted(&m, 3, &off, &off, "10.0.0.5", &why));
	/* 1: unless a gateway says off */
	assert_true(sg_cm_relay_wanted(&m, 1, &def, &def, "10.0.0.5", &why));
	assert_false(sg_cm_relay_wanted(&m, 1, &def, &off, "10.0.0.5", &why));
	assert_false(sg_cm_relay_wanted(&m, 1, &off, &def, "10.0.0.5", &why));
	/* 2: the caller's SDP address (10.0.0.5) is private */
	assert_true(sg_cm_relay_wanted(&m, 2, &def, &def, "10.0.0.5", &why));
	assert_non_null(strstr(why, "private"));
	assert_false(sg_cm_relay_wanted(&m, 2, &def, &off, "10.0.0.5", &why));
	assert_true(sg_cm_relay_wanted(&m, 2, &def, &on, "10.0.0.5", &why));
	sg_cm_free(&m);
	assert_int_equal(
	    sg_cm_read_offer(&m, caller_public, strlen(caller_public)), 0);
	assert_false(
	    sg_cm_relay_wanted(&m, 2, &def, &def, "198.51.100.7", &why));
	/* its signalling from elsewhere: NAT */
	assert_true(sg_cm_relay_wanted(&m, 2, &def, &def, "203.0.113.9", &why));
	assert_non_null(strstr(why, "signalling source"));
	/* transcoding and DTMF conversion need the node even where a
	 * gateway says off */
	assert_true(
	    sg_cm_relay_wanted(&m, 1, &xc_a, &xc_b, "198.51.100.7", &why));
	assert_string_equal(why, "transcoding");
	assert_true(
	    sg_cm_relay_wanted(&m, 2, &off, &info, "198.51.100.7", &why));
	assert_string_equal(why, "DTMF conversion");
	sg_cm_free(&m);

	/* SRTP: never relayed unless something forces it (then refused) */
	assert_int_equal(sg_cm_read_offer(&m, caller_srtp, strlen(caller_srtp)),
			 0);
	assert_true(m.caller->secure);
	assert_false(
	    sg_cm_relay_wanted(&m, 1, &def, &def, "198.51.100.7", &why));
	assert_false(sg_cm_relay_wanted(&m, 2, &def, &on, "203.0.113.9", &why));
	assert_true(
	    sg_cm_relay_wanted(&m, 3, &def, &def, "198.51.100.7", &why));
	assert_true(
	    sg_cm_relay_wanted(&m, 1, &xc_a, &xc_b, "198.51.100.7", &why));
	sg_cm_free(&m);

	/* a caller without SDP is offered by the switch: relayed */
	assert_int_equal(sg_cm_late_offer(&late, &def), 0);
	assert_true(sg_cm_relay_wanted(&late, 2, &off, &off, "", &why));
	assert_false(sg_cm_relay_wanted(&late, 0, &def, &def, "", &why));
	sg_cm_free(&late);

	assert_true(sg_cm_addr_private("172.20.1.1"));
	assert_true(sg_cm_addr_private("100.64.0.1"));
	assert_true(sg_cm_addr_private("192.168.1.1"));
	assert_true(sg_cm_addr_private("fd00::1"));
	assert_false(sg_cm_addr_private("172.32.0.1"));
	assert_false(sg_cm_addr_private("127.0.0.1"));
	assert_false(sg_cm_addr_private("2001:db8::1"));
	assert_false(sg_cm_addr_private("host.example"));
}

/* a leg plan as media.offer/answer/update carry it, written as text and
 * read back field by field */
static json_t *leg_written(const struct sg_media_leg *l)
{
	struct sw_jw w = {0};
	json_t *j;

	sg_media_leg_write(&w, l);
	assert_false(w.oom);
	j = json_loads(w.buf, 0, NULL);
	assert_non_null(j);
	sw_jw_free(&w);
	return j;
}

static void leg_plan_written(void **state)
{
	struct sg_cp_plan p = {.codec = "G729",
			       .pt = 18,
			       .rate = 0,
			       .ptime = 30,
			       .fmtp = "annexb=no\xff\"x\"",
			       .te_pt = 101,
			       .dtmf_send = "rfc2833",
			       .dtmf_recv = "all"};
	struct sg_media_leg l = {.plan = &p,
				 .ip = "10.0.0.5",
				 .port = 6000,
				 .direction = "",
				 .sig_ip = "198.51.100.7",
				 .handover = true};
	json_t *j;

	(void)state;
	j = leg_written(&l);
	assert_int_equal(json_object_size(j), 13);
	assert_string_equal(json_string_value(json_object_get(j, "remote_ip")),
			    "10.0.0.5");
	assert_int_equal(json_integer_value(json_object_get(j, "remote_port")),
			 6000);
	assert_string_equal(json_string_value(json_object_get(j, "codec")),
			    "G729");
	assert_int_equal(json_integer_value(json_object_get(j, "pt")), 18);
	assert_int_equal(json_integer_value(json_object_get(j, "rate")), 8000);
	assert_int_equal(json_integer_value(json_object_get(j, "ptime")), 30);
	/* the SDP's bytes sanitised: the byte that is not UTF-8 as "\xFF",
	 * the quotes kept */
	assert_string_equal(json_string_value(json_object_get(j, "fmtp")),
			    "annexb=no\\xFF\"x\"");
	assert_int_equal(json_integer_value(json_object_get(j, "te_pt")), 101);
	assert_string_equal(json_string_value(json_object_get(j, "dtmf_send")),
			    "rfc2833");
	assert_string_equal(json_string_value(json_object_get(j, "dtmf_recv")),
			    "all");
	assert_string_equal(json_string_value(json_object_get(j, "direction")),
			    "sendrecv");
	assert_string_equal(json_string_value(json_object_get(j, "sig_ip")),
			    "198.51.100.7");
	assert_true(json_is_true(json_object_get(j, "handover")));
	json_decref(j);

	/* a hostname is no source to allow; ptime out of 10..60 is 20 */
	p.ptime = 5;
	p.rate = 16000;
	l.sig_ip = "gw.example";
	l.handover = false;
	l.direction = "recvonly";
	l.ip = NULL;
	j = leg_written(&l);
	assert_null(json_object_get(j, "sig_ip"));
	assert_true(json_is_false(json_object_get(j, "handover")));
	assert_int_equal(json_integer_value(json_object_get(j, "ptime")), 20);
	assert_int_equal(json_integer_value(json_object_get(j, "rate")), 16000);
	assert_string_equal(json_string_value(json_object_get(j, "direction")),
			    "recvonly");
	assert_string_equal(json_string_value(json_object_get(j, "remote_ip")),
			    "");
	json_decref(j);
	l.sig_ip = "2001:db8::7";
	j = leg_written(&l);
	assert_string_equal(json_string_value(json_object_get(j, "sig_ip")),
			    "2001:db8::7");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_codec),
	    cmocka_unit_test(pass_through),
	    cmocka_unit_test(transcode),
	    cmocka_unit_test(dtmf_conversion),
	    cmocka_unit_test(across),
	    cmocka_unit_test(not_relayed),
	    cmocka_unit_test(caller_refused),
	    cmocka_unit_test(late_offer),
	    cmocka_unit_test(media_modes),
	    cmocka_unit_test(leg_plan_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
