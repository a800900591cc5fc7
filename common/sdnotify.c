/*
 * sdnotify.c - sd_notify(3) for the daemons (sdnotify.h)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#define SW_LOG_MODULE "systemd"
#include "common/log.h"
#include "common/sdnotify.h"

static void notify(const char *what, const char *status)
{
	char msg[512];

	if (status && status[0])
		snprintf(msg, sizeof(msg), "%s\nSTATUS=%s", what, status);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	if (sd_notify(0, msg) < 0)
		sw_warn("sd_notify %s failed", what);
}

/* The bus and the sockets are up: the daemon serves. */
void sw_notify_ready(const char *status)
{
	notify("READY=1", status);
}

/*
 * SIGHUP: a reload starts; sw_notify_ready() says it ended.  The
 * monotonic time is what Type=notify-reload units need (systemd 253).
 */
void sw_notify_reloading(void)
{
	struct timespec ts;
	char what[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(what, sizeof(what), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		     (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(what, NULL);
}

/* SIGTERM: draining before the exit. */
void sw_notify_stopping(const char *status)
{
	notify("STOPPING=1", status);
}

void sw_notify_status(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "STATUS=%s", status ? status : "");
	if (sd_notify(0, msg) < 0)
		sw_warn("sd_notify STATUS failed");
}

/*
 * How often to ping the watchdog: half of WatchdogSec=, 0 when the unit
 * has none (or this is not systemd).
 */
unsigned sw_notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return 0;
	usec /= 2000;
	return usec ? (unsigned)(usec > 3600000 ? 3600000 : usec) : 1;
}

/* The loop still turns. */
void sw_notify_watchdog(void)
{
	notify("WATCHDOG=1", NULL);
}
