/*
 * repack.c - PCM FIFO cutting decoded audio into outgoing ptime frames
 */
#include <errno.h>
#include <string.h>
#include "mediaproxy/xcode/repack.h"

/** Reset @rp for frames of @ptime ms at @pcm_rate. */
int mp_xc_repack_init(struct mp_xc_repack *rp, uint32_t pcm_rate,
		      uint32_t ptime)
{
	size_t frame;

	if (!rp || ptime < 10 || ptime > 60 || !pcm_rate || pcm_rate > 48000)
		return EINVAL;

	frame = (size_t)pcm_rate * ptime / 1000;
	if (!frame || frame * 4 > MP_XC_REPACK_MAX)
		return EINVAL;

	rp->len = 0;
	rp->frame = frame;
	rp->overflow = 0;
	return 0;
}

/** Append @n samples; on overflow the oldest samples are dropped. */
void mp_xc_repack_push(struct mp_xc_repack *rp, const int16_t *pcm, size_t n)
{
	if (!rp || !pcm || !n)
		return;

	if (n > MP_XC_REPACK_MAX) {
		rp->overflow += n - MP_XC_REPACK_MAX;
		pcm += n - MP_XC_REPACK_MAX;
		n = MP_XC_REPACK_MAX;
	}
	if (rp->len + n > MP_XC_REPACK_MAX) {
		size_t drop = rp->len + n - MP_XC_REPACK_MAX;

		memmove(rp->buf, rp->buf + drop,
			(rp->len - drop) * sizeof(*rp->buf));
		rp->len -= drop;
		rp->overflow += drop;
	}

	memcpy(rp->buf + rp->len, pcm, n * sizeof(*pcm));
	rp->len += n;
}

/** Take one whole frame into @frame; false when less than a frame is queued. */
bool mp_xc_repack_pop(struct mp_xc_repack *rp, int16_t *frame)
{
	if (!rp || !frame || rp->len < rp->frame)
		return false;

	memcpy(frame, rp->buf, rp->frame * sizeof(*frame));
	rp->len -= rp->frame;
	memmove(rp->buf, rp->buf + rp->frame, rp->len * sizeof(*rp->buf));
	return true;
}

/** Samples currently queued. */
size_t mp_xc_repack_level(const struct mp_xc_repack *rp)
{
	return rp ? rp->len : 0;
}
