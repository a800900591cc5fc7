/*
 * session.h - media sessions: two legs, their plans, their relay
 *
 * A session is what media.offer creates: the plan of each leg as
 * signalingd decided it (docs/bus.md "leg plan"), the relay carrying its
 * packets, and the RTP timeout bookkeeping.  Sessions live in the node's
 * table keyed by the session UUID chosen by signalingd.
 *
 * When both legs' codecs are known and the plans need more than a plain
 * relay (codecs, ptimes or payload types differ, DTMF must be converted;
 * mp_xcode_needed()), the session owns a media engine (mediaproxy/xcode/):
 * the relay hands it every valid RTP and RTCP packet and sends what it
 * produces.  A session whose audio is decoded (mp_xcode_decoded_path())
 * counts against xcode_budget.  A plan change re-creates the engine.
 *
 * Ownership: the node's table holds the only reference (mem_deref); the
 *            session owns its relay and its engine.
 * Threading: mediaproxyd main loop only.
 * Bus:       media.offer/answer/update/delete/query/play_dtmf (via
 *            control.c), pushes media.event rtp_timeout and dtmf.
 */
#ifndef MP_SESSION_H
#define MP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mediaproxy/libre.h"

#include "common/uuid.h"
#include "mediaproxy/relay.h"
#include "mediaproxy/stats.h"
#include "mediaproxy/xcode/xcode.h"

struct mp_node;

/* one leg's plan, as decoded and checked by control.c */
struct mp_plan {
	char remote_ip[65];   /* "" = not known yet */
	uint16_t remote_port; /* 0 = not known yet */
	char codec[33];	      /* "" = unknown */
	int pt;		      /* -1 = unknown */
	uint32_t rate;	      /* 0 = unknown (8000 assumed) */
	int ptime;	      /* 0 = unknown */
	char fmtp[257];
	int te_pt; /* 0 = none */
	char dtmf_send[16];
	char dtmf_recv[16];
	char direction[16]; /* sendrecv, sendonly, recvonly, inactive */
	char sig_ip[65];    /* signalling source address, "" = none */
	bool handover;	    /* re-latch after silence (media_handover) */
};

struct mp_session {
	struct le he; /* in node->sessions */
	char id[SW_UUID_LEN + 1];
	char call_id[257];
	char account[65];	/* billed account, "" = not counted */
	struct mp_node *node;	/* borrowed */
	struct mp_relay *relay; /* owned */
	struct mp_plan plan[2];
	int64_t rtp_timeout_ms;	       /* the call's (SS_RTP_TIMEOUT): -1 = the
					  node's rtp_timeout_s, 0 = never */
	bool xcode;		       /* decoded path: in node->nxcode */
	struct mp_xcode *xc;	       /* owned: engine, NULL = plain relay */
	struct le xle;		       /* in node->xsessions while xc */
	struct mp_xcode_conf media;    /* body.media (SS_* values) */
	struct mp_xcode_plan xplan[2]; /* what xc was built from */
	struct mp_leg_stats carry[2];  /* counters of replaced engines */
	bool answered;		       /* media.answer/update seen */
	int64_t idle_base_ms;	       /* created / last re-planned */
	int64_t timeout_sent_ms;       /* first rtp_timeout event, 0 = none */
	int timeout_sends;	       /* events sent for this silence */
};

bool mp_plan_is_xcode(const struct mp_plan *a, const struct mp_plan *b);
bool mp_plan_on_hold(const struct mp_plan *p);

int mp_session_create(struct mp_session **sessp, struct mp_node *node,
		      const char *id, const char *call_id, const char *account,
		      const struct mp_plan *a, const struct mp_plan *b,
		      const struct mp_xcode_conf *media, int dscp, char *err,
		      size_t errsz);
struct mp_session *mp_session_find(const struct mp_node *node, const char *id);
int mp_session_replan(struct mp_session *sess, const struct mp_plan *a,
		      const struct mp_plan *b,
		      const struct mp_xcode_conf *media, char *err,
		      size_t errsz);
int mp_session_play_dtmf(struct mp_session *sess, enum mp_leg_id from,
			 char digit, uint32_t duration_ms);
void mp_session_xtick(struct mp_node *node);
void mp_session_stats(const struct mp_session *sess, enum mp_leg_id leg,
		      struct mp_leg_stats *st);
void mp_session_close(struct mp_session *sess, const char *reason);
void mp_session_close_all(struct mp_node *node);
void mp_session_tick(struct mp_node *node);

#endif /* MP_SESSION_H */
