/*
 * test_mp_dsp.c - decoded-path processing: the echo canceller removes a
 * synthetic 100 ms echo by at least 20 dB with a 128 ms tail (and a 200 ms
 * echo needs the 256 ms tail), voice gain is exact and clipping-safe,
 * resampling keeps a tone, comfort noise has the announced level, and
 * concealment fills a lost frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include "mediaproxy/dsp/cng.h"
#include "mediaproxy/dsp/ec.h"
#include "mediaproxy/dsp/gain.h"
#include "mediaproxy/dsp/plc.h"
#include "mediaproxy/dsp/resample.h"
#include "tests/unit/test_mp_xcode_util.h"

/* a speech-like far-end signal: coloured noise with a syllabic envelope */
static void far_signal(int16_t *x, size_t n, uint32_t seed)
{
	double lp = 0;

	for (size_t i = 0; i < n; i++) {
		double env = 0.55 + 0.45 * sin(2 * M_PI * 3.0 * i / 8000.0);
		double w;

		seed = seed * 1664525u + 1013904223u;
		w = ((double)(seed >> 8) / (1 << 24) - 0.5) * 2;
		lp = 0.6 * lp + 0.4 * w;
		x[i] = (int16_t)lrint(9000.0 * env * lp);
	}
}

/* echo reduction (dB) over the last 3 s of a 10 s run */
static double erle(uint32_t tail_ms, unsigned delay_ms)
{
	enum { N = 80000 };
	static int16_t far[N], near[N], out[N];
	struct mp_dsp_ec *ec = NULL;
	size_t d = 8 * delay_ms;
	double in_e, out_e;

	far_signal(far, N, 1234);
	for (size_t i = 0; i < N; i++)		/* -6 dB echo, 100 ms late */
		near[i] = i >= d ? (int16_t)(far[i - d] / 2) : 0;

	assert_int_equal(mp_dsp_ec_alloc(&ec, 8000, tail_ms), 0);
	assert_int_equal(mp_dsp_ec_frame(ec), 80);
	for (size_t i = 0; i + 80 <= N; i += 80) {
		mp_dsp_ec_playback(ec, far + i);	/* sent to the peer */
		mp_dsp_ec_capture(ec, near + i, out + i);	/* came back */
	}
	mem_deref(ec);

	in_e = tu_rms(near + 56000, 24000);
	out_e = tu_rms(out + 56000, 24000);
	return tu_db(in_e, out_e > 0.5 ? out_e : 0.5);
}

static void echo_100ms_tail_128(void **state)
{
	double r = erle(128, 100);

	(void)state;
	printf("  100 ms echo, tail 128: %.1f dB reduction\n", r);
	assert_true(r >= 20.0);
}

static void echo_200ms_needs_tail_256(void **state)
{
	double r256 = erle(256, 200), r128 = erle(128, 200);

	(void)state;
	printf("  200 ms echo: tail 256 %.1f dB, tail 128 %.1f dB\n", r256,
	       r128);
	assert_true(r256 >= 20.0);
	assert_true(r256 > r128 + 6.0);
}

static void echo_tail_checked(void **state)
{
	struct mp_dsp_ec *ec = NULL;

	(void)state;
	assert_int_equal(mp_dsp_ec_alloc(&ec, 8000, 100), EINVAL);
	assert_int_equal(mp_dsp_ec_alloc(&ec, 11025, 128), EINVAL);
	assert_int_equal(mp_dsp_ec_alloc(&ec, 16000, 64), 0);
	assert_int_equal(mp_dsp_ec_frame(ec), 160);
	mem_deref(ec);
}

static void gain_plus_6db(void **state)
{
	int16_t pcm[8000], ref[8000];
	double phase = 0, db;

	(void)state;
	tu_sine(ref, 8000, 1000, 4000, 8000, &phase);
	memcpy(pcm, ref, sizeof(pcm));
	mp_dsp_gain_apply(pcm, 8000, mp_dsp_gain_q12(6));
	db = tu_db(tu_rms(pcm, 8000), tu_rms(ref, 8000));
	printf("  +6 dB gain: %+.3f dB\n", db);
	assert_true(fabs(db - 6.0) <= 0.5);

	memcpy(pcm, ref, sizeof(pcm));
	mp_dsp_gain_apply(pcm, 8000, mp_dsp_gain_q12(-10));
	db = tu_db(tu_rms(pcm, 8000), tu_rms(ref, 8000));
	assert_true(fabs(db + 10.0) <= 0.5);

	/* 0 dB is the identity */
	memcpy(pcm, ref, sizeof(pcm));
	mp_dsp_gain_apply(pcm, 8000, mp_dsp_gain_q12(0));
	assert_memory_equal(pcm, ref, sizeof(pcm));
}

