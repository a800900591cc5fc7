/*
 * test_mp_dtmf.c - DTMF: all 16 digits survive G.711 and G.729 round trips
 * through spandsp detection, and RFC 4733 event generation and reception
 * follow the rules (marker, 50 ms updates, three end packets, fixed
 * timestamp, retransmitted ends, one digit per event).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include <spandsp.h>
#include "mediaproxy/dtmf/inband.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/xcode/codec.h"
#include "tests/unit/test_mp_xcode_util.h"

static const char all_digits[] = "0123456789*#ABCD";

struct det_log {
	char got[64];
	size_t n;
	unsigned ends;
};

static void det_h(char digit, void *arg);

/* the detector refuses to run when librem's goertzel shadows spandsp's */
static void det_alloc(struct mp_dtmf_det **det, uint32_t rate,
		      struct det_log *log)
{
	int err = mp_dtmf_det_alloc(det, rate, det_h, log);

	if (err == ELIBBAD)
		fail_msg("librem's goertzel_* shadow spandsp's: link "
			 "-lspandsp before -lrem (or drop -lrem)");
	assert_int_equal(err, 0);
}

static void det_h(char digit, void *arg)
{
	struct det_log *log = arg;

	if (!digit) {
		log->ends++;
		return;
	}
	if (log->n < sizeof(log->got) - 1)
		log->got[log->n++] = digit;
}

/* tones for all 16 digits pass through @chain codecs, then the detector */
static void digits_through(const enum sw_codec *chain, size_t nchain)
{
	struct mp_xc_codec *c[4] = {NULL};
	struct mp_dtmf_gen *gen = NULL;
	struct mp_dtmf_det *det = NULL;
	struct det_log log = {0};
	int16_t pcm[160];
	uint8_t pl[200];

	assert_int_equal(mp_dtmf_gen_alloc(&gen, 8000), 0);
	det_alloc(&det, 8000, &log);
	for (size_t i = 0; i < nchain; i++)
		assert_int_equal(mp_xc_codec_alloc(&c[i], chain[i], 0, ""), 0);

	for (size_t i = 0; i < 16; i++)
		assert_int_equal(mp_dtmf_gen_put(gen, all_digits[i], 80), 0);

	/* 16 x (80 + 50) ms = 2.1 s; run 2.5 s in 20 ms frames */
	for (int f = 0; f < 125; f++) {
		memset(pcm, 0, sizeof(pcm));
		mp_dtmf_gen_mix(gen, pcm, 160);
		for (size_t i = 0; i < nchain; i++) {
			size_t len = 0, n = 0;

			assert_int_equal(mp_xc_codec_encode(c[i], pl,
							    sizeof(pl), &len,
							    pcm, 160),
					 0);
			assert_int_equal(
			    mp_xc_codec_decode(c[i], pcm, 160, &n, pl, len), 0);
			assert_int_equal(n, 160);
		}
		mp_dtmf_det_process(det, pcm, 160);
	}

	log.got[log.n] = 0;
	printf("  detected \"%s\", %u ends\n", log.got, log.ends);
	assert_string_equal(log.got, all_digits);
	assert_int_equal(log.ends, 16);

	for (size_t i = 0; i < nchain; i++)
		mem_deref(c[i]);
	mem_deref(gen);
	mem_deref(det);
}

static void all_digits_pcma(void **state)
{
	const enum sw_codec chain[] = {SW_CODEC_PCMA};

	(void)state;
	digits_through(chain, 1);
}

static void all_digits_pcmu(void **state)
{
	const enum sw_codec chain[] = {SW_CODEC_PCMU};

	(void)state;
	digits_through(chain, 1);
}

static void all_digits_g729(void **state)
{
	/* PCMA -> G.729 -> PCMA, as a transcoded call carries them */
	const enum sw_codec chain[] = {SW_CODEC_PCMA, SW_CODEC_G729,
				       SW_CODEC_PCMA};

	(void)state;
	digits_through(chain, 3);
}

