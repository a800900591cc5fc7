/*
 * cdr.c - cdr.submit: validate, rate, store with the debit, acknowledge
 *
 * The store is one SQL statement of data-modifying CTEs.  PostgreSQL runs a
 * statement as one transaction, so the CDR row, its attempts, the debit and
 * the balance history line are all there after COMMIT or none is; a crash
 * (or kill -9) of billingd at any point leaves nothing half-written.  The
 * cdr_ids insert decides: when the id is already there it returns no row
 * and every other CTE, keyed on it, does nothing.
 *
 * The statement takes one CDR; batching under load (several CDRs per
 * statement through unnest/jsonb_to_recordset) fits the same shape and the
 * same job objects, which is why a job carries its whole rated record.
 */
#define SW_LOG_MODULE "cdr"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billingd/libre.h"

#include "billingd/cdr.h"
#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/lookup.h"
#include "billingd/params.h"
#include "billingd/rate.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "proto/proto.h"

#define MONTHS_KEPT 8
#define HOLD_MAX_MS (3660LL * 24 * 3600 * 1000)	/* ten years */

struct bd_cdr {
	struct bd *bd;			/* borrowed */
	int months[MONTHS_KEPT];	/* partitions known to exist */
	unsigned nmonths;
};

struct cdr_job {
	struct bd_cdr *cdr;		/* borrowed */
	struct sw_bus_req *req;		/* answered exactly once */
	struct bd_cdr_rec rec;		/* owned */
	bool counted;			/* in bd->pending */
	bool has_account;
	int64_t account_id;
	int64_t fee, fee_s, vendor_cost;
	char rate_prefix[BD_RATE_PREFIX_MAX + 1];
	char vendor[BD_NAME_MAX + 1];
	int month;
};

static const char sql_partition[] =
	"SELECT cdr_ensure_partition("
	"timestamptz 'epoch' + $1::bigint * interval '1 millisecond')";

static const char sql_store[] =
	"WITH ins AS ("
	" INSERT INTO cdr_ids (id, setup_time, fee)"
	" VALUES ($1::uuid,"
	"  timestamptz 'epoch' + $2::bigint * interval '1 millisecond',"
	"  $3::bigint)"
	" ON CONFLICT (id) DO NOTHING RETURNING id, setup_time),"
	" ins_cdr AS ("
	" INSERT INTO cdr (id, setup_time, account_id, call_id_a, call_id_b,"
	"  caller_in, callee_in, caller, callee, caller_out, callee_out,"
	"  src_ip, dst_ip, mapping_gateway, account, routing_gateway, vendor,"
	"  setup_ms, ringing_ms, answer_ms, end_ms, hold_ms, fee_s, pdd_ms,"
	"  fee, vendor_cost, rate_prefix, end_code, end_text, end_direction,"
	"  end_reason, q850, codec_a, codec_b, media_node, rtp)"
	" SELECT ins.id, ins.setup_time, $4::bigint, $5, $6, $7, $8, $9, $10,"
	"  $11, $12, $13, $14, $15, $16, $17, $18, $2::bigint, $19::bigint,"
	"  $20::bigint, $21::bigint, $22::bigint, $23::integer, $24::bigint,"
	"  $3::bigint, $25::bigint, $26, $27::integer, $28, $29, $30,"
	"  $31::integer, $32, $33, $34, $35::jsonb FROM ins),"
	" att AS ("
	" INSERT INTO cdr_attempts (cdr_id, seq, gateway, code, start_ms,"
	"  end_ms)"
	" SELECT ins.id, a.seq, a.gateway, a.code, a.start_ms, a.end_ms"
	" FROM ins, jsonb_to_recordset($36::jsonb) AS a(seq integer,"
	"  gateway text, code integer, start_ms bigint, end_ms bigint)),"
	" deb AS ("
	" UPDATE accounts SET balance = balance - $3::bigint"
	" WHERE id = $4::bigint AND $3::bigint <> 0"
	"  AND EXISTS (SELECT 1 FROM ins)"
	" RETURNING id, balance),"
	" hist AS ("
	" INSERT INTO balance_history (account_id, delta, balance, reason, ref)"
	" SELECT deb.id, -$3::bigint, deb.balance, 'cdr', ins.id::text"
	" FROM deb, ins)"
	" SELECT (SELECT count(*) FROM ins)::integer,"
	"  (SELECT fee FROM cdr_ids WHERE id = $1::uuid)";

