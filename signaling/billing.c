/*
 * billing.c - auth.request / auth.release / cdr.submit toward billingd
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "billing"
#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/swtime.h"
#include "proto/proto.h"
#include "signaling/billing.h"
#include "signaling/spool.h"

#define CDR_TIMEOUT_MS	 5000
#define CDR_MAX_INFLIGHT 32
#define SG_BILLING_BATCH 64 /* requests per bus message at most */

struct sg_billing {
	struct sw_bus_peer *peer; /* owned */
	struct sg_spool *spool;	  /* borrowed */
	bool reachable;		  /* last exchange got a reply */
	bool probing;		  /* health.ping in flight */
	bool closed;		  /* peer closed: replies are dropped */
	char boot[40];		  /* billingd's boot id, last seen */
	void (*restart_h)(void *arg);
	void *restart_arg;
	struct sw_mhist auth_lat; /* auth.request/extend answered */
	uint64_t auth_failed;	  /* no usable answer (timeout, error) */
};

/* requests whose handler has not run yet (all instances) */
static unsigned inflight;

static int request(struct sg_billing *b, const char *type, json_t *body,
		   int timeout_ms, sw_bus_resp_h *h, void *arg)
{
	int err;

	if (!b || b->closed) {
		json_decref(body);
		return ESHUTDOWN;
	}
	err = sw_bus_request(NULL, b->peer, type, body, timeout_ms, h, arg);
	if (!err)
		inflight++;
	return err;
}

/* Requests still waiting for their handler (shutdown drains to 0). */
unsigned sg_billing_inflight(void)
{
	return inflight;
}

struct sg_auth_ctx {
	sg_auth_h *h;
	void *arg;
	struct sg_billing *b;
	int64_t sent_us; /* monotonic */
};

/* Dial billingd (nng reconnects by itself while it is down). */
int sg_billing_alloc(struct sg_billing **bp, struct sw_bus *bus,
		     const char *url, struct sg_spool *spool)
{
	struct sg_billing *b;
	int err;

	if (!bp || !bus || !url)
		return EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return ENOMEM;
	err = sw_bus_dial_req(&b->peer, bus, url, SW_ROLE_BILLING, NULL);
	if (err) {
		free(b);
		return err;
	}
	/* what one loop turn asks of billingd goes as one message */
	sw_bus_peer_batch(b->peer, SG_BILLING_BATCH);
	b->spool = spool;
	*bp = b;
	return 0;
}

/* Close the peer: outstanding requests end with an error on the next
 * drain, new ones are refused.  b stays valid until sg_billing_free(). */
void sg_billing_close(struct sg_billing *b)
{
	if (!b || b->closed)
		return;
	b->closed = true;
	sw_bus_peer_close(b->peer);
	b->peer = NULL;
}

/* Free after the bus drained sg_billing_inflight() to 0. */
void sg_billing_free(struct sg_billing *b)
{
	if (!b)
		return;
	sg_billing_close(b);
	free(b);
}

bool sg_billing_reachable(const struct sg_billing *b)
{
	return b && b->reachable;
}

/* auth.request/auth.extend round trips answered, and those that failed */
const struct sw_mhist *sg_billing_auth_latency(const struct sg_billing *b,
					       uint64_t *failed)
{
	*failed = b->auth_failed;
	return &b->auth_lat;
}

static void auth_resp(int err, const struct sw_env *env, void *arg)
{
	struct sg_auth_ctx *ctx = arg;
	struct sg_auth_result res;
	struct sw_jv v;

	inflight--;
	memset(&res, 0, sizeof(res));
	if (!err && !strcmp(env->type, SW_MSG_ERROR)) {
		sw_warn("auth.request refused by billingd: %s",
			sw_json_str_or(env->body, "message", "?"));
		err = EPROTO;
	} else if (!err) {
		sw_jv_init(&v, "body");
		res.allow = sw_jv_bool(&v, env->body, "allow", true, false);
		res.max_duration_s = sw_jv_int(&v, env->body, "max_duration_s",
					       0, INT32_MAX, false, 0);
		res.extendable =
		    sw_jv_bool(&v, env->body, "extendable", false, false);
		res.sip_code =
		    (int)sw_jv_int(&v, env->body, "sip_code", 0, 699, false, 0);
		snprintf(res.reason, sizeof(res.reason), "%s",
			 sw_jv_str(&v, env->body, "reason", 63, false, ""));
		snprintf(res.account, sizeof(res.account), "%s",
			 sw_jv_str(&v, env->body, "account", 63, false, ""));
		snprintf(res.card, sizeof(res.card), "%s",
			 sw_jv_str(&v, env->body, "card", 48, false, ""));
		if (v.bad) {
			sw_warn("bad auth.request.reply: %s", v.err);
			err = EBADMSG;
		}
	}
	if (ctx->b && !ctx->b->closed) {
		ctx->b->reachable =
		    (err == 0 || err == EPROTO || err == EBADMSG);
		if (err)
			ctx->b->auth_failed++;
		else
			sw_mhist_observe(&ctx->b->auth_lat,
					 sw_time_mono_us() - ctx->sent_us);
	}
	if (ctx->h)
		ctx->h(err, err ? NULL : &res, ctx->arg);
	free(ctx);
}

