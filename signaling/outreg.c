/*
 * outreg.c - REGISTER toward routing gateways with a register_username
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "outreg"
#include "common/log.h"
#include "common/md5.h"
#include "common/ntab.h"
#include "common/swtime.h"
#include "common/uuid.h"
#include "signaling/digest.h"
#include "signaling/alias.h"
#include "signaling/outreg.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define OR_STR(x)    #x
#define OR_XSTR(x)   OR_STR(x)
#define OR_EXPIRES_S 3600 /* asked for; the registrar may grant less */
#define OR_RETRY_S   60	  /* after a failure */
#define OR_MIN_MS    1000 /* never refreshed sooner than this */

struct sg_outreg {
	struct sw_ntab *gws; /* owned: struct oreg by gateway name */
	unsigned gen;	     /* table walk generation */
};

/* one gateway's registration; its address is the REGISTER's magic */
struct oreg {
	struct sg *sg;	     /* borrowed */
	char key[600];	     /* user, address, port, transport, password */
	nta_leg_t *leg;	     /* owned: Call-ID and CSeq of every REGISTER */
	nta_outgoing_t *orq; /* owned: REGISTER in flight */
	int64_t next_ms;     /* monotonic: the next REGISTER is due */
	int64_t until_ms;    /* monotonic: registered until, 0 = not */
	bool failed;	     /* the last attempt failed (alarm) */
	int code;	     /* its final status */
	char why[96];	     /* its reason */
	bool answered;	     /* the REGISTER in flight carries credentials */
	unsigned gen;	     /* seen at this walk */
	/* the last digest challenge */
	bool proxy; /* 407: Proxy-Authorization */
	char realm[128], nonce[256], opaque[256];
	bool qop_auth;
	unsigned nc;
	/* what the REGISTERs are built from */
	char user[64], password[128], ruri[400], aor[400];
	char host[256]; /* the gateway's address, port and transport */
	int port;
	bool tls, tcp;
};

static void or_clear(struct oreg *r)
{
	if (r->orq) {
		nta_outgoing_destroy(r->orq);
		r->orq = NULL;
	}
	if (r->leg) {
		nta_leg_destroy(r->leg);
		r->leg = NULL;
	}
}

static void or_destroy(void *entry)
{
	or_clear(entry);
}

int sg_outreg_alloc(struct sg_outreg **op)
{
	struct sg_outreg *o;
	int err;

	if (!op)
		return EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return ENOMEM;
	err = sw_ntab_alloc(&o->gws, sizeof(struct oreg), or_destroy);
	if (err) {
		free(o);
		return err;
	}
	*op = o;
	return 0;
}

void sg_outreg_free(struct sg_outreg *o)
{
	if (!o)
		return;
	sw_ntab_free(o->gws);
	free(o);
}

/* keep a Digest MD5 challenge; false when there is none we can answer */
static bool take_challenge(struct oreg *r, sip_t const *sip, int status)
{
	msg_auth_t const *au = status == 407 ? sip->sip_proxy_authenticate
					     : sip->sip_www_authenticate;
	char alg[32], qop[64];

	for (; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest"))
			continue;
		sg_digest_param(au, "algorithm", alg, sizeof(alg));
		if (alg[0] && strcasecmp(alg, "MD5"))
			continue;
		sg_digest_param(au, "realm", r->realm, sizeof(r->realm));
		sg_digest_param(au, "nonce", r->nonce, sizeof(r->nonce));
		sg_digest_param(au, "opaque", r->opaque, sizeof(r->opaque));
		sg_digest_param(au, "qop", qop, sizeof(qop));
		if (!r->nonce[0])
			continue;
		/* qop="auth,auth-int": auth; none: RFC 2069 */
		r->qop_auth = strstr(qop, "auth") != NULL;
		r->proxy = status == 407;
		r->nc = 0;
		return true;
	}
	return false;
}

