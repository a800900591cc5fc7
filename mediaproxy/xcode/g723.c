/*
 * g723.c - G.723.1 through libavcodec (mediaproxy/xcode/g723.h)
 *
 * libavcodec's "g723_1" encoder and decoder, one frame per call into it:
 * a payload is split into its frames here (their sizes are in their first
 * byte), so that a payload that does not end on a frame boundary is
 * refused before the decoder sees it.  libavcodec logs nothing: every
 * failure comes back as an error code, counted by the engine.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include "mediaproxy/xcode/g723.h"

#define G723_RATE    8000
#define G723_BITRATE 6300

struct mp_g723 {
	AVCodecContext *enc; /* owned */
	AVCodecContext *dec; /* owned */
	AVFrame *pcm_in;     /* owned: one frame of PCM for the encoder */
	AVFrame *pcm_out;    /* owned: one decoded frame */
	AVPacket *pkt;	     /* owned */
	int64_t pts;	     /* samples sent to the encoder */
};

/** Bytes of a frame by the two low bits of its first byte (G.723.1 §8). */
size_t mp_g723_frame_bytes(uint8_t first)
{
	static const uint8_t size[4] = {24, 20, 4, 1};

	return size[first & 3];
}

static void g723_destructor(void *arg)
{
	struct mp_g723 *g = arg;

	avcodec_free_context(&g->enc);
	avcodec_free_context(&g->dec);
	av_frame_free(&g->pcm_in);
	av_frame_free(&g->pcm_out);
	av_packet_free(&g->pkt);
}

static AVCodecContext *open_codec(const AVCodec *codec)
{
	const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	AVCodecContext *ctx;

	if (!codec)
		return NULL;
	ctx = avcodec_alloc_context3(codec);
	if (!ctx)
		return NULL;
	ctx->sample_rate = G723_RATE;
	ctx->sample_fmt = AV_SAMPLE_FMT_S16;
	ctx->bit_rate = G723_BITRATE;
	ctx->thread_count = 1;
	if (av_channel_layout_copy(&ctx->ch_layout, &mono) ||
	    avcodec_open2(ctx, codec, NULL) < 0)
		avcodec_free_context(&ctx);
	return ctx;
}

/** A G.723.1 encoder and decoder; ENOTSUP when libavcodec has neither. */
int mp_g723_alloc(struct mp_g723 **gp)
{
	const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	struct mp_g723 *g;

	if (!gp)
		return EINVAL;
	av_log_set_level(AV_LOG_QUIET);
	g = mem_zalloc(sizeof(*g), g723_destructor);
	if (!g)
		return ENOMEM;
	g->enc = open_codec(avcodec_find_encoder(AV_CODEC_ID_G723_1));
	g->dec = open_codec(avcodec_find_decoder(AV_CODEC_ID_G723_1));
	g->pcm_in = av_frame_alloc();
	g->pcm_out = av_frame_alloc();
	g->pkt = av_packet_alloc();
	if (!g->enc || !g->dec) {
		mem_deref(g);
		return ENOTSUP;
	}
	if (!g->pcm_in || !g->pcm_out || !g->pkt) {
		mem_deref(g);
		return ENOMEM;
	}
	g->pcm_in->nb_samples = MP_G723_FRAME_SAMPLES;
	g->pcm_in->format = AV_SAMPLE_FMT_S16;
	g->pcm_in->sample_rate = G723_RATE;
	if (av_channel_layout_copy(&g->pcm_in->ch_layout, &mono) ||
	    av_frame_get_buffer(g->pcm_in, 0) < 0) {
		mem_deref(g);
		return ENOMEM;
	}

	*gp = g;
	return 0;
}

/**
 * Number of frames in a payload, -1 when it does not end on a frame
 * boundary (or is empty).
 */
int mp_g723_frames(const uint8_t *pl, size_t len)
{
	int n = 0;

	if (!pl || !len)
		return -1;
	for (size_t off = 0; off < len; n++) {
		size_t fb = mp_g723_frame_bytes(pl[off]);

		if (fb > len - off)
			return -1;
		off += fb;
	}
	return n;
}

/** Encode @n samples (a whole number of 30 ms frames) at 6.3 kbit/s. */
int mp_g723_encode(struct mp_g723 *g, uint8_t *out, size_t size, size_t *lenp,
		   const int16_t *pcm, size_t n)
{
	size_t len = 0;

	if (!g || !out || !lenp || !pcm || n % MP_G723_FRAME_SAMPLES)
		return EINVAL;
	if (n / MP_G723_FRAME_SAMPLES * MP_G723_FRAME_BYTES > size)
		return EMSGSIZE;

	for (size_t i = 0; i < n; i += MP_G723_FRAME_SAMPLES) {
		int r;

		if (av_frame_make_writable(g->pcm_in) < 0)
			return ENOMEM;
		memcpy(g->pcm_in->data[0], pcm + i,
		       MP_G723_FRAME_SAMPLES * sizeof(*pcm));
		g->pcm_in->pts = g->pts;
		g->pts += MP_G723_FRAME_SAMPLES;
		if (avcodec_send_frame(g->enc, g->pcm_in) < 0)
			return EIO;
		r = avcodec_receive_packet(g->enc, g->pkt);
		if (r < 0)
			return EIO;
		if ((size_t)g->pkt->size > size - len) {
			av_packet_unref(g->pkt);
			return EMSGSIZE;
		}
		memcpy(out + len, g->pkt->data, (size_t)g->pkt->size);
		len += (size_t)g->pkt->size;
		av_packet_unref(g->pkt);
	}

	*lenp = len;
	return 0;
}

/** Decode every frame of a payload; EBADMSG for a malformed one. */
int mp_g723_decode(struct mp_g723 *g, int16_t *pcm, size_t max, size_t *np,
		   const uint8_t *pl, size_t len)
{
	int frames = mp_g723_frames(pl, len);
	size_t n = 0;

	if (!g || !pcm || !np)
		return EINVAL;
	if (frames < 0)
		return EBADMSG;
	if ((size_t)frames * MP_G723_FRAME_SAMPLES > max)
		return EMSGSIZE;

	for (size_t off = 0; off < len;) {
		size_t fb = mp_g723_frame_bytes(pl[off]);
		int r;

		/* not reference-counted: libavcodec copies it, padded */
		g->pkt->data = (uint8_t *)(uintptr_t)(pl + off);
		g->pkt->size = (int)fb;
		r = avcodec_send_packet(g->dec, g->pkt);
		g->pkt->data = NULL;
		g->pkt->size = 0;
		off += fb;
		if (r < 0)
			return EBADMSG;
		r = avcodec_receive_frame(g->dec, g->pcm_out);
		if (r < 0)
			return EBADMSG;
		/* one channel: planar is the same layout */
		if ((g->pcm_out->format != AV_SAMPLE_FMT_S16 &&
		     g->pcm_out->format != AV_SAMPLE_FMT_S16P) ||
		    g->pcm_out->nb_samples != MP_G723_FRAME_SAMPLES) {
			av_frame_unref(g->pcm_out);
			return EBADMSG;
		}
		memcpy(pcm + n, g->pcm_out->data[0],
		       MP_G723_FRAME_SAMPLES * sizeof(*pcm));
		n += MP_G723_FRAME_SAMPLES;
		av_frame_unref(g->pcm_out);
	}

	*np = n;
	return 0;
}
