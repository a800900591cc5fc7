/*
 * jb.c - fixed/adaptive jitter buffer with a regular output clock
 *
 * Time base: the output clock out_us says when the frame starting at
 * play_ts must leave.  A packet with timestamp ts is due at
 * out_us + (ts - play_ts) / rate.  Its "margin" is how long before that
 * moment it arrived; the largest recent margin is the delay the fastest
 * packets see, the spread of margins is the network jitter.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "mediaproxy/dsp/jb.h"

struct jb_slot {
	bool used;
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t dur;
	size_t len;
};

struct mp_dsp_jb {
	struct mp_dsp_jb_conf conf;
	uint32_t rate;
	bool started;
	int64_t out_us; /* when the frame at play_ts is due */
	uint32_t play_ts;
	uint32_t frame; /* last known packet duration, ts units */
	int64_t last_put_ms;
	int64_t last_move_us; /* last drop, trim or hold */
	bool quiet;	      /* the last played frame was silence */
	/* packets refused as late in a row, arriving at a steady offset
	 * from their timestamps (ms, relative to the run's first) */
	unsigned late_run;
	uint32_t late_ts;
	int64_t late_off_min, late_off_max;
	uint32_t delay_ms; /* nominal buffering, within [min, max] */
	int32_t margin[MP_DSP_JB_WINDOW];
	unsigned nmargin;
	unsigned margin_pos;
	struct jb_slot *held; /* slot handed out by the last get */
	struct mp_dsp_jb_stats st;
	/* the slots' bookkeeping is kept apart from their payloads: put
	 * and get scan every slot, which then reads a few cache lines
	 * instead of one per slot */
	struct jb_slot slot[MP_DSP_JB_SLOTS];
	size_t payload_max; /* largest payload held, bytes */
	size_t stride;	    /* bytes per slot in data */
	uint8_t data[];	    /* MP_DSP_JB_SLOTS x stride */
};

/* the payload buffer of slot s */
static inline uint8_t *slot_data(struct mp_dsp_jb *jb, const struct jb_slot *s)
{
	return jb->data + (size_t)(s - jb->slot) * jb->stride;
}

static inline int32_t ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/** Validate a configuration: 10 <= min <= max <= 1000 ms. */
int mp_dsp_jb_conf_check(const struct mp_dsp_jb_conf *conf)
{
	if (!conf)
		return EINVAL;
	if (conf->mode != MP_DSP_JB_FIXED && conf->mode != MP_DSP_JB_ADAPTIVE)
		return EINVAL;
	if (conf->min_ms < 10 || conf->max_ms > 1000 ||
	    conf->min_ms > conf->max_ms ||
	    conf->payload_max > MP_DSP_JB_PAYLOAD_MAX)
		return ERANGE;
	return 0;
}

/** Allocate a buffer for a stream with RTP clock @rtp_rate. */
int mp_dsp_jb_alloc(struct mp_dsp_jb **jbp, const struct mp_dsp_jb_conf *conf,
		    uint32_t rtp_rate)
{
	struct mp_dsp_jb *jb;
	int err;

	if (!jbp || !rtp_rate || rtp_rate > 192000)
		return EINVAL;
	err = mp_dsp_jb_conf_check(conf);
	if (err)
		return err;

	{
		size_t pmax = conf->payload_max ? conf->payload_max
						: MP_DSP_JB_PAYLOAD_MAX;
		size_t stride = (pmax + 15) & ~(size_t)15;

		jb = mem_zalloc(sizeof(*jb) + MP_DSP_JB_SLOTS * stride, NULL);
		if (!jb)
			return ENOMEM;
		jb->payload_max = pmax;
		jb->stride = stride;
	}

	jb->conf = *conf;
	if (jb->conf.default_ms < conf->min_ms)
		jb->conf.default_ms = conf->min_ms;
	if (jb->conf.default_ms > conf->max_ms)
		jb->conf.default_ms = conf->max_ms;
	jb->rate = rtp_rate;
	jb->frame = rtp_rate / 50;
	jb->delay_ms = jb->conf.default_ms;

	*jbp = jb;
	return 0;
}

