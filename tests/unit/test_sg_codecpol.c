/* test_sg_codecpol.c - SPEC §5 codec and DTMF policy: every row of the
 * table, G.729 variants, telephone-events, auto DTMF send (the SDP reader
 * and writer: test_sg_sdp.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/codecpol.h"
#include "tests/unit/test_sg_util.h"

#define SDP_HEAD                                                               \
	"v=0\r\no=u 1 1 IN IP4 10.0.0.5\r\ns=-\r\n"                            \
	"c=IN IP4 10.0.0.5\r\nt=0 0\r\n"

static const char pcma_te[] = SDP_HEAD "m=audio 6000 RTP/AVP 8 0 101\r\n"
				       "a=rtpmap:8 PCMA/8000\r\n"
				       "a=rtpmap:0 PCMU/8000\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n"
				       "a=fmtp:101 0-16\r\n"
				       "a=ptime:20\r\n"
				       "a=sendrecv\r\n";

static const char pcma_only[] = SDP_HEAD "m=audio 6000 RTP/AVP 8\r\n"
					 "a=rtpmap:8 PCMA/8000\r\n";

static const char g729_ans[] = SDP_HEAD "m=audio 7000 RTP/AVP 18 101\r\n"
					"a=rtpmap:18 G729/8000\r\n"
					"a=fmtp:18 annexb=no\r\n"
					"a=rtpmap:101 telephone-event/8000\r\n"
					"a=ptime:20\r\n";

static const char g729_noteans[] = SDP_HEAD "m=audio 7000 RTP/AVP 18\r\n"
					    "a=rtpmap:18 G729/8000\r\n";

static const char g729_annexb_yes[] = SDP_HEAD "m=audio 7000 RTP/AVP 18\r\n"
					       "a=rtpmap:18 G729/8000\r\n"
					       "a=fmtp:18 annexb=yes\r\n";

static const char pcmu_ans[] = SDP_HEAD "m=audio 7000 RTP/AVP 0 101\r\n"
					"a=rtpmap:101 telephone-event/8000\r\n";

static void sdp(struct sg_sdp *s, const char *text)
{
	assert_int_equal(sg_sdp_read(s, text, strlen(text)), 0);
}

static void parse_conf(void **state)
{
	struct sg_cp_conf c;
	char err[128];

	(void)state;
	assert_int_equal(sg_cp_conf_parse(&c, "{}", err, sizeof(err)), 0);
	assert_false(c.specified);
	assert_int_equal(c.rfc2833_pt, 101);
	assert_true(c.use_peer_rfc2833);
	assert_int_equal(c.dtmf_receive, SW_DTMF_ALL);
	assert_int_equal(c.dtmf_send, SW_DTMF_AUTO);

	conf(&c, "{\"codec_mode\":\"specified\",\"specified_codec\":\"g729\","
		 "\"codecs\":[\"PCMA\",\"G729\"],\"allow_transcoding\":true,"
		 "\"g729_mode\":\"both\",\"dtmf_receive\":\"info\","
		 "\"dtmf_send\":\"inband\",\"rfc2833_pt\":96,"
		 "\"use_peer_rfc2833\":false,\"media_proxy\":\"off\"}");
	assert_true(c.specified);
	assert_string_equal(c.specified_codec, "G729");
	assert_int_equal(c.ncodecs, 2);
	assert_true(c.allow_transcoding);
	assert_int_equal(c.g729_mode, SW_G729_BOTH);
	assert_int_equal(c.dtmf_receive, SW_DTMF_INFO);
	assert_int_equal(c.dtmf_send, SW_DTMF_INBAND);
	assert_int_equal(c.rfc2833_pt, 96);
	assert_false(c.use_peer_rfc2833);
	assert_int_equal(c.media_proxy, SW_MEDIA_PROXY_OFF);

	/* bad values keep their default and say so; the rest applies */
	assert_int_equal(sg_cp_conf_parse(&c,
					  "{\"rfc2833_pt\":300,"
					  "\"allow_transcoding\":true}",
					  err, sizeof(err)),
			 EINVAL);
	assert_int_equal(c.rfc2833_pt, 101);
	assert_true(c.allow_transcoding);
	assert_non_null(strstr(err, "rfc2833_pt"));
	assert_int_equal(sg_cp_conf_parse(&c, "[1]", err, sizeof(err)), EINVAL);
	assert_int_equal(sg_cp_conf_parse(&c,
					  "{\"codec_mode\":"
					  "\"specified\"}",
					  err, sizeof(err)),
			 EINVAL);
	assert_false(c.specified);
	assert_int_equal(
	    sg_cp_conf_parse(&c, "{\"codecs\":[\"GSM\"]}", err, sizeof(err)),
	    EINVAL);
	assert_int_equal(sg_cp_conf_parse(&c, NULL, err, sizeof(err)), 0);
}

