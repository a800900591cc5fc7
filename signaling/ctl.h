/*
 * ctl.h - signalingd's own bus sockets
 *
 * bus_control (REP): health.ping (with the media node list) and call.list;
 * anything else gets an error reply.  bus_events (PULL): node.heartbeat
 * from media nodes and media.event (rtp_timeout ends the call with end
 * reason RtpTimeout).  Every body is validated; bad input is answered (REP)
 * or logged (PULL), never trusted.
 *
 * Threading: su_root thread (inside sw_bus_drain).
 * Bus: health.ping, call.list, node.heartbeat, media.event.
 */
#ifndef SG_CTL_H
#define SG_CTL_H

#include <stddef.h>

struct sg;

int sg_ctl_start(struct sg *sg, char *err, size_t errsz);

#endif /* SG_CTL_H */
