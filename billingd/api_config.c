/*
 * api_config.c - configuration objects over HTTP, through the one model
 *
 *   GET    /api/v1/<section>?limit=&offset=   a page, by name
 *   POST   /api/v1/<section>                  create (409 if it exists)
 *   GET    /api/v1/<section>/<name>           one object, with its ETag
 *   PATCH  /api/v1/<section>/<name>           change the given fields
 *                                             (If-Match: ETag -> 412)
 *   DELETE /api/v1/<section>/<name>
 *   GET    /api/v1/system_parameters          every parameter, value and
 *   PATCH  /api/v1/system_parameters          default; {"NAME": "v"|null}
 *   GET    /api/v1/audit                      who changed what, newest first
 *
 * Bodies are the objects of a provisioning file (docs/provisioning.md):
 * checked by model/check.c and written by model/apply.c in one
 * transaction, so the API and `tandemctl provision` accept exactly the
 * same things.  Agents read their subtree and customers themselves (their
 * accounts, mapping gateways, phones and rate tables); writes are staff's.
 *
 * Threading: every function here runs on an API worker.
 */
#define SW_LOG_MODULE "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/api_int.h"
#include "common/log.h"

#define SUBTREE                                                                \
	"(WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION ALL SELECT "      \
	"c.id FROM accounts c JOIN sub ON c.agent_id = sub.id) SELECT id "     \
	"FROM sub)"

/*
 * What an agent or customer may read of sec: a condition on t with $1 =
 * the caller's account id; NULL: nothing (403).
 */
static const char *scope_of(const struct api_req *r,
			    const struct md_section *sec)
{
	bool agent = r->who.role == ROLE_AGENT;

	if (!strcmp(sec->key, "accounts"))
		return agent ? "t.id IN " SUBTREE : "t.id = $1::bigint";
	if (!strcmp(sec->key, "mapping_gateways") ||
	    !strcmp(sec->key, "phones"))
		return agent ? "t.account_id IN " SUBTREE
			     : "t.account_id = $1::bigint";
	if (!strcmp(sec->key, "rate_tables"))
		return agent ? "t.id IN (SELECT rate_table_id FROM accounts "
			       "WHERE id IN " SUBTREE ")"
			     : "t.id IN (SELECT rate_table_id FROM accounts "
			       "WHERE id = $1::bigint)";
	return NULL;
}

/* set q's scope for the caller; false with a 403 set when none */
static bool scope(struct api_req *r, struct md_export_q *q, char *idbuf,
		  size_t idsz)
{
	if (r->who.role & ROLES_STAFF)
		return true;
	q->scope = scope_of(r, r->sec);
	if (!q->scope) {
		api_error(r, 403, "forbidden", NULL, "%s may not read %s",
			  api_role_name(r->who.role), r->sec->key);
		return false;
	}
	snprintf(idbuf, idsz, "%lld", r->who.account_id);
	q->scope_arg = idbuf;
	return true;
}

void api_config_list(PGconn *conn, struct api_req *r)
{
	struct md_export_q q = {0};
	char id[24], err[512];
	json_t *items = NULL;
	long total = 0;

	if (!api_page(r, &q.limit, &q.offset) || !scope(r, &q, id, sizeof(id)))
		return;
	if (md_export(conn, r->sec, &q, &items, &total, err, sizeof(err))) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200,
	       json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
			 (json_int_t)total, "limit", (json_int_t)q.limit,
			 "offset", (json_int_t)q.offset));
}

/* the object named r->sub (with ETag header), or a 404 */
static void get_one(PGconn *conn, struct api_req *r, uint16_t status)
{
	struct md_export_q q = {.name = r->sub, .entries = true};
	char id[24], err[512], etag[24];
	json_t *items = NULL, *o;
	long total;

	if (!scope(r, &q, id, sizeof(id)))
		return;
	if (md_export(conn, r->sec, &q, &items, &total, err, sizeof(err))) {
		api_db_error(r, err);
		return;
	}
	o = json_array_get(items, 0);
	if (!o) {
		json_decref(items);
		api_error(r, 404, "not_found", NULL, "no %s \"%s\"",
			  r->sec->noun, r->sub);
		return;
	}
	md_etag(o, etag);
	api_header(r, "ETag: %s\r\n", etag);
	api_ok(r, status, json_incref(o));
	json_decref(items);
}

