/*
 * api_cdr.c - CDR search and CSV export
 *
 *   GET /api/v1/cdrs?from=&to=&result=&number=&account=&gateway=
 *                    &limit=&offset=        newest first, <= 1000 a page
 *   GET /api/v1/cdrs.csv?(same filters)      every match, streamed
 *
 * from/to: milliseconds since 1970 or ISO 8601 ("2026-12-05",
 * "2026-12-05T10:00:00Z", "...+08:00"); from inclusive, to exclusive;
 * without them the last 24 hours.  result: answered (answer_ms > 0),
 * busy (486, 600), no_answer (408, 480, 487 unanswered), failed (the
 * rest unanswered).  number: digits found in the caller or the callee (as
 * dialled or as sent).  account: that account; gateway: that mapping or
 * routing gateway.  Agents see their subtree's CDRs and customers their
 * own, without the vendor side (routing gateway, vendor, cost).
 *
 * The export streams: the worker reads the rows through a cursor,
 * CDR_CHUNK rows at a time, and hands each chunk to the loop, which sends
 * it (HTTP chunked) and lets the worker read the next one only when the
 * connection has taken it (its send queue under CDR_TXQ_MAX): memory stays
 * bounded whatever the export's size.
 *
 * Threading: list and export run on an API worker; the chunk handler on
 * the loop.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billingd/libre.h"
#include <re_mqueue.h>

#include "billingd/api_int.h"
#include "common/log.h"
#include "common/swtime.h"

#define CDR_CHUNK   2000	/* rows per FETCH of the export */
#define CDR_TXQ_MAX (256 << 10) /* bytes queued on the connection */
#define CDR_WINDOW  "24 hours"	/* without from/to */

struct filter {
	char where[2048];
	const char *params[12];
	char store[8][128];
	int n;
};

static const char *add_param(struct filter *f, const char *v)
{
	if (f->n >= 8) /* never: at most 7 filters */
		return NULL;
	snprintf(f->store[f->n], sizeof(f->store[0]), "%s", v);
	f->params[f->n] = f->store[f->n];
	f->n++;
	return f->params[f->n - 1];
}