static int64_t ts_to_us(const struct mp_dsp_jb *jb, int64_t ts)
{
	return ts * 1000000 / jb->rate;
}

static void jb_reset(struct mp_dsp_jb *jb)
{
	for (unsigned i = 0; i < MP_DSP_JB_SLOTS; i++)
		jb->slot[i].used = false;
	jb->started = false;
	jb->nmargin = 0;
	jb->margin_pos = 0;
	jb->held = NULL;
	jb->late_run = 0;
	jb->delay_ms = jb->conf.default_ms;
}

static void margin_add(struct mp_dsp_jb *jb, int32_t m)
{
	jb->margin[jb->margin_pos] = m;
	jb->margin_pos = (jb->margin_pos + 1) % MP_DSP_JB_WINDOW;
	if (jb->nmargin < MP_DSP_JB_WINDOW)
		jb->nmargin++;
}

static void margin_shift(struct mp_dsp_jb *jb, int32_t by)
{
	for (unsigned i = 0; i < jb->nmargin; i++)
		jb->margin[i] += by;
}

/*
 * One more packet refused as late: true when the last
 * MP_DSP_JB_LATE_RESYNC of them in a row arrived within
 * MP_DSP_JB_LATE_SPREAD_MS of one steady offset from their timestamps.
 */
static bool late_steady(struct mp_dsp_jb *jb, uint32_t ts, int64_t now_ms)
{
	int64_t off;

	if (!jb->late_run) {
		jb->late_ts = ts;
		jb->late_off_min = jb->late_off_max = now_ms;
		jb->late_run = 1;
		return false;
	}
	off = now_ms - (int64_t)ts_diff(ts, jb->late_ts) * 1000 / jb->rate;
	if (off < jb->late_off_min)
		jb->late_off_min = off;
	if (off > jb->late_off_max)
		jb->late_off_max = off;
	if (jb->late_off_max - jb->late_off_min > MP_DSP_JB_LATE_SPREAD_MS) {
		/* jitter, not a moved stream: this packet starts a new run */
		jb->late_run = 0;
		return late_steady(jb, ts, now_ms);
	}
	return ++jb->late_run >= MP_DSP_JB_LATE_RESYNC;
}

/**
 * Insert one packet.  Returns 0, EALREADY (duplicate), ETIMEDOUT (arrived
 * after its play time), ENOSPC (buffer full) or EMSGSIZE/EINVAL.
 */
int mp_dsp_jb_put(struct mp_dsp_jb *jb, uint16_t seq, uint32_t ts, uint8_t pt,
		  bool marker, const uint8_t *pl, size_t len, uint32_t dur,
		  int64_t now_ms)
{
	struct jb_slot *free_slot = NULL;
	int64_t now_us = now_ms * 1000;
	int32_t d;

	if (!jb || (!pl && len) || !dur || dur > jb->rate)
		return EINVAL;
	if (len > jb->payload_max)
		return EMSGSIZE;

	if (jb->started && now_ms - jb->last_put_ms > MP_DSP_JB_IDLE_MS)
		jb_reset(jb); /* silence (DTX, hold): start over */

	if (!jb->started) {
		jb->started = true;
		jb->play_ts = ts;
		jb->frame = dur;
		jb->out_us = now_us + (int64_t)jb->delay_ms * 1000;
		jb->last_move_us = now_us;
	}

	d = ts_diff(ts, jb->play_ts);
	if (d < -(int32_t)(2 * jb->rate) || d > (int32_t)(10 * jb->rate)) {
		/* timestamp jump (new stream, sender restart): re-anchor */
		jb->st.resync++;
		jb_reset(jb);
		return mp_dsp_jb_put(jb, seq, ts, pt, marker, pl, len, dur,
				     now_ms);
	}
	jb->st.put++;
	jb->last_put_ms = now_ms;

	if (d < 0) {
		jb->st.late++;
		if (!late_steady(jb, ts, now_ms))
			return ETIMEDOUT;
		/* late again and again, each as late as the others: the
		 * sender's timing moved (it stalled and went on without
		 * skipping), this is not jitter.  Waiting would refuse every
		 * packet for the rest of the call: re-anchor. */
		jb->st.resync++;
		jb_reset(jb);
		return mp_dsp_jb_put(jb, seq, ts, pt, marker, pl, len, dur,
				     now_ms);
	}
	jb->late_run = 0;

	for (unsigned i = 0; i < MP_DSP_JB_SLOTS; i++) {
		struct jb_slot *s = &jb->slot[i];

		if (!s->used) {
			if (!free_slot && s != jb->held)
				free_slot = s;
			continue;
		}
		if (s->seq == seq || s->ts == ts) {
			jb->st.dup++;
			return EALREADY;
		}
	}
	if (!free_slot) {
		jb->st.overflow++;
		return ENOSPC;
	}

	margin_add(jb,
		   (int32_t)((jb->out_us + ts_to_us(jb, d) - now_us) / 1000));

	free_slot->used = true;
	free_slot->seq = seq;
	free_slot->ts = ts;
	free_slot->dur = dur;
	free_slot->pt = pt;
	free_slot->marker = marker;
	free_slot->len = len;
	if (len)
		memcpy(slot_data(jb, free_slot), pl, len);

	return 0;
}

