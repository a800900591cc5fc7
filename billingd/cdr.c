/*
 * cdr.c - cdr.submit: validate, rate, store with the debit, acknowledge
 *
 * A batch of CDRs is stored in one transaction: a binary COPY into cdr
 * and the debit, in one simple query (copy_h), so the CDR rows (with their
 * attempts), the balance updates and the balance history lines are all
 * there after COMMIT or none is; a crash (or kill -9) of billingd at any
 * point leaves nothing half-written.  A COPY writes all its rows or none:
 * a batch holding a resend (or a value the server refuses) goes again as
 * one INSERT statement of data-modifying CTEs (sql_store), whose insert
 * decides: a CDR already there returns no row and is not debited.
 *
 * CDRs are stored in batches: rated jobs wait in `ready`; when no store
 * is running, all of them (up to STORE_BATCH_MAX) go in one batch.  At low
 * load a batch is one CDR and goes at once; under load batches grow by
 * themselves while the previous one commits (group commit).  Up to
 * BD_CDR_STORES batches run at once, on as many connections: another
 * starts only when STORE_SECOND_MIN CDRs are waiting, so it never carries
 * a small batch (a transaction has a fixed cost in PostgreSQL), and many
 * waiting CDRs are split over the free slots in batches of at least
 * STORE_SECOND_MIN, so PostgreSQL writes them on several cores while
 * billingd has nothing to decode.  Each locks its account rows (in id order: no
 * deadlock) only once its CDR rows are in, so two batches insert side by side.
 * A batch the server rejects as a whole (a bad value in one record) is retried
 * one CDR per statement, so one bad CDR never blocks the others.
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
#include "billingd/pgarr.h"
#include "billingd/rate.h"
#include "billingd/resv.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/swtime.h"
#include "proto/media.h"
#include "proto/proto.h"

#define MONTHS_KEPT 8
#define HOLD_MAX_MS (3660LL * 24 * 3600 * 1000) /* ten years */

struct bd_cdr {
	struct bd *bd;		 /* borrowed */
	int months[MONTHS_KEPT]; /* partitions known to exist */
	unsigned nmonths;
	struct list ready;     /* cdr_job: rated, waiting to be stored */
	struct tmr flush;      /* store_flush at the end of this loop turn */
	struct hash *inflight; /* owned: cdr_job by id, while in a batch */
	unsigned storing;      /* store statements running */
	struct sw_jw text;     /* owned: the batch's columns, kept */
	struct sw_jw sql;      /* owned: the COPY batch's statements, kept */
	struct sw_jw scratch;  /* owned: one JSON value of them at a time */
	struct sw_jw reply;    /* owned: one CDR's answer at a time */
	struct bd_cdr_stats st;
};

struct cdr_job {
	struct le le;		/* in bd_cdr.ready or a batch */
	struct le he;		/* in bd_cdr.inflight while in a batch */
	struct bd_cdr *cdr;	/* borrowed */
	bool alone;		/* store in a batch of its own */
	struct sw_bus_req *req; /* answered exactly once */
	struct bd_cdr_rec rec;	/* owned */
	bool counted;		/* in bd->pending */
	bool has_account;
	int64_t account_id;
	int64_t fee, fee_s, vendor_cost;
	char rate_prefix[BD_RATE_PREFIX_MAX + 1];
	char rate_period[16];
	char vendor[BD_NAME_MAX + 1];
	int month;
	/* the agent chain (SPEC §6): each level billed at its own rate */
	size_t nagents;
	int64_t agent_id[BD_AGENT_MAX], agent_fee[BD_AGENT_MAX];
	/* owned, only for a chain: keeps the job under glibc's large-chunk
	 * size (1 KiB), whose every malloc would consolidate the fastbins */
	char (*agent_name)[BD_NAME_MAX + 1];
};

static const char sql_partition[] =
    "SELECT cdr_ensure_partition("
    "timestamptz 'epoch' + $1::bigint * interval '1 millisecond')";

/*
 * Store a batch of rated CDRs, all in one statement (one transaction).
 * The batch goes column by column: each parameter is a PostgreSQL array
 * in the binary format (pgarr.h) holding one column of every CDR, in
 * batch order (STORE_COLS, written by store_columns()); unnest() turns
 * them back into records, straight into the insert (the wide records are
 * never materialized; the result reads the three key columns again).
 * The cdr insert decides which CDRs are new: a resend has the same id and
 * setup time, so it lands in the same monthly partition and conflicts
 * with its primary key.  Only the new ones are debited.  The debit is
 * summed per account: one row update and one balance_history line ('cdr',
 * ref "<n> CDRs") per account per batch, whose created_at is the stored_at
 * of those CDRs (both now(), the transaction's start).  The result has
 * one row per input record: its ord, whether it was stored now (stored),
 * and the fee already stored for a duplicate (fee).
 */
/* the cdr columns stored as they come, between the key columns and the
 * agent chain */
#define STORE_PLAIN_COLS                                                       \
	" account_id, call_id_a, call_id_b,"                                   \
	" caller_in, callee_in, caller, callee, caller_out, callee_out,"       \
	" src_ip, dst_ip, mapping_gateway, account, card, routing_gateway,"    \
	" vendor, setup_ms, ringing_ms, answer_ms, end_ms, hold_ms, fee_s,"    \
	" pdd_ms, fee, vendor_cost, rate_prefix, rate_period, end_code,"       \
	" end_text, end_direction, end_reason, q850, codec_a, codec_b,"        \
	" dtmf_a, dtmf_b, media_node, rtp, attempts,"
/*
 * The debit of a batch, given tot (account_id, total, n): the accounts'
 * rows locked in id order (lck), the balances moved (deb), and one
 * balance_history line per account; shared by sql_store and the COPY path.
 */
#define DEBIT_LOCK_UPDATE                                                      \
	" lck AS (SELECT a.id FROM accounts a"                                 \
	" WHERE a.id IN (SELECT account_id FROM tot)"                          \
	" ORDER BY a.id FOR UPDATE),"                                          \
	" deb AS (UPDATE accounts a SET balance = a.balance - tot.total"       \
	" FROM tot JOIN lck ON lck.id = tot.account_id"                        \
	" WHERE a.id = tot.account_id RETURNING a.id, a.balance)"
#define DEBIT_HISTORY                                                          \
	" INSERT INTO balance_history (account_id, delta, balance, reason,"    \
	" ref) SELECT deb.id, -tot.total, deb.balance, 'cdr', tot.n || ' "     \
	"CDRs'"                                                                \
	" FROM deb JOIN tot ON tot.account_id = deb.id"

