/*
 * alias.h - connections peers offered for reuse (RFC 5923)
 *
 * A request that reaches us over TCP or TLS with ";alias" in its top Via
 * says: send your requests for my sent-by address over this connection
 * instead of opening one.  A gateway of a carrier that connects to us
 * then gets its calls, keepalives and in-dialog requests on that same
 * connection (it may have no listening socket reachable from us at all).
 * Only a known peer is taken at its word (sip.c decides: a mapping or
 * routing gateway), and only when the Via's host is the address the
 * connection comes from, so no one can draw another host's traffic to
 * itself.  An entry holds a reference to the connection; it goes when the
 * connection closes or another is offered for the same address.
 *
 * Ownership: struct sg holds the only reference; free it before the SIP
 * agent (the connections are the agent's).
 * Threading: signalingd's loop only.
 * Bus:       none.
 */
#ifndef SG_ALIAS_H
#define SG_ALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "signaling/sofia.h"

struct sg_alias;

int sg_alias_alloc(struct sg_alias **ap);
void sg_alias_free(struct sg_alias *a);
bool sg_alias_learn(struct sg_alias *a, tport_t *tp, const sip_via_t *via,
		    const char *src_ip);
tport_t *sg_alias_find(struct sg_alias *a, bool tls, const char *host,
		       int port);
size_t sg_alias_count(struct sg_alias *a);

struct sg_gw;
tport_t *sg_alias_for_gw(struct sg_alias *a, const struct sg_gw *gw);

#endif /* SG_ALIAS_H */