void api_config_get(PGconn *conn, struct api_req *r)
{
	get_one(conn, r, 200);
}

/* "routing_gateways[0].port: must be 1..65535" -> field "port" */
static void doc_errors(struct api_req *r, const struct md_doc *doc,
		       const char *prefix)
{
	json_t *list = json_array();
	char field[64] = "", first[600] = "";
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < doc->nerrs; i++) {
		const char *e = doc->errs[i];
		char f[64] = "";
		const char *msg = e;

		if (!strncmp(e, prefix, plen) && e[plen] == '.') {
			const char *colon = strstr(e + plen + 1, ": ");
			size_t n = colon ? (size_t)(colon - e - plen - 1) : 0;

			if (n && n < sizeof(f)) {
				memcpy(f, e + plen + 1, n);
				f[n] = '\0';
			}
			msg = e + plen + 1;
		} else if (!strncmp(e, prefix, plen) && e[plen] == ':') {
			msg = e + plen + 2;
		}
		if (!i) {
			snprintf(field, sizeof(field), "%s", f);
			snprintf(first, sizeof(first), "%s", msg);
		}
		json_array_append_new(
		    list, json_pack("{s:s, s:s}", "field", f, "message", msg));
	}
	api_error(r, 400, "invalid", *field ? field : NULL, "%s", first);
	json_object_set_new(json_object_get(r->reply, "error"), "errors", list);
}

/* ---- agents' writes: their subtree, within their authorizations ---- */

struct guard_ctx {
	struct api_req *r;
	json_t *body;	    /* the object as written */
	const char *action; /* create, update, delete */
};

/* 1 when account `name` is in the subtree of account id `top` (strict:
 * not top itself), 0 when not, -1 on a database error (err) */
static int in_subtree(PGconn *conn, const char *top, const char *name,
		      bool strict, char *err, size_t errsz)
{
	const char *p[3] = {top, name, strict ? "t" : "f"};
	PGresult *res;
	int ret;

	res = md_pq_exec(conn,
			 "WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION "
			 "ALL SELECT c.id FROM accounts c JOIN sub ON "
			 "c.agent_id = sub.id) SELECT EXISTS (SELECT 1 FROM "
			 "accounts a WHERE a.name = $2 AND a.id IN (SELECT id "
			 "FROM sub) AND NOT ($3::boolean AND a.id = "
			 "$1::bigint)) AS ok",
			 3, p, err, errsz);
	if (!res)
		return -1;
	ret = !strcmp(md_pq_get(res, 0, "ok"), "t");
	PQclear(res);
	return ret;
}

/* the account an existing mapping gateway or phone bills, into acc */
static int owner_of(PGconn *conn, const struct md_section *sec,
		    const char *name, char *acc, size_t accsz, char *err,
		    size_t errsz)
{
	char sql[256];
	const char *p[1] = {name};
	PGresult *res;

	snprintf(sql, sizeof(sql),
		 "SELECT a.name FROM %s t JOIN accounts a ON a.id = "
		 "t.account_id WHERE t.%s = $1",
		 sec->table, md_section_id(sec));
	res = md_pq_exec(conn, sql, 1, p, err, errsz);
	if (!res)
		return -1;
	snprintf(acc, accsz, "%s",
		 PQntuples(res) ? md_pq_get(res, 0, "name") : "");
	PQclear(res);
	return 0;
}

