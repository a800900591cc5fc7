/* test_sg_sdp.c - signalingd's one SDP reader and writer */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/sdp.h"
#include "tests/unit/test_sg_util.h"

#define SDP_HEAD                                                               \
	"v=0\r\no=u 1 1 IN IP4 10.0.0.5\r\ns=-\r\n"                            \
	"c=IN IP4 10.0.0.5\r\nt=0 0\r\n"

static const char offer[] = SDP_HEAD "m=audio 6000 RTP/AVP 8 0 101\r\n"
				     "a=rtpmap:8 PCMA/8000\r\n"
				     "a=rtpmap:0 PCMU/8000\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n"
				     "a=fmtp:101 0-16\r\n"
				     "a=ptime:30\r\n"
				     "a=sendrecv\r\n";

static void read_offer(void **state)
{
	struct sg_sdp s;
	const char two[] =
	    SDP_HEAD "m=audio 4000 RTP/AVP 96 18 97\r\n"
		     "c=IN IP4 192.0.2.9\r\n"
		     "a=rtpmap:96 opus/48000/2\r\n"
		     "a=fmtp:96 useinbandfec=1; maxplaybackrate=16000\r\n"
		     "a=rtpmap:97 telephone-event/48000\r\n"
		     "a=ptime:40\r\n"
		     "a=sendonly\r\n"
		     "m=video 5000 RTP/AVP 99\r\n"
		     "c=IN IP4 192.0.2.10\r\n"
		     "a=rtpmap:99 H264/90000\r\n"
		     "a=recvonly\r\n";

	(void)state;
	assert_int_equal(sg_sdp_read(&s, offer, strlen(offer)), 0);
	names(s.fmt, s.nfmt, "PCMA/8 PCMU/0");
	assert_int_equal(s.te_pt, 101);
	assert_int_equal(s.te_rate, 8000);
	assert_string_equal(s.ip, "10.0.0.5");
	assert_true(s.ip_literal);
	assert_int_equal(s.port, 6000);
	assert_int_equal(s.ptime, 30);
	assert_string_equal(s.direction, "sendrecv");

	/* the first audio stream's own c=, ptime and direction; the video
	 * stream's lines do not count */
	assert_int_equal(sg_sdp_read(&s, two, strlen(two)), 0);
	names(s.fmt, s.nfmt, "opus/96 G729/18");
	assert_int_equal(s.fmt[0].rate, 48000);
	assert_int_equal(s.fmt[0].channels, 2);
	assert_string_equal(s.fmt[0].fmtp,
			    "useinbandfec=1; maxplaybackrate=16000");
	assert_int_equal(s.te_pt, 97);
	assert_int_equal(s.te_rate, 48000);
	assert_string_equal(s.ip, "192.0.2.9");
	assert_int_equal(s.ptime, 40);
	assert_string_equal(s.direction, "sendonly");

	/* garbage PTs and unknown dynamic PTs without rtpmap are dropped */
	assert_int_equal(
	    sg_sdp_read(&s, LIT(SDP_HEAD "m=audio 1 RTP/AVP x 200 8 96\r\n")),
	    0);
	names(s.fmt, s.nfmt, "PCMA/8");
	assert_int_equal(s.ptime, 0);

	/* a rejected stream, LF line ends, a hostname, IPv6 */
	assert_int_equal(
	    sg_sdp_read(&s, LIT("v=0\no=- 1 1 IN IP4 pbx.example\nc=IN IP4 "
				"pbx.example\nt=0 0\nm=audio 0 RTP/AVP 0\n")),
	    0);
	assert_int_equal(s.port, 0);
	assert_string_equal(s.ip, "pbx.example");
	assert_false(s.ip_literal);
	assert_int_equal(
	    sg_sdp_read(&s, LIT("v=0\r\no=- 1 1 IN IP6 ::1\r\nc=IN "
				"IP6 2001:db8::5\r\nt=0 0\r\n"
				"m=audio 7 RTP/AVP 0\r\n")),
	    0);
	assert_string_equal(s.ip, "2001:db8::5");
	assert_true(s.ip_literal);
}

