/*
 * test_mp_codec.c - every codec behind the vtable: tone round trip, payload
 * durations, Opus ptimes 10..60 ms (30/50 ms as joined 10 ms frames) and
 * decoding at another rate, G.729 annex B only when negotiated, malformed
 * payloads refused, fmtp parsing, repacketisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include <opus/opus.h>
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/xcode/repack.h"
#include "tests/unit/test_mp_xcode_util.h"

/* 1 s of 1 kHz through encode/decode in @ptime frames */
static void roundtrip(enum sw_codec id, const char *fmtp, uint32_t ptime,
		      size_t expect_len)
{
	static int16_t in[48000], out[48000];
	struct mp_xc_codec *c = NULL;
	uint8_t pl[1500];
	double phase = 0, f, db;
	uint32_t rate, frame, total = 0;

	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, fmtp), 0);
	rate = mp_xc_codec_pcm_rate(c);
	frame = rate * ptime / 1000;
	tu_sine(in, rate, 1000, 8000, rate, &phase);

	for (uint32_t i = 0; i + frame <= rate; i += frame) {
		size_t len = 0, n = 0;
		uint32_t dur = 0;

		assert_int_equal(
		    mp_xc_codec_encode(c, pl, sizeof(pl), &len, in + i, frame),
		    0);
		if (expect_len)
			assert_int_equal(len, expect_len);
		assert_int_equal(mp_xc_codec_duration(c, &dur, pl, len), 0);
		assert_int_equal(dur, (uint64_t)frame *
					  mp_xc_codec_rtp_rate(c) / rate);
		assert_int_equal(mp_xc_codec_decode(c, out + total,
						    48000 - total, &n, pl, len),
				 0);
		assert_int_equal(n, frame);
		total += (uint32_t)n;
	}
	f = tu_freq(out + rate / 5, total - rate / 5, rate);
	db = tu_db(tu_rms(out + rate / 5, total - rate / 5), 8000 / sqrt(2.0));
	printf("  %s/%u %u ms: %.1f Hz %+.2f dB\n", sw_codec_name(id), rate,
	       ptime, f, db);
	assert_true(fabs(f - 1000) <= 20);
	assert_true(fabs(db) <= 3);
	mem_deref(c);
}

static void pcma_pcmu(void **state)
{
	(void)state;
	roundtrip(SW_CODEC_PCMA, "", 20, 160);
	roundtrip(SW_CODEC_PCMU, "", 10, 80);
	roundtrip(SW_CODEC_PCMA, "", 60, 480);
}

static void g729(void **state)
{
	(void)state;
	roundtrip(SW_CODEC_G729, "annexb=no", 20, 20);
	roundtrip(SW_CODEC_G729, "", 40, 40);
}

static void opus_rates_and_ptimes(void **state)
{
	(void)state;
	roundtrip(SW_CODEC_OPUS, "", 20, 0);
	roundtrip(SW_CODEC_OPUS, "maxplaybackrate=8000", 20, 0);
	roundtrip(SW_CODEC_OPUS, "maxplaybackrate=16000; useinbandfec=1", 60,
		  0);
	roundtrip(SW_CODEC_OPUS, "maxplaybackrate=12000", 10, 0);
	roundtrip(SW_CODEC_OPUS, "", 40, 0);
	roundtrip(SW_CODEC_OPUS, "", 30, 0);
	roundtrip(SW_CODEC_OPUS, "maxplaybackrate=16000", 50, 0);
	roundtrip(SW_CODEC_OPUS, "maxplaybackrate=8000; useinbandfec=1", 30, 0);
}

/* a uniform number in [0, 1) */
static double rnd01(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (*seed >> 8) / 16777216.0;
}

/*
 * Speech-like variety: tones, noise, sweeps, pulse trains and silence in
 * pieces of 30-330 ms at random levels.  At 48 kHz and 32 kbit/s it moves
 * the Opus encoder between hybrid and CELT: about 2 % of groups of three
 * 10 ms frames then hold two modes, which one packet cannot carry.
 */
