/*
 * alarm.c - raising and clearing alarms (alarm.h)
 */
#define SW_LOG_MODULE "alarm"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "billingd/libre.h"

#include "billingd/alarm.h"
#include "billingd/apiq.h"
#include "billingd/daemon.h"
#include "billingd/sgpeers.h"
#include "common/bus.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/swtime.h"
#include "model/model.h"
#include "proto/proto.h"

#define HEALTH_TIMEOUT_MS 1500

struct cpu_sample {
	unsigned long long busy, total;
};

/* what one signalingd said at the last check */
struct sg_seen {
	json_t *health;	    /* its last health.ping body, or NULL */
	uint64_t started;   /* its calls_started then */
	int64_t started_ms; /* monotonic time of that answer */
	double cps;	    /* calls per second between the last two */
};

struct bd_alarms {
	struct bd *bd;	   /* borrowed */
	struct bd_apiq *q; /* owned: one worker */
	struct tmr tmr;
	unsigned tick;
	bool busy;		      /* a check is on its way */
	struct check *asking;	      /* waiting for signalingd's answers */
	struct cpu_sample cpu;	      /* the worker's */
	struct sg_seen sg[BD_SG_MAX]; /* per signalingd, signaling_url order */
	size_t nsg;
};

/* one check: built on the loop, run on the worker, logged on the loop */
struct check {
	struct bd_alarms *a;
	json_t *found;	  /* [{kind, severity, subject, message}] */
	json_t *covered;  /* kinds this check judges */
	bool db;	  /* database and host rules too */
	json_t *full;	  /* signalingd: routing gateways at their limit */
	json_t *longest;  /* signalingd: the longest call, or null */
	json_int_t calls; /* signalingd: calls up (all of them) */
	json_t *asr_feed; /* stats.asr for signalingd, or NULL */
	json_t *hosts;	  /* [{node, host}] of signalingd and media nodes */
	json_t *raised, *cleared; /* the worker's result */
};

static void add(json_t *found, const char *kind, const char *severity,
		const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(json_t *found, const char *kind, const char *severity,
		const char *subject, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;
	json_t *o;

	/* several signalingd report the same condition: one alarm (the
	 * alarms table holds one active row per kind and subject) */
	json_array_foreach(found, i, o)
	{
		if (!strcmp(json_string_value(json_object_get(o, "kind")) ?: "",
			    kind) &&
		    !strcmp(json_string_value(json_object_get(o, "subject"))
				?: "",
			    subject))
			return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(
	    found, json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "severity",
			     severity, "subject", subject, "message", msg));
}

/* ---- on the worker ---- */

static long long param(PGresult *res, const char *name, long long def)
{
	int cname = PQfnumber(res, "name"), cvalue = PQfnumber(res, "value");

	for (int i = 0; i < PQntuples(res); i++)
		if (!strcmp(md_pq_val(res, i, cname), name))
			return strtoll(md_pq_val(res, i, cvalue), NULL, 10);
	return def;
}

static bool read_cpu(struct cpu_sample *s)
{
	unsigned long long v[8] = {0};
	char line[512], *p, *end;
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || strncmp(line, "cpu ", 4))
		return false;
	for (p = line + 4; n < 8; n++, p = end) {
		v[n] = strtoull(p, &end, 10);
		if (end == p)
			break;
	}
	if (n < 5)
		return false;
	s->total = 0;
	for (int i = 0; i < 8; i++)
		s->total += v[i];
	s->busy = s->total - v[3] - v[4]; /* idle, iowait */
	return true;
}