static int agent_guard(PGconn *conn, const struct md_doc *doc, void *arg,
		       char *err, size_t errsz)
{
	struct guard_ctx *g = arg;
	struct api_req *r = g->r;
	const struct md_section *sec = r->sec;
	const char *name = doc->nobjs ? doc->objs[0].name : "";
	bool create = !strcmp(g->action, "create");
	bool del = !strcmp(g->action, "delete");
	char top[24], acc[80], auths[512] = "";
	const char *p[1] = {top};
	const char *need[3] = {NULL, NULL, NULL};
	const char *k;
	json_t *v;
	PGresult *res;
	int ok;

	snprintf(top, sizeof(top), "%lld", r->who.account_id);
	res = md_pq_exec(conn,
			 "SELECT array_to_string(agent_authorizations, ',') "
			 "AS auths FROM accounts WHERE id = $1::bigint",
			 1, p, err, errsz);
	if (!res)
		return MD_DBERR;
	if (PQntuples(res))
		snprintf(auths, sizeof(auths), ",%s,",
			 md_pq_get(res, 0, "auths"));
	PQclear(res);

	if (!strcmp(sec->key, "accounts")) {
		need[0] = "manage_accounts";
	} else if (!strcmp(sec->key, "phones")) {
		need[0] = "manage_phones";
	} else if (create || del) {
		need[0] = "add_delete_gateways";
	} else {
		json_object_foreach(g->body, k, v)
		{
			if (!strcmp(k, md_section_id(sec)))
				continue;
			if (!strcmp(k, "max_concurrent_calls") ||
			    !strcmp(k, "cps_limit"))
				need[1] = "modify_gateway_capacity";
			else
				need[0] = "modify_gateway_info";
		}
	}
	for (int i = 0; i < 2; i++) {
		char tag[64];

		if (!need[i])
			continue;
		snprintf(tag, sizeof(tag), ",%s,", need[i]);
		if (!strstr(auths, tag)) {
			snprintf(err, errsz,
				 "your account lacks the %s authorization",
				 need[i]);
			return MD_FORBIDDEN;
		}
	}

	if (!strcmp(sec->key, "accounts")) {
		const char *parent =
		    json_string_value(json_object_get(g->body, "agent"));
		json_t *grant =
		    json_object_get(g->body, "agent_authorizations");

		if (!create) {
			ok = in_subtree(conn, top, name, true, err, errsz);
			if (ok < 0)
				return MD_DBERR;
			if (!ok) {
				snprintf(err, errsz,
					 "account \"%s\" is not below yours",
					 name);
				return MD_FORBIDDEN;
			}
		}
		if (create && !parent) {
			snprintf(err, errsz,
				 "agent: your accounts are created below "
				 "yours (name it in \"agent\")");
			return MD_FORBIDDEN;
		}
		if (parent) {
			ok = in_subtree(conn, top, parent, false, err, errsz);
			if (ok < 0)
				return MD_DBERR;
			if (!ok) {
				snprintf(err, errsz,
					 "agent: \"%s\" is not yours or below "
					 "yours",
					 parent);
				return MD_FORBIDDEN;
			}
		}
		if (json_object_get(g->body, "balance")) {
			snprintf(err, errsz,
				 "balance: an agent funds its accounts by "
				 "transfer (POST /api/v1/payments)");
			return MD_FORBIDDEN;
		}
		for (size_t i = 0; i < json_array_size(grant); i++) {
			char tag[64];

			snprintf(tag, sizeof(tag), ",%s,",
				 json_string_value(json_array_get(grant, i))
				     ?: "");
			if (!strstr(auths, tag)) {
				snprintf(err, errsz,
					 "agent_authorizations: you cannot "
					 "grant %s, which you do not have",
					 json_string_value(
					     json_array_get(grant, i)));
				return MD_FORBIDDEN;
			}
		}
		return MD_OK;
	}

	/* mapping gateways and phones: their account is in the subtree */
	if (!create) {
		if (owner_of(conn, sec, name, acc, sizeof(acc), err, errsz))
			return MD_DBERR;
		ok = in_subtree(conn, top, acc, false, err, errsz);
		if (ok < 0)
			return MD_DBERR;
		if (!ok) {
			snprintf(err, errsz, "%s \"%s\" is not yours",
				 sec->noun, name);
			return MD_FORBIDDEN;
		}
	}
	if (json_is_string(json_object_get(g->body, "account"))) {
		const char *a =
		    json_string_value(json_object_get(g->body, "account"));

		ok = in_subtree(conn, top, a, false, err, errsz);
		if (ok < 0)
			return MD_DBERR;
		if (!ok) {
			snprintf(err, errsz,
				 "account: \"%s\" is not yours or below yours",
				 a);
			return MD_FORBIDDEN;
		}
	}
	return MD_OK;
}

