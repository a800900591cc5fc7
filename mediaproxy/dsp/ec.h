/*
 * ec.h - echo canceller (SS_ECHOCANCEL, SS_ECHOCANCELTAIL 64/128/256 ms)
 *
 * speexdsp's MDF canceller plus its residual echo suppressor.  The engine
 * shows it every frame it sends toward a leg (the far-end reference) and
 * then the frame received from that leg, which comes back with the echo
 * removed (@out must not alias @near).  spandsp's canceller is not used
 * (unusable in 0.0.6).
 *
 * Ownership: libre-refcounted, owned by the engine leg.
 * Threading: any single thread per instance.
 * Bus:       none.
 */
#ifndef MP_DSP_EC_H
#define MP_DSP_EC_H

#include <stddef.h>
#include <stdint.h>

struct mp_dsp_ec;

int    mp_dsp_ec_alloc(struct mp_dsp_ec **ecp, uint32_t rate, uint32_t tail_ms);
size_t mp_dsp_ec_frame(const struct mp_dsp_ec *ec);
void   mp_dsp_ec_set_delay(struct mp_dsp_ec *ec, uint32_t ms);
void   mp_dsp_ec_playback(struct mp_dsp_ec *ec, const int16_t *far);
void   mp_dsp_ec_capture(struct mp_dsp_ec *ec, const int16_t *near,
			 int16_t *out);
void   mp_dsp_ec_cancel(struct mp_dsp_ec *ec, const int16_t *near,
			const int16_t *far, int16_t *out);

#endif /* MP_DSP_EC_H */
