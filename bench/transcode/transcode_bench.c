/*
 * transcode_bench.c - concurrent real-time transcoding channels per core
 *
 * For PCMA<->G.729, PCMA<->Opus (8 kHz), PCMA<->Opus (48 kHz) and
 * PCMA<->G.723.1 (30 ms packets on both legs, the codec's frame) it runs
 * the same speech (sipp's g711a.pcap, looped; synthetic speech-like noise
 * when the file is missing) through
 *   raw:    the bare library loop, per 20 ms and per direction:
 *           G.711 decode -> [speexdsp resample] -> encode, and back
 *           (Opus is decoded straight at 8 kHz, as the engine does;
 *           G.723.1 is libavcodec's, called through g723.c's thin
 *           wrapper, one frame per call, as the engine calls it)
 *           (the limit: no RTP, no buffering, no DTMF, nothing else);
 *   engine: mp_xcode, both legs fed with RTP packets, jitter buffer and
 *           all per-packet work on, ticks every 10 ms (as mediaproxyd
 *           drives it);
 *   engine-nojb: the same without the jitter buffer.
 *   engine+io: the engine's number with the cost of the relay's socket
 *           work added: per channel-second a relay receives 100 packets
 *           and sends 100 (50 per leg and direction); one loopback
 *           sendto() + recvfrom() pair of a 172-byte datagram is timed
 *           here and charged 100 times per channel-second.  It is what
 *           the engine inside mediaproxyd should reach; rtpengine's number
 *           (rtpengine_bench.py) includes its socket work.
 * A channel is one call transcoded in both directions.  Channels per core
 * = seconds of call audio processed per second of thread CPU time.
 *
 * Each case runs -r rounds (default 3) alternating raw, engine and
 * engine-nojb, and keeps the best of each: on a shared machine the best run
 * is the one least disturbed by other processes.
 *
 * Usage: transcode_bench [-t SECONDS_OF_AUDIO] [-n SESSIONS] [-r ROUNDS]
 *                        [-p PCAP] [-d DIR]
 * -d writes the streams (pcma, g729, opus8, opus48: 2-byte big-endian
 * length + payload per 20 ms) for rtpengine_bench.py and exits.
 * Threading: single thread; run on an otherwise idle core for clean numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include <spandsp.h>
#include <opus/opus.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>
#include <speex/speex_resampler.h>
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/xcode/g723.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/xcode/xcode.h"

#define FRAME 160 /* 20 ms at 8 kHz */

enum bcase { C_G729, C_OPUS8, C_OPUS48, C_G723, C_COUNT };

static const char *case_name[C_COUNT] = {
    "PCMA<->G.729",
    "PCMA<->Opus 8k",
    "PCMA<->Opus 48k",
    "PCMA<->G.723.1",
};

/* samples of one packet on both legs: 20 ms, G.723.1 its 30 ms frame */
static size_t frame_of(enum bcase c)
{
	return c == C_G723 ? MP_G723_FRAME_SAMPLES : FRAME;
}

static bool is_opus(enum bcase c)
{
	return c == C_OPUS8 || c == C_OPUS48;
}

static int16_t *speech; /* 8 kHz PCM */
static size_t nspeech;	/* samples, multiple of FRAME */

struct pkts {
	uint8_t (*pl)[400];
	size_t *len;
	size_t n;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* PCMA payloads of the RTP packets in a classic pcap (Ethernet/IPv4/UDP) */
static int load_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16], pkt[2048];
	size_t cap = 0;

	if (!f)
		return errno;
	if (fread(gh, 1, 24, f) != 24) {
		fclose(f);
		return EINVAL;
	}
	while (fread(rh, 1, 16, f) == 16) {
		uint32_t incl =
		    rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
		struct mp_rtp_hdr rtp;
		size_t ihl;

		if (incl > sizeof(pkt) || fread(pkt, 1, incl, f) != incl)
			break;
		if (incl < 14 + 20 + 8 + 12 || pkt[12] != 0x08 ||
		    pkt[13] != 0x00 || pkt[23] != 17)
			continue;
		ihl = (pkt[14] & 0x0f) * 4u;
		if (incl < 14 + ihl + 8 ||
		    mp_rtp_parse(&rtp, pkt + 14 + ihl + 8,
				 incl - 14 - ihl - 8) ||
		    rtp.pt != 8)
			continue;
		if (nspeech + rtp.payload_len > cap) {
			int16_t *p;

			cap = cap ? cap * 2 : 65536;
			p = realloc(speech, cap * sizeof(*speech));
			if (!p)
				break;
			speech = p;
		}
		for (size_t i = 0; i < rtp.payload_len; i++)
			speech[nspeech++] = alaw_to_linear(rtp.payload[i]);
	}
	fclose(f);
	nspeech -= nspeech % FRAME;
	return nspeech >= 50 * FRAME ? 0 : ENODATA;
}

