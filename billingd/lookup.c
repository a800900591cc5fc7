/*
 * lookup.c - accounts, rate tables, calendars and vendors in memory
 *
 * One snapshot (struct snap) holds every account (by name and by id), every
 * rate table with its entries (by prefix), the package period rates, each
 * calendar's working intervals in UTC and the routing gateways' vendor
 * accounts.  A full load builds a new snapshot and swaps it in; the
 * tandem_changes notifications (schema 0004) re-read one account, one rate
 * table, the calendars or the gateways in place.  Lookups wait while the
 * first load or a notified re-read is running, so a change committed before
 * a call's request reached billingd is seen by it.
 *
 * Balances: an account's available money is the balance last read minus
 * the fees billingd debited since that read was sent (`debited` minus the
 * `snap` taken at send time).  A fee committed between the send and the
 * read's snapshot is counted twice until the next read: conservative, and
 * settled every LK_SETTLE_MS for accounts with debits.
 */
#define SW_LOG_MODULE "lookup"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/db.h"
#include "billingd/lookup.h"
#include "common/log.h"
#include "common/prefix.h"
#include "common/swtime.h"

#define LK_CHANNEL	 "tandem_changes"
#define LK_SETTLE_MS	 10000	 /* re-read accounts billingd debited */
#define LK_CALENDAR_MS	 3600000 /* the working-interval window moves */
#define LK_RETRY_MS	 1000	 /* a failed load */
#define LK_WAIT_MAX_MS	 5000	 /* a lookup waiting for a load */
#define LK_IDS_MAX	 500	 /* accounts per re-read statement */
#define LK_HASH_ACCOUNTS 4096
#define LK_HASH_SMALL	 256
#define LK_WINDOW_BEFORE "401" /* days of working intervals kept */
#define LK_WINDOW_AFTER	 "60"

struct acct {
	struct le le_name, le_id;
	int64_t id, agent_id, balance, credit_limit;
	int64_t table_id, ppr_id, buy_table_id; /* 0 = none */
	int64_t debited; /* fees debited by billingd since the last read */
	int64_t snap;	 /* debited when the full load was sent */
	char name[BD_NAME_MAX + 1];
};

struct table {
	struct le le;
	int64_t id;
	char name[BD_NAME_MAX + 1];
	struct bd_rate *rates; /* owned: the entries */
	size_t nrates, cap;
	struct sw_prefix_ix *ix; /* owned: rates by prefix, once sealed */
};

struct ppr {
	struct le le;
	int64_t id, cal_id, working, non_working;
};

struct cal {
	struct le le;
	int64_t id;
	int64_t *iv; /* [from, to) pairs, UTC ms, ascending */
	size_t niv, cap;
};

struct gw {
	struct le le;
	int64_t account_id;
	char name[BD_NAME_MAX + 1];
};

struct snap {
	struct hash *by_name, *by_id; /* struct acct (owned via by_id) */
	struct hash *tables;	      /* struct table by id */
	struct hash *pprs, *cals, *gws;
	int64_t win_lo, win_hi; /* calendars' interval window, UTC ms */
};

struct req {
	struct le le;
	bd_lookup_h *h;
	void *arg;
	struct bd_lookup_when when;
	int64_t queued_ms;
	char account[BD_NAME_MAX + 1];
	char callee[BD_NUMBER_MAX + 1];
	char gw[BD_NAME_MAX + 1];
};

struct bd_lookup_cache {
	struct bd_db *db;    /* borrowed */
	struct snap *cur;    /* owned; NULL until the first full load */
	struct snap *next;   /* owned: full load in progress */
	unsigned busy;	     /* notified re-reads in flight: lookups wait */
	bool full_running;   /* a full load is in flight */
	bool full_again;     /* ... and another one is wanted after it */
	struct list waiting; /* struct req */
	struct list rereads; /* struct ids_ctx in flight */
	struct tmr deliver, settle, calendar, retry;
	uint64_t loads;
	struct bd_lookup *lk; /* owned: the answer handed to handlers */
};

/* ---- snapshot ---- */

static void acct_destructor(void *arg)
{
	struct acct *a = arg;

	hash_unlink(&a->le_name);
	hash_unlink(&a->le_id);
}

static void table_destructor(void *arg)
{
	struct table *t = arg;

	hash_unlink(&t->le);
	sw_prefix_ix_free(t->ix);
	free(t->rates);
}

static void unlink_destructor(void *arg)
{
	/* struct ppr, struct gw: le first */
	hash_unlink((struct le *)arg);
}

static void cal_destructor(void *arg)
{
	struct cal *c = arg;

	hash_unlink(&c->le);
	mem_deref(c->iv);
}

