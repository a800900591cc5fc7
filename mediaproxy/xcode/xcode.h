/*
 * xcode.h - the media engine: one session's decoded path between two legs
 *
 * Given the two leg plans of a session (docs/bus.md "Leg plan"), the engine
 * takes the RTP packets received from each leg's peer and produces the RTP
 * packets to send to the other leg's peer:
 *   - audio is transcoded (decode -> jitter buffer / concealment -> echo
 *     cancel -> resample -> gain -> DTMF tones -> repacketise -> encode)
 *     in each direction whose codecs differ; a direction whose codec, rate
 *     and ptime match is forwarded with only the header rewritten;
 *   - RFC 4733 telephone-events are terminated and regenerated with the
 *     other leg's payload type (or, with te_passthrough, forwarded with the
 *     payload type remapped);
 *   - DTMF is converted between rfc2833, info and inband as SPEC 5 says,
 *     with the first-method lock of dtmf_recv=all.
 * Output leaves through the send handler, DTMF that signalling must act on
 * (SIP INFO, logging) through the event handler.  mp_xcode_tick() must run
 * every 10 ms (jitter buffer playout, telephone-event updates, RTCP).
 * Being the RTP source toward both legs, the engine also terminates RTCP:
 * the legs' RTCP goes to mp_xcode_rtcp_input(), and it sends each leg its
 * own SR/RR every 5 s (xcode/rtcp.h).  Legs are named as everywhere in
 * mediaproxyd (enum mp_leg_id, mediaproxy/leg.h).
 *
 * Ownership: mp_xcode_alloc() returns a libre-refcounted object; the relay
 *            session holds the only reference.
 * Threading: one thread per engine (the mediaproxyd loop, or a worker that
 *            owns the session).
 * Bus:       media.offer/answer/update plans in, media.event {dtmf} out,
 *            media.play_dtmf in (mp_xcode_dtmf_in), see docs/media-engine.md.
 */
#ifndef MP_XCODE_H
#define MP_XCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mediaproxy/leg.h"
#include "proto/media.h"

/* one leg of docs/bus.md "Leg plan" (addresses stay with the relay) */
struct mp_xcode_plan {
	char codec[32]; /* PCMA PCMU G729 G729A opus G722 */
	uint8_t pt;
	uint32_t rate;	/* RTP clock; 0 = the codec's own */
	uint32_t ptime; /* 10..60 ms; 0 = 20 */
	char fmtp[256];
	uint8_t te_pt; /* 0 = no telephone-event */
	enum sw_dtmf dtmf_send;
	enum sw_dtmf dtmf_recv;
};

/* SS_* media parameters of the session (SPEC 4) */
struct mp_xcode_conf {
	bool jb_enable;		/* false: decode on arrival (tests, bench) */
	int jb_mode;		/* SS_JITTERBUFFER_MODE 0 fixed, 1 adaptive */
	uint32_t jb_min_ms;	/* SS_JITTERBUFFER_MIN, default 20 */
	uint32_t jb_max_ms;	/* SS_JITTERBUFFER_MAX, default 200 */
	uint32_t jb_default_ms; /* SS_JITTERBUFFER_DEFAULT, default 60 */
	bool echo_cancel;	/* SS_ECHOCANCEL */
	uint32_t ec_tail_ms;	/* SS_ECHOCANCELTAIL 64/128/256 */
	int gain_db;		/* SS_VOICEGAIN -10..10 */
	bool comfort_noise;	/* SS_COMFORTNOISE */
	bool te_passthrough;	/* forward events with the PT remapped */
	bool rtcp;		/* send SR/RR/SDES to each leg (default on) */
};

enum mp_xcode_ev_type {
	MP_XCODE_EV_DTMF = 0, /* a digit was received and handled */
};

struct mp_xcode_event {
	enum mp_xcode_ev_type type;
	enum mp_leg_id from; /* leg the digit came from */
	enum mp_leg_id to;   /* leg it is for */
	char digit;	     /* 0-9 * # A-D, '!' flash */
	uint32_t duration_ms;
	enum sw_dtmf method; /* how it was received */
	bool send_info;	     /* signalling must send SIP INFO to @to */
};

struct mp_xcode_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_malformed, rx_wrong_pt, rx_wrong_ssrc, rx_bad_event;
	uint64_t decode_errors, concealed_frames;
	uint64_t jb_late, jb_dup, jb_overflow, jb_grow, jb_shrink;
	uint32_t jb_delay_ms;
	uint64_t tx_packets, tx_bytes, tx_events;
	uint64_t dtmf_rx, dtmf_dropped;
	uint64_t lost;	    /* RFC 3550 cumulative, from this peer */
	uint32_t jitter_ms; /* RFC 3550 interarrival, this peer */
	int32_t rtt_ms;	    /* from this peer's RTCP, -1 unknown */
	uint64_t rtcp_rx, rtcp_tx, rtcp_malformed;
};

struct mp_xcode;

/* @pkt is a complete RTP (or, @rtcp, RTCP) packet for @leg's peer */
typedef void(mp_xcode_send_h)(enum mp_leg_id leg, const uint8_t *pkt,
			      size_t len, bool rtcp, void *arg);
typedef void(mp_xcode_event_h)(const struct mp_xcode_event *ev, void *arg);

void mp_xcode_conf_default(struct mp_xcode_conf *conf);
int mp_xcode_conf_check(const struct mp_xcode_conf *conf);
int mp_xcode_plan_check(const struct mp_xcode_plan *plan);
bool mp_xcode_needed(const struct mp_xcode_plan *a,
		     const struct mp_xcode_plan *b);
bool mp_xcode_decoded_path(const struct mp_xcode_plan *a,
			   const struct mp_xcode_plan *b);

int mp_xcode_alloc(struct mp_xcode **xcp, const struct mp_xcode_plan *a,
		   const struct mp_xcode_plan *b,
		   const struct mp_xcode_conf *conf, mp_xcode_send_h *sendh,
		   mp_xcode_event_h *eventh, void *arg);
int mp_xcode_input(struct mp_xcode *xc, enum mp_leg_id leg, const uint8_t *pkt,
		   size_t len, int64_t now_ms);
int mp_xcode_tick(struct mp_xcode *xc, int64_t now_ms);
int mp_xcode_rtcp_input(struct mp_xcode *xc, enum mp_leg_id leg,
			const uint8_t *pkt, size_t len, int64_t now_ms);
void mp_xcode_continue(struct mp_xcode *xc, enum mp_leg_id to, uint32_t ssrc,
		       uint16_t last_seq, uint32_t last_ts);
int mp_xcode_dtmf_in(struct mp_xcode *xc, enum mp_leg_id from, char digit,
		     uint32_t duration_ms, int64_t now_ms);
bool mp_xcode_decodes(const struct mp_xcode *xc, enum mp_leg_id from);
void mp_xcode_stats(const struct mp_xcode *xc, enum mp_leg_id leg,
		    struct mp_xcode_stats *st);

#endif /* MP_XCODE_H */
