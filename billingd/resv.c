/*
 * resv.c - credit reservations in memory (see resv.h)
 */
#define SW_LOG_MODULE "resv"

/*
 * Buckets of the reservation tables.  A busy switch holds a reservation per
 * live call plus one per ended call whose CDR is on its way (up to
 * BD_RESV_ENDED_TTL_MS): 1 000 calls/s keep a few hundred thousand, and a
 * lookup walks one bucket's list, so the call table is sized for that:
 * 262 144 buckets (6 MiB of list heads) keep the lists about one long.
 * With 65 536, the lookup of each CDR's reservation was 4-6 % of
 * billingd's CPU in bench/billing.
 */
#define RESV_CALL_BUCKETS 262144
#define RESV_ACCT_BUCKETS 4096

#include <string.h>

#include "billingd/libre.h"

#include "billingd/auth.h"
#include "billingd/lookup.h"
#include "billingd/resv.h"
#include "common/log.h"

struct acct {
	struct le le;
	char name[BD_NAME_MAX + 1];
	int64_t held; /* sum of its calls' amounts */
};

struct resv {
	struct le le;
	char call[40];
	size_t n;			   /* levels held */
	struct acct *acct[BD_RESV_LEVELS]; /* borrowed from the table */
	int64_t amount[BD_RESV_LEVELS];
	int64_t granted_s;
	int64_t until_ms; /* expiry (monotonic) */
	bool ended;
};

struct bd_resv_table {
	struct hash *calls;
	struct hash *accts;
	size_t n;
	int64_t held; /* sum of every account's held */
};

static void table_destructor(void *arg)
{
	struct bd_resv_table *t = arg;

	hash_flush(t->calls);
	hash_flush(t->accts);
	mem_deref(t->calls);
	mem_deref(t->accts);
}

int bd_resv_alloc(struct bd_resv_table **tp)
{
	struct bd_resv_table *t = mem_zalloc(sizeof(*t), table_destructor);
	int err;

	if (!t)
		return ENOMEM;
	err = hash_alloc(&t->calls, RESV_CALL_BUCKETS);
	if (!err)
		err = hash_alloc(&t->accts, RESV_ACCT_BUCKETS);
	if (err) {
		mem_deref(t);
		return err;
	}
	*tp = t;
	return 0;
}

void bd_resv_free(struct bd_resv_table *t)
{
	mem_deref(t);
}

static bool acct_cmp(struct le *le, void *arg)
{
	return !strcmp(((struct acct *)le->data)->name, arg);
}

static bool resv_cmp(struct le *le, void *arg)
{
	return !strcmp(((struct resv *)le->data)->call, arg);
}

static struct acct *acct_get(const struct bd_resv_table *t, const char *name,
			     bool create)
{
	char key[BD_NAME_MAX + 1];
	struct le *le;
	struct acct *a;

	str_ncpy(key, name, sizeof(key));
	le = hash_lookup(t->accts, hash_joaat_str(key), acct_cmp, key);

	if (le)
		return le->data;
	if (!create || !(a = mem_zalloc(sizeof(*a), NULL)))
		return NULL;
	str_ncpy(a->name, name, sizeof(a->name));
	hash_append(t->accts, hash_joaat_str(name), &a->le, a);
	return a;
}

static struct resv *resv_get(const struct bd_resv_table *t, const char *call)
{
	char key[40];
	struct le *le;

	str_ncpy(key, call, sizeof(key));
	le = hash_lookup(t->calls, hash_joaat_str(key), resv_cmp, key);
	return le ? le->data : NULL;
}

int64_t bd_resv_held(const struct bd_resv_table *t, const char *account)
{
	struct acct *a = acct_get(t, account, false);

	return a ? a->held : 0;
}

size_t bd_resv_count(const struct bd_resv_table *t)
{
	return t ? t->n : 0;
}

/* What every reservation holds, summed over all the accounts that hold. */
int64_t bd_resv_held_total(const struct bd_resv_table *t)
{
	return t ? t->held : 0;
}

bool bd_resv_has(const struct bd_resv_table *t, const char *call)
{
	return resv_get(t, call) != NULL;
}

int64_t bd_resv_amount(const struct bd_resv_table *t, const char *call)
{
	struct resv *r = resv_get(t, call);

	return r && r->n ? r->amount[0] : -1;
}

int64_t bd_resv_amount_of(const struct bd_resv_table *t, const char *call,
			  const char *account)
{
	struct resv *r = resv_get(t, call);

	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->acct[i]->name, account))
			return r->amount[i];
	return -1;
}

static int64_t fee_of(const struct bd_rate *r, const struct bd_rate_params *p,
		      int64_t s)
{
	struct bd_rate_result res;

	if (s <= 0 || bd_rate_calc(&res, r, p, s * 1000))
		return 0;
	return res.fee;
}

/* hold what granted_s costs at every level; created when missing */
static struct resv *hold(struct bd_resv_table *t, const char *call,
			 const struct bd_resv_level *lv, size_t n,
			 const struct bd_rate_params *p, int64_t granted_s,
			 int64_t now_ms)
{
	struct resv *rv = resv_get(t, call);

	if (!rv) {
		if (!(rv = mem_zalloc(sizeof(*rv), NULL)))
			return NULL;
		str_ncpy(rv->call, call, sizeof(rv->call));
		for (size_t i = 0; i < n && i < BD_RESV_LEVELS; i++) {
			rv->acct[i] = acct_get(t, lv[i].account, true);
			if (!rv->acct[i]) {
				mem_deref(rv);
				return NULL;
			}
			rv->n = i + 1;
		}
		hash_append(t->calls, hash_joaat_str(rv->call), &rv->le, rv);
		t->n++;
	}
	for (size_t i = 0; i < rv->n && i < n; i++) {
		int64_t amount = fee_of(lv[i].rate, p, granted_s);

		if (amount < rv->amount[i])
			amount = rv->amount[i]; /* never given back */
		rv->acct[i]->held += amount - rv->amount[i];
		t->held += amount - rv->amount[i];
		rv->amount[i] = amount;
	}
	rv->granted_s = granted_s;
	rv->ended = false;
	rv->until_ms = now_ms + granted_s * 1000 + BD_RESV_LIVE_GRACE_MS;
	return rv;
}