/* send an auth.request/auth.extend body (stolen); h once, on the loop */
static int auth_send(struct sg_auth_ctx **ctxp, struct sg_billing *b,
		     const char *type, json_t *body, int timeout_ms,
		     sg_auth_h *h, void *arg)
{
	struct sg_auth_ctx *ctx;
	int err;

	if (!body)
		return ENOMEM;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		json_decref(body);
		return ENOMEM;
	}
	ctx->h = h;
	ctx->arg = arg;
	ctx->b = b;
	ctx->sent_us = sw_time_mono_us();
	err = request(b, type, body, timeout_ms, auth_resp, ctx);
	if (err)
		free(ctx);
	else if (ctxp)
		*ctxp = ctx;
	return err;
}

/*
 * Ask billingd to authorize a call.  h runs exactly once on the loop unless
 * sg_billing_auth_cancel(*ctxp) is called first.
 */
int sg_billing_auth(struct sg_auth_ctx **ctxp, struct sg_billing *b,
		    const struct sg_auth_req *req, int timeout_ms, sg_auth_h *h,
		    void *arg)
{
	if (!b || !req || !h)
		return EINVAL;
	json_t *body =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "call", req->call, "account",
		      req->account, "caller", req->caller, "callee",
		      req->callee, "mapping_gateway", req->mapping_gateway);

	if (body && req->card && *req->card &&
	    json_object_set_new(body, "card", json_string(req->card))) {
		json_decref(body);
		body = NULL;
	}
	return auth_send(ctxp, b, SW_MSG_AUTH_REQUEST, body, timeout_ms, h,
			 arg);
}

/*
 * Grow the call's reservation past granted_s (auth.extend); with resume,
 * only re-create it on a billingd that restarted.  h as for
 * sg_billing_auth().
 */
int sg_billing_extend(struct sg_auth_ctx **ctxp, struct sg_billing *b,
		      const struct sg_auth_req *req, int64_t granted_s,
		      bool resume, int timeout_ms, sg_auth_h *h, void *arg)
{
	if (!b || !req || !h)
		return EINVAL;
	return auth_send(ctxp, b, SW_MSG_AUTH_EXTEND,
			 json_pack("{s:s, s:s, s:s, s:I, s:b}", "call",
				   req->call, "account", req->account, "callee",
				   req->callee, "granted_s",
				   (json_int_t)granted_s, "resume", resume),
			 timeout_ms, h, arg);
}

void sg_billing_on_restart(struct sg_billing *b, void (*h)(void *arg),
			   void *arg)
{
	if (b) {
		b->restart_h = h;
		b->restart_arg = arg;
	}
}

/* The requester went away: the reply is dropped when it comes. */
void sg_billing_auth_cancel(struct sg_auth_ctx *ctx)
{
	if (ctx) {
		ctx->h = NULL;
		ctx->arg = NULL;
	}
}

static void release_resp(int err, const struct sw_env *env, void *arg)
{
	(void)env;
	(void)arg;
	inflight--;
	if (err)
		sw_debug("auth.release: %s", strerror(err));
}

/* Fire-and-forget end of the call's reservation. */
void sg_billing_release(struct sg_billing *b, const char *call)
{
	if (!b || !call)
		return;
	request(b, SW_MSG_AUTH_RELEASE, json_pack("{s:s}", "call", call), 2000,
		release_resp, NULL);
}

