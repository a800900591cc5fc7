/*
 * codec.c - PCMA, PCMU, G.729, Opus, G.722 and G.723.1 behind one vtable
 *
 * Every codec converts between 16-bit mono PCM at its own PCM rate and RTP
 * payloads.  RTP timestamp units follow the RTP clock of the codec (Opus is
 * always 48000, G.722 is 8000 although it samples at 16 kHz, RFC 3551).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include <spandsp.h>
#include <opus/opus.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>
#include "mediaproxy/dsp/plc.h"
#include "mediaproxy/xcode/codec.h"
#include "mediaproxy/xcode/g723.h"

#define G729_FRAME_SAMPLES 80
#define G729_FRAME_BYTES   10
#define G729_SID_BYTES	   2

/*
 * libopus's OPUS_SET_FORCE_MODE request and its modes (src/opus_private.h,
 * not installed; stable since 1.0): what libopus's own multi-frame packets
 * use to keep every frame of a packet in one mode.
 */
#define XC_OPUS_SET_FORCE_MODE 11002
#define XC_OPUS_MODE_SILK      1000
#define XC_OPUS_MODE_HYBRID    1001
#define XC_OPUS_MODE_CELT      1002
#define XC_OPUS_JOIN_MAX       1500 /* bytes of one joined packet */

struct mp_xc_codec;

/* names, payload types and clocks: proto/media.h */
struct codec_ops {
	int (*init)(struct mp_xc_codec *c, const char *fmtp);
	void (*fini)(struct mp_xc_codec *c);
	int (*encode)(struct mp_xc_codec *c, uint8_t *out, size_t size,
		      size_t *lenp, const int16_t *pcm, size_t n);
	int (*decode)(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		      size_t *np, const uint8_t *pl, size_t len);
	int (*conceal)(struct mp_xc_codec *c, int16_t *pcm, size_t n,
		       const uint8_t *next, size_t nlen);
	int (*duration)(const struct mp_xc_codec *c, uint32_t *tsp,
			const uint8_t *pl, size_t len);
};

struct mp_xc_codec {
	const struct codec_ops *ops;
	enum sw_codec id;
	uint32_t pcm_rate; /* what the encoder takes */
	uint32_t dec_rate; /* what the decoder returns */
	uint32_t rtp_rate;
	struct mp_dsp_plc *plc;			  /* owned, G.711/G.722 */
	bcg729EncoderChannelContextStruct *g729e; /* owned */
	bcg729DecoderChannelContextStruct *g729d; /* owned */
	bool g729_vad;
	OpusEncoder *opuse;	  /* owned */
	OpusDecoder *opusd;	  /* owned */
	OpusRepacketizer *opusrp; /* owned */
	bool opus_fec;
	bool opus_join;		    /* 10 ms frames can be joined (30/50 ms) */
	g722_encode_state_t *g722e; /* owned */
	g722_decode_state_t *g722d; /* owned */
	struct mp_g723 *g723;	    /* owned */
};

/**
 * Integer value of @key in an fmtp line ("a=1;b=2" or "a=1; b=2"), or -1.
 * "yes"/"no" read as 1/0.
 */
long mp_xc_fmtp_int(const char *fmtp, const char *key)
{
	size_t klen;
	const char *p;

	if (!fmtp || !key)
		return -1;

	klen = strlen(key);
	for (p = fmtp; *p;) {
		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		if (!strncasecmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			char *end;
			long val;

			if (!strncasecmp(v, "yes", 3))
				return 1;
			if (!strncasecmp(v, "no", 2))
				return 0;
			val = strtol(v, &end, 10);
			return end == v || val < 0 ? -1 : val;
		}
		p = strchr(p, ';');
		if (!p)
			break;
	}

	return -1;
}

/* ---- G.711 ------------------------------------------------------------ */

static int xc_g711_init(struct mp_xc_codec *c, const char *fmtp)
{
	(void)fmtp;
	return mp_dsp_plc_alloc(&c->plc);
}