static void all_digits_16k(void **state)
{
	/* generator and detector at 16 kHz (G.722 legs) resample to 8 kHz */
	struct mp_dtmf_gen *gen = NULL;
	struct mp_dtmf_det *det = NULL;
	struct mp_xc_codec *c = NULL;
	struct det_log log = {0};
	int16_t pcm[320];
	uint8_t pl[200];

	(void)state;
	assert_int_equal(mp_dtmf_gen_alloc(&gen, 16000), 0);
	det_alloc(&det, 16000, &log);
	assert_int_equal(mp_xc_codec_alloc(&c, SW_CODEC_G722, 0, ""), 0);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(mp_dtmf_gen_put(gen, all_digits[i], 80), 0);
	for (int f = 0; f < 125; f++) {
		size_t len = 0, n = 0;

		memset(pcm, 0, sizeof(pcm));
		mp_dtmf_gen_mix(gen, pcm, 320);
		assert_int_equal(
		    mp_xc_codec_encode(c, pl, sizeof(pl), &len, pcm, 320), 0);
		assert_int_equal(mp_xc_codec_decode(c, pcm, 320, &n, pl, len),
				 0);
		mp_dtmf_det_process(det, pcm, n);
	}
	log.got[log.n] = 0;
	assert_string_equal(log.got, all_digits);
	mem_deref(c);
	mem_deref(gen);
	mem_deref(det);
}

/* ---- RFC 4733 generation ---- */

static void rfc4733_generate(void **state)
{
	struct mp_dtmf_tx tx;
	struct mp_dtmf_tx_pkt pkt[8], all[64];
	int64_t when[64];
	size_t n = 0;
	const int64_t t0 = 5000;

	(void)state;
	mp_dtmf_tx_init(&tx, 8000);
	assert_int_equal(mp_dtmf_tx_put(&tx, '#', 230), 0);

	for (int64_t t = t0; t < t0 + 600; t += 10) {
		unsigned k =
		    mp_dtmf_tx_poll(&tx, t, 777000 + (uint32_t)t, pkt, 8);

		for (unsigned i = 0; i < k; i++) {
			when[n] = t;
			all[n++] = pkt[i];
		}
	}

	/* start + updates at 50, 100, 150, 200 ms + three ends at 230 ms */
	assert_int_equal(n, 1 + 4 + 3);
	for (size_t i = 0; i < n; i++) {
		struct mp_dtmf_ev ev;

		assert_int_equal(mp_dtmf_ev_decode(&ev, all[i].pl, 4), 0);
		assert_int_equal(ev.event, 11);			    /* '#' */
		assert_int_equal(all[i].ts, 777000 + (uint32_t)t0); /* fixed */
		assert_int_equal(all[i].marker, i == 0); /* marker once */
		if (i < 5) {
			assert_false(ev.end);
			assert_int_equal(ev.duration, i * 400); /* 50 ms */
			assert_int_equal(when[i], t0 + (int64_t)i * 50);
		} else {
			assert_true(ev.end);
			assert_int_equal(ev.duration, 230 * 8);
			assert_int_equal(when[i], t0 + 230);
		}
	}
	assert_false(mp_dtmf_tx_busy(&tx));
}

static void rfc4733_generate_all_events(void **state)
{
	struct mp_dtmf_tx tx;
	struct mp_dtmf_tx_pkt pkt[8];
	int seen[17] = {0};
	uint32_t last_ts = 0;
	int64_t t = 0;

	(void)state;
	mp_dtmf_tx_init(&tx, 8000);
	for (int e = 0; e <= 16; e++)
		assert_int_equal(
		    mp_dtmf_tx_put(&tx, mp_dtmf_event_char(e), 100), 0);
	for (; t < 17 * 200 && mp_dtmf_tx_busy(&tx); t += 10) {
		unsigned k = mp_dtmf_tx_poll(&tx, t, (uint32_t)t * 8, pkt, 8);

		for (unsigned i = 0; i < k; i++) {
			struct mp_dtmf_ev ev;

			assert_int_equal(mp_dtmf_ev_decode(&ev, pkt[i].pl, 4),
					 0);
			if (pkt[i].marker) {
				/* a new event gets a new timestamp */
				assert_true(pkt[i].ts != last_ts || !t);
				last_ts = pkt[i].ts;
			}
			if (ev.end)
				seen[ev.event]++;
		}
	}
	for (int e = 0; e <= 16; e++)
		assert_int_equal(seen[e], 3); /* three end packets each */
	assert_int_equal(mp_dtmf_tx_put(&tx, 'x', 100), EINVAL);
}

