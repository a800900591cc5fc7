/*
 * edgedb.h - the dynamic blacklist and phone registrations in PostgreSQL
 *
 * A source edge.c blacklists is written to the `blacklist` table (origin
 * 'auto', expiring after SS_BLACKLIST_TIME s) so that it survives a
 * restart, other signalingd processes drop it too (the table's trigger
 * notifies tandem_changes, watch.h), `tandemctl blacklist` lists it and
 * billingd raises its alarm.  The writes are made by one worker thread
 * with its own blocking connection, from a bounded queue: the su_root
 * loop never waits for the database, and a flood of new bans costs at
 * most SG_EDGEDB_QUEUE pending rows (more are dropped and counted; the ban
 * itself is already in force in memory).  The same worker keeps the
 * phones' registrations in the `registrations` table (0013) and, once at
 * start, reads back the ones this node held, so that a restart keeps them.
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

/* a registration read back at start */
struct sg_edgedb_reg {
	char number[64];
	char contact[256];
	char source[64];
	int64_t remaining_ms; /* until it expires */
};

int sg_edgedb_start(struct sg_edgedb **dp, const char *conninfo,
		    const char *node);
void sg_edgedb_stop(struct sg_edgedb *d);
void sg_edgedb_ban(struct sg_edgedb *d, const char *ip, int64_t seconds,
		   const char *reason);
/* a phone's registration (table registrations): its contact and source
 * for seconds, or removed (contact NULL) */
void sg_edgedb_register(struct sg_edgedb *d, const char *number,
			const char *contact, const char *source,
			int64_t seconds);
/* the registrations this node held at its last stop (node = node_id, not
 * expired), once: -1 while not read yet, else how many (*regsp, free()d
 * by the caller; 0 from the second call on) */
long sg_edgedb_restored(struct sg_edgedb *d, struct sg_edgedb_reg **regsp);

#endif /* SG_EDGEDB_H */