/* auto | auto, a common codec: passes end to end, no transcoding */
static void auto_auto_common(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 PCMU/0");
	assert_int_equal(o.b_te_pt, 101);
	assert_false(o.xcode);
	sdp(&v, pcmu_ans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_false(r.transcoding);
	assert_string_equal(r.a.codec, "PCMU");
	assert_string_equal(r.b.codec, "PCMU");
	assert_int_equal(r.a.pt, 0);
	assert_int_equal(r.a_te_pt, 101);
	assert_int_equal(r.a.te_pt, 101);
	assert_string_equal(r.a.dtmf_send, "rfc2833");
	assert_string_equal(r.b.dtmf_send, "rfc2833");
	assert_string_equal(r.a.dtmf_recv, "all");
}

/* auto | auto, the routing gateway's list restricts the offer; no
 * transcoding allowed and nothing in common -> 488 before any INVITE */
static void auto_auto_no_common(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a;
	struct sg_cp_offer o;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"codecs\":[\"G729\"]}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why),
			 ENOTSUP);
	assert_non_null(strstr(why, "routing gateway"));

	/* the list keeps the caller's allowed codecs only */
	conf(&rg, "{\"codecs\":[\"PCMU\",\"G729\"]}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMU/0");

	/* the mapping gateway's own list: nothing of the caller -> 488 */
	conf(&mg, "{\"codecs\":[\"G722\"]}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), EPERM);
	assert_non_null(strstr(why, "mapping gateway"));
}

/* auto | auto with transcoding on both: the caller's codecs, then the
 * routing gateway's others; an answer with another codec is transcoded to
 * the caller's first */
static void auto_auto_transcode(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"allow_transcoding\":true,"
		  "\"codecs\":[\"G729\",\"PCMU\",\"opus\"]}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_true(o.xcode);
	/* PCMA not allowed toward the vendor: PCMU (the caller's), then the
	 * gateway's others, ours: G729 annexb=no, opus dynamic */
	names(o.b, o.nb, "PCMU/0 G729/18 opus/96");
	assert_string_equal(o.b[1].fmtp, "annexb=no");
	assert_int_equal(o.b_te_pt, 101);

	sdp(&v, g729_ans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_true(r.transcoding);
	assert_string_equal(r.a.codec, "PCMA");
	assert_int_equal(r.a.pt, 8);
	assert_string_equal(r.b.codec, "G729");
	assert_int_equal(r.b.pt, 18);
	assert_int_equal(r.b.te_pt, 101);
	assert_string_equal(r.b.fmtp, "annexb=no");

	/* we offered annexb=no: an answer saying yes (or nothing, which
	 * means yes) cannot turn annex B on toward the vendor */
	sdp(&v, g729_annexb_yes);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.b.fmtp, "annexb=no");
	sdp(&v, g729_noteans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.b.fmtp, "annexb=no");

	/* every supported codec when the gateway has no list */
	conf(&rg, "{\"allow_transcoding\":true}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 PCMU/0 G729/18 G722/9 opus/96");

	/* only one side allows: the caller's codecs only */
	conf(&mg, "{}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 PCMU/0");
	assert_false(o.xcode);

	/* media not relayed (mode 0): never transcoded */
	conf(&mg, "{\"allow_transcoding\":true}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, false, &why), 0);
	names(o.b, o.nb, "PCMA/8 PCMU/0");
}

static const char gsm_only[] = SDP_HEAD "m=audio 6000 RTP/AVP 3\r\n"
					"a=rtpmap:3 GSM/8000\r\n";
static const char gsm_pcma[] = SDP_HEAD "m=audio 6000 RTP/AVP 3 8\r\n"
					"a=rtpmap:3 GSM/8000\r\n"
					"a=rtpmap:8 PCMA/8000\r\n";

/* issue 13, item 3: codecs the switch cannot decode pass through when
 * both sides share them, relayed or not, and are never transcoded */
static void undecodable_pass_through(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"allow_transcoding\":true}");
	sdp(&a, gsm_only);
	/* relayed: GSM goes to the vendor, and nothing of ours, since the
	 * caller has nothing we could transcode to */
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "GSM/3");
	sdp(&v, gsm_only);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_false(r.transcoding);
	assert_string_equal(r.a.codec, "GSM");
	assert_string_equal(r.b.codec, "GSM");
	assert_int_equal(r.b.pt, 3);

	/* with a codec we decode too: ours are added, and a vendor answer
	 * in one of them is transcoded to that codec, never to GSM */
	sdp(&a, gsm_pcma);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "GSM/3 PCMA/8 PCMU/0 G729/18 G722/9 opus/96");
	sdp(&v, g729_noteans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_true(r.transcoding);
	assert_string_equal(r.a.codec, "PCMA");
	assert_string_equal(r.b.codec, "G729");

	/* a gateway with a codec list takes only what it lists */
	conf(&rg, "{\"codecs\":[\"PCMA\"]}");
	sdp(&a, gsm_only);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why),
			 ENOTSUP);
}