static int pcma_encode(struct mp_xc_codec *c, uint8_t *out, size_t size,
		       size_t *lenp, const int16_t *pcm, size_t n)
{
	(void)c;
	if (n > size)
		return EMSGSIZE;
	for (size_t i = 0; i < n; i++)
		out[i] = linear_to_alaw(pcm[i]);
	*lenp = n;
	return 0;
}

static int pcmu_encode(struct mp_xc_codec *c, uint8_t *out, size_t size,
		       size_t *lenp, const int16_t *pcm, size_t n)
{
	(void)c;
	if (n > size)
		return EMSGSIZE;
	for (size_t i = 0; i < n; i++)
		out[i] = linear_to_ulaw(pcm[i]);
	*lenp = n;
	return 0;
}

static int pcma_decode(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		       size_t *np, const uint8_t *pl, size_t len)
{
	if (len > max)
		return EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		pcm[i] = alaw_to_linear(pl[i]);
	mp_dsp_plc_rx(c->plc, pcm, len);
	*np = len;
	return 0;
}

static int pcmu_decode(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		       size_t *np, const uint8_t *pl, size_t len)
{
	if (len > max)
		return EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		pcm[i] = ulaw_to_linear(pl[i]);
	mp_dsp_plc_rx(c->plc, pcm, len);
	*np = len;
	return 0;
}

static int plc_conceal(struct mp_xc_codec *c, int16_t *pcm, size_t n,
		       const uint8_t *next, size_t nlen)
{
	(void)next;
	(void)nlen;
	mp_dsp_plc_fill(c->plc, pcm, n);
	return 0;
}

static int bytes_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			  const uint8_t *pl, size_t len)
{
	(void)c;
	(void)pl;
	*tsp = (uint32_t)
	    len; /* G.711: 1 byte = 1 sample; G.722: 1 byte = 1 tick */
	return 0;
}

/* ---- G.729 (bcg729) --------------------------------------------------- */

static void g729_fini(struct mp_xc_codec *c)
{
	if (c->g729e)
		closeBcg729EncoderChannel(c->g729e);
	if (c->g729d)
		closeBcg729DecoderChannel(c->g729d);
}

static int g729_init(struct mp_xc_codec *c, const char *fmtp)
{
	/* annex B is sent only when explicitly negotiated (annexb=yes) */
	c->g729_vad = mp_xc_fmtp_int(fmtp, "annexb") == 1;
	c->g729e = initBcg729EncoderChannel(c->g729_vad ? 1 : 0);
	c->g729d = initBcg729DecoderChannel();

	return c->g729e && c->g729d ? 0 : ENOMEM;
}

static int g729_encode(struct mp_xc_codec *c, uint8_t *out, size_t size,
		       size_t *lenp, const int16_t *pcm, size_t n)
{
	size_t len = 0;

	if (n % G729_FRAME_SAMPLES)
		return EINVAL;
	if (n / G729_FRAME_SAMPLES * G729_FRAME_BYTES > size)
		return EMSGSIZE;

	for (size_t i = 0; i < n; i += G729_FRAME_SAMPLES) {
		uint8_t blen = 0;

		bcg729Encoder(c->g729e, pcm + i, out + len, &blen);
		len += blen;
		if (blen == G729_SID_BYTES)
			break; /* a SID frame ends the payload */
	}

	*lenp = len; /* 0: VAD untransmitted frames, nothing to send */
	return 0;
}

