/*
 * proto.h - the bus message catalogue (append-only)
 *
 * Every message type that crosses the bus, by name.  docs/bus.md documents the
 * body of each, field by field; a reply is "<type>.reply" unless stated, and
 * any request may be answered with SW_MSG_ERROR {"code","message"}.
 *
 * Threading: constants only.
 */
#ifndef SW_PROTO_H
#define SW_PROTO_H

#include <stdbool.h>

#define SW_MSG_ERROR "error"

/* any daemon's REP socket */
#define SW_MSG_HEALTH_PING "health.ping"
/* several requests in one message, answered in one (docs/bus.md "Batches") */
#define SW_MSG_BATCH "batch"

/* mediaproxyd -> signalingd (PUSH/PULL) */
#define SW_MSG_NODE_HEARTBEAT "node.heartbeat"
#define SW_MSG_MEDIA_EVENT    "media.event"

/* signalingd -> mediaproxyd (REQ/REP) */
#define SW_MSG_MEDIA_OFFER     "media.offer"
#define SW_MSG_MEDIA_ANSWER    "media.answer"
#define SW_MSG_MEDIA_UPDATE    "media.update"
#define SW_MSG_MEDIA_DELETE    "media.delete"
#define SW_MSG_MEDIA_QUERY     "media.query"
#define SW_MSG_MEDIA_PLAY_DTMF "media.play_dtmf"

/* signalingd -> billingd (REQ/REP) */
#define SW_MSG_AUTH_REQUEST "auth.request"
#define SW_MSG_AUTH_EXTEND  "auth.extend"
#define SW_MSG_AUTH_RELEASE "auth.release"
#define SW_MSG_CDR_SUBMIT   "cdr.submit"

/* billingd -> signalingd (REQ/REP, signalingd listens) */
#define SW_MSG_CALL_LIST      "call.list"
#define SW_MSG_ROUTE_ANALYZE  "route.analyze"
#define SW_MSG_GATEWAY_LOCK   "gateway.lock"
#define SW_MSG_CALL_HANGUP    "call.hangup"
#define SW_MSG_CONFIG_CHANGED "config.changed"
#define SW_MSG_STATS_ASR      "stats.asr"

/* error codes carried in SW_MSG_ERROR bodies */
#define SW_ERR_BAD_REQUEST  "bad_request" /* envelope or body invalid */
#define SW_ERR_UNKNOWN_TYPE "unknown_type"
#define SW_ERR_NOT_FOUND    "not_found"
#define SW_ERR_NO_CAPACITY  "no_capacity" /* ports or transcoding budget */
#define SW_ERR_UNAVAILABLE  "unavailable" /* e.g. database down */
#define SW_ERR_INTERNAL	    "internal"
#define SW_ERR_FORBIDDEN    "forbidden" /* the sender's role may not send it */

/*
 * Roles on the bus (docs/bus.md "Trust").  A message that arrives over a
 * tls+tcp:// listener carries the role that listener accepts: the peer's
 * certificate chains to that role's CA (tandemctl pki).  Loopback, ipc://
 * and (with bus_insecure) plain tcp:// links are SW_ROLE_LOCAL: trusted
 * for every type, as the host itself is.
 */
enum sw_role {
	SW_ROLE_LOCAL = 0,
	SW_ROLE_SIGNALING,
	SW_ROLE_MEDIA,
	SW_ROLE_BILLING,
	SW_ROLE_CONTROL,
	SW_ROLE_COUNT
};

bool sw_proto_known(const char *type);
const char *sw_role_name(enum sw_role role);
int sw_role_parse(enum sw_role *rolep, const char *name);
/* may a peer of role send a request or push of type? */
bool sw_proto_allowed(const char *type, enum sw_role role);

#endif /* SW_PROTO_H */
