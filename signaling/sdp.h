/*
 * sdp.h - signalingd's one SDP reader and writer
 *
 * Every SDP body a call sees is read once here: the bytes are checked
 * (RFC 4566 line syntax, no control bytes, non-ASCII only in free text,
 * sane m= and c= lines) and the first audio stream is taken out: its
 * formats in m= order, telephone-event, address, port, ptime, direction.
 * Every SDP the switch sends is written once here, line by line from the
 * text it came from: addresses (o=, c=) and the first audio stream's port
 * pointed at a media node, and its format list replaced by the codec
 * policy's (codecpol.h), or kept as it is (pass-through).  Lines the edit
 * does not name are copied unchanged, other streams too.
 *
 * Threading: any (pure functions over their arguments; the writer's text
 * is malloc'd).
 */
#ifndef SG_SDP_H
#define SG_SDP_H

#include <stdbool.h>
#include <stddef.h>

#define SG_SDP_MAX_LEN 65536
#define SG_SDP_MAX_FMT 16
/* an rtpmap clock rate outside these is not audio: the format is dropped */
#define SG_SDP_RATE_MIN 1000
#define SG_SDP_RATE_MAX 192000

/* one audio format of an SDP (never telephone-event) */
struct sg_sdp_fmt {
	int pt;
	char name[32]; /* encoding name as written */
	int rate;
	int channels; /* 0 = not given */
	char fmtp[256];
};

/* the first audio stream of an SDP body */
struct sg_sdp {
	struct sg_sdp_fmt fmt[SG_SDP_MAX_FMT]; /* m= order */
	size_t nfmt;
	int te_pt; /* telephone-event PT, 0 = none (the first listed) */
	int te_rate;
	int te8_pt;	    /* telephone-event/8000, 0 = none */
	int te48_pt;	    /* telephone-event/48000 (Opus's clock), 0 = none */
	char ip[64];	    /* connection address, "" = none */
	bool ip_literal;    /* ip is an IPv4 or IPv6 literal */
	int port;	    /* 0 = rejected */
	int ptime;	    /* ms, 0 = not given */
	char direction[12]; /* sendrecv | sendonly | recvonly | inactive */
	bool secure;	    /* SRTP: a SAVP transport (RTP/SAVP, RTP/SAVPF,
			       UDP/TLS/RTP/SAVP...) */
};

/* what the writer changes; a zero field keeps what the text says */
struct sg_sdp_edit {
	const char *ip; /* every o= and c= address, NULL = keep */
	int port;	/* the first audio stream's port (not if rejected) */
	/* the first audio stream's formats (its m= list, rtpmap, fmtp and
	 * rtcp-fb lines): fmt[0..nfmt) then te_pt (0 = none) */
	bool set_formats;
	const struct sg_sdp_fmt *fmt;
	size_t nfmt;
	int te_pt, te_rate;
	int te2_pt, te2_rate; /* a second telephone-event (another clock) */
};

int sg_sdp_read(struct sg_sdp *s, const char *sdp, size_t len);
int sg_sdp_te_at(const struct sg_sdp *s, int rate, int *ratep);
int sg_sdp_write(char **outp, const char *sdp, size_t len,
		 const struct sg_sdp_edit *e);

#endif /* SG_SDP_H */
