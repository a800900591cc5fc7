/*
 * xcode.c - the media engine of one session (see xcode.h)
 *
 * Per leg x we keep what is received from x's peer (SSRC latch, jitter
 * buffer, event receiver, inband detector, echo canceller, comfort noise)
 * and what is sent to it (SSRC/seq/timestamp, repacketiser, event
 * generator, tone generator).  Audio from x goes to the other leg y either
 * on the decoded path (decode[x]) or forwarded with a rewritten header.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#define SW_LOG_MODULE	 "xcode"
#define XC_IDLE_CLOCK_MS 100 /* no audio for this long: clock runs */
#include "common/log.h"
#include "mediaproxy/dsp/cng.h"
#include "mediaproxy/dsp/ec.h"
#include "mediaproxy/dsp/gain.h"
#include "mediaproxy/dsp/jb.h"
#include "mediaproxy/dsp/resample.h"
#include "mediaproxy/dtmf/inband.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/stats.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/xcode/repack.h"
#include "mediaproxy/xcode/rtcp.h"
#include "mediaproxy/xcode/xcode.h"

#define XC_PCM_MAX	  8192
#define XC_FRAME_MAX	  2880 /* 60 ms at 48 kHz */
#define XC_MAX_FRAME_MS	  120  /* longer payloads are refused */
#define XC_SSRC_SWITCH_MS 1000 /* a new SSRC wins after this silence */
#define XC_CNG_AFTER_MS	  60   /* concealment gives way to comfort noise */
#define XC_DET_BRIDGE_MS  120  /* lost audio the DTMF detector skips */
#define XC_INBAND_MS	  100  /* tone length when the duration is open */
#define XC_PT_CN	  13
#define XC_TONE_ECHO_MS	  200 /* no detection while our tones echo */
#define XC_QUIET_LEVEL	  100 /* mean |sample| of a quiet frame (-50 dBov) */

struct mp_xcode;

/* what the inband detector callback needs to find its leg */
struct xc_det_ctx {
	struct mp_xcode *xc; /* borrowed back-pointer */
	int leg;
};

struct xc_leg {
	struct mp_xcode_plan plan;
	struct xc_det_ctx detctx;
	enum sw_codec cid;
	struct mp_xc_codec *codec; /* owned */
	uint32_t pcm_rate;	   /* what is encoded toward this leg */
	uint32_t dec_rate;	   /* what is decoded from it */
	uint32_t rtp_rate;
	uint32_t ptime;
	enum sw_dtmf send; /* resolved method toward this leg */

	/* received from this leg's peer */
	bool ssrc_set;
	uint32_t ssrc;
	int64_t last_rx_ms;
	struct mp_dsp_jb *jb; /* owned */
	struct mp_dtmf_rx evrx;
	struct mp_dtmf_det *det; /* owned */
	struct mp_dsp_ec *ec;	 /* owned */
	struct mp_dsp_cng *cng;	 /* owned */
	uint32_t silence_ms;
	bool cn_active;
	enum sw_dtmf lock; /* dtmf_recv=all: first method */
	char inband_digit;
	int64_t inband_start_ms;
	bool ev_map; /* te_passthrough timestamp map */
	uint32_t ev_in_ts, ev_out_ts;

	/* sent to this leg's peer */
	uint32_t ssrc_out;
	uint16_t seq_out;
	uint32_t ts_out;   /* timestamp of the next audio frame */
	int64_t ts_out_ms; /* when ts_out last moved (0: never) */
	bool sent_any;
	bool in_dtx;	  /* last frame not sent (VAD) */
	bool pass_anchor; /* forwarded-audio timestamp map */
	uint32_t pass_ssrc;
	uint32_t pass_off;
	struct mp_xc_repack rp;
	struct mp_dtmf_tx evtx;
	struct mp_dtmf_gen *gen; /* owned */
	int64_t gen_until_ms;	 /* tones sent to it, plus echo time */

	/* RTCP with this leg's peer */
	struct mp_rx_stats rxs;
	struct mp_xc_txstat txs;
	int64_t rtcp_next_ms; /* 0: nothing exchanged yet */

	struct mp_xcode_stats st;
};

struct mp_xcode {
	struct mp_xcode_conf conf;
	struct xc_leg leg[2];
	bool decode[2];			/* decode[x]: x -> other on PCM */
	struct mp_dsp_resampler *rs[2]; /* owned: x's rate -> other's */
	int32_t gain_q12;
	mp_xcode_send_h *sendh;
	mp_xcode_event_h *eventh;
	void *arg;
	int64_t now_ms;
	char cname[32];
	int16_t pcm[XC_PCM_MAX];
	int16_t pcm2[XC_PCM_MAX];
	int16_t frame[XC_FRAME_MAX];
	uint8_t pkt[MP_RTP_MAX_LEN];
};

/** The defaults of SPEC 4 (jitter buffer adaptive 20/200/60, no EC/gain). */
void mp_xcode_conf_default(struct mp_xcode_conf *conf)
{
	if (!conf)
		return;
	memset(conf, 0, sizeof(*conf));
	conf->jb_enable = true;
	conf->jb_mode = 1;
	conf->jb_min_ms = 20;
	conf->jb_max_ms = 200;
	conf->jb_default_ms = 60;
	conf->echo_cancel = false;
	conf->ec_tail_ms = 128;
	conf->gain_db = 0;
	conf->comfort_noise = false;
	conf->rtcp = true;
}

