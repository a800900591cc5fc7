/*
 * test_mp_xcode.c - the media engine end to end: transcoding keeps a tone's
 * frequency and level (Opus at 20, 30 and 50 ms too), the engine adds no
 * more delay than the codecs' own, matching legs are never decoded, DTMF
 * conversions of SPEC 5, and bad input is counted and dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <re.h>
#include <opus/opus.h>
#include "mediaproxy/dtmf/inband.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/xcode/xcode.h"
#include "tests/unit/test_mp_xcode_util.h"

struct run {
	struct tu_sink out;
	struct tu_sink rtcp;
	char digits[64];
	size_t ndigits;
	struct mp_xcode_event ev[64];
};

static void send_h(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
		   bool rtcp, void *arg)
{
	struct run *r = arg;

	tu_sink_add(rtcp ? &r->rtcp : &r->out, (int)leg, pkt, len);
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
	p->dtmf_send = SW_DTMF_AUTO;
	p->dtmf_recv = SW_DTMF_ALL;
}

/* encode @ms of a 1 kHz tone at @amp as RTP packets of plan @p */
static void make_tone_stream(struct tu_sink *s, const struct mp_xcode_plan *p,
			     unsigned ms, double amp)
{
	struct mp_xc_codec *c = NULL;
	enum sw_codec id;
	double phase = 0;
	int16_t pcm[2880];
	uint8_t pl[1400];
	uint32_t ts = 1000;

	assert_int_equal(sw_codec_parse(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);

	for (unsigned t = 0, seq = 1; t < ms; t += p->ptime, seq++) {
		uint32_t rate = mp_xc_codec_pcm_rate(c);
		size_t n = rate * p->ptime / 1000, len = 0, plen = 0;
		uint8_t pkt[1500];
		struct mp_rtp_hdr rtp;

		tu_sine(pcm, n, 1000.0, amp, rate, &phase);
		assert_int_equal(
		    mp_xc_codec_encode(c, pl, sizeof(pl), &len, pcm, n), 0);
		rtp = (struct mp_rtp_hdr){.pt = p->pt,
					  .seq = (uint16_t)seq,
					  .ts = ts,
					  .ssrc = 0x11223344,
					  .payload = pl,
					  .payload_len = len,
					  .marker = seq == 1};
		assert_int_equal(mp_rtp_encode(pkt, sizeof(pkt), &plen, &rtp),
				 0);
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
			mp_xcode_input(xc, MP_LEG_A, in->pkt[i].data,
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
	enum sw_codec id;
	size_t total = 0;

	assert_int_equal(sw_codec_parse(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);
	for (size_t i = 0; i < r->out.n; i++) {
		struct mp_rtp_hdr rtp;
		size_t n = 0;

		if (r->out.pkt[i].leg != MP_LEG_B)
			continue;
		assert_int_equal(
		    mp_rtp_parse(&rtp, r->out.pkt[i].data, r->out.pkt[i].len),
		    0);
		if (rtp.pt != p->pt)
			continue;
		assert_int_equal(mp_xc_codec_decode(c, pcm + total, max - total,
						    &n, rtp.payload,
						    rtp.payload_len),
				 0);
		total += n;
	}
	mem_deref(c);
	return total;
}

/*
 * Every leg-B packet of @r carries exactly @ptime ms of plan @p, and the
 * RTP timestamps advance by as much.
 */
static void check_ptime(const struct run *r, const struct mp_xcode_plan *p,
			uint32_t ptime)
{
	struct mp_xc_codec *c = NULL;
	enum sw_codec id;
	uint32_t want, last_ts = 0;
	size_t pkts = 0;

	assert_int_equal(sw_codec_parse(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);
	want = mp_xc_codec_rtp_rate(c) / 1000 * ptime;
	for (size_t i = 0; i < r->out.n; i++) {
		struct mp_rtp_hdr rtp;
		uint32_t dur = 0;

		if (r->out.pkt[i].leg != MP_LEG_B)
			continue;
		assert_int_equal(
		    mp_rtp_parse(&rtp, r->out.pkt[i].data, r->out.pkt[i].len),
		    0);
		if (rtp.pt != p->pt)
			continue;
		assert_int_equal(
		    mp_xc_codec_duration(c, &dur, rtp.payload, rtp.payload_len),
		    0);
		assert_int_equal(dur, want);
		if (id == SW_CODEC_OPUS)
			assert_int_equal(opus_packet_get_nb_samples(
					     rtp.payload,
					     (opus_int32)rtp.payload_len,
					     48000),
					 48 * ptime);
		if (pkts)
			assert_int_equal(rtp.ts - last_ts, want);
		last_ts = rtp.ts;
		pkts++;
	}
	assert_true(pkts * ptime >= 1800); /* the 2 s of tone went out */
	mem_deref(c);
}

/*
 * a -> mid (@ptm_ms), then mid -> b, then measure the tone at b; returns
 * the frequency measured
 */
static double tone_through(const char *ca, uint8_t pta, const char *cm,
			   uint8_t ptm, const char *fm, uint32_t ptm_ms,
			   const char *cb, uint8_t ptb)
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
	plan(&m, cm, ptm, ptm_ms, fm);
	plan(&m2, cm, ptm, ptm_ms, fm);
	plan(&b, cb, ptb, 20, NULL);

	make_tone_stream(&in, &a, 2000, amp);
	engine_run(&a, &m, &conf, &in, &r1);

	check_ptime(&r1, &m, ptm_ms);

	/* the middle leg's packets become the input of a second session */
	tu_sink_free(&in);
	for (size_t i = 0; i < r1.out.n; i++)
		if (r1.out.pkt[i].leg == MP_LEG_B)
			tu_sink_add(&in, 0, r1.out.pkt[i].data,
				    r1.out.pkt[i].len);
	assert_true(in.n >= 1900 / ptm_ms); /* 2 s in ptm_ms packets */
	engine_run(&m2, &b, &conf, &in, &r2);

	n = decode_out(&r2, &b, pcm, sizeof(pcm) / sizeof(pcm[0]));
	assert_true(n >= 8000 * 18 / 10);

	/* steady state: skip the first 500 ms (the jitter buffer shrinks
	 * from 60 to 20 ms, dropping two frames) and the last 200 ms */
	freq = tu_freq(pcm + 4000, n - 5600, 8000);
	db = tu_db(tu_rms(pcm + 4000, n - 5600), amp / sqrt(2.0));
	/* no dropouts: every 20 ms block of the steady state has the tone */
	for (size_t i = 4000; i + 160 <= n - 1600; i += 160) {
		double bdb = tu_db(tu_rms(pcm + i, 160), amp / sqrt(2.0));

		if (fabs(bdb) > 3.0)
			fail_msg("block at %zu: %+.2f dB", i, bdb);
	}
	printf("  %s->%s/%u->%s: %.2f Hz, %+.2f dB\n", ca, cm, ptm_ms, cb, freq,
	       db);
	assert_true(fabs(freq - 1000.0) <= 20.0); /* +-2 % */
	assert_true(fabs(db) <= 3.0);		  /* +-3 dB */

	tu_sink_free(&in);
	tu_sink_free(&r1.out);
	tu_sink_free(&r2.out);
	tu_sink_free(&r1.rtcp);
	tu_sink_free(&r2.rtcp);
	return freq;
}

static void tone_pcma_g729_pcma(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "G729", 18, "annexb=no", 20, "PCMA", 8);
}

/* G.723.1 (libavcodec): 30 ms (one frame) and 60 ms (two) packets */
static void tone_pcma_g723_pcma(void **state)
{
	(void)state;
	assert_true(
	    fabs(tone_through("PCMA", 8, "G723", 4, NULL, 30, "PCMA", 8) -
		 1000.0) <= 1.0);
	assert_true(
	    fabs(tone_through("PCMA", 8, "G723", 4, NULL, 60, "PCMU", 0) -
		 1000.0) <= 1.0);
}

static void tone_pcmu_opus_pcma(void **state)
{
	(void)state;
	tone_through("PCMU", 0, "opus", 111, "useinbandfec=1", 20, "PCMA", 8);
}

static void tone_pcma_opus8k_pcma(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "opus", 96, "maxplaybackrate=8000", 20, "PCMA",
		     8);
}

static void tone_pcma_g722_pcmu(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "G722", 9, NULL, 20, "PCMU", 0);
}

/* Opus 30/50 ms: one packet per ptime (joined 10 ms frames), both ways */
static void tone_pcma_opus_ptime30_50_pcma(void **state)
{
	(void)state;
	tone_through("PCMA", 8, "opus", 111, "", 30, "PCMA", 8);
	tone_through("PCMA", 8, "opus", 111, "maxaveragebitrate=32000", 50,
		     "PCMA", 8);
	tone_through("PCMA", 8, "opus", 96, "maxplaybackrate=16000", 30, "PCMA",
		     8);
}

/* ---- added delay ---- */

/* leg B's output of a delay run: decoded audio, and when each piece left */
struct delay_run {
	struct mp_xc_codec *dec; /* owned: leg B's codec */
	int64_t now;
	int16_t *pcm; /* owned */
	size_t n, max;
	double *t_ms; /* owned: time of each sample */
};

static void delay_send_h(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
			 bool rtcp, void *arg)
{
	struct delay_run *d = arg;
	uint32_t rate = mp_xc_codec_pcm_rate(d->dec);
	struct mp_rtp_hdr rtp;
	size_t n = 0;

	if (rtcp || leg != MP_LEG_B)
		return;
	assert_int_equal(mp_rtp_parse(&rtp, pkt, len), 0);
	assert_int_equal(mp_xc_codec_decode(d->dec, d->pcm + d->n,
					    d->max - d->n, &n, rtp.payload,
					    rtp.payload_len),
			 0);
	/* a packet's last sample is the one just captured when it leaves */
	for (size_t i = 0; i < n; i++)
		d->t_ms[d->n + i] =
		    (double)d->now - (double)(n - i) * 1000.0 / rate;
	d->n += n;
}

/* energy centroid (ms) of @pcm samples whose time is within [@lo, @hi) */
static double centroid_ms(const int16_t *pcm, const double *t, size_t n,
			  double lo, double hi)
{
	double e = 0, et = 0;

	for (size_t i = 0; i < n; i++) {
		double p = (double)pcm[i] * pcm[i];

		if (t[i] < lo || t[i] >= hi)
			continue;
		e += p;
		et += p * t[i];
	}
	return e > 0 ? et / e : -1e9;
}

/*
 * Delay the engine adds from A (codec @ca) to B (codec @cb), no jitter
 * buffer: 10 ms tone bursts every 500 ms, packets fed at 20 ms in step
 * with 10 ms ticks.  A sample's time is its packet's arrival (input) or
 * departure (output) less the rest of the packet after it, so a wire adds
 * 0 ms and the codecs' look-ahead counts; the burst's energy centroid is
 * compared in and out.  Returns the largest delay over the bursts.
 */
static double added_delay_ms(const char *ca, const char *fa, const char *cb,
			     const char *fb, bool echo_cancel)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;
	struct mp_xcode *xc = NULL;
	struct mp_xc_codec *enc = NULL;
	struct delay_run d = {0};
	enum sw_codec id;
	const int64_t t0 = 100000;
	uint32_t ra, fr, total;
	int16_t *src;
	double worst = -1e9;

	plan(&a, ca, 96, 20, fa);
	plan(&b, cb, 8, 20, fb);
	mp_xcode_conf_default(&conf);
	conf.jb_enable = false;
	conf.echo_cancel = echo_cancel;
	conf.rtcp = false;
	assert_int_equal(sw_codec_parse(&id, ca), 0);
	assert_int_equal(mp_xc_codec_alloc(&enc, id, 0, fa), 0);
	assert_int_equal(sw_codec_parse(&id, cb), 0);
	assert_int_equal(mp_xc_codec_alloc(&d.dec, id, 0, fb), 0);
	assert_int_equal(
	    mp_xcode_alloc(&xc, &a, &b, &conf, delay_send_h, NULL, &d), 0);

	ra = mp_xc_codec_pcm_rate(enc);
	fr = ra / 50;
	total = ra * 6;
	src = calloc(total, sizeof(*src));
	d.max = 48000 * 7;
	d.pcm = calloc(d.max, sizeof(*d.pcm));
	d.t_ms = calloc(d.max, sizeof(*d.t_ms));
	assert_non_null(src);
	assert_non_null(d.pcm);
	assert_non_null(d.t_ms);
	for (uint32_t k = 1; k < 12; k++) { /* Hann-shaped 1 kHz bursts */
		uint32_t p = k * ra / 2 + k * 7, len = ra / 100;

		for (uint32_t i = 0; i < len; i++)
			src[p + i] = (int16_t)lrint(
			    12000 * sin(2 * M_PI * 1000.0 * i / ra) *
			    (0.5 - 0.5 * cos(2 * M_PI * i / len)));
	}

	for (uint32_t k = 0, seq = 1; (k + 1) * fr <= total; k++, seq++) {
		int64_t t = t0 + (int64_t)k * 20;
		uint8_t pl[1400], pkt[1500];
		struct mp_rtp_hdr rtp;
		size_t len = 0, plen = 0;

		assert_int_equal(mp_xc_codec_encode(enc, pl, sizeof(pl), &len,
						    src + k * fr, fr),
				 0);
		rtp = (struct mp_rtp_hdr){
		    .pt = 96,
		    .seq = (uint16_t)seq,
		    .ts = 1000 + k * (mp_xc_codec_rtp_rate(enc) / 50),
		    .ssrc = 0x5eed,
		    .payload = pl,
		    .payload_len = len};
		assert_int_equal(mp_rtp_encode(pkt, sizeof(pkt), &plen, &rtp),
				 0);
		d.now = t;
		assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, plen, t), 0);
		mp_xcode_tick(xc, t);
		d.now = t + 10;
		mp_xcode_tick(xc, t + 10);
	}

	for (uint32_t k = 2; k < 11; k++) { /* steady state */
		uint32_t p = k * ra / 2 + k * 7, len = ra / 100;
		/* the input sample at p arrived with packet p / fr */
		double tin = (double)t0 - 20 + (p + len / 2.0) * 1000.0 / ra;
		double tout =
		    centroid_ms(d.pcm, d.t_ms, d.n, tin - 100, tin + 150);

		if (tout - tin > worst)
			worst = tout - tin;
	}
	printf("  %s \"%s\" -> %s%s: engine adds %.2f ms\n", ca, fa, cb,
	       echo_cancel ? " (echo canceller on)" : "", worst);

	mem_deref(xc);
	mem_deref(enc);
	mem_deref(d.dec);
	free(src);
	free(d.pcm);
	free(d.t_ms);
	return worst;
}