static void write_address(void **state)
{
	struct sg_sdp_edit e = {.ip = "192.0.2.1", .port = 20000};
	const char in[] = "v=0\r\no=u 1 1 IN IP4 10.0.0.5\r\ns=-\r\n"
			  "c=IN IP4 10.0.0.5\r\nt=0 0\r\n"
			  "m=audio 6000 RTP/AVP 8 101\r\n"
			  "a=rtcp:6001\r\n"
			  "a=rtpmap:8 PCMA/8000\r\n"
			  "m=video 5000 RTP/AVP 99\r\n"
			  "c=IN IP4 10.0.0.6\r\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(sg_sdp_write(&out, in, strlen(in), &e), 0);
	/* o= and every c= point at the node, the audio port too; the
	 * format list and other streams' ports stay, a=rtcp goes */
	assert_string_equal(out, "v=0\r\no=u 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				 "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
				 "m=audio 20000 RTP/AVP 8 101\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "m=video 5000 RTP/AVP 99\r\n"
				 "c=IN IP4 192.0.2.1\r\n");
	free(out);

	/* IPv6, and a rejected stream stays rejected */
	e.ip = "2001:db8::1";
	assert_int_equal(
	    sg_sdp_write(
		&out, LIT("v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio 0 X 0\n"), &e),
	    0);
	assert_string_equal(out, "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\n"
				 "m=audio 0 X 0\r\n");
	free(out);
}

static void write_formats(void **state)
{
	struct sg_sdp_fmt f[2];
	struct sg_sdp s;
	struct sg_sdp_edit e = {
	    .set_formats = true, .fmt = f, .nfmt = 2, .te_pt = 100};
	char *out = NULL;
	const char in[] = SDP_HEAD "m=audio 6000 RTP/AVP 8 0 101\n"
				   "c=IN IP4 10.0.0.6\n"
				   "a=rtpmap:8 PCMA/8000\n"
				   "a=rtpmap:101 telephone-event/8000\n"
				   "a=fmtp:101 0-15\n"
				   "a=rtcp-fb:8 nack\n"
				   "a=ptime:30\n"
				   "a=sendrecv\n"
				   "m=video 5000 RTP/AVP 99\n"
				   "a=rtpmap:99 H264/90000\n";
	static const char pcma_only[] = SDP_HEAD "m=audio 6000 RTP/AVP 8\r\n"
						 "a=rtpmap:8 PCMA/8000\r\n";

	(void)state;
	memset(f, 0, sizeof(f));
	f[0].pt = 18;
	snprintf(f[0].name, sizeof(f[0].name), "G729");
	f[0].rate = 8000;
	snprintf(f[0].fmtp, sizeof(f[0].fmtp), "annexb=no");
	f[1].pt = 96;
	snprintf(f[1].name, sizeof(f[1].name), "opus");
	f[1].rate = 48000;
	f[1].channels = 2;
	assert_int_equal(sg_sdp_write(&out, in, strlen(in), &e), 0);
	assert_string_equal(out,
			    SDP_HEAD "m=audio 6000 RTP/AVP 18 96 100\r\n"
				     "c=IN IP4 10.0.0.6\r\n"
				     "a=rtpmap:18 G729/8000\r\n"
				     "a=fmtp:18 annexb=no\r\n"
				     "a=rtpmap:96 opus/48000/2\r\n"
				     "a=rtpmap:100 telephone-event/8000\r\n"
				     "a=fmtp:100 0-16\r\n"
				     "a=ptime:30\r\n"
				     "a=sendrecv\r\n"
				     "m=video 5000 RTP/AVP 99\r\n"
				     "a=rtpmap:99 H264/90000\r\n");
	/* what we wrote reads back the same */
	assert_int_equal(sg_sdp_read(&s, out, strlen(out)), 0);
	names(s.fmt, s.nfmt, "G729/18 opus/96");
	assert_int_equal(s.te_pt, 100);
	free(out);

	/* two telephone-events, one per clock, read back by clock */
	e.te_rate = 8000;
	e.te2_pt = 97;
	e.te2_rate = 48000;
	assert_int_equal(sg_sdp_write(&out, in, strlen(in), &e), 0);
	assert_non_null(strstr(out, "m=audio 6000 RTP/AVP 18 96 100 97\r\n"));
	assert_non_null(strstr(out, "a=rtpmap:100 telephone-event/8000\r\n"
				    "a=fmtp:100 0-16\r\n"
				    "a=rtpmap:97 telephone-event/48000\r\n"
				    "a=fmtp:97 0-16\r\n"));
	assert_int_equal(sg_sdp_read(&s, out, strlen(out)), 0);
	assert_int_equal(s.te_pt, 100);
	assert_int_equal(s.te8_pt, 100);
	assert_int_equal(s.te48_pt, 97);
	{
		int rate = 0;

		assert_int_equal(sg_sdp_te_at(&s, 48000, &rate), 97);
		assert_int_equal(rate, 48000);
		assert_int_equal(sg_sdp_te_at(&s, 8000, &rate), 100);
		assert_int_equal(rate, 8000);
		assert_int_equal(sg_sdp_te_at(&s, 16000, &rate), 100);
		assert_int_equal(sg_sdp_te_at(NULL, 8000, &rate), 0);
		assert_int_equal(rate, 0);
	}
	free(out);
	e.te2_pt = 0;

	/* no a= line in the audio stream: ours go at its end */
	e.nfmt = 1;
	e.te_pt = 0;
	assert_int_equal(
	    sg_sdp_write(&out, pcma_only, strlen(pcma_only) - 22, &e), 0);
	assert_string_equal(out, SDP_HEAD "m=audio 6000 RTP/AVP 18\r\n"
					  "a=rtpmap:18 G729/8000\r\n"
					  "a=fmtp:18 annexb=no\r\n");
	free(out);
	out = NULL;
	assert_int_equal(sg_sdp_write(&out, SDP_HEAD, strlen(SDP_HEAD), &e),
			 ENOENT);
	assert_null(out);
}

