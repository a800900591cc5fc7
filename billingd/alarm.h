/*
 * alarm.h - alarms: raised when a condition starts, cleared when it ends
 *
 * Every BD_ALARM_TICK_MS billingd asks every signalingd for its health (bus
 * health.ping, sgpeers.c) and, every BD_ALARM_DB_TICKS ticks, checks what needs
 * the database and its own host.  The conditions found are written to the
 * alarms table by one worker (apiq.c): a new (kind, subject) is raised, an
 * active one no longer found is cleared.  Kinds and severities:
 *
 *   signalingd_down      critical  no health.ping answer (one per
 *                                  signalingd: "signalingd:<url>" when
 *                                  there are several)
 *   media_node_lost      critical  a known media node is offline
 *   vendor_unreachable   major     a routing gateway fails OPTIONS
 *   vendor_registration  major     signalingd's REGISTER to a gateway fails
 *   capacity             warning   a routing gateway at its line limit
 *                        major     the switch at SS_MAX_CONCURRENT_CALLS
 *   long_call            warning   the longest call beyond
 *                                  SERVER_ALARM_LONG_CALL s
 *   low_asr              warning   SERVER_ALARM_LOW_ASR over the window
 *   low_balance          warning   SERVER_ALARM_LOW_BALANCE (prepaid)
 *   rtp_quality          warning   SERVER_ALARM_LOSS / _JITTER toward a
 *                                  routing gateway over the window
 *   cpu, memory, disk    major     SERVER_ALARM_CPU/MEMORY/DISK, billingd's
 *                                  host
 *   sip_blacklist        warning   sources on the dynamic SIP blacklist
 *                                  (signalingd's, origin 'auto')
 *
 * Threading: the tick on re_main; the checks and writes on the alarm
 * worker.
 * Bus:       REQ health.ping and stats.asr to every signalingd.
 */
#ifndef BD_ALARM_H
#define BD_ALARM_H

#define BD_ALARM_TICK_MS  2000
#define BD_ALARM_DB_TICKS 5 /* database and host checks: every 10 s */

struct bd;
struct bd_alarms;

#include <jansson.h>

int bd_alarms_alloc(struct bd_alarms **ap, struct bd *bd);
json_t *bd_alarms_health(const struct bd_alarms *a, double *cps);

#endif /* BD_ALARM_H */
