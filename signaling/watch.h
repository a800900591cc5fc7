/*
 * watch.h - committed configuration changes, heard from PostgreSQL
 *
 * One libpq connection LISTENs on channel tandem_changes (the triggers of
 * schema 0004 notify every committed change to the tables signalingd
 * loads, whoever makes it: the API, `tandemctl provision`, SQL by hand).
 * Each notification, coalesced over SG_WATCH_COALESCE_MS, calls changed()
 * (full = false when only the blacklist changed, schema 0008);
 * so does every (re)connection, as what was notified meanwhile is lost.
 * signalingd then reloads its routing tables without blocking
 * (sg_reload_tables), so a change applies within about a second and no
 * call drops.  The connection never blocks the loop: PQconnectStart/Poll,
 * the socket watched by the su_root; a lost connection is retried with a
 * backoff (1 s doubling to 10 s).
 *
 * Threading: main loop only.
 */
#ifndef SG_WATCH_H
#define SG_WATCH_H

#include <stdbool.h>

#include "signaling/sofia.h"

#define SG_WATCH_CHANNEL     "tandem_changes"
#define SG_WATCH_COALESCE_MS 50

struct sg;
struct sg_watch;

int sg_watch_start(struct sg_watch **wp, struct sg *sg, const char *conninfo,
		   void (*changed)(void *arg, bool full), void *arg);
void sg_watch_stop(struct sg_watch *w);

#endif /* SG_WATCH_H */
