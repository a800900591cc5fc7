/*
 * test_mp_jb.c - jitter buffer: a shuffled, duplicated, 5 %-lossy stream
 * comes out in order with concealment and no timing gaps; the adaptive
 * buffer grows under 40 ms of jitter and shrinks back, never leaving
 * [min, max]; the fixed buffer keeps its size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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
	uint32_t ts_end;	/* losses after this are the stream's end */
	int seq_errors, ts_errors, time_errors;
	uint32_t cap;		/* count samples above this delay */
	size_t above;
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

		if (f.kind == MP_DSP_JB_GROW) {
			o->grow++;
			continue;	/* extra audio, timeline unchanged */
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
		}
		else if (!o->have_end || (int32_t)(f.ts - o->ts_end) < 0) {
			o->lost++;
		}
	}
}

/* run @arr through a buffer, ticking every 10 ms */
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
			(void)mp_dsp_jb_put(jb, arr[i].seq, arr[i].ts, 8,
					    false, pl, sizeof(pl), 160, t);
			i++;
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
		if (lcg(&seed) % 100 < 5) {	/* duplicate, a bit later */
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
	       "%llu late\n", o.frames, o.lost, dropped,
	       (unsigned long long)st.dup, (unsigned long long)st.late);

	assert_int_equal(o.frames, N - dropped);	/* each once, in order */
	assert_int_equal(o.seq_errors, 0);
	assert_int_equal(o.lost, dropped);		/* each loss concealed */
	assert_int_equal(o.ts_errors, 0);		/* contiguous timeline */
	assert_int_equal(o.time_errors, 0);		/* regular clock */
	assert_int_equal(st.dup, dups);
	assert_int_equal(st.late, 0);
	assert_int_equal(o.dmin, 60);
	assert_int_equal(o.dmax, 60);
	assert_true(dropped >= 30 && dropped <= 70);	/* about 5 % */
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
		arr[i] = (struct arrival){1000 + (int64_t)i * 20 +
					  lcg(&seed) % 121,
					  (uint16_t)i, i * 160};
	jit = rfc3550_jitter(arr, N1);
	simulate(jb, arr, N1, &o, 0);
	peak = mp_dsp_jb_delay_ms(jb);
	mp_dsp_jb_stats(jb, &st);
	printf("  jitter %.1f ms: delay 60 -> %u ms (%llu grows, %llu late)\n",
	       jit, peak, (unsigned long long)st.grow,
	       (unsigned long long)st.late);
	assert_true(jit >= 35 && jit <= 45);
	assert_true(peak > 60);			/* grew */
	assert_true(o.dmax <= 200 && o.dmin >= 20);

	/* then 30 s of a clean network */
	for (uint32_t i = 0; i < N2; i++) {
		uint32_t k = N1 + i;

		arr[i] = (struct arrival){1000 + (int64_t)k * 20,
					  (uint16_t)k, k * 160};
	}
	o.have_ts = false;
	o.emitted = 0;
	simulate(jb, arr, N2, &o, 0);
	mp_dsp_jb_stats(jb, &st);
	printf("  clean: delay %u -> %u ms (%llu shrinks), range [%u, %u]\n",
	       peak, mp_dsp_jb_delay_ms(jb), (unsigned long long)st.shrink,
	       o.dmin, o.dmax);
	assert_true(mp_dsp_jb_delay_ms(jb) <= 40);	/* shrank back */
	assert_true(mp_dsp_jb_delay_ms(jb) >= 20);
	assert_true(o.dmax <= 200 && o.dmin >= 20);	/* never left range */
	assert_int_equal(o.ts_errors, 0);
	mem_deref(jb);
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
		arr[i] = (struct arrival){1000 + (int64_t)i * 20 +
					  lcg(&seed) % 300,
					  (uint16_t)i, i * 160};
	simulate(jb, arr, N, &o, 0);
	printf("  jitter 0..300 ms, max 100: delay %u..%u ms, %zu of %zu "
	       "samples above max, final %u ms\n", o.dmin, o.dmax, o.above,
	       o.emitted, mp_dsp_jb_delay_ms(jb));
	/* a burst of early packets may lift it for one frame time */
	assert_true(o.above * 50 < o.emitted);		/* < 2 % */
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
		arr[i] = (struct arrival){1000 + (int64_t)i * 20 +
					  lcg(&seed) % 121,
					  (uint16_t)i, i * 160};
	simulate(jb, arr, N, &o, 0);
	assert_int_equal(o.dmin, 60);
	assert_int_equal(o.dmax, 60);
	assert_int_equal(o.grow, 0);
	assert_int_equal(o.ts_errors, 0);
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
	assert_int_equal(mp_dsp_jb_delay_ms(jb), 200);	/* clamped */

	assert_int_equal(mp_dsp_jb_put(jb, 1, 1000, 8, false, pl, 160, 160,
				       0), 0);
	assert_int_equal(mp_dsp_jb_put(jb, 1, 1000, 8, false, pl, 160, 160,
				       1), EALREADY);
	assert_int_equal(mp_dsp_jb_put(jb, 2, 1160, 8, false, pl, 2000, 160,
				       1), EMSGSIZE);
	/* a timestamp 20 s ahead: the sender restarted, re-anchor */
	assert_int_equal(mp_dsp_jb_put(jb, 3, 1000 + 160000, 8, false, pl,
				       160, 160, 20), 0);
	mp_dsp_jb_stats(jb, &st);
	assert_int_equal(st.resync, 1);
	assert_int_equal(mp_dsp_jb_get(jb, 220, &f), 0);
	assert_int_equal(f.kind, MP_DSP_JB_FRAME);
	assert_int_equal(f.seq, 3);
	mem_deref(jb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reorder_dup_loss),
		cmocka_unit_test(adaptive_grows_and_shrinks),
		cmocka_unit_test(adaptive_capped_at_max),
		cmocka_unit_test(fixed_keeps_default),
		cmocka_unit_test(conf_checked_and_resync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
