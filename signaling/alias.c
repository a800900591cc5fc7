/*
 * alias.c - connections peers offered for reuse (signaling/alias.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/ntab.h"
#include "signaling/alias.h"
#include "signaling/tables.h"

struct sg_alias {
	struct sw_ntab *conns; /* owned: struct conn by "tls:host:port" */
};

struct conn {
	tport_t *tp; /* ref */
};

static void conn_free(void *entry)
{
	struct conn *c = entry;

	tport_unref(c->tp);
	c->tp = NULL;
}

/** No connection offered yet. */
int sg_alias_alloc(struct sg_alias **ap)
{
	struct sg_alias *a;
	int err;

	if (!ap)
		return EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	err = sw_ntab_alloc(&a->conns, sizeof(struct conn), conn_free);
	if (err) {
		free(a);
		return err;
	}
	*ap = a;
	return 0;
}

/** Release every connection held (NULL is fine). */
void sg_alias_free(struct sg_alias *a)
{
	if (!a)
		return;
	sw_ntab_free(a->conns);
	free(a);
}

/* "tls:host:port" for host without IPv6 brackets; false when too long */
static bool key_of(char *buf, size_t size, bool tls, const char *host, int port)
{
	size_t hl = strlen(host);
	int n;

	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host++;
		hl -= 2;
	}
	n = snprintf(buf, size, "%s:%.*s:%d", tls ? "tls" : "tcp", (int)hl,
		     host, port);
	return n > 0 && (size_t)n < size;
}

static bool same_host(const char *via_host, const char *ip)
{
	size_t hl = strlen(via_host);

	if (hl > 2 && via_host[0] == '[' && via_host[hl - 1] == ']')
		return strlen(ip) == hl - 2 &&
		       !strncasecmp(via_host + 1, ip, hl - 2);
	return !strcasecmp(via_host, ip);
}

/**
 * Take the connection tp a request came over as the way to the sent-by
 * address of its top Via when that Via carries ";alias", tp is a TCP or
 * TLS connection and the Via's host is src_ip (the connection's peer).
 * The caller vouches that the peer is one we know.  true when taken.
 */
bool sg_alias_learn(struct sg_alias *a, tport_t *tp, const sip_via_t *via,
		    const char *src_ip)
{
	char key[SW_NTAB_NAME_MAX + 1];
	const char *proto;
	struct conn *c;
	bool tls, created = false;
	int port;

	if (!a || !tp || !via || !via->v_host || !src_ip ||
	    !msg_params_find(via->v_params, "alias") ||
	    !tport_is_secondary(tp) || !tport_is_stream(tp) ||
	    tport_is_closed(tp))
		return false;
	proto = tport_name(tp)->tpn_proto;
	tls = proto && !strcasecmp(proto, "tls");
	if (!tls && !tport_is_tcp(tp))
		return false;
	if (!same_host(via->v_host, src_ip)) {
		sw_debug("Via alias of %s for host %s ignored: not the "
			 "connection's address",
			 src_ip, via->v_host);
		return false;
	}
	port = via->v_port ? (int)strtol(via->v_port, NULL, 10)
	       : tls	   ? 5061
			   : 5060;
	if (port <= 0 || port > 65535 ||
	    !key_of(key, sizeof(key), tls, via->v_host, port))
		return false;
	c = sw_ntab_get(a->conns, key, &created);
	if (!c)
		return false;
	if (c->tp == tp)
		return true;
	tport_unref(c->tp);
	c->tp = tport_ref(tp);
	sw_info("%s offers its connection for requests to it (RFC 5923 "
		"alias)",
		key);
	return true;
}

/**
 * The connection offered for host:port over TLS (tls) or TCP, NULL when
 * none is or it has closed (the entry is then dropped).  Borrowed: valid
 * until the next call into this module.
 */
tport_t *sg_alias_find(struct sg_alias *a, bool tls, const char *host, int port)
{
	char key[SW_NTAB_NAME_MAX + 1];
	struct conn *c;

	if (!a || !host || !sw_ntab_count(a->conns) ||
	    !key_of(key, sizeof(key), tls, host, port))
		return NULL;
	c = sw_ntab_find(a->conns, key);
	if (!c)
		return NULL;
	if (!c->tp || tport_is_closed(c->tp) || tport_is_shutdown(c->tp)) {
		sw_info("%s: the aliased connection has closed", key);
		sw_ntab_del(a->conns, key);
		return NULL;
	}
	return c->tp;
}

/**
 * The connection to send a request to gateway gw over: one it offered, or
 * NULL (nta then finds or opens its own; always for UDP).
 */
tport_t *sg_alias_for_gw(struct sg_alias *a, const struct sg_gw *gw)
{
	if (!gw || (!gw->tls && !gw->tcp))
		return NULL;
	return sg_alias_find(a, gw->tls, gw->address, gw->port);
}

/** Connections held. */
size_t sg_alias_count(struct sg_alias *a)
{
	return a ? sw_ntab_count(a->conns) : 0;
}