enum { STORE_NPARAMS = 36 };

/* ---- decoding ---- */

static const char *const directions[] = {"caller", "callee", "server", NULL};

static json_t *decode_attempts(struct sw_jv *v, const json_t *cdr)
{
	json_t *arr = sw_jv_arr(v, cdr, "attempts", BD_CDR_MAX_ATTEMPTS,
				false);
	json_t *out = json_array();
	size_t i;
	json_t *a;

	if (!out || !arr)
		return out;

	json_array_foreach(arr, i, a) {
		char path[48];
		struct sw_jv av;
		const char *gw;
		int64_t code, start, end;

		snprintf(path, sizeof(path), "%s.attempts[%zu]", v->path, i);
		sw_jv_init(&av, path);
		if (!json_is_object(a)) {
			sw_jv_fail(v, "attempts", "element %zu is not an "
				   "object", i);
			break;
		}
		gw = sw_jv_str(&av, a, "gateway", BD_NAME_MAX, true, "");
		code = sw_jv_int(&av, a, "code", 0, 699, true, 0);
		start = sw_jv_int(&av, a, "start_ms", 0, BD_CDR_MAX_MS, false,
				  0);
		end = sw_jv_int(&av, a, "end_ms", 0, BD_CDR_MAX_MS, false, 0);
		if (av.bad) {
			if (!v->bad++)
				snprintf(v->err, sizeof(v->err), "%s", av.err);
			break;
		}
		json_array_append_new(out, json_pack(
			"{s:I, s:s, s:I, s:I, s:I}", "seq", (json_int_t)i + 1,
			"gateway", gw, "code", (json_int_t)code,
			"start_ms", (json_int_t)start, "end_ms",
			(json_int_t)end));
	}

	return out;
}

static const char *const leg_ints[] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rtcp_rx",
	"rtcp_tx", "lost", "jitter_ms", "dropped", NULL,
};

/* the known fields of one leg's RTP statistics, checked and copied */
static json_t *decode_leg(struct sw_jv *v, const json_t *leg)
{
	json_t *out = json_object();
	const char *remote;

	if (!out)
		return NULL;
	for (const char *const *k = leg_ints; *k; k++) {
		if (!json_object_get(leg, *k))
			continue;
		json_object_set_new(out, *k, json_integer(
			sw_jv_int(v, leg, *k, 0, INT64_MAX, false, 0)));
	}
	remote = sw_jv_str(v, leg, "remote", 64, false, "");
	if (json_object_get(leg, "remote"))
		json_object_set_new(out, "remote", json_string(remote));

	return out;
}

static json_t *decode_rtp(struct sw_jv *v, const json_t *cdr)
{
	json_t *rtp = sw_jv_obj(v, cdr, "rtp", false);
	json_t *out = json_object();
	static const char *const legs[] = {"a", "b"};

	if (!out || !rtp)
		return out;

	for (int i = 0; i < 2; i++) {
		char path[48];
		struct sw_jv lv;
		json_t *leg;

		snprintf(path, sizeof(path), "%s.rtp", v->path);
		sw_jv_init(&lv, path);
		leg = sw_jv_obj(&lv, rtp, legs[i], false);
		if (leg) {
			snprintf(path, sizeof(path), "%s.rtp.%s", v->path,
				 legs[i]);
			sw_jv_init(&lv, path);
			json_object_set_new(out, legs[i], decode_leg(&lv, leg));
		}
		if (lv.bad) {
			if (!v->bad++)
				snprintf(v->err, sizeof(v->err), "%s", lv.err);
			break;
		}
	}

	return out;
}

/* Free what a decode allocated; rec may be half-built. */
void bd_cdr_rec_reset(struct bd_cdr_rec *rec)
{
	if (!rec)
		return;
	free(rec->attempts_json);
	free(rec->rtp_json);
	memset(rec, 0, sizeof(*rec));
}

