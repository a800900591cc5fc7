/*
 * session.h - media sessions: two legs, their plans, their relay
 *
 * A session is what media.offer creates: the plan of each leg as
 * signalingd decided it (docs/bus.md "leg plan"), the relay carrying its
 * packets, and the RTP timeout bookkeeping.  Sessions live in the node's
 * table keyed by the session UUID chosen by signalingd.
 *
 * A plan whose two codecs differ (both known) is a decoded-path session: it
 * counts against xcode_budget.  The transcoding engine (mediaproxy/xcode/)
 * is not wired in yet; such a session is relayed unchanged with a warning.
 *
 * Ownership: the node's table holds the only reference (mem_deref).
 * Threading: mediaproxyd main loop only.
 * Bus:       media.offer/answer/update/delete/query (via control.c),
 *            pushes media.event rtp_timeout.
 */
#ifndef MP_SESSION_H
#define MP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "mediaproxy/libre.h"

#include "common/uuid.h"
#include "mediaproxy/relay.h"
#include "mediaproxy/stats.h"

struct mp_node;

/* one leg's plan, as decoded and checked by control.c */
struct mp_plan {
	char remote_ip[65];	/* "" = not known yet */
	uint16_t remote_port;	/* 0 = not known yet */
	char codec[33];		/* "" = unknown */
	int pt;			/* -1 = unknown */
	uint32_t rate;		/* 0 = unknown (8000 assumed) */
	int ptime;		/* 0 = unknown */
	char fmtp[257];
	int te_pt;		/* 0 = none */
	char dtmf_send[16];
	char dtmf_recv[16];
	char direction[16];	/* sendrecv, sendonly, recvonly, inactive */
};

struct mp_session {
	struct le he;			/* in node->sessions */
	char id[SW_UUID_LEN + 1];
	char call_id[257];
	struct mp_node *node;		/* borrowed */
	struct mp_relay *relay;		/* owned */
	struct mp_plan plan[2];
	bool xcode;			/* counted in node->nxcode */
	bool answered;			/* media.answer/update seen */
	int64_t idle_base_ms;		/* created / last re-planned */
	int64_t timeout_sent_ms;	/* first rtp_timeout event, 0 = none */
	int timeout_sends;		/* events sent for this silence */
};

bool mp_plan_is_xcode(const struct mp_plan *a, const struct mp_plan *b);
bool mp_plan_on_hold(const struct mp_plan *p);

int  mp_session_create(struct mp_session **sessp, struct mp_node *node,
		       const char *id, const char *call_id,
		       const struct mp_plan *a, const struct mp_plan *b,
		       int dscp);
struct mp_session *mp_session_find(const struct mp_node *node,
				   const char *id);
int  mp_session_replan(struct mp_session *sess, const struct mp_plan *a,
		       const struct mp_plan *b);
void mp_session_stats(const struct mp_session *sess, enum mp_leg_id leg,
		      struct mp_leg_stats *st);
void mp_session_close(struct mp_session *sess, const char *reason);
void mp_session_close_all(struct mp_node *node);
void mp_session_tick(struct mp_node *node);

#endif /* MP_SESSION_H */