static void host_rules(struct check *c, PGresult *params)
{
	long long cpu_max = param(params, "SERVER_ALARM_CPU", 90);
	long long mem_max = param(params, "SERVER_ALARM_MEMORY", 90);
	long long disk_max = param(params, "SERVER_ALARM_DISK", 90);
	struct cpu_sample now;
	unsigned long long total = 0, avail = 0;
	char line[256], dev[128], mnt[256], type[64], subject[300];
	FILE *f;

	if (read_cpu(&now)) {
		struct cpu_sample *was = &c->a->cpu;

		if (was->total && now.total > was->total && cpu_max) {
			long long pct =
			    (long long)(100 * (now.busy - was->busy) /
					(now.total - was->total));

			if (pct > cpu_max)
				add(c->found, "cpu", "major", "billingd-host",
				    "CPU use %lld %% (above %lld %%)", pct,
				    cpu_max);
		}
		*was = now;
	}
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "MemTotal:", 9))
			total = strtoull(line + 9, NULL, 10);
		else if (!strncmp(line, "MemAvailable:", 13))
			avail = strtoull(line + 13, NULL, 10);
	}
	if (f)
		fclose(f);
	if (total && mem_max &&
	    (long long)(100 * (total - avail) / total) > mem_max)
		add(c->found, "memory", "major", "billingd-host",
		    "memory use %llu %% (above %lld %%)",
		    100 * (total - avail) / total, mem_max);
	f = fopen("/proc/mounts", "r");
	while (f && disk_max && fgets(line, sizeof(line), f)) {
		struct statvfs vfs;

		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) != 3 ||
		    (strcmp(type, "ext4") && strcmp(type, "xfs") &&
		     strcmp(type, "btrfs") && strcmp(mnt, "/")))
			continue;
		if (statvfs(mnt, &vfs) || !vfs.f_blocks)
			continue;
		snprintf(subject, sizeof(subject), "billingd-host:%s", mnt);
		if ((long long)(100 * (vfs.f_blocks - vfs.f_bavail) /
				vfs.f_blocks) > disk_max)
			add(c->found, "disk", "major", subject,
			    "disk %s %llu %% full (above %lld %%)", mnt,
			    (unsigned long long)(100 *
						 (vfs.f_blocks - vfs.f_bavail) /
						 vfs.f_blocks),
			    disk_max);
	}
	if (f)
		fclose(f);
}

/* clang-format off */
/* (it would break the SQL below at every macro) */
/* a number of leg b's RTP stats in a CDR, NULL when absent */
#define LEG_B(k)                                                          \
	"CASE WHEN jsonb_typeof(rtp->'b'->'" k "') = 'number' THEN "      \
	"(rtp->'b'->>'" k "')::numeric END"

static const char rtp_sql[] =
    "SELECT routing_gateway, count(*) AS n, "
    "coalesce(round(100 * sum(" LEG_B("lost") ") / "
    "nullif(sum(" LEG_B("rx_packets") ") + sum(" LEG_B("lost") "), 0), "
    "2), 0) AS loss, "
    "coalesce(round(avg(" LEG_B("jitter_ms") ")), 0) AS jitter, "
    "coalesce(round(avg(" LEG_B("rtt_ms") ")), 0) AS rtt "
    "FROM cdr WHERE setup_time > now() - make_interval(secs => $1::int) "
    "AND answer_ms > 0 AND routing_gateway <> '' "
    "GROUP BY routing_gateway HAVING count(*) >= $2::int ORDER BY 1";
/* clang-format on */

/* RTP loss, jitter and round trip toward each routing gateway (leg b) */
static bool rtp_rules(struct check *c, PGconn *conn, PGresult *params)
{
	long long loss_max = param(params, "SERVER_ALARM_LOSS", 0);
	long long jit_max = param(params, "SERVER_ALARM_JITTER", 0);
	long long rtt_max = param(params, "SERVER_ALARM_LATENCY", 0);
	long long window = param(params, "SERVER_ALARM_ASR_WINDOW", 900);
	long long min_calls = param(params, "SERVER_ALARM_ASR_MIN_CALLS", 20);
	enum { GW, LOSS, JITTER, RTT, NCOLS };
	static const char *const names[NCOLS] = {"routing_gateway", "loss",
						 "jitter", "rtt"};
	char a[32], b[32], err[512];
	const char *p[2] = {a, b};
	int col[NCOLS];
	PGresult *res;

	if (!loss_max && !jit_max && !rtt_max)
		return true;
	snprintf(a, sizeof(a), "%lld", window);
	snprintf(b, sizeof(b), "%lld", min_calls);
	res = md_pq_exec(conn, rtp_sql, 2, p, err, sizeof(err));
	if (res && md_pq_cols(res, names, col, NCOLS, err, sizeof(err))) {
		PQclear(res);
		res = NULL;
	}
	if (!res) {
		sw_warn("RTP quality check: %s", err);
		return false;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *gw = md_pq_val(res, i, col[GW]);
		double loss = strtod(md_pq_val(res, i, col[LOSS]), NULL);
		long long jit =
		    strtoll(md_pq_val(res, i, col[JITTER]), NULL, 10);
		long long rtt = strtoll(md_pq_val(res, i, col[RTT]), NULL, 10);

		if ((loss_max && loss > (double)loss_max) ||
		    (jit_max && jit > jit_max) || (rtt_max && rtt > rtt_max))
			add(c->found, "rtp_quality", "warning", gw,
			    "RTP toward %s over the last %lld s: %.2f %% lost, "
			    "%lld ms mean jitter, %lld ms round trip (limits "
			    "%lld %%, %lld ms, %lld ms)",
			    gw, window, loss, jit, rtt, loss_max, jit_max,
			    rtt_max);
	}
	PQclear(res);
	return true;
}

