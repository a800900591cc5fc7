/*
 * edgedb.h - the dynamic blacklist written to PostgreSQL
 *
 * A source edge.c blacklists is written to the `blacklist` table (origin
 * 'auto', expiring after SS_BLACKLIST_TIME s) so that it survives a
 * restart, other signalingd processes drop it too (the table's trigger
 * notifies tandem_changes, watch.h), `tandemctl blacklist` lists it and
 * billingd raises its alarm.  The writes are made by one worker thread
 * with its own blocking connection, from a bounded queue: the su_root
 * loop never waits for the database, and a flood of new bans costs at
 * most SG_EDGEDB_QUEUE pending rows (more are dropped and counted; the ban
 * itself is already in force in memory).
 *
 * Ownership: struct sg owns the one struct sg_edgedb.
 * Threading: sg_edgedb_ban() on the su_root thread; the writes on the
 * worker, which touches nothing but the queue.
 */
#ifndef SG_EDGEDB_H
#define SG_EDGEDB_H

#include <stdint.h>

#define SG_EDGEDB_QUEUE 1024

struct sg_edgedb;

int sg_edgedb_start(struct sg_edgedb **dp, const char *conninfo);
void sg_edgedb_stop(struct sg_edgedb *d);
void sg_edgedb_ban(struct sg_edgedb *d, const char *ip, int64_t seconds,
		   const char *reason);

#endif /* SG_EDGEDB_H */