static const char sql_store[] =
    "WITH ins AS ("
    " INSERT INTO cdr (id, setup_time," STORE_PLAIN_COLS
    " agent_chain, agent_fees)"
    " SELECT id,"
    " timestamptz 'epoch' + setup_ms * interval '1 millisecond',"
    /* (the same columns, in the same order) */
    STORE_PLAIN_COLS " agent_chain::bigint[], agent_fees"
    " FROM unnest($1::integer[], $2::uuid[], $3::bigint[],"
    "  $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],"
    "  $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
    "  $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],"
    "  $19::text[], $20::text[], $21::bigint[], $22::bigint[],"
    "  $23::bigint[], $24::bigint[], $25::integer[], $26::bigint[],"
    "  $27::bigint[], $28::text[], $29::text[], $30::integer[],"
    "  $31::text[], $32::text[], $33::text[], $34::integer[], $35::text[],"
    "  $36::text[], $37::text[], $38::text[], $39::text[], $40::jsonb[],"
    "  $41::jsonb[], $42::text[], $43::jsonb[]) AS r(ord,"
    "  id, setup_ms, fee, account_id,"
    "  call_id_a, call_id_b, caller_in, callee_in,"
    "  caller, callee, caller_out, callee_out,"
    "  src_ip, dst_ip, mapping_gateway, account,"
    "  card, routing_gateway, vendor, ringing_ms,"
    "  answer_ms, end_ms, hold_ms, fee_s,"
    "  pdd_ms, vendor_cost, rate_prefix, rate_period,"
    "  end_code, end_text, end_direction,"
    "  end_reason, q850, codec_a, codec_b, dtmf_a, dtmf_b,"
    "  media_node, rtp, attempts, agent_chain,"
    "  agent_fees)"
    " ON CONFLICT (id, setup_time) DO NOTHING"
    " RETURNING id, account_id, fee, agent_fees),"
    /* every debit of the new CDRs: the customer's fee and each agent
     * level's */
    " debit AS ("
    " SELECT account_id, fee FROM ins"
    " WHERE fee <> 0 AND account_id IS NOT NULL"
    " UNION ALL"
    " SELECT f.account_id, f.fee FROM ins,"
    " jsonb_to_recordset(ins.agent_fees) AS f(account_id bigint,"
    "  fee bigint) WHERE f.fee <> 0),"
    " tot AS ("
    " SELECT account_id, sum(fee) AS total, count(*) AS n FROM debit"
    " GROUP BY account_id),"
    /* the accounts' rows locked in id order, and only once the CDR rows
     * are in (tot comes from them): two batches in flight insert side by
     * side, wait for each other only for the debit, and never deadlock */
    DEBIT_LOCK_UPDATE ","
    " hist AS (" DEBIT_HISTORY ")"
    /* one row per input record, from its three key columns only; a
     * duplicate's stored fee by its key: never a scan of cdr */
    " SELECT k.ord, s.id IS NOT NULL AS stored,"
    "  CASE WHEN s.id IS NULL THEN"
    "  (SELECT c.fee FROM cdr c WHERE c.id = k.id AND c.setup_time ="
    "  timestamptz 'epoch' + k.setup_ms * interval '1 millisecond') END"
    "  AS fee"
    " FROM unnest($1::integer[], $2::uuid[], $3::bigint[])"
    "  AS k(ord, id, setup_ms) LEFT JOIN ins s ON s.id = k.id";

#define STORE_BATCH_MAX 256 /* CDRs per store statement */
#define BD_CDR_STORES	3   /* store transactions in flight at once */
/* another batch starts beside a running one only with this many CDRs
 * waiting; below it they wait and go together (group commit).  Waiting
 * CDRs are split over the free slots, never below this many per batch
 * (docs/decisions.md, "CDR batches split over three connections") */
#define STORE_SECOND_MIN 64

/* ---- decoding ---- */

static const char *const directions[] = {"caller", "callee", "server", NULL};

/*
 * The decoders below check the CDR's attempts and RTP statistics and write
 * what they keep straight as the compact JSON text that is stored (no
 * jansson tree per CDR); the text is the writer's buffer, taken over by
 * the record (NULL when out of memory).
 */
static char *jw_take(struct sw_jw *w)
{
	if (!w->oom)
		return w->buf;
	sw_jw_free(w);
	return NULL;
}

static char *decode_attempts(struct sw_jv *v, const json_t *cdr)
{
	json_t *arr = sw_jv_arr(v, cdr, "attempts", BD_CDR_MAX_ATTEMPTS, false);
	struct sw_jw out = {0};
	size_t i;
	json_t *a;

	sw_jw_raw(&out, "[");
	json_array_foreach(arr, i, a)
	{
		char path[48];
		struct sw_jv av;
		const char *gw;
		int64_t code, start, end;

		snprintf(path, sizeof(path), "%s.attempts[%zu]", v->path, i);
		sw_jv_init(&av, path);
		if (!json_is_object(a)) {
			sw_jv_fail(v, "attempts",
				   "element %zu is not an "
				   "object",
				   i);
			break;
		}
		gw = sw_jv_str(&av, a, "gateway", BD_NAME_MAX, true, "");
		code = sw_jv_int(&av, a, "code", 0, 699, true, 0);
		start =
		    sw_jv_int(&av, a, "start_ms", 0, BD_CDR_MAX_MS, false, 0);
		end = sw_jv_int(&av, a, "end_ms", 0, BD_CDR_MAX_MS, false, 0);
		if (av.bad) {
			if (!v->bad++)
				snprintf(v->err, sizeof(v->err), "%s", av.err);
			break;
		}
		sw_jw_raw(&out, i ? ",{" : "{");
		sw_jw_key(&out, "seq", true);
		sw_jw_i64(&out, (int64_t)i + 1);
		sw_jw_kstr(&out, "gateway", gw);
		sw_jw_ki64(&out, "code", code);
		sw_jw_ki64(&out, "start_ms", start);
		sw_jw_ki64(&out, "end_ms", end);
		sw_jw_raw(&out, "}");
	}
	sw_jw_raw(&out, "]");

	return jw_take(&out);
}

static const char *const leg_ints[] = {
    "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rtcp_rx",
    "rtcp_tx",	  "lost",     "jitter_ms",  "dropped",	NULL,
};

/* the known fields of one leg's RTP statistics, checked and copied */
static void decode_leg(struct sw_jw *out, struct sw_jv *v, const json_t *leg)
{
	bool first = true;
	const char *remote;

	sw_jw_raw(out, "{");
	for (const char *const *k = leg_ints; *k; k++) {
		if (!json_object_get(leg, *k))
			continue;
		sw_jw_key(out, *k, first);
		sw_jw_i64(out, sw_jv_int(v, leg, *k, 0, INT64_MAX, false, 0));
		first = false;
	}
	remote = sw_jv_str(v, leg, "remote", 64, false, "");
	if (json_object_get(leg, "remote")) {
		sw_jw_key(out, "remote", first);
		sw_jw_str(out, remote);
	}
	sw_jw_raw(out, "}");
}

static char *decode_rtp(struct sw_jv *v, const json_t *cdr)
{
	json_t *rtp = sw_jv_obj(v, cdr, "rtp", false);
	struct sw_jw out = {0};
	static const char *const legs[] = {"a", "b"};
	bool first = true;

	sw_jw_raw(&out, "{");
	for (int i = 0; rtp && i < 2; i++) {
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
			sw_jw_key(&out, legs[i], first);
			decode_leg(&out, &lv, leg);
			first = false;
		}
		if (lv.bad) {
			if (!v->bad++)
				snprintf(v->err, sizeof(v->err), "%s", lv.err);
			break;
		}
	}
	sw_jw_raw(&out, "}");

	return jw_take(&out);
}

