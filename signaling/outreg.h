/*
 * outreg.h - signalingd REGISTERs with the vendors that want it
 *
 * A routing gateway with a register_username is a registrar signalingd
 * registers with (SPEC §3.9; vendors that only take calls from a registered
 * peer): REGISTER to the gateway's address for <sip:user@address>, our
 * contact, Expires 3600; a 401/407 digest challenge (MD5, qop auth or none)
 * is answered once with register_username/register_password; the
 * registration is refreshed when three quarters of the time the registrar
 * granted are gone.  A REGISTER that fails (no answer, refused, or
 * challenged again) marks the gateway's registration failed until one
 * succeeds, tried again every OR_RETRY_S: health.ping lists it and billingd
 * raises a vendor_registration alarm.  State is kept by gateway name and
 * follows table reloads (a gateway whose address or credentials change
 * starts over; one that goes, or loses its username, is dropped).
 *
 * Ownership: struct sg holds the only reference.
 * Threading: su_root thread only.
 */
#ifndef SG_OUTREG_H
#define SG_OUTREG_H

#include <jansson.h>

struct sg;
struct sg_outreg;

int sg_outreg_alloc(struct sg_outreg **op);
/* every REGISTER in flight destroyed (before the SIP agent goes) */
void sg_outreg_free(struct sg_outreg *o);
/* from the housekeeping tick: registrations due are sent */
void sg_outreg_tick(struct sg *sg);
/* [{"gateway", "code", "reason"}] of the failed registrations (new ref) */
json_t *sg_outreg_failed_json(struct sg *sg);

#endif /* SG_OUTREG_H */
