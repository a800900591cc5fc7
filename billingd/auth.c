/*
 * auth.c - auth.request / auth.release on the billingd bus
 */
#define SW_LOG_MODULE "auth"

#include <errno.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/auth.h"
#include "billingd/daemon.h"
#include "billingd/db.h"
#include "billingd/lookup.h"
#include "billingd/params.h"
#include "billingd/rate.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/uuid.h"
#include "proto/proto.h"

struct auth_ctx {
	struct bd *bd;			/* borrowed */
	struct sw_bus_req *req;		/* answered exactly once */
	char call[SW_UUID_LEN + 1];
	char account[BD_NAME_MAX + 1];
	char callee[BD_NUMBER_MAX + 1];
	bool counted;			/* in bd->pending */
};

/*
 * Decide an authorization from the looked-up account (NULL or !found =
 * unknown).  Pure: no I/O.  available = balance + credit_limit (no
 * reservations yet), computed without overflow.
 */
void bd_auth_decide(struct bd_auth_result *out, const struct bd_account *acc,
		    const char *callee, const struct bd_rate_params *p)
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

	r = bd_rate_select(acc->rates, acc->nrates, callee ? callee : "");
	if (!r) {
		out->sip_code = 403;
		out->reason = "NoRate";
		return;
	}
	out->prefix = r->prefix;

	out->max_duration_s = bd_rate_max_duration(r, p, available,
						   BD_AUTH_MAX_DURATION_S);
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

	if (ctx->counted)
		bd_pending_dec(ctx->bd);
}

static void lookup_h(int err, const struct bd_lookup *lk, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct bd_auth_result res;
	json_t *body;

	if (err) {
		sw_cwarn(ctx->call, "auth for %s: database %s", ctx->account,
			 strerror(err));
		sw_bus_reply_error(ctx->req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		goto out;
	}

	bd_auth_decide(&res, &lk->customer, ctx->callee,
		       &bd_params_get(ctx->bd->params)->rate);

	if (res.allow)
		sw_cdebug(ctx->call, "auth %s -> %s: allow %lld s (prefix %s)",
			  ctx->account, ctx->callee,
			  (long long)res.max_duration_s, res.prefix);
	else
		sw_cinfo(ctx->call, "auth %s -> %s: refused %d %s",
			 ctx->account, ctx->callee, res.sip_code, res.reason);

	body = json_pack("{s:b, s:I, s:s}", "allow", res.allow,
			 "max_duration_s", (json_int_t)res.max_duration_s,
			 "reason", res.reason);
	if (body && !res.allow)
		json_object_set_new(body, "sip_code",
				    json_integer(res.sip_code));
	if (!body) {
		sw_bus_reply_error(ctx->req, SW_ERR_INTERNAL, "out of memory");
		goto out;
	}
	sw_bus_reply(ctx->req, body);

 out:
	mem_deref(ctx);
}

/* auth.request: validate, look up, decide (docs/bus.md). */
void bd_auth_request(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env)
{
	const char *call, *account, *callee;
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
	if (!v.bad && !*account)
		sw_jv_fail(&v, "account", "must not be empty");
	if (!v.bad && !*callee)
		sw_jv_fail(&v, "callee", "must not be empty");
	if (v.bad) {
		sw_warn("auth.request refused: %s", v.err);
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	if (bd->draining) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE, "shutting down");
		return;
	}

	ctx = mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx) {
		sw_bus_reply_error(req, SW_ERR_INTERNAL, "out of memory");
		return;
	}
	ctx->bd = bd;
	ctx->req = req;
	str_ncpy(ctx->call, call, sizeof(ctx->call));
	str_ncpy(ctx->account, account, sizeof(ctx->account));
	str_ncpy(ctx->callee, callee, sizeof(ctx->callee));

	err = bd_lookup(bd->db, account, callee, NULL, lookup_h, ctx);
	if (err) {
		sw_bus_reply_error(req, SW_ERR_UNAVAILABLE,
				   "database unavailable (%s)", strerror(err));
		mem_deref(ctx);
		return;
	}
	bd_pending_inc(bd);
	ctx->counted = true;
}

/* auth.release: nothing is reserved yet; validate and answer {call}. */
void bd_auth_release(struct bd *bd, struct sw_bus_req *req,
		     const struct sw_env *env)
{
	const char *call;
	struct sw_jv v;

	(void)bd;
	sw_jv_init(&v, "body");
	call = sw_jv_uuid(&v, env->body, "call", true);
	if (v.bad) {
		sw_bus_reply_error(req, SW_ERR_BAD_REQUEST, "%s", v.err);
		return;
	}

	sw_bus_reply(req, json_pack("{s:s}", "call", call));
}