/** Range checks of the SS_* values; ERANGE names no field, EINVAL = NULL. */
int mp_xcode_conf_check(const struct mp_xcode_conf *conf)
{
	struct mp_dsp_jb_conf jc = {0};

	if (!conf)
		return EINVAL;
	jc.mode = conf->jb_mode ? MP_DSP_JB_ADAPTIVE : MP_DSP_JB_FIXED;
	jc.min_ms = conf->jb_min_ms;
	jc.max_ms = conf->jb_max_ms;
	jc.default_ms = conf->jb_default_ms;
	if ((conf->jb_mode != 0 && conf->jb_mode != 1) ||
	    mp_dsp_jb_conf_check(&jc))
		return ERANGE;
	if (conf->ec_tail_ms != 64 && conf->ec_tail_ms != 128 &&
	    conf->ec_tail_ms != 256)
		return ERANGE;
	if (conf->gain_db < MP_DSP_GAIN_MIN_DB ||
	    conf->gain_db > MP_DSP_GAIN_MAX_DB)
		return ERANGE;
	return 0;
}

/* the plan's ptime, else a "ptime=" in the fmtp (Opus), else 20 ms */
static uint32_t plan_ptime(const struct mp_xcode_plan *p)
{
	long f;

	if (p->ptime)
		return p->ptime;
	f = mp_xc_fmtp_int(p->fmtp, "ptime");
	return f >= 10 && f <= 60 ? (uint32_t)f : 20;
}

/** Check a plan: known codec, PTs 0..127, ptime the codec can do. */
int mp_xcode_plan_check(const struct mp_xcode_plan *plan)
{
	enum sw_codec id;
	uint32_t ptime;

	if (!plan)
		return EINVAL;
	if (sw_codec_parse(&id, plan->codec))
		return ENOTSUP;
	if (plan->pt > 127 || plan->te_pt > 127 ||
	    (plan->te_pt && plan->te_pt == plan->pt))
		return EINVAL;
	ptime = plan_ptime(plan);
	if (ptime < 10 || ptime > 60)
		return ERANGE;
	if ((id == SW_CODEC_G729 || id == SW_CODEC_OPUS) && ptime % 10)
		return ERANGE;
	return 0;
}

/* the engine's DTMF rules are the vocabulary's (proto/media.h) */
static enum sw_dtmf send_resolve(const struct mp_xcode_plan *p)
{
	return sw_dtmf_send_resolve(p->dtmf_send, p->te_pt != 0);
}

static bool recv_accepts(const struct mp_xcode_plan *p, enum sw_dtmf m)
{
	return sw_dtmf_recv_accepts(p->dtmf_recv, m);
}

/* audio from plan x to plan y must be decoded */
static bool plans_decode(const struct mp_xcode_plan *x,
			 const struct mp_xcode_plan *y)
{
	enum sw_codec cx, cy;
	enum sw_dtmf ysend = send_resolve(y);

	if (sw_codec_parse(&cx, x->codec) || sw_codec_parse(&cy, y->codec))
		return true;
	if (cx != cy || plan_ptime(x) != plan_ptime(y))
		return true;
	/* Opus interworks at any playback rate; others have one rate */

	/* G.729 annex B SID frames must not reach a leg without annex B */
	if (cx == SW_CODEC_G729 && mp_xc_fmtp_int(x->fmtp, "annexb") == 1 &&
	    mp_xc_fmtp_int(y->fmtp, "annexb") != 1)
		return true;

	/* events/INFO -> inband: tones are mixed into decoded audio */
	if (ysend == SW_DTMF_INBAND &&
	    (recv_accepts(x, SW_DTMF_RFC2833) || recv_accepts(x, SW_DTMF_INFO)))
		return true;
	/* inband explicitly converted to events/INFO: detection needs PCM */
	if (x->dtmf_recv == SW_DTMF_INBAND && ysend != SW_DTMF_INBAND &&
	    ysend != SW_DTMF_NONE)
		return true;

	return false;
}

/**
 * True when audio of a session with these plans is decoded in at least one
 * direction: what counts against the node's xcode_budget.
 */
bool mp_xcode_decoded_path(const struct mp_xcode_plan *a,
			   const struct mp_xcode_plan *b)
{
	return a && b && (plans_decode(a, b) || plans_decode(b, a));
}

/**
 * True when a session with these plans needs the engine at all (otherwise
 * the relay forwards packets untouched): a direction must be decoded, the
 * payload types differ, or telephone-events must be converted.
 */
bool mp_xcode_needed(const struct mp_xcode_plan *a,
		     const struct mp_xcode_plan *b)
{
	if (!a || !b)
		return false;
	if (plans_decode(a, b) || plans_decode(b, a))
		return true;
	if (a->pt != b->pt || a->te_pt != b->te_pt)
		return true;
	/* events a leg can send (it has telephone-event) that the other
	 * leg must get another way */
	if (a->te_pt && recv_accepts(a, SW_DTMF_RFC2833) &&
	    send_resolve(b) != SW_DTMF_RFC2833)
		return true;
	if (b->te_pt && recv_accepts(b, SW_DTMF_RFC2833) &&
	    send_resolve(a) != SW_DTMF_RFC2833)
		return true;
	return false;
}

