/*
 * md5.c - MD5 hex digests for SIP digest authentication (md5.h)
 */
#include <string.h>

#include <openssl/evp.h>

#include "common/md5.h"

/*
 * MD5 of parts[0..n) joined by ':' as 32 lower-case hex digits (the form
 * RFC 2617 hashes everything in).  A NULL part counts as "".  Should the
 * digest fail (out of memory in libcrypto), out is "" and matches nothing.
 */
void sw_md5_hex(char out[SW_MD5_HEX_LEN + 1], const char *const *parts,
		size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL);

	for (size_t i = 0; ok && i < n; i++) {
		const char *p = parts[i] ? parts[i] : "";

		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok)
			ok = EVP_DigestUpdate(ctx, p, strlen(p));
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen != SW_MD5_HEX_LEN / 2) {
		out[0] = '\0';
		return;
	}
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SW_MD5_HEX_LEN] = '\0';
}

/* HA1 of RFC 2617: MD5(user:SW_DIGEST_REALM:password), in hex. */
void sw_digest_ha1(char out[SW_MD5_HEX_LEN + 1], const char *user,
		   const char *password)
{
	const char *parts[3] = {user, SW_DIGEST_REALM, password};

	sw_md5_hex(out, parts, 3);
}