/* the other hosts, from what their daemons report (common/sysperf.h) */
static void other_hosts(struct check *c, PGresult *params)
{
	long long cpu_max = param(params, "SERVER_ALARM_CPU", 90);
	long long mem_max = param(params, "SERVER_ALARM_MEMORY", 90);
	long long disk_max = param(params, "SERVER_ALARM_DISK", 90);
	size_t i, k;
	json_t *h, *x;

	json_array_foreach(c->hosts, i, h)
	{
		const char *node =
		    json_string_value(json_object_get(h, "node"));
		json_t *host = json_object_get(h, "host");
		json_t *mem = json_object_get(host, "memory_kb");
		long long sum = 0, n = 0, total, avail;

		json_array_foreach(json_object_get(host, "cpu_pct"), k, x)
		{
			sum += json_integer_value(x);
			n++;
		}
		if (cpu_max && n && sum / n > cpu_max)
			add(c->found, "cpu", "major", node,
			    "%s: CPU use %lld %% (above %lld %%)", node,
			    sum / n, cpu_max);
		total = json_integer_value(json_object_get(mem, "total"));
		avail = json_integer_value(json_object_get(mem, "available"));
		if (mem_max && total > 0 &&
		    100 * (total - avail) / total > mem_max)
			add(c->found, "memory", "major", node,
			    "%s: memory use %lld %% (above %lld %%)", node,
			    100 * (total - avail) / total, mem_max);
		json_array_foreach(json_object_get(host, "disks"), k, x)
		{
			const char *mnt =
			    json_string_value(json_object_get(x, "mount"));
			long long t =
			    json_integer_value(json_object_get(x, "total_kb"));
			long long a = json_integer_value(
			    json_object_get(x, "available_kb"));
			char subject[300];

			if (!disk_max || !mnt || t <= 0 ||
			    100 * (t - a) / t <= disk_max)
				continue;
			snprintf(subject, sizeof(subject), "%s:%s", node, mnt);
			add(c->found, "disk", "major", subject,
			    "%s: disk %s %lld %% full (above %lld %%)", node,
			    mnt, 100 * (t - a) / t, disk_max);
		}
	}
}