static void gain_clips_safely(void **state)
{
	int16_t pcm[4] = {30000, -30000, 32767, -32768};

	(void)state;
	/* out of range values are clamped to +-10 dB */
	assert_int_equal(mp_dsp_gain_q12(20), mp_dsp_gain_q12(10));
	assert_int_equal(mp_dsp_gain_q12(-99), mp_dsp_gain_q12(-10));
	mp_dsp_gain_apply(pcm, 4, mp_dsp_gain_q12(10));
	assert_int_equal(pcm[0], 32767);	/* saturated, not wrapped */
	assert_int_equal(pcm[1], -32768);
	assert_int_equal(pcm[2], 32767);
	assert_int_equal(pcm[3], -32768);
}

static void resample_keeps_tone(void **state)
{
	static const uint32_t pairs[][2] = {
		{8000, 48000}, {48000, 8000}, {8000, 16000}, {16000, 8000},
		{16000, 48000},
	};
	static int16_t in[48000], out[48000 * 6];

	(void)state;
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		struct mp_dsp_resampler *rs = NULL;
		uint32_t ri = pairs[p][0], ro = pairs[p][1];
		double phase = 0, f, db;
		size_t total = 0;

		assert_int_equal(mp_dsp_resampler_alloc(&rs, ri, ro,
					MP_DSP_RESAMPLE_QUALITY), 0);
		tu_sine(in, ri, 1000, 8000, ri, &phase);
		for (size_t i = 0; i < ri; i += ri / 50) {
			size_t got = 0;

			assert_int_equal(mp_dsp_resample(rs, out + total,
						sizeof(out) / 2 - total, &got,
						in + i, ri / 50), 0);
			total += got;
		}
		/* one second in, about one second out */
		assert_true(total + ro / 100 >= ro && total <= ro);
		f = tu_freq(out + ro / 10, total - ro / 5, ro);
		db = tu_db(tu_rms(out + ro / 10, total - ro / 5),
			   8000 / sqrt(2.0));
		assert_true(fabs(f - 1000) < 5);
		assert_true(fabs(db) < 0.5);
		mem_deref(rs);
	}
}

static void comfort_noise_level(void **state)
{
	struct mp_dsp_cng *cng = NULL;
	static int16_t pcm[16000];
	const uint8_t cn40[] = {40};
	const uint8_t bad[] = {200};
	double dbov;

	(void)state;
	assert_int_equal(mp_dsp_cng_alloc(&cng, 5), 0);
	assert_int_equal(mp_dsp_cng_level(cng), MP_DSP_CNG_DEFAULT_DBOV);
	assert_int_equal(mp_dsp_cng_rx(cng, cn40, 1), 0);	/* RFC 3389 */
	assert_int_equal(mp_dsp_cng_rx(cng, bad, 1), EBADMSG);
	assert_int_equal(mp_dsp_cng_rx(cng, cn40, 0), EBADMSG);
	mp_dsp_cng_generate(cng, pcm, 16000);
	dbov = tu_db(tu_rms(pcm, 16000), 23170);
	printf("  comfort noise at -40 dBov: %.1f dBov\n", dbov);
	assert_true(fabs(dbov + 40) <= 3.0);
	mem_deref(cng);
}

static void plc_fills_loss(void **state)
{
	struct mp_dsp_plc *plc = NULL;
	int16_t pcm[160];
	double phase = 0;

	(void)state;
	assert_int_equal(mp_dsp_plc_alloc(&plc), 0);
	/* 11 frames leave spandsp's history ring at 80 of 280: the case
	 * where its own rotation would memcpy() overlapping memory */
	for (int i = 0; i < 11; i++) {
		tu_sine(pcm, 160, 500, 8000, 8000, &phase);
		mp_dsp_plc_rx(plc, pcm, 160);
	}
	memset(pcm, 0, sizeof(pcm));
	mp_dsp_plc_fill(plc, pcm, 160);		/* one lost frame */
	/* the gap is filled with signal at about the previous level */
	assert_true(tu_db(tu_rms(pcm, 160), 8000 / sqrt(2.0)) > -6.0);
	assert_true(fabs(tu_freq(pcm, 160, 8000) - 500) < 50);
	mem_deref(plc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(echo_100ms_tail_128),
		cmocka_unit_test(echo_200ms_needs_tail_256),
		cmocka_unit_test(echo_tail_checked),
		cmocka_unit_test(gain_plus_6db),
		cmocka_unit_test(gain_clips_safely),
		cmocka_unit_test(resample_keeps_tone),
		cmocka_unit_test(comfort_noise_level),
		cmocka_unit_test(plc_fills_loss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
