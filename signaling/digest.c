/*
 * digest.c - RFC 2617 digest (MD5) with nonces bound to the source and
 * used once (digest.h)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/md5.h"
#include "signaling/digest.h"

/*
 * Nonce "<seconds hex>.<seq hex>.<md5(secret:seconds:seq:source)>": seq
 * makes every challenge's nonce its own, even within one second to one
 * address.
 */
void sg_digest_nonce(char *out, size_t size, const char *secret,
		     const char *src, int64_t now_s, uint64_t seq)
{
	char ts[24], sq[24], mac[33];
	const char *parts[4] = {secret, ts, sq, src ? src : ""};

	snprintf(ts, sizeof(ts), "%" PRIx64, (uint64_t)now_s);
	snprintf(sq, sizeof(sq), "%" PRIx64, seq);
	sw_md5_hex(mac, parts, 4);
	snprintf(out, size, "%s.%s.%s", ts, sq, mac);
}

/* The nonce is ours, given to src, and not older than SG_NONCE_TTL_S. */
bool sg_digest_nonce_ok(const char *nonce, const char *secret, const char *src,
			int64_t now_s)
{
	char expect[96];
	char *end;
	uint64_t ts, seq;

	if (!nonce)
		return false;
	ts = strtoull(nonce, &end, 16);
	if (end == nonce || *end != '.')
		return false;
	seq = strtoull(end + 1, &end, 16);
	if (*end != '.')
		return false;
	sg_digest_nonce(expect, sizeof(expect), secret, src, (int64_t)ts, seq);
	if (strcmp(expect, nonce))
		return false;
	return now_s >= (int64_t)ts && now_s - (int64_t)ts <= SG_NONCE_TTL_S;
}

/* ---- nonces in use: the highest nc seen (0: used without qop) ---- */

#define PROBE 8

struct slot {
	char nonce[96];
	uint32_t nc;
	bool qop;
	int64_t expires_s;
};

struct sg_nonces {
	struct slot slots[SG_NONCES_SLOTS];
};

int sg_nonces_alloc(struct sg_nonces **np)
{
	*np = calloc(1, sizeof(**np));
	return *np ? 0 : ENOMEM;
}

void sg_nonces_free(struct sg_nonces *n)
{
	free(n);
}

static size_t nonce_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % SG_NONCES_SLOTS);
}

/*
 * First use of (nonce, nc)?  Records it; false for a replay.  nc is 0
 * without qop (the nonce is then used once).
 */
static bool nonce_fresh(struct sg_nonces *n, const char *nonce, bool qop,
			uint32_t nc, int64_t now_s)
{
	size_t h = nonce_hash(nonce), victim = h;
	struct slot *free_slot = NULL;

	if (!n)
		return true;
	for (size_t i = 0; i < PROBE; i++) {
		struct slot *s = &n->slots[(h + i) % SG_NONCES_SLOTS];

		if (s->expires_s > now_s && !strcmp(s->nonce, nonce)) {
			if (!qop || !s->qop || nc <= s->nc)
				return false;
			s->nc = nc;
			return true;
		}
		if (!free_slot && s->expires_s <= now_s)
			free_slot = s;
		if (s->expires_s < n->slots[victim % SG_NONCES_SLOTS].expires_s)
			victim = h + i;
	}
	if (!free_slot) /* all busy: the one that expires first goes */
		free_slot = &n->slots[victim % SG_NONCES_SLOTS];
	snprintf(free_slot->nonce, sizeof(free_slot->nonce), "%s", nonce);
	free_slot->qop = qop;
	free_slot->nc = nc;
	free_slot->expires_s = now_s + SG_NONCE_TTL_S + 1;
	return true;
}

/* one parameter of the header, unquoted into buf ("" when absent) */
const char *sg_digest_param(msg_auth_t const *au, const char *name, char *buf,
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
	sg_digest_param(au, "username", buf, size);
	return buf[0] ? buf : NULL;
}

/*
 * Verify a Digest credential for user, whose stored secret is ha1
 * (MD5(user:realm:password), common/md5.h), against the request rq;
 * *stale is set when only the nonce is wrong (old, used before, or given
 * to another address): the client may retry with a new one.
 */
bool sg_digest_verify(msg_auth_t const *au, const struct sg_digest_req *rq,
		      const char *user, const char *ha1, const char *secret,
		      struct sg_nonces *seen, bool *stale)
{
	char username[128], realm[64], nonce[96], uri[512], response[64];
	char qop[32], nc[16], cnonce[128], alg[16];
	char ha2[SW_MD5_HEX_LEN + 1], expect[SW_MD5_HEX_LEN + 1];
	unsigned long ncv = 0;

	*stale = false;
	if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest"))
		return false;
	sg_digest_param(au, "username", username, sizeof(username));
	sg_digest_param(au, "realm", realm, sizeof(realm));
	sg_digest_param(au, "nonce", nonce, sizeof(nonce));
	sg_digest_param(au, "uri", uri, sizeof(uri));
	sg_digest_param(au, "response", response, sizeof(response));
	sg_digest_param(au, "qop", qop, sizeof(qop));
	sg_digest_param(au, "nc", nc, sizeof(nc));
	sg_digest_param(au, "cnonce", cnonce, sizeof(cnonce));
	sg_digest_param(au, "algorithm", alg, sizeof(alg));

	/* the credential is for this very request, not one sniffed for
	 * another number */
	if (strcmp(username, user) || strcmp(realm, SG_DIGEST_REALM) ||
	    !uri[0] || !rq->uri || strcmp(uri, rq->uri) ||
	    strlen(response) != 32 || (alg[0] && strcasecmp(alg, "MD5")) ||
	    !ha1 || strlen(ha1) != SW_MD5_HEX_LEN)
		return false;
	{
		const char *p2[2] = {rq->method, uri};

		sw_md5_hex(ha2, p2, 2);
	}
	if (qop[0]) {
		const char *p[6] = {ha1, nonce, nc, cnonce, qop, ha2};
		char *end;

		if (strcasecmp(qop, "auth") || strlen(nc) != 8 || !cnonce[0])
			return false;
		ncv = strtoul(nc, &end, 16);
		if (*end || !ncv)
			return false;
		sw_md5_hex(expect, p, 6);
	} else {
		const char *p[3] = {ha1, nonce, ha2};

		sw_md5_hex(expect, p, 3);
	}
	if (strcasecmp(expect, response))
		return false;
	if (!sg_digest_nonce_ok(nonce, secret, rq->src, rq->now_s) ||
	    !nonce_fresh(seen, nonce, qop[0] != '\0', (uint32_t)ncv,
			 rq->now_s)) {
		/* right password, but an old, foreign or used nonce */
		*stale = true;
		return false;
	}
	return true;
}
