/*
 * test_mp_jb.c - jitter buffer: a shuffled, duplicated, 5 %-lossy stream
 * comes out in order with concealment and no timing gaps; the adaptive
 * buffer grows under 40 ms of jitter and shrinks back, never leaving
 * [min, max]; the fixed buffer keeps its size.  Phase trimming: a clean
 * 20 ms stream settles within 5 ms of min whatever its phase against the
 * caller's 10 ms clock, without dropping a frame while sound plays, and
 * follows a drifting sender clock both ways without a frame dropped or
 * inserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "mediaproxy/dsp/jb.h"
#include "tests/unit/test_mp_xcode_util.h"

struct arrival {
	int64_t at;
	uint16_t seq;
	uint32_t ts;
};

static int by_time(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

struct out_log {
	size_t frames, lost, grow, dropped;
	uint32_t next_ts;
	bool have_ts;
	int64_t first_t;
	size_t emitted;
	uint16_t last_seq;
	uint32_t dmin, dmax;
	bool have_end;
	uint32_t ts_end; /* losses after this are the stream's end */
	int seq_errors, ts_errors, time_errors;
	uint32_t cap; /* count samples above this delay */
	size_t above;
	/* optional: arrival time by seq, and figures from settle_t on */
	const int64_t *arrived;
	int64_t settle_t;
	uint32_t sdmin, sdmax; /* reported delay once settled */
	int64_t wait_max;      /* longest arrival -> release, settled */
	int64_t last_t, gap_min, gap_max; /* between releases, settled */
};

static void drain(struct mp_dsp_jb *jb, int64_t t, struct out_log *o)
{
	struct mp_dsp_jb_frame f;

	for (;;) {
		uint32_t d;

		assert_int_equal(mp_dsp_jb_get(jb, t, &f), 0);
		if (f.kind == MP_DSP_JB_WAIT)
			break;
		if (f.kind == MP_DSP_JB_DROP) {
			/* shrink: decoded, not played; the timeline goes on
			 * and the output clock does not move */
			if (o->have_ts && f.ts != o->next_ts)
				o->ts_errors++;
			o->next_ts = f.ts + f.dur;
			o->dropped++;
			continue;
		}

		if (!o->emitted)
			o->first_t = t;
		/* regular output clock: frame k leaves at first + 20 k ms */
		if (llabs(t - (o->first_t + (int64_t)o->emitted * 20)) > 10)
			o->time_errors++;
		o->emitted++;

		d = mp_dsp_jb_delay_ms(jb);
		if (d < o->dmin)
			o->dmin = d;
		if (d > o->dmax)
			o->dmax = d;
		if (o->cap && d > o->cap)
			o->above++;
		if (o->settle_t && t >= o->settle_t) {
			if (d < o->sdmin)
				o->sdmin = d;
			if (d > o->sdmax)
				o->sdmax = d;
			if (o->last_t && t - o->last_t < o->gap_min)
				o->gap_min = t - o->last_t;
			if (o->last_t && t - o->last_t > o->gap_max)
				o->gap_max = t - o->last_t;
			/* the last packet has no next one to pull it out */
			if (o->arrived && f.kind == MP_DSP_JB_FRAME &&
			    (!o->have_end || f.ts != o->ts_end) &&
			    t - o->arrived[f.seq] > o->wait_max)
				o->wait_max = t - o->arrived[f.seq];
		}
		o->last_t = t;

		if (f.kind == MP_DSP_JB_GROW) {
			o->grow++;
			continue; /* extra audio, timeline unchanged */
		}
		if (o->have_ts && f.ts != o->next_ts + f.skipped)
			o->ts_errors++;
		o->have_ts = true;
		o->next_ts = f.ts + f.dur;
		if (f.kind == MP_DSP_JB_FRAME) {
			if (o->frames &&
			    (int16_t)(uint16_t)(f.seq - o->last_seq) <= 0)
				o->seq_errors++;
			o->last_seq = f.seq;
			o->frames++;
		} else if (!o->have_end || (int32_t)(f.ts - o->ts_end) < 0) {
			o->lost++;
		}
	}
}

