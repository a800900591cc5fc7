/*
 * sdp.h - what signalingd reads from and writes into SDP bodies
 *
 * Parsing and printing are sofia-sip's (sdp_parse/sdp_print); this module
 * extracts the first audio stream's media plan (address, codec, PT, clock
 * rate, ptime, fmtp, telephone-event PT, direction) for the media node, and
 * rewrites c=/o=/m= so a peer sends its RTP to the media node.
 *
 * Threading: any (pure functions over their arguments).
 */
#ifndef SG_SDP_H
#define SG_SDP_H

#include <stddef.h>

struct sg_sdp_media {
	char ip[64];		/* connection address ("" = none) */
	int port;		/* 0 = rejected / none */
	char codec[32];		/* first non-telephone-event format */
	int pt;
	int rate;
	int ptime;		/* ms, 20 when absent */
	char fmtp[256];
	int te_pt;		/* telephone-event PT, 0 = none */
	char direction[12];	/* sendrecv | sendonly | recvonly | inactive */
};

int sg_sdp_inspect(struct sg_sdp_media *m, const char *sdp, size_t len);
int sg_sdp_rewrite(char **outp, const char *sdp, size_t len, const char *ip,
		   int port);

#endif /* SG_SDP_H */