/*
 * Validate body {"cdr": {...}} field by field (docs/bus.md) into rec.
 * Only id and setup_ms are required: a CDR is never refused for a missing
 * optional detail, but a present field of the wrong type or range is an
 * error (EBADMSG, err names the field).  Unknown fields are ignored.
 */
int bd_cdr_decode(struct bd_cdr_rec *rec, const json_t *body, char *err,
		  size_t errsz)
{
	json_t *cdr, *attempts = NULL, *rtp = NULL;
	struct sw_jv v;
	const char *id;
	int ret = 0;

	if (!rec || !err || !errsz)
		return EINVAL;
	memset(rec, 0, sizeof(*rec));

	sw_jv_init(&v, "body");
	cdr = sw_jv_obj(&v, body, "cdr", true);
	if (v.bad) {
		snprintf(err, errsz, "%s", v.err);
		return EBADMSG;
	}

	sw_jv_init(&v, "body.cdr");
	id = sw_jv_uuid(&v, cdr, "id", true);
	str_ncpy(rec->id, id, sizeof(rec->id));
	rec->call_id_a = sw_jv_str(&v, cdr, "call_id_a", 256, false, "");
	rec->call_id_b = sw_jv_str(&v, cdr, "call_id_b", 256, false, "");
	rec->caller_in = sw_jv_str(&v, cdr, "caller_in", 64, false, "");
	rec->callee_in = sw_jv_str(&v, cdr, "callee_in", 64, false, "");
	rec->caller = sw_jv_str(&v, cdr, "caller", 64, false, "");
	rec->callee = sw_jv_str(&v, cdr, "callee", 64, false, "");
	rec->caller_out = sw_jv_str(&v, cdr, "caller_out", 64, false, "");
	rec->callee_out = sw_jv_str(&v, cdr, "callee_out", 64, false, "");
	rec->src_ip = sw_jv_str(&v, cdr, "src_ip", 64, false, "");
	rec->dst_ip = sw_jv_str(&v, cdr, "dst_ip", 64, false, "");
	rec->mapping_gateway = sw_jv_str(&v, cdr, "mapping_gateway", 64,
					 false, "");
	rec->account = sw_jv_str(&v, cdr, "account", 64, false, "");
	rec->routing_gateway = sw_jv_str(&v, cdr, "routing_gateway", 64,
					 false, "");
	rec->setup_ms = sw_jv_int(&v, cdr, "setup_ms", 1, BD_CDR_MAX_MS, true,
				  0);
	rec->ringing_ms = sw_jv_int(&v, cdr, "ringing_ms", 0, BD_CDR_MAX_MS,
				    false, 0);
	rec->answer_ms = sw_jv_int(&v, cdr, "answer_ms", 0, BD_CDR_MAX_MS,
				   false, 0);
	rec->end_ms = sw_jv_int(&v, cdr, "end_ms", 0, BD_CDR_MAX_MS, false, 0);
	rec->hold_ms = sw_jv_int(&v, cdr, "hold_ms", 0, HOLD_MAX_MS, false, 0);
	rec->pdd_ms = sw_jv_int(&v, cdr, "pdd_ms", 0, HOLD_MAX_MS, false, 0);
	rec->end_code = sw_jv_int(&v, cdr, "end_code", 0, 699, false, 0);
	rec->end_text = sw_jv_str(&v, cdr, "end_text", 128, false, "");
	/* "" (not known, e.g. refused before routing) is accepted too */
	rec->end_direction = sw_jv_str(&v, cdr, "end_direction", 16, false,
				       "");
	if (*rec->end_direction)
		rec->end_direction = sw_jv_enum(&v, cdr, "end_direction",
						directions, false, "");
	rec->end_reason = sw_jv_str(&v, cdr, "end_reason", 64, false, "");
	rec->q850 = sw_jv_int(&v, cdr, "q850", 0, 127, false, 0);
	rec->codec_a = sw_jv_str(&v, cdr, "codec_a", 32, false, "");
	rec->codec_b = sw_jv_str(&v, cdr, "codec_b", 32, false, "");
	rec->media_node = sw_jv_str(&v, cdr, "media_node", 64, false, "");

	if (!v.bad)
		attempts = decode_attempts(&v, cdr);
	if (!v.bad)
		rtp = decode_rtp(&v, cdr);
	if (v.bad) {
		snprintf(err, errsz, "%s", v.err);
		ret = EBADMSG;
		goto out;
	}
	if (!attempts || !rtp) {
		snprintf(err, errsz, "out of memory");
		ret = ENOMEM;
		goto out;
	}

	rec->attempts_json = json_dumps(attempts, JSON_COMPACT);
	rec->rtp_json = json_dumps(rtp, JSON_COMPACT);
	if (!rec->attempts_json || !rec->rtp_json) {
		snprintf(err, errsz, "out of memory");
		ret = ENOMEM;
	}

 out:
	json_decref(attempts);
	json_decref(rtp);
	if (ret)
		bd_cdr_rec_reset(rec);

	return ret;
}