/*
 * Bounds: the codec's look-ahead (Opus 6.5 ms: 2.5 ms CELT overlap + 4 ms
 * SILK; G.722 QMF 22 samples at 16 kHz, 1.4 ms; G.711 none), plus the
 * resampler's filter where rates still differ (speexdsp quality 3: 3 ms),
 * plus 1 ms of measurement slack.  A FIFO that held back the missing
 * samples of the resampler's start, as it used to, added 17 ms more
 * (26.5 ms for Opus 48 kHz -> PCMA); one codec frame (20 ms) more is the
 * failure this catches.
 */
static void engine_adds_codec_delay_only(void **state)
{
	(void)state;
	/* decoded straight at 8 kHz: Opus's look-ahead only */
	assert_true(added_delay_ms("opus", "maxaveragebitrate=32000", "PCMA",
				   "", false) <= 6.5 + 1);
	assert_true(added_delay_ms("opus", "maxplaybackrate=8000", "PCMA", "",
				   false) <= 6.5 + 1);
	/* resampled 8 -> 48 kHz: look-ahead and the resampler */
	assert_true(added_delay_ms("PCMA", "", "opus", "", false) <=
		    6.5 + 3 + 1);
	/* resampled 16 -> 8 kHz */
	assert_true(added_delay_ms("G722", "", "PCMA", "", false) <=
		    1.4 + 3 + 1);
	assert_true(added_delay_ms("PCMU", "", "PCMA", "", false) <= 1);
}

