/*
 * calendar.c - working time in a calendar's own time zone
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/calendar.h"

static int day_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* local time of now in tz (process TZ switched and restored) */
static bool local_in(const char *tz, time_t now, struct tm *tm)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	bool ok;

	setenv("TZ", tz && *tz ? tz : "UTC", 1);
	tzset();
	ok = localtime_r(&now, tm) != NULL;
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return ok;
}

/* Is now working time of the calendar? */
bool sg_calendar_working_at(const struct sg_calendar *cal, time_t now)
{
	struct tm tm;
	char day[32];
	int iso, secs;

	if (!cal || !local_in(cal->tz, now, &tm))
		return false;
	iso = tm.tm_wday == 0 ? 7 : tm.tm_wday;
	if (!(cal->days & (1U << iso)))
		return false;
	snprintf(day, sizeof(day), "%04d-%02d-%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
	day[10] = '\0';
	if (cal->nholidays && bsearch(day, cal->holidays, cal->nholidays,
				      sizeof(*cal->holidays), day_cmp))
		return false;
	secs = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return secs >= cal->start_s && secs < cal->end_s;
}

/* Sort a calendar's holidays (once, after loading). */
void sg_calendar_prepare(struct sg_calendar *cal)
{
	if (cal && cal->nholidays > 1)
		qsort(cal->holidays, cal->nholidays, sizeof(*cal->holidays),
		      day_cmp);
}

/* Recompute the working flag of every calendar. */
void sg_calendar_refresh(struct sg_calendar *cals, size_t n, time_t now)
{
	for (size_t i = 0; i < n; i++)
		cals[i].working = sg_calendar_working_at(&cals[i], now);
}
