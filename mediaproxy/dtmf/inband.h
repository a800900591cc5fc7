/*
 * inband.h - inband DTMF: detection (spandsp dtmf_rx) and generation
 *            (spandsp dtmf_tx) on decoded audio
 *
 * The detector reports the start and the end of each tone pair; the audio
 * it looks at is left untouched (SPEC 5: inband -> events keeps the tones).
 * The generator replaces the outgoing audio with the tones of queued digits
 * (events/INFO -> inband).  Both run at 8 kHz; other PCM rates go through a
 * resampler of their own.
 *
 * mp_dtmf_det_alloc() is ELIBBAD when librem's goertzel_* functions shadow
 * spandsp's (librem linked before spandsp): link -lspandsp first, or drop
 * -lrem, which mediaproxyd does not use.
 *
 * Ownership: libre-refcounted, owned by the engine leg.
 * Threading: any single thread per instance.
 * Bus:       detected digits surface as media.event {event:"dtmf"}.
 */
#ifndef MP_DTMF_INBAND_H
#define MP_DTMF_INBAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_dtmf_det;
struct mp_dtmf_gen;

/* @digit is the tone pair starting, or 0 when the tone ended */
typedef void (mp_dtmf_det_h)(char digit, void *arg);

int  mp_dtmf_det_alloc(struct mp_dtmf_det **detp, uint32_t pcm_rate,
		       mp_dtmf_det_h *h, void *arg);
void mp_dtmf_det_process(struct mp_dtmf_det *det, const int16_t *pcm,
			 size_t n);

int  mp_dtmf_gen_alloc(struct mp_dtmf_gen **genp, uint32_t pcm_rate);
int  mp_dtmf_gen_put(struct mp_dtmf_gen *gen, char digit, uint32_t on_ms);
bool mp_dtmf_gen_busy(const struct mp_dtmf_gen *gen);
size_t mp_dtmf_gen_mix(struct mp_dtmf_gen *gen, int16_t *pcm, size_t n);

#endif /* MP_DTMF_INBAND_H */