static int g729_decode(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		       size_t *np, const uint8_t *pl, size_t len)
{
	size_t frames = len / G729_FRAME_BYTES;
	size_t rest = len % G729_FRAME_BYTES;
	size_t n = 0;

	if (rest != 0 && rest != G729_SID_BYTES)
		return EBADMSG;
	if ((frames + (rest ? 1 : 0)) * G729_FRAME_SAMPLES > max)
		return EMSGSIZE;

	for (size_t i = 0; i < frames; i++, n += G729_FRAME_SAMPLES)
		bcg729Decoder(c->g729d, pl + i * G729_FRAME_BYTES,
			      G729_FRAME_BYTES, 0, 0, 0, pcm + n);
	if (rest) { /* annex B SID: comfort noise for one frame */
		bcg729Decoder(c->g729d, pl + frames * G729_FRAME_BYTES,
			      G729_SID_BYTES, 0, 1, 0, pcm + n);
		n += G729_FRAME_SAMPLES;
	}

	*np = n;
	return 0;
}

static int g729_conceal(struct mp_xc_codec *c, int16_t *pcm, size_t n,
			const uint8_t *next, size_t nlen)
{
	int16_t tmp[G729_FRAME_SAMPLES];

	(void)next;
	(void)nlen;
	for (size_t i = 0; i < n; i += G729_FRAME_SAMPLES) {
		size_t k =
		    n - i < G729_FRAME_SAMPLES ? n - i : G729_FRAME_SAMPLES;

		bcg729Decoder(c->g729d, NULL, 0, 1, 0, 0, tmp);
		memcpy(pcm + i, tmp, k * sizeof(*tmp));
	}

	return 0;
}

static int g729_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			 const uint8_t *pl, size_t len)
{
	size_t rest = len % G729_FRAME_BYTES;

	(void)c;
	(void)pl;
	if (rest != 0 && rest != G729_SID_BYTES)
		return EBADMSG;
	*tsp = (uint32_t)((len / G729_FRAME_BYTES + (rest ? 1 : 0)) *
			  G729_FRAME_SAMPLES);
	return 0;
}

/* ---- Opus ------------------------------------------------------------- */

static void xc_opus_fini(struct mp_xc_codec *c)
{
	if (c->opuse)
		opus_encoder_destroy(c->opuse);
	if (c->opusd)
		opus_decoder_destroy(c->opusd);
	if (c->opusrp)
		opus_repacketizer_destroy(c->opusrp);
}

static int xc_opus_init(struct mp_xc_codec *c, const char *fmtp)
{
	static const uint32_t rates[] = {8000, 12000, 16000, 24000, 48000};
	long mpbr = mp_xc_fmtp_int(fmtp, "maxplaybackrate");
	long br = mp_xc_fmtp_int(fmtp, "maxaveragebitrate");
	int err;

	/* the lowest Opus PCM rate that carries what the peer can play */
	c->pcm_rate = 48000;
	if (mpbr > 0) {
		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			if (rates[i] >= (uint32_t)mpbr) {
				c->pcm_rate = rates[i];
				break;
			}
		}
	}
	c->opus_fec = mp_xc_fmtp_int(fmtp, "useinbandfec") == 1;

	c->opuse = opus_encoder_create((opus_int32)c->pcm_rate, 1,
				       OPUS_APPLICATION_VOIP, &err);
	if (!c->opuse)
		return ENOMEM;
	c->opusd = opus_decoder_create((opus_int32)c->pcm_rate, 1, &err);
	if (!c->opusd)
		return ENOMEM;
	c->dec_rate = c->pcm_rate;
	c->opusrp = opus_repacketizer_create();
	if (!c->opusrp)
		return ENOMEM;
	/* a libopus without the request sends 30/50 ms as 20/40 ms */
	c->opus_join = opus_encoder_ctl(c->opuse, XC_OPUS_SET_FORCE_MODE,
					OPUS_AUTO) == OPUS_OK;

	if (c->opus_fec) {
		opus_encoder_ctl(c->opuse, OPUS_SET_INBAND_FEC(1));
		opus_encoder_ctl(c->opuse, OPUS_SET_PACKET_LOSS_PERC(10));
	}
	if (br >= 6000 && br <= 510000)
		opus_encoder_ctl(c->opuse, OPUS_SET_BITRATE((opus_int32)br));
	if (c->pcm_rate <= 8000)
		opus_encoder_ctl(c->opuse, OPUS_SET_MAX_BANDWIDTH(
					       OPUS_BANDWIDTH_NARROWBAND));
	else if (c->pcm_rate <= 16000)
		opus_encoder_ctl(
		    c->opuse, OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND));

	return 0;
}