/*
 * Run @arr through a buffer as the engine does: pull after each packet and
 * every 10 ms tick, so pulls are not aligned to frames.
 */
static void simulate(struct mp_dsp_jb *jb, struct arrival *arr, size_t n,
		     struct out_log *o, int64_t tail_ms)
{
	uint8_t pl[160] = {0};
	size_t i = 0;
	int64_t end = arr[n - 1].at + tail_ms;

	qsort(arr, n, sizeof(*arr), by_time);
	for (int64_t t = arr[0].at; t <= end; t++) {
		while (i < n && arr[i].at == t) {
			pl[0] = (uint8_t)arr[i].seq;
			(void)mp_dsp_jb_put(jb, arr[i].seq, arr[i].ts, 8, false,
					    pl, sizeof(pl), 160, t);
			i++;
			drain(jb, t, o);
		}
		if (t % 10 == 0)
			drain(jb, t, o);
	}
}

static void reorder_dup_loss(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_FIXED, 20, 200, 60};
	enum { N = 1000 };
	static struct arrival arr[N * 2];
	struct mp_dsp_jb *jb = NULL;
	struct mp_dsp_jb_stats st;
	struct out_log o = {.dmin = 1000};
	uint32_t seed = 42;
	size_t n = 0, dropped = 0, dups = 0;

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);

	for (uint32_t i = 0; i < N; i++) {
		/* first and last always arrive, so the span is known */
		bool lose = i && i != N - 1 && lcg(&seed) % 100 < 5;
		int64_t at = 1000 + (int64_t)i * 20 + lcg(&seed) % 35;

		if (lose) {
			dropped++;
			continue;
		}
		arr[n++] = (struct arrival){at, (uint16_t)(65000 + i),
					    4000000000u + i * 160};
		if (lcg(&seed) % 100 < 5) { /* duplicate, a bit later */
			arr[n] = arr[n - 1];
			arr[n++].at += 1 + lcg(&seed) % 20;
			dups++;
		}
	}

	o.have_end = true;
	o.ts_end = 4000000000u + (N - 1) * 160;
	simulate(jb, arr, n, &o, 200);
	mp_dsp_jb_stats(jb, &st);
	printf("  %zu played, %zu concealed (%zu lost), %llu dups dropped, "
	       "%llu late\n",
	       o.frames, o.lost, dropped, (unsigned long long)st.dup,
	       (unsigned long long)st.late);

	assert_int_equal(o.frames, N - dropped); /* each once, in order */
	assert_int_equal(o.seq_errors, 0);
	assert_int_equal(o.lost, dropped);  /* each loss concealed */
	assert_int_equal(o.ts_errors, 0);   /* contiguous timeline */
	assert_int_equal(o.time_errors, 0); /* regular clock */
	assert_int_equal(st.dup, dups);
	assert_int_equal(st.late, 0);
	assert_int_equal(o.dmin, 60);
	assert_int_equal(o.dmax, 60);
	assert_true(dropped >= 30 && dropped <= 70); /* about 5 % */
	mem_deref(jb);
}

/* RFC 3550 interarrival jitter of an arrival schedule, ms */
static double rfc3550_jitter(const struct arrival *arr, size_t n)
{
	double j = 0;

	for (size_t i = 1; i < n; i++) {
		double d = (double)(arr[i].at - arr[i - 1].at) -
			   (double)(int32_t)(arr[i].ts - arr[i - 1].ts) / 8;

		j += (fabs(d) - j) / 16;
	}
	return j;
}