/* Free what a decode allocated; rec may be half-built. */
void bd_cdr_rec_reset(struct bd_cdr_rec *rec)
{
	if (!rec)
		return;
	free(rec->attempts);
	free(rec->rtp);
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
	json_t *cdr;
	char *attempts = NULL, *rtp = NULL;
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
	rec->mapping_gateway =
	    sw_jv_str(&v, cdr, "mapping_gateway", 64, false, "");
	rec->account = sw_jv_str(&v, cdr, "account", 64, false, "");
	rec->card = sw_jv_str(&v, cdr, "card", 48, false, "");
	rec->routing_gateway =
	    sw_jv_str(&v, cdr, "routing_gateway", 64, false, "");
	rec->setup_ms =
	    sw_jv_int(&v, cdr, "setup_ms", 1, BD_CDR_MAX_MS, true, 0);
	rec->ringing_ms =
	    sw_jv_int(&v, cdr, "ringing_ms", 0, BD_CDR_MAX_MS, false, 0);
	rec->answer_ms =
	    sw_jv_int(&v, cdr, "answer_ms", 0, BD_CDR_MAX_MS, false, 0);
	rec->end_ms = sw_jv_int(&v, cdr, "end_ms", 0, BD_CDR_MAX_MS, false, 0);
	rec->hold_ms = sw_jv_int(&v, cdr, "hold_ms", 0, HOLD_MAX_MS, false, 0);
	rec->pdd_ms = sw_jv_int(&v, cdr, "pdd_ms", 0, HOLD_MAX_MS, false, 0);
	rec->end_code = sw_jv_int(&v, cdr, "end_code", 0, 699, false, 0);
	rec->end_text = sw_jv_str(&v, cdr, "end_text", 128, false, "");
	/* "" (not known, e.g. refused before routing) is accepted too */
	rec->end_direction = sw_jv_str(&v, cdr, "end_direction", 16, false, "");
	if (*rec->end_direction)
		rec->end_direction =
		    sw_jv_enum(&v, cdr, "end_direction", directions, false, "");
	rec->end_reason = sw_jv_str(&v, cdr, "end_reason", 64, false, "");
	rec->q850 = sw_jv_int(&v, cdr, "q850", 0, 127, false, 0);
	rec->codec_a = sw_jv_str(&v, cdr, "codec_a", 32, false, "");
	rec->codec_b = sw_jv_str(&v, cdr, "codec_b", 32, false, "");
	/* the method digits were sent to each leg with; "" before an answer
	 * (and from a signalingd that does not say) */
	rec->dtmf_a = sw_jv_str(&v, cdr, "dtmf_a", 16, false, "");
	if (*rec->dtmf_a)
		rec->dtmf_a =
		    sw_jv_enum(&v, cdr, "dtmf_a", sw_dtmf_names, false, "");
	rec->dtmf_b = sw_jv_str(&v, cdr, "dtmf_b", 16, false, "");
	if (*rec->dtmf_b)
		rec->dtmf_b =
		    sw_jv_enum(&v, cdr, "dtmf_b", sw_dtmf_names, false, "");
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

	rec->attempts = attempts;
	rec->rtp = rtp;
	attempts = rtp = NULL;

out:
	free(attempts);
	free(rtp);
	if (ret)
		bd_cdr_rec_reset(rec);

	return ret;
}

/* ---- the job ---- */

static void job_destructor(void *arg)
{
	struct cdr_job *job = arg;

	list_unlink(&job->le);
	hash_unlink(&job->he);
	mem_deref(job->agent_name);
	bd_cdr_rec_reset(&job->rec);
	if (job->counted) {
		job->cdr->st.queued--;
		bd_pending_dec(job->cdr->bd);
	}
}

static const char *db_code(int err)
{
	return err == EBADMSG ? SW_ERR_INTERNAL : SW_ERR_UNAVAILABLE;
}

/*
 * The CDR is stored (or was already, or is not kept): its reservation is
 * released and the fee counted as debited (resv.h).  Then the reply.
 */
static void job_reply(struct cdr_job *job, int64_t fee, bool duplicate)
{
	struct bd_lookup_cache *lc = job->cdr->bd->lookup;
	struct sw_jw *w = &job->cdr->reply;

	for (size_t i = 0; !duplicate && i < job->nagents; i++)
		bd_lookup_debit(lc, job->agent_id[i], job->agent_fee[i]);
	if (!duplicate && job->has_account)
		bd_lookup_debit(lc, job->account_id, fee);
	bd_resv_commit(job->cdr->bd->resv, job->rec.id);
	/* {"id","fee","duplicate"}, written as text (docs/bus.md) */
	sw_jw_reset(w);
	sw_jw_raw(w, "{");
	sw_jw_key(w, "id", true);
	sw_jw_str(w, job->rec.id);
	sw_jw_ki64(w, "fee", fee);
	sw_jw_raw(w,
		  duplicate ? ",\"duplicate\":true}" : ",\"duplicate\":false}");
	if (w->oom)
		sw_bus_reply_error(job->req, SW_ERR_INTERNAL, "out of memory");
	else
		sw_bus_reply_text(job->req, w->buf, w->len);
}

/* the debug line of a CDR stored now, by either store path */
static void job_stored_log(const struct cdr_job *job)
{
	sw_cdebug(job->rec.id,
		  "stored: account %s fee %lld fee_s %lld prefix '%s' "
		  "vendor '%s' cost %lld",
		  job->rec.account, (long long)job->fee, (long long)job->fee_s,
		  job->rate_prefix, job->vendor, (long long)job->vendor_cost);
}

/* one batch in flight: its jobs, in ord order */
struct store_batch {
	struct bd_cdr *cdr; /* borrowed */
	struct list jobs;   /* owned cdr_job */
	unsigned n;
	bool insert;	 /* through sql_store, not COPY */
	int64_t sent_us; /* monotonic: the store statement was queued */
};

static void store_flush(struct bd_cdr *cdr);

static void batch_destructor(void *arg)
{
	struct store_batch *b = arg;

	list_flush(&b->jobs); /* jobs not answered yet are dropped */
}

#define STORE_COLS 43 /* the parameters of sql_store, in its order */

/* each parameter's element type, as sql_store casts it */
static const enum bd_pgarr_type store_types[STORE_COLS] = {
    BD_PGARR_INT4,  BD_PGARR_UUID, BD_PGARR_INT8,  BD_PGARR_INT8,
    BD_PGARR_INT8,  BD_PGARR_TEXT, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_TEXT, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_TEXT, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_TEXT, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_INT8,  BD_PGARR_INT8, BD_PGARR_INT8,  BD_PGARR_INT8,
    BD_PGARR_INT4,  BD_PGARR_INT8, BD_PGARR_INT8,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_INT4, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_INT4, BD_PGARR_TEXT,  BD_PGARR_TEXT,
    BD_PGARR_TEXT,  BD_PGARR_TEXT, BD_PGARR_TEXT,  BD_PGARR_JSONB,
    BD_PGARR_JSONB, BD_PGARR_TEXT, BD_PGARR_JSONB,
};