/* ---- DTMF conversions and packet handling ---- */

/* a garbage length in 0..1599 */
static size_t lcg_len(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % 1600;
}

struct feeder {
	struct mp_xcode *xc;
	struct mp_xc_codec *enc; /* codec of leg A */
	struct mp_dtmf_gen *gen; /* tones into A's audio, optional */
	uint8_t pt, te_pt;
	uint16_t seq;
	uint32_t ts;
	int64_t now;
};

static size_t mk_rtp(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ts,
		     uint32_t ssrc, bool marker, const uint8_t *pl, size_t len)
{
	struct mp_rtp_hdr rtp = {.marker = marker,
				 .pt = pt,
				 .seq = seq,
				 .ts = ts,
				 .ssrc = ssrc,
				 .payload = pl,
				 .payload_len = len};
	size_t n = 0;

	assert_int_equal(mp_rtp_encode(buf, 1500, &n, &rtp), 0);
	return n;
}

static void feeder_init(struct feeder *f, struct mp_xcode *xc,
			const struct mp_xcode_plan *a)
{
	enum sw_codec id;

	memset(f, 0, sizeof(*f));
	f->xc = xc;
	f->pt = a->pt;
	f->te_pt = a->te_pt;
	f->seq = 100;
	f->ts = 8000;
	f->now = 50000;
	assert_int_equal(sw_codec_parse(&id, a->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&f->enc, id, 0, a->fmtp), 0);
}

/* one 20 ms audio packet from A, then two 10 ms ticks */
static void feed_step(struct feeder *f)
{
	int16_t pcm[160] = {0};
	uint8_t pl[200], pkt[1500];
	size_t len = 0, n;

	if (f->gen)
		mp_dtmf_gen_mix(f->gen, pcm, 160);
	assert_int_equal(
	    mp_xc_codec_encode(f->enc, pl, sizeof(pl), &len, pcm, 160), 0);
	n = mk_rtp(pkt, f->pt, f->seq++, f->ts, 0xabcdef01, false, pl, len);
	assert_int_equal(mp_xcode_input(f->xc, MP_LEG_A, pkt, n, f->now), 0);
	f->ts += 160;
	mp_xcode_tick(f->xc, f->now += 10);
	mp_xcode_tick(f->xc, f->now += 10);
}

/* a telephone-event packet from A (timestamp of the event start) */
static void feed_event(struct feeder *f, uint32_t ev_ts, int event, bool end,
		       uint16_t dur, bool marker)
{
	struct mp_dtmf_ev ev = {
	    .event = (uint8_t)event, .end = end, .volume = 10, .duration = dur};
	uint8_t pl[4], pkt[64];
	size_t n;

	mp_dtmf_ev_encode(pl, &ev);
	n = mk_rtp(pkt, f->te_pt, f->seq++, ev_ts, 0xabcdef01, marker, pl, 4);
	assert_int_equal(mp_xcode_input(f->xc, MP_LEG_A, pkt, n, f->now), 0);
}

/* a 200 ms RFC 4733 digit from A: start, updates every 40 ms, 3 ends */
static void feed_digit(struct feeder *f, int event)
{
	uint32_t ev_ts = f->ts;

	for (int i = 0; i < 10; i++) {
		if (i % 2 == 0)
			feed_event(f, ev_ts, event, false, (uint16_t)(i * 160),
				   i == 0);
		feed_step(f);
	}
	for (int i = 0; i < 3; i++)
		feed_event(f, ev_ts, event, true, 1600, false);
	for (int i = 0; i < 10; i++)
		feed_step(f);
}

struct te_summary {
	unsigned pkts, starts, ends, markers, wrong_ts;
	int event;
	uint16_t end_dur;
};

/* telephone-events sent to @leg with payload type @pt */
static struct te_summary te_out(const struct run *r, int leg, uint8_t pt)
{
	struct te_summary s = {.event = -1};
	uint32_t ts = 0;

