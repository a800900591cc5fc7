/*
 * calls.h - the active calls: a list in arrival order (newest first) and
 * an index by call id
 *
 * Every call is in the table from its creation (or its restore after a
 * restart) until call_free(); media.event and media.play_dtmf replies
 * find their call by id (the CDR id, which is also the media session id)
 * in constant time however many calls are up.
 *
 * Ownership: struct sg holds the only reference; the table links the
 *            calls (sg_call.next/prev/hnext) but does not own them.
 * Threading: signalingd's loop only.
 * Bus:       none (ctl.c's call.list walks it).
 */
#ifndef SG_CALLS_H
#define SG_CALLS_H

#include <stdbool.h>
#include <stdint.h>

struct sg_call;
struct sg_calls;

int sg_calls_alloc(struct sg_calls **tp);
void sg_calls_free(struct sg_calls *t);
void sg_calls_add(struct sg_calls *t, struct sg_call *c, bool started);
void sg_calls_del(struct sg_calls *t, struct sg_call *c);
struct sg_call *sg_calls_find(const struct sg_calls *t, const char *id);
struct sg_call *sg_calls_first(const struct sg_calls *t);
unsigned sg_calls_count(const struct sg_calls *t);
uint64_t sg_calls_started(const struct sg_calls *t);

#define SG_CALLS_CODES 600 /* final codes 100..699 counted */
void sg_calls_ended(struct sg_calls *t, int code);
uint64_t sg_calls_ended_count(const struct sg_calls *t, int code);
void sg_calls_failover(struct sg_calls *t);
uint64_t sg_calls_failovers(const struct sg_calls *t);

#endif /* SG_CALLS_H */
