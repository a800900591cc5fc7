/*
 * digest.c - RFC 2617 digest (MD5) with stateless nonces
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_md5.h>

#include "signaling/digest.h"

static void md5_hex(char out[33], const char *const *parts, size_t n)
{
	su_md5_t ctx;

	su_md5_init(&ctx);
	for (size_t i = 0; i < n; i++) {
		if (i)
			su_md5_update(&ctx, ":", 1);
		su_md5_strupdate(&ctx, parts[i]);
	}
	su_md5_hexdigest(&ctx, out);
}

/* Nonce "<seconds hex>.<md5(secret:seconds)>". */
void sg_digest_nonce(char *out, size_t size, const char *secret,
		     int64_t now_s)
{
	char ts[24], mac[33];
	const char *parts[2] = {secret, ts};

	snprintf(ts, sizeof(ts), "%" PRIx64, (uint64_t)now_s);
	md5_hex(mac, parts, 2);
	snprintf(out, size, "%s.%s", ts, mac);
}

/* The nonce is ours and not older than SG_NONCE_TTL_S. */
bool sg_digest_nonce_ok(const char *nonce, const char *secret, int64_t now_s)
{
	char expect[64];
	const char *dot;
	char *end;
	uint64_t ts;

	if (!nonce || !(dot = strchr(nonce, '.')))
		return false;
	ts = strtoull(nonce, &end, 16);
	if (end != dot)
		return false;
	sg_digest_nonce(expect, sizeof(expect), secret, (int64_t)ts);
	if (strcmp(expect, nonce))
		return false;
	return now_s >= (int64_t)ts && now_s - (int64_t)ts <= SG_NONCE_TTL_S;
}

/* one parameter of the header, unquoted into buf ("" when absent) */
static const char *param(msg_auth_t const *au, const char *name, char *buf,
			 size_t size)
{
	char key[32];
	const char *v;
	size_t n;

	buf[0] = '\0';
	snprintf(key, sizeof(key), "%s=", name);
	v = au ? msg_params_find(au->au_params, key) : NULL;
	if (!v)
		return buf;
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= size)
		n = size - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

/* The username of a Digest credential, or NULL. */
const char *sg_digest_user(msg_auth_t const *au, char *buf, size_t size)
{
	if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest"))
		return NULL;
	param(au, "username", buf, size);
	return buf[0] ? buf : NULL;
}

/*
 * Verify a Digest credential for user/password; *stale is set when only
 * the nonce is too old (the client retries with the new one).
 */
bool sg_digest_verify(msg_auth_t const *au, const char *method,
		      const char *user, const char *password,
		      const char *secret, int64_t now_s, bool *stale)
{
	char username[128], realm[64], nonce[96], uri[512], response[64];
	char qop[32], nc[16], cnonce[128], alg[16];
	char ha1[33], ha2[33], expect[33];

	*stale = false;
	if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest"))
		return false;
	param(au, "username", username, sizeof(username));
	param(au, "realm", realm, sizeof(realm));
	param(au, "nonce", nonce, sizeof(nonce));
	param(au, "uri", uri, sizeof(uri));
	param(au, "response", response, sizeof(response));
	param(au, "qop", qop, sizeof(qop));
	param(au, "nc", nc, sizeof(nc));
	param(au, "cnonce", cnonce, sizeof(cnonce));
	param(au, "algorithm", alg, sizeof(alg));

	if (strcmp(username, user) || strcmp(realm, SG_DIGEST_REALM) ||
	    !uri[0] || strlen(response) != 32 ||
	    (alg[0] && strcasecmp(alg, "MD5")))
		return false;
	{
		const char *p1[3] = {user, SG_DIGEST_REALM, password};
		const char *p2[2] = {method, uri};

		md5_hex(ha1, p1, 3);
		md5_hex(ha2, p2, 2);
	}
	if (qop[0]) {
		const char *p[6] = {ha1, nonce, nc, cnonce, qop, ha2};

		if (strcasecmp(qop, "auth") || !nc[0] || !cnonce[0])
			return false;
		md5_hex(expect, p, 6);
	} else {
		const char *p[3] = {ha1, nonce, ha2};

		md5_hex(expect, p, 3);
	}
	if (strcasecmp(expect, response))
		return false;
	if (!sg_digest_nonce_ok(nonce, secret, now_s)) {
		/* right password, old or foreign nonce */
		*stale = true;
		return false;
	}
	return true;
}
