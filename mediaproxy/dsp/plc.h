/*
 * plc.h - packet loss concealment for codecs without their own (G.711, G.722)
 *
 * Wraps spandsp's plc: every decoded frame is shown to it (history), and a
 * lost frame is synthesised from that history, fading to silence after
 * about 60 ms of consecutive loss.  G.729 and Opus conceal in their decoders.
 *
 * Ownership: libre-refcounted, owned by the codec instance that uses it.
 * Threading: any single thread per instance.
 * Bus:       none.
 */
#ifndef MP_DSP_PLC_H
#define MP_DSP_PLC_H

#include <stddef.h>
#include <stdint.h>

struct mp_dsp_plc;

int  mp_dsp_plc_alloc(struct mp_dsp_plc **plcp);
void mp_dsp_plc_rx(struct mp_dsp_plc *plc, int16_t *pcm, size_t n);
void mp_dsp_plc_fill(struct mp_dsp_plc *plc, int16_t *pcm, size_t n);

#endif /* MP_DSP_PLC_H */
