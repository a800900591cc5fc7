/* test_bd_metrics.c - billingd's Prometheus text from a known snapshot,
 * the auth counters, the reservations' money gauge */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "billingd/libre.h"

#include "billingd/daemon.h"
#include "billingd/metrics.h"
#include "billingd/resv.h"

static const struct bd_rate_params P = BD_RATE_PARAMS_DEFAULT;
/* 0.6 per minute, 1 s intervals: 10000 micro-units a second */
static const struct bd_rate R = {"1", 0, 1, 600000, 1, 600000};
/* the agent's own rate: 0.3 per minute, 5000 a second */
static const struct bd_rate RA = {"1", 0, 1, 300000, 1, 300000};

static void has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing: %s", line);
}

static void render_known_state(void **state)
{
	struct bd_metrics_snap s;
	struct sw_mtext t = {0};

	(void)state;
	memset(&s, 0, sizeof(s));
	s.auth.request[BD_AUTH_ALLOWED] = 5;
	s.auth.request[BD_AUTH_REFUSED] = 2;
	s.auth.request[BD_AUTH_ERROR] = 1;
	s.auth.extend[BD_AUTH_ALLOWED] = 3;
	sw_mhist_observe(&s.auth.request_us, 800);   /* le 0.001 */
	sw_mhist_observe(&s.auth.request_us, 20000); /* le 0.025 */
	s.resv_active = 4;
	s.resv_held = 1234567;
	s.cdr.stored = 10;
	s.cdr.duplicates = 1;
	s.cdr.quarantined = 2;
	s.cdr.queued = 7;
	sw_mhist_observe(&s.cdr.store_us, 3000);
	s.db.failures = 6;
	s.db.conn_failures = 9;
	s.db.conns_up = 3;
	s.db.queued = 11;

	bd_metrics_render(&t, &s);
	assert_false(t.oom);
	has(t.buf, "# TYPE tandem_billing_auth_requests_total counter\n");
	has(t.buf,
	    "tandem_billing_auth_requests_total{result=\"allowed\"} 5\n");
	has(t.buf,
	    "tandem_billing_auth_requests_total{result=\"refused\"} 2\n");
	has(t.buf, "tandem_billing_auth_requests_total{result=\"error\"} 1\n");
	has(t.buf, "# TYPE tandem_billing_auth_seconds histogram\n");
	has(t.buf, "tandem_billing_auth_seconds_bucket{le=\"0.001\"} 1\n");
	has(t.buf, "tandem_billing_auth_seconds_bucket{le=\"0.025\"} 2\n");
	has(t.buf, "tandem_billing_auth_seconds_count 2\n");
	has(t.buf,
	    "tandem_billing_extend_requests_total{result=\"allowed\"} 3\n");
	has(t.buf,
	    "tandem_billing_extend_requests_total{result=\"refused\"} 0\n");
	has(t.buf, "# TYPE tandem_billing_reservations_active gauge\n");
	has(t.buf, "tandem_billing_reservations_active 4\n");
	has(t.buf, "tandem_billing_reserved_micro 1234567\n");
	has(t.buf, "tandem_billing_cdrs_stored_total 10\n");
	has(t.buf, "tandem_billing_cdrs_duplicate_total 1\n");
	has(t.buf, "tandem_billing_cdrs_quarantined_total 2\n");
	has(t.buf, "tandem_billing_cdr_store_seconds_count 1\n");
	has(t.buf, "tandem_billing_cdr_queue 7\n");
	has(t.buf, "tandem_billing_db_errors_total{kind=\"query\"} 6\n");
	has(t.buf, "tandem_billing_db_errors_total{kind=\"connection\"} 9\n");
	has(t.buf, "tandem_billing_db_connections_up 3\n");
	has(t.buf, "tandem_billing_db_queue 11\n");
	/* every family once, every sample line under its family */
	assert_null(
	    strstr(strstr(t.buf, "# TYPE tandem_billing_cdr_queue ") + 1,
		   "# TYPE tandem_billing_cdr_queue "));
	sw_mt_free(&t);
}