static bool db_rules(struct check *c, PGconn *conn, PGresult *params)
{
	long long low_bal = param(params, "SERVER_ALARM_LOW_BALANCE", 0);
	long long low_asr = param(params, "SERVER_ALARM_LOW_ASR", 0);
	long long window = param(params, "SERVER_ALARM_ASR_WINDOW", 900);
	long long min_calls = param(params, "SERVER_ALARM_ASR_MIN_CALLS", 20);
	enum { BAL_NAME, BAL_LEFT };
	enum { ASR_GATEWAY, ASR_N, ASR_OK };
	static const char *const bal_cols[] = {"name", "left"};
	static const char *const asr_cols[] = {"gateway", "n", "ok"};
	char a[32], b[32], err[512];
	const char *p[2] = {a, b};
	int col[3];
	PGresult *res;

	if (low_bal) {
		snprintf(a, sizeof(a), "%lld", low_bal * 1000000LL);
		res = md_pq_exec(
		    conn,
		    "SELECT name, trim_scale((balance + credit_limit)::numeric "
		    "/ 1000000)::text AS left FROM accounts WHERE billing_type "
		    "= 'prepaid' AND type IN ('customer', 'both') AND balance "
		    "+ credit_limit < $1::bigint ORDER BY name",
		    1, p, err, sizeof(err));
		if (res &&
		    md_pq_cols(res, bal_cols, col, 2, err, sizeof(err))) {
			PQclear(res);
			res = NULL;
		}
		if (!res) {
			sw_warn("low balance check: %s", err);
			return false;
		}
		for (int i = 0; i < PQntuples(res); i++)
			add(c->found, "low_balance", "warning",
			    md_pq_val(res, i, col[BAL_NAME]),
			    "balance + credit limit %s, below %lld",
			    md_pq_val(res, i, col[BAL_LEFT]), low_bal);
		PQclear(res);
	}
	if (low_asr) {
		snprintf(a, sizeof(a), "%lld", window);
		snprintf(b, sizeof(b), "%lld", min_calls);
		res = md_pq_exec(
		    conn,
		    "SELECT t.gateway, count(*) AS n, count(*) FILTER (WHERE "
		    "t.code = 200) AS ok FROM cdr_attempts t WHERE "
		    "t.setup_time > now() - "
		    "make_interval(secs => $1::int) GROUP BY t.gateway HAVING "
		    "count(*) >= $2::int ORDER BY t.gateway",
		    2, p, err, sizeof(err));
		if (res &&
		    md_pq_cols(res, asr_cols, col, 3, err, sizeof(err))) {
			PQclear(res);
			res = NULL;
		}
		if (!res) {
			sw_warn("low ASR check: %s", err);
			return false;
		}
		for (int i = 0; i < PQntuples(res); i++) {
			long long n =
			    strtoll(md_pq_val(res, i, col[ASR_N]), NULL, 10);
			long long ok =
			    strtoll(md_pq_val(res, i, col[ASR_OK]), NULL, 10);

			if (n && ok * 100 < low_asr * n)
				add(c->found, "low_asr", "warning",
				    md_pq_val(res, i, col[ASR_GATEWAY]),
				    "ASR %lld %% over the last %lld s (%lld "
				    "of %lld attempts), below %lld %%",
				    ok * 100 / n, window, ok, n, low_asr);
		}
		PQclear(res);
	}
	/* the SIP edge's dynamic blacklist (schema 0008): one alarm while
	 * automatic entries are active, an operator's own entries are not */
	res = md_pq_exec(conn,
			 "SELECT count(*) AS n FROM blacklist WHERE origin = "
			 "'auto' AND expires_at > now()",
			 0, NULL, err, sizeof(err));
	if (!res) {
		sw_warn("blacklist check: %s", err);
		return false;
	}
	if (PQntuples(res) == 1 && PQfnumber(res, "n") >= 0 &&
	    strtoll(PQgetvalue(res, 0, PQfnumber(res, "n")), NULL, 10) > 0)
		add(c->found, "sip_blacklist", "warning", "sip",
		    "%s source(s) on the dynamic SIP blacklist",
		    PQgetvalue(res, 0, PQfnumber(res, "n")));
	PQclear(res);
	return rtp_rules(c, conn, params);
}

/* what signalingd reported, against the thresholds */
static void live_rules(struct check *c, PGconn *conn, PGresult *params)
{
	long long long_s = param(params, "SERVER_ALARM_LONG_CALL", 0);
	long long dur =
	    json_integer_value(json_object_get(c->longest, "duration_s"));
	char err[256];
	PGresult *res;
	size_t i;
	json_t *o;

	json_array_foreach(c->full, i, o)
	{
		if (json_is_string(o))
			add(c->found, "capacity", "warning",
			    json_string_value(o),
			    "routing gateway %s is at its line limit",
			    json_string_value(o));
	}
	if (long_s && dur > long_s)
		add(c->found, "long_call", "warning",
		    json_string_value(json_object_get(c->longest, "id")) ?: "?",
		    "a call of %s has lasted %lld s (above %lld s)",
		    json_string_value(json_object_get(c->longest, "account"))
			?: "?",
		    dur, long_s);
	res = md_pq_exec(conn,
			 "SELECT coalesce((SELECT value FROM "
			 "system_parameters WHERE name = "
			 "'SS_MAX_CONCURRENT_CALLS'), '0') AS max_calls",
			 0, NULL, err, sizeof(err));
	if (res) {
		long long max =
		    strtoll(md_pq_get(res, 0, "max_calls"), NULL, 10);

		if (max > 0 && c->calls >= max)
			add(c->found, "capacity", "major", "switch",
			    "%lld calls up: the switch-wide limit "
			    "SS_MAX_CONCURRENT_CALLS (%lld)",
			    (long long)c->calls, max);
		PQclear(res);
	}
}

/* the ASR window of SS_GATEWAYASRROUTESORTCONFIG ("1,thr,min,window"),
 * 0 when ASR sorting is off */