	for (size_t i = 0; i < r->out.n; i++) {
		struct mp_rtp_hdr rtp;
		struct mp_dtmf_ev ev;

		if (r->out.pkt[i].leg != leg)
			continue;
		assert_int_equal(
		    mp_rtp_parse(&rtp, r->out.pkt[i].data, r->out.pkt[i].len),
		    0);
		if (rtp.pt != pt)
			continue;
		assert_int_equal(
		    mp_dtmf_ev_decode(&ev, rtp.payload, rtp.payload_len), 0);
		if (!s.pkts || rtp.marker)
			ts = rtp.ts;
		else if (rtp.ts != ts)
			s.wrong_ts++;
		s.pkts++;
		s.markers += rtp.marker;
		s.event = ev.event;
		if (ev.end) {
			s.ends++;
			s.end_dur = ev.duration;
		}
	}
	s.starts = s.markers;
	return s;
}

/* detect inband digits in @leg's audio (plan @p) */
struct det_log {
	char got[32];
	size_t n;
};

static void det_h(char digit, void *arg)
{
	struct det_log *d = arg;

	if (digit && d->n < sizeof(d->got) - 1)
		d->got[d->n++] = digit;
}

static void detect_out(const struct run *r, int leg,
		       const struct mp_xcode_plan *p, struct det_log *d)
{
	struct mp_dtmf_det *det = NULL;
	struct mp_xc_codec *c = NULL;
	enum sw_codec id;
	int16_t pcm[5760];
	int err;

	assert_int_equal(sw_codec_parse(&id, p->codec), 0);
	assert_int_equal(mp_xc_codec_alloc(&c, id, 0, p->fmtp), 0);
	err = mp_dtmf_det_alloc(&det, mp_xc_codec_pcm_rate(c), det_h, d);
	if (err == ELIBBAD)
		fail_msg("librem's goertzel_* shadow spandsp's: link "
			 "-lspandsp before -lrem");
	assert_int_equal(err, 0);
	for (size_t i = 0; i < r->out.n; i++) {
		struct mp_rtp_hdr rtp;
		size_t n = 0;

		if (r->out.pkt[i].leg != leg)
			continue;
		assert_int_equal(
		    mp_rtp_parse(&rtp, r->out.pkt[i].data, r->out.pkt[i].len),
		    0);
		if (rtp.pt != p->pt)
			continue;
		assert_int_equal(mp_xc_codec_decode(c, pcm, 5760, &n,
						    rtp.payload,
						    rtp.payload_len),
				 0);
		mp_dtmf_det_process(det, pcm, n);
	}
	d->got[d->n] = 0;
	mem_deref(det);
	mem_deref(c);
}

