/*
 * metrics.c - signalingd's Prometheus metrics (signaling/metrics.h)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/metrics.h"
#include "signaling/billing.h"
#include "signaling/call.h"
#include "signaling/calls.h"
#include "signaling/db.h"
#include "signaling/media.h"
#include "signaling/metrics.h"
#include "signaling/sg.h"
#include "signaling/spool.h"
#include "signaling/stats.h"

static void calls(struct sg *sg, struct sw_mtext *t)
{
	static const char *const setup[] = {"state", "setup"};
	static const char *const answered[] = {"state", "answered"};
	int64_t n_setup = 0, n_answered = 0;
	char code[12];
	const char *lc[] = {"code", code};

	for (const struct sg_call *c = sg_calls_first(sg->calls); c;
	     c = c->next) {
		if (c->state == SG_CALL_ANSWERED ||
		    c->state == SG_CALL_CONFIRMED)
			n_answered++;
		else if (c->state != SG_CALL_ENDED)
			n_setup++;
	}
	sw_mt_family(t, "tandem_signaling_calls_active", "gauge",
		     "Calls in progress: setup (before the answer) or "
		     "answered (up)");
	sw_mt_sample(t, "tandem_signaling_calls_active", n_setup, 1, setup);
	sw_mt_sample(t, "tandem_signaling_calls_active", n_answered, 1,
		     answered);
	sw_mt_one(t, "tandem_signaling_calls_total", "counter",
		  "Calls received (INVITEs that started a call)",
		  (int64_t)sg_calls_started(sg->calls));
	sw_mt_family(t, "tandem_signaling_calls_ended_total", "counter",
		     "Calls ended, by the final SIP code of their CDR");
	for (int k = 100; k < 100 + SG_CALLS_CODES; k++) {
		uint64_t n = sg_calls_ended_count(sg->calls, k);

		if (!n)
			continue;
		snprintf(code, sizeof(code), "%d", k);
		sw_mt_sample(t, "tandem_signaling_calls_ended_total",
			     (int64_t)n, 1, lc);
	}
	sw_mt_one(t, "tandem_signaling_failovers_total", "counter",
		  "Attempts toward another gateway after a call's first",
		  (int64_t)sg_calls_failovers(sg->calls));
}

struct gw_walk {
	struct sw_mtext *t;
	bool answered;
};

static void gw_one(const char *gw, uint64_t attempts, uint64_t answered,
		   void *arg)
{
	struct gw_walk *w = arg;
	const char *l[] = {"gateway", gw};

	sw_mt_sample(w->t,
		     w->answered ? "tandem_signaling_gateway_answered_total"
				 : "tandem_signaling_gateway_attempts_total",
		     (int64_t)(w->answered ? answered : attempts), 1, l);
}

static void gateways(struct sg *sg, struct sw_mtext *t)
{
	struct gw_walk w = {t, false};

	sw_mt_family(t, "tandem_signaling_gateway_attempts_total", "counter",
		     "Attempts toward each routing gateway, counted when "
		     "they end (the ASR's denominator)");
	sg_stats_totals(sg->stats, gw_one, &w);
	w.answered = true;
	sw_mt_family(t, "tandem_signaling_gateway_answered_total", "counter",
		     "Attempts each routing gateway answered (the ASR's "
		     "numerator)");
	sg_stats_totals(sg->stats, gw_one, &w);
}

static void billing(struct sg *sg, struct sw_mtext *t)
{
	uint64_t failed = 0;
	const struct sw_mhist *h =
	    sg_billing_auth_latency(sg->billing, &failed);

	sw_mt_one(t, "tandem_signaling_billing_up", "gauge",
		  "1 when billingd answered the last exchange",
		  sg_billing_reachable(sg->billing));
	sw_mt_hist(t, "tandem_signaling_billing_auth_seconds",
		   "auth.request and auth.extend round trips to billingd", h);
	sw_mt_one(t, "tandem_signaling_billing_auth_failures_total", "counter",
		  "auth requests with no usable answer (timeout, error)",
		  (int64_t)failed);
	sw_mt_one(t, "tandem_signaling_cdr_spool_pending", "gauge",
		  "CDRs in the journal that billingd has not acknowledged",
		  (int64_t)sg_spool_pending(sg->spool));
	sw_mt_one(t, "tandem_signaling_tables_loaded_timestamp_seconds",
		  "gauge",
		  "When the routing tables in use were read from PostgreSQL "
		  "(Unix time; old while it is unreachable)",
		  sg->tables ? sg->tables->loaded_wall_ms / 1000 : 0);
	sw_mt_one(t, "tandem_signaling_db_errors_total", "counter",
		  "Routing table and blacklist loads from PostgreSQL that "
		  "failed",
		  (int64_t)sg_db_errors());
}

void sg_metrics_render(struct sg *sg, struct sw_mtext *t)
{
	const char *info[] = {"version", TANDEM_VERSION, "node",
			      sg->cfg.node_id};

	sw_mt_family(t, "tandem_signaling_info", "gauge",
		     "Version and node id of this signalingd");
	sw_mt_sample(t, "tandem_signaling_info", 1, 2, info);
	calls(sg, t);
	gateways(sg, t);
	billing(sg, t);
	sg_media_metrics(sg->media, t);
}

/** Render and serve (nothing when metrics_listen is empty). */
void sg_metrics_publish(struct sg *sg)
{
	struct sw_mtext t = {0};

	if (!sg->metrics)
		return;
	sg_metrics_render(sg, &t);
	sw_metrics_publish(sg->metrics, &t);
}