/* write body (create, update) or a deletion of r->sub through the model */
static void write_obj(PGconn *conn, struct api_req *r, json_t *body,
		      enum md_apply_mode mode, const char *action)
{
	const struct md_section *sec = r->sec;
	const char *idkey = md_section_id(sec);
	struct md_doc doc = {0};
	struct md_apply a = {0};
	struct guard_ctx gctx = {0};
	char prefix[64], object[400];
	const char *name;
	json_t *root;
	int rc;

	snprintf(prefix, sizeof(prefix), "%s[0]", sec->key);
	root = json_pack("{s:[O]}", sec->key, body);
	md_doc_check(&doc, root);
	name = json_string_value(json_object_get(body, idkey));
	snprintf(object, sizeof(object), "%s/%s", sec->key, name ? name : "");

	a.conn = conn;
	a.source = "api";
	a.mode = mode;
	a.quiet = true;
	a.if_match = *r->if_match ? r->if_match : NULL;
	a.audit_actor = r->who.user;
	a.audit_action = action;
	a.audit_object = object;
	a.audit_ip = r->ip;
	if (!(r->who.role & ROLES_STAFF)) {
		gctx.r = r;
		gctx.body = body;
		gctx.action = action;
		a.guard = agent_guard;
		a.guard_arg = &gctx;
	}
	rc = md_apply(&a, &doc);
	switch (rc) {
	case MD_OK:
		if (!strcmp(action, "delete")) {
			api_ok(r, 204, NULL);
		} else {
			snprintf(r->sub, sizeof(r->sub), "%s", name);
			get_one(conn, r, !strcmp(action, "create") ? 201 : 200);
		}
		sw_info("%s %s %s by %s", action, sec->noun, name, r->who.user);
		break;
	case MD_INVALID:
		doc_errors(r, &doc, prefix);
		break;
	case MD_EXISTS:
		api_error(r, 409, "exists", idkey, "%s", a.err);
		break;
	case MD_NOT_FOUND:
		api_error(r, 404, "not_found", NULL, "%s", a.err);
		break;
	case MD_STALE:
		api_error(r, 412, "stale", NULL, "%s", a.err);
		break;
	case MD_FORBIDDEN:
		api_error(r, 403, "forbidden", NULL, "%s", a.err);
		break;
	case MD_REFUSED:
		api_error(r, 409, "refused", NULL, "%s", a.err);
		break;
	default:
		api_db_error(r, a.err);
		break;
	}
	md_doc_free(&doc);
	json_decref(root);
}

static bool no_delete_key(struct api_req *r, json_t *body)
{
	if (json_object_get(body, "delete")) {
		api_error(r, 400, "invalid", "delete",
			  "delete: use DELETE on the object");
		return false;
	}
	return true;
}

void api_config_create(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);

	if (!body)
		return;
	if (no_delete_key(r, body))
		write_obj(conn, r, body, MD_APPLY_CREATE, "create");
	json_decref(body);
}

void api_config_update(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	const char *idkey = md_section_id(r->sec);
	json_t *name;

	if (!body)
		return;
	name = json_object_get(body, idkey);
	if (name && (!json_is_string(name) ||
		     strcmp(json_string_value(name), r->sub))) {
		api_error(r, 400, "invalid", idkey,
			  "%s: cannot be changed (it names the object)", idkey);
	} else if (no_delete_key(r, body)) {
		json_object_set_new(body, idkey, json_string(r->sub));
		write_obj(conn, r, body, MD_APPLY_EXISTING, "update");
		r->lock_changed = !strcmp(r->sec->key, "routing_gateways") &&
				  json_object_get(body, "locked");
	}
	json_decref(body);
}

void api_config_delete(PGconn *conn, struct api_req *r)
{
	json_t *body =
	    json_pack("{s:s, s:b}", md_section_id(r->sec), r->sub, "delete", 1);

	write_obj(conn, r, body, MD_APPLY_EXISTING, "delete");
	json_decref(body);
}