static const char g723_only[] = SDP_HEAD "m=audio 6000 RTP/AVP 4\r\n"
					 "a=rtpmap:4 G723/8000\r\n";
/* G.723.1 is transcoded, in 30 ms packets, but offered by us only where a
 * gateway lists it (docs/decisions.md) */
static void g723_transcoded_where_listed(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"allow_transcoding\":true,\"codecs\":[\"PCMA\"]}");
	/* a G.723.1-only caller reaches a PCMA-only vendor */
	sdp(&a, g723_only);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8");
	sdp(&v, pcma_only);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_true(r.transcoding);
	assert_string_equal(r.a.codec, "G723");
	assert_int_equal(r.a.pt, 4);
	assert_int_equal(r.a.ptime, 30);
	assert_string_equal(r.b.codec, "PCMA");
	assert_int_equal(r.b.ptime, 20);

	/* no list: every codec but G.723.1 is added for a PCMA caller */
	conf(&rg, "{\"allow_transcoding\":true}");
	sdp(&a, pcma_only);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 PCMU/0 G729/18 G722/9 opus/96");
	/* listed: offered, on its static type */
	conf(&rg, "{\"allow_transcoding\":true,"
		  "\"codecs\":[\"G723\",\"PCMA\"]}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 G723/4");
	sdp(&v, g723_only);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_true(r.transcoding);
	assert_string_equal(r.b.codec, "G723");
	assert_int_equal(r.b.ptime, 30);
}

/* the vendor answers a codec it was offered only for the caller... and
 * one nobody offered */
static void answer_refused(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	sdp(&v, g729_ans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why),
			 ENOTSUP);
	assert_non_null(strstr(why, "no codec"));
}

/* specified X | any: the caller leg uses X; not offered -> 488 */
static void caller_specified(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"PCMU\"}");
	conf(&rg, "{}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.a, o.na, "PCMU/0");
	names(o.b, o.nb, "PCMU/0");
	sdp(&v, pcmu_ans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.a_fmt.name, "PCMU");
	assert_false(r.transcoding);

	conf(&mg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"G729\",\"allow_transcoding\":true}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), EPERM);
	assert_non_null(strstr(why, "specified"));
}

/* any | specified Y: only Y (+ telephone-event) */
static void callee_specified(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a;
	struct sg_cp_offer o;
	const char *why;

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"PCMU\"}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMU/0");
	assert_int_equal(o.b_te_pt, 101);
}

/* X != Y after the above: transcode when both allow, else 488 (the
 * reference scenario of digest 1 T6: PCMA specified <-> G729 specified) */