static void snap_destructor(void *arg)
{
	struct snap *s = arg;

	hash_clear(s->by_name);
	hash_flush(s->by_id);
	hash_flush(s->tables);
	hash_flush(s->pprs);
	hash_flush(s->cals);
	hash_flush(s->gws);
	mem_deref(s->by_name);
	mem_deref(s->by_id);
	mem_deref(s->tables);
	mem_deref(s->pprs);
	mem_deref(s->cals);
	mem_deref(s->gws);
}

static struct snap *snap_alloc(void)
{
	struct snap *s = mem_zalloc(sizeof(*s), snap_destructor);

	if (!s)
		return NULL;
	if (hash_alloc(&s->by_name, LK_HASH_ACCOUNTS) ||
	    hash_alloc(&s->by_id, LK_HASH_ACCOUNTS) ||
	    hash_alloc(&s->tables, LK_HASH_SMALL) ||
	    hash_alloc(&s->pprs, LK_HASH_SMALL) ||
	    hash_alloc(&s->cals, LK_HASH_SMALL) ||
	    hash_alloc(&s->gws, LK_HASH_SMALL))
		return mem_deref(s);
	return s;
}

static uint32_t id_key(int64_t id)
{
	return (uint32_t)(id ^ (id >> 32));
}

static bool acct_id_cmp(struct le *le, void *arg)
{
	return ((const struct acct *)le->data)->id == *(const int64_t *)arg;
}

static bool acct_name_cmp(struct le *le, void *arg)
{
	return !strcmp(((const struct acct *)le->data)->name,
		       (const char *)arg);
}

static bool table_cmp(struct le *le, void *arg)
{
	return ((const struct table *)le->data)->id == *(const int64_t *)arg;
}

static bool ppr_cmp(struct le *le, void *arg)
{
	return ((const struct ppr *)le->data)->id == *(const int64_t *)arg;
}

static bool cal_cmp(struct le *le, void *arg)
{
	return ((const struct cal *)le->data)->id == *(const int64_t *)arg;
}

static bool gw_cmp(struct le *le, void *arg)
{
	return !strcmp(((const struct gw *)le->data)->name, (const char *)arg);
}

static void *find(const struct hash *h, uint32_t key, list_apply_h *cmp,
		  const void *arg)
{
	union {
		const void *c;
		void *v;
	} a = {.c = arg}; /* hash_lookup() passes it on, never writes */
	struct le *le = hash_lookup(h, key, cmp, a.v);

	return le ? le->data : NULL;
}

static struct acct *acct_by_id(const struct snap *s, int64_t id)
{
	return find(s->by_id, id_key(id), acct_id_cmp, &id);
}

static struct acct *acct_by_name(const struct snap *s, const char *name)
{
	return find(s->by_name, hash_joaat_str(name), acct_name_cmp, name);
}

static struct table *table_by_id(const struct snap *s, int64_t id)
{
	return find(s->tables, id_key(id), table_cmp, &id);
}

/* the longest entry of t that is a prefix of number, or NULL */
static const struct bd_rate *table_match(const struct table *t,
					 const char *number)
{
	uint32_t i;

	if (!sw_prefix_ix_longest(t->ix, 0, number, &i, NULL) || i >= t->nrates)
		return NULL;
	return &t->rates[i];
}

/* ---- reading rows ---- */

static const char *col(const PGresult *res, int row, const char *name)
{
	int c = PQfnumber(res, name);

	return c < 0 || PQgetisnull(res, row, c) ? NULL
						 : PQgetvalue(res, row, c);
}

static bool i64(const PGresult *res, int row, const char *name, int64_t *vp)
{
	const char *s = col(res, row, name);
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*vp = v;
	return true;
}

static int64_t i64_or0(const PGresult *res, int row, const char *name)
{
	int64_t v = 0;

	return i64(res, row, name, &v) ? v : 0;
}

#define ACCOUNT_COLS                                                           \
	"SELECT id, name, agent_id, balance, credit_limit, rate_table_id,"     \
	" package_period_rate_id AS ppr_id,"                                   \
	" buy_rate_table_id AS buy_table_id FROM accounts"

static const char sql_accounts[] = ACCOUNT_COLS;
static const char sql_accounts_ids[] =
    ACCOUNT_COLS " WHERE id = ANY ($1::bigint[])";
static const char sql_tables[] = "SELECT id, name FROM rate_tables";
static const char sql_entries[] =
    "SELECT rate_table_id, prefix, connect_fee, first_interval, first_rate,"
    " next_interval, next_rate FROM rate_entries";
static const char sql_table_one[] =
    "SELECT t.id AS rate_table_id, t.name, e.prefix, e.connect_fee,"
    " e.first_interval, e.first_rate, e.next_interval, e.next_rate"
    " FROM rate_tables t LEFT JOIN rate_entries e ON e.rate_table_id = t.id"
    " WHERE t.id = $1::bigint";
static const char sql_pprs[] =
    "SELECT id, calendar_id, working_rate_table_id AS working,"
    " non_working_rate_table_id AS non_working FROM package_period_rates";
