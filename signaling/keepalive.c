/*
 * keepalive.c - OPTIONS probes and the offline state of routing gateways
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "keepalive"
#include "common/log.h"
#include "common/swtime.h"
#include "common/uuid.h"
#include "signaling/keepalive.h"
#include "signaling/sg.h"
#include "signaling/tables.h"

#define KA_FAILURES 3

struct sg_ka {
	struct sg_ka *next;
	struct sg *sg; /* borrowed */
	char name[64];
	unsigned failures;
	bool offline;
	nta_leg_t *leg;	     /* owned: probe dialog */
	nta_outgoing_t *orq; /* owned: probe in flight */
	bool done;	     /* probe answered: free leg on tick */
	int64_t last_ms;     /* monotonic, last probe sent */
};

static struct sg_ka *ka_get(struct sg *sg, const char *name, bool create)
{
	struct sg_ka *k;

	for (k = sg->keepalive; k; k = k->next)
		if (!strcmp(k->name, name))
			return k;
	if (!create || !(k = calloc(1, sizeof(*k))))
		return NULL;
	k->sg = sg;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->next = sg->keepalive;
	sg->keepalive = k;
	return k;
}

static void ka_clear(struct sg_ka *k)
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

static int ka_resp(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct sg_ka *k = magic;
	int status = sip && sip->sip_status ? sip->sip_status->st_status
					    : nta_outgoing_status(orq);
	bool alive;

	if (status < 200)
		return 0;
	alive = sip && !nta_sip_is_internal(sip) && status < 500;
	if (alive) {
		if (k->offline)
			sw_info("gateway %s answers OPTIONS (%d): online",
				k->name, status);
		k->failures = 0;
		k->offline = false;
	} else if (++k->failures >= KA_FAILURES && !k->offline) {
		k->offline = true;
		sw_warn("gateway %s offline: %u OPTIONS failed (last %d); "
			"Vendor Unreachable",
			k->name, k->failures, status);
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

static void ka_send(struct sg *sg, struct sg_ka *k, const struct sg_gw *g)
{
	sip_contact_t const *me = nta_agent_contact(sg->agent);
	char ruri[320], from[160], to[320];
	char callid[SW_UUID_LEN + 1];

	snprintf(ruri, sizeof(ruri), "sip:%s:%d%s", g->address, g->port,
		 g->tcp ? ";transport=tcp" : "");
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
	k->orq =
	    nta_outgoing_tcreate(k->leg, ka_resp, k, NULL, SIP_METHOD_OPTIONS,
				 URL_STRING_MAKE(ruri), TAG_END());
	if (!k->orq)
		ka_clear(k);
}

/* Called from the housekeeping tick: free answered probes, send due ones. */
void sg_keepalive_tick(struct sg *sg)
{
	const struct sg_tables *t = sg->tables;
	int64_t now = sw_time_mono_ms();
	int64_t every = t->params.options_interval_s * 1000;

	if (!sg->agent || sg->stopping)
		return;
	for (struct sg_ka *k = sg->keepalive; k; k = k->next)
		if (k->done)
			ka_clear(k);
	for (size_t i = 0; i < t->ngws; i++) {
		const struct sg_gw *g = &t->gws[i];
		struct sg_ka *k;

		if (!g->keepalive || g->locked)
			continue;
		k = ka_get(sg, g->name, true);
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
	struct sg_ka *k = ka_get(sg, gw, false);

	return k && k->offline;
}

/* True when the gateway is kept out of routing by its keepalive. */
bool sg_keepalive_skip(const struct sg_gw *gw, void *arg)
{
	return gw->keepalive && sg_keepalive_offline(arg, gw->name);
}

/* Destroy every probe (before the agent goes). */
void sg_keepalive_free(struct sg *sg)
{
	struct sg_ka *k, *n;

	for (k = sg->keepalive; k; k = n) {
		n = k->next;
		ka_clear(k);
		free(k);
	}
	sg->keepalive = NULL;
}