/* the scratch writer's text as one element; its failed allocation is the
 * batch's (sw_jw_reset forgets it before the next CDR) */
static void arr_scratch(struct bd_pgarr *a, const struct sw_jw *tmp)
{
	if (tmp->oom)
		a->w->oom = true;
	else
		bd_pgarr_str(a, tmp->buf);
}

/* the agent chain's levels, [{lvl, account_id, account, fee}], into tmp */
static void agent_fees_json(struct sw_jw *tmp, const struct cdr_job *job)
{
	sw_jw_reset(tmp);
	sw_jw_raw(tmp, "[");
	for (size_t i = 0; i < job->nagents; i++) {
		sw_jw_raw(tmp, i ? ",{" : "{");
		sw_jw_key(tmp, "lvl", true);
		sw_jw_i64(tmp, (int64_t)i + 1);
		sw_jw_ki64(tmp, "account_id", job->agent_id[i]);
		sw_jw_kstr(tmp, "account", job->agent_name[i]);
		sw_jw_ki64(tmp, "fee", job->agent_fee[i]);
		sw_jw_raw(tmp, "}");
	}
	sw_jw_raw(tmp, "]");
}

static void arr_agent_fees(struct bd_pgarr *a, struct sw_jw *tmp,
			   const struct cdr_job *job)
{
	agent_fees_json(tmp, job);
	arr_scratch(a, tmp);
}

/* the agent chain's account ids as bigint[] text, nearest first */
static void arr_agent_chain(struct bd_pgarr *a, struct sw_jw *tmp,
			    const struct cdr_job *job)
{
	sw_jw_reset(tmp);
	sw_jw_raw(tmp, "{");
	for (size_t i = 0; i < job->nagents; i++) {
		if (i)
			sw_jw_raw(tmp, ",");
		sw_jw_i64(tmp, job->agent_id[i]);
	}
	sw_jw_raw(tmp, "}");
	arr_scratch(a, tmp);
}

/* Column col (0-based, sql_store's order) of one rated job. */
static void job_col(struct bd_pgarr *a, struct sw_jw *tmp,
		    const struct cdr_job *job, unsigned ord, int col)
{
	const struct bd_cdr_rec *r = &job->rec;

	switch (col) {
	case 0:
		bd_pgarr_int(a, ord);
		break;
	case 1:
		/* checked at decode (sw_jv_uuid) */
		if (!bd_pgarr_uuid(a, r->id))
			bd_pgarr_null(a);
		break;
	case 2:
		bd_pgarr_int(a, r->setup_ms);
		break;
	case 3:
		bd_pgarr_int(a, job->fee);
		break;
	case 4:
		if (job->has_account)
			bd_pgarr_int(a, job->account_id);
		else
			bd_pgarr_null(a);
		break;
	case 5:
		bd_pgarr_str(a, r->call_id_a);
		break;
	case 6:
		bd_pgarr_str(a, r->call_id_b);
		break;
	case 7:
		bd_pgarr_str(a, r->caller_in);
		break;
	case 8:
		bd_pgarr_str(a, r->callee_in);
		break;
	case 9:
		bd_pgarr_str(a, r->caller);
		break;
	case 10:
		bd_pgarr_str(a, r->callee);
		break;
	case 11:
		bd_pgarr_str(a, r->caller_out);
		break;
	case 12:
		bd_pgarr_str(a, r->callee_out);
		break;
	case 13:
		bd_pgarr_str(a, r->src_ip);
		break;
	case 14:
		bd_pgarr_str(a, r->dst_ip);
		break;
	case 15:
		bd_pgarr_str(a, r->mapping_gateway);
		break;
	case 16:
		bd_pgarr_str(a, r->account);
		break;
	case 17:
		bd_pgarr_str(a, r->card);
		break;
	case 18:
		bd_pgarr_str(a, r->routing_gateway);
		break;
	case 19:
		bd_pgarr_str(a, job->vendor);
		break;
	case 20:
		bd_pgarr_int(a, r->ringing_ms);
		break;
	case 21:
		bd_pgarr_int(a, r->answer_ms);
		break;
	case 22:
		bd_pgarr_int(a, r->end_ms);
		break;
	case 23:
		bd_pgarr_int(a, r->hold_ms);
		break;
	case 24:
		bd_pgarr_int(a, job->fee_s);
		break;
	case 25:
		bd_pgarr_int(a, r->pdd_ms);
		break;
	case 26:
		bd_pgarr_int(a, job->vendor_cost);
		break;
	case 27:
		bd_pgarr_str(a, job->rate_prefix);
		break;
	case 28:
		bd_pgarr_str(a, job->rate_period);
		break;
	case 29:
		bd_pgarr_int(a, r->end_code);
		break;
	case 30:
		bd_pgarr_str(a, r->end_text);
		break;
	case 31:
		bd_pgarr_str(a, r->end_direction);
		break;
	case 32:
		bd_pgarr_str(a, r->end_reason);
		break;
	case 33:
		bd_pgarr_int(a, r->q850);
		break;
	case 34:
		bd_pgarr_str(a, r->codec_a);
		break;
	case 35:
		bd_pgarr_str(a, r->codec_b);
		break;
	case 36:
		bd_pgarr_str(a, r->dtmf_a);
		break;
	case 37:
		bd_pgarr_str(a, r->dtmf_b);
		break;
	case 38:
		bd_pgarr_str(a, r->media_node);
		break;
	case 39:
		bd_pgarr_str(a, r->rtp);
		break;
	case 40:
		bd_pgarr_str(a, r->attempts);
		break;
	case 41:
		arr_agent_chain(a, tmp, job);
		break;
	default:
		arr_agent_fees(a, tmp, job);
		break;
	}
}

/*
 * The batch's STORE_COLS parameters into w, one binary array after the
 * other: their offsets in off[], their sizes in len[].
 */
static void store_columns(struct sw_jw *w, struct sw_jw *tmp,
			  const struct store_batch *b, size_t off[STORE_COLS],
			  int len[STORE_COLS])
{
	for (int col = 0; col < STORE_COLS; col++) {
		struct bd_pgarr a;
		unsigned ord = 0;
		struct le *le;

		off[col] = w->len;
		bd_pgarr_begin(&a, w, store_types[col], b->n);
		LIST_FOREACH(&b->jobs, le)
		{
			job_col(&a, tmp, le->data, ord++, col);
		}
		if (bd_pgarr_len(&a) > INT32_MAX)
			w->oom = true;
		len[col] = (int)bd_pgarr_len(&a);
	}
}

