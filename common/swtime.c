/*
 * swtime.c - monotonic and wall clocks
 */
#include <stdio.h>
#include <time.h>

#include "common/swtime.h"

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds on the monotonic clock: for timers and durations. */
int64_t sw_time_mono_ms(void)
{
	return clock_us(CLOCK_MONOTONIC) / 1000;
}

/* Microseconds on the monotonic clock. */
int64_t sw_time_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* Milliseconds since the epoch: for CDR timestamps only. */
int64_t sw_time_wall_ms(void)
{
	return clock_us(CLOCK_REALTIME) / 1000;
}

/* Format a wall-clock instant as ISO 8601 UTC with milliseconds. */
int sw_time_iso(char *buf, size_t size, int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	int n;

	if (!gmtime_r(&t, &tm))
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}
