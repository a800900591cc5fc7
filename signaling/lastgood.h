/*
 * lastgood.h - the last routing tables loaded, kept on disk
 *
 * Every full load from PostgreSQL that succeeds is saved, its query results
 * as they came (column names and text values), to <spool_dir>/tables.json:
 * written by a thread of its own to a temporary file, fsync'd, renamed, so
 * the loop never waits on the disk and the file is always whole.  When
 * PostgreSQL cannot be reached at start, signalingd rebuilds those results
 * (libpq's PQmakeEmptyPGresult/PQsetvalue) and hands them to the same
 * loader as a live query, then serves calls; the change notifications'
 * reconnection (watch.h) reloads from PostgreSQL once it is back.
 *
 * Ownership: sg_lastgood_save takes the results; sg_lastgood_read returns
 * results the caller clears.
 * Threading: save and read from the loop; the writer thread owns what it
 * was given.
 */
#ifndef SG_LASTGOOD_H
#define SG_LASTGOOD_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define SG_LASTGOOD_FILE    "tables.json"
#define SG_LASTGOOD_VERSION 1
#define SG_LASTGOOD_MAX	    16 /* results in one file at most */

void sg_lastgood_save(const char *path, PGresult **res, size_t n);
int sg_lastgood_read(const char *path, PGresult **res, size_t max, size_t *n,
		     int64_t *saved_ms, char *err, size_t errsz);
int sg_lastgood_parse(const char *text, size_t len, PGresult **res, size_t max,
		      size_t *n, int64_t *saved_ms, char *err, size_t errsz);
void sg_lastgood_wait(void);

#endif /* SG_LASTGOOD_H */
