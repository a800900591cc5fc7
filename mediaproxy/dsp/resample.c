/*
 * resample.c - speexdsp resampler wrapper
 */
#include <errno.h>
#include <re.h>
#include <speex/speex_resampler.h>
#include "mediaproxy/dsp/resample.h"

struct mp_dsp_resampler {
	SpeexResamplerState *st;	/* owned */
	uint32_t in_rate;
	uint32_t out_rate;
};

static void resampler_destructor(void *arg)
{
	struct mp_dsp_resampler *rs = arg;

	if (rs->st)
		speex_resampler_destroy(rs->st);
}

/** Allocate a converter from @in_rate to @out_rate (quality 0..10). */
int mp_dsp_resampler_alloc(struct mp_dsp_resampler **rsp, uint32_t in_rate,
			   uint32_t out_rate, int quality)
{
	struct mp_dsp_resampler *rs;
	int err = 0;

	if (!rsp || !in_rate || !out_rate || in_rate > 192000 ||
	    out_rate > 192000 || quality < 0 || quality > 10)
		return EINVAL;

	rs = mem_zalloc(sizeof(*rs), resampler_destructor);
	if (!rs)
		return ENOMEM;

	rs->in_rate = in_rate;
	rs->out_rate = out_rate;
	rs->st = speex_resampler_init(1, in_rate, out_rate, quality, &err);
	if (!rs->st) {
		mem_deref(rs);
		return ENOMEM;
	}
	/* the filter's delay comes out first, as silence: output stays in
	 * step with input (n in -> n * out/in out), so a FIFO cutting it
	 * into frames never waits for samples the filter holds back */

	*rsp = rs;
	return 0;
}

/**
 * Convert @n input samples; at most @max samples are written to @out and
 * their count stored in *outn.  Input that does not fit is ENOSPC.
 */
int mp_dsp_resample(struct mp_dsp_resampler *rs, int16_t *out, size_t max,
		    size_t *outn, const int16_t *in, size_t n)
{
	spx_uint32_t in_len = (spx_uint32_t)n;
	spx_uint32_t out_len = (spx_uint32_t)max;

	if (!rs || !out || !outn || (!in && n))
		return EINVAL;

	if (speex_resampler_process_int(rs->st, 0, in, &in_len, out,
					&out_len) != RESAMPLER_ERR_SUCCESS)
		return EPROTO;
	*outn = out_len;

	return in_len == n ? 0 : ENOSPC;
}