static void specified_mismatch(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"PCMA\",\"allow_transcoding\":true}");
	conf(&rg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"G729\"}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why),
			 ENOTSUP);
	assert_non_null(strstr(why, "transcoding"));

	rg.allow_transcoding = true;
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.a, o.na, "PCMA/8");
	names(o.b, o.nb, "G729/18");
	assert_string_equal(o.b[0].fmtp, "annexb=no");
	sdp(&v, g729_noteans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_true(r.transcoding);
	assert_string_equal(r.a.codec, "PCMA");
	assert_string_equal(r.b.codec, "G729");
	assert_string_equal(r.b_fmt.name, "G729");
	assert_int_equal(r.b_fmt.pt, 18);
	/* the vendor has no telephone-event: auto send is INFO there */
	assert_int_equal(r.b.te_pt, 0);
	assert_string_equal(r.b.dtmf_send, "info");
	/* the caller keeps its telephone-event: events are regenerated */
	assert_int_equal(r.a_te_pt, 101);
	assert_string_equal(r.a.dtmf_send, "rfc2833");

	/* specified X == Y: no transcoding needed, allowed or not */
	conf(&rg, "{\"codec_mode\":\"specified\",\"specified_codec\":"
		  "\"PCMA\"}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8");
}

/* G.729 variants toward the vendor */
static void g729_modes(void **state)
{
	const char both[] = SDP_HEAD "m=audio 6000 RTP/AVP 18 98\r\n"
				     "a=rtpmap:18 G729/8000\r\n"
				     "a=rtpmap:98 G729A/8000\r\n";
	const char annexb[] = SDP_HEAD "m=audio 6000 RTP/AVP 18\r\n"
				       "a=rtpmap:18 G729/8000\r\n"
				       "a=fmtp:18 annexb=yes\r\n";
	const char onlya[] = SDP_HEAD "m=audio 6000 RTP/AVP 97\r\n"
				      "a=rtpmap:97 G729a/8000\r\n";
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	/* auto mirrors the caller */
	conf(&rg, "{}");
	sdp(&a, onlya);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729a/97");
	sdp(&a, annexb);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729/18");
	assert_string_equal(o.b[0].fmtp, "annexb=yes");
	sdp(&a, both);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729/18 G729A/98");
	/* the caller leg keeps one variant: g729a prefers G729A */
	names(o.a, o.na, "G729/18");
	mg.g729_mode = SW_G729_A;
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.a, o.na, "G729A/98");
	mg.g729_mode = SW_G729_AUTO;

	/* g729: always G729/18 (annexb=no when ours) */
	conf(&rg, "{\"g729_mode\":\"g729\"}");
	sdp(&a, onlya);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729/18");
	assert_string_equal(o.b[0].fmtp, "annexb=no");
	/* and the answer G729 to a G729a caller passes untouched */
	sdp(&v, g729_noteans);
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_false(r.transcoding);
	assert_string_equal(r.a_fmt.name, "G729a");
	assert_int_equal(r.a.pt, 97);
	assert_string_equal(r.a.codec, "G729");

	/* g729a: G729A on a dynamic PT (the caller's when it had one) */
	conf(&rg, "{\"g729_mode\":\"g729a\",\"codec_mode\":\"specified\","
		  "\"specified_codec\":\"G729\",\"allow_transcoding\":true}");
	sdp(&a, pcma_only);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729A/96");
	assert_int_equal(o.b_te_pt, 0); /* caller had none: use_peer */

	/* both */
	conf(&rg, "{\"g729_mode\":\"both\",\"codec_mode\":\"specified\","
		  "\"specified_codec\":\"G729\",\"allow_transcoding\":true,"
		  "\"use_peer_rfc2833\":false}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "G729/18 G729A/96");
	assert_int_equal(o.b_te_pt, 101);
}

/* telephone-event: the gateway's own PT, use_peer_rfc2833, mode 0
 * passthrough, PT clashes */
