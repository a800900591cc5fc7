/*
 * inband.c - DTMF tone detection and generation through spandsp
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <re.h>
#include <spandsp.h>
#include "mediaproxy/dsp/resample.h"
#include "mediaproxy/dtmf/rtpev.h"
#include "mediaproxy/dtmf/inband.h"

#define INBAND_RATE   8000
#define INBAND_CHUNK  480	/* 60 ms at 8 kHz */
#define GEN_QUEUE     32
#define GEN_OFF_MS    50	/* silence after each generated tone */
#define GEN_LEVEL     (-10)	/* dBm0 of the low tone */
#define GEN_TWIST     2		/* dB, high tone above low tone */

struct mp_dtmf_det {
	dtmf_rx_state_t *rx;			/* owned */
	struct mp_dsp_resampler *rs;		/* owned, when rate != 8k */
	mp_dtmf_det_h *h;
	void *arg;
};

struct mp_dtmf_gen {
	dtmf_tx_state_t *tx;			/* owned */
	struct mp_dsp_resampler *rs;		/* owned, when rate != 8k */
	uint32_t rate;
	bool playing;
	struct { char digit; uint32_t ms; } queue[GEN_QUEUE];
	unsigned qhead, qlen;
	int16_t pend[INBAND_CHUNK * 6];		/* resampled, not yet mixed */
	size_t npend;
};

/*
 * librem also exports goertzel_init/reset/result, with another state
 * layout.  Linked before spandsp it takes over spandsp's own calls and the
 * detector reads garbage.  Refuse to detect rather than detect wrongly.
 */
static bool goertzel_is_spandsp(void)
{
	void *h = dlopen("libspandsp.so.2", RTLD_LAZY | RTLD_NOLOAD);
	void *own, *global;

	if (!h)
		return true;	/* linked statically: no interposition */
	own = dlsym(h, "goertzel_init");
	global = dlsym(RTLD_DEFAULT, "goertzel_init");
	dlclose(h);

	return !own || own == global;
}

static void det_destructor(void *arg)
{
	struct mp_dtmf_det *det = arg;

	if (det->rx)
		dtmf_rx_free(det->rx);
	mem_deref(det->rs);
}

static void det_realtime(void *arg, int code, int level, int delay)
{
	struct mp_dtmf_det *det = arg;

	(void)level;
	(void)delay;
	if (det->h)
		det->h(code > 0 ? (char)code : 0, det->arg);
}

/** Allocate a detector for PCM at @pcm_rate; @h hears starts and ends. */
int mp_dtmf_det_alloc(struct mp_dtmf_det **detp, uint32_t pcm_rate,
		      mp_dtmf_det_h *h, void *arg)
{
	struct mp_dtmf_det *det;
	int err = 0;

	if (!detp || !pcm_rate)
		return EINVAL;
	if (!goertzel_is_spandsp())
		return ELIBBAD;	/* link -lspandsp before -lrem */

	det = mem_zalloc(sizeof(*det), det_destructor);
	if (!det)
		return ENOMEM;

	det->h = h;
	det->arg = arg;
	det->rx = dtmf_rx_init(NULL, NULL, NULL);
	if (!det->rx) {
		err = ENOMEM;
		goto out;
	}
	dtmf_rx_set_realtime_callback(det->rx, det_realtime, det);
	/* codecs such as G.729 bend the twist: accept a bit more */
	dtmf_rx_parms(det->rx, 0, 10, 10, -99);

	if (pcm_rate != INBAND_RATE)
		err = mp_dsp_resampler_alloc(&det->rs, pcm_rate, INBAND_RATE,
					     MP_DSP_RESAMPLE_QUALITY);

 out:
	if (err)
		mem_deref(det);
	else
		*detp = det;
	return err;
}

/** Look for tones in @n samples of decoded audio (not modified). */
void mp_dtmf_det_process(struct mp_dtmf_det *det, const int16_t *pcm,
			 size_t n)
{
	int16_t buf[INBAND_CHUNK];

	if (!det || !pcm)
		return;

	if (!det->rs) {
		while (n) {
			size_t k = n > INBAND_CHUNK ? INBAND_CHUNK : n;

			dtmf_rx(det->rx, pcm, (int)k);
			pcm += k;
			n -= k;
		}
		return;
	}

	while (n) {
		size_t k = n > INBAND_CHUNK ? INBAND_CHUNK : n, out = 0;

		if (mp_dsp_resample(det->rs, buf, sizeof(buf) / sizeof(*buf),
				    &out, pcm, k) && !out)
			return;
		dtmf_rx(det->rx, buf, (int)out);
		pcm += k;
		n -= k;
	}
}

static void gen_destructor(void *arg)
{
	struct mp_dtmf_gen *gen = arg;

	if (gen->tx)
		dtmf_tx_free(gen->tx);
	mem_deref(gen->rs);
}

