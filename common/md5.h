/*
 * md5.h - MD5 hex digests for SIP digest authentication (RFC 2617)
 *
 * The one place that computes HA1 = MD5(user:realm:password): the model
 * stores it when a phone or a password-mode mapping gateway is provisioned
 * (the password itself is never stored), signalingd verifies credentials
 * against it.  SW_DIGEST_REALM is fixed: changing it would invalidate
 * every stored HA1 (docs/decisions.md).
 *
 * Threading: any thread; no state.
 * Bus:       none.
 */
#ifndef SW_MD5_H
#define SW_MD5_H

#include <stddef.h>

#define SW_DIGEST_REALM "tandem"
#define SW_MD5_HEX_LEN	32 /* characters, without the NUL */

void sw_md5_hex(char out[SW_MD5_HEX_LEN + 1], const char *const *parts,
		size_t n);
void sw_digest_ha1(char out[SW_MD5_HEX_LEN + 1], const char *user,
		   const char *password);

#endif /* SW_MD5_H */
