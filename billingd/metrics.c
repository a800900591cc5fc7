/*
 * metrics.c - billingd's Prometheus metrics (see metrics.h)
 */
#define SW_LOG_MODULE "metrics"

#include <errno.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/cdr.h"
#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/metrics.h"
#include "billingd/resv.h"
#include "common/log.h"
#include "common/metrics.h"

struct bd_metrics {
	const struct bd *bd;	/* borrowed: the process it reports */
	struct sw_metrics *srv; /* owned; NULL: metrics_listen empty */
	struct bd_auth_stats auth;
	struct tmr tmr; /* render + publish, while srv runs */
};

static const char *const outcome_name[BD_AUTH_OUTCOMES] = {"allowed", "refused",
							   "error"};

/* Count one answered auth.request (with its time, us) or auth.extend. */
void bd_metrics_auth(struct bd_metrics *m, bool extend,
		     enum bd_auth_outcome outcome, int64_t us)
{
	if (!m || outcome >= BD_AUTH_OUTCOMES)
		return;
	if (extend) {
		m->auth.extend[outcome]++;
		return;
	}
	m->auth.request[outcome]++;
	sw_mhist_observe(&m->auth.request_us, us);
}

/* What m's process shows now: its counters and its parts' figures. */
void bd_metrics_snapshot(struct bd_metrics_snap *s, const struct bd_metrics *m)
{
	const struct bd *bd = m->bd;

	memset(s, 0, sizeof(*s));
	s->auth = m->auth;
	s->resv_active = bd_resv_count(bd->resv);
	s->resv_held = bd_resv_held_total(bd->resv);
	bd_cdr_stats(bd->cdr, &s->cdr);
	bd_db_stats(bd->db, &s->db);
}

/* a counter family with one sample per auth outcome */
static void by_outcome(struct sw_mtext *t, const char *name, const char *help,
		       const uint64_t *v)
{
	sw_mt_family(t, name, "counter", help);
	for (size_t i = 0; i < BD_AUTH_OUTCOMES; i++) {
		const char *l[] = {"result", outcome_name[i]};

		sw_mt_sample(t, name, (int64_t)v[i], 1, l);
	}
}

/*
 * The exposition of snapshot s (Prometheus text format): names, types and
 * units are the contract of docs/metrics.md.
 */
void bd_metrics_render(struct sw_mtext *t, const struct bd_metrics_snap *s)
{
	const char *query[] = {"kind", "query"};
	const char *conn[] = {"kind", "connection"};

	by_outcome(t, "tandem_billing_auth_requests_total",
		   "auth.request answered, by result (error: an error reply "
		   "such as a bad request or the database unavailable)",
		   s->auth.request);
	sw_mt_hist(t, "tandem_billing_auth_seconds",
		   "auth.request from its arrival to its answer",
		   &s->auth.request_us);
	by_outcome(t, "tandem_billing_extend_requests_total",
		   "auth.extend answered, by result", s->auth.extend);

	sw_mt_one(t, "tandem_billing_reservations_active", "gauge",
		  "credit reservations held now (live calls and ended calls "
		  "whose CDR is not stored yet)",
		  (int64_t)s->resv_active);
	sw_mt_one(t, "tandem_billing_reserved_micro", "gauge",
		  "money held by the credit reservations, summed over every "
		  "account that holds (customer and agents), in micro-units "
		  "of the currency",
		  s->resv_held);

	sw_mt_one(t, "tandem_billing_cdrs_stored_total", "counter",
		  "CDRs stored with their debit", (int64_t)s->cdr.stored);
	sw_mt_one(t, "tandem_billing_cdrs_duplicate_total", "counter",
		  "CDRs acknowledged as already stored (resent), not debited",
		  (int64_t)s->cdr.duplicates);
	sw_mt_one(t, "tandem_billing_cdr_copy_refused_total", "counter",
		  "CDR batches whose COPY the database refused (a resend or "
		  "a bad value in the batch), then stored by INSERT",
		  (int64_t)s->cdr.copy_refused);
	sw_mt_one(t, "tandem_billing_cdrs_quarantined_total", "counter",
		  "implausible CDRs kept in cdr_quarantine, not rated",
		  (int64_t)s->cdr.quarantined);
	sw_mt_hist(t, "tandem_billing_cdr_store_seconds",
		   "one committed CDR store statement (a batch of CDRs in one "
		   "transaction), from queued to committed",
		   &s->cdr.store_us);
	sw_mt_one(t, "tandem_billing_cdr_queue", "gauge",
		  "CDRs received and being rated or stored, not yet "
		  "acknowledged",
		  (int64_t)s->cdr.queued);

	sw_mt_family(t, "tandem_billing_db_errors_total", "counter",
		     "PostgreSQL failures: statements that failed (kind "
		     "query) and connects that failed or connections lost "
		     "(kind connection)");
	sw_mt_sample(t, "tandem_billing_db_errors_total",
		     (int64_t)s->db.failures, 1, query);
	sw_mt_sample(t, "tandem_billing_db_errors_total",
		     (int64_t)s->db.conn_failures, 1, conn);
	sw_mt_one(t, "tandem_billing_db_connections_up", "gauge",
		  "PostgreSQL connections of the pool that are up",
		  (int64_t)s->db.conns_up);
	sw_mt_one(t, "tandem_billing_db_queue", "gauge",
		  "statements waiting for a free PostgreSQL connection",
		  (int64_t)s->db.queued);
}

static void publish(struct bd_metrics *m)
{
	struct bd_metrics_snap s;
	struct sw_mtext t = {0};

	bd_metrics_snapshot(&s, m);
	bd_metrics_render(&t, &s);
	if (t.oom)
		sw_warn("metrics not updated: out of memory");
	sw_metrics_publish(m->srv, &t); /* frees t on oom */
}

static void tick(void *arg)
{
	struct bd_metrics *m = arg;

	tmr_start(&m->tmr, BD_METRICS_TICK_MS, tick, m);
	publish(m);
}

static void destructor(void *arg)
{
	struct bd_metrics *m = arg;

	tmr_cancel(&m->tmr);
	sw_metrics_stop(m->srv);
}

/*
 * The metrics of bd, served on hostport ("" = counted, not served).  A
 * listen failure is logged and returned.  Free with mem_deref().
 */
int bd_metrics_alloc(struct bd_metrics **mp, struct bd *bd,
		     const char *hostport)
{
	struct bd_metrics *m;
	char why[256] = "";
	int err;

	if (!mp || !bd || !hostport)
		return EINVAL;

	m = mem_zalloc(sizeof(*m), destructor);
	if (!m)
		return ENOMEM;
	m->bd = bd;
	tmr_init(&m->tmr);

	err = sw_metrics_start(&m->srv, hostport, why, sizeof(why));
	if (err) {
		sw_err("%s", *why ? why : strerror(err));
		mem_deref(m);
		return err;
	}
	*mp = m;
	if (m->srv) {
		publish(m);
		tmr_start(&m->tmr, BD_METRICS_TICK_MS, tick, m);
	}
	return 0;
}