static void adaptive_grows_and_shrinks(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 200, 60};
	enum { N1 = 500, N2 = 1500 };
	static struct arrival arr[N1 + N2];
	struct mp_dsp_jb *jb = NULL;
	struct mp_dsp_jb_stats st;
	struct out_log o = {.dmin = 1000};
	uint32_t seed = 7, peak;
	double jit;

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);

	/* 10 s with delays spread over 0..120 ms (RFC 3550 jitter ~40 ms) */
	for (uint32_t i = 0; i < N1; i++)
		arr[i] =
		    (struct arrival){1000 + (int64_t)i * 20 + lcg(&seed) % 121,
				     (uint16_t)i, i * 160};
	jit = rfc3550_jitter(arr, N1);
	simulate(jb, arr, N1, &o, 0);
	peak = mp_dsp_jb_delay_ms(jb);
	mp_dsp_jb_stats(jb, &st);
	printf("  jitter %.1f ms: delay 60 -> %u ms (%llu grows, %llu late)\n",
	       jit, peak, (unsigned long long)st.grow,
	       (unsigned long long)st.late);
	assert_true(jit >= 35 && jit <= 45);
	assert_true(peak > 60); /* grew */
	assert_true(o.dmax <= 200 && o.dmin >= 20);

	/* then 30 s of a clean network */
	for (uint32_t i = 0; i < N2; i++) {
		uint32_t k = N1 + i;

		arr[i] = (struct arrival){1000 + (int64_t)k * 20, (uint16_t)k,
					  k * 160};
	}
	o.have_ts = false;
	o.emitted = 0;
	simulate(jb, arr, N2, &o, 0);
	mp_dsp_jb_stats(jb, &st);
	printf("  clean: delay %u -> %u ms (%llu shrinks), range [%u, %u]\n",
	       peak, mp_dsp_jb_delay_ms(jb), (unsigned long long)st.shrink,
	       o.dmin, o.dmax);
	assert_true(mp_dsp_jb_delay_ms(jb) <= 20 + 5); /* shrank back */
	assert_true(mp_dsp_jb_delay_ms(jb) >= 20);
	/* in sound (never reported quiet): trimmed, no frame dropped */
	assert_int_equal(st.shrink, 0);
	assert_true(st.trim > 0);
	assert_true(o.dmax <= 200 && o.dmin >= 20); /* never left range */
	assert_int_equal(o.ts_errors, 0);
	mem_deref(jb);
}

/*
 * A clean 20 ms stream (arrivals 1-3 ms after their slot, like the node's
 * G.729 generator) whose slots start @phase ms after a 10 ms tick, adaptive
 * 20..200 ms from 60 ms; continuous sound (never reported quiet).
 */
struct phase_run {
	struct out_log o;
	struct mp_dsp_jb_stats st;
};

static void run_phase(struct phase_run *r, int64_t phase, uint32_t seed)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 200, 60};
	enum { N = 300 }; /* 6 s */
	static struct arrival arr[N];
	static int64_t arrived[N];
	struct mp_dsp_jb *jb = NULL;

	memset(r, 0, sizeof(*r));
	r->o.dmin = r->o.sdmin = 1000;
	r->o.gap_min = 1000;
	r->o.arrived = arrived;
	r->o.settle_t = 1000 + 2000; /* 2 s after the first packet */
	r->o.have_end = true;	     /* the tail is not a loss */
	r->o.ts_end = (N - 1) * 160;

	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
	for (uint32_t i = 0; i < N; i++) {
		int64_t at =
		    1000 + phase + (int64_t)i * 20 + 1 + lcg(&seed) % 3;

		arr[i] = (struct arrival){at, (uint16_t)i, i * 160};
		arrived[i] = at;
	}
	simulate(jb, arr, N, &r->o, 100);
	mp_dsp_jb_stats(jb, &r->st);
	mem_deref(jb);
}