static void xcode_destructor(void *arg)
{
	struct mp_xcode *xc = arg;

	for (int i = 0; i < 2; i++) {
		struct xc_leg *l = &xc->leg[i];

		mem_deref(l->codec);
		mem_deref(l->jb);
		mem_deref(l->det);
		mem_deref(l->ec);
		mem_deref(l->cng);
		mem_deref(l->gen);
		mem_deref(xc->rs[i]);
	}
}

static void handle_digit(struct mp_xcode *xc, int x, enum sw_dtmf m, bool start,
			 bool end, char digit, uint32_t dur_ms);

static void inband_handler(char digit, void *arg);

static uint32_t random32(void)
{
	return rand_u32();
}

static int leg_setup(struct mp_xcode *xc, int x)
{
	struct xc_leg *l = &xc->leg[x];
	int err;

	err = sw_codec_parse(&l->cid, l->plan.codec);
	if (err)
		return err;
	err = mp_xc_codec_alloc(&l->codec, l->cid, l->plan.rate, l->plan.fmtp);
	if (err)
		return err;

	l->pcm_rate = mp_xc_codec_pcm_rate(l->codec);
	l->dec_rate = l->pcm_rate;
	l->rtp_rate = mp_xc_codec_rtp_rate(l->codec);
	l->ptime = mp_xc_codec_ptime(l->codec, plan_ptime(&l->plan));
	l->send = send_resolve(&l->plan);
	l->ssrc_out = random32();
	l->seq_out = (uint16_t)random32();
	l->ts_out = random32();
	l->txs.ssrc = l->ssrc_out;
	l->st.rtt_ms = -1;
	memset(&l->rxs, 0, sizeof(l->rxs));
	mp_dtmf_rx_init(&l->evrx);
	/* events share the stream's timestamps, so they share its clock:
	 * telephone-event/8000 with G.711/G.729/G.722, /48000 with Opus */
	mp_dtmf_tx_init(&l->evtx, l->rtp_rate);

	return mp_xc_repack_init(&l->rp, l->pcm_rate, l->ptime);
}

/*
 * The largest payload leg l's jitter buffer must hold: XC_MAX_FRAME_MS of
 * the codec (longer payloads are refused anyway), so a G.729 buffer takes
 * 8 kB instead of 80.  Opus: the buffer's own maximum.
 */
static size_t jb_payload_max(const struct xc_leg *l)
{
	switch (l->cid) {

	case SW_CODEC_G729: /* 10 bytes per 10 ms, and a 2-byte SID */
		return XC_MAX_FRAME_MS + 2;
	case SW_CODEC_PCMA:
	case SW_CODEC_PCMU:
	case SW_CODEC_G722: /* 8 bytes per ms */
		return 8 * XC_MAX_FRAME_MS;
	case SW_CODEC_G723: /* 24 bytes per 30 ms at most */
		return XC_MAX_FRAME_MS / 30 * 24;
	default:
		return 0;
	}
}

/* the second part of set-up, once both legs' rates are known */
static int dir_setup(struct mp_xcode *xc, int x)
{
	struct xc_leg *l = &xc->leg[x], *y = &xc->leg[!x];
	int err = 0;

	if (!xc->decode[x])
		return 0;

	if (xc->conf.jb_enable) {
		struct mp_dsp_jb_conf jc = {
		    .mode =
			xc->conf.jb_mode ? MP_DSP_JB_ADAPTIVE : MP_DSP_JB_FIXED,
		    .min_ms = xc->conf.jb_min_ms,
		    .max_ms = xc->conf.jb_max_ms,
		    .default_ms = xc->conf.jb_default_ms,
		    .payload_max = jb_payload_max(l),
		};

		err = mp_dsp_jb_alloc(&l->jb, &jc, l->rtp_rate);
		if (err)
			return err;
	}

	/*
	 * Opus decodes straight to y's rate: no resampler, no resampler
	 * delay, less work (the echo canceller needs what is decoded from
	 * the leg and what is sent to it at one rate: not then).
	 */
	if (l->cid == SW_CODEC_OPUS &&
	    !(xc->conf.echo_cancel && xc->decode[!x]) &&
	    !mp_xc_codec_set_dec_rate(l->codec, y->pcm_rate))
		l->dec_rate = y->pcm_rate;

	if (l->dec_rate != y->pcm_rate) {
		err =
		    mp_dsp_resampler_alloc(&xc->rs[x], l->dec_rate, y->pcm_rate,
					   MP_DSP_RESAMPLE_QUALITY);
		if (err)
			return err;
	}

	if (recv_accepts(&l->plan, SW_DTMF_INBAND) &&
	    y->send != SW_DTMF_INBAND && y->send != SW_DTMF_NONE) {
		l->detctx.xc = xc;
		l->detctx.leg = x;
		err = mp_dtmf_det_alloc(&l->det, l->dec_rate, inband_handler,
					&l->detctx);
		if (err == ELIBBAD) {
			/* a link-order problem must not cost the call */
			sw_warn("inband dtmf detection off: spandsp's goertzel "
				"is shadowed (link -lspandsp before -lrem)");
			err = 0;
		}
		if (err)
			return err;
	}

	if (y->send == SW_DTMF_INBAND &&
	    (recv_accepts(&l->plan, SW_DTMF_RFC2833) ||
	     recv_accepts(&l->plan, SW_DTMF_INFO))) {
		err = mp_dtmf_gen_alloc(&y->gen, y->pcm_rate);
		if (err)
			return err;
	}

	if (xc->conf.echo_cancel && xc->decode[!x]) {
		err = mp_dsp_ec_alloc(&l->ec, l->pcm_rate, xc->conf.ec_tail_ms);
		if (err)
			return err;
	}

	if (xc->conf.comfort_noise) {
		err = mp_dsp_cng_alloc(&l->cng, random32());
		if (err)
			return err;
	}

	return 0;
}

