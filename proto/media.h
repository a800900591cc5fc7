/*
 * media.h - the media vocabulary: codecs, payload types, DTMF methods and
 * media modes, defined once
 *
 * These names cross the bus (leg plans, docs/bus.md), are stored in the
 * database (a gateway's `media` object, CDR codec columns) and are typed by
 * operators in provisioning files.  signalingd, mediaproxyd, billingd,
 * tandemctl and the provisioning validator all read and write them through
 * this file, so they cannot disagree.  Names are matched without regard to
 * case and always written in their canonical spelling.
 *
 * Threading: constants and pure functions only.
 * Bus:       none (the vocabulary of media.offer/answer leg plans).
 */
#ifndef SW_PROTO_MEDIA_H
#define SW_PROTO_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The codecs the switch decodes and encodes (SPEC §4), in the order
 * transcoding adds them to an offer.  Other codecs are passed by name only.
 */
enum sw_codec {
	SW_CODEC_PCMA = 0,
	SW_CODEC_PCMU,
	SW_CODEC_G729,
	SW_CODEC_G722,
	SW_CODEC_OPUS,
	SW_CODEC_G723, /* offered only where listed or offered (legacy) */
	SW_CODEC_COUNT
};

/* canonical names, in enum order, NULL-terminated */
extern const char *const sw_codec_names[SW_CODEC_COUNT + 1];
/* G.729 Annex A written apart ("G729A/8000", dynamic type): the same
 * bitstream as G729, so it parses as SW_CODEC_G729 */
#define SW_CODEC_G729A_NAME "G729A"

const char *sw_codec_name(enum sw_codec c);
int sw_codec_parse(enum sw_codec *cp, const char *name);
const char *sw_codec_canon(const char *name);
bool sw_codec_same(const char *a, const char *b);
int sw_codec_static_pt(enum sw_codec c);
uint32_t sw_codec_clock(enum sw_codec c);
const char *sw_static_pt_name(int pt, uint32_t *clockp);
bool sw_codec_is_g729a(const char *name);
bool sw_codec_default_offer(enum sw_codec c);
int sw_codec_default_ptime(enum sw_codec c);

/*
 * DTMF methods.  A leg's receive setting takes ALL or one method; its send
 * setting AUTO or one method; a leg plan carries one of them or NONE.
 */
enum sw_dtmf {
	SW_DTMF_NONE = 0,
	SW_DTMF_RFC2833, /* RFC 4733 telephone-event */
	SW_DTMF_INFO,	 /* SIP INFO */
	SW_DTMF_INBAND,	 /* tones in the audio */
	SW_DTMF_ALL,	 /* receive: any method, the first one heard locks */
	SW_DTMF_AUTO,	 /* send: RFC 2833 when the peer has it, else INFO */
	SW_DTMF_COUNT
};

#define SW_DTMF_SET(m) (1u << (m))
/* what a gateway's dtmf_receive / dtmf_send accept */
#define SW_DTMF_RECEIVE                                                        \
	(SW_DTMF_SET(SW_DTMF_ALL) | SW_DTMF_SET(SW_DTMF_RFC2833) |             \
	 SW_DTMF_SET(SW_DTMF_INFO) | SW_DTMF_SET(SW_DTMF_INBAND))
#define SW_DTMF_SEND                                                           \
	(SW_DTMF_SET(SW_DTMF_AUTO) | SW_DTMF_SET(SW_DTMF_RFC2833) |            \
	 SW_DTMF_SET(SW_DTMF_INFO) | SW_DTMF_SET(SW_DTMF_INBAND))
/* the methods a digit can be played with (media.play_dtmf) */
#define SW_DTMF_METHODS                                                        \
	(SW_DTMF_SET(SW_DTMF_RFC2833) | SW_DTMF_SET(SW_DTMF_INFO) |            \
	 SW_DTMF_SET(SW_DTMF_INBAND))
#define SW_DTMF_ANY ((1u << SW_DTMF_COUNT) - 1)

/* names in enum order, NULL-terminated */
extern const char *const sw_dtmf_names[SW_DTMF_COUNT + 1];

const char *sw_dtmf_name(enum sw_dtmf m);
int sw_dtmf_parse(enum sw_dtmf *mp, const char *name, unsigned set);
enum sw_dtmf sw_dtmf_send_resolve(enum sw_dtmf send, bool have_te);
bool sw_dtmf_recv_accepts(enum sw_dtmf recv, enum sw_dtmf m);

/* RFC 4733 events: their SDP name, and the payload types they may take */
#define SW_TE_NAME	  "telephone-event"
#define SW_TE_PT_DEFAULT  101 /* a gateway's rfc2833_pt unless set */
#define SW_PT_DYNAMIC_MIN 96  /* RFC 3551 dynamic payload types */
#define SW_PT_DYNAMIC_MAX 127
bool sw_is_te(const char *name);

/* a gateway's codec_mode: its own preference order, or one codec */
enum sw_codec_mode { SW_CODEC_MODE_AUTO = 0, SW_CODEC_MODE_SPECIFIED };
extern const char *const sw_codec_mode_names[];

/* a gateway's g729_mode: which G.729 variant its SDP carries */
enum sw_g729_mode {
	SW_G729_AUTO = 0, /* mirror the peer's variant */
	SW_G729_PLAIN,	  /* G729, PT 18 */
	SW_G729_A,	  /* G729A/8000 on a dynamic PT */
	SW_G729_BOTH,
};
extern const char *const sw_g729_mode_names[];

/* a gateway's media_proxy: SS_MEDIAPROXYMODE, or relay forced on / off */
enum sw_media_proxy {
	SW_MEDIA_PROXY_DEFAULT = 0,
	SW_MEDIA_PROXY_ON,
	SW_MEDIA_PROXY_OFF,
};
extern const char *const sw_media_proxy_names[];

/* SS_MEDIAPROXYMODE (SPEC §4) */
enum sw_media_mode {
	SW_MEDIA_MODE_OFF = 0,
	SW_MEDIA_MODE_ON,
	SW_MEDIA_MODE_AUTO,
	SW_MEDIA_MODE_MUST,
	SW_MEDIA_MODE_MAX = SW_MEDIA_MODE_MUST
};

int sw_names_find(const char *const *names, const char *name);
size_t sw_names_list(char *buf, size_t size, const char *const *names,
		     unsigned set);

#endif /* SW_PROTO_MEDIA_H */