/*
 * The COPY path (docs/billingd.md, store step 5): a batch is written as a
 * binary COPY stream into cdr, followed in the same simple query (one
 * implicit transaction) by the debit, whose per-account totals billingd
 * sums itself.  A COPY stores every row or none: when one CDR of the batch
 * is already stored (a resend) or has a value the server refuses, nothing
 * is written and the batch goes again through sql_store, which sorts out
 * duplicates and bad records.  COPY skips the executor's per-row work of
 * the INSERT (the unnest, the conflict check's tuple, RETURNING) and costs
 * PostgreSQL about what the raw COPY reference costs.
 */
static const char sql_copy[] =
    "COPY cdr (id, setup_time," STORE_PLAIN_COLS " agent_chain, agent_fees)"
    " FROM STDIN (FORMAT binary)";

#define COPY_FIELDS 43 /* the columns of sql_copy */

/* one CDR as a row of sql_copy */
static void copy_row(struct sw_jw *w, struct sw_jw *tmp,
		     const struct cdr_job *job)
{
	const struct bd_cdr_rec *r = &job->rec;
	const char *texts[] = {
	    r->call_id_a, r->call_id_b,	      r->caller_in,	  r->callee_in,
	    r->caller,	  r->callee,	      r->caller_out,	  r->callee_out,
	    r->src_ip,	  r->dst_ip,	      r->mapping_gateway, r->account,
	    r->card,	  r->routing_gateway, job->vendor,
	};
	const int64_t times[] = {r->setup_ms, r->ringing_ms, r->answer_ms,
				 r->end_ms, r->hold_ms};

	bd_pgcopy_row(w, COPY_FIELDS);
	if (!bd_pgbin_uuid(w, r->id)) /* checked at decode (sw_jv_uuid) */
		bd_pgbin_null(w);
	bd_pgbin_time_ms(w, r->setup_ms);
	if (job->has_account)
		bd_pgbin_int(w, BD_PGARR_INT8, job->account_id);
	else
		bd_pgbin_null(w);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		bd_pgbin_str(w, BD_PGARR_TEXT, texts[i]);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		bd_pgbin_int(w, BD_PGARR_INT8, times[i]);
	bd_pgbin_int(w, BD_PGARR_INT4, job->fee_s);
	bd_pgbin_int(w, BD_PGARR_INT8, r->pdd_ms);
	bd_pgbin_int(w, BD_PGARR_INT8, job->fee);
	bd_pgbin_int(w, BD_PGARR_INT8, job->vendor_cost);
	bd_pgbin_str(w, BD_PGARR_TEXT, job->rate_prefix);
	bd_pgbin_str(w, BD_PGARR_TEXT, job->rate_period);
	bd_pgbin_int(w, BD_PGARR_INT4, r->end_code);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->end_text);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->end_direction);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->end_reason);
	bd_pgbin_int(w, BD_PGARR_INT4, r->q850);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->codec_a);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->codec_b);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->dtmf_a);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->dtmf_b);
	bd_pgbin_str(w, BD_PGARR_TEXT, r->media_node);
	bd_pgbin_str(w, BD_PGARR_JSONB, r->rtp);
	bd_pgbin_str(w, BD_PGARR_JSONB, r->attempts);
	bd_pgbin_int8_array(w, job->agent_id, job->nagents);
	agent_fees_json(tmp, job);
	if (tmp->oom)
		w->oom = true;
	else
		bd_pgbin_str(w, BD_PGARR_JSONB, tmp->buf);
}

/* one account's debit in a batch */
struct debit {
	int64_t account_id, total, n;
};

/* add fee to the account's total; false when the sum overflows */
static bool debit_add(struct debit *d, size_t *nd, int64_t account_id,
		      int64_t fee)
{
	size_t i;

	if (!fee)
		return true;
	for (i = 0; i < *nd && d[i].account_id != account_id; i++)
		;
	if (i == *nd) {
		d[i] = (struct debit){.account_id = account_id};
		(*nd)++;
	}
	d[i].n++;
	return !__builtin_add_overflow(d[i].total, fee, &d[i].total);
}

/*
 * The debit of a COPY batch after its COPY, as sql_store does it: one
 * balance update and one balance_history line ('cdr', "<n> CDRs") per
 * account, the rows locked in id order.  The totals are numbers billingd
 * wrote, so they go as literals.  false when a total overflows (the batch
 * then takes sql_store, whose arithmetic refuses it).
 */
static bool copy_debit_sql(struct sw_jw *sql, const struct store_batch *b)
{
	struct debit *d;
	size_t nd = 0;
	bool ok = true;
	struct le *le;

	d = mem_zalloc(b->n * (1 + BD_AGENT_MAX) * sizeof(*d), NULL);
	if (!d) {
		sql->oom = true;
		return true;
	}
	LIST_FOREACH(&b->jobs, le)
	{
		const struct cdr_job *job = le->data;

		if (job->has_account)
			ok = ok && debit_add(d, &nd, job->account_id, job->fee);
		for (size_t i = 0; i < job->nagents; i++)
			ok = ok && debit_add(d, &nd, job->agent_id[i],
					     job->agent_fee[i]);
	}
	if (ok && nd) {
		sw_jw_raw(sql, "; WITH tot (account_id, total, n) AS (VALUES ");
		for (size_t i = 0; i < nd; i++) {
			sw_jw_raw(sql, i ? ", (" : "(");
			sw_jw_i64(sql, d[i].account_id);
			sw_jw_raw(sql, "::bigint, ");
			sw_jw_i64(sql, d[i].total);
			sw_jw_raw(sql, "::bigint, ");
			sw_jw_i64(sql, d[i].n);
			sw_jw_raw(sql, "::bigint)");
		}
		sw_jw_raw(sql, ")," DEBIT_LOCK_UPDATE DEBIT_HISTORY);
	}
	mem_deref(d);
	return ok;
}

static void batch_fail(struct store_batch *b, const char *code, const char *why)
{
	struct le *le;

	LIST_FOREACH(&b->jobs, le)
	{
		struct cdr_job *job = le->data;

		sw_bus_reply_error(job->req, code, "CDR not stored: %s", why);
	}
}

