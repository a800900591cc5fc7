/*
 * cng.c - comfort noise generator
 *
 * White noise shaped by a one-pole low-pass, scaled to the requested dBov
 * (0 dBov = full-scale sine RMS, 23170).  Cheap enough to run on every
 * silent frame.
 */
#include <errno.h>
#include <math.h>
#include <re.h>
#include "mediaproxy/dsp/cng.h"

struct mp_dsp_cng {
	uint32_t rnd;
	int level_dbov;		/* 0..127, as RFC 3389 */
	int32_t amp_q15;	/* per-sample noise amplitude */
	int32_t lp;		/* low-pass state */
};

static void cng_set_level(struct mp_dsp_cng *cng, int dbov)
{
	double rms;

	if (dbov < 0)
		dbov = 0;
	if (dbov > 127)
		dbov = 127;
	cng->level_dbov = dbov;
	rms = 23170.0 * pow(10.0, -dbov / 20.0);
	/* uniform noise in [-A, A] has RMS A/sqrt(3); the low-pass roughly
	 * halves it, hence the 2 */
	cng->amp_q15 = (int32_t)lrint(rms * sqrt(3.0) * 2.0);
}

/** Allocate a generator at the default level. */
int mp_dsp_cng_alloc(struct mp_dsp_cng **cngp, uint32_t seed)
{
	struct mp_dsp_cng *cng;

	if (!cngp)
		return EINVAL;

	cng = mem_zalloc(sizeof(*cng), NULL);
	if (!cng)
		return ENOMEM;

	cng->rnd = seed ? seed : 0x1234567u;
	cng_set_level(cng, MP_DSP_CNG_DEFAULT_DBOV);

	*cngp = cng;
	return 0;
}

/** Take the level of an RFC 3389 CN payload; spectral octets are ignored. */
int mp_dsp_cng_rx(struct mp_dsp_cng *cng, const uint8_t *pl, size_t len)
{
	if (!cng || !pl || len < 1 || len > 64)
		return EBADMSG;
	if (pl[0] > 127)
		return EBADMSG;

	cng_set_level(cng, pl[0]);
	return 0;
}

/** Fill @n samples with comfort noise. */
void mp_dsp_cng_generate(struct mp_dsp_cng *cng, int16_t *pcm, size_t n)
{
	if (!cng || !pcm)
		return;

	for (size_t i = 0; i < n; i++) {
		int32_t r;

		cng->rnd = cng->rnd * 1664525u + 1013904223u;
		r = (int32_t)(cng->rnd >> 16) - 32768;		/* Q15 */
		r = (int32_t)(((int64_t)r * cng->amp_q15) >> 15);
		cng->lp += (r - cng->lp) >> 1;
		pcm[i] = (int16_t)(cng->lp > 32767 ? 32767 :
				   cng->lp < -32768 ? -32768 : cng->lp);
	}
}

/** Current level, -dBov. */
int mp_dsp_cng_level(const struct mp_dsp_cng *cng)
{
	return cng ? cng->level_dbov : 0;
}