/* ---- output ----------------------------------------------------------- */

static void send_rtp(struct mp_xcode *xc, int y, uint8_t pt, bool marker,
		     uint32_t ts, const uint8_t *pl, size_t len)
{
	struct xc_leg *l = &xc->leg[y];
	struct mp_rtp_hdr rtp = {
	    .marker = marker,
	    .pt = pt,
	    .seq = l->seq_out,
	    .ts = ts,
	    .ssrc = l->ssrc_out,
	    .payload = pl,
	    .payload_len = len,
	};
	size_t plen;

	if (mp_rtp_encode(xc->pkt, sizeof(xc->pkt), &plen, &rtp))
		return;

	l->seq_out++;
	l->st.tx_packets++;
	l->st.tx_bytes += plen;
	l->txs.packets++;
	l->txs.octets += (uint32_t)len;
	if (!l->rtcp_next_ms)
		l->rtcp_next_ms = xc->now_ms + MP_XC_RTCP_INTERVAL_MS / 2;
	if (xc->sendh)
		xc->sendh((enum mp_leg_id)y, xc->pkt, plen, false, xc->arg);
}

static void encode_send(struct mp_xcode *xc, int y, const int16_t *frame)
{
	struct xc_leg *l = &xc->leg[y];
	uint8_t buf[MP_RTP_MAX_LEN - MP_RTP_HDR_MIN];
	size_t n = l->rp.frame, len = 0;

	if (l->ec) {
		size_t fr = mp_dsp_ec_frame(l->ec);

		for (size_t i = 0; i + fr <= n; i += fr)
			mp_dsp_ec_playback(l->ec, frame + i);
	}

	if (!mp_xc_codec_encode(l->codec, buf, sizeof(buf), &len, frame, n) &&
	    len) {
		/* a lone G.729 SID frame: silence goes on (annex B) */
		bool sid = l->cid == SW_CODEC_G729 && len < 10;

		/* marker: the first packet, and the first after a DTX gap */
		send_rtp(xc, y, l->plan.pt, (!l->sent_any || l->in_dtx) && !sid,
			 l->ts_out, buf, len);
		l->sent_any = true;
		l->in_dtx = sid;
	} else {
		l->in_dtx = true; /* annex B sent nothing this frame */
	}

	l->ts_out += (uint32_t)((uint64_t)n * l->rtp_rate / l->pcm_rate);
	l->ts_out_ms = xc->now_ms;
}

/* tell the jitter buffer whether what it just played was silence */
static void jb_quiet(struct xc_leg *l, const int16_t *pcm, size_t n)
{
	uint64_t acc = 0;

	if (!l->jb || !n)
		return;
	for (size_t i = 0; i < n; i++)
		acc += (uint64_t)(pcm[i] < 0 ? -(int32_t)pcm[i] : pcm[i]);
	mp_dsp_jb_set_quiet(l->jb, acc / n < XC_QUIET_LEVEL);
}

/* decoded audio from leg x, at its decoder rate, on its way to leg y */
static void process_pcm(struct mp_xcode *xc, int x, int16_t *pcm, size_t n)
{
	struct xc_leg *l = &xc->leg[x], *y = &xc->leg[!x];
	int16_t *out = pcm;
	size_t m = n;

	jb_quiet(l, pcm, n);

	if (l->ec) {
		size_t fr = mp_dsp_ec_frame(l->ec);

		mp_dsp_ec_set_delay(l->ec, mp_dsp_jb_min_wait_ms(l->jb));
		for (size_t i = 0; i + fr <= n; i += fr) {
			mp_dsp_ec_capture(l->ec, pcm + i, xc->frame);
			memcpy(pcm + i, xc->frame, fr * sizeof(*pcm));
		}
	}

	/*
	 * Tones we play toward this leg may come back as echo: not a digit.
	 * Audio concealed for lost packets says nothing about a tone: a
	 * short loss inside a tone must not split it into two digits, so the
	 * detector skips it (up to XC_DET_BRIDGE_MS; comfort noise the peer
	 * asked for is real silence and goes through).
	 */
	if (l->det && xc->now_ms >= l->gen_until_ms &&
	    (l->silence_ms == 0 || l->cn_active ||
	     l->silence_ms > XC_DET_BRIDGE_MS))
		mp_dtmf_det_process(l->det, pcm, n);

	if (xc->rs[x]) {
		if (mp_dsp_resample(xc->rs[x], xc->pcm2, XC_PCM_MAX, &m, pcm,
				    n) &&
		    !m)
			return;
		out = xc->pcm2;
	}

	mp_dsp_gain_apply(out, m, xc->gain_q12);

	if (y->gen && mp_dtmf_gen_busy(y->gen)) {
		mp_dtmf_gen_mix(y->gen, out, m);
		y->gen_until_ms = xc->now_ms + XC_TONE_ECHO_MS;
	}

	mp_xc_repack_push(&y->rp, out, m);
	while (mp_xc_repack_pop(&y->rp, xc->frame))
		encode_send(xc, !x, xc->frame);
}

