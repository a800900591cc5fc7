/*
 * swtime.c - monotonic and wall clocks
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * A time as the API takes it: milliseconds since 1970, or ISO 8601
 * ("2026-12-05", "2026-12-05T10:00:00Z", "...T10:00:00.250+08:00"; no
 * offset means UTC).  false when it is neither or out of range.
 */
bool sw_time_parse(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	struct tm tm = {0};
	long long off_s = 0, frac = 0;
	const char *p;
	time_t t;

	if (n && n <= 15 && digits(s, n)) {
		*ms = strtoll(s, NULL, 10);
		return true;
	}
	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return false;
	tm.tm_year = (int)strtol(s, NULL, 10) - 1900;
	tm.tm_mon = (int)strtol(s + 5, NULL, 10) - 1;
	tm.tm_mday = (int)strtol(s + 8, NULL, 10);
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		if (strlen(p) < 9 || !digits(p + 1, 2) || p[3] != ':' ||
		    !digits(p + 4, 2) || p[6] != ':' || !digits(p + 7, 2))
			return false;
		tm.tm_hour = (int)strtol(p + 1, NULL, 10);
		tm.tm_min = (int)strtol(p + 4, NULL, 10);
		tm.tm_sec = (int)strtol(p + 7, NULL, 10);
		p += 9;
		if (*p == '.') {
			int k = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, k++)
				if (k < 3)
					frac = frac * 10 + (*p - '0');
			for (; k < 3; k++)
				frac *= 10;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (strlen(p) != 6 || !digits(p + 1, 2) ||
			    p[3] != ':' || !digits(p + 4, 2))
				return false;
			off_s = ((int)strtol(p + 1, NULL, 10) * 3600 +
				 (int)strtol(p + 4, NULL, 10) * 60) *
				(*p == '-' ? -1 : 1);
			p += 6;
		}
	}
	if (*p || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 ||
	    tm.tm_year < 70 || tm.tm_year > 8000)
		return false;
	t = timegm(&tm);
	*ms = ((long long)t - off_s) * 1000 + frac;
	return true;
}