/*
 * Each calendar's working intervals from LK_WINDOW_BEFORE days ago to
 * LK_WINDOW_AFTER days ahead: every working day that is no holiday, its
 * [work_start, work_end) in the calendar's own zone turned into UTC by
 * PostgreSQL's tz database (DST included).  A calendar without any working
 * day still has one row (NULL interval).
 */
static const char sql_intervals[] =
    "SELECT w.id AS calendar_id,"
    " (extract(epoch FROM (d.day + w.work_start) AT TIME ZONE w.time_zone)"
    "  * 1000)::bigint AS from_ms,"
    " (extract(epoch FROM (d.day + w.work_end) AT TIME ZONE w.time_zone)"
    "  * 1000)::bigint AS to_ms,"
    " (extract(epoch FROM now() - interval '" LK_WINDOW_BEFORE " days')"
    "  * 1000)::bigint AS win_lo,"
    " (extract(epoch FROM now() + interval '" LK_WINDOW_AFTER " days')"
    "  * 1000)::bigint AS win_hi"
    " FROM work_calendars w LEFT JOIN LATERAL ("
    "  SELECT g::date AS day FROM generate_series("
    "   (now() AT TIME ZONE w.time_zone)::date - " LK_WINDOW_BEFORE " - 1,"
    "   (now() AT TIME ZONE w.time_zone)::date + " LK_WINDOW_AFTER " + 1,"
    "   interval '1 day') g"
    "  WHERE extract(isodow FROM g)::integer = ANY (w.working_days)"
    "   AND NOT EXISTS (SELECT 1 FROM holidays h"
    "    WHERE h.calendar_id = w.id AND h.day = g::date)) d ON true"
    " ORDER BY w.id, from_ms";
static const char sql_gws[] = "SELECT name, account_id FROM routing_gateways";

static int add_account(struct snap *s, const PGresult *res, int row,
		       struct acct **ap)
{
	struct acct *a = mem_zalloc(sizeof(*a), acct_destructor);
	const char *name = col(res, row, "name");

	if (!a)
		return ENOMEM;
	if (!name || !i64(res, row, "id", &a->id) ||
	    !i64(res, row, "balance", &a->balance) ||
	    !i64(res, row, "credit_limit", &a->credit_limit)) {
		mem_deref(a);
		return EBADMSG;
	}
	str_ncpy(a->name, name, sizeof(a->name));
	a->agent_id = i64_or0(res, row, "agent_id");
	a->table_id = i64_or0(res, row, "rate_table_id");
	a->ppr_id = i64_or0(res, row, "ppr_id");
	a->buy_table_id = i64_or0(res, row, "buy_table_id");
	hash_append(s->by_id, id_key(a->id), &a->le_id, a);
	hash_append(s->by_name, hash_joaat_str(a->name), &a->le_name, a);
	if (ap)
		*ap = a;
	return 0;
}

static struct table *add_table(struct snap *s, int64_t id, const char *name)
{
	struct table *t = mem_zalloc(sizeof(*t), table_destructor);

	if (!t || sw_prefix_ix_alloc(&t->ix)) {
		mem_deref(t);
		return NULL;
	}
	t->id = id;
	str_ncpy(t->name, name ? name : "", sizeof(t->name));
	hash_append(s->tables, id_key(id), &t->le, t);
	return t;
}

/* add a row's entry to t; the table is sealed once all are in */
static int add_entry(struct table *t, const PGresult *res, int row)
{
	const char *prefix = col(res, row, "prefix");
	struct bd_rate *r;

	if (!prefix)
		return 0; /* a table without entries (LEFT JOIN) */
	if (t->nrates == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct bd_rate *n = realloc(t->rates, cap * sizeof(*t->rates));

		if (!n)
			return ENOMEM;
		t->rates = n;
		t->cap = cap;
	}
	r = &t->rates[t->nrates];
	memset(r, 0, sizeof(*r));
	str_ncpy(r->prefix, prefix, sizeof(r->prefix));
	if (!i64(res, row, "connect_fee", &r->connect_fee) ||
	    !i64(res, row, "first_interval", &r->first_s) ||
	    !i64(res, row, "first_rate", &r->first_rate) ||
	    !i64(res, row, "next_interval", &r->next_s) ||
	    !i64(res, row, "next_rate", &r->next_rate))
		return EBADMSG;
	if (sw_prefix_ix_add(t->ix, 0, r->prefix, (uint32_t)t->nrates))
		return ENOMEM;
	t->nrates++;
	return 0;
}

static bool seal_h(struct le *le, void *arg)
{
	(void)arg;
	sw_prefix_ix_seal(((struct table *)le->data)->ix);
	return false;
}

/* index every table of s whose entries changed */
static void seal_tables(struct snap *s)
{
	hash_apply(s->tables, seal_h, NULL);
}