static void varied(int16_t *x, size_t n, uint32_t rate)
{
	uint32_t seed = 7;
	double ph = 0;

	for (size_t i = 0; i < n;) {
		size_t len = (size_t)(rate * (0.03 + 0.3 * rnd01(&seed)));
		int kind = (int)(rnd01(&seed) * 5);
		double amp = 200 + 12000 * rnd01(&seed);
		double f = 200 + 3000 * rnd01(&seed);

		for (size_t j = 0; j < len && i < n; j++, i++) {
			double v;

			switch (kind) {

			case 0:
				v = amp * sin(ph);
				ph += 2 * M_PI * f / rate;
				break;
			case 1:
				v = amp * (rnd01(&seed) - 0.5) * 2;
				break;
			case 2:
				v = 0;
				break;
			case 3:
				v = amp * sin(ph) +
				    amp * 0.3 * (rnd01(&seed) - 0.5);
				ph += 2 * M_PI * (f + 2000.0 * j / len) / rate;
				break;
			default:
				/* a 150 Hz train of decaying pulses */
				v = amp * 0.5 *
				    ((j / (rate / 150)) % 2 ? 1 : -1) *
				    exp(-(double)(j % (rate / 150)) /
					(rate / 1000.0));
				break;
			}
			x[i] = (int16_t)v;
		}
	}
}

/* 20 s of varied sound at @ptime: one packet of exactly @ptime each */
static void opus_ptime_exact(const char *fmtp, uint32_t ptime,
			     unsigned min_switches)
{
	static int16_t in[48000 * 20], out[2880];
	struct mp_xc_codec *c = NULL, *d8 = NULL;
	unsigned switches = 0, frames = ptime / 10;
	uint8_t pl[1500], prev_config = 0xff;
	uint32_t rate, n;

	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_OPUS, 0, fmtp), 0);
	assert_int_equal(mp_xc_codec_alloc(&d8, SW_CODEC_OPUS, 0, fmtp), 0);
	assert_int_equal(mp_xc_codec_set_dec_rate(d8, 8000), 0);
	assert_true(mp_xc_codec_ptime_ok(c, ptime));
	assert_int_equal(mp_xc_codec_ptime(c, ptime), ptime);
	rate = mp_xc_codec_pcm_rate(c);
	n = rate * ptime / 1000;
	varied(in, rate * 20, rate);

	for (uint32_t i = 0; i + n <= rate * 20; i += n) {
		size_t len = 0, m = 0;
		uint32_t dur = 0;

		assert_int_equal(
		    mp_xc_codec_encode(c, pl, sizeof(pl), &len, in + i, n), 0);
		assert_true(len > 0);
		/* one packet holding the whole ptime, in 10 ms frames for
		 * 30/50 ms (equal-duration frames, RFC 6716 code 3) */
		assert_int_equal(
		    opus_packet_get_nb_samples(pl, (opus_int32)len, 48000),
		    48 * ptime);
		if (ptime == 30 || ptime == 50)
			assert_int_equal(
			    opus_packet_get_nb_frames(pl, (opus_int32)len),
			    frames);
		assert_int_equal(mp_xc_codec_duration(c, &dur, pl, len), 0);
		assert_int_equal(dur, 48 * ptime);
		assert_int_equal(mp_xc_codec_decode(c, out, 2880, &m, pl, len),
				 0);
		assert_int_equal(m, n);
		assert_int_equal(mp_xc_codec_decode(d8, out, 2880, &m, pl, len),
				 0);
		assert_int_equal(m, 8 * ptime);
		if (prev_config != 0xff && (pl[0] >> 3) != prev_config)
			switches++;
		prev_config = pl[0] >> 3;
	}
	printf("  opus/%u \"%s\" %u ms: %u mode/bandwidth switches, all "
	       "between packets\n",
	       rate, fmtp, ptime, switches);
	assert_true(switches >= min_switches);
	mem_deref(c);
	mem_deref(d8);
}

