/*
 * codec.h - audio codecs of the media engine behind one vtable
 *
 * PCMA, PCMU (G.711), G.729 (bcg729, annex B SID understood on receive and
 * produced only when the fmtp says annexb=yes), Opus (libopus, mono, 8-48 kHz
 * PCM, honouring maxplaybackrate, useinbandfec) and G.722 (spandsp).
 * A codec instance holds one encoder and one decoder; the engine owns one
 * instance per leg.  Samples are 16-bit mono PCM: the encoder takes them at
 * mp_xc_codec_pcm_rate(), the decoder returns them at mp_xc_codec_dec_rate()
 * (the same rate unless mp_xc_codec_set_dec_rate() chose another; Opus only).
 * Opus goes out in one packet per ptime, 10..60 ms: one frame of 10, 20, 40
 * or 60 ms, or 3/5 frames of 10 ms for 30/50 ms (RFC 6716 code 3).
 *
 * Ownership: mp_xc_codec_alloc() returns a libre-refcounted object.
 * Threading: any single thread per instance.
 * Bus:       none (the codec name comes from a leg plan, docs/bus.md).
 */
#ifndef MP_XC_CODEC_H
#define MP_XC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/media.h"

struct mp_xc_codec;

/* largest decoded frame any codec returns: 120 ms at 48 kHz */
#define MP_XC_PCM_MAX 5760

int mp_xc_codec_alloc(struct mp_xc_codec **cp, enum sw_codec id,
		      uint32_t rtp_rate, const char *fmtp);

enum sw_codec mp_xc_codec_id(const struct mp_xc_codec *c);
uint32_t mp_xc_codec_pcm_rate(const struct mp_xc_codec *c);
uint32_t mp_xc_codec_dec_rate(const struct mp_xc_codec *c);
int mp_xc_codec_set_dec_rate(struct mp_xc_codec *c, uint32_t rate);
uint32_t mp_xc_codec_rtp_rate(const struct mp_xc_codec *c);
bool mp_xc_codec_ptime_ok(const struct mp_xc_codec *c, uint32_t ptime);
uint32_t mp_xc_codec_ptime(const struct mp_xc_codec *c, uint32_t ptime);

int mp_xc_codec_encode(struct mp_xc_codec *c, uint8_t *out, size_t size,
		       size_t *lenp, const int16_t *pcm, size_t n);
int mp_xc_codec_decode(struct mp_xc_codec *c, int16_t *pcm, size_t max,
		       size_t *np, const uint8_t *pl, size_t len);
int mp_xc_codec_conceal(struct mp_xc_codec *c, int16_t *pcm, size_t n,
			const uint8_t *next, size_t nlen);
int mp_xc_codec_duration(const struct mp_xc_codec *c, uint32_t *tsp,
			 const uint8_t *pl, size_t len);

/* fmtp helper: value of "key=value" in an fmtp line, or -1 */
long mp_xc_fmtp_int(const char *fmtp, const char *key);

#endif /* MP_XC_CODEC_H */