/* ---- the job ---- */

static void job_destructor(void *arg)
{
	struct cdr_job *job = arg;

	bd_cdr_rec_reset(&job->rec);
	if (job->counted)
		bd_pending_dec(job->cdr->bd);
}

static const char *db_code(int err)
{
	return err == EBADMSG ? SW_ERR_INTERNAL : SW_ERR_UNAVAILABLE;
}

static void job_reply(struct cdr_job *job, int64_t fee, bool duplicate)
{
	json_t *body = json_pack("{s:s, s:I, s:b}", "id", job->rec.id,
				 "fee", (json_int_t)fee,
				 "duplicate", duplicate);

	if (!body)
		sw_bus_reply_error(job->req, SW_ERR_INTERNAL, "out of memory");
	else
		sw_bus_reply(job->req, body);
}

static void store_h(int err, const PGresult *res, void *arg)
{
	struct cdr_job *job = arg;
	int64_t fee = job->fee;
	bool duplicate;

	if (!err && (PQntuples(res) != 1 || PQnfields(res) != 2))
		err = EBADMSG;
	if (err) {
		const char *why = (res && (err == EBADMSG || err == EAGAIN)) ?
				  bd_db_errmsg(res) : strerror(err);

		if (err == EBADMSG)
			sw_cerr(job->rec.id, "store failed: %s", why);
		else
			sw_cwarn(job->rec.id, "store failed: database %s", why);
		sw_bus_reply_error(job->req, db_code(err), "CDR not stored: %s",
				   why);
		goto out;
	}

	duplicate = strcmp(PQgetvalue(res, 0, 0), "1") != 0;
	if (duplicate && !PQgetisnull(res, 0, 1))
		fee = strtoll(PQgetvalue(res, 0, 1), NULL, 10);

	if (duplicate)
		sw_cinfo(job->rec.id, "duplicate CDR acknowledged (fee %lld)",
			 (long long)fee);
	else
		sw_cdebug(job->rec.id, "stored: account %s fee %lld fee_s "
			  "%lld prefix '%s' vendor '%s' cost %lld",
			  job->rec.account, (long long)job->fee,
			  (long long)job->fee_s, job->rate_prefix, job->vendor,
			  (long long)job->vendor_cost);
	job_reply(job, fee, duplicate);

 out:
	mem_deref(job);
}

static void job_store(struct cdr_job *job)
{
	const struct bd_cdr_rec *r = &job->rec;
	char n[STORE_NPARAMS][24];
	const char *p[STORE_NPARAMS];
	int err;

#define NUM(i, val) (snprintf(n[i], sizeof(n[i]), "%" PRId64, \
			      (int64_t)(val)), p[i] = n[i])
	p[0] = r->id;
	NUM(1, r->setup_ms);
	NUM(2, job->fee);
	if (job->has_account)
		NUM(3, job->account_id);
	else
		p[3] = NULL;
	p[4] = r->call_id_a;
	p[5] = r->call_id_b;
	p[6] = r->caller_in;
	p[7] = r->callee_in;
	p[8] = r->caller;
	p[9] = r->callee;
	p[10] = r->caller_out;
	p[11] = r->callee_out;
	p[12] = r->src_ip;
	p[13] = r->dst_ip;
	p[14] = r->mapping_gateway;
	p[15] = r->account;
	p[16] = r->routing_gateway;
	p[17] = job->vendor;
	NUM(18, r->ringing_ms);
	NUM(19, r->answer_ms);
	NUM(20, r->end_ms);
	NUM(21, r->hold_ms);
	NUM(22, job->fee_s);
	NUM(23, r->pdd_ms);
	NUM(24, job->vendor_cost);
	p[25] = job->rate_prefix;
	NUM(26, r->end_code);
	p[27] = r->end_text;
	p[28] = r->end_direction;
	p[29] = r->end_reason;
	NUM(30, r->q850);
	p[31] = r->codec_a;
	p[32] = r->codec_b;
	p[33] = r->media_node;
	p[34] = r->rtp_json;
	p[35] = r->attempts_json;