static void telephone_event(void **state)
{
	const char te96[] = SDP_HEAD "m=audio 6000 RTP/AVP 101 8 96\r\n"
				     "a=rtpmap:101 opus/48000/2\r\n"
				     "a=rtpmap:96 telephone-event/8000\r\n";
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{}");
	conf(&rg, "{\"rfc2833_pt\":100}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_int_equal(o.b_te_pt, 100); /* regenerated with its own */
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, false, &why), 0);
	assert_int_equal(o.b_te_pt, 101); /* mode 0: untouched */

	/* caller without telephone-event: use_peer -> none, else ours */
	sdp(&a, pcma_only);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_int_equal(o.b_te_pt, 0);
	rg.use_peer_rfc2833 = false;
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_int_equal(o.b_te_pt, 100);
	/* a gateway that neither sends nor receives RFC 2833 never gets it */
	conf(&rg, "{\"dtmf_receive\":\"info\",\"dtmf_send\":\"info\","
		  "\"use_peer_rfc2833\":false}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_int_equal(o.b_te_pt, 0);

	/* the caller's opus sits on 101: our telephone-event moves */
	conf(&rg, "{}");
	sdp(&a, te96);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "opus/101 PCMA/8");
	assert_int_not_equal(o.b_te_pt, 101);
	assert_true(o.b_te_pt >= 96);
	/* the answer to the caller keeps the caller's telephone-event PT */
	sdp(&v, pcmu_ans);
	(void)v;
	sdp(&v, SDP_HEAD "m=audio 7000 RTP/AVP 8 97\r\n"
			 "a=rtpmap:97 telephone-event/8000\r\n");
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_int_equal(r.a_te_pt, 96);
	assert_int_equal(r.b.te_pt, 97);
	assert_int_equal(r.b_te_rate, 8000);
}

/* telephone-event at each codec's clock (RFC 4733 2.3.1): /48000 for Opus
 * beside /8000 for the 8 kHz codecs, and each side's plan takes the one
 * of its codec */
static void telephone_event_clocks(void **state)
{
	static const char opus_te48[] =
	    SDP_HEAD "m=audio 6000 RTP/AVP 111 8 110 101\r\n"
		     "a=rtpmap:111 opus/48000/2\r\n"
		     "a=rtpmap:8 PCMA/8000\r\n"
		     "a=rtpmap:110 telephone-event/48000\r\n"
		     "a=rtpmap:101 telephone-event/8000\r\n";
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"allow_transcoding\":true}");
	conf(&rg, "{\"allow_transcoding\":true,"
		  "\"codecs\":[\"PCMA\",\"opus\"]}");
	/* a PCMA caller: the vendor gets both clocks */
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "PCMA/8 opus/96");
	assert_int_equal(o.b_te_pt, 101);
	assert_int_equal(o.b_te_rate, 8000);
	assert_int_equal(o.b_te2_pt, 97);
	assert_int_equal(o.b_te2_rate, 48000);
	/* it answers Opus with its /48000 events: leg b's plan takes those */
	sdp(&v, SDP_HEAD "m=audio 7000 RTP/AVP 96 97\r\n"
			 "a=rtpmap:96 opus/48000/2\r\n"
			 "a=rtpmap:97 telephone-event/48000\r\n");
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.b.codec, "opus");
	assert_int_equal(r.b.te_pt, 97);
	assert_int_equal(r.b_te_rate, 48000);
	assert_int_equal(r.a.te_pt, 101); /* the caller's, at 8000 */
	assert_int_equal(r.a_te_rate, 8000);

	/* a vendor offered only Opus gets /48000 alone */
	conf(&rg, "{\"allow_transcoding\":true,\"codecs\":[\"opus\"]}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	names(o.b, o.nb, "opus/96");
	assert_int_equal(o.b_te_pt, 101);
	assert_int_equal(o.b_te_rate, 48000);
	assert_int_equal(o.b_te2_pt, 0);

	/* an Opus caller with both: its answer's events follow its codec */
	conf(&rg, "{\"allow_transcoding\":true}");
	sdp(&a, opus_te48);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	sdp(&v, SDP_HEAD "m=audio 7000 RTP/AVP 8 101\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n");
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.a.codec, "PCMA"); /* passed end to end */
	assert_int_equal(r.a_te_pt, 101);
	assert_int_equal(r.a_te_rate, 8000);
	conf(&rg, "{\"allow_transcoding\":true,\"codecs\":[\"PCMU\"]}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	sdp(&v, SDP_HEAD "m=audio 7000 RTP/AVP 0 101\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n");
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.a.codec, "opus"); /* transcoded from Opus */
	assert_int_equal(r.a_te_pt, 110);
	assert_int_equal(r.a_te_rate, 48000);
	assert_int_equal(r.a.te_pt, 110);

	/* mode 0: the caller's two lines pass through as they are */
	conf(&rg, "{}");
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, false, &why), 0);
	assert_int_equal(o.b_te_pt, 110);
	assert_int_equal(o.b_te_rate, 48000);
	assert_int_equal(o.b_te2_pt, 101);
	assert_int_equal(o.b_te2_rate, 8000);
}

