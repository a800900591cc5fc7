/*
 * sdnotify.h - telling systemd how a daemon is doing (sd_notify(3))
 *
 * Under a unit with Type=notify, systemd waits for READY before it counts
 * the daemon started (and before `systemctl start` returns), shows STATUS
 * in `systemctl status`, knows a SIGTERM drain from a hang (STOPPING) and
 * restarts a daemon whose loop stops answering (WATCHDOG, WatchdogSec=).
 * Outside systemd (NOTIFY_SOCKET unset) every call does nothing.
 *
 * Threading: any (sd_notify sends one datagram).
 */
#ifndef SW_SDNOTIFY_H
#define SW_SDNOTIFY_H

void sw_notify_ready(const char *status);
void sw_notify_reloading(void);
void sw_notify_stopping(const char *status);
void sw_notify_status(const char *status);
unsigned sw_notify_watchdog_ms(void);
void sw_notify_watchdog(void);

#endif /* SW_SDNOTIFY_H */