static void decode_frame(struct mp_xcode *xc, int x, const uint8_t *pl,
			 size_t len, uint32_t dur);

static void conceal_frame(struct mp_xcode *xc, int x, uint32_t dur,
			  const uint8_t *next, size_t nlen)
{
	struct xc_leg *l = &xc->leg[x];
	size_t n = (size_t)((uint64_t)dur * l->dec_rate / l->rtp_rate);

	if (!n || n > XC_PCM_MAX)
		return;

	if (l->cng && (l->cn_active || l->silence_ms >= XC_CNG_AFTER_MS))
		mp_dsp_cng_generate(l->cng, xc->pcm, n);
	else
		mp_xc_codec_conceal(l->codec, xc->pcm, n, next, nlen);

	l->silence_ms += dur * 1000 / l->rtp_rate;
	l->st.concealed_frames++;
	process_pcm(xc, x, xc->pcm, n);
}

static void decode_frame(struct mp_xcode *xc, int x, const uint8_t *pl,
			 size_t len, uint32_t dur)
{
	struct xc_leg *l = &xc->leg[x];
	size_t n = 0;

	if (mp_xc_codec_decode(l->codec, xc->pcm, XC_PCM_MAX, &n, pl, len) ||
	    !n) {
		l->st.decode_errors++;
		conceal_frame(xc, x, dur, NULL, 0);
		return;
	}

	l->silence_ms = 0;
	l->cn_active = false;
	process_pcm(xc, x, xc->pcm, n);
}

static void dir_pull(struct mp_xcode *xc, int x, int64_t now_ms)
{
	struct xc_leg *l = &xc->leg[x];
	struct mp_dsp_jb_frame f;

	if (!l->jb)
		return;

	for (int guard = 0; guard < 64; guard++) {
		if (mp_dsp_jb_get(l->jb, now_ms, &f) ||
		    f.kind == MP_DSP_JB_WAIT)
			break;
		if (f.kind == MP_DSP_JB_FRAME) {
			decode_frame(xc, x, f.payload, f.len, f.dur);
		} else if (f.kind == MP_DSP_JB_DROP) {
			size_t n;

			/* shrinking: the decoder sees it, nobody hears it */
			(void)mp_xc_codec_decode(l->codec, xc->pcm, XC_PCM_MAX,
						 &n, f.payload, f.len);
		} else {
			conceal_frame(xc, x, f.dur, f.next, f.next_len);
		}
	}
}

/* ---- DTMF ------------------------------------------------------------- */

static bool lock_ok(struct xc_leg *l, enum sw_dtmf m)
{
	switch (l->plan.dtmf_recv) {

	case SW_DTMF_ALL:
	case SW_DTMF_AUTO:
		if (l->lock == SW_DTMF_NONE)
			l->lock = m; /* SPEC 5: the first method wins */
		return l->lock == m;
	case SW_DTMF_NONE:
		return false;
	default:
		return l->plan.dtmf_recv == m;
	}
}

static bool ev_passthrough(const struct mp_xcode *xc, int x)
{
	return xc->conf.te_passthrough && xc->leg[!x].send == SW_DTMF_RFC2833;
}

/*
 * A digit from leg x by method m: @start and/or @end of it.  The other leg
 * gets it by its own send method; one event per digit goes to the
 * application at its end.
 */
static void handle_digit(struct mp_xcode *xc, int x, enum sw_dtmf m, bool start,
			 bool end, char digit, uint32_t dur_ms)
{
	struct xc_leg *l = &xc->leg[x], *y = &xc->leg[!x];
	bool pass = m == SW_DTMF_RFC2833 && ev_passthrough(xc, x);

	if (!digit || !lock_ok(l, m)) {
		l->st.dtmf_dropped++;
		return;
	}

	if (start) {
		l->st.dtmf_rx++;
		switch (y->send) {

		case SW_DTMF_RFC2833:
			if (!pass)
				mp_dtmf_tx_put(&y->evtx, digit, dur_ms);
			break;
		case SW_DTMF_INBAND:
			if (m != SW_DTMF_INBAND && y->gen)
				mp_dtmf_gen_put(y->gen, digit,
						dur_ms ? dur_ms : XC_INBAND_MS);
			break;
		default:
			break;
		}
	}

	if (end) {
		struct mp_xcode_event ev = {
		    .type = MP_XCODE_EV_DTMF,
		    .from = (enum mp_leg_id)x,
		    .to = (enum mp_leg_id) !x,
		    .digit = digit,
		    .duration_ms = dur_ms,
		    .method = m,
		    .send_info = y->send == SW_DTMF_INFO,
		};

		if (y->send == SW_DTMF_RFC2833 && !pass && !start)
			mp_dtmf_tx_end(&y->evtx, digit, dur_ms);
		if (xc->eventh)
			xc->eventh(&ev, xc->arg);
	}
}

/* inband detector callback (start: digit, end: 0) */
static void inband_handler(char digit, void *arg)
{
	struct xc_det_ctx *ctx = arg;
	struct mp_xcode *xc = ctx->xc;
	int x = ctx->leg;

	if (digit) {
		struct xc_leg *l = &xc->leg[x];

		l->inband_digit = digit;
		l->inband_start_ms = xc->now_ms;
		handle_digit(xc, x, SW_DTMF_INBAND, true, false, digit, 0);
	} else if (xc->leg[x].inband_digit) {
		struct xc_leg *l = &xc->leg[x];
		char d = l->inband_digit;

		l->inband_digit = 0;
		handle_digit(xc, x, SW_DTMF_INBAND, false, true, d,
			     (uint32_t)(xc->now_ms - l->inband_start_ms));
	}
}

