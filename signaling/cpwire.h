/*
 * cpwire.h - the codec and DTMF policy (codecpol.h, dtmfinfo.h) applied to
 * a live call
 *
 * Hooks called from the call flow: the caller's offer checked against the
 * mapping gateway (488 before routing), the vendor INVITE's SDP per routing
 * gateway (a gateway that cannot take the call is skipped; none left ->
 * 488 CodecMismatch), the vendor's answer (leg plans for both legs, the
 * SDP answered to the caller), SIP INFO DTMF (200, then media.play_dtmf or
 * INFO to the other leg) and media.event "dtmf" (INFO when send_info).
 *
 * Ownership: struct sg_cp_call hangs off struct sg_call (c->cp, owned,
 * freed by sg_cpw_free).  Threading: su_root thread only.
 * Bus: media.update (leg a), media.answer (leg b), media.play_dtmf (out);
 * media.event dtmf (in, through ctl.c).
 */
#ifndef SG_CPWIRE_H
#define SG_CPWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct sg_call;
struct sg_gw;

int sg_cpw_caller_check(struct sg_call *c);
int sg_cpw_attempt(struct sg_call *c, const struct sg_gw *gw);
bool sg_cpw_codec_refused(const struct sg_call *c);
int sg_cpw_answer(struct sg_call *c, const char *sdp, size_t len);
void sg_cpw_settled(struct sg_call *c);
bool sg_cpw_info(struct sg_call *c, bool from_a, const char *body, size_t len);
int sg_cpw_across(struct sg_call *c, bool from_a, const char *sdp, size_t len,
		  char **outp);
void sg_cpw_dtmf_event(struct sg_call *c, const json_t *body);
void sg_cpw_dtmf_modes(const struct sg_call *c, const char **a, const char **b);
void sg_cpw_free(struct sg_call *c);

#endif /* SG_CPWIRE_H */