static void trim_settles_near_min(void **state)
{
	struct phase_run r;
	uint32_t worst = 0;
	int64_t worst_wait = 0, gap_min = 1000, gap_max = 0;
	uint64_t trims = 0;

	(void)state;
	for (int64_t phase = 0; phase < 20; phase++) {
		run_phase(&r, phase, 11 + (uint32_t)phase);

		/* settled within 2 s at min + <= 5 ms, never out of range */
		assert_true(r.o.sdmax <= 20 + 5);
		assert_true(r.o.dmin >= 20 && r.o.dmax <= 200);
		/* truthful: the fastest packets really wait that long; the
		 * next packet's put pulls each frame out about on time */
		assert_true(r.o.wait_max >= (int64_t)r.o.sdmin);
		assert_true(r.o.wait_max <= 20 + 5);
		/* no audio dropped or inserted: every frame played once */
		assert_int_equal(r.st.shrink, 0);
		assert_int_equal(r.st.grow, 0);
		assert_int_equal(r.o.frames, 300);
		assert_int_equal(r.o.lost, 0);
		assert_int_equal(r.st.late, 0);
		assert_int_equal(r.o.seq_errors, 0);
		assert_int_equal(r.o.ts_errors, 0);
		assert_true(r.st.trim >= 4); /* 60 -> 20 in <= 10 ms steps */
		/* once settled the output clock is regular again */
		assert_true(r.o.gap_min >= 10 && r.o.gap_max <= 30);

		if (r.o.sdmax > worst)
			worst = r.o.sdmax;
		if (r.o.wait_max > worst_wait)
			worst_wait = r.o.wait_max;
		if (r.o.gap_min < gap_min)
			gap_min = r.o.gap_min;
		if (r.o.gap_max > gap_max)
			gap_max = r.o.gap_max;
		trims += r.st.trim;
	}
	printf("  20 phases: settled delay <= %u ms (longest real wait "
	       "%lld ms), %llu trims, 0 drops, release gaps %lld..%lld ms\n",
	       worst, (long long)worst_wait, (unsigned long long)trims,
	       (long long)gap_min, (long long)gap_max);
}

/* while the engine reports quiet frames, whole frames still go at once */
static void quiet_drops_frames(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 200, 200};
	enum { N = 100 }; /* 2 s */
	static struct arrival arr[N];
	struct mp_dsp_jb *jb = NULL;
	struct mp_dsp_jb_stats st;
	struct out_log o = {.dmin = 1000};

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
	mp_dsp_jb_set_quiet(jb, true);
	for (uint32_t i = 0; i < N; i++)
		arr[i] = (struct arrival){1000 + (int64_t)i * 20 + 1,
					  (uint16_t)i, i * 160};
	simulate(jb, arr, N, &o, 0);
	mp_dsp_jb_stats(jb, &st);
	printf("  quiet: delay 200 -> %u ms in 2 s (%llu frames dropped, "
	       "%llu trims)\n",
	       mp_dsp_jb_delay_ms(jb), (unsigned long long)st.shrink,
	       (unsigned long long)st.trim);
	/* 180 ms in 1.8 s: drops (20 ms per 100 ms), trims alone are slower */
	assert_true(st.shrink >= 5);
	assert_true(mp_dsp_jb_delay_ms(jb) <= 25);
	assert_true(mp_dsp_jb_delay_ms(jb) >= 20);
	assert_int_equal(o.dropped, st.shrink);
	assert_int_equal(o.ts_errors, 0);
	assert_int_equal(o.lost, 0);
	mem_deref(jb);
}

/*
 * A sender clock 1000 ppm fast or slow (1 ms every 50 packets): margins
 * creep; small clock moves follow them with no frame dropped or inserted.
 */
static void drift_followed_by_small_moves(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 200, 20};
	enum { N = 1500 }; /* 30 s, 30 ms of drift */
	static struct arrival arr[N];

	(void)state;
	for (int dir = -1; dir <= 1; dir += 2) {
		struct mp_dsp_jb *jb = NULL;
		struct mp_dsp_jb_stats st;
		struct out_log o = {.dmin = 1000,
				    .sdmin = 1000,
				    .gap_min = 1000,
				    .settle_t = 3000,
				    .have_end = true,
				    .ts_end = (N - 1) * 160};
		uint32_t seed = 5;

		assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
		for (uint32_t i = 0; i < N; i++)
			arr[i] = (struct arrival){1000 + 7 + (int64_t)i * 20 +
						      dir * (int64_t)i / 50 +
						      1 + lcg(&seed) % 3,
						  (uint16_t)i, i * 160};
		simulate(jb, arr, N, &o, 100);
		mp_dsp_jb_stats(jb, &st);
		printf("  sender %s: delay %u..%u ms, %llu trims, %llu holds, "
		       "%llu drops, %llu grows\n",
		       dir < 0 ? "fast" : "slow", o.sdmin, o.sdmax,
		       (unsigned long long)st.trim, (unsigned long long)st.hold,
		       (unsigned long long)st.shrink,
		       (unsigned long long)st.grow);
		assert_true(o.sdmin >= 20 && o.sdmax <= 20 + 5);
		assert_int_equal(st.shrink, 0);
		assert_int_equal(st.grow, 0);
		assert_int_equal(o.frames, N);
		assert_int_equal(o.lost, 0);
		assert_int_equal(o.ts_errors, 0);
		if (dir < 0)
			assert_true(st.trim >= 5); /* 30 ms earlier */
		else
			assert_true(st.hold >= 5); /* 30 ms later */
		mem_deref(jb);
	}
}