static long asr_window(PGconn *conn)
{
	char err[256];
	PGresult *res = md_pq_exec(conn,
				   "SELECT value FROM system_parameters WHERE "
				   "name = 'SS_GATEWAYASRROUTESORTCONFIG'",
				   0, NULL, err, sizeof(err));
	const char *v, *p;
	long f[4] = {0, 30, 20, 3600};
	int n = 0;

	if (!res)
		return 0;
	v = PQntuples(res) ? md_pq_get(res, 0, "value") : "0";
	for (p = v; n < 4 && *p; n++) {
		char *end;

		f[n] = strtol(p, &end, 10);
		if (end == p)
			break;
		p = *end == ',' ? end + 1 : end;
	}
	PQclear(res);
	return f[0] == 1 && f[3] >= 60 ? f[3] : 0;
}

/*
 * The switch-wide attempts and answers per routing gateway over the ASR
 * window (every signalingd's CDRs), for signalingd's route sorting.
 */
static void asr_feed(struct check *c, PGconn *conn)
{
	long window = asr_window(conn);
	char w[24], err[512];
	const char *p[1] = {w};
	PGresult *res;
	json_t *list;

	if (!window)
		return;
	snprintf(w, sizeof(w), "%ld", window);
	res = md_pq_exec(
	    conn,
	    "SELECT coalesce(json_agg(json_build_object('gateway', gateway, "
	    "'attempts', n, 'answered', ok)), '[]')::text AS gateways FROM "
	    "(SELECT t.gateway, count(*) AS n, count(*) FILTER (WHERE t.code "
	    "= 200) AS ok FROM cdr_attempts t WHERE t.setup_time > now() - "
	    "make_interval(secs => "
	    "$1::int) GROUP BY t.gateway) x",
	    1, p, err, sizeof(err));
	if (!res) {
		sw_warn("ASR feed: %s", err);
		return;
	}
	list = json_loads(md_pq_get(res, 0, "gateways"), 0, NULL);
	PQclear(res);
	c->asr_feed = json_pack("{s:I, s:o}", "window_s", (json_int_t)window,
				"gateways", list ? list : json_array());
}

static void work(PGconn *conn, void *arg)
{
	struct check *c = arg;
	char *found, *covered, err[512];
	static const char *const param_cols[] = {"name", "value"};
	const char *p[2];
	PGresult *params, *res;
	int col[2];

	if (!conn)
		return;
	params = md_pq_exec(conn,
			    "SELECT name, value FROM system_parameters WHERE "
			    "name LIKE 'SERVER\\_ALARM\\_%'",
			    0, NULL, err, sizeof(err));
	/* param() reads these two; without them every rule would take its
	 * default, silently */
	if (params &&
	    md_pq_cols(params, param_cols, col, 2, err, sizeof(err))) {
		PQclear(params);
		params = NULL;
	}
	if (!params) {
		sw_warn("alarm parameters: %s", err);
		return;
	}
	live_rules(c, conn, params);
	if (c->db) {
		asr_feed(c, conn);
		host_rules(c, params);
		other_hosts(c, params);
		if (db_rules(c, conn, params)) {
			static const char *const kinds[] = {
			    "low_balance", "low_asr", "rtp_quality",  "cpu",
			    "memory",	   "disk",    "sip_blacklist"};

			for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]);
			     i++)
				json_array_append_new(c->covered,
						      json_string(kinds[i]));
		}
	}
	PQclear(params);

	found = json_dumps(c->found, JSON_COMPACT);
	covered = json_dumps(c->covered, JSON_COMPACT);
	p[0] = found;
	p[1] = covered;
	res = md_pq_exec(
	    conn,
	    "WITH cur AS (SELECT * FROM json_to_recordset($1::json) AS x(kind "
	    "text, severity text, subject text, message text)), cleared AS "
	    "(UPDATE alarms a SET cleared_at = now() WHERE a.cleared_at IS "
	    "NULL AND a.kind IN (SELECT json_array_elements_text($2::json)) "
	    "AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.kind = a.kind AND "
	    "cur.subject = a.subject) RETURNING a.kind, a.subject, a.message), "
	    "raised AS (INSERT INTO alarms (kind, severity, subject, message) "
	    "SELECT kind, severity, subject, message FROM cur ON CONFLICT "
	    "(kind, subject) WHERE cleared_at IS NULL DO UPDATE SET message = "
	    "EXCLUDED.message, severity = EXCLUDED.severity WHERE "
	    "(alarms.message, alarms.severity) IS DISTINCT FROM "
	    "(EXCLUDED.message, EXCLUDED.severity) RETURNING kind, severity, "
	    "subject, message, xmax = 0 AS fresh) SELECT (SELECT "
	    "coalesce(json_agg(json_build_object('kind', kind, 'severity', "
	    "severity, 'subject', subject, 'message', message)), '[]') FROM "
	    "raised WHERE fresh)::text AS raised, "
	    "(SELECT coalesce(json_agg(cleared), '[]') FROM cleared)::text AS "
	    "cleared",
	    2, p, err, sizeof(err));
	free(found);
	free(covered);
	if (!res) {
		sw_warn("alarms not written: %s", err);
		return;
	}
	c->raised = json_loads(md_pq_get(res, 0, "raised"), 0, NULL);
	c->cleared = json_loads(md_pq_get(res, 0, "cleared"), 0, NULL);
	PQclear(res);
}