/* the Authorization (or Proxy-Authorization) value for the next REGISTER */
static void authorization(struct oreg *r, char *out, size_t size)
{
	char ha1[SW_MD5_HEX_LEN + 1], ha2[SW_MD5_HEX_LEN + 1];
	char resp[SW_MD5_HEX_LEN + 1], nc[12], cnonce[SW_UUID_LEN + 1];
	/* sw_md5_hex joins the parts with ':' */
	const char *a1[] = {r->user, r->realm, r->password};
	const char *a2[] = {"REGISTER", r->ruri};
	int n;

	sw_md5_hex(ha1, a1, sizeof(a1) / sizeof(a1[0]));
	sw_md5_hex(ha2, a2, sizeof(a2) / sizeof(a2[0]));
	if (r->qop_auth) {
		const char *rs[] = {ha1, r->nonce, nc, cnonce, "auth", ha2};

		snprintf(nc, sizeof(nc), "%08x", ++r->nc);
		sw_uuid_gen(cnonce);
		sw_md5_hex(resp, rs, sizeof(rs) / sizeof(rs[0]));
	} else {
		const char *rs[] = {ha1, r->nonce, ha2};

		sw_md5_hex(resp, rs, sizeof(rs) / sizeof(rs[0]));
	}
	n = snprintf(out, size,
		     "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		     "uri=\"%s\", response=\"%s\", algorithm=MD5",
		     r->user, r->realm, r->nonce, r->ruri, resp);
	if (n > 0 && (size_t)n < size && r->opaque[0])
		n += snprintf(out + n, size - (size_t)n, ", opaque=\"%s\"",
			      r->opaque);
	if (n > 0 && (size_t)n < size && r->qop_auth)
		snprintf(out + n, size - (size_t)n,
			 ", qop=auth, nc=%s, cnonce=\"%s\"", nc, cnonce);
}

static void or_send(struct sg *sg, struct oreg *r);

static void failed(struct oreg *r, int code, const char *why)
{
	if (!r->failed)
		sw_warn("registration with gateway %s failed: %d %s",
			sw_ntab_name(r), code, why);
	r->failed = true;
	r->code = code;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->until_ms = 0;
	r->next_ms = sw_time_mono_ms() + OR_RETRY_S * 1000;
}

/* the time granted: our contact's expires, else Expires, else asked */
static int64_t granted_s(sip_t const *sip)
{
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next)
		if (m->m_expires)
			return strtoll(m->m_expires, NULL, 10);
	if (sip->sip_expires)
		return (int64_t)sip->sip_expires->ex_delta;
	return OR_EXPIRES_S;
}

static int or_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct oreg *r = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	const char *phrase = sip && sip->sip_status ? sip->sip_status->st_phrase
						    : "Request Timeout";
	bool answered = r->answered;

	if (status < 200)
		return 0;
	nta_outgoing_destroy(orq);
	r->orq = NULL;
	r->answered = false;
	if (status < 300) {
		int64_t s = sip ? granted_s(sip) : OR_EXPIRES_S;
		int64_t now = sw_time_mono_ms();
		int64_t refresh = s * 1000 * 3 / 4;

		if (s <= 0) {
			failed(r, status, "registrar granted no time");
			return 0;
		}
		if (r->failed || !r->until_ms)
			sw_info("registered with gateway %s for %lld s",
				sw_ntab_name(r), (long long)s);
		r->failed = false;
		r->code = status;
		r->why[0] = '\0';
		r->until_ms = now + s * 1000;
		r->next_ms = now + (refresh < OR_MIN_MS ? OR_MIN_MS : refresh);
		return 0;
	}
	if ((status == 401 || status == 407) && sip && !answered) {
		if (take_challenge(r, sip, status)) {
			or_send(r->sg, r); /* once, with the credentials */
			return 0;
		}
		/* no Digest MD5 challenge with a nonce: nothing to answer */
		failed(r, status, "challenge unusable");
		return 0;
	}
	failed(r, status,
	       answered && (status == 401 || status == 407)
		   ? "credentials refused"
		   : phrase);
	return 0;
}

static int or_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip)
{
	(void)magic;
	(void)leg;
	(void)irq;
	(void)sip;
	return 481;
}