static int load_pprs(struct snap *s, const PGresult *res)
{
	hash_flush(s->pprs);
	for (int i = 0; i < PQntuples(res); i++) {
		struct ppr *p = mem_zalloc(sizeof(*p), unlink_destructor);

		if (!p)
			return ENOMEM;
		p->id = i64_or0(res, i, "id");
		p->cal_id = i64_or0(res, i, "calendar_id");
		p->working = i64_or0(res, i, "working");
		p->non_working = i64_or0(res, i, "non_working");
		hash_append(s->pprs, id_key(p->id), &p->le, p);
	}
	return 0;
}

static int load_intervals(struct snap *s, const PGresult *res)
{
	struct cal *c = NULL;

	hash_flush(s->cals);
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t id = i64_or0(res, i, "calendar_id"), from, to;

		if (!i)
			s->win_lo = i64_or0(res, i, "win_lo"),
			s->win_hi = i64_or0(res, i, "win_hi");
		if (!c || c->id != id) {
			c = mem_zalloc(sizeof(*c), cal_destructor);
			if (!c)
				return ENOMEM;
			c->id = id;
			hash_append(s->cals, id_key(id), &c->le, c);
		}
		if (!i64(res, i, "from_ms", &from) ||
		    !i64(res, i, "to_ms", &to) || to <= from)
			continue; /* no working day, or an empty window */
		if (c->niv + 2 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 512;
			int64_t *iv =
			    c->iv ? mem_realloc(c->iv, cap * sizeof(*iv))
				  : mem_alloc(cap * sizeof(*iv), NULL);

			if (!iv)
				return ENOMEM;
			c->iv = iv;
			c->cap = cap;
		}
		c->iv[c->niv++] = from;
		c->iv[c->niv++] = to;
	}
	return 0;
}

static int load_gws(struct snap *s, const PGresult *res)
{
	hash_flush(s->gws);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = col(res, i, "name");
		struct gw *g;

		if (!name)
			continue;
		g = mem_zalloc(sizeof(*g), unlink_destructor);
		if (!g)
			return ENOMEM;
		str_ncpy(g->name, name, sizeof(g->name));
		g->account_id = i64_or0(res, i, "account_id");
		hash_append(s->gws, hash_joaat_str(g->name), &g->le, g);
	}
	return 0;
}

/* ---- answering ---- */

