/*
 * auth.c - auth.request / auth.release on the billingd bus
 */
#define SW_LOG_MODULE "auth"

#include <errno.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/auth.h"
#include "billingd/card.h"
#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/lookup.h"
#include "billingd/metrics.h"
#include "billingd/params.h"
#include "billingd/rate.h"
#include "billingd/resv.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/swtime.h"
#include "common/uuid.h"
#include "proto/proto.h"

struct auth_ctx {
	struct bd *bd;		/* borrowed */
	struct sw_bus_req *req; /* answered exactly once */
	char call[SW_UUID_LEN + 1];
	char account[BD_NAME_MAX + 1];
	char callee[BD_NUMBER_MAX + 1];
	char card[BD_CARD_DIGITS_MAX + 1]; /* number + PIN; then the number */
	bool counted;			   /* in bd->pending */
	bool extend;			   /* auth.extend, else auth.request */
	bool resume;		      /* auth.extend after a billingd restart */
	int64_t granted_s;	      /* auth.extend: what the call has */
	int64_t recv_us;	      /* monotonic: the request arrived */
	enum bd_auth_outcome outcome; /* counted when the context goes */
};

/*
 * Decide an authorization from the looked-up account (NULL or !found =
 * unknown).  Pure: no I/O.  available = balance + credit_limit (no
 * reservations yet), computed without overflow.
 */
void bd_auth_decide(struct bd_auth_result *out, const struct bd_account *acc,
		    const struct bd_rate_params *p)
{
	const struct bd_rate *r;
	__int128 avail;
	int64_t available;

	memset(out, 0, sizeof(*out));
	out->reason = "";

	if (!acc || !acc->found) {
		out->sip_code = 404;
		out->reason = "AccountNotFound";
		return;
	}

	avail = (__int128)acc->balance + acc->credit_limit;
	if (avail <= 0) {
		out->sip_code = 403;
		out->reason = "InsufficientBalance";
		return;
	}
	available = avail > INT64_MAX ? INT64_MAX : (int64_t)avail;

	r = bd_account_rate(acc);
	if (!r) {
		out->sip_code = 403;
		out->reason = "NoRate";
		return;
	}
	out->prefix = r->prefix;

	out->max_duration_s =
	    bd_rate_max_duration(r, p, available, BD_AUTH_MAX_DURATION_S);
	if (out->max_duration_s <= 0) {
		out->max_duration_s = 0;
		out->sip_code = 403;
		out->reason = "InsufficientBalance";
		return;
	}

	out->allow = true;
}

static void ctx_destructor(void *arg)
{
	struct auth_ctx *ctx = arg;

	/* every path answers before it drops the context */
	bd_metrics_auth(ctx->bd->metrics, ctx->extend, ctx->outcome,
			sw_time_mono_us() - ctx->recv_us);
	if (ctx->counted)
		bd_pending_dec(ctx->bd);
}

/* balance + credit_limit (the lookup's balance counts billingd's debits) */
static int64_t money_of(const struct bd_account *a)
{
	__int128 m = (__int128)a->balance + a->credit_limit;

	return m > INT64_MAX ? INT64_MAX : m < 0 ? 0 : (int64_t)m;
}

/* the customer, then each agent that has a rate for the number */
static size_t levels_of(const struct bd_lookup *lk, const struct bd_rate *r,
			struct bd_resv_level *lv)
{
	size_t n = 0;

	lv[n].account = lk->customer.name;
	lv[n].rate = r;
	lv[n++].money = money_of(&lk->customer);
	for (size_t i = 0; i < lk->nagents && n < BD_RESV_LEVELS; i++) {
		const struct bd_account *ag = &lk->agents[i];
		const struct bd_rate *ar = bd_account_rate(ag);

		if (!ar)
			continue; /* not charged for it (docs/billingd.md) */
		lv[n].account = ag->name;
		lv[n].rate = ar;
		lv[n++].money = money_of(ag);
	}
	return n;
}