static void opus_ptime_30_50_one_packet(void **state)
{
	(void)state;
	opus_ptime_exact("maxaveragebitrate=32000", 30, 10);
	opus_ptime_exact("maxaveragebitrate=32000", 50, 10);
	opus_ptime_exact("maxaveragebitrate=32000; useinbandfec=1", 30, 0);
	opus_ptime_exact("", 50, 0);
	opus_ptime_exact("maxplaybackrate=16000", 30, 0);
	opus_ptime_exact("maxplaybackrate=8000", 50, 0);
	opus_ptime_exact("", 10, 0);
	opus_ptime_exact("maxaveragebitrate=32000", 60, 0);
}

static void decode_rate(void **state)
{
	struct mp_xc_codec *c = NULL;
	int16_t in[960], out[960];
	uint8_t pl[1500];
	double phase = 0;
	size_t len, n;

	(void)state;
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_PCMA, 0, ""), 0);
	assert_int_equal(mp_xc_codec_dec_rate(c), 8000);
	assert_int_equal(mp_xc_codec_set_dec_rate(c, 8000), 0);
	assert_int_equal(mp_xc_codec_set_dec_rate(c, 16000), ENOTSUP);
	mem_deref(c);

	/* Opus at 48 kHz decoded to 16 kHz: a third of the samples */
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_OPUS, 0, ""), 0);
	assert_int_equal(mp_xc_codec_set_dec_rate(c, 11025), ENOTSUP);
	assert_int_equal(mp_xc_codec_set_dec_rate(c, 16000), 0);
	assert_int_equal(mp_xc_codec_pcm_rate(c), 48000);
	assert_int_equal(mp_xc_codec_dec_rate(c), 16000);
	tu_sine(in, 960, 1000, 8000, 48000, &phase);
	assert_int_equal(mp_xc_codec_encode(c, pl, sizeof(pl), &len, in, 960),
			 0);
	assert_int_equal(mp_xc_codec_decode(c, out, 960, &n, pl, len), 0);
	assert_int_equal(n, 320);
	assert_int_equal(mp_xc_codec_conceal(c, out, 320, NULL, 0), 0);
	mem_deref(c);
}

static void g722(void **state)
{
	(void)state;
	roundtrip(SW_CODEC_G722, "", 20, 160);
}

/* G.723.1 (libavcodec): 6.3 kbit/s frames of 24 bytes, one or two a packet */
static void g723(void **state)
{
	(void)state;
	roundtrip(SW_CODEC_G723, "", 30, 24);
	roundtrip(SW_CODEC_G723, "", 60, 48);
}

/* every frame kind G.723.1 receivers must take, and lengths none has */
static void g723_frames_understood(void **state)
{
	struct mp_xc_codec *c = NULL;
	int16_t pcm[960];
	uint8_t pl[49] = {0};
	uint32_t dur;
	size_t n;

	(void)state;
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_G723, 0, ""), 0);
	/* 6.3 kbit/s (24 bytes), 5.3 kbit/s (20), SID (4), untransmitted (1) */
	pl[24] = 1;
	pl[44] = 2;
	pl[48] = 3;
	assert_int_equal(mp_xc_codec_duration(c, &dur, pl, 49), 0);
	assert_int_equal(dur, 960);
	assert_int_equal(mp_xc_codec_decode(c, pcm, 960, &n, pl, 49), 0);
	assert_int_equal(n, 960);
	/* a 5.3 kbit/s frame alone */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 960, &n, pl + 24, 20), 0);
	assert_int_equal(n, 240);
	/* a frame cut short, an empty payload */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 960, &n, pl, 23), EBADMSG);
	assert_int_equal(mp_xc_codec_duration(c, &dur, pl, 30), EBADMSG);
	assert_int_equal(mp_xc_codec_decode(c, pcm, 960, &n, pl, 0), EBADMSG);
	/* more frames than fit */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 300, &n, pl, 48), EMSGSIZE);
	/* only whole frames are encoded */
	assert_int_equal(
	    mp_xc_codec_encode(c, (uint8_t *)pcm, 100, &n, pcm, 160), EINVAL);
	assert_int_equal(mp_xc_codec_conceal(c, pcm, 240, NULL, 0), 0);
	assert_false(mp_xc_codec_ptime_ok(c, 20));
	assert_true(mp_xc_codec_ptime_ok(c, 60));
	assert_int_equal(mp_xc_codec_ptime(c, 20), 30);
	mem_deref(c);
}

