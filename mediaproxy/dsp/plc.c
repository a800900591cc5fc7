/*
 * plc.c - packet loss concealment through spandsp plc
 */
#include <errno.h>
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

/** Synthesise @n samples for a lost frame. */
void mp_dsp_plc_fill(struct mp_dsp_plc *plc, int16_t *pcm, size_t n)
{
	if (plc && pcm && n)
		plc_fillin(plc->st, pcm, (int)n);
}