static void rfc4733_open_duration(void **state)
{
	/* a digit of unknown length (converted from inband / RFC 2833) */
	struct mp_dtmf_tx tx;
	struct mp_dtmf_tx_pkt pkt[8];
	unsigned ends = 0, k;

	(void)state;
	mp_dtmf_tx_init(&tx, 8000);
	assert_int_equal(mp_dtmf_tx_put(&tx, '1', 0), 0);
	for (int64_t t = 0; t <= 120; t += 10)
		(void)mp_dtmf_tx_poll(&tx, t, 0, pkt, 8);
	mp_dtmf_tx_end(&tx, '1', 130);
	k = mp_dtmf_tx_poll(&tx, 130, 0, pkt, 8);
	for (unsigned i = 0; i < k; i++) {
		struct mp_dtmf_ev ev;

		assert_int_equal(mp_dtmf_ev_decode(&ev, pkt[i].pl, 4), 0);
		ends += ev.end;
		assert_int_equal(ev.duration, 130 * 8);
	}
	assert_int_equal(ends, 3);
}

/* ---- RFC 4733 reception ---- */

static void ev_pl(uint8_t pl[4], int event, bool end, uint16_t dur)
{
	struct mp_dtmf_ev ev = {
	    .event = (uint8_t)event, .end = end, .volume = 10, .duration = dur};

	mp_dtmf_ev_encode(pl, &ev);
}

static unsigned rx(struct mp_dtmf_rx *r, uint32_t ts, int event, bool end,
		   uint16_t dur, struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES])
{
	uint8_t pl[4];
	unsigned n = 0;

	ev_pl(pl, event, end, dur);
	assert_int_equal(mp_dtmf_rx_input(r, ts, pl, 4, 0, note, &n), 0);
	return n;
}

static void rfc4733_receive(void **state)
{
	struct mp_dtmf_rx r;
	struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES];
	uint8_t bad[4];
	unsigned n;

	(void)state;
	mp_dtmf_rx_init(&r);

	/* start, updates, end, two retransmitted ends: one digit */
	n = rx(&r, 1000, 5, false, 0, note);
	assert_int_equal(n, 1);
	assert_int_equal(note[0].what, MP_DTMF_RX_START);
	assert_int_equal(note[0].digit, '5');
	assert_int_equal(rx(&r, 1000, 5, false, 400, note), 0);
	assert_int_equal(rx(&r, 1000, 5, false, 800, note), 0);
	n = rx(&r, 1000, 5, true, 960, note);
	assert_int_equal(n, 1);
	assert_int_equal(note[0].what, MP_DTMF_RX_END);
	assert_int_equal(note[0].duration, 960);
	assert_int_equal(rx(&r, 1000, 5, true, 960, note), 0);
	assert_int_equal(rx(&r, 1000, 5, true, 960, note), 0);

	/* the same key again is a new event: new timestamp */
	n = rx(&r, 3000, 5, false, 0, note);
	assert_int_equal(n, 1);
	assert_int_equal(note[0].what, MP_DTMF_RX_START);

	/* its end packets were lost: the next event ends it first */
	n = rx(&r, 5000, 11, false, 160, note);
	assert_int_equal(n, 2);
	assert_int_equal(note[0].what, MP_DTMF_RX_END);
	assert_int_equal(note[0].digit, '5');
	assert_int_equal(note[1].what, MP_DTMF_RX_START);
	assert_int_equal(note[1].digit, '#');

	/* a late packet of an older event is ignored */
	assert_int_equal(rx(&r, 3000, 5, true, 800, note), 0);

	/* no end at all: timed out after 1 s */
	assert_false(mp_dtmf_rx_poll(&r, 500, &note[0]));
	assert_true(mp_dtmf_rx_poll(&r, 1000, &note[0]));
	assert_int_equal(note[0].digit, '#');

	/* only the end packet arrived: start and end at once */
	n = rx(&r, 9000, 0, true, 800, note);
	assert_int_equal(n, 2);
	assert_int_equal(note[0].what, MP_DTMF_RX_START);
	assert_int_equal(note[1].what, MP_DTMF_RX_END);

	/* a digit whose end was lost, then a new one that is only its end
	 * packet: three notes (fuzz_rtp found the third written past a
	 * two-note array) */
	n = rx(&r, 11000, 1, false, 160, note);
	assert_int_equal(n, 1);
	n = rx(&r, 13000, 2, true, 800, note);
	assert_int_equal(n, 3);
	assert_int_equal(note[0].what, MP_DTMF_RX_END);
	assert_int_equal(note[0].digit, '1');
	assert_int_equal(note[1].what, MP_DTMF_RX_START);
	assert_int_equal(note[1].digit, '2');
	assert_int_equal(note[2].what, MP_DTMF_RX_END);
	assert_int_equal(note[2].digit, '2');

	/* malformed: short, odd length, unsupported event */
	ev_pl(bad, 5, false, 0);
	assert_int_equal(mp_dtmf_rx_input(&r, 9999, bad, 3, 0, note, &n),
			 EBADMSG);
	assert_int_equal(mp_dtmf_rx_input(&r, 9999, bad, 6, 0, note, &n),
			 EBADMSG);
	ev_pl(bad, 200, false, 0);
	assert_int_equal(mp_dtmf_rx_input(&r, 9999, bad, 4, 0, note, &n),
			 ENOTSUP);
	assert_int_equal(r.dropped, 3);
	assert_int_equal(r.digits, 6);
}

