/*
 * digest.h - digest authentication of mapping gateways (auth_mode password)
 *
 * A caller whose source address matches no mapping gateway, but whose From
 * user is the username of a `password` mapping gateway, is challenged with
 * 407 and a stateless nonce (its time stamp and an MD5 keyed by a secret
 * made at start-up; valid 5 minutes).  An INVITE with a Proxy-Authorization
 * that verifies (RFC 2617, MD5, with or without qop=auth) belongs to that
 * mapping gateway.
 *
 * Threading: any (pure functions over their arguments).
 */
#ifndef SG_DIGEST_H
#define SG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sofia.h"

#define SG_DIGEST_REALM "tandem"
#define SG_NONCE_TTL_S  300

void sg_digest_nonce(char *out, size_t size, const char *secret,
		     int64_t now_s);
bool sg_digest_nonce_ok(const char *nonce, const char *secret, int64_t now_s);
bool sg_digest_verify(msg_auth_t const *au, const char *method,
		      const char *user, const char *password,
		      const char *secret, int64_t now_s, bool *stale);
const char *sg_digest_user(msg_auth_t const *au, char *buf, size_t size);

#endif /* SG_DIGEST_H */