static void ev_input(struct mp_xcode *xc, int x, const struct mp_rtp_hdr *rtp)
{
	struct xc_leg *l = &xc->leg[x], *y = &xc->leg[!x];
	struct mp_dtmf_rx_note note[MP_DTMF_RX_NOTES];
	unsigned n = 0;

	if (mp_dtmf_rx_input(&l->evrx, rtp->ts, rtp->payload, rtp->payload_len,
			     xc->now_ms, note, &n)) {
		l->st.rx_bad_event++;
		return;
	}

	if (ev_passthrough(xc, x) && lock_ok(l, SW_DTMF_RFC2833)) {
		/* forward the payload as is, PT and timestamp remapped */
		if (!l->ev_map || l->ev_in_ts != rtp->ts) {
			l->ev_map = true;
			l->ev_in_ts = rtp->ts;
			l->ev_out_ts = y->ts_out;
		}
		send_rtp(xc, !x, y->plan.te_pt, rtp->marker, l->ev_out_ts,
			 rtp->payload, rtp->payload_len);
		y->st.tx_events++;
	}

	for (unsigned i = 0; i < n; i++) {
		bool start = note[i].what == MP_DTMF_RX_START;

		handle_digit(xc, x, SW_DTMF_RFC2833, start, !start,
			     note[i].digit,
			     start ? 0 : note[i].duration * 1000 / l->rtp_rate);
	}
}

/* ---- input ------------------------------------------------------------ */

static void forward_audio(struct mp_xcode *xc, int x,
			  const struct mp_rtp_hdr *rtp)
{
	struct xc_leg *l = &xc->leg[x], *y = &xc->leg[!x];
	uint32_t dur = 0, ts;

	if (!y->pass_anchor || y->pass_ssrc != rtp->ssrc) {
		y->pass_anchor = true;
		y->pass_ssrc = rtp->ssrc;
		y->pass_off = y->ts_out - rtp->ts;
	}
	ts = rtp->ts + y->pass_off;

	send_rtp(xc, !x, y->plan.pt, rtp->marker, ts, rtp->payload,
		 rtp->payload_len);
	if (!mp_xc_codec_duration(l->codec, &dur, rtp->payload,
				  rtp->payload_len) &&
	    mp_rtp_ts_diff(ts + dur, y->ts_out) > 0)
		y->ts_out = ts + dur;
	y->ts_out_ms = xc->now_ms;
}

/*
 * No audio goes to this leg (a silent peer on the other side): let its RTP
 * clock run with wall time, so that telephone-events generated toward it
 * get timestamps of their own instead of all sharing the frozen one.
 */
static void clock_idle_leg(struct xc_leg *l, int64_t now_ms)
{
	if (!l->ts_out_ms) {
		l->ts_out_ms = now_ms;
		return;
	}
	if (now_ms - l->ts_out_ms < XC_IDLE_CLOCK_MS)
		return;
	l->ts_out +=
	    (uint32_t)((uint64_t)(now_ms - l->ts_out_ms) * l->rtp_rate / 1000);
	l->ts_out_ms = now_ms;
	l->pass_anchor = false; /* forwarded audio re-anchors after it */
}

static void audio_input(struct mp_xcode *xc, int x,
			const struct mp_rtp_hdr *rtp)
{
	struct xc_leg *l = &xc->leg[x];
	uint32_t dur = 0;

	if (!xc->decode[x]) {
		forward_audio(xc, x, rtp);
		return;
	}

	if (mp_xc_codec_duration(l->codec, &dur, rtp->payload,
				 rtp->payload_len) ||
	    !dur || dur > l->rtp_rate / 1000 * XC_MAX_FRAME_MS) {
		l->st.rx_malformed++;
		return;
	}

	if (!l->jb) {
		decode_frame(xc, x, rtp->payload, rtp->payload_len, dur);
		return;
	}

	switch (mp_dsp_jb_put(l->jb, rtp->seq, rtp->ts, rtp->pt, rtp->marker,
			      rtp->payload, rtp->payload_len, dur,
			      xc->now_ms)) {

	case 0:
		break;
	case EALREADY:
		l->st.jb_dup++;
		break;
	case ETIMEDOUT:
		l->st.jb_late++;
		break;
	case ENOSPC:
		l->st.jb_overflow++;
		break;
	default:
		l->st.rx_malformed++;
		break;
	}

	dir_pull(xc, x, xc->now_ms);
}

/**
 * Allocate an engine for a session with leg plans @a and @b.  Packets to
 * send go to @sendh, digits to @eventh (both optional, called from inside
 * mp_xcode_input/tick/dtmf_in).  ENOTSUP: a codec the engine lacks.
 */
