/*
 * sip.h - the SIP agent (nta) and ingress identification
 *
 * signalingd uses sofia's nta directly, not nua: nua answers every INVITE
 * with "100 Trying" before the application sees it, and a request from an
 * unknown source must get nothing at all on the wire
 * (SS_SIP_REPLY_UNKNOWN_SOURCE=0).  Requests outside any dialog reach the
 * agent's message callback statelessly; only after the source matched a
 * mapping gateway does signalingd create the server transaction (and send
 * 100 Trying itself).  In-dialog requests go to the call's legs.
 *
 * Threading: su_root thread only.
 */
#ifndef SG_SIP_H
#define SG_SIP_H

#include <stddef.h>

/* the SIP UDP socket's receive buffer: at 2000 requests/s, 4 MiB holds
 * about a second of them (a datagram costs ~2 KiB of buffer) */
#define SG_SIP_UDP_RMEM (4u * 1024 * 1024)

struct sg;

int sg_sip_start(struct sg *sg, char *err, size_t errsz);
void sg_sip_params(struct sg *sg);
void sg_sip_stop(struct sg *sg);
/* from the tick: the phone registrations read back from PostgreSQL at
 * start, once they are (edgedb.h), into the registrar */
void sg_sip_restore_registrations(struct sg *sg);

#endif /* SG_SIP_H */