static void adaptive_capped_at_max(void **state)
{
	/* jitter far above max: the buffer stops at max */
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 100, 60};
	enum { N = 500 };
	static struct arrival arr[N];
	struct mp_dsp_jb *jb = NULL;
	struct out_log o = {.dmin = 1000, .cap = 100};
	uint32_t seed = 3;

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
	for (uint32_t i = 0; i < N; i++)
		arr[i] =
		    (struct arrival){1000 + (int64_t)i * 20 + lcg(&seed) % 300,
				     (uint16_t)i, i * 160};
	simulate(jb, arr, N, &o, 0);
	printf("  jitter 0..300 ms, max 100: delay %u..%u ms, %zu of %zu "
	       "samples above max, final %u ms\n",
	       o.dmin, o.dmax, o.above, o.emitted, mp_dsp_jb_delay_ms(jb));
	/* a burst of early packets may lift it for one frame time */
	assert_true(o.above * 50 < o.emitted); /* < 2 % */
	assert_true(o.dmax <= 100 + 20);
	assert_true(mp_dsp_jb_delay_ms(jb) <= 100);
	assert_true(o.dmin >= 20);
	assert_int_equal(o.ts_errors, 0);
	mem_deref(jb);
}

static void fixed_keeps_default(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_FIXED, 20, 200, 60};
	enum { N = 500 };
	static struct arrival arr[N];
	struct mp_dsp_jb *jb = NULL;
	struct out_log o = {.dmin = 1000};
	uint32_t seed = 9;

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
	for (uint32_t i = 0; i < N; i++)
		arr[i] =
		    (struct arrival){1000 + (int64_t)i * 20 + lcg(&seed) % 121,
				     (uint16_t)i, i * 160};
	simulate(jb, arr, N, &o, 0);
	assert_int_equal(o.dmin, 60);
	assert_int_equal(o.dmax, 60);
	assert_int_equal(o.grow, 0);
	assert_int_equal(o.ts_errors, 0);
	mem_deref(jb);
}

/*
 * A sender that stalls and then goes on from the timestamp where it
 * stopped (no skip): from then on every packet is later than the buffer's
 * timeline.  The buffer must re-anchor on the new timing instead of
 * refusing every packet as late for the rest of the call.
 */
static void late_stream_reanchors(void **state)
{
	const struct mp_dsp_jb_conf conf = {MP_DSP_JB_ADAPTIVE, 20, 200, 60};
	enum { N = 150, STALL = 500 };
	static struct arrival arr[N];
	struct mp_dsp_jb *jb = NULL;
	struct mp_dsp_jb_stats st;
	struct out_log o = {.dmin = 1000};

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &conf, 8000), 0);
	for (uint32_t i = 0; i < N; i++)
		arr[i] = (struct arrival){1000 + (int64_t)i * 20 +
					      (i >= 50 ? STALL : 0),
					  (uint16_t)(100 + i), 1000u + i * 160};
	simulate(jb, arr, N, &o, 300);
	mp_dsp_jb_stats(jb, &st);
	printf("  %zu played, %zu concealed, %llu late, %llu resync\n",
	       o.frames, o.lost, (unsigned long long)st.late,
	       (unsigned long long)st.resync);
	/* MP_DSP_JB_LATE_RESYNC packets are lost to the re-anchoring,
	 * never the rest */
	assert_true(o.frames >= N - 15);
	assert_int_equal(st.resync, 1);
	assert_int_equal(o.seq_errors, 0);
	mem_deref(jb);
}

