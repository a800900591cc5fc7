/*
 * test_mp_xcode_util.h - signal helpers shared by the media-engine tests
 *
 * Tone synthesis, level and frequency measurement, and a packet collector
 * for the engine's send handler.  Header-only: each test runner includes it.
 */
#ifndef TEST_MP_XCODE_UTIL_H
#define TEST_MP_XCODE_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* a sine of @amp peak at @freq Hz, continuing phase across calls */
static inline void tu_sine(int16_t *pcm, size_t n, double freq, double amp,
			   uint32_t rate, double *phase)
{
	for (size_t i = 0; i < n; i++) {
		pcm[i] = (int16_t)lrint(amp * sin(*phase));
		*phase += 2 * M_PI * freq / rate;
		if (*phase > 2 * M_PI)
			*phase -= 2 * M_PI;
	}
}

static inline double tu_rms(const int16_t *pcm, size_t n)
{
	double acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += (double)pcm[i] * pcm[i];
	return n ? sqrt(acc / n) : 0;
}

static inline double tu_db(double rms_out, double rms_in)
{
	return 20.0 * log10(rms_out / rms_in);
}

/* frequency from interpolated zero crossings (rising edges) */
static inline double tu_freq(const int16_t *pcm, size_t n, uint32_t rate)
{
	double first = -1, last = -1;
	unsigned count = 0;

	for (size_t i = 1; i < n; i++) {
		if (pcm[i - 1] < 0 && pcm[i] >= 0) {
			double t = (double)(i - 1) +
				   (double)-pcm[i - 1] / (pcm[i] - pcm[i - 1]);

			if (first < 0)
				first = t;
			else
				count++;
			last = t;
		}
	}
	return count ? count * (double)rate / (last - first) : 0;
}

/* a growing buffer of packets, filled by an engine send handler */
struct tu_pkt {
	int leg;
	size_t len;
	uint8_t data[1500];
};

struct tu_sink {
	struct tu_pkt *pkt;
	size_t n, cap;
};

static inline void tu_sink_add(struct tu_sink *s, int leg, const uint8_t *p,
			       size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct tu_pkt *np = realloc(s->pkt, cap * sizeof(*s->pkt));

		if (!np)
			abort();	/* a test without memory cannot go on */
		s->pkt = np;
		s->cap = cap;
	}
	s->pkt[s->n].leg = leg;
	s->pkt[s->n].len = len > 1500 ? 1500 : len;
	memcpy(s->pkt[s->n].data, p, s->pkt[s->n].len);
	s->n++;
}

static inline void tu_sink_free(struct tu_sink *s)
{
	free(s->pkt);
	memset(s, 0, sizeof(*s));
}

#endif /* TEST_MP_XCODE_UTIL_H */