/* ---- on the loop ---- */

static void check_free(struct check *c)
{
	c->a->busy = false;
	json_decref(c->full);
	json_decref(c->longest);
	json_decref(c->asr_feed);
	json_decref(c->hosts);
	json_decref(c->found);
	json_decref(c->covered);
	json_decref(c->raised);
	json_decref(c->cleared);
	free(c);
}

static void feed_h(const struct bd_sg_reply *r, size_t n, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		if (!bd_sg_reply_ok(&r[i]))
			sw_debug("stats.asr not taken by signalingd %s: %s",
				 bd_sg_reply_name(&r[i]),
				 r[i].err ? strerror(r[i].err) : "error reply");
}

static void done(void *arg)
{
	struct check *c = arg;
	size_t i;
	json_t *o;

	if (c->asr_feed && !c->a->bd->draining) {
		(void)bd_sgpeers_all(c->a->bd->sgpeers, SW_MSG_STATS_ASR,
				     c->asr_feed, HEALTH_TIMEOUT_MS, feed_h,
				     NULL);
		c->asr_feed = NULL; /* the bus took it */
	}

	json_array_foreach(c->raised, i, o)
	{
		sw_warn("alarm raised: %s %s %s: %s",
			json_string_value(json_object_get(o, "severity")),
			json_string_value(json_object_get(o, "kind")),
			json_string_value(json_object_get(o, "subject")),
			json_string_value(json_object_get(o, "message")));
	}
	json_array_foreach(c->cleared, i, o)
	{
		sw_info("alarm cleared: %s %s",
			json_string_value(json_object_get(o, "kind")),
			json_string_value(json_object_get(o, "subject")));
	}
	check_free(c);
}

/*
 * Mapping gateways whose INVITEs a signalingd refused at admission (CPS or
 * concurrency caps, health.ping "refused") since its previous answer, added
 * to acc {gateway: refusals}.  prev: the previous by_gateway object (NULL =
 * none yet).
 */
static void refused_count(json_t *acc, const json_t *prev, json_t *now)
{
	const char *name;
	json_t *v;

	json_object_foreach(now, name, v)
	{
		json_int_t before =
		    json_integer_value(json_object_get(prev, name));
		json_int_t n = json_integer_value(v);

		if (prev && n > before)
			json_object_set_new(
			    acc, name,
			    json_integer(
				json_integer_value(json_object_get(acc, name)) +
				n - before));
	}
}

/* one `admission_refused` alarm per mapping gateway of acc, cleared by the
 * first check without new refusals */
static void refused_rules(struct check *c, json_t *acc)
{
	const char *name;
	json_t *v;

	json_object_foreach(acc, name, v)
	{
		add(c->found, "admission_refused", "major", name,
		    "mapping gateway %s: %lld INVITEs refused at "
		    "admission (CPS or concurrency cap) since the "
		    "last check",
		    name, (long long)json_integer_value(v));
	}
}

/* keep what signalingd i said (the dashboard's figures) */
static void seen_update(struct sg_seen *seen, const json_t *body)
{
	json_int_t st =
	    json_integer_value(json_object_get(body, "calls_started"));
	int64_t now = sw_time_mono_ms();

	json_decref(seen->health);
	seen->health = body ? json_deep_copy(body) : NULL;
	if (!body)
		return;
	seen->cps = seen->started_ms && now > seen->started_ms &&
			    (uint64_t)st >= seen->started
			? (double)((uint64_t)st - seen->started) * 1000.0 /
			      (double)(now - seen->started_ms)
			: 0;
	seen->started = (uint64_t)st;
	seen->started_ms = now;
}

/* the rules on one signalingd's health.ping body; host: how its host is
 * named in the cpu, memory and disk alarms */