static void auth_counted_by_outcome(void **state)
{
	struct bd bd;
	struct bd_metrics *m = NULL;
	struct bd_metrics_snap s;
	struct sw_mtext t = {0};

	(void)state;
	/* a process without parts yet: every figure reads 0 */
	memset(&bd, 0, sizeof(bd));
	assert_int_equal(bd_metrics_alloc(&m, &bd, ""), 0); /* not served */
	assert_non_null(m);

	bd_metrics_auth(m, false, BD_AUTH_ALLOWED, 800);
	bd_metrics_auth(m, false, BD_AUTH_REFUSED, 30000);
	bd_metrics_auth(m, false, BD_AUTH_REFUSED, 40000);
	bd_metrics_auth(m, true, BD_AUTH_ERROR, 5);
	bd_metrics_auth(m, true, BD_AUTH_OUTCOMES, 5); /* ignored */
	bd_metrics_auth(NULL, false, BD_AUTH_ALLOWED, 5);

	bd_metrics_snapshot(&s, m);
	assert_int_equal(s.auth.request[BD_AUTH_ALLOWED], 1);
	assert_int_equal(s.auth.request[BD_AUTH_REFUSED], 2);
	assert_int_equal(s.auth.extend[BD_AUTH_ERROR], 1);
	assert_int_equal(s.auth.request_us.count, 3); /* auth.request only */
	assert_int_equal(s.auth.request_us.sum_us, 70800);

	bd_metrics_render(&t, &s);
	has(t.buf,
	    "tandem_billing_auth_requests_total{result=\"refused\"} 2\n");
	has(t.buf, "tandem_billing_auth_seconds_bucket{le=\"0.05\"} 3\n");
	has(t.buf, "tandem_billing_auth_seconds_sum 0.070800\n");
	has(t.buf,
	    "tandem_billing_extend_requests_total{result=\"error\"} 1\n");
	has(t.buf, "tandem_billing_reservations_active 0\n");
	has(t.buf, "tandem_billing_db_connections_up 0\n");
	sw_mt_free(&t);
	mem_deref(m);
}

static void resv_held_total_follows_levels(void **state)
{
	struct bd_resv_table *t;
	struct bd_resv_grant g;
	struct bd_resv_level lv[2] = {{"cust", &R, 10000000},
				      {"agent", &RA, 10000000}};

	(void)state;
	assert_int_equal(bd_resv_alloc(&t), 0);
	assert_int_equal(bd_resv_held_total(t), 0);

	/* 60 s: 600000 held by the customer, 300000 by its agent */
	bd_resv_open(t, &g, "c1", lv, 2, &P, 60, 0);
	assert_true(g.allow);
	assert_int_equal(bd_resv_held_total(t), 900000);
	bd_resv_open(t, &g, "c2", lv, 1, &P, 60, 0);
	assert_int_equal(bd_resv_held_total(t), 1500000);
	assert_int_equal(bd_resv_count(t), 2);

	/* the next slice grows it; the commit gives it all back */
	bd_resv_extend(t, &g, "c1", lv, 2, &P, 60, 60, false, 0);
	assert_int_equal(g.granted_s, 120);
	assert_int_equal(bd_resv_held_total(t), 2400000);
	assert_int_equal(bd_resv_commit(t, "c1"), 1200000);
	assert_int_equal(bd_resv_held_total(t), 600000);

	/* expiry too */
	bd_resv_end(t, "c2", 0);
	assert_int_equal(bd_resv_expire(t, BD_RESV_ENDED_TTL_MS), 1);
	assert_int_equal(bd_resv_held_total(t), 0);
	assert_int_equal(bd_resv_count(t), 0);
	bd_resv_free(t);
	assert_int_equal(bd_resv_held_total(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(render_known_state),
	    cmocka_unit_test(auth_counted_by_outcome),
	    cmocka_unit_test(resv_held_total_follows_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