/* working (1), non-working (0) or outside the window (-1) at at_ms */
static int cal_working(const struct snap *s, int64_t cal_id, int64_t at_ms)
{
	const struct cal *c = find(s->cals, id_key(cal_id), cal_cmp, &cal_id);
	size_t lo = 0, hi;

	if (at_ms < s->win_lo || at_ms >= s->win_hi)
		return -1;
	if (!c)
		return 0; /* the calendar is gone: nothing is working time */
	hi = c->niv / 2;
	while (lo < hi) { /* the first interval ending after at_ms */
		size_t mid = (lo + hi) / 2;

		if (c->iv[2 * mid + 1] <= at_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->niv / 2 && c->iv[2 * lo] <= at_ms;
}

/*
 * Fill out for account a: period and table in force at `when` (SPEC §6:
 * the package's calendar in its own zone with SERVER_PERIOD_RATE_ENABLED,
 * working all the time with SERVER_WORK_CALENDAR_ENABLED off; else the
 * account's own table, or the package's working table when it has none),
 * and the longest entry for number.
 */
static int fill(const struct snap *s, struct bd_account *out,
		const struct acct *a, const char *number,
		const struct bd_lookup_when *when, bool buy)
{
	const struct ppr *p =
	    a->ppr_id ? find(s->pprs, id_key(a->ppr_id), ppr_cmp, &a->ppr_id)
		      : NULL;
	const struct table *t;
	const struct bd_rate *r;
	int64_t tid;
	__int128 bal = (__int128)a->balance - (a->debited);

	out->found = true;
	out->id = a->id;
	str_ncpy(out->name, a->name, sizeof(out->name));
	out->balance = bal < INT64_MIN ? INT64_MIN : (int64_t)bal;
	out->credit_limit = a->credit_limit;
	out->nrates = 0;
	out->table[0] = '\0';

	if (buy) {
		str_ncpy(out->period, "default", sizeof(out->period));
		tid = a->buy_table_id;
	} else if (when->period_rates && p) {
		int w = when->calendars ? cal_working(s, p->cal_id, when->at_ms)
					: 1;

		if (w < 0)
			return ERANGE;
		str_ncpy(out->period, w ? "working" : "non_working",
			 sizeof(out->period));
		tid = w ? p->working : p->non_working;
	} else {
		str_ncpy(out->period, "default", sizeof(out->period));
		tid = a->table_id ? a->table_id : p ? p->working : 0;
	}

	t = tid ? table_by_id(s, tid) : NULL;
	if (!t)
		return 0;
	str_ncpy(out->table, t->name, sizeof(out->table));
	r = table_match(t, number);
	if (r) {
		out->rates[0] = *r;
		out->nrates = 1;
	}
	return 0;
}

static int answer(const struct snap *s, const struct req *q,
		  struct bd_lookup *lk)
{
	const struct acct *a = acct_by_name(s, q->account);
	int err = 0;

	memset(lk, 0, sizeof(*lk));
	if (a) {
		const struct acct *ag = a;

		err = fill(s, &lk->customer, a, q->callee, &q->when, false);
		/* the agent chain, as deep as BD_AGENT_MAX whatever the data */
		while (!err && lk->nagents < BD_AGENT_MAX && ag->agent_id &&
		       (ag = acct_by_id(s, ag->agent_id)))
			err = fill(s, &lk->agents[lk->nagents++], ag, q->callee,
				   &q->when, false);
	}
	if (!err && *q->gw) {
		const struct gw *g =
		    find(s->gws, hash_joaat_str(q->gw), gw_cmp, q->gw);
		const struct acct *v =
		    g && g->account_id ? acct_by_id(s, g->account_id) : NULL;

		if (v)
			err =
			    fill(s, &lk->vendor, v, q->callee, &q->when, true);
	}
	return err;
}

static void deliver(void *arg)
{
	struct bd_lookup_cache *c = arg;
	struct bd_lookup *lk = c->lk;
	int64_t now = sw_time_mono_ms();
	struct le *le;

	while ((le = list_head(&c->waiting))) {
		struct req *q = le->data;
		int err = ETIMEDOUT; /* the load does not come */

		if (!c->cur || c->busy) {
			if (now - q->queued_ms < LK_WAIT_MAX_MS)
				break;
		} else {
			err = answer(c->cur, q, lk);
			if (err == ERANGE)
				sw_warn("lookup for %s at %lld: outside the "
					"calendars' window (%s days back, %s "
					"ahead)",
					q->account, (long long)q->when.at_ms,
					LK_WINDOW_BEFORE, LK_WINDOW_AFTER);
		}
		list_unlink(&q->le);
		q->h(err, err ? NULL : lk, q->arg);
		mem_deref(q);
	}
	if (list_head(&c->waiting) && !tmr_isrunning(&c->deliver))
		tmr_start(&c->deliver, 50, deliver, c);
}

static void kick_deliver(struct bd_lookup_cache *c)
{
	if (c->cur && !c->busy && list_head(&c->waiting))
		tmr_start(&c->deliver, 0, deliver, c);
}

/* ---- loading ---- */

static void full_load(struct bd_lookup_cache *c);
static void retry_h(void *arg);
static void full_step(struct bd_lookup_cache *c, const char *sql,
		      bd_db_res_h *h);

static void full_failed(struct bd_lookup_cache *c, int err, const PGresult *res,
			const char *what)
{
	sw_warn("loading %s: %s", what,
		err == EBADMSG ? bd_db_errmsg(res) : strerror(err));
	c->next = mem_deref(c->next);
	c->full_running = false;
	tmr_start(&c->retry, LK_RETRY_MS, retry_h, c);
	tmr_start(&c->deliver, 0, deliver, c); /* time out waiters */
}

static void gws_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;
	struct snap *s = c->next;
	unsigned long n = 0;

	if (err || (err = load_gws(s, res))) {
		full_failed(c, err, res, "routing gateways");
		return;
	}
	/* the debits counted since each account's read carry over */
	if (c->cur) {
		struct le *le;

		for (uint32_t b = 0; b < hash_bsize(s->by_id); b++) {
			LIST_FOREACH(hash_list(s->by_id, b), le)
			{
				struct acct *a = le->data;
				struct acct *o = acct_by_id(c->cur, a->id);

				if (o)
					a->debited = o->debited - o->snap;
				n++;
			}
		}
	}
	mem_deref(c->cur);
	c->cur = c->next;
	c->next = NULL;
	c->full_running = false;
	c->loads++;
	sw_info("configuration loaded (load %llu)",
		(unsigned long long)c->loads);
	if (c->full_again) {
		c->full_again = false;
		full_load(c);
	}
	kick_deliver(c);
}

static void intervals_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;

	if (err || (err = load_intervals(c->next, res))) {
		full_failed(c, err, res, "calendars");
		return;
	}
	full_step(c, sql_gws, gws_h);
}

static void pprs_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;

	if (err || (err = load_pprs(c->next, res))) {
		full_failed(c, err, res, "package period rates");
		return;
	}
	full_step(c, sql_intervals, intervals_h);
}

