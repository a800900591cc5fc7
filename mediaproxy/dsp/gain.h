/*
 * gain.h - voice gain (SS_VOICEGAIN, -10..+10 dB), clipping-safe
 *
 * Multiplies samples by 10^(dB/20) in Q12 fixed point and saturates to the
 * 16-bit range instead of wrapping.
 *
 * Threading: any (pure functions).
 * Bus:       none; the value reaches the engine in its dsp configuration.
 */
#ifndef MP_DSP_GAIN_H
#define MP_DSP_GAIN_H

#include <stddef.h>
#include <stdint.h>

#define MP_DSP_GAIN_MIN_DB (-10)
#define MP_DSP_GAIN_MAX_DB 10

int32_t mp_dsp_gain_q12(int db);
void    mp_dsp_gain_apply(int16_t *pcm, size_t n, int32_t q12);

#endif /* MP_DSP_GAIN_H */
