/*
 * calldtmf.h - DTMF across a live call (SPEC §5)
 *
 * SIP INFO DTMF from one leg (answered 200, then INFO to the other leg or
 * media.play_dtmf so the node plays it by RFC 2833 or tones), media.event
 * "dtmf" from the node (INFO when the other leg wants it), and the
 * first-method lock of a leg that receives "all".  The methods come from
 * the call's media decision (callmedia.h) or, before it, the gateways'
 * settings.
 *
 * Threading: su_root thread only.
 * Bus: media.play_dtmf (out); media.event dtmf (in, through ctl.c).
 */
#ifndef SG_CALLDTMF_H
#define SG_CALLDTMF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct sg_call;

bool sg_calldtmf_info(struct sg_call *c, bool from_a, const char *body,
		      size_t len);
void sg_calldtmf_event(struct sg_call *c, const json_t *body);
void sg_calldtmf_modes(const struct sg_call *c, const char **a, const char **b);

#endif /* SG_CALLDTMF_H */