static void g729_annexb_only_when_negotiated(void **state)
{
	struct mp_xc_codec *vad = NULL, *novad = NULL;
	int16_t silence[160] = {0};
	uint8_t pl[64];
	size_t len, short_pkts = 0;

	(void)state;
	assert_int_equal(
	    mp_xc_codec_alloc(&vad, SW_CODEC_G729, 8000, "annexb=yes"), 0);
	assert_int_equal(
	    mp_xc_codec_alloc(&novad, SW_CODEC_G729, 8000, "annexb=no"), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(
		    mp_xc_codec_encode(vad, pl, sizeof(pl), &len, silence, 160),
		    0);
		if (len < 20)
			short_pkts++; /* SID (2 bytes) or nothing */
		assert_int_equal(mp_xc_codec_encode(novad, pl, sizeof(pl), &len,
						    silence, 160),
				 0);
		assert_int_equal(len, 20);
	}
	assert_true(short_pkts > 40);
	mem_deref(vad);
	mem_deref(novad);
}

static void g729_sid_understood(void **state)
{
	struct mp_xc_codec *c = NULL;
	int16_t pcm[240];
	uint8_t pl[22] = {0};
	uint32_t dur;
	size_t n;

	(void)state;
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_G729, 0, ""), 0);
	/* two speech frames + a SID frame: 3 x 80 samples */
	assert_int_equal(mp_xc_codec_duration(c, &dur, pl, 22), 0);
	assert_int_equal(dur, 240);
	assert_int_equal(mp_xc_codec_decode(c, pcm, 240, &n, pl, 22), 0);
	assert_int_equal(n, 240);
	/* a SID-only packet */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 240, &n, pl, 2), 0);
	assert_int_equal(n, 80);
	/* lengths no frame has */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 240, &n, pl, 7), EBADMSG);
	assert_int_equal(mp_xc_codec_duration(c, &dur, pl, 13), EBADMSG);
	/* more frames than fit */
	assert_int_equal(mp_xc_codec_decode(c, pcm, 100, &n, pl, 20), EMSGSIZE);
	/* concealment keeps the timeline */
	assert_int_equal(mp_xc_codec_conceal(c, pcm, 160, NULL, 0), 0);
	mem_deref(c);
}

static void opus_malformed_and_fec(void **state)
{
	struct mp_xc_codec *c = NULL;
	int16_t pcm[5760], in[960];
	uint8_t pl[1500], junk[3] = {0xff, 0xff, 0xff};
	double phase = 0;
	uint32_t dur;
	size_t len, n;

	(void)state;
	assert_int_equal(
	    mp_xc_codec_alloc(&c, SW_CODEC_OPUS, 48000, "useinbandfec=1"), 0);
	assert_int_equal(mp_xc_codec_decode(c, pcm, 5760, &n, junk, 0),
			 EBADMSG);
	assert_int_equal(mp_xc_codec_duration(c, &dur, junk, 3), EBADMSG);
	assert_int_equal(mp_xc_codec_decode(c, pcm, 5760, &n, junk, 3),
			 EBADMSG);
	tu_sine(in, 960, 1000, 8000, 48000, &phase);
	assert_int_equal(mp_xc_codec_encode(c, pl, sizeof(pl), &len, in, 960),
			 0);
	/* a lost packet rebuilt from the next one's FEC, or concealed */
	assert_int_equal(mp_xc_codec_conceal(c, pcm, 960, pl, len), 0);
	assert_int_equal(mp_xc_codec_conceal(c, pcm, 960, NULL, 0), 0);
	/* Opus runs at 48 kHz RTP clock only */
	mem_deref(c);
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_OPUS, 16000, ""),
			 ENOTSUP);
}

