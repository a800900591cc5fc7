/*
 * keepalive.c - OPTIONS probes and the offline state of routing gateways
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "keepalive"
#include "common/log.h"
#include "common/ntab.h"
#include "common/swtime.h"
#include "common/uuid.h"
#include "signaling/alias.h"
#include "signaling/keepalive.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define KA_FAILURES 3

struct sg_keepalive {
	struct sw_ntab *gws; /* owned: struct ka by gateway name */
};

/* one gateway's probe state; its address is the probe's magic */
struct ka {
	unsigned failures;
	bool offline;
	nta_leg_t *leg;	     /* owned: probe dialog */
	nta_outgoing_t *orq; /* owned: probe in flight */
	bool done;	     /* probe answered: free leg on tick */
	int64_t last_ms;     /* monotonic, last probe sent */
};

static void ka_clear(struct ka *k)
{
	if (k->orq) {
		nta_outgoing_destroy(k->orq);
		k->orq = NULL;
	}
	if (k->leg) {
		nta_leg_destroy(k->leg);
		k->leg = NULL;
	}
	k->done = false;
}

static void ka_destroy(void *entry)
{
	ka_clear(entry);
}

/** Probe state for no gateway yet. */
int sg_keepalive_alloc(struct sg_keepalive **kap)
{
	struct sg_keepalive *ka;
	int err;

	if (!kap)
		return EINVAL;
	ka = calloc(1, sizeof(*ka));
	if (!ka)
		return ENOMEM;
	err = sw_ntab_alloc(&ka->gws, sizeof(struct ka), ka_destroy);
	if (err) {
		free(ka);
		return err;
	}
	*kap = ka;
	return 0;
}

/** Destroy every probe and the state (before the SIP agent goes). */
void sg_keepalive_free(struct sg_keepalive *ka)
{
	if (!ka)
		return;
	sw_ntab_free(ka->gws);
	free(ka);
}

static int ka_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct ka *k = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	bool alive;

	if (status < 200)
		return 0;
	alive = sip && !nta_sip_is_internal(sip) && status < 500;
	if (alive) {
		if (k->offline)
			sw_info("gateway %s answers OPTIONS (%d): online",
				sw_ntab_name(k), status);
		k->failures = 0;
		k->offline = false;
	} else if (++k->failures >= KA_FAILURES && !k->offline) {
		k->offline = true;
		sw_warn("gateway %s offline: %u OPTIONS failed (last %d); "
			"Vendor Unreachable",
			sw_ntab_name(k), k->failures, status);
	}
	nta_outgoing_destroy(orq);
	k->orq = NULL;
	k->done = true; /* the leg goes on the next tick */
	return 0;
}

static int ka_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq,
		      sip_t const *sip)
{
	(void)magic;
	(void)leg;
	(void)irq;
	(void)sip;
	return 481;
}

static void ka_send(struct sg *sg, struct ka *k, const struct sg_gw *g)
{
	sip_contact_t const *me = nta_agent_contact(sg->agent);
	char ruri[320], from[160], to[320];
	char callid[SW_UUID_LEN + 1];
	tport_t *tp;

	snprintf(ruri, sizeof(ruri), "sip:%s:%d%s", g->address, g->port,
		 g->tls	  ? ";transport=tls"
		 : g->tcp ? ";transport=tcp"
			  : "");
	snprintf(from, sizeof(from), "<sip:keepalive@%s>",
		 me && me->m_url->url_host ? me->m_url->url_host : "127.0.0.1");
	snprintf(to, sizeof(to), "<sip:%s:%d>", g->address, g->port);
	sw_uuid_gen(callid);

	k->leg = nta_leg_tcreate(sg->agent, ka_request, k,
				 SIPTAG_FROM_STR(from), SIPTAG_TO_STR(to),
				 SIPTAG_CALL_ID_STR(callid), TAG_END());
	if (!k->leg)
		return;
	nta_leg_tag(k->leg, NULL);
	tp = sg_alias_for_gw(sg->alias, g);
	k->orq = nta_outgoing_tcreate(k->leg, ka_resp, k, NULL,
				      SIP_METHOD_OPTIONS, URL_STRING_MAKE(ruri),
				      TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!k->orq)
		ka_clear(k);
}

/* an answered probe's leg goes */
static bool answered_h(const char *name, void *entry, void *arg)
{
	struct ka *k = entry;

	(void)name;
	(void)arg;
	if (k->done)
		ka_clear(k);
	return false;
}

/* Called from the housekeeping tick: free answered probes, send due ones. */
void sg_keepalive_tick(struct sg *sg)
{
	const struct sg_tables *t = sg->tables;
	int64_t now = sw_time_mono_ms();
	int64_t every = t->params.options_interval_s * 1000;

	if (!sg->agent || sg->stopping || !sg->keepalive)
		return;
	sw_ntab_walk(sg->keepalive->gws, answered_h, NULL);
	for (size_t i = 0; i < t->ngws; i++) {
		const struct sg_gw *g = &t->gws[i];
		struct ka *k;

		if (!g->keepalive || g->locked)
			continue;
		k = sw_ntab_get(sg->keepalive->gws, g->name, NULL);
		if (!k || k->orq || k->leg)
			continue;
		if (k->last_ms && now - k->last_ms < every)
			continue;
		k->last_ms = now;
		ka_send(sg, k, g);
	}
}

/* True when the gateway failed its keepalive (and still has it on). */
bool sg_keepalive_offline(struct sg *sg, const char *gw)
{
	const struct ka *k =
	    sg->keepalive ? sw_ntab_find(sg->keepalive->gws, gw) : NULL;

	return k && k->offline;
}

/* True when the gateway is kept out of routing by its keepalive. */
bool sg_keepalive_skip(const struct sg_gw *gw, void *arg)
{
	return gw->keepalive && sg_keepalive_offline(arg, gw->name);
}