static void body_rules(struct check *c, const json_t *body, const char *sg,
		       const char *host)
{
	json_t *o, *longest = json_object_get(body, "longest_call");
	size_t i;

	json_array_foreach(json_object_get(body, "media_nodes"), i, o)
	{
		const char *id =
		    json_string_value(json_object_get(o, "node_id"));

		if (id && !json_is_true(json_object_get(o, "online")))
			add(c->found, "media_node_lost", "critical", id,
			    "media node %s sends no heartbeat%s%s", id,
			    sg ? " to signalingd " : "", sg ? sg : "");
	}
	if (json_is_object(json_object_get(body, "host")))
		json_array_append_new(
		    c->hosts, json_pack("{s:s, s:O}", "node", host, "host",
					json_object_get(body, "host")));
	json_array_foreach(json_object_get(body, "media_nodes"), i, o)
	{
		const char *id =
		    json_string_value(json_object_get(o, "node_id"));

		if (id && json_is_object(json_object_get(o, "host")))
			json_array_append_new(
			    c->hosts,
			    json_pack("{s:s, s:O}", "node", id, "host",
				      json_object_get(o, "host")));
	}
	json_array_foreach(json_object_get(body, "gateways_full"), i, o)
	{
		json_array_append(c->full, o);
	}
	if (json_is_object(longest) &&
	    (!c->longest ||
	     json_integer_value(json_object_get(longest, "duration_s")) >
		 json_integer_value(
		     json_object_get(c->longest, "duration_s")))) {
		json_decref(c->longest);
		c->longest = json_incref(longest);
	}
	c->calls += json_integer_value(json_object_get(body, "calls"));
	json_array_foreach(json_object_get(body, "registrations_failed"), i, o)
	{
		const char *gw =
		    json_string_value(json_object_get(o, "gateway"));

		if (gw)
			add(c->found, "vendor_registration", "major", gw,
			    "registration with routing gateway %s failed: "
			    "%d %s",
			    gw,
			    (int)json_integer_value(json_object_get(o, "code")),
			    json_string_value(json_object_get(o, "reason"))
				? json_string_value(
				      json_object_get(o, "reason"))
				: "");
	}
	json_array_foreach(json_object_get(body, "gateways_offline"), i, o)
	{
		if (json_is_string(o))
			add(c->found, "vendor_unreachable", "major",
			    json_string_value(o),
			    "routing gateway %s does not answer "
			    "OPTIONS",
			    json_string_value(o));
	}
}

/*
 * Every signalingd answered health.ping or timed out: one signalingd_down
 * alarm per silent one (subject "signalingd" when there is one, else
 * "signalingd:<its URL>"), the rules on what the others said.  The kinds
 * judged from signalingd's view are cleared only when all answered.
 */
static void health_h(const struct bd_sg_reply *r, size_t n, void *arg)
{
	struct check *c = arg;
	struct bd_alarms *a = c->a;
	json_t *refused = json_object();
	bool all = true;

	a->asking = NULL;
	a->nsg = n;
	json_array_append_new(c->covered, json_string("signalingd_down"));
	c->hosts = json_array();
	c->full = json_array();
	for (size_t i = 0; i < n; i++) {
		struct sg_seen *seen = &a->sg[i];
		const char *name = bd_sg_reply_name(&r[i]);
		char subject[1100];

		if (!bd_sg_reply_ok(&r[i])) {
			const char *why =
			    r[i].err ? strerror(r[i].err) : "error reply";

			all = false;
			seen_update(seen, NULL);
			if (n == 1) {
				add(c->found, "signalingd_down", "critical",
				    "signalingd",
				    "signalingd does not answer health.ping: "
				    "%s",
				    why);
				continue;
			}
			snprintf(subject, sizeof(subject), "signalingd:%s",
				 r[i].url);
			add(c->found, "signalingd_down", "critical", subject,
			    "signalingd %s (%s) does not answer health.ping: "
			    "%s",
			    *r[i].node_id ? r[i].node_id : "?", r[i].url, why);
			continue;
		}
		refused_count(
		    refused,
		    json_object_get(json_object_get(seen->health, "refused"),
				    "by_gateway"),
		    json_object_get(json_object_get(r[i].body, "refused"),
				    "by_gateway"));
		seen_update(seen, r[i].body);
		body_rules(c, r[i].body, n == 1 ? NULL : name,
			   n == 1 ? "signalingd" : name);
	}
	if (all) {
		static const char *const kinds[] = {
		    "media_node_lost",	   "vendor_unreachable",
		    "vendor_registration", "capacity",
		    "long_call",	   "admission_refused"};

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			json_array_append_new(c->covered,
					      json_string(kinds[i]));
	}
	refused_rules(c, refused);
	json_decref(refused);
	if (bd_apiq_run(a->q, work, done, c))
		check_free(c);
}