static void lookup_and_fmtp(void **state)
{
	enum sw_codec id;
	struct mp_xc_codec *c = NULL;

	(void)state;
	/* names: test_common_media.c; a name reaches the codec it means */
	assert_int_equal(sw_codec_parse(&id, "g729a"), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, ""), 0);
	assert_int_equal(mp_xc_codec_id(c), SW_CODEC_G729);
	assert_int_equal(mp_xc_codec_pcm_rate(c), 8000);
	c = mem_deref(c);
	assert_int_equal(mp_xc_fmtp_int("maxplaybackrate=16000;useinbandfec=1",
					"useinbandfec"),
			 1);
	assert_int_equal(
	    mp_xc_fmtp_int("a=1; maxplaybackrate=24000", "maxplaybackrate"),
	    24000);
	assert_int_equal(mp_xc_fmtp_int("annexb=no", "annexb"), 0);
	assert_int_equal(mp_xc_fmtp_int("annexb=yes", "annexb"), 1);
	assert_int_equal(mp_xc_fmtp_int("xannexb=yes", "annexb"), -1);
	assert_int_equal(mp_xc_fmtp_int("", "annexb"), -1);
	assert_int_equal(mp_xc_fmtp_int("annexb=", "annexb"), -1);
	assert_int_equal(
	    mp_xc_codec_alloc(&c, SW_CODEC_OPUS, 0, "maxplaybackrate=10000"),
	    0);
	assert_int_equal(mp_xc_codec_pcm_rate(c), 12000);
	assert_true(mp_xc_codec_ptime_ok(c, 40));
	assert_true(mp_xc_codec_ptime_ok(c, 30)); /* 3 x 10 ms */
	assert_false(mp_xc_codec_ptime_ok(c, 25));
	assert_int_equal(mp_xc_codec_ptime(c, 30), 30);
	assert_int_equal(mp_xc_codec_ptime(c, 50), 50);
	assert_int_equal(mp_xc_codec_ptime(c, 60), 60);
	mem_deref(c);
}

static void repack_between_ptimes(void **state)
{
	static struct mp_xc_repack rp;
	int16_t in[240], out[480];
	size_t frames = 0;

	(void)state;
	/* 30 ms in, 20 ms out: 2 frames per 40 ms... 240 samples per push */
	assert_int_equal(mp_xc_repack_init(&rp, 8000, 20), 0);
	for (int i = 0; i < 240; i++)
		in[i] = (int16_t)i;
	for (int k = 0; k < 4; k++) {
		mp_xc_repack_push(&rp, in, 240);
		while (mp_xc_repack_pop(&rp, out))
			frames++;
	}
	assert_int_equal(frames, 6); /* 120 ms = 6 x 20 ms */
	assert_int_equal(mp_xc_repack_level(&rp), 0);

	/* 10 ms in, 60 ms out at 48 kHz */
	assert_int_equal(mp_xc_repack_init(&rp, 48000, 60), 0);
	for (int k = 0; k < 5; k++)
		mp_xc_repack_push(&rp, in, 240); /* 5 ms each */
	assert_false(mp_xc_repack_pop(&rp, out));
	assert_int_equal(mp_xc_repack_init(&rp, 8000, 5), EINVAL);
	assert_int_equal(mp_xc_repack_init(&rp, 8000, 61), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pcma_pcmu),
	    cmocka_unit_test(g729),
	    cmocka_unit_test(opus_rates_and_ptimes),
	    cmocka_unit_test(opus_ptime_30_50_one_packet),
	    cmocka_unit_test(decode_rate),
	    cmocka_unit_test(g722),
	    cmocka_unit_test(g723),
	    cmocka_unit_test(g723_frames_understood),
	    cmocka_unit_test(g729_annexb_only_when_negotiated),
	    cmocka_unit_test(g729_sid_understood),
	    cmocka_unit_test(opus_malformed_and_fec),
	    cmocka_unit_test(lookup_and_fmtp),
	    cmocka_unit_test(repack_between_ptimes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