static void reply_grant(struct auth_ctx *ctx, const struct bd_resv_grant *g)
{
	json_t *body;

	body = json_pack("{s:b, s:I, s:b, s:I, s:s}", "allow", g->allow,
			 "max_duration_s", (json_int_t)g->granted_s,
			 "extendable", g->extendable, "reserved",
			 (json_int_t)g->amount, "reason", g->reason);
	if (body && !g->allow)
		json_object_set_new(body, "sip_code",
				    json_integer(g->sip_code));
	if (body && g->allow) /* the account that pays (a card's own) */
		json_object_set_new(body, "account", json_string(ctx->account));
	if (body && *ctx->card && g->allow)
		json_object_set_new(body, "card", json_string(ctx->card));
	if (!body) {
		sw_bus_reply_error(ctx->req, SW_ERR_INTERNAL, "out of memory");
	} else {
		ctx->outcome = g->allow ? BD_AUTH_ALLOWED : BD_AUTH_REFUSED;
		sw_bus_reply(ctx->req, body);
	}
}

static void lookup_h(int err, const struct bd_lookup *lk, void *arg)
{
	struct auth_ctx *ctx = arg;
	const struct bd_param_values *pv = bd_params_get(ctx->bd->params);
	struct bd_auth_result res;
	struct bd_resv_grant g;
	struct bd_resv_level lv[BD_RESV_LEVELS];
	const struct bd_rate *r;
	int64_t now = sw_time_mono_ms();
	size_t n;

	if (err) {
		sw_cwarn(ctx->call, "auth for %s: database %s", ctx->account,
			 strerror(err));
		sw_bus_reply_error(ctx->req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		goto out;
	}

	memset(&g, 0, sizeof(g));
	r = bd_account_rate(&lk->customer);
	if (ctx->extend && lk->customer.found && r) {
		/* a live call: its reservation grows (or is re-created) */
		n = levels_of(lk, r, lv);
		bd_resv_extend(ctx->bd->resv, &g, ctx->call, lv, n, &pv->rate,
			       ctx->granted_s, pv->advance_s, ctx->resume, now);
		sw_cdebug(ctx->call, "auth.extend %s: %lld s%s, %lld held",
			  ctx->account, (long long)g.granted_s,
			  g.extendable ? "" : " (final)", (long long)g.amount);
		reply_grant(ctx, &g);
		goto out;
	}
	bd_auth_decide(&res, &lk->customer, &pv->rate);
	if (res.allow && ctx->extend) {
		res.allow = false; /* no account or rate any more */
		res.sip_code = 403;
		res.reason = "NoRate";
	}
	if (res.allow) {
		n = levels_of(lk, r, lv);
		bd_resv_open(ctx->bd->resv, &g, ctx->call, lv, n, &pv->rate,
			     pv->advance_s, now);
	} else if (*ctx->card && !strcmp(res.reason, "InsufficientBalance")) {
		g.sip_code = 402; /* the card is used up */
		g.reason = "CardEmpty";
	} else {
		g.sip_code = res.sip_code;
		g.reason = res.reason;
	}
	if (g.allow)
		sw_cdebug(ctx->call,
			  "auth %s -> %s: %lld s%s, %lld held "
			  "(prefix %s)",
			  ctx->account, ctx->callee, (long long)g.granted_s,
			  g.extendable ? "" : " (final)", (long long)g.amount,
			  r->prefix);
	else
		sw_cinfo(ctx->call, "auth %s -> %s: refused %d %s",
			 ctx->account, ctx->callee, g.sip_code, g.reason);
	reply_grant(ctx, &g);

out:
	mem_deref(ctx);
}

/* the account's rates and balances, then lookup_h */
static int lookup(struct auth_ctx *ctx)
{
	const struct bd_param_values *pv = bd_params_get(ctx->bd->params);
	struct bd_lookup_when when = {sw_time_wall_ms(), pv->period_rates,
				      pv->calendars};

	return bd_lookup(ctx->bd->lookup, ctx->account, ctx->callee, NULL,
			 &when, lookup_h, ctx);
}

/* a phone-card call: the card's own account pays, if its PIN is right */
static void card_h(int err, const struct bd_card_result *r, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct bd_resv_grant g;

	memset(ctx->card, 0, sizeof(ctx->card)); /* the PIN goes */
	if (err) {
		sw_bus_reply_error(ctx->req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		mem_deref(ctx);
		return;
	}
	if (r->status != BD_CARD_OK) {
		memset(&g, 0, sizeof(g));
		g.sip_code = bd_card_sip_code(r->status);
		g.reason = bd_card_reason(r->status);
		sw_cinfo(ctx->call, "card call via %s -> %s: refused %d %s",
			 ctx->account, ctx->callee, g.sip_code, g.reason);
		reply_grant(ctx, &g);
		mem_deref(ctx);
		return;
	}
	str_ncpy(ctx->card, r->number, sizeof(ctx->card));
	str_ncpy(ctx->account, r->account, sizeof(ctx->account));
	err = lookup(ctx);
	if (err) {
		sw_bus_reply_error(ctx->req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		mem_deref(ctx);
	}
}

/* auth.request / auth.extend: validate, look up, decide (docs/bus.md). */
static void start(struct bd *bd, struct sw_bus_req *req,
		  const struct sw_env *env, bool extend)
{
	int64_t recv_us = sw_time_mono_us();
	int64_t granted = 0;
	bool resume = false;
	const char *call, *account, *callee, *card = "";
	struct auth_ctx *ctx;
	struct sw_jv v;
	int err;

	sw_jv_init(&v, "body");
	call = sw_jv_uuid(&v, env->body, "call", true);
	account = sw_jv_str(&v, env->body, "account", BD_NAME_MAX, true, "");
	(void)sw_jv_str(&v, env->body, "caller", BD_NUMBER_MAX, false, "");
	callee = sw_jv_str(&v, env->body, "callee", BD_NUMBER_MAX, true, "");
	(void)sw_jv_str(&v, env->body, "mapping_gateway", BD_NAME_MAX, false,
			"");
	if (!extend)
		card = sw_jv_str(&v, env->body, "card", BD_CARD_DIGITS_MAX,
				 false, "");
	if (extend) {
		granted = sw_jv_int(&v, env->body, "granted_s", 1,
				    BD_AUTH_MAX_DURATION_S, true, 0);
		resume = sw_jv_bool(&v, env->body, "resume", false, false);
	}
	if (!v.bad && !*account)
		sw_jv_fail(&v, "account", "must not be empty");
	if (!v.bad && !*callee)
		sw_jv_fail(&v, "callee", "must not be empty");
	if (!v.bad && strspn(card, "0123456789") != strlen(card))
		sw_jv_fail(&v, "card", "must be digits");
	if (v.bad) {
		sw_warn("%s refused: %s", env->type, v.err);
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		goto error;
	}

	if (bd->draining) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE, "shutting down");
		goto error;
	}

	ctx = mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx) {
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		goto error;
	}
	ctx->bd = bd;
	ctx->recv_us = recv_us;
	ctx->outcome = BD_AUTH_ERROR; /* until a grant or refusal is sent */
	ctx->req = req;
	str_ncpy(ctx->call, call, sizeof(ctx->call));
	str_ncpy(ctx->account, account, sizeof(ctx->account));
	str_ncpy(ctx->callee, callee, sizeof(ctx->callee));
	ctx->extend = extend;
	ctx->resume = resume;
	ctx->granted_s = granted;
	str_ncpy(ctx->card, card, sizeof(ctx->card));

	if (*card)
		err = bd_card_check(
		    bd->db, card, bd_params_get(bd->params)->card_pin_attempts,
		    card_h, ctx);
	else
		err = lookup(ctx);
	if (err) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		mem_deref(ctx);
		return;
	}
	bd_pending_inc(bd);
	ctx->counted = true;
	return;

error: /* answered before a context existed */
	bd_metrics_auth(bd->metrics, extend, BD_AUTH_ERROR,
			sw_time_mono_us() - recv_us);
}

void bd_auth_request(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env)
{
	start(bd, req, env, false);
}

void bd_auth_extend(struct bd *bd, struct sw_bus_req *req,
		    const struct sw_env *env)
{
	start(bd, req, env, true);
}

/*
 * auth.release: the call ended; its reservation stays until its CDR is
 * stored (or expires, resv.h).  Answers {call}.
 */
void bd_auth_release(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env)
{
	const char *call;
	struct sw_jv v;

	sw_jv_init(&v, "body");
	call = sw_jv_uuid(&v, env->body, "call", true);
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	bd_resv_end(bd->resv, call, sw_time_mono_ms());
	sw_bus_reply(req, json_pack("{s:s}", "call", call));
}