static void synth_speech(void)
{
	uint32_t seed = 1;
	double lp = 0;

	nspeech = 8000 * 8;
	speech = calloc(nspeech, sizeof(*speech));
	for (size_t i = 0; i < nspeech; i++) {
		double env = fabs(sin(2 * M_PI * 2.5 * i / 8000.0));

		seed = seed * 1664525u + 1013904223u;
		lp = 0.7 * lp + 0.3 * (((seed >> 8) & 0xffff) / 32768.0 - 1);
		speech[i] = (int16_t)(12000 * env * lp);
	}
}

/*
 * Opus settings of each case.  48k: 32 kbit/s, the rate rtpengine's Opus
 * encoder (ffmpeg libopus) settles on for these streams, so all three
 * encode the same; 8k: narrowband at libopus' own rate (~9 kbit/s).
 */
static const char *opus_fmtp(enum bcase c)
{
	switch (c) {
	case C_OPUS8:
		return "maxplaybackrate=8000";
	case C_OPUS48:
		return "maxaveragebitrate=32000";
	default:
		return "annexb=no";
	}
}

/* the B-leg stream: the same speech encoded with the B codec */
static void encode_b(enum bcase c, struct pkts *p)
{
	struct mp_xc_codec *codec = NULL;
	SpeexResamplerState *rs = NULL;
	int16_t up[960];
	int err = 0;

	size_t fr = frame_of(c);

	p->n = nspeech / fr;
	p->pl = calloc(p->n, sizeof(*p->pl));
	p->len = calloc(p->n, sizeof(*p->len));
	mp_xc_codec_alloc(&codec,
			  c == C_G729	? SW_CODEC_G729
			  : c == C_G723 ? SW_CODEC_G723
					: SW_CODEC_OPUS,
			  0, opus_fmtp(c));
	if (c == C_OPUS48)
		rs = speex_resampler_init(1, 8000, 48000, 3, &err);

	for (size_t i = 0; i < p->n; i++) {
		const int16_t *pcm = speech + i * fr;
		size_t n = fr;

		if (rs) {
			spx_uint32_t il = FRAME, ol = 960;

			speex_resampler_process_int(rs, 0, pcm, &il, up, &ol);
			memset(up + ol, 0, (960 - ol) * sizeof(*up));
			pcm = up;
			n = 960;
		}
		mp_xc_codec_encode(codec, p->pl[i], sizeof(p->pl[i]),
				   &p->len[i], pcm, n);
	}
	if (rs)
		speex_resampler_destroy(rs);
	mem_deref(codec);
}

/* ---- raw library loop -------------------------------------------------- */

struct raw {
	bcg729EncoderChannelContextStruct *g729e;
	bcg729DecoderChannelContextStruct *g729d;
	OpusEncoder *oe;
	OpusDecoder *od;
	SpeexResamplerState *up;
	struct mp_g723 *g723;
	int rate;
};

static void raw_init(struct raw *r, enum bcase c)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->rate = c == C_OPUS48 ? 48000 : 8000;
	if (c == C_G729) {
		r->g729e = initBcg729EncoderChannel(0);
		r->g729d = initBcg729DecoderChannel();
		return;
	}
	if (c == C_G723) {
		if (mp_g723_alloc(&r->g723))
			exit(1);
		return;
	}
	/* the settings mp_xc_codec uses, so both do the same work */
	r->oe = opus_encoder_create(r->rate, 1, OPUS_APPLICATION_VOIP, &err);
	/* the PCMA side is 8 kHz: Opus is decoded straight at 8 kHz, as
	 * the engine does (no 48 -> 8 kHz resampler) */
	r->od = opus_decoder_create(8000, 1, &err);
	if (c == C_OPUS8)
		opus_encoder_ctl(
		    r->oe, OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_NARROWBAND));
	if (c == C_OPUS48) {
		opus_encoder_ctl(r->oe, OPUS_SET_BITRATE(32000));
		r->up = speex_resampler_init(1, 8000, 48000, 3, &err);
	}
}