void api_params_get(PGconn *conn, struct api_req *r)
{
	char err[256];
	PGresult *res;
	json_t *items = json_array();

	res = md_pq_exec(conn, "SELECT name, value FROM system_parameters", 0,
			 NULL, err, sizeof(err));
	if (!res) {
		json_decref(items);
		api_db_error(r, err);
		return;
	}
	for (const struct md_param_def *p = md_params; p->name; p++) {
		const char *value = NULL;
		json_t *o;

		for (int i = 0; i < PQntuples(res); i++) {
			if (!strcmp(PQgetvalue(res, i, PQfnumber(res, "name")),
				    p->name))
				value =
				    PQgetvalue(res, i, PQfnumber(res, "value"));
		}
		o = json_pack("{s:s, s:s?, s:s, s:s, s:b}", "name", p->name,
			      "value", value, "default", p->def, "help",
			      p->help, "text", p->text);
		if (!p->text) {
			json_object_set_new(o, "min", json_integer(p->min));
			json_object_set_new(o, "max", json_integer(p->max));
		}
		json_array_append_new(items, o);
	}
	PQclear(res);
	api_ok(r, 200, json_pack("{s:o}", "items", items));
}

void api_params_update(PGconn *conn, struct api_req *r)
{
	json_t *body = api_body_object(r);
	struct md_doc doc = {0};
	struct md_apply a = {0};
	json_t *root;

	if (!body)
		return;
	root = json_pack("{s:O}", "system_parameters", body);
	md_doc_check(&doc, root);
	/* a Web Access Control list that leaves the caller out is refused:
	 * nobody could change it back from here */
	for (size_t i = 0; !doc.nerrs && i < doc.nparams; i++) {
		const struct md_param *p = &doc.params[i];

		if (!strcmp(p->name, "SERVER_WEB_ACCESS_LIST") && p->value &&
		    !api_access_allowed(conn, r, p->value)) {
			if (!r->status)
				api_error(
				    r, 409, "refused", "SERVER_WEB_ACCESS_LIST",
				    "SERVER_WEB_ACCESS_LIST: your address "
				    "%s is not in it: saving it would "
				    "lock you out",
				    r->ip);
			goto out;
		}
	}
	a.conn = conn;
	a.source = "api";
	a.quiet = true;
	a.audit_actor = r->who.user;
	a.audit_action = "update";
	a.audit_object = "system_parameters";
	a.audit_ip = r->ip;
	switch (md_apply(&a, &doc)) {
	case MD_OK:
		api_params_get(conn, r);
		break;
	case MD_INVALID:
		doc_errors(r, &doc, "system_parameters");
		break;
	case MD_DBERR:
		api_db_error(r, a.err);
		break;
	default:
		api_error(r, 409, "refused", NULL, "%s", a.err);
		break;
	}
out:
	md_doc_free(&doc);
	json_decref(root);
	json_decref(body);
}

void api_audit_list(PGconn *conn, struct api_req *r)
{
	long limit, offset;
	char lim[24], off[24], actor[80] = "", object[200] = "", err[256];
	const char *params[4] = {lim, off, NULL, NULL};
	PGresult *res;

	if (!api_page(r, &limit, &offset))
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	if (api_query(r, "actor", actor, sizeof(actor)))
		params[2] = actor;
	if (api_query(r, "object", object, sizeof(object)))
		params[3] = object;
	res = md_pq_exec(
	    conn,
	    "WITH f AS (SELECT * FROM audit_log WHERE ($3::text IS NULL OR "
	    "actor = $3) AND ($4::text IS NULL OR object = $4 OR object LIKE "
	    "replace(replace(replace($4, '\\', '\\\\'), '%', '\\%'), '_', "
	    "'\\_') || '/%')) SELECT coalesce((SELECT json_agg(j) FROM "
	    "(SELECT json_build_object('id', id, 'at', created_at, 'actor', "
	    "actor, 'action', action, 'object', object, 'detail', detail, "
	    "'source_ip', source_ip) AS j FROM f ORDER BY id DESC LIMIT "
	    "$1::int OFFSET $2::int) x), '[]')::text AS j, (SELECT count(*) "
	    "FROM f) AS total",
	    4, params, err, sizeof(err));
	if (!res) {
		api_db_error(r, err);
		return;
	}
	api_ok(r, 200, api_page_json(res, limit, offset));
	PQclear(res);
}