/* the held packet with the lowest timestamp at or after play_ts */
static struct jb_slot *jb_first(struct mp_dsp_jb *jb)
{
	struct jb_slot *best = NULL;

	for (unsigned i = 0; i < MP_DSP_JB_SLOTS; i++) {
		struct jb_slot *s = &jb->slot[i];

		if (!s->used)
			continue;
		if (ts_diff(s->ts, jb->play_ts) < 0) {
			s->used = false; /* overtaken by a shrink */
			jb->st.late++;
			continue;
		}
		if (!best || ts_diff(s->ts, best->ts) < 0)
			best = s;
	}

	return best;
}

/* smallest and largest margin of the window */
static void margin_range(const struct mp_dsp_jb *jb, int32_t *mnp, int32_t *mxp)
{
	int32_t mn = jb->margin[0], mx = jb->margin[0];

	for (unsigned i = 1; i < jb->nmargin; i++) {
		if (jb->margin[i] < mn)
			mn = jb->margin[i];
		if (jb->margin[i] > mx)
			mx = jb->margin[i];
	}
	*mnp = mn;
	*mxp = mx;
}

/*
 * Adaptive mode steps.  The buffering delay D is the largest margin (what
 * the fastest packets wait); the jitter is the spread of margins.  D is
 * steered toward target = spread + 10 ms within [min, max]:
 *
 * - GROW (a concealed frame): packets arrive late, or D is more than half a
 *   frame short of target.
 * - HOLD (the output clock moves later by less than half a frame, nothing
 *   is played): D is below min, or more than JB_TOL_MS short of target.
 *   The next frame leaves that much later; no concealed audio.
 * - DROP (one frame decoded, not played): D is above max (at once), or a
 *   quiet frame was just played and D stays at or above target after the
 *   drop.  Frames are never dropped while sound plays below max.
 * - TRIM (the output clock moves earlier by at most half a frame): D
 *   exceeds target by more than JB_TOL_MS.  No audio is lost: the next
 *   frame leaves up to half a frame early.  This also settles D within
 *   JB_TOL_MS of target, where frame drops alone left it anywhere in
 *   [target, target + one frame).
 *
 * Neither DROP nor TRIM brings the smallest margin under JB_GUARD_MS (no
 * step into lateness); HOLD, TRIM and the quiet DROP happen at most once
 * per JB_MOVE_US / JB_QUIET_US, except a HOLD back up to min.
 */
enum jb_step {
	JB_KEEP = 0,
	JB_GROW,
	JB_HOLD,
	JB_DROP,
	JB_TRIM,
};