static void rfc2833_regenerated_with_leg_pt(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct feeder f;
	struct te_summary s;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	a.te_pt = 96;
	plan(&b, "G729", 18, 20, "annexb=no");
	b.te_pt = 101;
	b.dtmf_send = SW_DTMF_RFC2833;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	feed_digit(&f, 5);

	s = te_out(&r, MP_LEG_B, 101);
	printf("  B: %u event packets PT 101, %u ends, end duration %u\n",
	       s.pkts, s.ends, s.end_dur);
	assert_int_equal(te_out(&r, MP_LEG_B, 96).pkts, 0);
	assert_int_equal(s.event, 5);
	assert_int_equal(s.markers, 1);
	assert_int_equal(s.ends, 3);
	assert_int_equal(s.wrong_ts, 0);
	assert_true(s.end_dur >= 1440 && s.end_dur <= 1760);
	assert_int_equal(r.ndigits, 1); /* reported once */
	assert_int_equal(r.digits[0], '5');
	assert_int_equal(r.ev[0].method, SW_DTMF_RFC2833);
	assert_false(r.ev[0].send_info);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void rfc2833_to_inband(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct det_log d = {0};
	struct feeder f;

	(void)state;
	plan(&a, "PCMU", 0, 20, NULL);
	a.te_pt = 101;
	plan(&b, "PCMA", 8, 30, NULL);
	b.dtmf_send = SW_DTMF_INBAND;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	feed_digit(&f, 7);
	feed_digit(&f, 10); /* '*' */

	detect_out(&r, MP_LEG_B, &b, &d);
	printf("  B audio carries \"%s\"\n", d.got);
	assert_string_equal(d.got, "7*");
	assert_int_equal(te_out(&r, MP_LEG_B, 101).pkts, 0); /* dropped */
	assert_int_equal(r.ndigits, 2);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void inband_to_rfc2833_keeps_tones(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct det_log d = {0};
	struct te_summary s;
	struct feeder f;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "PCMU", 0, 20, NULL);
	a.dtmf_recv = SW_DTMF_INBAND;
	b.te_pt = 101;
	b.dtmf_send = SW_DTMF_RFC2833;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	assert_true(mp_xcode_decodes(xc, MP_LEG_A));
	feeder_init(&f, xc, &a);
	assert_int_equal(mp_dtmf_gen_alloc(&f.gen, 8000), 0);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	assert_int_equal(mp_dtmf_gen_put(f.gen, '3', 120), 0);
	for (int i = 0; i < 30; i++)
		feed_step(&f);

	s = te_out(&r, MP_LEG_B, 101);
	detect_out(&r, MP_LEG_B, &b, &d);
	printf("  B: event %d (%u packets, %u ends), audio \"%s\"\n", s.event,
	       s.pkts, s.ends, d.got);
	assert_int_equal(s.event, 3);
	assert_int_equal(s.markers, 1);
	assert_int_equal(s.ends, 3);
	assert_string_equal(d.got, "3"); /* tones kept in the audio */
	assert_int_equal(r.ndigits, 1);
	assert_int_equal(r.ev[0].method, SW_DTMF_INBAND);
	assert_true(r.ev[0].duration_ms >= 80 && r.ev[0].duration_ms <= 200);
	mem_deref(f.gen);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

/*
 * Packets lost in the middle of an inband tone (a vendor's network, or a
 * sender stalled for a moment): the concealed gap carries no tone, but the
 * digit must still be reported once, not twice.
 */
static void inband_tone_with_loss_is_one_digit(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct te_summary s;
	struct feeder f;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "PCMA", 8, 20, NULL);
	a.dtmf_recv = SW_DTMF_INBAND;
	b.te_pt = 101;
	b.dtmf_send = SW_DTMF_RFC2833;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	assert_int_equal(mp_dtmf_gen_alloc(&f.gen, 8000), 0);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	assert_int_equal(mp_dtmf_gen_put(f.gen, '0', 300), 0);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	for (int i = 0; i < 4; i++) { /* 80 ms of the tone lost */
		int16_t pcm[160] = {0};

		mp_dtmf_gen_mix(f.gen, pcm, 160);
		f.seq++;
		f.ts += 160;
		mp_xcode_tick(f.xc, f.now += 10);
		mp_xcode_tick(f.xc, f.now += 10);
	}
	for (int i = 0; i < 30; i++)
		feed_step(&f);

	s = te_out(&r, MP_LEG_B, 101);
	printf("  B: %zu digits, %u event starts, %u ends\n", r.ndigits,
	       s.markers, s.ends);
	assert_int_equal(r.ndigits, 1);
	assert_int_equal(r.digits[0], '0');
	assert_int_equal(s.markers, 1);
	assert_int_equal(s.ends, 3);
	assert_true(r.ev[0].duration_ms >= 250 && r.ev[0].duration_ms <= 400);
	mem_deref(f.gen);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void info_to_rfc2833_and_to_info(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct te_summary s;
	struct feeder f;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "G729", 18, 20, NULL);
	b.te_pt = 101;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	for (int i = 0; i < 5; i++)
		feed_step(&f);
	assert_int_equal(mp_xcode_dtmf_in(xc, MP_LEG_A, '9', 160, f.now), 0);
	for (int i = 0; i < 20; i++)
		feed_step(&f);
	s = te_out(&r, MP_LEG_B, 101);
	assert_int_equal(s.event, 9);
	assert_int_equal(s.ends, 3);
	assert_int_equal(s.end_dur, 160 * 8);
	assert_int_equal(mp_xcode_dtmf_in(xc, MP_LEG_A, 'x', 160, f.now),
			 EINVAL);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);

	/* B without telephone-event: auto sends INFO, via signalling */
	memset(&r, 0, sizeof(r));
	b.te_pt = 0;
	a.te_pt = 96;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	f.xc = xc;
	f.te_pt = 96;
	feed_digit(&f, 11);
	assert_int_equal(r.ndigits, 1);
	assert_int_equal(r.digits[0], '#');
	assert_true(r.ev[0].send_info);
	assert_int_equal(r.ev[0].to, MP_LEG_B);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void first_method_locks(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct mp_xcode_stats st;
	struct run r = {0};
	struct feeder f;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	a.te_pt = 101;
	a.dtmf_recv = SW_DTMF_ALL;
	plan(&b, "PCMU", 0, 20, NULL);
	b.dtmf_send = SW_DTMF_INFO;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	/* the first digit comes as SIP INFO: INFO is locked in */
	assert_int_equal(mp_xcode_dtmf_in(xc, MP_LEG_A, '1', 100, f.now), 0);
	feed_digit(&f, 1); /* the same key again as RFC 2833: dropped */
	assert_int_equal(mp_xcode_dtmf_in(xc, MP_LEG_A, '2', 100, f.now), 0);
	mp_xcode_stats(xc, MP_LEG_A, &st);
	r.digits[r.ndigits] = 0;
	printf("  delivered \"%s\", %llu dropped\n", r.digits,
	       (unsigned long long)st.dtmf_dropped);
	assert_string_equal(r.digits, "12"); /* each digit once */
	assert_true(st.dtmf_dropped >= 1);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void te_passthrough_remaps_pt(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct te_summary s;
	struct feeder f;

	(void)state;
	mp_xcode_conf_default(&conf);
	conf.te_passthrough = true;
	plan(&a, "PCMA", 8, 20, NULL);
	a.te_pt = 96;
	plan(&b, "G729", 18, 20, NULL);
	b.te_pt = 101;
	assert_int_equal(
	    mp_xcode_alloc(&xc, &a, &b, &conf, send_h, event_h, &r), 0);
	feeder_init(&f, xc, &a);
	feed_digit(&f, 4);
	s = te_out(&r, MP_LEG_B, 101);
	/* 5 start/update packets and 3 ends, exactly as received */
	assert_int_equal(s.pkts, 8);
	assert_int_equal(s.ends, 3);
	assert_int_equal(s.end_dur, 1600);
	assert_int_equal(s.markers, 1);
	assert_int_equal(s.wrong_ts, 0);
	assert_int_equal(r.ndigits, 1);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void matching_codecs_never_decoded(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct tu_sink in = {0};
	int64_t now = 1000;

	(void)state;
	plan(&a, "opus", 111, 20, "useinbandfec=1");
	plan(&b, "opus", 96, 20, "maxplaybackrate=16000");
	assert_true(mp_xcode_needed(&a, &b)); /* PT differs */
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	assert_false(mp_xcode_decodes(xc, MP_LEG_A));
	assert_false(mp_xcode_decodes(xc, MP_LEG_B));
	make_tone_stream(&in, &a, 400, 8000);
	for (size_t i = 0; i < in.n; i++, now += 20)
		assert_int_equal(mp_xcode_input(xc, MP_LEG_A, in.pkt[i].data,
						in.pkt[i].len, now),
				 0);
	assert_int_equal(r.out.n, in.n);
	for (size_t i = 0; i < in.n; i++) {
		struct mp_rtp_hdr x, y;

		assert_int_equal(
		    mp_rtp_parse(&x, in.pkt[i].data, in.pkt[i].len), 0);
		assert_int_equal(
		    mp_rtp_parse(&y, r.out.pkt[i].data, r.out.pkt[i].len), 0);
		assert_int_equal(y.pt, 96);
		assert_int_equal(x.payload_len, y.payload_len);
		assert_memory_equal(x.payload, y.payload, x.payload_len);
	}

	assert_false(mp_xcode_decoded_path(&a, &b)); /* no budget used */
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "PCMA", 8, 20, NULL);
	assert_false(mp_xcode_needed(&a, &b));
	b.ptime = 30;
	assert_true(mp_xcode_needed(&a, &b));
	assert_true(mp_xcode_decoded_path(&a, &b));
	b.ptime = 20;
	a.te_pt = 101; /* events to a leg without them: INFO */
	assert_true(mp_xcode_needed(&a, &b));
	assert_false(mp_xcode_decoded_path(&a, &b));
	b.dtmf_send = SW_DTMF_INBAND; /* events -> tones */
	assert_true(mp_xcode_decoded_path(&a, &b));

	/* annex B toward a leg without it is decoded (SID never leaks) */
	plan(&a, "G729", 18, 20, "annexb=yes");
	plan(&b, "G729", 18, 20, "annexb=no");
	assert_true(mp_xcode_decoded_path(&a, &b));
	plan(&a, "G729", 18, 20, "annexb=no");
	plan(&b, "G729A", 18, 20, "");
	assert_false(mp_xcode_decoded_path(&a, &b));
	mem_deref(xc);
	tu_sink_free(&in);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void bad_input_counted_and_dropped(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct mp_xcode_stats st;
	struct run r = {0};
	struct feeder f;
	uint8_t pkt[2000] = {0}, pl[160] = {0};
	uint32_t seed = 99;
	size_t n, before;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	a.te_pt = 101;
	plan(&b, "G729", 18, 20, NULL);
	b.te_pt = 101;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	for (int i = 0; i < 10; i++)
		feed_step(&f);

	/* truncated header, version 0, oversized datagram */
	n = mk_rtp(pkt, 8, 1, 1, 0xabcdef01, false, pl, 160);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, 5, f.now), EBADMSG);
	pkt[0] = 0x00;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), EBADMSG);
	pkt[0] = 0x80;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, 1600, f.now),
			 EBADMSG);
	/* CSRC count or extension longer than the packet, bad padding */
	pkt[0] = 0x8f;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, 20, f.now), EBADMSG);
	pkt[0] = 0x90;
	pkt[14] = 0xff;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, 20, f.now), EBADMSG);
	pkt[0] = 0xa0;
	pkt[n - 1] = 200;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), EBADMSG);
	/* wrong payload type, wrong SSRC */
	n = mk_rtp(pkt, 0, 1, 1, 0xabcdef01, false, pl, 160);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), EPROTO);
	n = mk_rtp(pkt, 8, 1, 1, 0x5555, false, pl, 160);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), EPROTO);
	/* malformed telephone-events: short, unknown event */
	n = mk_rtp(pkt, 101, 1, 1, 0xabcdef01, false, pl, 3);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), 0);
	pl[0] = 99;
	n = mk_rtp(pkt, 101, 1, 1, 0xabcdef01, false, pl, 4);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, f.now), 0);
	/* RTCP is not the engine's: refused without counting */
	pkt[0] = 0x80;
	pkt[1] = 200;
	assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, 28, f.now),
			 EPROTOTYPE);
	/* G.729 payload of a length no frame has, from leg B */
	n = mk_rtp(pkt, 18, 1, 1, 0x77, false, pl, 7);
	assert_int_equal(mp_xcode_input(xc, MP_LEG_B, pkt, n, f.now), 0);

	/* garbage: never crashes */
	for (int i = 0; i < 20000; i++) {
		size_t len = lcg_len(&seed);

		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			pkt[k] = (uint8_t)(seed >> 16);
		}
		if (i % 2)
			pkt[0] = 0x80; /* mostly valid headers */
		(void)mp_xcode_input(xc, i % 3 ? MP_LEG_A : MP_LEG_B, pkt, len,
				     f.now);
	}

	mp_xcode_stats(xc, MP_LEG_A, &st);
	printf("  A: malformed %llu, wrong pt %llu, wrong ssrc %llu, "
	       "bad events %llu\n",
	       (unsigned long long)st.rx_malformed,
	       (unsigned long long)st.rx_wrong_pt,
	       (unsigned long long)st.rx_wrong_ssrc,
	       (unsigned long long)st.rx_bad_event);
	assert_true(st.rx_malformed >= 6);
	assert_true(st.rx_wrong_pt >= 1);
	assert_true(st.rx_wrong_ssrc >= 1);
	assert_true(st.rx_bad_event >= 2);
	mp_xcode_stats(xc, MP_LEG_B, &st);
	assert_true(st.rx_malformed >= 1);

	/* the session still works */
	before = r.out.n;
	for (int i = 0; i < 10; i++)
		feed_step(&f);
	assert_true(r.out.n >= before + 9);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void plans_checked(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;
	struct mp_xcode *xc = NULL;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "GSM", 3, 20, NULL);
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, NULL, NULL, NULL),
			 ENOTSUP);
	plan(&b, "G729", 18, 25, NULL);
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, NULL, NULL, NULL),
			 ERANGE);
	plan(&b, "PCMU", 0, 70, NULL);
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, NULL, NULL, NULL),
			 ERANGE);
	plan(&b, "PCMU", 0, 20, NULL);
	b.rate = 16000;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, NULL, NULL, NULL),
			 ENOTSUP);
	b.rate = 8000;
	mp_xcode_conf_default(&conf);
	conf.gain_db = 11;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, &conf, NULL, NULL, NULL),
			 ERANGE);
	conf.gain_db = 0;
	conf.ec_tail_ms = 100;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, &conf, NULL, NULL, NULL),
			 ERANGE);
	conf.ec_tail_ms = 128;
	conf.jb_min_ms = 300;
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, &conf, NULL, NULL, NULL),
			 ERANGE);

	/* ptime from an Opus fmtp when the plan has none */
	plan(&a, "opus", 111, 0, "ptime=40;useinbandfec=1");
	plan(&b, "opus", 111, 40, NULL);
	assert_false(mp_xcode_decoded_path(&a, &b));
	a.ptime = 20;
	assert_true(mp_xcode_decoded_path(&a, &b));
}