static bool opus_frame_ok(uint32_t rate, size_t n)
{
	/* 2.5, 5, 10, 20, 40, 60 ms */
	return n * 400 == rate || n * 200 == rate || n * 100 == rate ||
	       n * 50 == rate || n * 25 == rate || n * 50 == rate * 3;
}

/* the mode of an Opus packet, from its TOC byte (RFC 6716 3.1) */
static int opus_toc_mode(uint8_t toc)
{
	unsigned config = toc >> 3;

	if (config < 12)
		return XC_OPUS_MODE_SILK;
	return config < 16 ? XC_OPUS_MODE_HYBRID : XC_OPUS_MODE_CELT;
}

/*
 * 30 or 50 ms as one packet of 3 or 5 frames of 10 ms (RFC 6716 code 3).
 * The repacketizer joins only frames with the same TOC, so the frames
 * after the first are encoded in the first one's mode and bandwidth, as
 * libopus does for its own 80-120 ms packets; the encoder is free again
 * at the next packet (mode switches fall on packet boundaries).
 */
static int opus_encode_joined(struct mp_xc_codec *c, uint8_t *out, size_t size,
			      size_t *lenp, const int16_t *pcm, size_t n)
{
	uint8_t tmp[XC_OPUS_JOIN_MAX];
	size_t f10 = c->pcm_rate / 100, k = n / f10, used = 0, cap;
	opus_int32 r;
	int err = 0;

	if (size > sizeof(tmp))
		size = sizeof(tmp);
	if (size < 4 * k)
		return EMSGSIZE;
	/* a code 3 header takes 2 bytes, and up to 2 more per frame */
	cap = (size - 2 * k) / k;

	opus_repacketizer_init(c->opusrp);
	for (size_t i = 0; i < k; i++) {
		if (i == 1) {
			opus_encoder_ctl(
			    c->opuse,
			    OPUS_SET_BANDWIDTH(opus_packet_get_bandwidth(tmp)));
			opus_encoder_ctl(c->opuse, XC_OPUS_SET_FORCE_MODE,
					 (opus_int32)opus_toc_mode(tmp[0]));
		}
		r = opus_encode(c->opuse, pcm + i * f10, (int)f10, tmp + used,
				(opus_int32)cap);
		if (r < 0 || opus_repacketizer_cat(c->opusrp, tmp + used, r) !=
				 OPUS_OK) {
			err = EPROTO;
			break;
		}
		used += (size_t)r;
	}
	if (k > 1) {
		opus_encoder_ctl(c->opuse, OPUS_SET_BANDWIDTH(OPUS_AUTO));
		opus_encoder_ctl(c->opuse, XC_OPUS_SET_FORCE_MODE, OPUS_AUTO);
	}
	if (err)
		return err;

	r = opus_repacketizer_out(c->opusrp, out, (opus_int32)size);
	if (r < 0)
		return EPROTO;
	*lenp = (size_t)r;
	return 0;
}

static int opus_encode_pkt(struct mp_xc_codec *c, uint8_t *out, size_t size,
			   size_t *lenp, const int16_t *pcm, size_t n)
{
	opus_int32 r;

	/* 2.5..60 ms in one frame; 30/50 ms as joined 10 ms frames */
	if (!opus_frame_ok(c->pcm_rate, n)) {
		if (c->opus_join && n && n % (c->pcm_rate / 100) == 0 &&
		    n * 1000 <= (size_t)c->pcm_rate * 60)
			return opus_encode_joined(c, out, size, lenp, pcm, n);
		return EINVAL;
	}

	r = opus_encode(c->opuse, pcm, (int)n, out, (opus_int32)size);
	if (r < 0)
		return EPROTO;

	*lenp = (size_t)r;
	return 0;
}