static void batch_h(int err, const PGresult *res, void *arg)
{
	struct store_batch *b = arg;
	struct bd_cdr *cdr = b->cdr;
	struct cdr_job **jobs = NULL;
	unsigned i = 0, stored = 0, dups = 0;
	int cord = -1, cnow = -1, cfee = -1;
	struct le *le;

	cdr->storing--;

	if (!err) {
		cord = PQfnumber(res, "ord");
		cnow = PQfnumber(res, "stored");
		cfee = PQfnumber(res, "fee");
		if (cord < 0 || cnow < 0 || cfee < 0) {
			sw_err("store result without its columns ord, stored "
			       "and fee");
			err = EBADMSG;
		} else if (PQntuples(res) != (int)b->n) {
			err = EBADMSG;
		}
	}

	if (err == EBADMSG && b->n > 1) {
		/* one bad record must not block the others: retry each
		 * alone, in order, at the head of the queue */
		sw_warn("batch of %u CDRs failed (%s): retrying one by one",
			b->n, res ? bd_db_errmsg(res) : "bad result");
		while ((le = list_tail(&b->jobs))) {
			struct cdr_job *job = le->data;

			list_unlink(&job->le);
			hash_unlink(&job->he);
			job->alone = true;
			list_prepend(&cdr->ready, &job->le, job);
		}
		goto out;
	}
	if (err) {
		const char *why = (res && (err == EBADMSG || err == EAGAIN))
				      ? bd_db_errmsg(res)
				      : strerror(err);

		if (err == EBADMSG)
			sw_err("store of %u CDRs failed: %s", b->n, why);
		else
			sw_warn("store of %u CDRs failed: database %s", b->n,
				why);
		batch_fail(b, db_code(err), why);
		goto out;
	}

	jobs = mem_zalloc(b->n * sizeof(struct cdr_job *), NULL);
	if (!jobs) {
		batch_fail(b, SW_ERR_INTERNAL, "out of memory");
		goto out;
	}
	LIST_FOREACH(&b->jobs, le)
	jobs[i++] = le->data;

	for (int row = 0; row < PQntuples(res); row++) {
		long ord = strtol(PQgetvalue(res, row, cord), NULL, 10);
		bool now = PQgetvalue(res, row, cnow)[0] == 't';
		struct cdr_job *job;
		int64_t fee;

		if (ord < 0 || ord >= (long)b->n || !jobs[ord])
			continue;
		job = jobs[ord];
		jobs[ord] = NULL;
		fee = job->fee;
		if (!now && !PQgetisnull(res, row, cfee))
			fee = strtoll(PQgetvalue(res, row, cfee), NULL, 10);

		if (now) {
			stored++;
			job_stored_log(job);
		} else {
			dups++;
			sw_cinfo(job->rec.id,
				 "duplicate CDR acknowledged "
				 "(fee %lld)",
				 (long long)fee);
		}
		job_reply(job, fee, !now);
	}
	for (i = 0; i < b->n; i++) {
		if (jobs[i]) /* cannot happen: one row per record */
			sw_bus_reply_error(jobs[i]->req, SW_ERR_INTERNAL,
					   "CDR missing from the store result");
	}
	sw_debug("batch of %u CDRs: %u stored, %u duplicates", b->n, stored,
		 dups);
	cdr->st.stored += stored;
	cdr->st.duplicates += dups;
	sw_mhist_observe(&cdr->st.store_us, sw_time_mono_us() - b->sent_us);

out:
	mem_deref(jobs);
	mem_deref(b);
	store_flush(cdr);
}

static bool id_cmp(struct le *le, void *arg)
{
	const struct cdr_job *job = le->data;
	const char *const *id = arg;

	return !strcmp(job->rec.id, *id);
}

/*
 * Whether a CDR with this id is in a batch being stored (this one or one
 * running).  A resend racing itself waits in `ready` until its twin is
 * answered: two transactions holding the same id would wait on each
 * other's key (or deadlock, crossed), and the later COPY would fail.
 */
static bool inflight_has(const struct bd_cdr *cdr, const char *id)
{
	return hash_lookup(cdr->inflight, hash_joaat_str(id), id_cmp, &id) !=
	       NULL;
}

/* the CDRs waiting, counted up to cap */
static unsigned ready_count(const struct bd_cdr *cdr, unsigned cap)
{
	const struct le *le = list_head(&cdr->ready);
	unsigned n = 0;

	for (; le && n < cap; le = le->next)
		n++;
	return n;
}

static void copy_h(int err, const PGresult *res, void *arg);
static void flush_tmr(void *arg);

#define STORE_RETRY_MS 50 /* after an allocation failed */

/*
 * Send batch b: as COPY, or through sql_store when b->insert.  0, or an
 * errno and b is still the caller's.
 */
static int store_send(struct bd_cdr *cdr, struct store_batch *b)
{
	const char *params[STORE_COLS];
	size_t off[STORE_COLS];
	int len[STORE_COLS];
	struct le *le;
	int err;

	/* into buffers kept from batch to batch: no megabyte of realloc
	 * churn per statement */
	sw_jw_reset(&cdr->text);
	sw_jw_reset(&cdr->sql);
	if (!b->insert) {
		sw_jw_raw(&cdr->sql, sql_copy);
		b->insert = !copy_debit_sql(&cdr->sql, b);
	}
	if (!b->sent_us)
		b->sent_us = sw_time_mono_us();

	if (!b->insert) {
		bd_pgcopy_begin(&cdr->text);
		LIST_FOREACH(&b->jobs, le)
		{
			copy_row(&cdr->text, &cdr->scratch, le->data);
		}
		bd_pgcopy_end(&cdr->text);
		if (cdr->text.oom || cdr->sql.oom)
			return ENOMEM;
		err = bd_db_copy(cdr->bd->db, cdr->sql.buf, cdr->text.buf,
				 cdr->text.len, copy_h, b);
	} else {
		store_columns(&cdr->text, &cdr->scratch, b, off, len);
		if (cdr->text.oom)
			return ENOMEM;
		for (int i = 0; i < STORE_COLS; i++)
			params[i] = cdr->text.buf + off[i];
		err = bd_db_query_bin(cdr->bd->db, sql_store, STORE_COLS,
				      params, len, batch_h, b);
	}
	if (!err)
		cdr->storing++;
	return err;
}

/* b could not be sent: answered, dropped, and the queue moves on */
static void store_fail(struct bd_cdr *cdr, struct store_batch *b, int err)
{
	batch_fail(b, err == ENOMEM ? SW_ERR_INTERNAL : SW_ERR_UNAVAILABLE,
		   strerror(err));
	mem_deref(b);

	/* the database refused the statement: the rest cannot do better;
	 * out of memory: the others try again shortly */
	if (err != ENOMEM)
		store_flush(cdr);
	else
		tmr_start(&cdr->flush, STORE_RETRY_MS, flush_tmr, cdr);
}

static void copy_h(int err, const PGresult *res, void *arg)
{
	struct store_batch *b = arg;
	struct bd_cdr *cdr = b->cdr;
	unsigned stored = 0;
	struct le *le;

	if (err == EBADMSG) {
		/* nothing was written: a resend is in the batch, or a value
		 * the server refuses; sql_store tells them apart */
		sw_debug("COPY of %u CDRs refused (%s): storing them with "
			 "INSERT",
			 b->n, bd_db_errmsg(res));
		cdr->storing--;
		cdr->st.copy_refused++;
		b->insert = true;
		err = store_send(cdr, b);
		if (err)
			store_fail(cdr, b, err);
		return;
	}
	if (err) {
		batch_h(err, res, arg); /* answered as for sql_store */
		return;
	}

	cdr->storing--;
	LIST_FOREACH(&b->jobs, le)
	{
		struct cdr_job *job = le->data;

		job_stored_log(job);
		job_reply(job, job->fee, false);
		stored++;
	}
	sw_debug("batch of %u CDRs stored by COPY", stored);
	cdr->st.stored += stored;
	sw_mhist_observe(&cdr->st.store_us, sw_time_mono_us() - b->sent_us);
	mem_deref(b);
	store_flush(cdr);
}

