/* test_sg_calendar.c - working time in a calendar's own time zone */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "signaling/calendar.h"

/* 2026-11-26 is a Thursday (ISO 4) */
#define THU_1400_UTC ((time_t)1795701600)	/* 2026-11-26T14:00:00Z */

static void weekday_hours_zone(void **state)
{
	struct sg_calendar c;

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.tz, "UTC");
	c.days = (1U << 1) | (1U << 2) | (1U << 3) | (1U << 4) | (1U << 5);
	c.start_s = 9 * 3600;
	c.end_s = 18 * 3600;
	assert_true(sg_calendar_working_at(&c, THU_1400_UTC));
	/* 14:00 UTC is 23:00 in Tokyo: after hours */
	strcpy(c.tz, "Asia/Tokyo");
	assert_false(sg_calendar_working_at(&c, THU_1400_UTC));
	/* 09:00 in New York, Thursday: working ([start, end)) */
	strcpy(c.tz, "America/New_York");
	assert_true(sg_calendar_working_at(&c, THU_1400_UTC));
	assert_false(sg_calendar_working_at(&c, THU_1400_UTC - 1));
	/* Thursday not a working day */
	strcpy(c.tz, "UTC");
	c.days = 1U << 1;
	assert_false(sg_calendar_working_at(&c, THU_1400_UTC));
}

static void holidays(void **state)
{
	struct sg_calendar c;
	char days[2][11] = {"2026-12-25", "2026-11-26"};

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.tz, "UTC");
	c.days = 0xfe;
	c.start_s = 0;
	c.end_s = 86400;
	c.holidays = days;
	c.nholidays = 2;
	sg_calendar_prepare(&c);
	assert_string_equal(c.holidays[0], "2026-11-26");
	assert_false(sg_calendar_working_at(&c, THU_1400_UTC));
	assert_true(sg_calendar_working_at(&c, THU_1400_UTC + 86400));
	sg_calendar_refresh(&c, 1, THU_1400_UTC);
	assert_false(c.working);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(weekday_hours_zone),
		cmocka_unit_test(holidays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