#undef NUM

	err = bd_db_query(job->cdr->bd->db, sql_store, STORE_NPARAMS, p,
			  store_h, job);
	if (err) {
		sw_bus_reply_error(job->req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: %s", strerror(err));
		mem_deref(job);
	}
}

static int month_of(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -1;
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

static bool month_known(const struct bd_cdr *cdr, int month)
{
	for (unsigned i = 0; i < cdr->nmonths && i < MONTHS_KEPT; i++) {
		if (cdr->months[i] == month)
			return true;
	}
	return false;
}

static void month_add(struct bd_cdr *cdr, int month)
{
	if (month_known(cdr, month))
		return;
	cdr->months[cdr->nmonths % MONTHS_KEPT] = month;
	cdr->nmonths++;
}

static void partition_h(int err, const PGresult *res, void *arg)
{
	struct cdr_job *job = arg;

	if (err == EBADMSG) {
		/* e.g. rows of that month already in cdr_default: the CDR
		 * then lands in the default partition, which is fine */
		sw_warn("cdr_ensure_partition: %s (rows go to cdr_default)",
			bd_db_errmsg(res));
		month_add(job->cdr, job->month);
	} else if (err) {
		sw_cwarn(job->rec.id, "partition check failed: database %s",
			 strerror(err));
		sw_bus_reply_error(job->req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: %s", strerror(err));
		mem_deref(job);
		return;
	} else {
		month_add(job->cdr, job->month);
	}

	job_store(job);
}

static int job_ensure_partition(struct cdr_job *job)
{
	char ms[24];
	const char *p[1] = {ms};

	snprintf(ms, sizeof(ms), "%" PRId64, job->rec.setup_ms);
	return bd_db_query(job->cdr->bd->db, sql_partition, 1, p, partition_h,
			   job);
}

/* rate one side; 0 and sets *fee (and fee_s/prefix when asked) */
static void rate_side(const struct bd_account *acc, const char *callee,
		      const struct bd_rate_params *rp, int64_t hold_ms,
		      const char *cid, int64_t *fee, int64_t *fee_s,
		      char *prefix, size_t prefix_size)
{
	const struct bd_rate *r;
	struct bd_rate_result res;
	int err;

	*fee = 0;
	if (fee_s)
		*fee_s = 0;
	if (!acc->found)
		return;

	r = bd_rate_select(acc->rates, acc->nrates, callee);
	if (!r) {
		if (hold_ms > 0)
			sw_cwarn(cid, "no rate for %s in %s's table: not "
				 "charged", callee, acc->name);
		return;
	}
	if (prefix)
		str_ncpy(prefix, r->prefix, prefix_size);

	err = bd_rate_calc(&res, r, rp, hold_ms);
	if (err) {
		sw_cerr(cid, "rating %s for %s failed: %s", callee, acc->name,
			strerror(err));
		return;
	}
	*fee = res.fee;
	if (fee_s)
		*fee_s = res.fee_s;
}

static void lookup_h(int err, const struct bd_lookup *lk, void *arg)
{
	struct cdr_job *job = arg;
	const struct bd_param_values *pv =
		bd_params_get(job->cdr->bd->params);
	const struct bd_cdr_rec *r = &job->rec;

	if (err) {
		sw_cwarn(r->id, "lookup failed: database %s", strerror(err));
		sw_bus_reply_error(job->req, db_code(err), "CDR not stored: %s",
				   strerror(err));
		mem_deref(job);
		return;
	}

	if (!lk->customer.found && *r->account)
		sw_cwarn(r->id, "account '%s' not found: CDR stored "
			 "without a fee", r->account);

	job->has_account = lk->customer.found;
	job->account_id = lk->customer.id;
	rate_side(&lk->customer, r->callee, &pv->rate, r->hold_ms, r->id,
		  &job->fee, &job->fee_s, job->rate_prefix,
		  sizeof(job->rate_prefix));

	if (lk->vendor.found) {
		str_ncpy(job->vendor, lk->vendor.name, sizeof(job->vendor));
		rate_side(&lk->vendor, r->callee, &pv->rate, r->hold_ms, r->id,
			  &job->vendor_cost, NULL, NULL, 0);
	}

	if (r->hold_ms == 0 && !pv->record_zero_hold) {
		/* SERVER_BILLING_RECORD_ZERO_HOLD_TIME=0: not kept */
		sw_cdebug(r->id, "zero hold time CDR not recorded");
		job_reply(job, 0, false);
		mem_deref(job);
		return;
	}

	job->month = month_of(r->setup_ms);
	if (month_known(job->cdr, job->month)) {
		job_store(job);
		return;
	}
	err = job_ensure_partition(job);
	if (err) {
		sw_bus_reply_error(job->req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: %s", strerror(err));
		mem_deref(job);
	}
}

/* cdr.submit: validate now, then lookup -> (partition) -> store -> reply. */
void bd_cdr_submit(struct bd_cdr *cdr, struct sw_bus_req *req,
		   const struct sw_env *env)
{
	struct cdr_job *job;
	char err[256];
	int ret;

	job = mem_zalloc(sizeof(*job), job_destructor);
	if (!job) {
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	job->cdr = cdr;
	job->req = req;

	ret = bd_cdr_decode(&job->rec, env->body, err, sizeof(err));
	if (ret) {
		sw_warn("cdr.submit refused: %s", err);
		sw_bus_reply_error(req, ret == EBADMSG ? SW_ERR_BAD_REQUEST :
				   SW_ERR_INTERNAL, "%s", err);
		mem_deref(job);
		return;
	}
	if (cdr->bd->draining) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE, "shutting down");
		mem_deref(job);
		return;
	}

	ret = bd_lookup(cdr->bd->db, job->rec.account, job->rec.callee,
			job->rec.routing_gateway, lookup_h, job);
	if (ret) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: %s", strerror(ret));
		mem_deref(job);
		return;
	}
	bd_pending_inc(cdr->bd);
	job->counted = true;
}

static void premake_h(int err, const PGresult *res, void *arg)
{
	(void)arg;
	if (err == EBADMSG)
		sw_warn("cdr_ensure_partition: %s", bd_db_errmsg(res));
}

/*
 * The database is (back) up: create this month's and next month's
 * partitions ahead of the CDRs that need them.
 */
void bd_cdr_db_up(struct bd_cdr *cdr)
{
	int64_t now = (int64_t)time(NULL) * 1000;
	char ms[2][24];

	if (!cdr)
		return;
	snprintf(ms[0], sizeof(ms[0]), "%" PRId64, now);
	snprintf(ms[1], sizeof(ms[1]), "%" PRId64,
		 (int64_t)(now + 32LL * 24 * 3600 * 1000));
	for (int i = 0; i < 2; i++) {
		const char *p[1] = {ms[i]};

		(void)bd_db_query(cdr->bd->db, sql_partition, 1, p, premake_h,
				  NULL);
	}
}

/* The CDR store of bd; mem_deref frees. */
int bd_cdr_alloc(struct bd_cdr **cdrp, struct bd *bd)
{
	struct bd_cdr *cdr;

	if (!cdrp || !bd)
		return EINVAL;

	cdr = mem_zalloc(sizeof(*cdr), NULL);
	if (!cdr)
		return ENOMEM;
	cdr->bd = bd;
	/* unprepared if these fail: slower, still correct */
	(void)bd_db_prepare(bd->db, sql_store);
	(void)bd_db_prepare(bd->db, sql_partition);

	*cdrp = cdr;
	return 0;
}