/*
 * Start one batch if a slot is free; true when one was sent.  With no
 * batch running everything ready (up to STORE_BATCH_MAX) may go; beside a
 * running one only STORE_SECOND_MIN CDRs or more, so a CDR that arrives
 * while a batch runs joins the next one instead of paying a transaction
 * of its own.  With two or more slots free and at least twice
 * STORE_SECOND_MIN waiting, the waiting CDRs are shared between the slots
 * (never fewer than STORE_SECOND_MIN each).
 */
/* batches that may run now: BD_CDR_STORES, but never every connection up
 * (one stays for authorisations and partitions), and at least one */
static unsigned store_slots(const struct bd_cdr *cdr)
{
	struct bd_db_stats st;

	bd_db_stats(cdr->bd->db, &st);
	if (st.conns_up > BD_CDR_STORES)
		return BD_CDR_STORES;
	return st.conns_up > 1 ? st.conns_up - 1 : 1;
}

static bool store_one(struct bd_cdr *cdr)
{
	struct store_batch *b;
	struct le *le, *next;
	unsigned limit = STORE_BATCH_MAX, slots = store_slots(cdr), nfree, n;
	int err;

	if (cdr->storing >= slots || !list_head(&cdr->ready))
		return false;
	nfree = slots - cdr->storing;
	n = ready_count(cdr, nfree * STORE_BATCH_MAX);
	if (cdr->storing && n < STORE_SECOND_MIN)
		return false;
	if (nfree > 1 && n >= 2 * STORE_SECOND_MIN) {
		unsigned k = n / STORE_SECOND_MIN; /* batches it makes, >= 2 */

		if (k > nfree)
			k = nfree;
		limit = (n + k - 1) / k;
		if (limit > STORE_BATCH_MAX)
			limit = STORE_BATCH_MAX;
	}

	b = mem_zalloc(sizeof(*b), batch_destructor);
	if (!b) {
		sw_err("out of memory for a store batch");
		tmr_start(&cdr->flush, STORE_RETRY_MS, flush_tmr, cdr);
		return false;
	}
	b->cdr = cdr;
	list_init(&b->jobs);

	for (le = list_head(&cdr->ready); le && b->n < limit; le = next) {
		struct cdr_job *job = le->data;

		next = le->next;
		if (job->alone && b->n)
			break; /* it goes on its own, next time */
		if (inflight_has(cdr, job->rec.id))
			continue; /* a resend racing itself: later */

		list_unlink(&job->le);
		list_append(&b->jobs, &job->le, job);
		hash_append(cdr->inflight, hash_joaat_str(job->rec.id),
			    &job->he, job);
		b->n++;
		if (job->alone) {
			b->insert = true; /* a record sql_store refused */
			break;
		}
	}
	if (!b->n) { /* only resends whose twins are being stored */
		mem_deref(b);
		return false;
	}
	err = store_send(cdr, b);
	if (err) {
		store_fail(cdr, b, err);
		return false;
	}
	return true;
}

/* start as many batches as slots and waiting CDRs allow */
static void store_flush(struct bd_cdr *cdr)
{
	while (store_one(cdr))
		;
}

static void flush_tmr(void *arg)
{
	store_flush(arg);
}

/*
 * The job is rated and its partition exists: queue it for the store.  The
 * store starts once the loop has handled what arrived with it (a bus
 * batch's CDRs all come in one turn), so they go in one batch instead of
 * the first alone.
 */
