/* test_sg_sdp.c - media plan extraction and SDP address rewriting */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "signaling/sdp.h"

static const char offer[] =
	"v=0\r\n"
	"o=user1 53655765 2353687637 IN IP4 10.0.0.5\r\n"
	"s=-\r\n"
	"c=IN IP4 10.0.0.5\r\n"
	"t=0 0\r\n"
	"m=audio 6000 RTP/AVP 8 0 101\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=ptime:30\r\n"
	"a=sendrecv\r\n";

static void inspect_offer(void **state)
{
	struct sg_sdp_media m;

	(void)state;
	assert_int_equal(sg_sdp_inspect(&m, offer, strlen(offer)), 0);
	assert_string_equal(m.ip, "10.0.0.5");
	assert_int_equal(m.port, 6000);
	assert_string_equal(m.codec, "PCMA");
	assert_int_equal(m.pt, 8);
	assert_int_equal(m.rate, 8000);
	assert_int_equal(m.ptime, 30);
	assert_int_equal(m.te_pt, 101);
	assert_string_equal(m.direction, "sendrecv");
}

static void rewrite_offer(void **state)
{
	struct sg_sdp_media m;
	char *out = NULL;

	(void)state;
	assert_int_equal(sg_sdp_rewrite(&out, offer, strlen(offer),
					"192.0.2.1", 20000),
			 0);
	assert_non_null(out);
	assert_null(strstr(out, "10.0.0.5"));
	assert_non_null(strstr(out, "c=IN IP4 192.0.2.1"));
	assert_non_null(strstr(out, "m=audio 20000 RTP/AVP 8 0 101"));
	assert_non_null(strstr(out, "telephone-event/8000"));
	assert_int_equal(sg_sdp_inspect(&m, out, strlen(out)), 0);
	assert_int_equal(m.port, 20000);
	assert_string_equal(m.codec, "PCMA");
	free(out);
}

static void bad_sdp(void **state)
{
	struct sg_sdp_media m;
	char *out = NULL;
	static const char video_only[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n"
					 "s=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
					 "m=video 5000 RTP/AVP 96\r\n"
					 "a=rtpmap:96 H264/90000\r\n";

	(void)state;
	assert_int_not_equal(sg_sdp_inspect(&m, "garbage", 7), 0);
	assert_int_not_equal(sg_sdp_inspect(&m, "", 0), 0);
	assert_int_not_equal(sg_sdp_rewrite(&out, "v=x\r\n", 5, "1.1.1.1", 2),
			     0);
	assert_null(out);
	assert_int_equal(sg_sdp_inspect(&m, video_only, strlen(video_only)),
			 ENOENT);
}

/* inputs that made sofia's sdp_parse() ask for gigabytes are refused
 * before they reach it */
static void hostile_sdp(void **state)
{
	struct sg_sdp_media m;
	static const char *const bad[] = {
		"v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
		"t=0 0\r\nm=audio 00R0 6TP/:A 10\r\n",
		"v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
		"t=0 0\r\nm=audio 6000 TRP/AVP 8 0 1\xd0\xce\r\n",
		"v=0\r\ns=x\ry\r\n",
		"v=0\r\nc01\r\n",
	};
	static const char utf8_name[] =
		"v=0\r\no=u 1 1 IN IP4 1.2.3.4\r\ns=Caf\xc3\xa9\r\n"
		"c=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_sdp_inspect(&m, bad[i], strlen(bad[i])),
				 EBADMSG);
	assert_int_equal(sg_sdp_inspect(&m, utf8_name, strlen(utf8_name)), 0);
	assert_string_equal(m.codec, "PCMU");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inspect_offer),
		cmocka_unit_test(rewrite_offer),
		cmocka_unit_test(bad_sdp),
		cmocka_unit_test(hostile_sdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