/* dtmf_send: auto = RFC 2833 if the peer's SDP has telephone-event, else
 * INFO; fixed methods as configured */
static void dtmf_send(void **state)
{
	struct sg_cp_conf c;

	(void)state;
	conf(&c, "{}");
	assert_int_equal(sg_cp_dtmf_send_for(&c, 101), SW_DTMF_RFC2833);
	assert_int_equal(sg_cp_dtmf_send_for(&c, 0), SW_DTMF_INFO);
	conf(&c, "{\"dtmf_send\":\"rfc2833\"}");
	assert_int_equal(sg_cp_dtmf_send_for(&c, 96), SW_DTMF_RFC2833);
	assert_int_equal(sg_cp_dtmf_send_for(&c, 0), SW_DTMF_INFO);
	conf(&c, "{\"dtmf_send\":\"info\"}");
	assert_int_equal(sg_cp_dtmf_send_for(&c, 96), SW_DTMF_INFO);
	conf(&c, "{\"dtmf_send\":\"inband\"}");
	assert_int_equal(sg_cp_dtmf_send_for(&c, 96), SW_DTMF_INBAND);
	assert_string_equal(sw_dtmf_name(SW_DTMF_INBAND), "inband");
}

/* leg plans carry each gateway's receive method */
static void dtmf_plans(void **state)
{
	struct sg_cp_conf mg, rg;
	struct sg_sdp a, v;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	const char *why;

	(void)state;
	conf(&mg, "{\"dtmf_receive\":\"rfc2833\",\"dtmf_send\":\"info\"}");
	conf(&rg, "{\"dtmf_receive\":\"inband\",\"dtmf_send\":\"inband\"}");
	sdp(&a, pcma_te);
	assert_int_equal(sg_cp_make_offer(&o, &a, &mg, &rg, true, &why), 0);
	assert_int_equal(o.b_te_pt, 0); /* rg wants none */
	sdp(&v, SDP_HEAD "m=audio 7000 RTP/AVP 8\r\n");
	assert_int_equal(sg_cp_make_answer(&r, &o, &a, &v, &mg, &rg, &why), 0);
	assert_string_equal(r.a.dtmf_recv, "rfc2833");
	assert_string_equal(r.a.dtmf_send, "info");
	assert_string_equal(r.b.dtmf_recv, "inband");
	assert_string_equal(r.b.dtmf_send, "inband");
	/* the caller's telephone-event is answered (it receives rfc2833)
	 * although the vendor has none */
	assert_int_equal(r.a_te_pt, 101);
	assert_int_equal(r.a.te_pt, 101);
	assert_int_equal(r.a.ptime, 20);
	assert_int_equal(r.b.ptime, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_conf),
	    cmocka_unit_test(auto_auto_common),
	    cmocka_unit_test(auto_auto_no_common),
	    cmocka_unit_test(auto_auto_transcode),
	    cmocka_unit_test(answer_refused),
	    cmocka_unit_test(undecodable_pass_through),
	    cmocka_unit_test(g723_transcoded_where_listed),
	    cmocka_unit_test(telephone_event_clocks),
	    cmocka_unit_test(caller_specified),
	    cmocka_unit_test(callee_specified),
	    cmocka_unit_test(specified_mismatch),
	    cmocka_unit_test(g729_modes),
	    cmocka_unit_test(telephone_event),
	    cmocka_unit_test(dtmf_send),
	    cmocka_unit_test(dtmf_plans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