static void or_send(struct sg *sg, struct oreg *r)
{
	char auth[1024], contact[400];
	sip_contact_t const *me = nta_agent_contact(sg->agent);
	const char *host =
	    me && me->m_url->url_host ? me->m_url->url_host : "127.0.0.1";
	const char *port =
	    me && me->m_url->url_port ? me->m_url->url_port : "5060";
	bool with_auth = r->nonce[0] != '\0';
	tport_t *tp = r->tls || r->tcp
			  ? sg_alias_find(sg->alias, r->tls, r->host, r->port)
			  : NULL;

	if (!r->leg) {
		char callid[SW_UUID_LEN + 1];

		sw_uuid_gen(callid);
		r->leg = nta_leg_tcreate(sg->agent, or_request, r,
					 SIPTAG_FROM_STR(r->aor),
					 SIPTAG_TO_STR(r->aor),
					 SIPTAG_CALL_ID_STR(callid), TAG_END());
		if (!r->leg) {
			failed(r, 500, "no SIP leg");
			return;
		}
		nta_leg_tag(r->leg, NULL);
	}
	if (with_auth)
		authorization(r, auth, sizeof(auth));
	snprintf(contact, sizeof(contact), "<sip:%s@%s:%s%s>", r->user, host,
		 port,
		 strstr(r->ruri, "transport=tcp") ? ";transport=tcp" : "");
	r->answered = with_auth;
	r->orq = nta_outgoing_tcreate(
	    r->leg, or_resp, r, NULL, SIP_METHOD_REGISTER,
	    URL_STRING_MAKE(r->ruri), SIPTAG_CONTACT_STR(contact),
	    SIPTAG_EXPIRES_STR(OR_XSTR(OR_EXPIRES_S)),
	    TAG_IF(with_auth && !r->proxy, SIPTAG_AUTHORIZATION_STR(auth)),
	    TAG_IF(with_auth && r->proxy, SIPTAG_PROXY_AUTHORIZATION_STR(auth)),
	    TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!r->orq)
		failed(r, 500, "REGISTER not sent");
}

/* what a gateway registers with; false when it does not */
static bool gw_key(const struct sg_gw *g, char *key, size_t size)
{
	if (!g->register_username[0] || g->locked)
		return false;
	snprintf(key, size, "%s\n%s\n%d\n%d%d\n%s", g->register_username,
		 g->address, g->port, g->tcp, g->tls, g->register_password);
	return true;
}

static void or_setup(struct sg *sg, struct oreg *r, const struct sg_gw *g,
		     const char *key)
{
	or_clear(r);
	memset(r, 0, sizeof(*r));
	r->sg = sg;
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->user, sizeof(r->user), "%s", g->register_username);
	snprintf(r->password, sizeof(r->password), "%s", g->register_password);
	snprintf(r->ruri, sizeof(r->ruri), "sip:%s:%d%s", g->address, g->port,
		 g->tls	  ? ";transport=tls"
		 : g->tcp ? ";transport=tcp"
			  : "");
	snprintf(r->aor, sizeof(r->aor), "<sip:%s@%s>", g->register_username,
		 g->address);
	snprintf(r->host, sizeof(r->host), "%s", g->address);
	r->port = g->port;
	r->tls = g->tls;
	r->tcp = g->tcp;
}

/* a registration whose gateway went (or stopped registering) goes too */
static bool unseen_h(const char *name, void *entry, void *arg)
{
	struct oreg *r = entry;
	struct sg_outreg *o = arg;

	if (r->gen != o->gen) {
		sw_info("registration with gateway %s dropped", name);
		sw_ntab_del(o->gws, name); /* this entry only: allowed */
	}
	return false;
}

void sg_outreg_tick(struct sg *sg)
{
	const struct sg_tables *t = sg->tables;
	struct sg_outreg *o = sg->outreg;
	int64_t now = sw_time_mono_ms();
	char key[600];

	if (!sg->agent || sg->stopping || !o || !t)
		return;
	o->gen++;
	for (size_t i = 0; i < t->ngws; i++) {
		const struct sg_gw *g = &t->gws[i];
		struct oreg *r;
		bool created = false;

		if (!gw_key(g, key, sizeof(key)))
			continue;
		r = sw_ntab_get(o->gws, g->name, &created);
		if (!r)
			continue;
		if (created || strcmp(r->key, key))
			or_setup(sg, r, g, key);
		r->gen = o->gen;
		if (!r->orq && now >= r->next_ms) {
			r->nonce[0] = '\0'; /* a fresh challenge each time */
			or_send(sg, r);
		}
	}
	sw_ntab_walk(o->gws, unseen_h, o);
}

static bool failed_h(const char *name, void *entry, void *arg)
{
	const struct oreg *r = entry;

	if (r->failed)
		json_array_append_new(
		    arg, json_pack("{s:s, s:i, s:s}", "gateway", name, "code",
				   r->code, "reason", r->why));
	return false;
}

json_t *sg_outreg_failed_json(struct sg *sg)
{
	json_t *arr = json_array();

	if (arr && sg->outreg)
		sw_ntab_walk(sg->outreg->gws, failed_h, arr);
	return arr;
}