enum {
	JB_TOL_MS = 2,	      /* D this close to target: leave it */
	JB_GUARD_MS = 4,      /* smallest margin a shrink may leave */
	JB_MOVE_US = 200000,  /* one sub-frame move per 200 ms */
	JB_QUIET_US = 100000, /* one quiet frame drop per 100 ms */
};

static enum jb_step jb_adapt(struct mp_dsp_jb *jb, int64_t now_us, int32_t *kp)
{
	int32_t mn, mx, target, f, k;
	const int32_t lo = (int32_t)jb->conf.min_ms;
	const int32_t hi = (int32_t)jb->conf.max_ms;
	const int64_t since = now_us - jb->last_move_us;

	if (jb->conf.mode != MP_DSP_JB_ADAPTIVE || jb->nmargin < 10)
		return JB_KEEP;

	margin_range(jb, &mn, &mx);
	f = (int32_t)(jb->frame * 1000 / jb->rate);
	if (f < 1)
		f = 1;
	target = mx - mn + 10;
	if (target < lo)
		target = lo;
	if (target > hi)
		target = hi;

	if (mx + f <= hi && (mn < 0 || mx < target - f / 2))
		return JB_GROW;
	if (mx < target &&
	    (mx < lo || (mx < target - JB_TOL_MS && since >= JB_MOVE_US))) {
		k = target - mx;
		*kp = k < f / 2 ? k : f / 2;
		return *kp > 0 ? JB_HOLD : JB_KEEP;
	}
	if (mx > hi && mx - f >= lo)
		return JB_DROP;
	/* silence: a whole frame can go unheard */
	if (jb->quiet && mx - f >= target && mn - f >= JB_GUARD_MS &&
	    since >= JB_QUIET_US)
		return JB_DROP;
	if (mx - target > JB_TOL_MS && since >= JB_MOVE_US && f >= 2) {
		/* equal steps of at most half a frame that land on target */
		int32_t steps = (mx - target + f / 2 - 1) / (f / 2);

		k = (mx - target + steps - 1) / steps;
		if (k > mn - JB_GUARD_MS)
			k = mn - JB_GUARD_MS;
		if (k > 0) {
			*kp = k;
			return JB_TRIM;
		}
	}

	return JB_KEEP;
}

static void jb_update_delay(struct mp_dsp_jb *jb)
{
	int32_t mn, mx;

	if (jb->conf.mode != MP_DSP_JB_ADAPTIVE || jb->nmargin < 10)
		return;
	margin_range(jb, &mn, &mx);
	jb->delay_ms = mx < 0 ? 0 : (uint32_t)mx;
}

/**
 * Pull the next frame if its time has come (@f->kind WAIT otherwise).
 * Call repeatedly until WAIT; every non-WAIT frame advances the timeline by
 * exactly @f->dur.
 */
int mp_dsp_jb_get(struct mp_dsp_jb *jb, int64_t now_ms,
		  struct mp_dsp_jb_frame *f)
{
	int64_t now_us = now_ms * 1000;
	struct jb_slot *s;
	int32_t frame_ms;

	if (!jb || !f)
		return EINVAL;

	memset(f, 0, sizeof(*f));
	if (jb->held) {
		jb->held->used = false;
		jb->held = NULL;
	}

	if (!jb->started || now_us < jb->out_us)
		return 0;

	if (now_ms - jb->last_put_ms > MP_DSP_JB_IDLE_MS) {
		jb_reset(jb);
		return 0;
	}

	frame_ms = (int32_t)(jb->frame * 1000 / jb->rate);

	uint32_t skipped = 0;
	int32_t k = 0;