int mp_xcode_alloc(struct mp_xcode **xcp, const struct mp_xcode_plan *a,
		   const struct mp_xcode_plan *b,
		   const struct mp_xcode_conf *conf, mp_xcode_send_h *sendh,
		   mp_xcode_event_h *eventh, void *arg)
{
	struct mp_xcode *xc;
	int err;

	if (!xcp || !a || !b)
		return EINVAL;
	err = mp_xcode_plan_check(a);
	if (!err)
		err = mp_xcode_plan_check(b);
	if (err)
		return err;

	xc = mem_zalloc(sizeof(*xc), xcode_destructor);
	if (!xc)
		return ENOMEM;

	if (conf)
		xc->conf = *conf;
	else
		mp_xcode_conf_default(&xc->conf);
	err = mp_xcode_conf_check(&xc->conf);
	if (err)
		goto out;

	xc->sendh = sendh;
	xc->eventh = eventh;
	xc->arg = arg;
	re_snprintf(xc->cname, sizeof(xc->cname), "tandem-%08x", random32());
	xc->gain_q12 = mp_dsp_gain_q12(xc->conf.gain_db);
	xc->leg[0].plan = *a;
	xc->leg[1].plan = *b;

	for (int i = 0; i < 2; i++) {
		err = leg_setup(xc, i);
		if (err)
			goto out;
	}

	xc->decode[0] = plans_decode(a, b);
	xc->decode[1] = plans_decode(b, a);
	/* Opus with different playback rates is still forwarded as is */

	for (int i = 0; i < 2; i++) {
		err = dir_setup(xc, i);
		if (err)
			goto out;
	}

out:
	if (err)
		mem_deref(xc);
	else
		*xcp = xc;
	return err;
}

/**
 * One RTP packet received from @leg's peer.  Returns 0 when it was
 * accepted (even if it produced nothing yet), EBADMSG/EPROTO for packets
 * counted and dropped, EPROTOTYPE for RTCP (not the engine's business).
 */
int mp_xcode_input(struct mp_xcode *xc, enum mp_leg_id leg, const uint8_t *pkt,
		   size_t len, int64_t now_ms)
{
	struct mp_rtp_hdr rtp;
	struct xc_leg *l;
	int x = leg == MP_LEG_B ? 1 : 0;
	int err;

	if (!xc || !pkt || (leg != MP_LEG_A && leg != MP_LEG_B))
		return EINVAL;

	l = &xc->leg[x];
	xc->now_ms = now_ms;

	/* larger than the engine's buffers: malformed, like a bad header */
	err = len > MP_RTP_MAX_LEN ? EBADMSG : mp_rtp_parse(&rtp, pkt, len);
	if (err) {
		if (err != EPROTOTYPE)
			l->st.rx_malformed++;
		goto out;
	}

	if (!l->ssrc_set || (rtp.ssrc != l->ssrc &&
			     now_ms - l->last_rx_ms >= XC_SSRC_SWITCH_MS)) {
		if (l->ssrc_set)
			mp_dtmf_rx_init(&l->evrx);
		l->ssrc_set = true;
		l->ssrc = rtp.ssrc;
	} else if (rtp.ssrc != l->ssrc) {
		l->st.rx_wrong_ssrc++;
		err = EPROTO;
		goto out;
	}

	if (rtp.pt == l->plan.pt || rtp.pt == XC_PT_CN ||
	    (l->plan.te_pt && rtp.pt == l->plan.te_pt)) {
		mp_rxs_seq(&l->rxs, rtp.ssrc, rtp.seq);
		mp_rxs_jitter(&l->rxs, rtp.ts,
			      mp_rtp_units(now_ms * 1000, l->rtp_rate));
		if (!l->rtcp_next_ms)
			l->rtcp_next_ms = now_ms + MP_XC_RTCP_INTERVAL_MS / 2;
	}

	if (l->plan.te_pt && rtp.pt == l->plan.te_pt) {
		l->last_rx_ms = now_ms;
		l->st.rx_packets++;
		l->st.rx_bytes += len;
		ev_input(xc, x, &rtp);
	} else if (rtp.pt == l->plan.pt) {
		l->last_rx_ms = now_ms;
		l->st.rx_packets++;
		l->st.rx_bytes += len;
		audio_input(xc, x, &rtp);
	} else if (rtp.pt == XC_PT_CN) {
		/* RFC 3389: silence with a level; fill locally */
		l->last_rx_ms = now_ms;
		l->st.rx_packets++;
		l->st.rx_bytes += len;
		if (l->cng &&
		    !mp_dsp_cng_rx(l->cng, rtp.payload, rtp.payload_len))
			l->cn_active = true;
	} else {
		l->st.rx_wrong_pt++;
		err = EPROTO;
	}

out:
	return err;
}

/* the compound SR/RR/SDES for leg y, every 5 s (+-25 %) once RTP flows */
static void rtcp_send(struct mp_xcode *xc, int y, int64_t now_ms)
{
	struct xc_leg *l = &xc->leg[y];
	uint8_t buf[256];
	size_t len;

	if (!l->rtcp_next_ms || now_ms < l->rtcp_next_ms)
		return;
	l->rtcp_next_ms = now_ms + MP_XC_RTCP_INTERVAL_MS * 3 / 4 +
			  (int64_t)(random32() % (MP_XC_RTCP_INTERVAL_MS / 2));

	l->txs.last_ts = l->ts_out;
	if (mp_xc_rtcp_build(buf, sizeof(buf), &len, &l->txs, &l->rxs, now_ms,
			     xc->cname))
		return;
	l->st.rtcp_tx++;
	if (xc->sendh)
		xc->sendh((enum mp_leg_id)y, buf, len, true, xc->arg);
}

/**
 * An RTCP packet received from @leg's peer (the engine terminates RTCP,
 * see xcode.h).  0 when used, EBADMSG when malformed (counted).
 */
