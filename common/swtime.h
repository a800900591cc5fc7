/*
 * swtime.h - clocks: monotonic for timers and durations, wall for CDR stamps
 *
 * Threading: any thread.
 */
#ifndef SW_TIME_H
#define SW_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int64_t sw_time_mono_ms(void);
int64_t sw_time_mono_us(void);
int64_t sw_time_wall_ms(void);
/* ISO 8601 UTC with milliseconds, e.g. 2026-11-26T09:33:29.123Z */
int sw_time_iso(char *buf, size_t size, int64_t wall_ms);
/* ms since 1970 or ISO 8601 (the API's from/to) -> ms since 1970 */
bool sw_time_parse(const char *s, int64_t *ms);

#endif /* SW_TIME_H */