/*
 * M13 on the engine: B talks, A's line echoes what it hears 100 ms later at
 * -6 dB; with SS_ECHOCANCEL the echo B gets back drops by >= 20 dB.
 */
static double echo_at_b(bool ec_on)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;
	struct mp_xcode *xc = NULL;
	struct mp_xc_codec *cb = NULL, *ca = NULL, *da = NULL, *db = NULL;
	struct run r = {0};
	static int16_t delay[800 + 160 * 8];
	static int16_t out_b[8000 * 12];
	size_t ndelay = 800, nout = 0, seen = 0;
	uint32_t seed = 77;
	int64_t now = 10000;
	double lp = 0;

	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "PCMU", 0, 20, NULL);
	mp_xcode_conf_default(&conf);
	conf.echo_cancel = ec_on;
	conf.ec_tail_ms = 128;
	assert_int_equal(
	    mp_xcode_alloc(&xc, &a, &b, &conf, send_h, event_h, &r), 0);
	assert_int_equal(mp_xc_codec_alloc(&cb, SW_CODEC_PCMU, 0, ""), 0);
	assert_int_equal(mp_xc_codec_alloc(&db, SW_CODEC_PCMU, 0, ""), 0);
	assert_int_equal(mp_xc_codec_alloc(&ca, SW_CODEC_PCMA, 0, ""), 0);
	assert_int_equal(mp_xc_codec_alloc(&da, SW_CODEC_PCMA, 0, ""), 0);
	memset(delay, 0, sizeof(delay));

	for (uint32_t k = 0; k < 600; k++) { /* 12 s */
		int16_t pcm[160];
		uint8_t pl[160], pkt[200];
		size_t len, n;

		/* B: speech-like far-end talker */
		for (int i = 0; i < 160; i++) {
			double env = 0.55 + 0.45 * sin(2 * M_PI * 3.0 *
						       (k * 160 + i) / 8000.0);

			seed = seed * 1664525u + 1013904223u;
			lp = 0.6 * lp +
			     0.4 * (((seed >> 8) & 0xffff) / 32768.0 - 1);
			pcm[i] = (int16_t)(9000 * env * lp);
		}
		assert_int_equal(
		    mp_xc_codec_encode(cb, pl, 160, &len, pcm, 160), 0);
		n = mk_rtp(pkt, 0, (uint16_t)k, k * 160, 0xb, false, pl, len);
		mp_xcode_input(xc, MP_LEG_B, pkt, n, now);

		/* A: the line returns what it got, 100 ms later, -6 dB */
		for (size_t i = 0; i < 160; i++)
			pcm[i] = (int16_t)(delay[i] / 2);
		memmove(delay, delay + 160, (ndelay - 160) * sizeof(*delay));
		ndelay -= 160;
		assert_int_equal(
		    mp_xc_codec_encode(ca, pl, 160, &len, pcm, 160), 0);
		n = mk_rtp(pkt, 8, (uint16_t)k, k * 160, 0xa, false, pl, len);
		mp_xcode_input(xc, MP_LEG_A, pkt, n, now);

		mp_xcode_tick(xc, now += 10);
		mp_xcode_tick(xc, now += 10);

		/* what the engine sent out in this 20 ms */
		for (; seen < r.out.n; seen++) {
			struct mp_rtp_hdr rtp;
			int16_t dec[480];

			assert_int_equal(mp_rtp_parse(&rtp,
						      r.out.pkt[seen].data,
						      r.out.pkt[seen].len),
					 0);
			if (r.out.pkt[seen].leg == MP_LEG_A) {
				assert_int_equal(
				    mp_xc_codec_decode(da, dec, 480, &n,
						       rtp.payload,
						       rtp.payload_len),
				    0);
				if (ndelay + n <= sizeof(delay) / 2) {
					memcpy(delay + ndelay, dec,
					       n * sizeof(*dec));
					ndelay += n;
				}
			} else if (nout + 480 <= sizeof(out_b) / 2) {
				assert_int_equal(
				    mp_xc_codec_decode(db, out_b + nout, 480,
						       &n, rtp.payload,
						       rtp.payload_len),
				    0);
				nout += n;
			}
		}
		/* keep the line delay at 100 ms whatever arrived */
		while (ndelay < 800 + 160)
			delay[ndelay++] = 0;
		while (ndelay > 800 + 160) {
			memmove(delay, delay + 1, (ndelay - 1) * 2);
			ndelay--;
		}
	}

	mem_deref(xc);
	mem_deref(ca);
	mem_deref(cb);
	mem_deref(da);
	mem_deref(db);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
	assert_true(nout > 8000 * 10);
	return tu_rms(out_b + nout - 8000 * 4, 8000 * 4); /* last 4 s */
}

