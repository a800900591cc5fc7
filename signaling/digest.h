/*
 * digest.h - digest authentication of mapping gateways (auth_mode
 * password) and phones
 *
 * A caller whose source address matches no mapping gateway, but whose From
 * user is the username of a `password` mapping gateway (or a phone's
 * number), is challenged with 407 (401 for REGISTER) and a nonce of its
 * own: its time stamp, a sequence number and an MD5 keyed by a secret made
 * at start-up, bound to the source address it was given to, valid
 * SG_NONCE_TTL_S.  A credential verifies
 * (RFC 2617, MD5, with or without qop=auth) only when
 *
 *   - its `uri` is the Request-URI of the request that carries it,
 *   - its nonce is ours, young, and was given to this source address,
 *   - it was not used before: with qop, its `nc` is above every `nc` seen
 *     with that nonce; without qop, the nonce is used once (struct
 *     sg_nonces, a fixed table: memory bounded whatever the traffic).
 *
 * A credential that fails only on the nonce (old, used, or from another
 * address) is answered with a fresh challenge and stale=true, so a real
 * client retries at once; a replay never passes.
 *
 * Threading: su_root thread (sg_nonces); the rest is pure.
 */
#ifndef SG_DIGEST_H
#define SG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/md5.h"
#include "signaling/sofia.h"

#define SG_DIGEST_REALM SW_DIGEST_REALM
#define SG_NONCE_TTL_S	60
#define SG_NONCES_SLOTS 8192 /* nonces in use tracked at once */

/* what a credential is checked against */
struct sg_digest_req {
	const char *method;
	const char *uri; /* the Request-URI as received */
	const char *src; /* the source address (IP) */
	int64_t now_s;	 /* wall clock */
};

struct sg_nonces;

int sg_nonces_alloc(struct sg_nonces **np);
void sg_nonces_free(struct sg_nonces *n);

void sg_digest_nonce(char *out, size_t size, const char *secret,
		     const char *src, int64_t now_s, uint64_t seq);
bool sg_digest_nonce_ok(const char *nonce, const char *secret, const char *src,
			int64_t now_s);
bool sg_digest_verify(msg_auth_t const *au, const struct sg_digest_req *rq,
		      const char *user, const char *ha1, const char *secret,
		      struct sg_nonces *seen, bool *stale);
const char *sg_digest_user(msg_auth_t const *au, char *buf, size_t size);
/* parameter name of an authentication header (a credential or a
 * challenge), unquoted into buf; "" when absent */
const char *sg_digest_param(msg_auth_t const *au, const char *name, char *buf,
			    size_t size);

#endif /* SG_DIGEST_H */
