/*
 * recovery.h - established calls survive a signalingd restart
 *
 * When a call is answered, both dialogs (Call-ID, tags, addresses, remote
 * target, route set, CSeq), the media node and the CDR so far are appended
 * to <spool_dir>/calls.journal (no fsync: it is for process restarts and
 * crashes, which the page cache survives); the end of the call appends a "down"
 * line.  After a restart the calls still up are rebuilt as nta legs, so
 * the media node keeps relaying (the audio is never cut) and the first BYE
 * from either side ends the call properly: BYE to the other side,
 * media.delete, CDR with the hold time since the original answer.  A
 * recovered call also gets its remaining SS_MAXCALLDURATION.
 *
 * Threading: su_root thread only.
 */
#ifndef SG_RECOVERY_H
#define SG_RECOVERY_H

#include <stddef.h>

struct sg;
struct sg_call;

int sg_recovery_open(struct sg *sg, char *err, size_t errsz);
void sg_recovery_restore(struct sg *sg);
void sg_recovery_up(struct sg_call *c);
void sg_recovery_down(struct sg_call *c);
void sg_recovery_st(struct sg_call *c);
void sg_recovery_down_id(struct sg *sg, const char *id);
void sg_recovery_compact(struct sg *sg);
void sg_recovery_close(struct sg *sg);

#endif /* SG_RECOVERY_H */