/** Allocate a tone generator mixing into PCM at @pcm_rate. */
int mp_dtmf_gen_alloc(struct mp_dtmf_gen **genp, uint32_t pcm_rate)
{
	struct mp_dtmf_gen *gen;
	int err = 0;

	if (!genp || !pcm_rate || pcm_rate > 48000)
		return EINVAL;

	gen = mem_zalloc(sizeof(*gen), gen_destructor);
	if (!gen)
		return ENOMEM;

	gen->rate = pcm_rate;
	gen->tx = dtmf_tx_init(NULL);
	if (!gen->tx) {
		err = ENOMEM;
		goto out;
	}
	dtmf_tx_set_level(gen->tx, GEN_LEVEL, GEN_TWIST);

	if (pcm_rate != INBAND_RATE)
		err = mp_dsp_resampler_alloc(&gen->rs, INBAND_RATE, pcm_rate,
					     MP_DSP_RESAMPLE_QUALITY);

 out:
	if (err)
		mem_deref(gen);
	else
		*genp = gen;
	return err;
}

/** Queue a tone of @on_ms (clamped to 40..1000) followed by 50 ms silence. */
int mp_dtmf_gen_put(struct mp_dtmf_gen *gen, char digit, uint32_t on_ms)
{
	unsigned pos;

	if (!gen || mp_dtmf_event_code(digit) < 0 ||
	    mp_dtmf_event_code(digit) > 15)
		return EINVAL;	/* flash has no tone */
	if (gen->qlen >= GEN_QUEUE)
		return ENOSPC;

	if (on_ms < 40)
		on_ms = 40;
	if (on_ms > 1000)
		on_ms = 1000;

	pos = (gen->qhead + gen->qlen) % GEN_QUEUE;
	gen->queue[pos].digit = digit >= 'a' && digit <= 'd' ?
				(char)(digit - 'a' + 'A') : digit;
	gen->queue[pos].ms = on_ms;
	gen->qlen++;
	return 0;
}

/** True while tones are queued or sounding. */
bool mp_dtmf_gen_busy(const struct mp_dtmf_gen *gen)
{
	return gen && (gen->playing || gen->qlen || gen->npend);
}

/* next 8 kHz tone samples; 0 when nothing is left */
static size_t gen_tx(struct mp_dtmf_gen *gen, int16_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		int k;

		if (!gen->playing) {
			char d[2] = {0, 0};

			if (!gen->qlen)
				break;
			d[0] = gen->queue[gen->qhead].digit;
			dtmf_tx_set_timing(gen->tx,
					   (int)gen->queue[gen->qhead].ms,
					   GEN_OFF_MS);
			gen->qhead = (gen->qhead + 1) % GEN_QUEUE;
			gen->qlen--;
			dtmf_tx_put(gen->tx, d, 1);
			gen->playing = true;
		}

		k = dtmf_tx(gen->tx, out + got, (int)(n - got));
		if (k <= 0) {
			gen->playing = false;
			continue;
		}
		got += (size_t)k;
		if (got < n)
			gen->playing = false;	/* digit (and gap) finished */
	}

	return got;
}

/**
 * Replace the start of @pcm with pending tone audio; returns how many
 * samples were replaced (0 when idle).
 */
size_t mp_dtmf_gen_mix(struct mp_dtmf_gen *gen, int16_t *pcm, size_t n)
{
	int16_t t8[INBAND_CHUNK];
	size_t done = 0;

	if (!gen || !pcm)
		return 0;

	if (!gen->rs) {
		while (done < n) {
			size_t k = n - done > INBAND_CHUNK ? INBAND_CHUNK :
				   n - done;
			size_t got = gen_tx(gen, pcm + done, k);

			done += got;
			if (got < k)
				break;
		}
		return done;
	}

	/* other rates: tones at 8 kHz, resampled, kept until mixed */
	while (done < n) {
		size_t k;

		if (!gen->npend) {
			size_t want = (n - done) * INBAND_RATE / gen->rate + 1;
			size_t got;

			if (want > INBAND_CHUNK)
				want = INBAND_CHUNK;
			got = gen_tx(gen, t8, want);
			if (!got)
				break;
			if (mp_dsp_resample(gen->rs, gen->pend,
					    sizeof(gen->pend) /
					    sizeof(*gen->pend),
					    &gen->npend, t8, got) &&
			    !gen->npend)
				break;
			if (!gen->npend)
				continue;
		}
		k = gen->npend < n - done ? gen->npend : n - done;
		memcpy(pcm + done, gen->pend, k * sizeof(*pcm));
		memmove(gen->pend, gen->pend + k,
			(gen->npend - k) * sizeof(*pcm));
		gen->npend -= k;
		done += k;
	}

	return done;
}