static void tick(void *arg)
{
	struct bd_alarms *a = arg;
	struct check *c;

	tmr_start(&a->tmr, BD_ALARM_TICK_MS, tick, a);
	if (a->busy || a->bd->draining)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->a = a;
	c->found = json_array();
	c->covered = json_array();
	c->db = a->tick++ % BD_ALARM_DB_TICKS == 0;
	a->busy = true;
	a->asking = c;
	if (bd_sgpeers_all(a->bd->sgpeers, SW_MSG_HEALTH_PING, NULL,
			   HEALTH_TIMEOUT_MS, health_h, c)) {
		struct bd_sg_reply r[BD_SG_MAX] = {{0}};
		size_t n = bd_sgpeers_count(a->bd->sgpeers);

		for (size_t i = 0; i < n; i++) {
			r[i].url = bd_sgpeers_url(a->bd->sgpeers, i);
			r[i].node_id = "";
			r[i].err = EIO;
		}
		health_h(r, n, c);
	}
}

static void destructor(void *arg)
{
	struct bd_alarms *a = arg;

	tmr_cancel(&a->tmr);
	/* the bus goes away after us without calling back: the check that
	 * waits for it is ours to free; one with the worker is finished by
	 * the queue */
	if (a->asking)
		check_free(a->asking);
	mem_deref(a->q);
	for (size_t i = 0; i < BD_SG_MAX; i++)
		json_decref(a->sg[i].health);
}

int bd_alarms_alloc(struct bd_alarms **ap, struct bd *bd)
{
	struct bd_alarms *a;
	int err;

	a = mem_zalloc(sizeof(*a), destructor);
	if (!a)
		return ENOMEM;
	a->bd = bd;
	err = bd_apiq_alloc(&a->q, bd->conf.db, 1);
	if (err) {
		mem_deref(a);
		return err;
	}
	tmr_start(&a->tmr, 500, tick, a);
	*ap = a;
	return 0;
}

/*
 * What signalingd said at the last check (a new reference, NULL when none
 * answered) and the calls per second started since the one before: the
 * dashboard's live figures.  With several signalingd, the answering ones
 * summed: calls, calls_started, registrations, cps; media_nodes merged by
 * node_id; gateways_offline joined.
 */
json_t *bd_alarms_health(const struct bd_alarms *a, double *cps)
{
	json_t *sum, *nodes, *off, *o;
	size_t k;

	*cps = 0;
	if (!a)
		return NULL;
	if (a->nsg <= 1) {
		*cps = a->sg[0].health ? a->sg[0].cps : 0;
		return a->sg[0].health ? json_deep_copy(a->sg[0].health) : NULL;
	}
	sum = json_pack("{s:I, s:I, s:I}", "calls", (json_int_t)0,
			"calls_started", (json_int_t)0, "registrations",
			(json_int_t)0);
	nodes = json_array();
	off = json_array();
	for (size_t i = 0; i < a->nsg; i++) {
		const json_t *h = a->sg[i].health;
		static const char *const keys[] = {"calls", "calls_started",
						   "registrations"};

		if (!h)
			continue;
		*cps += a->sg[i].cps;
		for (size_t j = 0; j < 3; j++)
			json_object_set_new(
			    sum, keys[j],
			    json_integer(json_integer_value(
					     json_object_get(sum, keys[j])) +
					 json_integer_value(
					     json_object_get(h, keys[j]))));
		bd_sg_merge_nodes(
		    nodes, json_object_get(h, "media_nodes"),
		    json_string_value(json_object_get(h, "node_id")));
		json_array_foreach(json_object_get(h, "gateways_offline"), k, o)
		{
			size_t m;
			json_t *x;
			bool have = false;

			json_array_foreach(off, m, x)
			{
				if (json_equal(x, o))
					have = true;
			}
			if (!have)
				json_array_append(off, o);
		}
		json_object_set_new(sum, "answering", json_true());
	}
	if (!json_object_get(sum, "answering")) {
		json_decref(sum);
		json_decref(nodes);
		json_decref(off);
		return NULL;
	}
	json_object_del(sum, "answering");
	json_object_set_new(sum, "media_nodes", nodes);
	json_object_set_new(sum, "gateways_offline", off);
	return sum;
}
