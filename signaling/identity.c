/*
 * identity.c - caller identity toward a routing gateway (see identity.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_protos.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>

#include "signaling/identity.h"

static int mode_of(const json_t *o, const char *key, const char *const *names,
		   int *out, char *err, size_t errsz)
{
	const json_t *v = json_object_get(o, key);
	int i;

	if (!v)
		return 0; /* the default: index 0 */
	i = sw_id_name_index(names, json_string_value(v));
	if (i < 0) {
		snprintf(err, errsz, "identity.%s: unknown value", key);
		return EINVAL;
	}
	*out = i;
	return 0;
}

/* Parse a gateway's identity object; "" or NULL is every default. */
int sg_identity_parse(struct sg_identity *id, const char *json, char *err,
		      size_t errsz)
{
	int pai = 0, ppi = 0, privacy = 0, extra = 0, source = 0, e = 0;
	const json_t *hs, *h;
	json_error_t je;
	json_t *o;
	size_t i;

	memset(id, 0, sizeof(*id));
	if (!json || !*json)
		return 0;
	o = json_loads(json, 0, &je);
	if (!json_is_object(o)) {
		snprintf(err, errsz, "identity: not a JSON object");
		json_decref(o);
		return EINVAL;
	}
	if (!e)
		e = mode_of(o, "pai", sw_id_mode_names, &pai, err, errsz);
	if (!e)
		e = mode_of(o, "ppi", sw_id_mode_names, &ppi, err, errsz);
	if (!e)
		e = mode_of(o, "privacy", sw_privacy_names, &privacy, err,
			    errsz);
	if (!e)
		e = mode_of(o, "extra_headers", sw_extra_names, &extra, err,
			    errsz);
	if (!e)
		e = mode_of(o, "peer_number_source", sw_number_source_names,
			    &source, err, errsz);
	hs = json_object_get(o, "headers");
	if (!e && extra == SW_EXTRA_LIST && json_array_size(hs)) {
		size_t n = json_array_size(hs);

		if (n > SG_ID_MAX_HEADERS)
			n = SG_ID_MAX_HEADERS;
		id->headers = calloc(n, sizeof(*id->headers));
		if (!id->headers)
			e = ENOMEM;
		json_array_foreach(hs, i, h)
		{
			const char *name = json_string_value(h);

			if (e || i >= n)
				break;
			if (!name || sw_id_header_forbidden(name))
				continue; /* the validator refused these */
			if (!(id->headers[id->nheaders] = strdup(name)))
				e = ENOMEM;
			else
				id->nheaders++;
		}
	}
	json_decref(o);
	if (e) {
		if (e == ENOMEM)
			snprintf(err, errsz, "identity: out of memory");
		sg_identity_free(id);
		return e;
	}
	id->pai = (enum sw_id_mode)pai;
	id->ppi = (enum sw_id_mode)ppi;
	id->privacy = (enum sw_privacy)privacy;
	id->extra = (enum sw_extra)extra;
	id->source = (enum sw_number_source)source;
	return 0;
}

void sg_identity_free(struct sg_identity *id)
{
	for (size_t i = 0; id && i < id->nheaders; i++)
		free(id->headers[i]);
	if (id) {
		free(id->headers);
		memset(id, 0, sizeof(*id));
	}
}

/* a growing header block */
struct block {
	char *p;
	size_t len, size;
	bool oom;
};

static void addf(struct block *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void addf(struct block *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->size - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->size) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t size = (b->len + (size_t)n + 1) * 2;
			char *np = realloc(b->p, size);

			if (!np) {
				b->oom = true;
				return;
			}
			b->p = np;
			b->size = size;
		}
	}
}

/* "Name: value\r\n" of a parsed header, its value encoded by sofia */
static void add_header(struct block *b, const char *name, const msg_header_t *h)
{
	char val[1024];
	issize_t n = msg_header_field_e(val, sizeof(val), h, 0);

	/* a value that does not fit or holds a line break is not sent */
	if (n <= 0 || (size_t)n >= sizeof(val) || strpbrk(val, "\r\n"))
		return;
	addf(b, "%s: %s\r\n", name, val);
}

/* an identity's URI as RFC 3325 allows it: sip/sips with a host, tel */
static bool id_url_ok(const url_t *u)
{
	if (u->url_type == url_sip || u->url_type == url_sips)
		return u->url_host && *u->url_host;
	return u->url_type == url_tel && u->url_host && *u->url_host;
}

/* each well-formed value of the caller's PAI (one per line); a malformed
 * one is not passed on */
