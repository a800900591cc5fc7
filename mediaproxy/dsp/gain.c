/*
 * gain.c - fixed-point voice gain with saturation
 */
#include <math.h>
#include "mediaproxy/dsp/gain.h"

/** Q12 multiplier of @db decibels (clamped to -10..+10 dB). */
int32_t mp_dsp_gain_q12(int db)
{
	if (db < MP_DSP_GAIN_MIN_DB)
		db = MP_DSP_GAIN_MIN_DB;
	if (db > MP_DSP_GAIN_MAX_DB)
		db = MP_DSP_GAIN_MAX_DB;

	return (int32_t)lrint(4096.0 * pow(10.0, db / 20.0));
}

/** Scale @n samples in place by @q12/4096, saturating at +-32767. */
void mp_dsp_gain_apply(int16_t *pcm, size_t n, int32_t q12)
{
	if (!pcm || q12 == 4096)
		return;

	for (size_t i = 0; i < n; i++) {
		int32_t v = (pcm[i] * q12 + 2048) >> 12;

		if (v > 32767)
			v = 32767;
		else if (v < -32768)
			v = -32768;
		pcm[i] = (int16_t)v;
	}
}