static int opus_decode_pkt(struct mp_xc_codec *c, int16_t *pcm, size_t max,
			   size_t *np, const uint8_t *pl, size_t len)
{
	int r;

	if (!len)
		return EBADMSG;
	r = opus_decode(c->opusd, pl, (opus_int32)len, pcm, (int)max, 0);
	if (r < 0)
		return EBADMSG;

	*np = (size_t)r;
	return 0;
}

static int opus_conceal(struct mp_xc_codec *c, int16_t *pcm, size_t n,
			const uint8_t *next, size_t nlen)
{
	int r;

	/* the next packet's in-band FEC rebuilds the lost one when present */
	if (c->opus_fec && next && nlen)
		r = opus_decode(c->opusd, next, (opus_int32)nlen, pcm, (int)n,
				1);
	else
		r = opus_decode(c->opusd, NULL, 0, pcm, (int)n, 0);

	if (r < 0) {
		memset(pcm, 0, n * sizeof(*pcm));
		return EPROTO;
	}
	if ((size_t)r < n)
		memset(pcm + r, 0, (n - (size_t)r) * sizeof(*pcm));

	return 0;
}

static int opus_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			 const uint8_t *pl, size_t len)
{
	int n;

	(void)c;
	if (!len)
		return EBADMSG;
	n = opus_packet_get_nb_samples(pl, (opus_int32)len, 48000);
	if (n <= 0 || n > 5760)
		return EBADMSG;

	*tsp = (uint32_t)n;
	return 0;
}

/* ---- G.722 (spandsp) -------------------------------------------------- */

static void xc_g722_fini(struct mp_xc_codec *c)
{
	if (c->g722e)
		g722_encode_free(c->g722e);
	if (c->g722d)
		g722_decode_free(c->g722d);
}

static int xc_g722_init(struct mp_xc_codec *c, const char *fmtp)
{
	(void)fmtp;
	c->pcm_rate = 16000;
	c->g722e = g722_encode_init(NULL, 64000, 0);
	c->g722d = g722_decode_init(NULL, 64000, 0);
	if (!c->g722e || !c->g722d)
		return ENOMEM;

	return mp_dsp_plc_alloc(&c->plc);
}

static int g722_encode_pkt(struct mp_xc_codec *c, uint8_t *out, size_t size,
			   size_t *lenp, const int16_t *pcm, size_t n)
{
	if (n % 2 || n / 2 > size)
		return EMSGSIZE;
	*lenp = (size_t)g722_encode(c->g722e, out, pcm, (int)n);
	return 0;
}

static int g722_decode_pkt(struct mp_xc_codec *c, int16_t *pcm, size_t max,
			   size_t *np, const uint8_t *pl, size_t len)
{
	int n;

	if (len * 2 > max)
		return EMSGSIZE;
	n = g722_decode(c->g722d, pcm, pl, (int)len);
	if (n < 0)
		return EBADMSG;
	mp_dsp_plc_rx(c->plc, pcm, (size_t)n);
	*np = (size_t)n;
	return 0;
}

/* ---- G.723.1 (libavcodec, g723.c) ------------------------------------ */

static void xc_g723_fini(struct mp_xc_codec *c)
{
	c->g723 = mem_deref(c->g723);
}

static int xc_g723_init(struct mp_xc_codec *c, const char *fmtp)
{
	int err;

	(void)fmtp; /* annexa (VAD) is not sent; received SIDs are decoded */
	err = mp_g723_alloc(&c->g723);
	return err ? err : mp_dsp_plc_alloc(&c->plc);
}

static int g723_encode_pkt(struct mp_xc_codec *c, uint8_t *out, size_t size,
			   size_t *lenp, const int16_t *pcm, size_t n)
{
	return mp_g723_encode(c->g723, out, size, lenp, pcm, n);
}