static void cond(struct filter *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cond(struct filter *f, const char *fmt, ...)
{
	size_t len = strlen(f->where);
	va_list ap;

	va_start(ap, fmt);
	snprintf(f->where + len, sizeof(f->where) - len, " AND ");
	len = strlen(f->where);
	vsnprintf(f->where + len, sizeof(f->where) - len, fmt, ap);
	va_end(ap);
}

/*
 * The WHERE clause of the request's filters (on cdr c), with the caller's
 * scope.  false with a 400 set when a filter is wrong.
 */
static bool build_filter(struct api_req *r, struct filter *f)
{
	char v[128], ms[32];
	int64_t from = 0, to = 0;
	bool has_from, has_to;

	snprintf(f->where, sizeof(f->where), "true");
	has_from = api_query(r, "from", v, sizeof(v));
	if (has_from && !sw_time_parse(v, &from)) {
		api_error(r, 400, "invalid", "from",
			  "from: milliseconds since 1970 or ISO 8601");
		return false;
	}
	has_to = api_query(r, "to", v, sizeof(v));
	if (has_to && !sw_time_parse(v, &to)) {
		api_error(r, 400, "invalid", "to",
			  "to: milliseconds since 1970 or ISO 8601");
		return false;
	}
	if (has_from && has_to && to <= from) {
		api_error(r, 400, "invalid", "to", "to: after from, please");
		return false;
	}
	if (has_from) {
		snprintf(ms, sizeof(ms), "%lld", (long long)from);
		add_param(f, ms);
		cond(f, "c.setup_time >= to_timestamp($%d::bigint / 1000.0)",
		     f->n);
	}
	if (has_to) {
		snprintf(ms, sizeof(ms), "%lld", (long long)to);
		add_param(f, ms);
		cond(f, "c.setup_time < to_timestamp($%d::bigint / 1000.0)",
		     f->n);
	}
	if (!has_from && !has_to)
		cond(f, "c.setup_time >= now() - interval '" CDR_WINDOW "'");
	if (api_query(r, "result", v, sizeof(v))) {
		if (!strcmp(v, "answered"))
			cond(f, "c.answer_ms > 0");
		else if (!strcmp(v, "busy"))
			cond(f, "c.answer_ms = 0 AND c.end_code IN (486, 600)");
		else if (!strcmp(v, "no_answer"))
			cond(f, "c.answer_ms = 0 AND c.end_code IN (408, 480, "
				"487)");
		else if (!strcmp(v, "failed"))
			cond(f, "c.answer_ms = 0 AND c.end_code NOT IN (408, "
				"480, 486, 487, 600)");
		else {
			api_error(r, 400, "invalid", "result",
				  "result: answered, no_answer, busy or "
				  "failed");
			return false;
		}
	}
	if (api_query(r, "number", v, sizeof(v))) {
		if (!*v || strlen(v) > 64 ||
		    strspn(v, "0123456789+*#") != strlen(v)) {
			api_error(r, 400, "invalid", "number",
				  "number: 1..64 of 0-9 + * #");
			return false;
		}
		add_param(f, v);
		cond(f,
		     "(strpos(c.caller, $%d) > 0 OR strpos(c.callee, $%d) > 0 "
		     "OR strpos(c.callee_in, $%d) > 0 OR strpos(c.callee_out, "
		     "$%d) > 0)",
		     f->n, f->n, f->n, f->n);
	}
	if (api_query(r, "account", v, sizeof(v))) {
		add_param(f, v);
		cond(f, "c.account = $%d", f->n);
	}
	if (api_query(r, "gateway", v, sizeof(v))) {
		add_param(f, v);
		cond(f, "(c.mapping_gateway = $%d OR c.routing_gateway = $%d)",
		     f->n, f->n);
	}
	if (!(r->who.role & ROLES_STAFF)) {
		snprintf(v, sizeof(v), "%lld", r->who.account_id);
		add_param(f, v);
		if (r->who.role == ROLE_AGENT)
			cond(f,
			     "c.account_id IN (WITH RECURSIVE sub(id) AS "
			     "(SELECT $%d::bigint UNION ALL SELECT a.id FROM "
			     "accounts a JOIN sub ON a.agent_id = sub.id) "
			     "SELECT id FROM sub)",
			     f->n);
		else
			cond(f, "c.account_id = $%d::bigint", f->n);
	}
	return true;
}

/* the columns of a CDR as the API shows it (staff: the vendor side too) */
static const char *columns(const struct api_req *r)
{
	return (r->who.role & ROLES_STAFF)
		   ? "c.id, c.setup_time, c.caller, c.callee, c.callee_in, "
		     "c.callee_out, c.account, c.mapping_gateway, "
		     "c.routing_gateway, c.vendor, c.src_ip, c.pdd_ms, "
		     "c.hold_ms, c.fee_s, money_text(c.fee) AS fee, "
		     "money_text(c.vendor_cost) AS vendor_cost, c.rate_prefix, "
		     "c.rate_period, c.end_code, "
		     "c.end_reason, c.end_direction, "
		     "c.codec_a, c.codec_b, c.dtmf_a, "
		     "c.dtmf_b, c.card"
		   : "c.id, c.setup_time, c.caller, c.callee, c.callee_in, "
		     "c.account, c.mapping_gateway, c.src_ip, c.pdd_ms, "
		     "c.hold_ms, c.fee_s, money_text(c.fee) AS fee, "
		     "c.rate_prefix, c.rate_period, "
		     "c.end_code, c.end_reason, c.end_direction, "
		     "c.codec_a, c.codec_b, c.dtmf_a, c.dtmf_b, "
		     "c.card";
}

void api_cdrs_list(PGconn *conn, struct api_req *r)
{
	struct filter f = {0};
	long limit, offset;
	char lim[24], off[24], sql[6144], err[512];
	PGresult *res;
	json_t *items;

	if (!api_page(r, &limit, &offset) || !build_filter(r, &f))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	f.params[f.n] = lim;
	f.params[f.n + 1] = off;
	snprintf(sql, sizeof(sql),
		 "SELECT coalesce((SELECT json_agg(row_to_json(x)) FROM "
		 "(SELECT %s FROM cdr c WHERE %s ORDER BY c.setup_time DESC, "
		 "c.id LIMIT $%d::int OFFSET $%d::int) x), '[]')::text AS j",
		 columns(r), f.where, f.n + 1, f.n + 2);
	res = md_pq_exec(conn, sql, f.n + 2, f.params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	items = json_loads(PQgetvalue(res, 0, PQfnumber(res, "j")), 0, NULL);
	PQclear(res);
	api_ok(r, 200,
	       json_pack("{s:o, s:I, s:I}", "items",
			 items ? items : json_array(), "limit",
			 (json_int_t)limit, "offset", (json_int_t)offset));
}

/* ---- the streamed export ---- */

struct chunk {
	struct api_req *r; /* borrowed: the worker waits for the ack */
	char *data;	   /* owned */
	size_t len;
	bool last;
};

struct stream {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool acked, aborted, started;
	struct mqueue *mq; /* worker -> loop */
	struct tmr tmr;	   /* waits for the connection to drain */
	struct api_req *r; /* borrowed while a chunk waits */
};

/* set when billingd stops: a worker waiting for a chunk gives up */
static atomic_bool stopping;

static void stream_ack(struct stream *s, bool aborted)
{
	pthread_mutex_lock(&s->lock);
	s->acked = true;
	s->aborted = s->aborted || aborted;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* on the loop: the chunk is acknowledged once the connection took most
 * of what is queued (or is gone) */
static void drain_h(void *arg)
{
	struct api_req *r = arg;
	struct stream *s = r->stream;
	struct tcp_conn *tc = http_conn_tcp(r->conn);

	if (!tc)
		stream_ack(s, true);
	else if (tcp_conn_txqsz(tc) < CDR_TXQ_MAX)
		stream_ack(s, false);
	else
		tmr_start(&s->tmr, 10, drain_h, r);
}

/* on the loop: send one chunk of the export */
static void chunk_h(int id, void *data, void *arg)
{
	struct chunk *c = data;
	struct api_req *r = c->r;
	struct stream *s = r->stream;
	struct tcp_conn *tc = http_conn_tcp(r->conn);
	struct mbuf *mb = mbuf_alloc(c->len + 64);
	int err = tc ? 0 : ENOTCONN;

	(void)id;
	(void)arg;
	if (!err && !mb)
		err = ENOMEM;
	if (!err && !s->started) {
		err =
		    mbuf_printf(mb, "HTTP/1.1 200 OK\r\n"
				    "Content-Type: text/csv; charset=utf-8\r\n"
				    "Content-Disposition: attachment; "
				    "filename=\"cdr.csv\"\r\n"
				    "Cache-Control: no-store\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n");
		s->started = true;
	}
	if (!err && c->len)
		err = mbuf_printf(mb, "%zx\r\n", c->len) ||
		      mbuf_write_mem(mb, (uint8_t *)c->data, c->len) ||
		      mbuf_write_str(mb, "\r\n");
	if (!err && c->last)
		err = mbuf_write_str(mb, "0\r\n\r\n");
	if (!err) {
		mb->pos = 0;
		err = tcp_send(tc, mb);
	}
	mem_deref(mb);
	free(c->data);
	if (err) {
		sw_info("CDR export to %s ended: %s", r->ip, strerror(err));
		stream_ack(s, true);
	} else if (!c->last && tcp_conn_txqsz(tc) >= CDR_TXQ_MAX) {
		tmr_start(&s->tmr, 10, drain_h, r);
	} else {
		stream_ack(s, false);
	}
	free(c);
}

/* on the worker: hand a chunk to the loop and wait until it is sent */
static bool push_chunk(struct api_req *r, char *data, size_t len, bool last)
{
	struct stream *s = r->stream;
	struct chunk *c = calloc(1, sizeof(*c));
	bool aborted;

	if (!c) {
		free(data);
		return false;
	}
	c->r = r;
	c->data = data;
	c->len = len;
	c->last = last;
	pthread_mutex_lock(&s->lock);
	s->acked = false;
	pthread_mutex_unlock(&s->lock);
	if (mqueue_push(s->mq, 0, c)) {
		free(data);
		free(c);
		return false;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->acked && !atomic_load(&stopping)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &until);
	}
	aborted = s->aborted || !s->acked;
	pthread_mutex_unlock(&s->lock);
	return !aborted;
}

/* one CSV field: quoted when needed; a leading = + - @ is defused */
static void csv_field(FILE *f, const char *v, bool first)
{
	bool quote = strpbrk(v, ",\"\r\n") != NULL;
	bool defuse = *v == '=' || *v == '+' || *v == '-' || *v == '@';

	if (!first)
		fputc(',', f);
	if (!quote && !defuse) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	if (defuse)
		fputc('\'', f);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

void api_cdrs_export(PGconn *conn, struct api_req *r)
{
	struct filter f = {0};
	char sql[6144], err[512];
	PGresult *res;
	bool header = true, ok = true;
	long rows = 0;

	if (!r->stream) {
		api_error(r, 500, "internal", NULL, "no stream");
		return;
	}
	if (!build_filter(r, &f))
		return;
	if (md_pq_cmd(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		      err, sizeof(err))) {
		api_db_error(r, err);
		return;
	}
	snprintf(sql, sizeof(sql),
		 "DECLARE cdr_export NO SCROLL CURSOR FOR SELECT %s FROM cdr "
		 "c WHERE %s ORDER BY c.setup_time DESC, c.id",
		 columns(r), f.where);
	res = md_pq_exec(conn, sql, f.n, f.params, err, sizeof(err));
	if (!res) {
		md_pq_cmd(conn, "ROLLBACK", NULL, 0);
		api_db_error(r, err);
		return;
	}
	PQclear(res);
	for (;;) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out;
		int n;

		snprintf(sql, sizeof(sql), "FETCH %d FROM cdr_export",
			 CDR_CHUNK);
		res = md_pq_exec(conn, sql, 0, NULL, err, sizeof(err));
		if (!res) {
			sw_warn("CDR export: %s", err);
			ok = false;
			break;
		}
		n = PQntuples(res);
		out = open_memstream(&buf, &len);
		if (!out) {
			PQclear(res);
			ok = false;
			break;
		}
		if (header) {
			for (int c = 0; c < PQnfields(res); c++)
				csv_field(out, PQfname(res, c), c == 0);
			fputs("\r\n", out);
			header = false;
		}
		for (int i = 0; i < n; i++) {
			for (int c = 0; c < PQnfields(res); c++)
				csv_field(out, PQgetvalue(res, i, c), c == 0);
			fputs("\r\n", out);
		}
		fclose(out);
		PQclear(res);
		rows += n;
		if (!push_chunk(r, buf, len, n < CDR_CHUNK)) {
			ok = false;
			break;
		}
		if (n < CDR_CHUNK)
			break;
	}
	md_pq_cmd(conn, "ROLLBACK", NULL, 0);
	if (!ok && !r->stream->started) {
		api_db_error(r, "export failed");
		return;
	}
	r->streamed = true;
	api_audit(conn, r, "export", "cdr",
		  json_pack("{s:s, s:I}", "query", r->query, "rows",
			    (json_int_t)rows));
}

/* billingd stops: exports waiting for their client give up */
void api_cdr_stop(void)
{
	atomic_store(&stopping, true);
}

static void stream_destructor(void *arg)
{
	struct stream *s = arg;

	tmr_cancel(&s->tmr);
	mem_deref(s->mq);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

/* on the loop, before the export's work: its chunk channel */
int api_stream_alloc(struct api_req *r)
{
	struct stream *s = mem_zalloc(sizeof(*s), stream_destructor);
	int err;

	if (!s)
		return ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	err = mqueue_alloc(&s->mq, chunk_h, NULL);
	if (err) {
		mem_deref(s);
		return err;
	}
	r->stream = s;
	return 0;
}