struct cdr_ctx {
	struct sg_billing *b;
	char id[40];
};

static void cdr_resp(int err, const struct sw_env *env, void *arg)
{
	struct cdr_ctx *ctx = arg;
	struct sg_billing *b = ctx->b;
	const char *id;

	inflight--;
	if (b->closed) {
		/* shutting down: the CDR stays pending in the journal */
	} else if (!err && !strcmp(env->type, SW_MSG_ERROR)) {
		sw_cwarn(ctx->id, "cdr.submit refused: %s: %s",
			 sw_json_str_or(env->body, "code", "?"),
			 sw_json_str_or(env->body, "message", "?"));
		b->reachable = true;
		sg_spool_nack(b->spool, ctx->id);
	} else if (err) {
		sw_cdebug(ctx->id, "cdr.submit: %s", strerror(err));
		b->reachable = false;
		sg_spool_nack(b->spool, ctx->id);
	} else {
		id = sw_json_str_or(env->body, "id", "");
		b->reachable = true;
		if (strcmp(id, ctx->id)) {
			sw_cwarn(ctx->id, "cdr.submit.reply for id '%s'", id);
			sg_spool_nack(b->spool, ctx->id);
		} else {
			if (json_is_true(
				json_object_get(env->body, "quarantined")))
				sw_cwarn(ctx->id, "CDR quarantined by billingd "
						  "(implausible; not billed)");
			sw_cdebug(ctx->id, "cdr acknowledged%s",
				  json_is_true(
				      json_object_get(env->body, "duplicate"))
				      ? " (duplicate)"
				      : "");
			sg_spool_ack(b->spool, ctx->id);
		}
	}
	free(ctx);
}

/* The spool's text of a CDR (our own JSON: written by sg_spool_add or
 * checked when the journal was read) goes as it is, not parsed again. */
static int cdr_send(const char *id, const char *json, void *arg)
{
	struct sg_billing *b = arg;
	struct cdr_ctx *ctx;
	struct sw_jw w = {0};
	int err;

	if (b->closed)
		return ESHUTDOWN;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ENOMEM;
	ctx->b = b;
	snprintf(ctx->id, sizeof(ctx->id), "%s", id);
	sw_jw_raw(&w, "{\"cdr\":");
	sw_jw_raw(&w, json);
	sw_jw_raw(&w, "}");
	err = w.oom || !w.buf
		  ? ENOMEM
		  : sw_bus_request_raw(NULL, b->peer, SW_MSG_CDR_SUBMIT, w.buf,
				       w.len, CDR_TIMEOUT_MS, cdr_resp, ctx);
	sw_jw_free(&w);
	if (err)
		free(ctx);
	else
		inflight++;
	return err;
}

/* Send pending CDRs (bounded in flight); called after each new CDR and
 * periodically. */
void sg_billing_kick(struct sg_billing *b)
{
	if (!b || !b->spool || b->closed)
		return;
	/* while billingd looks down, probe with one CDR at a time */
	sg_spool_kick(b->spool, b->reachable ? CDR_MAX_INFLIGHT : 1, cdr_send,
		      b);
}

static void probe_resp(int err, const struct sw_env *env, void *arg)
{
	struct sg_billing *b = arg;

	inflight--;
	b->probing = false;
	if (b->closed)
		return;
	if (b->reachable != (err == 0))
		sw_info("billingd %s", err ? "not reachable" : "reachable");
	b->reachable = (err == 0);
	if (!err && !strcmp(env->type, SW_MSG_HEALTH_PING ".reply")) {
		const char *boot = sw_json_str_or(env->body, "boot", "");

		if (*boot && strcmp(boot, b->boot)) {
			bool was = b->boot[0] != '\0';

			snprintf(b->boot, sizeof(b->boot), "%s", boot);
			if (was && b->restart_h) {
				sw_info("billingd restarted: answered calls "
					"re-send their reservations");
				b->restart_h(b->restart_arg);
			}
		}
	}
}

/* Refresh the reachability seen by health.ping (one probe at a time). */
void sg_billing_probe(struct sg_billing *b, int timeout_ms)
{
	if (!b || b->probing)
		return;
	if (!request(b, SW_MSG_HEALTH_PING, NULL, timeout_ms, probe_resp, b))
		b->probing = true;
}