static int g723_decode_pkt(struct mp_xc_codec *c, int16_t *pcm, size_t max,
			   size_t *np, const uint8_t *pl, size_t len)
{
	int err = mp_g723_decode(c->g723, pcm, max, np, pl, len);

	if (!err)
		mp_dsp_plc_rx(c->plc, pcm, *np);
	return err;
}

static int g723_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			 const uint8_t *pl, size_t len)
{
	int frames = mp_g723_frames(pl, len);

	(void)c;
	if (frames < 0)
		return EBADMSG;
	*tsp = (uint32_t)frames * MP_G723_FRAME_SAMPLES;
	return 0;
}

/* ---- table ------------------------------------------------------------ */

static const struct codec_ops codec_table[SW_CODEC_COUNT] = {
    [SW_CODEC_PCMA] = {xc_g711_init, NULL, pcma_encode, pcma_decode,
		       plc_conceal, bytes_duration},
    [SW_CODEC_PCMU] = {xc_g711_init, NULL, pcmu_encode, pcmu_decode,
		       plc_conceal, bytes_duration},
    [SW_CODEC_G729] = {g729_init, g729_fini, g729_encode, g729_decode,
		       g729_conceal, g729_duration},
    [SW_CODEC_OPUS] = {xc_opus_init, xc_opus_fini, opus_encode_pkt,
		       opus_decode_pkt, opus_conceal, opus_duration},
    [SW_CODEC_G722] = {xc_g722_init, xc_g722_fini, g722_encode_pkt,
		       g722_decode_pkt, plc_conceal, bytes_duration},
    [SW_CODEC_G723] = {xc_g723_init, xc_g723_fini, g723_encode_pkt,
		       g723_decode_pkt, plc_conceal, g723_duration},
};

static void codec_destructor(void *arg)
{
	struct mp_xc_codec *c = arg;

	if (c->ops && c->ops->fini)
		c->ops->fini(c);
	mem_deref(c->plc);
}

/**
 * Allocate an encoder+decoder pair.  @rtp_rate 0 means the codec's usual
 * clock; a clock that disagrees with the codec (PCMA/16000) is ENOTSUP.
 */
int mp_xc_codec_alloc(struct mp_xc_codec **cp, enum sw_codec id,
		      uint32_t rtp_rate, const char *fmtp)
{
	struct mp_xc_codec *c;
	int err;

	if (!cp || (unsigned)id >= SW_CODEC_COUNT)
		return EINVAL;
	if (rtp_rate && rtp_rate != sw_codec_clock(id))
		return ENOTSUP;

	c = mem_zalloc(sizeof(*c), codec_destructor);
	if (!c)
		return ENOMEM;

	c->ops = &codec_table[id];
	c->id = id;
	c->rtp_rate = sw_codec_clock(id);
	c->pcm_rate = 8000;

	err = c->ops->init(c, fmtp ? fmtp : "");
	if (err) {
		mem_deref(c);
		return err;
	}
	c->dec_rate = c->pcm_rate;

	*cp = c;
	return 0;
}

enum sw_codec mp_xc_codec_id(const struct mp_xc_codec *c)
{
	return c->id;
}

/** Sample rate of the PCM this codec takes and returns. */
uint32_t mp_xc_codec_pcm_rate(const struct mp_xc_codec *c)
{
	return c ? c->pcm_rate : 0;
}

/** Sample rate of the PCM the decoder returns (the PCM rate unless set). */
uint32_t mp_xc_codec_dec_rate(const struct mp_xc_codec *c)
{
	return c ? c->dec_rate : 0;
}

/**
 * Make the decoder return PCM at @rate.  Opus decodes any stream at 8, 12,
 * 16, 24 or 48 kHz natively (cheaper, and without a resampler's delay,
 * than decoding at the encoder's rate and converting); the other codecs
 * have one rate.  Call before the first payload is decoded: the decoder
 * starts afresh.  ENOTSUP: a rate the codec cannot decode to.
 */
