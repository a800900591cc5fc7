/*
 * resample.h - sample-rate conversion on the decoded path (speexdsp)
 *
 * Converts mono 16-bit PCM between any two rates (8, 12, 16, 24, 48 kHz in
 * practice).  Output length follows the input over time; one call may
 * return one sample more or less than the exact ratio.
 *
 * Ownership: libre-refcounted, owned by the engine direction using it.
 * Threading: any single thread per instance.
 * Bus:       none.
 */
#ifndef MP_DSP_RESAMPLE_H
#define MP_DSP_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct mp_dsp_resampler;

#define MP_DSP_RESAMPLE_QUALITY 3	/* speexdsp "VoIP" quality */

int mp_dsp_resampler_alloc(struct mp_dsp_resampler **rsp, uint32_t in_rate,
			   uint32_t out_rate, int quality);
int mp_dsp_resample(struct mp_dsp_resampler *rs, int16_t *out, size_t max,
		    size_t *outn, const int16_t *in, size_t n);

#endif /* MP_DSP_RESAMPLE_H */