static void raw_fini(struct raw *r)
{
	if (r->g729e)
		closeBcg729EncoderChannel(r->g729e);
	if (r->g729d)
		closeBcg729DecoderChannel(r->g729d);
	if (r->oe)
		opus_encoder_destroy(r->oe);
	if (r->od)
		opus_decoder_destroy(r->od);
	if (r->up)
		speex_resampler_destroy(r->up);
	mem_deref(r->g723);
}

static volatile uint32_t sink_bytes;

/* one step (@fr samples) of one channel, both directions */
static void raw_step(struct raw *r, const uint8_t *alaw, const uint8_t *bpl,
		     size_t blen, size_t fr)
{
	int16_t pcm[960], pcm2[960];
	uint8_t out[400], blen8 = 0;
	opus_int32 n;

	/* A -> B */
	for (size_t i = 0; i < fr; i++)
		pcm[i] = alaw_to_linear(alaw[i]);
	if (r->g723) {
		size_t len = 0;

		mp_g723_encode(r->g723, out, sizeof(out), &len, pcm, fr);
		sink_bytes += (uint32_t)len;
	} else if (r->g729e) {
		bcg729Encoder(r->g729e, pcm, out, &blen8);
		bcg729Encoder(r->g729e, pcm + 80, out + 10, &blen8);
		sink_bytes += blen8;
	} else {
		const int16_t *in = pcm;
		int frame = FRAME;

		if (r->up) {
			spx_uint32_t il = FRAME, ol = 960;

			speex_resampler_process_int(r->up, 0, pcm, &il, pcm2,
						    &ol);
			in = pcm2;
			frame = (int)ol;
		}
		n = opus_encode(r->oe, in, frame, out, sizeof(out));
		sink_bytes += (uint32_t)n;
	}

	/* B -> A */
	if (r->g723) {
		size_t got = 0;

		mp_g723_decode(r->g723, pcm, 960, &got, bpl, blen);
	} else if (r->g729d) {
		bcg729Decoder(r->g729d, bpl, 10, 0, 0, 0, pcm);
		bcg729Decoder(r->g729d, bpl + 10, 10, 0, 0, 0, pcm + 80);
	} else {
		n = opus_decode(r->od, bpl, (opus_int32)blen, pcm, 960, 0);
		sink_bytes += (uint32_t)n;
	}
	for (size_t i = 0; i < fr; i++)
		out[i] = linear_to_alaw(pcm[i]);
	sink_bytes += out[0];
}

static double run_raw(enum bcase c, const struct pkts *b, unsigned sessions,
		      unsigned seconds)
{
	struct raw *r = calloc(sessions, sizeof(*r));
	uint8_t *alaw = malloc(nspeech);
	size_t fr = frame_of(c), frames = (size_t)seconds * 8000 / fr;
	double t0, t;

	for (size_t i = 0; i < nspeech; i++)
		alaw[i] = linear_to_alaw(speech[i]);
	for (unsigned s = 0; s < sessions; s++)
		raw_init(&r[s], c);

	t0 = cpu_now();
	for (size_t f = 0; f < frames; f++) {
		size_t k = f % b->n;

		for (unsigned s = 0; s < sessions; s++)
			raw_step(&r[s], alaw + k * fr, b->pl[k], b->len[k], fr);
	}
	t = cpu_now() - t0;

	for (unsigned s = 0; s < sessions; s++)
		raw_fini(&r[s]);
	free(r);
	free(alaw);
	return (double)seconds * sessions / t;
}