static void entries_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;
	struct table *t = NULL;

	for (int i = 0; !err && i < PQntuples(res); i++) {
		int64_t id = i64_or0(res, i, "rate_table_id");

		if (!t || t->id != id)
			t = table_by_id(c->next, id);
		if (t)
			err = add_entry(t, res, i);
	}
	if (err) {
		full_failed(c, err, res, "rate entries");
		return;
	}
	seal_tables(c->next);
	full_step(c, sql_pprs, pprs_h);
}

static void tables_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;

	for (int i = 0; !err && i < PQntuples(res); i++)
		if (!add_table(c->next, i64_or0(res, i, "id"),
			       col(res, i, "name")))
			err = ENOMEM;
	if (err) {
		full_failed(c, err, res, "rate tables");
		return;
	}
	full_step(c, sql_entries, entries_h);
}

static void accounts_h(int err, const PGresult *res, void *arg)
{
	struct bd_lookup_cache *c = arg;

	for (int i = 0; !err && i < PQntuples(res); i++)
		err = add_account(c->next, res, i, NULL);
	if (err) {
		full_failed(c, err, res, "accounts");
		return;
	}
	full_step(c, sql_tables, tables_h);
}

static void full_step(struct bd_lookup_cache *c, const char *sql,
		      bd_db_res_h *h)
{
	int err = bd_db_query(c->db, sql, 0, NULL, h, c);

	if (err)
		full_failed(c, err, NULL, "the configuration");
}

/* every account's debits so far are in the read about to be sent */
static void snap_all(struct snap *s)
{
	struct le *le;

	for (uint32_t b = 0; s && b < hash_bsize(s->by_id); b++)
		LIST_FOREACH(hash_list(s->by_id, b), le)
		{
			struct acct *a = le->data;

			a->snap = a->debited;
		}
}

static void retry_h(void *arg)
{
	full_load(arg);
}

static void full_load(struct bd_lookup_cache *c)
{
	if (c->full_running) {
		c->full_again = true;
		return;
	}
	tmr_cancel(&c->retry);
	c->next = snap_alloc();
	if (!c->next) {
		tmr_start(&c->retry, LK_RETRY_MS, retry_h, c);
		return;
	}
	c->full_running = true;
	snap_all(c->cur);
	full_step(c, sql_accounts, accounts_h);
}

/* a re-read in flight; lookups wait for it when busy */
struct ids_ctx {
	struct le le; /* in c->rereads until its handler runs */
	struct bd_lookup_cache *c;
	bool busy;  /* counted in c->busy */
	int64_t id; /* the one account or table notified (0: none) */
	size_t n;   /* accounts re-read, with their debits at send time */
	int64_t ids[LK_IDS_MAX], snaps[LK_IDS_MAX];
};

/* what account id had debited when its re-read was sent */
static int64_t snap_of(const struct ids_ctx *x, int64_t id)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->ids[i] == id)
			return x->snaps[i];
	return 0;
}

static void reread_done(struct ids_ctx *x, int err, const PGresult *res,
			const char *what)
{
	struct bd_lookup_cache *c = x->c;

	if (x->busy)
		c->busy--;
	mem_deref(x);
	if (err) {
		sw_warn("re-reading %s: %s", what,
			err == EBADMSG ? bd_db_errmsg(res) : strerror(err));
		full_load(c); /* whatever changed is read again */
	}
	kick_deliver(c);
}

static void ids_h(int err, const PGresult *res, void *arg)
{
	struct ids_ctx *x = arg;
	struct snap *s = x->c->cur;

	if (!err && s && x->id && PQntuples(res) == 0)
		mem_deref(acct_by_id(s, x->id)); /* deleted */
	for (int i = 0; !err && s && i < PQntuples(res); i++) {
		int64_t id = i64_or0(res, i, "id"), debited = 0;
		struct acct *o = acct_by_id(s, id), *a;

		if (o) {
			debited = o->debited - snap_of(x, id);
			mem_deref(o);
		}
		err = add_account(s, res, i, &a);
		if (!err)
			a->debited = debited;
	}
	reread_done(x, err, res, "accounts");
}

static void table_h(int err, const PGresult *res, void *arg)
{
	struct ids_ctx *x = arg;
	struct snap *s = x->c->cur;
	struct table *t;

	if (!err && s) {
		mem_deref(table_by_id(s, x->id));
		t = PQntuples(res) > 0
			? add_table(s, x->id, col(res, 0, "name"))
			: NULL; /* the table is gone */
		for (int i = 0; !err && t && i < PQntuples(res); i++)
			err = add_entry(t, res, i);
		if (t)
			sw_prefix_ix_seal(t->ix);
	}
	reread_done(x, err, res, "a rate table");
}

static void gws_only_h(int err, const PGresult *res, void *arg)
{
	struct ids_ctx *x = arg;

	if (!err && x->c->cur)
		err = load_gws(x->c->cur, res);
	reread_done(x, err, res, "routing gateways");
}