static void add_pai(struct block *b, const sip_p_asserted_identity_t *p)
{
	for (; p; p = p->paid_next)
		if (id_url_ok(p->paid_url))
			add_header(b, "P-Asserted-Identity",
				   (const msg_header_t *)p);
}

static void add_ppi(struct block *b, const sip_p_preferred_identity_t *p)
{
	for (; p; p = p->ppid_next)
		if (id_url_ok(p->ppid_url))
			add_header(b, "P-Preferred-Identity",
				   (const msg_header_t *)p);
}

/* a Privacy header whose every value is one RFC 3323/3325 defines */
static bool privacy_ok(const sip_privacy_t *p)
{
	static const char *const known[] = {"header",  "session",  "user",
					    "none",    "critical", "id",
					    "history", NULL};

	if (!p || !p->priv_values || !p->priv_values[0])
		return false;
	for (size_t i = 0; p->priv_values[i]; i++)
		if (sw_id_name_index(known, p->priv_values[i]) < 0)
			return false;
	return true;
}

static bool listed(const struct sg_identity *id, const char *name)
{
	for (size_t i = 0; name && i < id->nheaders; i++)
		if (!strcasecmp(id->headers[i], name))
			return true;
	return false;
}

/* the name a header of the caller's INVITE goes by ("" = not a header) */
static const char *header_name(const msg_header_t *h)
{
	const msg_hclass_t *hc = h->sh_class;

	if (hc->hc_hash == msg_unknown_hash)
		return h->sh_unknown->un_name ? h->sh_unknown->un_name : "";
	if (hc->hc_hash < 0 || !hc->hc_name)
		return ""; /* request line, separator, payload, error */
	return hc->hc_name;
}

/* other headers of the caller's INVITE (SPEC §3.8 "extra header fields") */
static void add_extra(struct block *b, const struct sg_identity *id, msg_t *msg,
		      const sip_t *sip)
{
	msg_header_t **chain = msg_chain_head(msg);
	const msg_header_t *h;

	if (id->extra == SW_EXTRA_ALL) {
		/* the headers the switch does not itself interpret */
		for (const sip_unknown_t *u = sip->sip_unknown; u;
		     u = u->un_next)
			if (u->un_name && u->un_value &&
			    !sw_id_header_forbidden(u->un_name) &&
			    !strpbrk(u->un_value, "\r\n"))
				addf(b, "%s: %s\r\n", u->un_name, u->un_value);
		return;
	}
	if (id->extra != SW_EXTRA_LIST)
		return;
	/* listed ones, known to sofia or not, in the order received */
	for (h = chain ? *chain : NULL; h; h = h->sh_succ) {
		const char *name = header_name(h);

		if (!*name || !listed(id, name) || sw_id_header_forbidden(name))
			continue;
		if (h->sh_class->hc_hash == msg_unknown_hash) {
			if (h->sh_unknown->un_value &&
			    !strpbrk(h->sh_unknown->un_value, "\r\n"))
				addf(b, "%s: %s\r\n", name,
				     h->sh_unknown->un_value);
		} else {
			add_header(b, name, h);
		}
	}
}

char *sg_identity_headers(const struct sg_identity *id,
			  const struct sg_identity_in *in)
{
	const sip_t *sip = in->invite ? sip_object(in->invite) : NULL;
	const sip_p_asserted_identity_t *pai =
	    sip ? sip_p_asserted_identity(sip) : NULL;
	const sip_p_preferred_identity_t *ppi =
	    sip ? sip_p_preferred_identity(sip) : NULL;
	const sip_privacy_t *priv = sip ? sip_privacy(sip) : NULL;
	const char *num = in->number && *in->number ? in->number : NULL;
	struct block b = {0};

	if (id->pai == SW_ID_PASS)
		add_pai(&b, pai);
	else if (id->pai == SW_ID_CALLER && num)
		addf(&b, "P-Asserted-Identity: <sip:%s@%s>\r\n", num, in->host);
	if (id->ppi == SW_ID_PASS)
		add_ppi(&b, ppi);
	else if (id->ppi == SW_ID_CALLER && num)
		addf(&b, "P-Preferred-Identity: <sip:%s@%s>\r\n", num,
		     in->host);
	if (id->privacy == SW_PRIV_ID)
		addf(&b, "Privacy: id\r\n");
	else if (id->privacy == SW_PRIV_PASS && in->support_privacy &&
		 privacy_ok(priv))
		add_header(&b, "Privacy", (const msg_header_t *)priv);
	if (sip)
		add_extra(&b, id, in->invite, sip);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}
