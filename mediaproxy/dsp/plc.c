/*
 * plc.c - packet loss concealment through spandsp plc
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include <spandsp.h>
#include "mediaproxy/dsp/plc.h"

struct mp_dsp_plc {
	plc_state_t *st;	/* owned */
};

static void plc_destructor(void *arg)
{
	struct mp_dsp_plc *plc = arg;

	if (plc->st)
		plc_free(plc->st);
}

/** Allocate a concealment state. */
int mp_dsp_plc_alloc(struct mp_dsp_plc **plcp)
{
	struct mp_dsp_plc *plc;

	if (!plcp)
		return EINVAL;

	plc = mem_zalloc(sizeof(*plc), plc_destructor);
	if (!plc)
		return ENOMEM;

	plc->st = plc_init(NULL);
	if (!plc->st) {
		mem_deref(plc);
		return ENOMEM;
	}

	*plcp = plc;
	return 0;
}

/** Feed a correctly received frame (it may be smoothed after a loss). */
void mp_dsp_plc_rx(struct mp_dsp_plc *plc, int16_t *pcm, size_t n)
{
	if (plc && pcm && n)
		plc_rx(plc->st, pcm, (int)n);
}

/*
 * spandsp 0.0.6 rotates its history ring with an overlapping memcpy()
 * (normalise_history) at the start of every loss.  Do that rotation here
 * with memmove(), so spandsp finds the ring already in order.
 */
static void plc_normalise(plc_state_t *st)
{
	int16_t tmp[PLC_HISTORY_LEN];
	int p = st->buf_ptr;

	if (st->missing_samples || p <= 0 || p >= PLC_HISTORY_LEN)
		return;
	memcpy(tmp, st->history, sizeof(int16_t) * (size_t)p);
	memmove(st->history, st->history + p,
		sizeof(int16_t) * (size_t)(PLC_HISTORY_LEN - p));
	memcpy(st->history + PLC_HISTORY_LEN - p, tmp,
	       sizeof(int16_t) * (size_t)p);
	st->buf_ptr = 0;
}

/** Synthesise @n samples for a lost frame. */
void mp_dsp_plc_fill(struct mp_dsp_plc *plc, int16_t *pcm, size_t n)
{
	if (!plc || !pcm || !n)
		return;
	plc_normalise(plc->st);
	plc_fillin(plc->st, pcm, (int)n);
}