int mp_xc_codec_set_dec_rate(struct mp_xc_codec *c, uint32_t rate)
{
	OpusDecoder *d;
	int err;

	if (!c)
		return EINVAL;
	if (rate == c->dec_rate)
		return 0;
	if (c->id != SW_CODEC_OPUS ||
	    (rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 &&
	     rate != 48000))
		return ENOTSUP;

	d = opus_decoder_create((opus_int32)rate, 1, &err);
	if (!d)
		return ENOMEM;
	opus_decoder_destroy(c->opusd);
	c->opusd = d;
	c->dec_rate = rate;
	return 0;
}

/** RTP clock rate (timestamp units per second). */
uint32_t mp_xc_codec_rtp_rate(const struct mp_xc_codec *c)
{
	return c ? c->rtp_rate : 0;
}

/** True when the codec can packetise @ptime ms (10..60). */
bool mp_xc_codec_ptime_ok(const struct mp_xc_codec *c, uint32_t ptime)
{
	if (!c || ptime < 10 || ptime > 60)
		return false;
	if (c->id == SW_CODEC_G729)
		return ptime % 10 == 0;
	if (c->id == SW_CODEC_G723)
		return ptime % MP_G723_FRAME_MS == 0;
	if (c->id == SW_CODEC_OPUS)
		return ptime % 10 == 0 &&
		       (c->opus_join || (ptime != 30 && ptime != 50));
	return true;
}

/**
 * The ptime the engine sends for a negotiated @ptime: the same (Opus 30 and
 * 50 ms are packets of 3 and 5 frames of 10 ms).  Only a libopus that cannot
 * hold a packet's frames in one mode makes Opus 30/50 ms into 20/40 ms
 * (a=ptime is a preference; every receiver takes any Opus frame size).
 * G.723.1 goes in whole 30 ms frames: 30 ms unless 60 was negotiated.
 */
uint32_t mp_xc_codec_ptime(const struct mp_xc_codec *c, uint32_t ptime)
{
	if (c && c->id == SW_CODEC_OPUS && !mp_xc_codec_ptime_ok(c, ptime))
		return ptime > 40 ? 40 : 20;
	if (c && c->id == SW_CODEC_G723 && !mp_xc_codec_ptime_ok(c, ptime))
		return MP_G723_FRAME_MS;
	return ptime;
}

/** Encode @n PCM samples into one payload; *lenp may be 0 (G.729 VAD). */
int mp_xc_codec_encode(struct mp_xc_codec *c, uint8_t *out, size_t size,
		       size_t *lenp, const int16_t *pcm, size_t n)
{
	if (!c || !out || !lenp || !pcm)
		return EINVAL;
	return c->ops->encode(c, out, size, lenp, pcm, n);
}

/** Decode one payload into at most @max samples; *np receives the count. */
int mp_xc_codec_decode(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		       size_t *np, const uint8_t *pl, size_t len)
{
	if (!c || !pcm || !np || (!pl && len))
		return EINVAL;
	return c->ops->decode(c, pcm, max, np, pl, len);
}

/**
 * Produce @n samples for a lost payload; @next (may be NULL) is the packet
 * after the loss, used by Opus in-band FEC.
 */
int mp_xc_codec_conceal(struct mp_xc_codec *c, int16_t *pcm, size_t n,
			const uint8_t *next, size_t nlen)
{
	if (!c || !pcm)
		return EINVAL;
	return c->ops->conceal(c, pcm, n, next, nlen);
}

/** Duration of a payload in RTP timestamp units; EBADMSG if malformed. */
int mp_xc_codec_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			 const uint8_t *pl, size_t len)
{
	if (!c || !tsp || (!pl && len))
		return EINVAL;
	return c->ops->duration(c, tsp, pl, len);
}