	switch (jb_adapt(jb, now_us, &k)) {

	case JB_GROW:
		f->kind = MP_DSP_JB_GROW;
		f->ts = jb->play_ts;
		f->dur = jb->frame;
		jb->out_us += ts_to_us(jb, jb->frame);
		margin_shift(jb, frame_ms);
		jb_update_delay(jb);
		jb->st.grow++;
		/* the timeline stands still: the grow frame is extra audio
		 * played before the frame at play_ts */
		return 0;

	case JB_HOLD:
		/* the frame due leaves k ms later; nothing is played now
		 * unless that moment has passed too */
		jb->out_us += (int64_t)k * 1000;
		margin_shift(jb, k);
		jb_update_delay(jb);
		jb->last_move_us = now_us;
		jb->st.hold++;
		if (now_us < jb->out_us)
			return 0;
		break;

	case JB_TRIM:
		/* the frame due now leaves as usual, the next one k ms
		 * early; never so early that it is due already */
		if (jb->out_us - (int64_t)k * 1000 + ts_to_us(jb, jb->frame) <=
		    now_us)
			k = (int32_t)((jb->out_us + ts_to_us(jb, jb->frame) -
				       now_us - 1) /
				      1000);
		if (k <= 0)
			break;
		jb->out_us -= (int64_t)k * 1000;
		margin_shift(jb, -k);
		jb->last_move_us = now_us;
		jb->st.trim++;
		break;

	case JB_DROP:
		skipped = jb->frame;
		margin_shift(jb, -frame_ms);
		jb->last_move_us = now_us;
		jb->st.shrink++;
		s = jb_first(jb);
		if (s && s->ts == jb->play_ts) {
			/* hand it out to be decoded and discarded; the output
			 * clock does not move, the caller asks again */
			f->kind = MP_DSP_JB_DROP;
			f->ts = s->ts;
			f->dur = s->dur;
			f->seq = s->seq;
			f->pt = s->pt;
			f->payload = slot_data(jb, s);
			f->len = s->len;
			jb->frame = s->dur;
			jb->held = s;
			jb->play_ts += s->dur;
			return 0;
		}
		jb->play_ts += jb->frame; /* skip the missing frame */
		break;

	default:
		break;
	}

	s = jb_first(jb);
	if (s && s->ts == jb->play_ts) {
		f->kind = MP_DSP_JB_FRAME;
		f->ts = s->ts;
		f->dur = s->dur;
		f->seq = s->seq;
		f->pt = s->pt;
		f->marker = s->marker;
		f->payload = slot_data(jb, s);
		f->len = s->len;
		jb->frame = s->dur;
		jb->held = s; /* freed on the next get */
		jb->st.played++;
	} else {
		uint32_t gap =
		    s ? (uint32_t)ts_diff(s->ts, jb->play_ts) : jb->frame;

		f->kind = MP_DSP_JB_LOSS;
		f->ts = jb->play_ts;
		f->dur = gap < jb->frame ? gap : jb->frame;
		if (s && gap <= jb->frame) {
			f->next = slot_data(jb, s);
			f->next_len = s->len;
		}
		jb->st.lost++;
	}

	f->skipped = skipped;
	jb_update_delay(jb);
	jb->play_ts += f->dur;
	jb->out_us += ts_to_us(jb, f->dur);
	return 0;
}

/**
 * The shortest time a recent packet waited for playout, ms (0 when it was
 * late or too few packets were seen): what the buffer adds for sure.
 */
uint32_t mp_dsp_jb_min_wait_ms(const struct mp_dsp_jb *jb)
{
	int32_t mn, mx;

	if (!jb || jb->nmargin < 10)
		return 0;
	margin_range(jb, &mn, &mx);
	return mn > 0 ? (uint32_t)mn : 0;
}

/** The engine's verdict on the frame it just played (shrink when quiet). */
void mp_dsp_jb_set_quiet(struct mp_dsp_jb *jb, bool quiet)
{
	if (jb)
		jb->quiet = quiet;
}

/** Counters and the current delay. */
void mp_dsp_jb_stats(const struct mp_dsp_jb *jb, struct mp_dsp_jb_stats *st)
{
	if (!jb || !st)
		return;
	*st = jb->st;
	st->delay_ms = jb->delay_ms;
}

/**
 * Current buffering delay, ms: adaptive mode, what the fastest recent
 * packets wait before playout; fixed mode, the configured delay.
 */
uint32_t mp_dsp_jb_delay_ms(const struct mp_dsp_jb *jb)
{
	return jb ? jb->delay_ms : 0;
}
