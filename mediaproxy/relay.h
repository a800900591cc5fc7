/*
 * relay.h - RTP/RTCP relay between the two legs of a media session
 *
 * A relay owns four UDP sockets: an RTP/RTCP port pair per leg (a = caller
 * side, b = vendor side).  What a leg's pair receives from its peer is
 * checked (RTP header / RTCP header), counted and sent from the other leg's
 * pair to that leg's peer.  Peers are found by strict symmetric latching: a
 * socket sends to the address its packets come from; until the first
 * packet it uses the planned (SDP) address.  Only a source within the
 * latching prefix of the leg's SDP or signalling address is ever taken;
 * the socket moves to a new one of those only at once when it is the
 * planned address itself, or after the latched one has been silent for
 * MP_RELAY_RELATCH_MS when the leg allows re-latching.  Every other packet
 * is dropped and counted (strangers).  A relay never decodes.
 *
 * Ownership: session.c allocates the relay and holds its only reference
 *            (mem_deref); the relay books its port pairs from the node's
 *            struct mp_ports (borrowed, outlives every relay) and gives them
 *            back in its destructor.
 * Threading: mediaproxyd main loop only (fd_listen handlers).
 * Bus:       created by media.offer, torn down by media.delete.
 */
#ifndef MP_RELAY_H
#define MP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mediaproxy/leg.h"
#include "mediaproxy/rtp.h"
#include "mediaproxy/stats.h"

#define MP_RELAY_RELATCH_MS 2000

/* what a plain relay last sent on from one leg's peer */
struct mp_relay_fwd {
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
};

struct sa;
struct mp_ports;
struct mp_relay;

/*
 * Decoded-path hook: when set, every valid RTP packet a leg receives (after
 * latching and counting) goes to the handler instead of the other leg; the
 * handler emits what it wants with mp_relay_send().  RTCP is still relayed
 * unless an RTCP handler is set too.
 */
typedef void(mp_relay_media_h)(struct mp_relay *relay, enum mp_leg_id from,
			       const struct mp_rtp_hdr *hdr, const uint8_t *buf,
			       size_t len, void *arg);
/*
 * RTCP termination hook: when set, every valid RTCP packet a leg receives
 * (on its RTCP port, or multiplexed on its RTP port) goes to the handler
 * instead of the other leg; mp_relay_send_rtcp() emits RTCP to a leg.
 */
typedef void(mp_relay_rtcp_h)(struct mp_relay *relay, enum mp_leg_id from,
			      const uint8_t *buf, size_t len, void *arg);

int mp_relay_alloc(struct mp_relay **relayp, struct mp_ports *ports,
		   const struct sa *laddr, const char *tag);
void mp_relay_set_remote(struct mp_relay *relay, enum mp_leg_id leg,
			 const struct sa *remote);
void mp_relay_set_guard(struct mp_relay *relay, enum mp_leg_id leg,
			const struct sa *sig, bool relatch);
void mp_relay_set_prefix(struct mp_relay *relay, unsigned v4, unsigned v6);
void mp_relay_set_media(struct mp_relay *relay, enum mp_leg_id leg,
			uint32_t rate, int pt);
int mp_relay_set_dscp(struct mp_relay *relay, unsigned dscp);
uint16_t mp_relay_port(const struct mp_relay *relay, enum mp_leg_id leg);
void mp_relay_stats(const struct mp_relay *relay, enum mp_leg_id leg,
		    struct mp_leg_stats *st);
void mp_relay_add_totals(const struct mp_relay *relay,
			 struct mp_media_totals *t);
int64_t mp_relay_last_rtp_ms(const struct mp_relay *relay);
bool mp_relay_forwarded(const struct mp_relay *relay, enum mp_leg_id from,
			struct mp_relay_fwd *fwd);
void mp_relay_set_media_handler(struct mp_relay *relay, mp_relay_media_h *h,
				void *arg);
int mp_relay_send(struct mp_relay *relay, enum mp_leg_id to, const uint8_t *buf,
		  size_t len);
void mp_relay_set_rtcp_handler(struct mp_relay *relay, mp_relay_rtcp_h *h,
			       void *arg);
int mp_relay_send_rtcp(struct mp_relay *relay, enum mp_leg_id to,
		       const uint8_t *buf, size_t len);
int mp_relay_set_deferred(struct mp_relay *relay, int epfd);
unsigned mp_relay_poll(int epfd);

#endif /* MP_RELAY_H */