/* speech must not fire the detector (talk-off): sipp's recorded call */
static void no_digits_in_speech(void **state)
{
	FILE *f = fopen("/usr/share/sip-tester/g711a.pcap", "rb");
	struct mp_dtmf_det *det = NULL;
	struct det_log log = {0};
	uint8_t rec[16], pkt[2048];
	size_t samples = 0;

	(void)state;
	if (!f) {
		printf("  sip-tester's g711a.pcap missing: skipped\n");
		skip();
	}
	det_alloc(&det, 8000, &log);
	assert_int_equal(fread(pkt, 1, 24, f), 24);
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t incl = rec[8] | rec[9] << 8 | rec[10] << 16 |
				(uint32_t)rec[11] << 24;
		int16_t pcm[1500];
		size_t n;

		if (incl > sizeof(pkt) || fread(pkt, 1, incl, f) != incl)
			break;
		/* Ethernet + IPv4 (20) + UDP + RTP (12): PCMA payload */
		if (incl <= 14 + 20 + 8 + 12 || pkt[23] != 17 ||
		    (pkt[14 + 20 + 8 + 1] & 0x7f) != 8)
			continue;
		n = incl - (14 + 20 + 8 + 12);
		for (size_t i = 0; i < n; i++)
			pcm[i] = alaw_to_linear(pkt[14 + 20 + 8 + 12 + i]);
		mp_dtmf_det_process(det, pcm, n);
		samples += n;
	}
	fclose(f);
	log.got[log.n] = 0;
	printf("  %.1f s of speech: %zu false digits \"%s\"\n",
	       samples / 8000.0, log.n, log.got);
	assert_true(samples > 8000 * 5);
	assert_int_equal(log.n, 0);
	mem_deref(det);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(all_digits_pcma),
	    cmocka_unit_test(all_digits_pcmu),
	    cmocka_unit_test(all_digits_g729),
	    cmocka_unit_test(all_digits_16k),
	    cmocka_unit_test(rfc4733_generate),
	    cmocka_unit_test(rfc4733_generate_all_events),
	    cmocka_unit_test(rfc4733_open_duration),
	    cmocka_unit_test(rfc4733_receive),
	    cmocka_unit_test(no_digits_in_speech),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