/*
 * The seconds every level can pay for, from_s + advance_s at most: the
 * next slice, or (extendable false) all the poorest level buys.  mine[i]
 * is what the call already holds on level i (counted as its own money).
 */
static void slice(struct bd_resv_table *t, struct bd_resv_grant *g,
		  const struct bd_resv_level *lv, size_t n, const int64_t *mine,
		  const struct bd_rate_params *p, int64_t from_s,
		  int64_t advance_s)
{
	int64_t total = BD_AUTH_MAX_DURATION_S;

	for (size_t i = 0; i < n; i++) {
		int64_t m = lv[i].money - bd_resv_held(t, lv[i].account) +
			    (mine ? mine[i] : 0);
		int64_t s = bd_rate_max_duration(lv[i].rate, p, m < 0 ? 0 : m,
						 BD_AUTH_MAX_DURATION_S);

		if (s < total)
			total = s;
	}
	if (total > from_s + advance_s) {
		g->granted_s = from_s + advance_s;
		g->extendable = true;
	} else {
		g->granted_s = total;
		g->extendable = false;
	}
}

void bd_resv_open(struct bd_resv_table *t, struct bd_resv_grant *g,
		  const char *call, const struct bd_resv_level *lv, size_t n,
		  const struct bd_rate_params *p, int64_t advance_s,
		  int64_t now_ms)
{
	struct resv *rv;

	memset(g, 0, sizeof(*g));
	g->reason = "";
	if (n > BD_RESV_LEVELS)
		n = BD_RESV_LEVELS;
	slice(t, g, lv, n, NULL, p, 0, advance_s);
	if (g->granted_s <= 0) {
		g->granted_s = 0;
		g->sip_code = 403;
		g->reason = "InsufficientBalance";
		return;
	}
	rv = hold(t, call, lv, n, p, g->granted_s, now_ms);
	if (!rv) {
		g->sip_code = 503;
		g->reason = "OutOfMemory";
		return;
	}
	g->amount = rv->amount[0];
	g->allow = true;
}

void bd_resv_extend(struct bd_resv_table *t, struct bd_resv_grant *g,
		    const char *call, const struct bd_resv_level *lv, size_t n,
		    const struct bd_rate_params *p, int64_t granted_s,
		    int64_t advance_s, bool resume, int64_t now_ms)
{
	struct resv *rv = resv_get(t, call);

	memset(g, 0, sizeof(*g));
	g->reason = "";
	if (n > BD_RESV_LEVELS)
		n = BD_RESV_LEVELS;
	if (!rv || resume)
		rv = hold(t, call, lv, n, p, granted_s, now_ms);
	if (!rv) {
		g->sip_code = 503;
		g->reason = "OutOfMemory";
		return;
	}
	if (resume) {
		g->granted_s = rv->granted_s;
		g->extendable = true;
	} else {
		slice(t, g, lv, n < rv->n ? n : rv->n, rv->amount, p,
		      rv->granted_s, advance_s);
		if (g->granted_s < rv->granted_s)
			g->granted_s = rv->granted_s;
		hold(t, call, lv, n, p, g->granted_s, now_ms);
	}
	g->amount = rv->amount[0];
	g->allow = true;
}

void bd_resv_end(struct bd_resv_table *t, const char *call, int64_t now_ms)
{
	struct resv *rv = resv_get(t, call);

	if (rv && !rv->ended) {
		rv->ended = true;
		rv->until_ms = now_ms + BD_RESV_ENDED_TTL_MS;
	}
}

static void drop(struct bd_resv_table *t, struct resv *rv)
{
	for (size_t i = 0; i < rv->n; i++) {
		rv->acct[i]->held -= rv->amount[i];
		t->held -= rv->amount[i];
	}
	hash_unlink(&rv->le);
	t->n--;
	mem_deref(rv);
}

int64_t bd_resv_commit(struct bd_resv_table *t, const char *call)
{
	struct resv *rv = resv_get(t, call);
	int64_t amount = -1;

	if (rv) {
		amount = rv->n ? rv->amount[0] : 0;
		drop(t, rv);
	}
	return amount;
}

struct expire_arg {
	struct bd_resv_table *t;
	int64_t now;
	size_t n;
};

static bool expire_one(struct le *le, void *arg)
{
	struct expire_arg *x = arg;
	struct resv *rv = le->data;

	if (rv->until_ms <= x->now) {
		sw_cwarn(rv->call, "reservation of %s expired (%s, %lld held)",
			 rv->n ? rv->acct[0]->name : "?",
			 rv->ended ? "no CDR" : "not extended",
			 rv->n ? (long long)rv->amount[0] : 0LL);
		drop(x->t, rv);
		x->n++;
	}
	return false;
}

size_t bd_resv_expire(struct bd_resv_table *t, int64_t now_ms)
{
	struct expire_arg x = {t, now_ms, 0};

	hash_apply(t->calls, expire_one, &x);
	return x.n;
}