int mp_xcode_rtcp_input(struct mp_xcode *xc, enum mp_leg_id leg,
			const uint8_t *pkt, size_t len, int64_t now_ms)
{
	struct xc_leg *l;
	int32_t rtt = -1;
	int err;

	if (!xc || !pkt || (leg != MP_LEG_A && leg != MP_LEG_B))
		return EINVAL;
	l = &xc->leg[leg == MP_LEG_B ? 1 : 0];

	err = mp_xc_rtcp_parse(pkt, len, l->ssrc_out, &l->rxs, now_ms, &rtt);
	if (err) {
		l->st.rtcp_malformed++;
		return err;
	}
	l->st.rtcp_rx++;
	if (rtt >= 0)
		l->st.rtt_ms = rtt;
	return 0;
}

/**
 * Advance time: play out due jitter-buffer frames, send due telephone-
 * event packets and RTCP reports.  Call every 10 ms (more often is
 * harmless).
 */
int mp_xcode_tick(struct mp_xcode *xc, int64_t now_ms)
{
	struct mp_dtmf_tx_pkt pkt[8];

	if (!xc)
		return EINVAL;

	xc->now_ms = now_ms;

	for (int x = 0; x < 2; x++) {
		struct mp_dtmf_rx_note note;

		dir_pull(xc, x, now_ms);
		if (mp_dtmf_rx_poll(&xc->leg[x].evrx, now_ms, &note))
			handle_digit(
			    xc, x, SW_DTMF_RFC2833, false, true, note.digit,
			    note.duration * 1000 / xc->leg[x].rtp_rate);
	}

	for (int y = 0; xc->conf.rtcp && y < 2; y++)
		rtcp_send(xc, y, now_ms);

	for (int y = 0; y < 2; y++) {
		struct xc_leg *l = &xc->leg[y];
		unsigned n;

		if (!l->plan.te_pt)
			continue;
		clock_idle_leg(l, now_ms);
		if (!mp_dtmf_tx_busy(&l->evtx))
			continue;
		n = mp_dtmf_tx_poll(&l->evtx, now_ms, l->ts_out, pkt, 8);
		for (unsigned i = 0; i < n; i++) {
			send_rtp(xc, y, l->plan.te_pt, pkt[i].marker, pkt[i].ts,
				 pkt[i].pl, sizeof(pkt[i].pl));
			l->st.tx_events++;
		}
	}

	return 0;
}

/**
 * Continue, toward leg @to, the stream a plain relay was forwarding to it
 * untouched (an engine started mid-call): the same SSRC, the sequence
 * number after @last_seq, and forwarded audio keeps the timestamps it
 * comes with (@last_ts was the last), so the peer sees one unbroken stream
 * with events added.  Call before the first mp_xcode_input().
 */
void mp_xcode_continue(struct mp_xcode *xc, enum mp_leg_id to, uint32_t ssrc,
		       uint16_t last_seq, uint32_t last_ts)
{
	struct xc_leg *l;

	if (!xc || (to != MP_LEG_A && to != MP_LEG_B))
		return;
	l = &xc->leg[to];
	l->ssrc_out = ssrc;
	l->txs.ssrc = ssrc;
	l->seq_out = (uint16_t)(last_seq + 1);
	l->ts_out = last_ts + l->rtp_rate / 1000 * l->ptime;
	l->pass_anchor = true;
	l->pass_ssrc = ssrc;
	l->pass_off = 0;
}

/**
 * A digit received from @from by SIP INFO (media.play_dtmf): delivered to
 * the other leg by its send method, subject to @from's receive lock.
 */
int mp_xcode_dtmf_in(struct mp_xcode *xc, enum mp_leg_id from, char digit,
		     uint32_t duration_ms, int64_t now_ms)
{
	int x = from == MP_LEG_B ? 1 : 0;

	if (!xc || (from != MP_LEG_A && from != MP_LEG_B) ||
	    mp_dtmf_event_code(digit) < 0)
		return EINVAL;
	if (!duration_ms)
		duration_ms = 160;

	xc->now_ms = now_ms;
	handle_digit(xc, x, SW_DTMF_INFO, true, true, digit, duration_ms);
	return 0;
}

/** True when audio from @from is decoded (transcoded or DSP'd). */
bool mp_xcode_decodes(const struct mp_xcode *xc, enum mp_leg_id from)
{
	return xc && xc->decode[from == MP_LEG_B ? 1 : 0];
}

/** Counters of one leg (what was received from and sent to its peer). */
void mp_xcode_stats(const struct mp_xcode *xc, enum mp_leg_id leg,
		    struct mp_xcode_stats *st)
{
	const struct xc_leg *l;

	if (!xc || !st)
		return;
	l = &xc->leg[leg == MP_LEG_B ? 1 : 0];
	*st = l->st;
	st->lost = mp_rxs_lost(&l->rxs);
	st->jitter_ms = mp_rxs_jitter_ms(&l->rxs, l->rtp_rate);
	if (l->jb) {
		struct mp_dsp_jb_stats js;

		mp_dsp_jb_stats(l->jb, &js);
		st->jb_late += js.late;
		st->jb_dup += js.dup;
		st->jb_overflow += js.overflow;
		st->jb_grow = js.grow;
		st->jb_shrink = js.shrink;
		st->jb_delay_ms = js.delay_ms;
	}
}