static void engine_echo_cancelled(void **state)
{
	double off = echo_at_b(false), on = echo_at_b(true);

	(void)state;
	printf("  echo back at B: %.0f rms without EC, %.1f with: %.1f dB\n",
	       off, on, tu_db(off, on > 0.5 ? on : 0.5));
	assert_true(off > 500); /* there is an echo */
	assert_true(tu_db(off, on > 0.5 ? on : 0.5) >= 20.0);
}

static void ptime_repacketised(void **state)
{
	struct mp_xcode_plan a, b;
	struct tu_sink in = {0};
	struct run r = {0};
	struct mp_xcode_conf conf;
	uint32_t last_ts = 0;
	size_t pkts = 0;

	(void)state;
	mp_xcode_conf_default(&conf);
	plan(&a, "PCMA", 8, 30, NULL);
	plan(&b, "G729", 18, 40, NULL);
	make_tone_stream(&in, &a, 1200, 8000);
	engine_run(&a, &b, &conf, &in, &r);
	for (size_t i = 0; i < r.out.n; i++) {
		struct mp_rtp_hdr rtp;

		assert_int_equal(
		    mp_rtp_parse(&rtp, r.out.pkt[i].data, r.out.pkt[i].len), 0);
		assert_int_equal(rtp.pt, 18);
		assert_int_equal(rtp.payload_len, 40); /* 4 frames = 40 ms */
		if (pkts)
			assert_int_equal(rtp.ts - last_ts, 320);
		last_ts = rtp.ts;
		pkts++;
	}
	/* 1.2 s of input + 400 ms of tail: about 30 packets of 40 ms */
	assert_true(pkts >= 28 && pkts <= 40);
	tu_sink_free(&in);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

static void opus_events_use_48k_clock(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct run r = {0};
	struct te_summary s;
	struct feeder f;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	a.te_pt = 101;
	plan(&b, "opus", 111, 20, NULL);
	b.te_pt = 110; /* telephone-event/48000 */
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	feeder_init(&f, xc, &a);
	feed_digit(&f, 2);
	s = te_out(&r, MP_LEG_B, 110);
	printf("  opus leg: event %d, end duration %u (48 kHz units)\n",
	       s.event, s.end_dur);
	assert_int_equal(s.event, 2);
	assert_int_equal(s.ends, 3);
	/* about 200 ms at 48 kHz */
	assert_true(s.end_dur >= 180 * 48 && s.end_dur <= 240 * 48);
	assert_int_equal(r.ndigits, 1);
	assert_true(r.ev[0].duration_ms >= 190 && r.ev[0].duration_ms <= 210);
	mem_deref(f.enc);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

/*
 * B sends an RFC 2833 digit, A wants inband: tones go to A, whose line
 * echoes them back 40 ms later.  The echo must not come back to B as a
 * second digit.
 */
static void tone_echo_not_detected(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode *xc = NULL;
	struct mp_xc_codec *ea = NULL, *eb = NULL, *da = NULL;
	struct run r = {0};
	static int16_t line[320 + 480 * 4];
	size_t nline = 320, seen = 0;
	int64_t now = 20000;

	(void)state;
	plan(&a, "PCMA", 8, 20, NULL);
	a.dtmf_send = SW_DTMF_INBAND; /* recv all */
	plan(&b, "PCMU", 0, 20, NULL);
	b.te_pt = 101; /* send auto: rfc2833 */
	assert_int_equal(mp_xcode_alloc(&xc, &a, &b, NULL, send_h, event_h, &r),
			 0);
	assert_int_equal(mp_xc_codec_alloc(&ea, SW_CODEC_PCMA, 0, ""), 0);
	assert_int_equal(mp_xc_codec_alloc(&eb, SW_CODEC_PCMU, 0, ""), 0);
	assert_int_equal(mp_xc_codec_alloc(&da, SW_CODEC_PCMA, 0, ""), 0);
	memset(line, 0, sizeof(line));

	for (uint32_t k = 0; k < 100; k++) {
		int16_t pcm[160] = {0};
		uint8_t pl[160], pkt[200];
		size_t len, n;

		/* B: silence, and the digit 6 from 200 to 400 ms */
		assert_int_equal(
		    mp_xc_codec_encode(eb, pl, 160, &len, pcm, 160), 0);
		n = mk_rtp(pkt, 0, (uint16_t)(2 * k), k * 160, 0xb, false, pl,
			   len);
		mp_xcode_input(xc, MP_LEG_B, pkt, n, now);
		if (k >= 10 && k <= 22) {
			struct mp_dtmf_ev ev = {.event = 6,
						.volume = 10,
						.end = k >= 20,
						.duration =
						    (uint16_t)((k - 10) * 160)};

			mp_dtmf_ev_encode(pl, &ev);
			n = mk_rtp(pkt, 101, (uint16_t)(2 * k + 1), 1600, 0xb,
				   k == 10, pl, 4);
			mp_xcode_input(xc, MP_LEG_B, pkt, n, now);
		}

		/* A: its line returns what it heard 40 ms ago, -6 dB */
		for (int i = 0; i < 160; i++)
			pcm[i] = (int16_t)(line[i] / 2);
		memmove(line, line + 160, (nline - 160) * sizeof(*line));
		nline -= 160;
		assert_int_equal(
		    mp_xc_codec_encode(ea, pl, 160, &len, pcm, 160), 0);
		n = mk_rtp(pkt, 8, (uint16_t)k, k * 160, 0xa, false, pl, len);
		mp_xcode_input(xc, MP_LEG_A, pkt, n, now);

		mp_xcode_tick(xc, now += 10);
		mp_xcode_tick(xc, now += 10);
		for (; seen < r.out.n; seen++) {
			struct mp_rtp_hdr rtp;
			int16_t dec[480];

			if (r.out.pkt[seen].leg != MP_LEG_A)
				continue;
			assert_int_equal(mp_rtp_parse(&rtp,
						      r.out.pkt[seen].data,
						      r.out.pkt[seen].len),
					 0);
			assert_int_equal(mp_xc_codec_decode(da, dec, 480, &n,
							    rtp.payload,
							    rtp.payload_len),
					 0);
			if (nline + n <= sizeof(line) / sizeof(*line)) {
				memcpy(line + nline, dec, n * sizeof(*dec));
				nline += n;
			}
		}
		while (nline < 320 + 160)
			line[nline++] = 0;
	}

	r.digits[r.ndigits] = 0;
	printf("  digits reported \"%s\", events to B: %u\n", r.digits,
	       te_out(&r, MP_LEG_B, 101).pkts);
	assert_string_equal(r.digits, "6"); /* the echo is not a digit */
	assert_int_equal(te_out(&r, MP_LEG_B, 101).pkts, 0);
	mem_deref(xc);
	mem_deref(ea);
	mem_deref(eb);
	mem_deref(da);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

/* G.729 annex B negotiated: silence is SID/nothing, speech resumes with M */
static void g729_annexb_dtx_markers(void **state)
{
	struct mp_xcode_plan a, b;
	struct mp_xcode_conf conf;
	struct mp_xcode *xc = NULL;
	struct mp_xc_codec *ea = NULL;
	struct run r = {0};
	unsigned markers = 0, sids = 0, speech = 0;
	double phase = 0;
	int64_t now = 5000;

	(void)state;
	mp_xcode_conf_default(&conf);
	conf.jb_enable = false;
	plan(&a, "PCMA", 8, 20, NULL);
	plan(&b, "G729", 18, 20, "annexb=yes");
	assert_int_equal(
	    mp_xcode_alloc(&xc, &a, &b, &conf, send_h, event_h, &r), 0);
	assert_int_equal(mp_xc_codec_alloc(&ea, SW_CODEC_PCMA, 0, ""), 0);
	/* 1 s tone, 1 s silence, 1 s tone */
	for (uint32_t k = 0; k < 150; k++) {
		int16_t pcm[160] = {0};
		uint8_t pl[160], pkt[200];
		size_t len, n;

		if (k < 50 || k >= 100)
			tu_sine(pcm, 160, 700, 8000, 8000, &phase);
		assert_int_equal(
		    mp_xc_codec_encode(ea, pl, 160, &len, pcm, 160), 0);
		n = mk_rtp(pkt, 8, (uint16_t)k, k * 160, 0xa, false, pl, len);
		assert_int_equal(mp_xcode_input(xc, MP_LEG_A, pkt, n, now), 0);
		now += 20;
	}
	for (size_t i = 0; i < r.out.n; i++) {
		struct mp_rtp_hdr rtp;

		assert_int_equal(
		    mp_rtp_parse(&rtp, r.out.pkt[i].data, r.out.pkt[i].len), 0);
		markers += rtp.marker;
		if (rtp.payload_len == 20)
			speech++;
		else if (rtp.payload_len == 2)
			sids++;
		else if (rtp.payload_len % 10 != 2)
			fail_msg("payload of %zu bytes", rtp.payload_len);
	}
	printf("  %u speech packets, %u SID, %u markers of %zu packets\n",
	       speech, sids, markers, r.out.n);
	assert_true(r.out.n < 150 - 30); /* silence mostly not sent */
	assert_int_equal(markers, 2);	 /* two talkspurts */
	assert_true(speech >= 95);
	mem_deref(ea);
	mem_deref(xc);
	tu_sink_free(&r.out);
	tu_sink_free(&r.rtcp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tone_pcma_g729_pcma),
	    cmocka_unit_test(tone_pcma_g723_pcma),
	    cmocka_unit_test(tone_pcmu_opus_pcma),
	    cmocka_unit_test(tone_pcma_opus8k_pcma),
	    cmocka_unit_test(tone_pcma_g722_pcmu),
	    cmocka_unit_test(tone_pcma_opus_ptime30_50_pcma),
	    cmocka_unit_test(engine_adds_codec_delay_only),
	    cmocka_unit_test(rfc2833_regenerated_with_leg_pt),
	    cmocka_unit_test(rfc2833_to_inband),
	    cmocka_unit_test(inband_to_rfc2833_keeps_tones),
	    cmocka_unit_test(inband_tone_with_loss_is_one_digit),
	    cmocka_unit_test(info_to_rfc2833_and_to_info),
	    cmocka_unit_test(first_method_locks),
	    cmocka_unit_test(te_passthrough_remaps_pt),
	    cmocka_unit_test(matching_codecs_never_decoded),
	    cmocka_unit_test(bad_input_counted_and_dropped),
	    cmocka_unit_test(plans_checked),
	    cmocka_unit_test(engine_echo_cancelled),
	    cmocka_unit_test(ptime_repacketised),
	    cmocka_unit_test(opus_events_use_48k_clock),
	    cmocka_unit_test(tone_echo_not_detected),
	    cmocka_unit_test(g729_annexb_dtx_markers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
