/*
 * calendar.h - work calendars: is it working time now? (SPEC §2, §3.4)
 *
 * A calendar has an IANA time zone, working days (ISO 1 = Monday .. 7),
 * working hours [start, end) and holiday dates (non-working all day).
 * Routing gateways with an active period of `working` / `non_working`
 * are candidates only while their calendar says so.  The state of every
 * calendar is computed when the tables load and refreshed every 30 s from
 * the housekeeping tick, never per call.
 *
 * Threading: su_root thread only (the time zone switch uses the process
 * TZ, which no other thread reads).
 */
#ifndef SG_CALENDAR_H
#define SG_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sg_calendar {
	int64_t id;
	char tz[64];
	unsigned days;	      /* bit d set = ISO weekday d works */
	int start_s, end_s;   /* seconds after local midnight */
	char (*holidays)[11]; /* owned: sorted "YYYY-MM-DD" */
	size_t nholidays;
	bool working; /* computed */
};

bool sg_calendar_working_at(const struct sg_calendar *cal, time_t now);
void sg_calendar_prepare(struct sg_calendar *cal);
void sg_calendar_refresh(struct sg_calendar *cals, size_t n, time_t now);

#endif /* SG_CALENDAR_H */
