/*
 * ec.c - speexdsp echo canceller wrapper
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include "mediaproxy/dsp/ec.h"

#define EC_REF_FRAMES 64	/* reference frames kept (640 ms) */

struct mp_dsp_ec {
	SpeexEchoState *echo;		/* owned */
	SpeexPreprocessState *pp;	/* owned: residual echo suppression */
	size_t frame;
	int16_t *ref;			/* owned: EC_REF_FRAMES frames */
	int16_t *zero;			/* owned: one silent frame */
	unsigned rhead, rlen;
	unsigned lag;			/* reference frames held back */
};

static void ec_destructor(void *arg)
{
	struct mp_dsp_ec *ec = arg;

	if (ec->pp)
		speex_preprocess_state_destroy(ec->pp);
	if (ec->echo)
		speex_echo_state_destroy(ec->echo);
	mem_deref(ec->ref);
	mem_deref(ec->zero);
}

/**
 * Allocate a canceller for PCM at @rate with a tail of @tail_ms (64, 128 or
 * 256; other values are EINVAL).  It works on 10 ms frames.
 */
int mp_dsp_ec_alloc(struct mp_dsp_ec **ecp, uint32_t rate, uint32_t tail_ms)
{
	struct mp_dsp_ec *ec;
	spx_int32_t srate = (spx_int32_t)rate;
	spx_int32_t on = 1;

	if (!ecp || (rate != 8000 && rate != 16000 && rate != 48000 &&
		     rate != 12000 && rate != 24000))
		return EINVAL;
	if (tail_ms != 64 && tail_ms != 128 && tail_ms != 256)
		return EINVAL;

	ec = mem_zalloc(sizeof(*ec), ec_destructor);
	if (!ec)
		return ENOMEM;

	ec->frame = rate / 100;
	ec->echo = speex_echo_state_init((int)ec->frame,
					 (int)(rate / 1000 * tail_ms));
	ec->pp = speex_preprocess_state_init((int)ec->frame, (int)rate);
	ec->ref = mem_zalloc(EC_REF_FRAMES * ec->frame * sizeof(int16_t), NULL);
	ec->zero = mem_zalloc(ec->frame * sizeof(int16_t), NULL);
	if (!ec->echo || !ec->pp || !ec->ref || !ec->zero) {
		mem_deref(ec);
		return ENOMEM;
	}

	speex_echo_ctl(ec->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &srate);
	speex_preprocess_ctl(ec->pp, SPEEX_PREPROCESS_SET_ECHO_STATE,
			     ec->echo);
	on = 0;	/* only the echo suppressor: no denoise or AGC (VAD is off) */
	speex_preprocess_ctl(ec->pp, SPEEX_PREPROCESS_SET_DENOISE, &on);
	speex_preprocess_ctl(ec->pp, SPEEX_PREPROCESS_SET_AGC, &on);
	speex_preprocess_ctl(ec->pp, SPEEX_PREPROCESS_SET_DEREVERB, &on);

	*ecp = ec;
	return 0;
}

/** Samples per frame the canceller works on (10 ms). */
size_t mp_dsp_ec_frame(const struct mp_dsp_ec *ec)
{
	return ec ? ec->frame : 0;
}

/** Queue one frame sent toward the echoing party (far-end reference). */
void mp_dsp_ec_playback(struct mp_dsp_ec *ec, const int16_t *far)
{
	unsigned pos;

	if (!ec || !far)
		return;
	if (ec->rlen == EC_REF_FRAMES) {	/* capture side stalled */
		ec->rhead = (ec->rhead + 1) % EC_REF_FRAMES;
		ec->rlen--;
	}
	pos = (ec->rhead + ec->rlen) % EC_REF_FRAMES;
	memcpy(ec->ref + pos * ec->frame, far, ec->frame * sizeof(*far));
	ec->rlen++;
}

/**
 * Cancel echo from one received frame against the oldest queued reference
 * frame (silence when none is queued); @out may not equal @near.
 */
void mp_dsp_ec_capture(struct mp_dsp_ec *ec, const int16_t *near,
		       int16_t *out)
{
	const int16_t *far = ec ? ec->zero : NULL;

	if (!ec || !near || !out)
		return;
	/* keep the reference @lag frames behind (the time the captured
	 * audio spent in the jitter buffer), never more: a reference later
	 * than its echo looks non-causal to the filter */
	while (ec->rlen > ec->lag + 1) {
		ec->rhead = (ec->rhead + 1) % EC_REF_FRAMES;
		ec->rlen--;
	}
	if (ec->rlen) {
		far = ec->ref + ec->rhead * ec->frame;
		ec->rhead = (ec->rhead + 1) % EC_REF_FRAMES;
		ec->rlen--;
	}
	speex_echo_cancellation(ec->echo, near, far, out);
	speex_preprocess_run(ec->pp, out);
}

/**
 * Hold the reference back by @ms (rounded down to 10 ms frames): the delay
 * the received audio has on its way to the canceller beyond the echo path
 * itself, i.e. its shortest wait in the jitter buffer.
 */
void mp_dsp_ec_set_delay(struct mp_dsp_ec *ec, uint32_t ms)
{
	unsigned lag = ms / 10;

	if (!ec)
		return;
	ec->lag = lag < EC_REF_FRAMES - 2 ? lag : EC_REF_FRAMES - 2;
}

/** Cancel with an explicitly aligned reference frame (tests, offline). */
void mp_dsp_ec_cancel(struct mp_dsp_ec *ec, const int16_t *near,
		      const int16_t *far, int16_t *out)
{
	if (!ec || !near || !far || !out)
		return;
	speex_echo_cancellation(ec->echo, near, far, out);
	speex_preprocess_run(ec->pp, out);
}
