/*
 * codecpol.h - codec and DTMF policy of a call (SPEC §5)
 *
 * Owns the decision of which codecs the vendor INVITE offers, when a call
 * is refused with 488 before any INVITE, which codec each leg uses once the
 * vendor answered (passed end to end untouched, or transcoded only when
 * both gateways allow it), which G.729 variant is offered, which
 * telephone-event PT each side sees and how DTMF is sent and received on
 * each leg (the leg plans of media.offer / media.answer, docs/bus.md).
 *
 * Inputs: the caller's SDP offer and the vendor's SDP answer (read by
 * sdp.h, first audio stream only), and the `media` settings of the mapping
 * and routing gateways (docs/provisioning.md "Media settings").  Output:
 * format lists and leg plans; callmedia.c writes them into SDP (sdp.h) and
 * sends them to the media node.
 *
 * Threading: any (pure functions over their arguments, no allocation).
 * Bus: none.
 */
#ifndef SG_CODECPOL_H
#define SG_CODECPOL_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/media.h"
#include "signaling/sdp.h"

#define SG_SDP_MAX_FMT	 16
#define SG_CP_MAX_CODECS 8

/* the `media` JSONB of a mapping or routing gateway */
struct sg_cp_conf {
	bool specified;			   /* codec_mode specified */
	char specified_codec[16];	   /* canonical name */
	char codecs[SG_CP_MAX_CODECS][16]; /* canonical names, preference */
	size_t ncodecs;			   /* 0 = every supported codec */
	bool allow_transcoding;
	enum sw_g729_mode g729_mode;
	enum sw_dtmf dtmf_receive; /* all | rfc2833 | info | inband */
	enum sw_dtmf dtmf_send;	   /* auto | rfc2833 | info | inband */
	int rfc2833_pt;		   /* 96..127 */
	bool use_peer_rfc2833;
	enum sw_media_proxy media_proxy;
};

/* what the vendor INVITE offers (one attempt, one routing gateway) */
struct sg_cp_offer {
	struct sg_sdp_fmt a[SG_SDP_MAX_FMT]; /* codecs the caller leg may use
					      (caller's PTs), preference */
	size_t na;
	struct sg_sdp_fmt b[SG_SDP_MAX_FMT]; /* offered to the vendor */
	size_t nb;
	int b_te_pt; /* telephone-event offered, 0 = none */
	int b_te_rate;
	int b_te2_pt; /* a second one at Opus's clock (48000), 0 = none */
	int b_te2_rate;
	bool xcode; /* both gateways allow transcoding */
	bool relay; /* media anchored on a node */
};

/* one leg plan (docs/bus.md) */
struct sg_cp_plan {
	char codec[32]; /* PCMA PCMU G729 opus G722 */
	int pt;
	int rate;
	int ptime;
	char fmtp[256];
	int te_pt;
	char dtmf_send[8]; /* rfc2833 | info | inband */
	char dtmf_recv[8]; /* all | rfc2833 | info | inband */
};

/* the outcome of the vendor's answer */
struct sg_cp_answer {
	struct sg_cp_plan a, b;
	struct sg_sdp_fmt a_fmt; /* the format answered to the caller */
	struct sg_sdp_fmt b_fmt; /* the vendor's chosen format */
	int a_te_pt;		 /* telephone-event in that answer */
	int a_te_rate;
	int b_te_rate; /* the vendor's telephone-event clock */
	bool transcoding;
};

void sg_cp_conf_default(struct sg_cp_conf *c);
int sg_cp_conf_parse(struct sg_cp_conf *c, const char *json, char *err,
		     size_t errsz);
enum sw_dtmf sg_cp_dtmf_send_for(const struct sg_cp_conf *c, int te_pt);

void sg_cp_plan_pass(struct sg_cp_plan *p, const struct sg_sdp *s);
void sg_cp_late_caller(struct sg_sdp *s, const struct sg_cp_conf *mg);
bool sg_cp_sdp_has(const struct sg_sdp *s, const struct sg_sdp_fmt *f);
size_t sg_cp_late_offer(const struct sg_cp_offer *o,
			const struct sg_cp_answer *r, struct sg_sdp_fmt *out,
			size_t max);

int sg_cp_make_offer(struct sg_cp_offer *o, const struct sg_sdp *caller,
		     const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		     bool relay, const char **why);
int sg_cp_make_answer(struct sg_cp_answer *r, const struct sg_cp_offer *o,
		      const struct sg_sdp *caller, const struct sg_sdp *vendor,
		      const struct sg_cp_conf *mg, const struct sg_cp_conf *rg,
		      const char **why);

#endif /* SG_CODECPOL_H */