static void intervals_only_h(int err, const PGresult *res, void *arg)
{
	struct ids_ctx *x = arg;

	if (!err && x->c->cur)
		err = load_intervals(x->c->cur, res);
	reread_done(x, err, res, "calendars");
}

static void cal_pprs_h(int err, const PGresult *res, void *arg)
{
	struct ids_ctx *x = arg;

	if (!err && x->c->cur)
		err = load_pprs(x->c->cur, res);
	if (!err)
		err = bd_db_query(x->c->db, sql_intervals, 0, NULL,
				  intervals_only_h, x);
	if (err)
		reread_done(x, err, res, "package period rates");
}

/*
 * Send one re-read (x: allocated by the caller, taken); lookups wait for
 * it when busy.
 */
static void reread(struct bd_lookup_cache *c, struct ids_ctx *x,
		   const char *sql, const char *param, int64_t id,
		   bd_db_res_h *h, bool busy)
{
	const char *p[1] = {param};

	if (!x || bd_db_query(c->db, sql, param ? 1 : 0, p, h, x)) {
		mem_deref(x);
		full_load(c);
		return;
	}
	x->c = c;
	x->id = id;
	x->busy = busy;
	if (busy)
		c->busy++;
	list_append(&c->rereads, &x->le, x);
}

static void ctx_destructor(void *arg)
{
	struct ids_ctx *x = arg;

	list_unlink(&x->le);
}

static struct ids_ctx *ctx_new(void)
{
	return mem_zalloc(sizeof(struct ids_ctx), ctx_destructor);
}

static void notify_h(const char *payload, void *arg)
{
	struct bd_lookup_cache *c = arg;
	char param[48];
	int64_t id;

	if (!payload || !c->cur) { /* (re)listening: anything may have */
		full_load(c);	   /* changed */
		return;
	}
	sw_debug("changed: %s", payload);
	if (!strncmp(payload, "accounts:", 9)) {
		struct ids_ctx *x = ctx_new();
		struct acct *a;

		id = strtoll(payload + 9, NULL, 10);
		a = acct_by_id(c->cur, id);
		if (x && a) {
			x->ids[0] = id;
			x->snaps[0] = a->debited;
			x->n = 1;
		}
		snprintf(param, sizeof(param), "{%lld}", (long long)id);
		reread(c, x, sql_accounts_ids, param, id, ids_h, true);
	} else if (!strncmp(payload, "rate_table:", 11)) {
		id = strtoll(payload + 11, NULL, 10);
		snprintf(param, sizeof(param), "%lld", (long long)id);
		reread(c, ctx_new(), sql_table_one, param, id, table_h, true);
	} else if (!strcmp(payload, "calendars")) {
		reread(c, ctx_new(), sql_pprs, NULL, 0, cal_pprs_h, true);
	} else if (!strcmp(payload, "routing_gateways")) {
		reread(c, ctx_new(), sql_gws, NULL, 0, gws_only_h, true);
	} else if (!strcmp(payload, "routing") ||
		   !strcmp(payload, "blacklist")) {
		/* signalingd's tables only */
	} else {
		full_load(c);
	}
}

/* re-read the accounts billingd debited, so their debits settle */
static void settle(void *arg)
{
	struct bd_lookup_cache *c = arg;
	char ids[LK_IDS_MAX * 21 + 3];
	struct ids_ctx *x;
	size_t o = 0;
	struct le *le;

	tmr_start(&c->settle, LK_SETTLE_MS, settle, c);
	if (!c->cur || c->full_running || !(x = ctx_new()))
		return;
	ids[o++] = '{';
	for (uint32_t b = 0; b < hash_bsize(c->cur->by_id); b++)
		LIST_FOREACH(hash_list(c->cur->by_id, b), le)
		{
			struct acct *a = le->data;

			if (!a->debited || x->n >= LK_IDS_MAX)
				continue;
			x->ids[x->n] = a->id;
			x->snaps[x->n] = a->debited;
			o += (size_t)snprintf(ids + o, sizeof(ids) - o,
					      "%s%lld", x->n++ ? "," : "",
					      (long long)a->id);
		}
	ids[o++] = '}';
	ids[o] = '\0';
	if (x->n)
		reread(c, x, sql_accounts_ids, ids, 0, ids_h, false);
	else
		mem_deref(x);
}

static void calendar_tick(void *arg)
{
	struct bd_lookup_cache *c = arg;

	tmr_start(&c->calendar, LK_CALENDAR_MS, calendar_tick, c);
	if (c->cur) /* the window moves on; lookups need not wait */
		reread(c, ctx_new(), sql_intervals, NULL, 0, intervals_only_h,
		       false);
}

