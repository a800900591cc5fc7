/*
 * test_mp_xcode.c - the media engine end to end: transcoding keeps a tone's
 * frequency and level, matching legs are never decoded, DTMF conversions of
 * SPEC 5, and bad input is counted and dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include "mediaproxy/dtmf/inband.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/xcode/rtp.h"
#include "mediaproxy/xcode/xcode.h"
#include "tests/unit/test_mp_xcode_util.h"

struct run {
	struct tu_sink out;
	char digits[64];
	size_t ndigits;
	struct mp_xcode_event ev[64];
};

static void send_h(enum mp_xcode_leg leg, const uint8_t *pkt, size_t len,
		   void *arg)
{
	struct run *r = arg;

	tu_sink_add(&r->out, (int)leg, pkt, len);
}

static void event_h(const struct mp_xcode_event *ev, void *arg)
{
	struct run *r = arg;

	if (r->ndigits < sizeof(r->digits) - 1) {
		r->ev[r->ndigits] = *ev;
		r->digits[r->ndigits++] = ev->digit;
	}
}

static void plan(struct mp_xcode_plan *p, const char *codec, uint8_t pt,
		 uint32_t ptime, const char *fmtp)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->codec, sizeof(p->codec), "%s", codec);
	p->pt = pt;
	p->ptime = ptime;
	snprintf(p->fmtp, sizeof(p->fmtp), "%s", fmtp ? fmtp : "");
	p->dtmf_send = MP_XCODE_DTMF_AUTO;
	p->dtmf_recv = MP_XCODE_DTMF_ALL;
}

/* encode @ms of a 1 kHz tone at @amp as RTP packets of plan @p */
static void make_tone_stream(struct tu_sink *s, const struct mp_xcode_plan *p,
			     unsigned ms, double amp)
{
	struct mp_xc_codec *c = NULL;
	enum mp_xc_codec_id id;
	double phase = 0;
	int16_t pcm[2880];
	uint8_t pl[1400];
	uint32_t ts = 1000;

	assert_int_equal(mp_xc_codec_lookup(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);

	for (unsigned t = 0, seq = 1; t < ms; t += p->ptime, seq++) {
		uint32_t rate = mp_xc_codec_pcm_rate(c);
		size_t n = rate * p->ptime / 1000, len = 0, plen = 0;
		uint8_t pkt[1500];
		struct mp_xc_rtp rtp;

		tu_sine(pcm, n, 1000.0, amp, rate, &phase);
		assert_int_equal(mp_xc_codec_encode(c, pl, sizeof(pl), &len,
						    pcm, n), 0);
		rtp = (struct mp_xc_rtp){.pt = p->pt, .seq = (uint16_t)seq,
			.ts = ts, .ssrc = 0x11223344, .payload = pl,
			.plen = len, .marker = seq == 1};
		assert_int_equal(mp_xc_rtp_encode(pkt, sizeof(pkt), &plen,
						  &rtp), 0);
		tu_sink_add(s, 0, pkt, plen);
		ts += (uint32_t)(n * mp_xc_codec_rtp_rate(c) / rate);
	}
	mem_deref(c);
}

/* feed @in (from leg A, one packet per ptime) and collect leg B's output */
static void engine_run(const struct mp_xcode_plan *a,
		       const struct mp_xcode_plan *b,
		       const struct mp_xcode_conf *conf,
		       const struct tu_sink *in, struct run *r)
{
	struct mp_xcode *xc = NULL;
	int64_t now = 100000;
	size_t i = 0;

	assert_int_equal(mp_xcode_alloc(&xc, a, b, conf, send_h, event_h, r),
			 0);
	for (int64_t t = 0; i < in->n || t < 400; t += 10, now += 10) {
		while (i < in->n && (int64_t)i * a->ptime <= t) {
			mp_xcode_input(xc, MP_XCODE_A, in->pkt[i].data,
				       in->pkt[i].len, now);
			i++;
		}
		mp_xcode_tick(xc, now);
		if (i >= in->n)
			t += 0;
	}
	mem_deref(xc);
}

/* decode every leg-B packet of @r (plan @p) into @pcm; returns samples */
static size_t decode_out(const struct run *r, const struct mp_xcode_plan *p,
			 int16_t *pcm, size_t max)
{
	struct mp_xc_codec *c = NULL;
	enum mp_xc_codec_id id;
	size_t total = 0;

	assert_int_equal(mp_xc_codec_lookup(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);
	for (size_t i = 0; i < r->out.n; i++) {
		struct mp_xc_rtp rtp;
		size_t n = 0;

		if (r->out.pkt[i].leg != MP_XCODE_B)
			continue;
		assert_int_equal(mp_xc_rtp_decode(&rtp, r->out.pkt[i].data,
						  r->out.pkt[i].len), 0);
		if (rtp.pt != p->pt)
			continue;
		assert_int_equal(mp_xc_codec_decode(c, pcm + total,
						    max - total, &n,
						    rtp.payload, rtp.plen), 0);
		total += n;
	}
	mem_deref(c);
	return total;
}

/* a -> mid, then mid -> b, then measure the tone at b */
static void tone_through(const char *ca, uint8_t pta, const char *cm,
			 uint8_t ptm, const char *fm, const char *cb,
			 uint8_t ptb)
{
	static int16_t pcm[48000 * 3];
	struct mp_xcode_plan a, m, m2, b;
	struct tu_sink in = {0};
	struct run r1 = {0}, r2 = {0};
	struct mp_xcode_conf conf;
	const double amp = 8000;
	size_t n;
	double freq, db;

	mp_xcode_conf_default(&conf);
	plan(&a, ca, pta, 20, NULL);
	plan(&m, cm, ptm, 20, fm);
	plan(&m2, cm, ptm, 20, fm);
	plan(&b, cb, ptb, 20, NULL);

	make_tone_stream(&in, &a, 2000, amp);
	engine_run(&a, &m, &conf, &in, &r1);

	/* the middle leg's packets become the input of a second session */
	tu_sink_free(&in);
	for (size_t i = 0; i < r1.out.n; i++)
		if (r1.out.pkt[i].leg == MP_XCODE_B)
			tu_sink_add(&in, 0, r1.out.pkt[i].data,
				    r1.out.pkt[i].len);
	assert_true(in.n >= 95);	/* ~100 packets of 20 ms */
	engine_run(&m2, &b, &conf, &in, &r2);

	n = decode_out(&r2, &b, pcm, sizeof(pcm) / sizeof(pcm[0]));
	assert_true(n >= 8000 * 18 / 10);

	/* steady state: skip the first 300 ms and the last 200 ms */
	freq = tu_freq(pcm + 2400, n - 4000, 8000);
	db = tu_db(tu_rms(pcm + 2400, n - 4000), amp / sqrt(2.0));
	/* no dropouts: every 20 ms block of the steady state has the tone */
	for (size_t i = 2400; i + 160 <= n - 1600; i += 160) {
		double bdb = tu_db(tu_rms(pcm + i, 160), amp / sqrt(2.0));

		if (fabs(bdb) > 3.0)
			fail_msg("block at %zu: %+.2f dB", i, bdb);
	}
	printf("  %s->%s->%s: %.2f Hz, %+.2f dB\n", ca, cm, cb, freq, db);
	assert_true(fabs(freq - 1000.0) <= 20.0);	/* +-2 % */
	assert_true(fabs(db) <= 3.0);			/* +-3 dB */

	tu_sink_free(&in);
	tu_sink_free(&r1.out);
	tu_sink_free(&r2.out);
}

static void tone_pcma_g729_pcma(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "G729", 18, "annexb=no", "PCMA", 8);
}

static void tone_pcmu_opus_pcma(void **state)
{
	(void)state;
	tone_through("PCMU", 0, "opus", 111, "useinbandfec=1", "PCMA", 8);
}

static void tone_pcma_opus8k_pcma(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "opus", 96, "maxplaybackrate=8000", "PCMA", 8);
}

static void tone_pcma_g722_pcmu(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "G722", 9, NULL, "PCMU", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tone_pcma_g729_pcma),
		cmocka_unit_test(tone_pcmu_opus_pcma),
		cmocka_unit_test(tone_pcma_opus8k_pcma),
		cmocka_unit_test(tone_pcma_g722_pcmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