static void conf_checked_and_resync(void **state)
{
	struct mp_dsp_jb_conf bad = {MP_DSP_JB_ADAPTIVE, 200, 20, 60};
	struct mp_dsp_jb_conf ok = {MP_DSP_JB_ADAPTIVE, 20, 200, 500};
	struct mp_dsp_jb *jb = NULL;
	struct mp_dsp_jb_frame f;
	struct mp_dsp_jb_stats st;
	uint8_t pl[160] = {0};

	(void)state;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &bad, 8000), ERANGE);
	bad.min_ms = 5;
	assert_int_equal(mp_dsp_jb_alloc(&jb, &bad, 8000), ERANGE);
	assert_int_equal(mp_dsp_jb_alloc(&jb, &ok, 8000), 0);
	assert_int_equal(mp_dsp_jb_delay_ms(jb), 200); /* clamped */

	assert_int_equal(mp_dsp_jb_put(jb, 1, 1000, 8, false, pl, 160, 160, 0),
			 0);
	assert_int_equal(mp_dsp_jb_put(jb, 1, 1000, 8, false, pl, 160, 160, 1),
			 EALREADY);
	assert_int_equal(mp_dsp_jb_put(jb, 2, 1160, 8, false, pl, 2000, 160, 1),
			 EMSGSIZE);
	/* a timestamp 20 s ahead: the sender restarted, re-anchor */
	assert_int_equal(
	    mp_dsp_jb_put(jb, 3, 1000 + 160000, 8, false, pl, 160, 160, 20), 0);
	mp_dsp_jb_stats(jb, &st);
	assert_int_equal(st.resync, 1);
	assert_int_equal(mp_dsp_jb_get(jb, 220, &f), 0);
	assert_int_equal(f.kind, MP_DSP_JB_FRAME);
	assert_int_equal(f.seq, 3);
	mem_deref(jb);

	/* a buffer sized for G.729: 122-byte payloads, no more; the
	 * payload handed out is the one put, intact */
	{
		struct mp_dsp_jb_conf g = {MP_DSP_JB_FIXED, 20, 200, 20, 122};
		uint8_t big[123];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7 + 1);
		g.payload_max = MP_DSP_JB_PAYLOAD_MAX + 1;
		assert_int_equal(mp_dsp_jb_alloc(&jb, &g, 8000), ERANGE);
		g.payload_max = 122;
		assert_int_equal(mp_dsp_jb_alloc(&jb, &g, 8000), 0);
		assert_int_equal(
		    mp_dsp_jb_put(jb, 1, 0, 18, false, big, 123, 160, 0),
		    EMSGSIZE);
		for (uint16_t k = 0; k < 70; k++) { /* every slot, twice */
			assert_int_equal(mp_dsp_jb_put(jb, (uint16_t)(k + 1),
						       160u * k, 18, false,
						       big + (k % 2), 122, 160,
						       20 * k),
					 0);
			assert_int_equal(mp_dsp_jb_get(jb, 20 * k + 25, &f), 0);
			assert_int_equal(f.kind, MP_DSP_JB_FRAME);
			assert_int_equal(f.len, 122);
			assert_memory_equal(f.payload, big + (k % 2), 122);
		}
		mem_deref(jb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reorder_dup_loss),
	    cmocka_unit_test(adaptive_grows_and_shrinks),
	    cmocka_unit_test(adaptive_capped_at_max),
	    cmocka_unit_test(trim_settles_near_min),
	    cmocka_unit_test(quiet_drops_frames),
	    cmocka_unit_test(drift_followed_by_small_moves),
	    cmocka_unit_test(fixed_keeps_default),
	    cmocka_unit_test(late_stream_reanchors),
	    cmocka_unit_test(conf_checked_and_resync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
