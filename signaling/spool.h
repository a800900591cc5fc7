/*
 * spool.h - the CDR journal: no CDR is lost between signalingd and billingd
 *
 * Every finished call's CDR is appended as one JSON line to
 * <spool_dir>/cdr.journal and fdatasync'ed (sg_spool_sync, once for all
 * CDRs written in a loop turn) before it is first sent.  An
 * acknowledged id is appended to <spool_dir>/ack.journal.  On start-up the
 * CDRs without an ack are pending again (the journal is rewritten with just
 * those); when nothing is pending both files are truncated (compaction:
 * at once past 1 MiB, else from the housekeeping tick every 30 s).
 * billingd stores a CDR id once, so a resend after a lost ack is harmless.
 *
 * Ownership: the spool owns its pending list; callers own nothing in it.
 * Threading: main loop only.
 */
#ifndef SG_SPOOL_H
#define SG_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct sg_spool;

/* start sending one pending CDR; return 0 when it is now in flight */
typedef int(sg_spool_send_h)(const char *id, const char *json, void *arg);

int sg_spool_open(struct sg_spool **spoolp, const char *dir, char *err,
		  size_t errsz);
void sg_spool_close(struct sg_spool *spool);
/* one CDR: len bytes of JSON text (one object, no newline) */
int sg_spool_add(struct sg_spool *spool, const char *id, const char *cdr,
		 size_t len);
int sg_spool_sync(struct sg_spool *spool);
void sg_spool_compact(struct sg_spool *spool);
void sg_spool_ack(struct sg_spool *spool, const char *id);
void sg_spool_nack(struct sg_spool *spool, const char *id);
size_t sg_spool_kick(struct sg_spool *spool, size_t max_inflight,
		     sg_spool_send_h *send, void *arg);
size_t sg_spool_pending(const struct sg_spool *spool);
size_t sg_spool_inflight(const struct sg_spool *spool);

#endif /* SG_SPOOL_H */