static void job_store(struct cdr_job *job)
{
	struct bd_cdr *cdr = job->cdr;

	list_append(&cdr->ready, &job->le, job);
	if (!tmr_isrunning(&cdr->flush))
		tmr_start(&cdr->flush, 0, flush_tmr, cdr);
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

	r = bd_account_rate(acc);
	if (!r) {
		if (hold_ms > 0)
			sw_cwarn(cid,
				 "no rate for %s in %s's table: not "
				 "charged",
				 callee, acc->name);
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
	if (fee_s) /* cdr.fee_s is an integer column */
		*fee_s = res.fee_s > INT32_MAX ? INT32_MAX : res.fee_s;
}

static void lookup_h(int err, const struct bd_lookup *lk, void *arg)
{
	struct cdr_job *job = arg;
	const struct bd_param_values *pv = bd_params_get(job->cdr->bd->params);
	const struct bd_cdr_rec *r = &job->rec;
	int64_t held;

	if (err) {
		sw_cwarn(r->id, "lookup failed: database %s", strerror(err));
		sw_bus_reply_error(job->req, db_code(err), "CDR not stored: %s",
				   strerror(err));
		mem_deref(job);
		return;
	}

	if (!lk->customer.found && *r->account)
		sw_cwarn(r->id,
			 "account '%s' not found: CDR stored "
			 "without a fee",
			 r->account);

	job->has_account = lk->customer.found;
	job->account_id = lk->customer.id;
	rate_side(&lk->customer, r->callee, &pv->rate, r->hold_ms, r->id,
		  &job->fee, &job->fee_s, job->rate_prefix,
		  sizeof(job->rate_prefix));
	/* each agent above pays its own rate for the same call */
	for (size_t i = 0; i < lk->nagents; i++) {
		const struct bd_account *ag = &lk->agents[i];

		if (!ag->found)
			break;
		if (!job->agent_name) {
			job->agent_name = mem_zalloc(
			    BD_AGENT_MAX * sizeof(*job->agent_name), NULL);
			if (!job->agent_name) {
				sw_bus_reply_error(job->req, SW_ERR_INTERNAL,
						   "out of memory");
				mem_deref(job);
				return;
			}
		}
		job->agent_id[i] = ag->id;
		str_ncpy(job->agent_name[i], ag->name,
			 sizeof(job->agent_name[i]));
		rate_side(ag, r->callee, &pv->rate, r->hold_ms, r->id,
			  &job->agent_fee[i], NULL, NULL, 0);
		held = bd_resv_amount_of(job->cdr->bd->resv, r->id, ag->name);
		if (held >= 0 && job->agent_fee[i] > held)
			job->agent_fee[i] = held; /* as for the customer */
		job->nagents = i + 1;
	}
	str_ncpy(job->rate_period, lk->customer.period,
		 sizeof(job->rate_period));
	held = bd_resv_amount(job->cdr->bd->resv, r->id);
	if (held >= 0 && job->fee > held) {
		/* never more than the call was authorised for (SPEC §6) */
		sw_cinfo(r->id, "fee %lld capped at the %lld reserved",
			 (long long)job->fee, (long long)held);
		job->fee = held;
	}

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

/*
 * What no real call can carry (docs/billingd.md, "CDR checks"): a hold
 * longer than SS_MAXCALLDURATION plus BD_CDR_HOLD_MARGIN_S, a setup time
 * more than BD_CDR_FUTURE_MS ahead of this clock or BD_CDR_PAST_DAYS
 * behind it, times out of order.  0 or EBADMSG with err naming the field.
 */
int bd_cdr_plausible(const struct bd_cdr_rec *r, int64_t max_call_s,
		     int64_t now_ms, char *err, size_t errsz)
{
	int64_t max_hold = (max_call_s + BD_CDR_HOLD_MARGIN_S) * 1000;

	if (r->hold_ms > max_hold) {
		snprintf(err, errsz,
			 "body.cdr.hold_ms: %" PRId64 " ms is more "
			 "than SS_MAXCALLDURATION (%" PRId64 " s) + %d s",
			 r->hold_ms, max_call_s, BD_CDR_HOLD_MARGIN_S);
		return EBADMSG;
	}
	if (r->setup_ms > now_ms + BD_CDR_FUTURE_MS ||
	    r->setup_ms < now_ms - BD_CDR_PAST_DAYS * 86400000LL) {
		snprintf(err, errsz,
			 "body.cdr.setup_ms: %" PRId64 " is not "
			 "within %lld days before and %lld s after now",
			 r->setup_ms, (long long)BD_CDR_PAST_DAYS,
			 (long long)BD_CDR_FUTURE_MS / 1000);
		return EBADMSG;
	}
	if ((r->answer_ms && r->answer_ms < r->setup_ms) ||
	    (r->end_ms && r->end_ms < r->setup_ms) ||
	    (r->answer_ms && r->end_ms && r->end_ms < r->answer_ms)) {
		snprintf(err, errsz,
			 "body.cdr: answer_ms/end_ms before "
			 "setup_ms or end_ms before answer_ms");
		return EBADMSG;
	}
	if (r->hold_ms && !r->answer_ms) {
		snprintf(err, errsz,
			 "body.cdr.hold_ms: a hold time without "
			 "answer_ms");
		return EBADMSG;
	}
	return 0;
}

static const char sql_quarantine[] =
    "INSERT INTO cdr_quarantine (id, reason, cdr)"
    " VALUES ($1::uuid, $2, $3::jsonb) ON CONFLICT (id) DO NOTHING";

struct quarantine_ctx {
	struct bd *bd;
	struct bd_cdr *cdr; /* borrowed */
	struct sw_bus_req *req;
	char id[SW_UUID_LEN + 1];
};

static void quarantine_destructor(void *arg)
{
	struct quarantine_ctx *q = arg;

	bd_pending_dec(q->bd);
}

static void quarantine_h(int err, const PGresult *res, void *arg)
{
	struct quarantine_ctx *q = arg;

	if (err) {
		sw_cwarn(q->id, "CDR not quarantined: %s",
			 err == EBADMSG ? bd_db_errmsg(res) : strerror(err));
		sw_bus_reply_error(q->req, db_code(err), "CDR not stored: %s",
				   strerror(err));
	} else {
		q->cdr->st.quarantined++;
		sw_bus_reply(q->req, json_pack("{s:s, s:i, s:b, s:b}", "id",
					       q->id, "fee", 0, "duplicate",
					       false, "quarantined", true));
	}
	mem_deref(q);
}

/*
 * A well-formed CDR no real call can produce: kept in cdr_quarantine for
 * an operator and acknowledged, never rated (schema 0005).
 */
static void quarantine(struct bd_cdr *cdr, struct sw_bus_req *req,
		       const struct bd_cdr_rec *r, const json_t *body,
		       const char *why)
{
	struct quarantine_ctx *q =
	    mem_zalloc(sizeof(*q), quarantine_destructor);
	char *text = json_dumps(json_object_get(body, "cdr"), JSON_COMPACT);
	const char *p[3] = {r->id, why, text};

	if (!q || !text) {
		mem_deref(q);
		free(text);
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	q->bd = cdr->bd;
	q->cdr = cdr;
	q->req = req;
	str_ncpy(q->id, r->id, sizeof(q->id));
	bd_pending_inc(cdr->bd);
	if (bd_db_query(cdr->bd->db, sql_quarantine, 3, p, quarantine_h, q)) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: database unavailable");
		mem_deref(q);
	} else {
		sw_cwarn(r->id, "CDR quarantined: %s", why);
	}
	free(text);
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
	if (!ret && bd_cdr_plausible(
			&job->rec, bd_params_get(cdr->bd->params)->max_call_s,
			(int64_t)time(NULL) * 1000, err, sizeof(err))) {
		if (cdr->bd->draining)
			sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
					   "shutting down");
		else
			quarantine(cdr, req, &job->rec, env->body, err);
		mem_deref(job);
		return;
	}
	if (ret) {
		sw_warn("cdr.submit refused: %s", err);
		sw_bus_reply_error(
		    req, ret == EBADMSG ? SW_ERR_BAD_REQUEST : SW_ERR_INTERNAL,
		    "%s", err);
		mem_deref(job);
		return;
	}
	if (cdr->bd->draining) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE, "shutting down");
		mem_deref(job);
		return;
	}

	{
		const struct bd_param_values *pv =
		    bd_params_get(cdr->bd->params);
		/* the period is chosen once, at answer time (SPEC §6) */
		struct bd_lookup_when when = {
		    job->rec.answer_ms ? job->rec.answer_ms : job->rec.setup_ms,
		    pv->period_rates, pv->calendars};

		ret = bd_lookup(cdr->bd->lookup, job->rec.account,
				job->rec.callee, job->rec.routing_gateway,
				&when, lookup_h, job);
	}
	if (ret) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
				   "CDR not stored: %s", strerror(ret));
		mem_deref(job);
		return;
	}
	bd_pending_inc(cdr->bd);
	job->counted = true;
	cdr->st.queued++;
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

/* What the store has done since start, and the CDRs it holds now. */
void bd_cdr_stats(const struct bd_cdr *cdr, struct bd_cdr_stats *st)
{
	if (cdr)
		*st = cdr->st;
	else
		memset(st, 0, sizeof(*st));
}

static void cdr_destructor(void *arg)
{
	struct bd_cdr *cdr = arg;

	tmr_cancel(&cdr->flush);
	/* jobs still in a batch unlink themselves from nothing */
	hash_clear(cdr->inflight);
	mem_deref(cdr->inflight);
	sw_jw_free(&cdr->text);
	sw_jw_free(&cdr->sql);
	sw_jw_free(&cdr->scratch);
	sw_jw_free(&cdr->reply);
}

/* The CDR store of bd; mem_deref frees. */
int bd_cdr_alloc(struct bd_cdr **cdrp, struct bd *bd)
{
	struct bd_cdr *cdr;

	if (!cdrp || !bd)
		return EINVAL;

	cdr = mem_zalloc(sizeof(*cdr), cdr_destructor);
	if (!cdr)
		return ENOMEM;
	cdr->bd = bd;
	list_init(&cdr->ready);
	tmr_init(&cdr->flush);
	if (hash_alloc(&cdr->inflight, 1024)) {
		mem_deref(cdr);
		return ENOMEM;
	}
	/* unprepared if these fail: slower, still correct */
	(void)bd_db_prepare(bd->db, sql_store);
	(void)bd_db_prepare(bd->db, sql_partition);

	*cdrp = cdr;
	return 0;
}