/* CPU seconds of one loopback sendto()+recvfrom() of a 172-byte packet */
static double udp_pair_cost(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	uint8_t buf[172] = {0x80, 8};
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	const int n = 200000;
	double t0, t;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (tx < 0 || rx < 0 || bind(rx, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(rx, (struct sockaddr *)&sa, &sl))
		return 0;

	t0 = cpu_now();
	for (int i = 0; i < n; i++) {
		if (sendto(tx, buf, sizeof(buf), 0, (struct sockaddr *)&sa,
			   sizeof(sa)) < 0 ||
		    recv(rx, buf, sizeof(buf), 0) < 0)
			break;
	}
	t = cpu_now() - t0;
	close(tx);
	close(rx);
	return t / n;
}

/* ---- engine ------------------------------------------------------------ */

static size_t sent;

static void send_h(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
		   bool rtcp, void *arg)
{
	(void)leg;
	(void)pkt;
	(void)rtcp;
	(void)arg;
	sent += len;
}

static size_t mkpkt(uint8_t *buf, uint8_t pt, uint32_t seq, uint32_t ts,
		    const uint8_t *pl, size_t len)
{
	struct mp_rtp_hdr rtp = {.pt = pt,
				 .seq = (uint16_t)seq,
				 .ts = ts,
				 .ssrc = 0x1234 + pt,
				 .payload = pl,
				 .payload_len = len};
	size_t n = 0;

	mp_rtp_encode(buf, 1500, &n, &rtp);
	return n;
}

static double run_engine(enum bcase c, const struct pkts *b, unsigned sessions,
			 unsigned seconds, bool jb)
{
	struct mp_xcode **xc = calloc(sessions, sizeof(void *));
	struct mp_xcode_plan pa, pb;
	struct mp_xcode_conf conf;
	uint8_t *alaw = malloc(nspeech), pkt[1500];
	size_t fr = frame_of(c), frames = (size_t)seconds * 8000 / fr;
	uint32_t step_ms = (uint32_t)fr / 8, bts = is_opus(c) ? 960 : fr;
	int64_t now = 1000;
	double t0, t;

	for (size_t i = 0; i < nspeech; i++)
		alaw[i] = linear_to_alaw(speech[i]);

	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	strcpy(pa.codec, "PCMA");
	pa.pt = 8;
	pa.ptime = step_ms;
	pa.te_pt = 101;
	pa.dtmf_send = pa.dtmf_recv = SW_DTMF_RFC2833;
	strcpy(pb.codec, c == C_G729 ? "G729" : c == C_G723 ? "G723" : "opus");
	pb.pt = c == C_G729 ? 18 : c == C_G723 ? 4 : 111;
	pb.ptime = step_ms;
	pb.te_pt = 101;
	pb.dtmf_send = pb.dtmf_recv = SW_DTMF_RFC2833;
	strcpy(pb.fmtp, opus_fmtp(c));
	mp_xcode_conf_default(&conf);
	conf.jb_enable = jb;

	for (unsigned s = 0; s < sessions; s++)
		if (mp_xcode_alloc(&xc[s], &pa, &pb, &conf, send_h, NULL,
				   NULL)) {
			fprintf(stderr, "engine alloc failed\n");
			exit(1);
		}

	t0 = cpu_now();
	for (size_t f = 0; f < frames; f++) {
		size_t k = f % b->n, n;
		uint32_t seq = (uint32_t)f;

		for (unsigned s = 0; s < sessions; s++) {
			n = mkpkt(pkt, 8, seq, seq * (uint32_t)fr,
				  alaw + k * fr, fr);
			mp_xcode_input(xc[s], MP_LEG_A, pkt, n, now);
			n = mkpkt(pkt, pb.pt, seq, seq * bts, b->pl[k],
				  b->len[k]);
			mp_xcode_input(xc[s], MP_LEG_B, pkt, n, now);
		}
		for (uint32_t ms = 10; ms <= step_ms; ms += 10)
			for (unsigned s = 0; s < sessions; s++)
				mp_xcode_tick(xc[s], now + ms);
		now += step_ms;
	}
	t = cpu_now() - t0;

	for (unsigned s = 0; s < sessions; s++)
		mem_deref(xc[s]);
	free(xc);
	free(alaw);
	return (double)seconds * sessions / t;
}

/* ---- added latency ----------------------------------------------------- */

struct lat_ctx {
	int64_t now;
	int64_t in_ms[64]; /* arrival time of the frame tagged k % 64 */
	double *lat;
	size_t nlat, cap;
	int last_tag;
	int64_t last_in; /* after the last arrival + 60 ms: concealment */
};

static void lat_send_h(enum mp_leg_id leg, const uint8_t *pkt, size_t len,
		       bool rtcp, void *arg)
{
	struct lat_ctx *lc = arg;
	struct mp_rtp_hdr rtp;
	int tag;

	if (rtcp || leg != MP_LEG_B || mp_rtp_parse(&rtp, pkt, len) ||
	    rtp.payload_len != FRAME ||
	    (lc->last_in && lc->now > lc->last_in + 60))
		return;
	/* each input frame is a constant level naming its index */
	tag = (int)lrint(ulaw_to_linear(rtp.payload[FRAME / 2]) / 1200.0) - 1;
	if (tag < 0 || tag >= 25 || !lc->in_ms[tag] ||
	    (lc->last_tag >= 0 && tag != (lc->last_tag + 1) % 25))
		return; /* concealment, or a frame already seen */
	lc->last_tag = tag;
	if (lc->nlat < lc->cap)
		lc->lat[lc->nlat++] = (double)(lc->now - lc->in_ms[tag]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Added latency of the decoded path (jitter buffer + repacketisation):
 * PCMA 20 ms in, PCMU 20 ms out, 60 s of 1 s talk spurts and 0.5 s pauses
 * (as speech has), arrivals jittered by @jit_ms; time from a talk frame's
 * arrival to the packet that carries it.  Talk frames are constant levels
 * naming their index.
 */
static void latency(unsigned jit_ms)
{
	struct mp_xcode_plan pa, pb;
	struct lat_ctx lc = {.last_tag = -1};
	struct mp_xcode *xc = NULL;
	uint8_t pl[FRAME], pkt[200];
	uint32_t seed = 5;
	const size_t frames = 3000;
	size_t skip, talk_n = 0;
	double *late;
	int64_t next_in[3000];

	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	strcpy(pa.codec, "PCMA");
	pa.pt = 8;
	strcpy(pb.codec, "PCMU");
	pb.pt = 0;
	lc.cap = frames;
	lc.lat = calloc(frames, sizeof(double));
	if (!lc.lat ||
	    mp_xcode_alloc(&xc, &pa, &pb, NULL, lat_send_h, NULL, &lc))
		exit(1);

	for (size_t k = 0; k < frames; k++) {
		seed = seed * 1664525u + 1013904223u;
		next_in[k] = 1000 + (int64_t)k * 20 +
			     (jit_ms ? (seed >> 8) % (jit_ms + 1) : 0);
	}

	for (int64_t t = 1000, k = 0;
	     k < (int64_t)frames || t < 1000 + (int64_t)frames * 20 + 300;
	     t++) {
		lc.now = t;
		/* arrivals in time order (jitter below 20 ms keeps order) */
		while (k < (int64_t)frames && next_in[k] <= t) {
			bool talk = k % 75 < 50;
			int tag = (int)(talk_n % 25); /* 25 talk frames */
			size_t n;

			/* levels 1200 apart: G.711 steps are at most 1024 */
			memset(pl, linear_to_alaw(talk ? (tag + 1) * 1200 : 0),
			       FRAME);
			if (talk)
				talk_n++;
			n = mkpkt(pkt, 8, (uint32_t)k, (uint32_t)k * FRAME, pl,
				  FRAME);
			if (talk)
				lc.in_ms[tag] = t;
			mp_xcode_input(xc, MP_LEG_A, pkt, n, t);
			k++;
			if (k == (int64_t)frames)
				lc.last_in = t;
		}
		if (t % 10 == 0)
			mp_xcode_tick(xc, t);
	}

	skip = lc.nlat / 6; /* the first 10 s: the buffer settling */
	late = malloc((lc.nlat - skip) * sizeof(double));
	if (!late)
		exit(1);
	memcpy(late, lc.lat + skip, (lc.nlat - skip) * sizeof(double));
	qsort(late, lc.nlat - skip, sizeof(double), cmp_double);
	qsort(lc.lat, lc.nlat, sizeof(double), cmp_double);
	printf("added latency, jitter 0-%u ms: p50 %.0f ms, p99 %.0f ms, "
	       "max %.0f ms over %zu talk frames (after 10 s: p99 %.0f ms)\n",
	       jit_ms, lc.lat[lc.nlat / 2], lc.lat[lc.nlat * 99 / 100],
	       lc.lat[lc.nlat - 1], lc.nlat, late[(lc.nlat - skip) * 99 / 100]);
	free(late);
	{
		struct mp_xcode_stats st;

		mp_xcode_stats(xc, MP_LEG_A, &st);
		if (getenv("LATDBG"))
			printf(
			    "  jb delay %u grow %llu shrink %llu late %llu\n",
			    st.jb_delay_ms, (unsigned long long)st.jb_grow,
			    (unsigned long long)st.jb_shrink,
			    (unsigned long long)st.jb_late);
	}
	mem_deref(xc);
	free(lc.lat);
}

static int dump(const char *dir)
{
	static const char *name[C_G723] = {"g729", "opus8", "opus48"};
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pcma", dir);
	f = fopen(path, "wb");
	if (!f)
		return errno;
	for (size_t i = 0; i + FRAME <= nspeech; i += FRAME) {
		fputc(0, f);
		fputc(FRAME, f);
		for (size_t k = 0; k < FRAME; k++)
			fputc(linear_to_alaw(speech[i + k]), f);
	}
	fclose(f);

	/* rtpengine_bench.py's cases: the 20 ms ones */
	for (int c = 0; c < C_G723; c++) {
		struct pkts b;

		encode_b((enum bcase)c, &b);
		snprintf(path, sizeof(path), "%s/%s", dir, name[c]);
		f = fopen(path, "wb");
		if (!f)
			return errno;
		for (size_t i = 0; i < b.n; i++) {
			fputc((int)(b.len[i] >> 8), f);
			fputc((int)(b.len[i] & 0xff), f);
			fwrite(b.pl[i], 1, b.len[i], f);
		}
		fclose(f);
		free(b.pl);
		free(b.len);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dumpdir = NULL;
	const char *pcap = "/usr/share/sip-tester/g711a.pcap";
	unsigned seconds = 10, sessions = 4, rounds = 3;
	double load[3] = {0}, io;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:r:p:d:")) != -1) {
		switch (opt) {
		case 't':
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			sessions = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pcap = optarg;
			break;
		case 'd':
			dumpdir = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-t seconds] [-n sessions] "
				"[-r rounds] [-p pcap]\n",
				argv[0]);
			return 2;
		}
	}
	if (!seconds || !sessions || !rounds)
		return 2;

	if (load_pcap(pcap)) {
		fprintf(stderr, "%s unusable: synthetic speech instead\n",
			pcap);
		synth_speech();
	}
	if (dumpdir)
		return dump(dumpdir) ? 1 : 0;
	(void)getloadavg(load, 3);
	printf("audio: %s, %.1f s looped; %u sessions x %u s per run, best "
	       "of %u rounds; load average %.2f\n"
	       "channel = one call transcoded both ways; ch/core = call "
	       "seconds per CPU second\n",
	       speech && nspeech ? pcap : "synthetic", nspeech / 8000.0,
	       sessions, seconds, rounds, load[0]);
	io = udp_pair_cost();
	printf("socket work: %.2f us per loopback sendto+recvfrom pair, "
	       "%.1f ms CPU per channel-second\n",
	       io * 1e6, io * 100 * 1e3);
	printf("%-16s %10s %10s %8s %12s %8s %10s\n", "case", "raw ch/core",
	       "engine", "ratio", "engine-nojb", "ratio", "engine+io");

	for (int c = 0; c < C_COUNT; c++) {
		struct pkts b;
		double raw, eng, eng_nojb;

		encode_b((enum bcase)c, &b);
		raw = eng = eng_nojb = 0;
		for (unsigned r = 0; r < rounds; r++) {
			raw = fmax(
			    raw, run_raw((enum bcase)c, &b, sessions, seconds));
			eng = fmax(eng, run_engine((enum bcase)c, &b, sessions,
						   seconds, true));
			eng_nojb = fmax(eng_nojb,
					run_engine((enum bcase)c, &b, sessions,
						   seconds, false));
		}
		printf("%-16s %10.0f %10.0f %7.0f%% %12.0f %7.0f%% %10.0f\n",
		       case_name[c], raw, eng, 100 * eng / raw, eng_nojb,
		       100 * eng_nojb / raw, 1.0 / (1.0 / eng + io * 100));
		fflush(stdout);
		free(b.pl);
		free(b.len);
	}

	latency(0);
	latency(18);
	return 0;
}