static void cache_destructor(void *arg)
{
	struct bd_lookup_cache *c = arg;

	tmr_cancel(&c->deliver);
	tmr_cancel(&c->settle);
	tmr_cancel(&c->calendar);
	tmr_cancel(&c->retry);
	list_flush(&c->waiting);
	list_flush(&c->rereads); /* the database dropped their queries */
	mem_deref(c->lk);
	mem_deref(c->cur);
	mem_deref(c->next);
}

/*
 * Start the cache on db: LISTEN for changes, load everything when the
 * database is there.  Call before the loop runs (bd_db_listen).
 */
int bd_lookup_alloc(struct bd_lookup_cache **cp, struct bd_db *db)
{
	struct bd_lookup_cache *c;
	int err;

	if (!cp || !db)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), cache_destructor);
	if (!c)
		return ENOMEM;
	c->db = db;
	c->lk = mem_zalloc(sizeof(*c->lk), NULL);
	if (!c->lk) {
		mem_deref(c);
		return ENOMEM;
	}
	list_init(&c->waiting);
	list_init(&c->rereads);
	tmr_init(&c->deliver);
	tmr_init(&c->settle);
	tmr_init(&c->calendar);
	tmr_init(&c->retry);
	err = bd_db_listen(db, LK_CHANNEL, notify_h, c);
	if (err) {
		mem_deref(c);
		return err;
	}
	(void)bd_db_prepare(db, sql_accounts_ids);
	(void)bd_db_prepare(db, sql_table_one);
	tmr_start(&c->settle, LK_SETTLE_MS, settle, c);
	tmr_start(&c->calendar, LK_CALENDAR_MS, calendar_tick, c);
	*cp = c;
	return 0;
}

/* billingd debited fee from the account (a CDR stored) */
void bd_lookup_debit(struct bd_lookup_cache *c, int64_t account_id, int64_t fee)
{
	struct acct *a = c && c->cur ? acct_by_id(c->cur, account_id) : NULL;

	if (a)
		a->debited += fee;
}

/*
 * Look up account (customer side) with its agents and, when
 * routing_gateway is non-empty, the gateway's vendor account, each with the
 * longest rate entry for callee in the table in force at when.  h runs
 * once, from the loop, never inside this call: at once when the
 * configuration is loaded, else when it is (ETIMEDOUT after
 * LK_WAIT_MAX_MS).  ENOTCONN when nothing is loaded and the database is
 * down.
 */
int bd_lookup(struct bd_lookup_cache *c, const char *account,
	      const char *callee, const char *routing_gateway,
	      const struct bd_lookup_when *when, bd_lookup_h *h, void *arg)
{
	struct req *q;

	if (!c || !account || !callee || !when || !h)
		return EINVAL;
	if (!c->cur && !bd_db_up(c->db) && !c->full_running)
		return ENOTCONN;
	q = mem_zalloc(sizeof(*q), NULL);
	if (!q)
		return ENOMEM;
	q->h = h;
	q->arg = arg;
	q->when = *when;
	q->queued_ms = sw_time_mono_ms();
	str_ncpy(q->account, account, sizeof(q->account));
	str_ncpy(q->callee, callee, sizeof(q->callee));
	str_ncpy(q->gw, routing_gateway ? routing_gateway : "", sizeof(q->gw));
	list_append(&c->waiting, &q->le, q);
	if (c->cur && !c->busy && !tmr_isrunning(&c->deliver))
		tmr_start(&c->deliver, 0, deliver, c);
	else if (!tmr_isrunning(&c->deliver))
		tmr_start(&c->deliver, 50, deliver, c);
	return 0;
}

/*
 * Write the PostgreSQL text[] literal of every prefix of number, the empty
 * one included: {"","1","12",...}.  Elements are quoted and escaped, so any
 * byte of a number is safe.  ENOSPC when buf is too small.
 */
int bd_lookup_prefixes(char *buf, size_t size, const char *number)
{
	size_t len, o = 0;

	if (!buf || !size || !number)
		return EINVAL;

	len = strlen(number);
	for (size_t n = 0; n <= len; n++) {
		if (o + 2 > size)
			return ENOSPC;
		buf[o++] = n ? ',' : '{';
		buf[o++] = '"';
		for (size_t i = 0; i < n; i++) {
			if (number[i] == '"' || number[i] == '\\') {
				if (o + 1 > size)
					return ENOSPC;
				buf[o++] = '\\';
			}
			if (o + 1 > size)
				return ENOSPC;
			buf[o++] = number[i];
		}
		if (o + 1 > size)
			return ENOSPC;
		buf[o++] = '"';
	}
	if (o + 2 > size)
		return ENOSPC;
	buf[o++] = '}';
	buf[o] = '\0';

	return 0;
}

/**
 * The rate entry the lookup chose for a's number (the longest matching
 * prefix of the table in force), or NULL: "No Rate".
 */
const struct bd_rate *bd_account_rate(const struct bd_account *a)
{
	return a && a->found && a->nrates ? &a->rates[0] : NULL;
}