static void bad_sdp(void **state)
{
	struct sg_sdp s;
	char *out = NULL;
	struct sg_sdp_edit e = {.ip = "1.1.1.1", .port = 2};
	static const char video_only[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n"
					 "s=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
					 "m=video 5000 RTP/AVP 96\r\n"
					 "a=rtpmap:96 H264/90000\r\n";
	static const char *const bad[] = {
	    "garbage",
	    "v=0\r\n", /* no o= */
	    "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
	    "s=-\r\nv=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP9 1.2.3.4\r\n"
	    "m=audio 1 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n"
	    "m=audio 1 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4 x\r\n"
	    "m=audio 1 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP\r\n",
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n",
	    /* no c= for the session nor the audio stream */
	    "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
	    "m=video 2 RTP/AVP 99\r\nc=IN IP4 1.2.3.4\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = sg_sdp_read(&s, bad[i], strlen(bad[i]));

		if (err != EBADMSG)
			fail_msg("bad[%zu] read %d", i, err);
	}
	assert_int_equal(sg_sdp_read(&s, "", 0), EBADMSG);
	assert_int_equal(sg_sdp_read(&s, video_only, strlen(video_only)),
			 ENOENT);
	/* a clock rate no audio runs at drops its format, not the rest */
	assert_int_equal(
	    sg_sdp_read(&s, LIT(SDP_HEAD "m=audio 6000 RTP/AVP 96 97 8\r\n"
					 "a=rtpmap:96 PCMA/999999\r\n"
					 "a=rtpmap:97 PCMU/999\r\n")),
	    0);
	assert_int_equal(s.nfmt, 1);
	assert_string_equal(s.fmt[0].name, "PCMA");
	assert_int_equal(
	    sg_sdp_read(&s, LIT(SDP_HEAD "m=audio 6000 RTP/AVP 96\r\n"
					 "a=rtpmap:96 PCMA/999999\r\n")),
	    0);
	assert_int_equal(s.nfmt, 0);
	/* a NUL byte is never SDP */
	assert_int_equal(sg_sdp_read(&s, LIT("v=0\r\no=- 1 1 IN IP4 "
					     "1.2.3.4\r\n\0")),
			 EBADMSG);
	assert_int_equal(sg_sdp_write(&out, LIT("v=0\r\n\0"), &e), EBADMSG);
	assert_null(out);
}

/* inputs that once made sofia's sdp_parse() ask for gigabytes, and bytes
 * no SDP may hold: refused */
static void hostile_sdp(void **state)
{
	struct sg_sdp s;
	static const char *const bad[] = {
	    "v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
	    "t=0 0\r\nm=audio 00R0 6TP/:A 10\r\n",
	    "v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
	    "t=0 0\r\nm=audio 6000 TRP/AVP 8 0 1\xd0\xce\r\n",
	    "v=0\r\ns=x\ry\r\n",
	    "v=0\r\nc01\r\n",
	    "v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\na=x\x01y\r\n",
	};
	static const char utf8_name[] =
	    "v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=Caf\xc3\xa9\r\n"
	    "c=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_sdp_read(&s, bad[i], strlen(bad[i])),
				 EBADMSG);
	assert_int_equal(sg_sdp_read(&s, utf8_name, strlen(utf8_name)), 0);
	names(s.fmt, s.nfmt, "PCMU/0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(read_offer),    cmocka_unit_test(write_address),
	    cmocka_unit_test(write_formats), cmocka_unit_test(bad_sdp),
	    cmocka_unit_test(hostile_sdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
