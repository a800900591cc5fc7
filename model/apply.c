/*
 * apply.c - make the database match a checked configuration document
 *
 * The one writer of configuration (docs/provisioning.md): `tandemctl
 * provision` and billingd's HTTP API both hand it a document that check.c
 * accepted.  Order of work:
 *
 *   1. BEGIN, take the provisioning lock, check what needs the database
 *      (references to objects not in the document, fields required on
 *      creation);
 *   2. apply: system parameters, then creations/updates section by section
 *      (rate tables .. routing gateways), then deletions in reverse order;
 *   3. NOTIFY tandem_config and COMMIT (or ROLLBACK for a dry run).
 *
 * Any problem rolls everything back: nothing is written.  Each object
 * prints one line to md_apply.out: created / updated (with old -> new per
 * field) / deleted / unchanged, so a second run of the same document
 * reports nothing changed.  The daemons see committed changes through the
 * tables' pg_notify triggers (schema 0004).
 *
 * Threading: blocking libpq on the caller's connection; no global state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/md5.h"
#include "model/model.h"

#define PROV_LOCK_KEY "74616e64656e" /* advisory lock of provisioning */
#define MSG_MAX	      4096

/* the names of one table, loaded once (C collation = strcmp order) */
struct dbnames {
	bool loaded;
	char **names; /* owned */
	char **types; /* owned, accounts only: the account type */
	size_t n;
};

struct prov {
	PGconn *conn;
	struct dbnames cache[16]; /* per section of md_sections */
	struct md_doc *doc;
	bool quiet;
	const char *source; /* NOTIFY tandem_config "source" */
	bool *exists;	    /* per doc object: found in the database */
	unsigned touched;   /* bit per section (+ bit 31: parameters) */
	int created, updated, deleted, unchanged;
	bool agents_changed;
	FILE *out; /* change lines, printed after success only */
	char err[1024];
};

/* a growing line of output */
struct line {
	char buf[MSG_MAX];
	size_t len;
	int items;
};

/* "PATH: " before the reason in pv->err */
static void prefix_err(struct prov *pv, const char *path)
{
	char tmp[sizeof(pv->err)];
	int n = snprintf(tmp, sizeof(tmp), "%s: ", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return;
	memcpy(tmp + n, pv->err, sizeof(tmp) - (size_t)n - 1);
	tmp[sizeof(tmp) - 1] = '\0';
	memcpy(pv->err, tmp, sizeof(pv->err));
}

static void line_add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 8)
		return;
	if (l->items++ && l->len + 2 < sizeof(l->buf)) {
		memcpy(l->buf + l->len, ", ", 3);
		l->len += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	l->len += (size_t)n;
	if (l->len >= sizeof(l->buf)) {
		l->len = sizeof(l->buf) - 4;
		memcpy(l->buf + l->len, "...", 4);
		l->len += 3;
	}
}

static unsigned section_bit(const struct md_section *sec)
{
	return 1u << (sec - md_sections);
}

static const char *ref_table(const struct md_field *f)
{
	return md_section_find(f->ref)->table;
}

static const char *ref_id(const struct md_field *f)
{
	return md_section_id(md_section_find(f->ref));
}

/* a value as an operator reads it in a change line */
static void show(char *buf, size_t size, const struct md_field *f,
		 const char *text)
{
	if (!text) {
		snprintf(buf, size, "null");
	} else if (f->kind == MD_MONEY) {
		md_money_str(buf, size, strtoll(text, NULL, 10));
	} else if (!*text) {
		snprintf(buf, size, "\"\"");
	} else {
		snprintf(buf, size, "%s", text);
	}
}

/* SQL that reads a field's current value (row alias t) as canonical text */
int md_read_expr(char *buf, size_t size, const struct md_field *f)
{
	switch (f->kind) {
	case MD_REF:
		return snprintf(buf, size,
				"(SELECT r.%s FROM %s r "
				"WHERE r.id = t.%s)",
				ref_id(f), ref_table(f), f->column);
	case MD_INT_LIST:
	case MD_PREFIX_LIST:
	case MD_IP_LIST:
	case MD_REF_LIST:
	case MD_ENUM_SET:
		return snprintf(buf, size, "to_json(t.%s)::text", f->column);
	default:
		return snprintf(buf, size, "t.%s::text", f->column);
	}
}

/* SQL that turns parameter $n (canonical text) into the column's value */
static int write_expr(char *buf, size_t size, const struct md_field *f, int n)
{
	switch (f->kind) {
	case MD_REF:
		return snprintf(buf, size, "(SELECT id FROM %s WHERE %s = $%d)",
				ref_table(f), ref_id(f), n);
	case MD_INT_LIST:
		return snprintf(buf, size,
				"ARRAY(SELECT e::int FROM "
				"json_array_elements_text($%d::json) WITH "
				"ORDINALITY x(e, i) ORDER BY i)",
				n);
	case MD_PREFIX_LIST:
	case MD_IP_LIST:
	case MD_REF_LIST:
	case MD_ENUM_SET:
		return snprintf(buf, size,
				"ARRAY(SELECT e FROM "
				"json_array_elements_text($%d::json) WITH "
				"ORDINALITY x(e, i) ORDER BY i)",
				n);
	case MD_INT:
		return snprintf(buf, size, "$%d::int", n);
	case MD_MONEY:
		return snprintf(buf, size, "$%d::bigint", n);
	case MD_BOOL:
		return snprintf(buf, size, "$%d::boolean", n);
	case MD_DIALPLAN:
	case MD_MEDIA:
	case MD_IDENTITY:
	case MD_CALLER_POOL:
		return snprintf(buf, size, "$%d::jsonb", n);
	case MD_TIME:
		return snprintf(buf, size, "$%d::time", n);
	default:
		return snprintf(buf, size, "$%d::text", n);
	}
}

static bool has_column(const struct md_field *f)
{
	return f->column != NULL;
}

/*
 * The HA1 to store for an MD_F_HA1 field given password: into out, or
 * NULL (clear) without a password or a digest user.  user_new is the
 * object's `username` as given in the file (NULL: not given), user_old the
 * stored one (NULL on create).
 */
static const char *ha1_of(char out[SW_MD5_HEX_LEN + 1], const struct md_obj *o,
			  const char *password, const struct md_val *user_new,
			  const char *user_old)
{
	const char *user = o->name;

	if (md_field_index(o->sec, "username") >= 0)
		user = user_new && user_new->set ? user_new->text : user_old;
	if (!password || !user)
		return NULL;
	sw_digest_ha1(out, user, password);
	return out[0] ? out : NULL;
}

/* --- checks against the database (before any write) --------------------- */

/*
 * The names of a section's table, loaded on first use: one query instead
 * of one per object and reference (a file of 10 000 objects).
 */
static struct dbnames *db_names(struct prov *pv, const struct md_section *sec)
{
	struct dbnames *c;
	bool acc = !strcmp(sec->key, "accounts");
	static const char *const names[] = {"name", "type"};
	char sql[200];
	int col[2];
	PGresult *res;

	if ((size_t)(sec - md_sections) >=
	    sizeof(pv->cache) / sizeof(pv->cache[0])) {
		snprintf(pv->err, sizeof(pv->err), "too many sections");
		return NULL;
	}
	c = &pv->cache[sec - md_sections];
	if (c->loaded)
		return c;
	snprintf(sql, sizeof(sql),
		 "SELECT %s AS name, %s AS type FROM %s "
		 "ORDER BY %s COLLATE \"C\"",
		 md_section_id(sec), acc ? "type" : "''", sec->table,
		 md_section_id(sec));
	res = md_pq_exec(pv->conn, sql, 0, NULL, pv->err, sizeof(pv->err));
	if (!res)
		return NULL;
	if (md_pq_cols(res, names, col, 2, pv->err, sizeof(pv->err))) {
		PQclear(res);
		return NULL;
	}
	c->names = calloc((size_t)PQntuples(res) + 1, sizeof(*c->names));
	c->types = calloc((size_t)PQntuples(res) + 1, sizeof(*c->types));
	if (!c->names || !c->types) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		PQclear(res);
		return NULL;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		c->names[c->n] = strdup(md_pq_val(res, i, col[0]));
		c->types[c->n] = strdup(md_pq_val(res, i, col[1]));
		if (!c->names[c->n] || !c->types[c->n]) {
			free(c->names[c->n]);
			free(c->types[c->n]);
			snprintf(pv->err, sizeof(pv->err), "out of memory");
			PQclear(res);
			return NULL;
		}
		c->n++;
	}
	PQclear(res);
	c->loaded = true;
	return c;
}

static void db_names_free(struct prov *pv)
{
	for (size_t s = 0; s < sizeof(pv->cache) / sizeof(pv->cache[0]); s++) {
		struct dbnames *c = &pv->cache[s];

		for (size_t i = 0; i < c->n; i++) {
			free(c->names[i]);
			free(c->types[i]);
		}
		free(c->names);
		free(c->types);
		memset(c, 0, sizeof(*c));
	}
}

/* index of name in the table's names, -1 when absent; -2 on error */
static long db_find(struct prov *pv, const struct md_section *sec,
		    const char *name)
{
	struct dbnames *c = db_names(pv, sec);
	size_t lo = 0, hi;

	if (!c)
		return -2;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->names[mid], name);

		if (cmp == 0)
			return (long)mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int name_exists(struct prov *pv, const struct md_section *sec,
		       const char *name, bool *existsp)
{
	long i = db_find(pv, sec, name);

	if (i == -2)
		return EIO;
	*existsp = i >= 0;
	return 0;
}

/* a reference is satisfied by an object of the file or of the database */
static int check_ref(struct prov *pv, const struct md_obj *o,
		     const struct md_field *f, const char *name,
		     const char *path)
{
	const struct md_obj *t = md_doc_find(pv->doc, f->ref, name);
	bool found;

	if (t && !t->del)
		return 0;
	if (name_exists(pv, md_section_find(f->ref), name, &found))
		return EIO;
	if (!found)
		md_doc_error(pv->doc,
			     "%s: no %s named \"%s\" (neither in the "
			     "database nor in this file)",
			     path, md_section_find(f->ref)->noun, name);
	(void)o;
	return 0;
}

/*
 * A mapping gateway brings traffic from a customer, a routing gateway sends
 * it to a vendor: the account's type (as it will be after this file) must
 * fit, or calls would be billed to the wrong side.
 */
static int check_account_type(struct prov *pv, const struct md_obj *o,
			      const char *account, const char *path)
{
	const struct md_obj *a = md_doc_find(pv->doc, "accounts", account);
	const struct md_section *accounts = md_section_find("accounts");
	bool ingress = strcmp(o->sec->key, "routing_gateways") != 0;
	const char *need = ingress ? "customer" : "vendor";
	char type[16] = "customer"; /* the default of a new account */
	long di;
	int ti;

	ti = md_field_index(md_section_find("accounts"), "type");
	if (a && a->vals[ti].set && a->vals[ti].text) {
		snprintf(type, sizeof(type), "%s", a->vals[ti].text);
	} else {
		di = db_find(pv, accounts, account);
		if (di == -2)
			return EIO;
		if (di >= 0)
			snprintf(type, sizeof(type), "%s",
				 pv->cache[accounts - md_sections].types[di]);
	}

	if (strcmp(type, need) && strcmp(type, "both"))
		md_doc_error(pv->doc,
			     "%s: account \"%s\" is a %s; a %s needs "
			     "a %s account (type %s or both)",
			     path, account, type, o->sec->noun, need, need);
	return 0;
}

/* a time zone PostgreSQL (and so billingd's rating) knows */
static int check_tz(struct prov *pv, const char *tz, const char *path)
{
	const char *params[1] = {tz};
	PGresult *res;

	res = md_pq_exec(pv->conn,
			 "SELECT 1 FROM pg_timezone_names WHERE "
			 "name = $1",
			 1, params, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	if (!PQntuples(res))
		md_doc_error(pv->doc,
			     "%s: unknown time zone \"%s\" (IANA "
			     "names, e.g. Europe/London)",
			     path, tz);
	PQclear(res);
	return 0;
}

static int check_db(struct prov *pv)
{
	struct md_doc *doc = pv->doc;
	char path[200];

	for (size_t i = 0; i < doc->nobjs; i++) {
		const struct md_obj *o = &doc->objs[i];

		/* after validation errors: check what is intact */
		if (!o->name || !o->vals)
			continue;
		if (name_exists(pv, o->sec, o->name, &pv->exists[i]))
			return EIO;
		if (o->del)
			continue;

		for (size_t k = 0; k < o->sec->nfields; k++) {
			const struct md_field *f = &o->sec->fields[k];
			const struct md_val *v = &o->vals[k];

			snprintf(path, sizeof(path), "%s.%s", o->path, f->key);
			if ((f->flags & MD_F_REQ_CREATE) && !pv->exists[i] &&
			    (!v->set || v->null))
				md_doc_error(doc,
					     "%s: required when creating "
					     "%s \"%s\"",
					     path, o->sec->noun, o->name);
			if (!v->set || v->null)
				continue;
			if (f->kind == MD_REF &&
			    check_ref(pv, o, f, v->text, path))
				return EIO;
			if (f->kind == MD_REF && !strcmp(f->ref, "accounts") &&
			    !strcmp(f->key, "account") &&
			    check_account_type(pv, o, v->text, path))
				return EIO;
			if (f->kind == MD_TZ && check_tz(pv, v->text, path))
				return EIO;
			if (f->kind == MD_REF_LIST) {
				json_t *list = json_loads(v->text, 0, NULL);
				json_t *e;
				size_t x;

				json_array_foreach(list, x, e)
				{
					snprintf(path, sizeof(path),
						 "%s.%s[%zu]", o->path, f->key,
						 x);
					if (check_ref(pv, o, f,
						      json_string_value(e),
						      path)) {
						json_decref(list);
						return EIO;
					}
				}
				json_decref(list);
			}
		}
	}
	return 0;
}

/* --- system parameters ---------------------------------------------------- */

static int apply_params(struct prov *pv)
{
	for (size_t i = 0; i < pv->doc->nparams; i++) {
		const struct md_param *p = &pv->doc->params[i];
		const struct md_param_def *def = md_param_find(p->name);
		const char *params[2] = {p->name, p->value};
		const char *old = NULL;
		PGresult *res;

		res = md_pq_exec(pv->conn,
				 "SELECT value FROM system_parameters "
				 "WHERE name = $1 FOR UPDATE",
				 1, params, pv->err, sizeof(pv->err));
		if (!res)
			goto fail;
		if (PQntuples(res))
			old = md_pq_get(res, 0, "value");

		if ((!old && !p->value) ||
		    (old && p->value && !strcmp(old, p->value))) {
			if (!pv->quiet)
				fprintf(pv->out,
					"unchanged system parameter %s = %s\n",
					p->name,
					p->value ? p->value : "(default)");
			pv->unchanged++;
			PQclear(res);
			continue;
		}

		if (!p->value) {
			fprintf(
			    pv->out,
			    "reset system parameter %s: %s -> default%s%s\n",
			    p->name, old, *def->def ? " " : "", def->def);
			PQclear(res);
			res = md_pq_exec(pv->conn,
					 "DELETE FROM system_parameters"
					 " WHERE name = $1",
					 1, params, pv->err, sizeof(pv->err));
			pv->deleted++;
		} else {
			if (old)
				fprintf(
				    pv->out,
				    "updated system parameter %s: %s -> %s\n",
				    p->name, old, p->value);
			else
				fprintf(pv->out,
					"set system parameter %s = %s\n",
					p->name, p->value);
			if (old)
				pv->updated++;
			else
				pv->created++;
			PQclear(res);
			res = md_pq_exec(pv->conn,
					 "INSERT INTO system_parameters"
					 " (name, value) VALUES ($1, $2) "
					 "ON CONFLICT (name) DO UPDATE SET "
					 "value = EXCLUDED.value, "
					 "updated_at = now()",
					 2, params, pv->err, sizeof(pv->err));
		}
		if (!res)
			goto fail;
		PQclear(res);
		pv->touched |= 1u << 31;
		continue;

	fail:
		prefix_err(pv, p->path);
		return EIO;
	}
	return 0;
}

/* --- child sets ------------------------------------------------------------
 */

/* a set held in a child table (prefixes, holidays): compare, describe,
 * apply */
static int apply_set(struct prov *pv, const struct md_field *f, const char *id,
		     const char *want, bool created, struct line *l)
{
	const char *cast = f->kind == MD_DATE_SET ? "::date" : "";
	char sql[512];
	json_t *w = json_loads(want, 0, NULL), *add = json_array(),
	       *del = json_array();
	char *adds = NULL, *dels = NULL;
	PGresult *res = NULL;
	const char *params[2] = {id, NULL};
	size_t wi = 0, wn = json_array_size(w);
	static const char *const names[] = {"v"};
	int ret = EIO, rows = 0, ri = 0, cv;
	struct line a = {0}, d = {0};

	if (!w || !add || !del) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT %s::text AS v FROM %s WHERE %s = "
		 "$1 ORDER BY %s::text COLLATE \"C\"",
		 f->set_col, f->set_table, f->set_fk, f->set_col);
	res = md_pq_exec(pv->conn, sql, 1, params, pv->err, sizeof(pv->err));
	if (!res || md_pq_cols(res, names, &cv, 1, pv->err, sizeof(pv->err)))
		goto out;
	rows = PQntuples(res);

	/* merge two sorted lists */
	while (wi < wn || ri < rows) {
		const char *ws =
		    wi < wn ? json_string_value(json_array_get(w, wi)) : NULL;
		const char *rs = ri < rows ? md_pq_val(res, ri, cv) : NULL;
		int c = !ws ? 1 : !rs ? -1 : strcmp(ws, rs);

		if (c == 0) {
			wi++;
			ri++;
		} else if (c < 0) {
			json_array_append_new(add, json_string(ws));
			line_add(&a, "%s", *ws ? ws : "\"\"");
			wi++;
		} else {
			rs = md_pq_val(res, ri, cv); /* c > 0: ri < rows */
			json_array_append_new(del, json_string(rs));
			line_add(&d, "%s", *rs ? rs : "\"\"");
			ri++;
		}
	}

	if (!created && (json_array_size(add) || json_array_size(del))) {
		if (a.items)
			line_add(l, "%s added: %s", f->key, a.buf);
		if (d.items)
			line_add(l, "%s removed: %s", f->key, d.buf);
	}

	adds = json_dumps(add, JSON_COMPACT);
	dels = json_dumps(del, JSON_COMPACT);
	if (!adds || !dels) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}
	if (json_array_size(del)) {
		PQclear(res);
		params[1] = dels;
		snprintf(sql, sizeof(sql),
			 "DELETE FROM %s WHERE %s = $1 AND "
			 "%s::text IN (SELECT json_array_elements_text("
			 "$2::json))",
			 f->set_table, f->set_fk, f->set_col);
		res = md_pq_exec(pv->conn, sql, 2, params, pv->err,
				 sizeof(pv->err));
		if (!res)
			goto out;
	}
	if (json_array_size(add)) {
		PQclear(res);
		params[1] = adds;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (%s, %s) SELECT $1, "
			 "e%s FROM json_array_elements_text($2::json) e",
			 f->set_table, f->set_fk, f->set_col, cast);
		res = md_pq_exec(pv->conn, sql, 2, params, pv->err,
				 sizeof(pv->err));
		if (!res)
			goto out;
	}
	ret = 0;

out:
	PQclear(res);
	free(adds);
	free(dels);
	json_decref(w);
	json_decref(add);
	json_decref(del);
	return ret;
}

static json_t *entry_json(const struct md_entry *e)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "prefix",
			 e->prefix, "area_name", e->area_name, "connect_fee",
			 (json_int_t)e->connect_fee, "first_interval",
			 (json_int_t)e->first_interval, "first_rate",
			 (json_int_t)e->first_rate, "next_interval",
			 (json_int_t)e->next_interval, "next_rate",
			 (json_int_t)e->next_rate);
}

/* the columns of rate_entries apply_entries reads, in col[] by these */
enum {
	E_PREFIX,
	E_AREA,
	E_CONNECT_FEE,
	E_FIRST_INTERVAL,
	E_FIRST_RATE,
	E_NEXT_INTERVAL,
	E_NEXT_RATE,
	E_NCOLS
};

static const char *const entry_cols[E_NCOLS] = {
    [E_PREFIX] = "prefix",	     [E_AREA] = "area_name",
    [E_CONNECT_FEE] = "connect_fee", [E_FIRST_INTERVAL] = "first_interval",
    [E_FIRST_RATE] = "first_rate",   [E_NEXT_INTERVAL] = "next_interval",
    [E_NEXT_RATE] = "next_rate",
};

/* entry column k of row r */
static const char *entry_val(const PGresult *res, const int *col, int r, int k)
{
	return md_pq_val(res, r, col[k]);
}

static int64_t entry_i64(const PGresult *res, const int *col, int r, int k)
{
	return strtoll(entry_val(res, col, r, k), NULL, 10);
}

/* describe how a database entry differs from the wanted one */
static void entry_diff(struct line *l, const struct md_entry *w,
		       const PGresult *res, const int *col, int r)
{
	static const char *const money[] = {"connect_fee", "first_rate",
					    "next_rate"};
	const int64_t wm[] = {w->connect_fee, w->first_rate, w->next_rate};
	const int mcol[] = {E_CONNECT_FEE, E_FIRST_RATE, E_NEXT_RATE};
	char a[32], b[32];

	if (strcmp(entry_val(res, col, r, E_AREA), w->area_name))
		line_add(l, "%s area_name \"%s\" -> \"%s\"", w->prefix,
			 entry_val(res, col, r, E_AREA), w->area_name);
	for (int i = 0; i < 3; i++) {
		int64_t old = entry_i64(res, col, r, mcol[i]);

		if (old == wm[i])
			continue;
		md_money_str(a, sizeof(a), old);
		md_money_str(b, sizeof(b), wm[i]);
		line_add(l, "%s %s %s -> %s", w->prefix, money[i], a, b);
	}
	if (entry_i64(res, col, r, E_FIRST_INTERVAL) != w->first_interval)
		line_add(l, "%s first_interval %s -> %lld", w->prefix,
			 entry_val(res, col, r, E_FIRST_INTERVAL),
			 (long long)w->first_interval);
	if (entry_i64(res, col, r, E_NEXT_INTERVAL) != w->next_interval)
		line_add(l, "%s next_interval %s -> %lld", w->prefix,
			 entry_val(res, col, r, E_NEXT_INTERVAL),
			 (long long)w->next_interval);
}

static bool entry_same(const struct md_entry *w, const PGresult *res,
		       const int *col, int r)
{
	return !strcmp(entry_val(res, col, r, E_AREA), w->area_name) &&
	       entry_i64(res, col, r, E_CONNECT_FEE) == w->connect_fee &&
	       entry_i64(res, col, r, E_FIRST_INTERVAL) == w->first_interval &&
	       entry_i64(res, col, r, E_FIRST_RATE) == w->first_rate &&
	       entry_i64(res, col, r, E_NEXT_INTERVAL) == w->next_interval &&
	       entry_i64(res, col, r, E_NEXT_RATE) == w->next_rate;
}

/* rate entries: a set keyed by prefix; one upsert and one delete */
static int apply_entries(struct prov *pv, const char *id,
			 const struct md_obj *o, bool created, struct line *l)
{
	json_t *up = json_array(), *del = json_array();
	struct line added = {0}, changed = {0}, removed = {0};
	char *ups = NULL, *dels = NULL;
	const char *params[2] = {id, NULL};
	PGresult *res = NULL, *res2;
	size_t wi = 0;
	int ret = EIO, ri = 0, rows, col[E_NCOLS];

	if (!up || !del) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}
	res = md_pq_exec(pv->conn,
			 "SELECT prefix, area_name, connect_fee, "
			 "first_interval, first_rate, next_interval, next_rate "
			 "FROM rate_entries WHERE rate_table_id = $1 "
			 "ORDER BY prefix COLLATE \"C\"",
			 1, params, pv->err, sizeof(pv->err));
	if (!res ||
	    md_pq_cols(res, entry_cols, col, E_NCOLS, pv->err, sizeof(pv->err)))
		goto out;
	rows = PQntuples(res);

	while (wi < o->nentries || ri < rows) {
		const struct md_entry *w =
		    wi < o->nentries ? &o->entries[wi] : NULL;
		const char *rs =
		    ri < rows ? entry_val(res, col, ri, E_PREFIX) : NULL;
		int c = !w ? 1 : !rs ? -1 : strcmp(w->prefix, rs);

		if (c == 0) {
			if (!entry_same(w, res, col, ri)) {
				entry_diff(&changed, w, res, col, ri);
				json_array_append_new(up, entry_json(w));
			}
			wi++;
			ri++;
		} else if (c < 0) {
			line_add(&added, "%s", *w->prefix ? w->prefix : "\"\"");
			json_array_append_new(up, entry_json(w));
			wi++;
		} else {
			/* c > 0: ri < rows */
			rs = entry_val(res, col, ri, E_PREFIX);
			line_add(&removed, "%s", *rs ? rs : "\"\"");
			json_array_append_new(del, json_string(rs));
			ri++;
		}
	}

	if (created) {
		line_add(l, "%zu entr%s", o->nentries,
			 o->nentries == 1 ? "y" : "ies");
	} else {
		if (added.items)
			line_add(l, "entries added: %s", added.buf);
		if (changed.items)
			line_add(l, "entries changed: %s", changed.buf);
		if (removed.items)
			line_add(l, "entries removed: %s", removed.buf);
	}

	ups = json_dumps(up, JSON_COMPACT);
	dels = json_dumps(del, JSON_COMPACT);
	if (!ups || !dels) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}
	if (json_array_size(del)) {
		params[1] = dels;
		res2 = md_pq_exec(pv->conn,
				  "DELETE FROM rate_entries WHERE "
				  "rate_table_id = $1 AND prefix IN (SELECT "
				  "json_array_elements_text($2::json))",
				  2, params, pv->err, sizeof(pv->err));
		if (!res2)
			goto out;
		PQclear(res2);
	}
	if (json_array_size(up)) {
		params[1] = ups;
		res2 = md_pq_exec(
		    pv->conn,
		    "INSERT INTO rate_entries (rate_table_id, prefix, "
		    "area_name, connect_fee, first_interval, first_rate, "
		    "next_interval, next_rate) "
		    "SELECT $1, e->>'prefix', e->>'area_name', "
		    "(e->>'connect_fee')::bigint, "
		    "(e->>'first_interval')::int, "
		    "(e->>'first_rate')::bigint, "
		    "(e->>'next_interval')::int, (e->>'next_rate')::bigint "
		    "FROM json_array_elements($2::json) e "
		    "ON CONFLICT (rate_table_id, prefix) DO UPDATE SET "
		    "area_name = EXCLUDED.area_name, "
		    "connect_fee = EXCLUDED.connect_fee, "
		    "first_interval = EXCLUDED.first_interval, "
		    "first_rate = EXCLUDED.first_rate, "
		    "next_interval = EXCLUDED.next_interval, "
		    "next_rate = EXCLUDED.next_rate",
		    2, params, pv->err, sizeof(pv->err));
		if (!res2)
			goto out;
		PQclear(res2);
	}
	ret = 0;

out:
	PQclear(res);
	free(ups);
	free(dels);
	json_decref(up);
	json_decref(del);
	return ret;
}

/* --- objects -----------------------------------------------------------------
 */

/* child sets of an object, after its row exists */
static int apply_children(struct prov *pv, const struct md_obj *o,
			  const char *id, bool created, struct line *l)
{
	for (size_t k = 0; k < o->sec->nfields; k++) {
		const struct md_field *f = &o->sec->fields[k];
		const struct md_val *v = &o->vals[k];
		int err = 0;

		if (!v->set)
			continue;
		if (f->kind == MD_PREFIX_SET || f->kind == MD_DATE_SET)
			err = apply_set(pv, f, id, v->text, created, l);
		else if (f->kind == MD_RATE_ENTRIES)
			err = apply_entries(pv, id, o, created, l);
		if (err)
			return err;
	}
	return 0;
}

static int create_obj(struct prov *pv, const struct md_obj *o)
{
	const struct md_section *sec = o->sec;
	const char **params;
	char *sql, expr[256], ha1[SW_MD5_HEX_LEN + 1];
	int ui = md_field_index(o->sec, "username");
	size_t len = 0, cap = 512 + sec->nfields * 300;
	int np = 1, ret = EIO;
	struct line l = {0};
	PGresult *res = NULL;
	char id[32];

	sql = malloc(cap);
	params = calloc(sec->nfields + 1, sizeof(*params));
	if (!sql || !params) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}
	params[0] = o->name;

	len = (size_t)snprintf(sql, cap, "INSERT INTO %s (%s", sec->table,
			       md_section_id(sec));
	for (size_t k = 0; k < sec->nfields; k++) {
		if (o->vals[k].set && has_column(&sec->fields[k]))
			len += (size_t)snprintf(sql + len, cap - len, ", %s",
						sec->fields[k].column);
	}
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES ($1");
	for (size_t k = 0; k < sec->nfields; k++) {
		const struct md_field *f = &sec->fields[k];

		if (!o->vals[k].set || !has_column(f))
			continue;
		params[np] = o->vals[k].null ? NULL : o->vals[k].text;
		if (f->flags & MD_F_HA1)
			params[np] = ha1_of(ha1, o, params[np],
					    ui < 0 ? NULL : &o->vals[ui], NULL);
		np++;
		write_expr(expr, sizeof(expr), f, np);
		len += (size_t)snprintf(sql + len, cap - len, ", %s", expr);
	}
	snprintf(sql + len, cap - len, ") RETURNING id");

	res = md_pq_exec(pv->conn, sql, np, params, pv->err, sizeof(pv->err));
	if (!res)
		goto out;
	snprintf(id, sizeof(id), "%s", md_pq_get(res, 0, "id"));

	/* an opening balance is a balance movement like any other */
	if (!strcmp(sec->key, "accounts")) {
		int bi = md_field_index(sec, "balance");
		int ai = md_field_index(sec, "agent");

		if (o->vals[bi].set && strcmp(o->vals[bi].text, "0")) {
			const char *bp[2] = {id, o->vals[bi].text};

			PQclear(res);
			res = md_pq_exec(pv->conn,
					 "INSERT INTO balance_history "
					 "(account_id, delta, balance, reason) "
					 "VALUES ($1, $2, $2, 'provision')",
					 2, bp, pv->err, sizeof(pv->err));
			if (!res)
				goto out;
		}
		if (o->vals[ai].set && !o->vals[ai].null)
			pv->agents_changed = true;
	}

	if (apply_children(pv, o, id, true, &l))
		goto out;

	fprintf(pv->out, "created %s %s%s%s%s\n", sec->noun, o->name,
		l.items ? " (" : "", l.items ? l.buf : "", l.items ? ")" : "");
	pv->created++;
	pv->touched |= section_bit(sec);
	ret = 0;

out:
	PQclear(res);
	free(sql);
	free(params);
	return ret;
}

/* field f's column in update_obj's current row of o, or -1 with the
 * reason in pv->err (that SELECT names every column it reads) */
static int row_col(struct prov *pv, const PGresult *res, const struct md_obj *o,
		   const struct md_field *f)
{
	int c = PQfnumber(res, f->column);

	if (c < 0)
		snprintf(pv->err, sizeof(pv->err),
			 "%s: no column %s in the current row", o->path,
			 f->column);
	return c;
}

static int update_obj(struct prov *pv, const struct md_obj *o)
{
	const struct md_section *sec = o->sec;
	const char **params = NULL;
	char *sql = NULL, expr[256], a[512], b[512];
	char ha1[SW_MD5_HEX_LEN + 1];
	int ui = md_field_index(sec, "username"), ucol = -1;
	size_t len, cap = 512 + sec->nfields * 300;
	int np = 1, ret = EIO;
	struct line l = {0};
	PGresult *res = NULL, *res2;
	const char *nameparam[1] = {o->name};
	char *oldj = NULL; /* canonical text of a jsonb value */
	char id[32];

	sql = malloc(cap);
	params = calloc(sec->nfields + 1, sizeof(*params));
	if (!sql || !params) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		goto out;
	}

	/* the current row, every column as canonical text under its own
	 * name */
	len = (size_t)snprintf(sql, cap, "SELECT t.id");
	for (size_t k = 0; k < sec->nfields; k++) {
		if (!has_column(&sec->fields[k]))
			continue;
		md_read_expr(expr, sizeof(expr), &sec->fields[k]);
		len += (size_t)snprintf(sql + len, cap - len, ", %s AS %s",
					expr, sec->fields[k].column);
	}
	/* no FOR UPDATE: an unchanged account must not block billingd's
	 * balance updates until our COMMIT; provisioners serialise on the
	 * advisory lock and the UPDATE below sets only changed columns */
	snprintf(sql + len, cap - len, " FROM %s t WHERE t.%s = $1", sec->table,
		 md_section_id(sec));
	res = md_pq_exec(pv->conn, sql, 1, nameparam, pv->err, sizeof(pv->err));
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		snprintf(pv->err, sizeof(pv->err), "vanished while updating");
		goto out;
	}
	snprintf(id, sizeof(id), "%s", md_pq_get(res, 0, "id"));
	params[0] = id;
	if (ui >= 0 && has_column(&sec->fields[ui])) {
		ucol = row_col(pv, res, o, &sec->fields[ui]);
		if (ucol < 0)
			goto out;
	}

	len = (size_t)snprintf(sql, cap, "UPDATE %s SET ", sec->table);
	for (size_t k = 0; k < sec->nfields; k++) {
		const struct md_field *f = &sec->fields[k];
		const struct md_val *v = &o->vals[k];
		const char *old, *new_text;
		int col;

		if (!has_column(f))
			continue;
		col = row_col(pv, res, o, f);
		if (col < 0)
			goto out;
		old = md_pq_null(res, 0, col) ? NULL : md_pq_val(res, 0, col);
		if ((f->flags & MD_F_HA1) && !v->set && old && ucol >= 0 &&
		    o->vals[ui].set &&
		    (o->vals[ui].null ||
		     strcmp(o->vals[ui].text, md_pq_val(res, 0, ucol)))) {
			/* the stored HA1 hashes the old user name */
			snprintf(pv->err, sizeof(pv->err),
				 "%s.%s: required when username changes "
				 "(only a hash of it is stored)",
				 o->path, f->key);
			goto out;
		}
		if (!v->set || (f->flags & MD_F_CREATE_ONLY))
			continue;
		if (f->flags & MD_F_HA1) {
			/* compare hashes: the password is known only now */
			new_text = ha1_of(ha1, o, v->null ? NULL : v->text,
					  ui < 0 ? NULL : &o->vals[ui],
					  !md_pq_null(res, 0, ucol)
					      ? md_pq_val(res, 0, ucol)
					      : NULL);
		} else {
			new_text = v->null ? NULL : v->text;
		}
		if ((f->kind == MD_DIALPLAN || f->kind == MD_MEDIA ||
		     f->kind == MD_IDENTITY || f->kind == MD_CALLER_POOL) &&
		    old) {
			/* jsonb prints its own way: compare our canonical form
			 */
			json_t *oj = json_loads(old, 0, NULL);

			free(oldj);
			oldj =
			    oj ? json_dumps(oj, JSON_COMPACT | JSON_SORT_KEYS)
			       : NULL;
			json_decref(oj);
			if (oldj)
				old = oldj;
		}
		if ((!old && !new_text) ||
		    (old && new_text && !strcmp(old, new_text)))
			continue;

		if (f->flags & MD_F_SECRET) {
			line_add(&l, "%s changed", f->key);
		} else {
			show(a, sizeof(a), f, old);
			show(b, sizeof(b), f, new_text);
			line_add(&l, "%s %s -> %s", f->key, a, b);
		}
		if (f->kind == MD_REF && !strcmp(f->key, "agent"))
			pv->agents_changed = true;

		params[np] = new_text;
		np++;
		write_expr(expr, sizeof(expr), f, np);
		len += (size_t)snprintf(sql + len, cap - len, "%s%s = %s",
					np > 2 ? ", " : "", f->column, expr);
	}
	if (np > 1) {
		snprintf(sql + len, cap - len, " WHERE id = $1");
		res2 = md_pq_exec(pv->conn, sql, np, params, pv->err,
				  sizeof(pv->err));
		if (!res2)
			goto out;
		PQclear(res2);
	}

	if (apply_children(pv, o, id, false, &l))
		goto out;

	if (l.items) {
		fprintf(pv->out, "updated %s %s: %s\n", sec->noun, o->name,
			l.buf);
		pv->updated++;
		pv->touched |= section_bit(sec);
	} else {
		if (!pv->quiet)
			fprintf(pv->out, "unchanged %s %s\n", sec->noun,
				o->name);
		pv->unchanged++;
	}
	ret = 0;

out:
	free(oldj);
	PQclear(res);
	free(sql);
	free(params);
	return ret;
}

/* depth of an account in the agent tree (0 = top), to delete leaves first */
static long account_depth(struct prov *pv, const char *name)
{
	const char *params[1] = {name};
	PGresult *res;
	long d;

	res = md_pq_exec(pv->conn,
			 "WITH RECURSIVE up(id, agent_id, d) AS ("
			 "SELECT id, agent_id, 0 FROM accounts WHERE name = $1 "
			 "UNION ALL SELECT a.id, a.agent_id, up.d + 1 FROM "
			 "accounts a JOIN up ON a.id = up.agent_id "
			 "WHERE up.d < 1000) SELECT max(d) AS depth FROM up",
			 1, params, NULL, 0);
	if (!res)
		return 0;
	d = strtol(md_pq_get(res, 0, "depth"), NULL, 10);
	PQclear(res);
	return d;
}

static int delete_obj(struct prov *pv, const struct md_obj *o)
{
	const char *params[1] = {o->name};
	char sql[160];
	PGresult *res;

	/* an account's balance history goes with it; payments, phones,
	 * gateways and reservations (a call in progress) keep it alive */
	if (!strcmp(o->sec->key, "accounts")) {
		res = md_pq_exec(pv->conn,
				 "DELETE FROM balance_history WHERE "
				 "account_id = (SELECT id FROM accounts WHERE "
				 "name = $1)",
				 1, params, pv->err, sizeof(pv->err));
		if (res) {
			PQclear(res);
			snprintf(sql, sizeof(sql),
				 "DELETE FROM %s WHERE "
				 "name = $1",
				 o->sec->table);
			res = md_pq_exec(pv->conn, sql, 1, params, pv->err,
					 sizeof(pv->err));
		}
	} else {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = $1",
			 o->sec->table, md_section_id(o->sec));
		res = md_pq_exec(pv->conn, sql, 1, params, pv->err,
				 sizeof(pv->err));
	}
	if (!res) {
		char why[sizeof(pv->err)];
		int n;

		n = snprintf(why, sizeof(why),
			     "cannot delete %s %s: ", o->sec->noun, o->name);
		if (n > 0 && (size_t)n < sizeof(why)) {
			size_t el =
			    strnlen(pv->err, sizeof(why) - 1 - (size_t)n);

			memcpy(why + n, pv->err, el);
			why[(size_t)n + el] = '\0';
		}
		memcpy(pv->err, why, sizeof(why));
		return EIO;
	}
	PQclear(res);
	fprintf(pv->out, "deleted %s %s\n", o->sec->noun, o->name);
	pv->deleted++;
	pv->touched |= section_bit(o->sec);
	return 0;
}

struct del_item {
	size_t idx;
	long depth;
};

static int cmp_del(const void *a, const void *b)
{
	const struct del_item *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* deletions, dependants first: sections in reverse, leaves before agents */
static int apply_deletes(struct prov *pv)
{
	struct md_doc *doc = pv->doc;
	struct del_item *items = calloc(doc->nobjs + 1, sizeof(*items));

	if (!items) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		return ENOMEM;
	}
	for (size_t s = md_nsections; s-- > 0;) {
		size_t n = 0;

		for (size_t i = 0; i < doc->nobjs; i++) {
			const struct md_obj *o = &doc->objs[i];

			if (o->sec != &md_sections[s] || !o->del)
				continue;
			if (!pv->exists[i]) {
				if (!pv->quiet)
					fprintf(pv->out,
						"unchanged %s %s (absent)\n",
						o->sec->noun, o->name);
				pv->unchanged++;
				continue;
			}
			items[n].idx = i;
			items[n].depth = !strcmp(o->sec->key, "accounts")
					     ? account_depth(pv, o->name)
					     : 0;
			n++;
		}
		qsort(items, n, sizeof(*items), cmp_del);
		for (size_t k = 0; k < n; k++) {
			const struct md_obj *o = &doc->objs[items[k].idx];

			if (delete_obj(pv, o)) {
				prefix_err(pv, o->path);
				free(items);
				return EIO;
			}
		}
	}
	free(items);
	return 0;
}

/* after agents changed: the agent tree must still be a tree */
static int check_agent_cycles(struct prov *pv)
{
	PGresult *res;

	res =
	    md_pq_exec(pv->conn,
		       "WITH RECURSIVE w(start, cur, n) AS ("
		       "SELECT id, agent_id, 1 FROM accounts "
		       "WHERE agent_id IS NOT NULL UNION ALL "
		       "SELECT w.start, a.agent_id, w.n + 1 FROM w JOIN "
		       "accounts a ON a.id = w.cur WHERE a.agent_id IS NOT "
		       "NULL AND w.cur <> w.start AND w.n < 1000) "
		       "SELECT a.name FROM w JOIN accounts a ON a.id = "
		       "w.start WHERE w.cur = w.start ORDER BY a.name LIMIT 1",
		       0, NULL, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	if (PQntuples(res)) {
		snprintf(pv->err, sizeof(pv->err),
			 "the agent chain of account "
			 "\"%s\" would be a cycle",
			 md_pq_get(res, 0, "name"));
		PQclear(res);
		return EINVAL;
	}
	PQclear(res);
	return 0;
}

/* a sub-agent's authorizations are a subset of its agent's (SPEC §6) */
static int check_authorizations(struct prov *pv)
{
	PGresult *res;

	res = md_pq_exec(
	    pv->conn,
	    "SELECT a.name AS account, p.name AS agent FROM accounts a "
	    "JOIN accounts p ON p.id = a.agent_id WHERE NOT "
	    "(a.agent_authorizations <@ p.agent_authorizations) "
	    "ORDER BY 1 LIMIT 1",
	    0, NULL, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	if (PQntuples(res)) {
		snprintf(pv->err, sizeof(pv->err),
			 "account %s would have agent_authorizations its agent "
			 "%s does not have",
			 md_pq_get(res, 0, "account"),
			 md_pq_get(res, 0, "agent"));
		PQclear(res);
		return EINVAL;
	}
	PQclear(res);
	return 0;
}

/* mapping filters name mapping gateways without a foreign key: keep them
 * pointing at existing gateways */
static int check_mapping_filters(struct prov *pv)
{
	PGresult *res;

	res = md_pq_exec(pv->conn,
			 "SELECT rg.name, f AS mapping_gateway FROM "
			 "routing_gateways rg, unnest(rg.mapping_filter) f "
			 "WHERE NOT EXISTS (SELECT 1 FROM mapping_gateways m "
			 "WHERE m.name = f) ORDER BY 1, 2 LIMIT 1",
			 0, NULL, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	if (PQntuples(res)) {
		snprintf(pv->err, sizeof(pv->err),
			 "routing gateway %s: its "
			 "mapping_filter names mapping gateway \"%s\", which "
			 "would no longer exist",
			 md_pq_get(res, 0, "name"),
			 md_pq_get(res, 0, "mapping_gateway"));
		PQclear(res);
		return EINVAL;
	}
	PQclear(res);
	return 0;
}

/* two mapping gateways claiming the same source make ingress ambiguous */
static int check_mapping_sources(struct prov *pv)
{
	PGresult *res;

	res = md_pq_exec(
	    pv->conn,
	    "SELECT a.name AS gateway_a, b.name AS gateway_b, ip, a.auth_mode "
	    "FROM mapping_gateways a "
	    "CROSS JOIN LATERAL unnest(a.ips) ip JOIN mapping_gateways b "
	    "ON b.id > a.id AND ip = ANY(b.ips) AND a.auth_mode = b.auth_mode "
	    "AND (a.auth_mode = 'ip' OR (a.auth_mode = 'ip_port' AND "
	    "(a.ports = '{}' OR b.ports = '{}' OR a.ports && b.ports))) "
	    "ORDER BY 1, 2, 3 LIMIT 1",
	    0, NULL, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	if (PQntuples(res)) {
		snprintf(pv->err, sizeof(pv->err),
			 "mapping gateways %s and %s would both claim %s "
			 "(auth_mode %s): calls from there would be ambiguous",
			 md_pq_get(res, 0, "gateway_a"),
			 md_pq_get(res, 0, "gateway_b"),
			 md_pq_get(res, 0, "ip"),
			 md_pq_get(res, 0, "auth_mode"));
		PQclear(res);
		return EINVAL;
	}
	PQclear(res);
	return 0;
}

static int apply(struct prov *pv)
{
	struct md_doc *doc = pv->doc;

	if (apply_params(pv))
		return EIO;

	for (size_t i = 0; i < doc->nobjs; i++) {
		const struct md_obj *o = &doc->objs[i];
		int err;

		if (o->del)
			continue;
		err = pv->exists[i] ? update_obj(pv, o) : create_obj(pv, o);
		if (err) {
			prefix_err(pv, o->path);
			return err;
		}
	}

	if (apply_deletes(pv))
		return EIO;

	if (pv->agents_changed && check_agent_cycles(pv)) {
		prefix_err(pv, "accounts");
		return EIO;
	}
	if ((pv->touched & section_bit(md_section_find("accounts"))) &&
	    check_authorizations(pv)) {
		prefix_err(pv, "accounts");
		return EIO;
	}
	if ((pv->touched & section_bit(md_section_find("mapping_gateways"))) &&
	    (check_mapping_filters(pv) || check_mapping_sources(pv)))
		return EIO;
	return 0;
}

static int notify(struct prov *pv)
{
	json_t *sections = json_array();
	json_t *payload;
	char *text;
	PGresult *res;
	const char *params[1];

	for (size_t s = 0; s < md_nsections; s++) {
		if (pv->touched & section_bit(&md_sections[s]))
			json_array_append_new(sections,
					      json_string(md_sections[s].key));
	}
	if (pv->touched & (1u << 31))
		json_array_append_new(sections,
				      json_string("system_parameters"));
	payload =
	    json_pack("{s:s, s:o}", "source", pv->source, "changed", sections);
	text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (!text) {
		snprintf(pv->err, sizeof(pv->err), "out of memory");
		return ENOMEM;
	}
	params[0] = text;
	res = md_pq_exec(pv->conn, "SELECT pg_notify('tandem_config', $1)", 1,
			 params, pv->err, sizeof(pv->err));
	free(text);
	if (!res)
		return EIO;
	PQclear(res);
	return 0;
}

/* If-Match: the object as it is now must have this ETag */
static int check_etag(struct prov *pv, const char *if_match)
{
	const struct md_obj *o = &pv->doc->objs[0];
	struct md_export_q q = {.name = o->name, .entries = true};
	json_t *items = NULL;
	char etag[24];
	long total;

	if (md_export(pv->conn, o->sec, &q, &items, &total, pv->err,
		      sizeof(pv->err)))
		return MD_DBERR;
	if (json_array_size(items) != 1) {
		json_decref(items);
		return MD_OK; /* gone meanwhile: the mode check decides */
	}
	md_etag(json_array_get(items, 0), etag);
	json_decref(items);
	if (strcmp(etag, if_match)) {
		snprintf(pv->err, sizeof(pv->err),
			 "%s: %s \"%s\" was changed by someone else (ETag "
			 "%s, not %s): read it again",
			 o->path, o->sec->noun, o->name, etag, if_match);
		return MD_STALE;
	}
	return MD_OK;
}

/* one audit_log row: who changed what, with the change lines */
static int audit(struct prov *pv, const struct md_apply *a, const char *changes)
{
	const char *params[5] = {
	    a->audit_actor, a->audit_action ? a->audit_action : "provision",
	    a->audit_object ? a->audit_object : "", changes,
	    a->audit_ip ? a->audit_ip : ""};
	PGresult *res;

	res =
	    md_pq_exec(pv->conn,
		       "INSERT INTO audit_log (actor, action, object, detail, "
		       "source_ip) VALUES ($1, $2, $3, jsonb_build_object("
		       "'changes', $4::text), $5)",
		       5, params, pv->err, sizeof(pv->err));
	if (!res)
		return EIO;
	PQclear(res);
	return 0;
}

/* what md_apply() refuses in a mode: the first object that breaks it */
static int check_mode(struct prov *pv, enum md_apply_mode mode)
{
	const struct md_doc *doc = pv->doc;

	for (size_t i = 0; i < doc->nobjs; i++) {
		const struct md_obj *o = &doc->objs[i];

		if (mode == MD_APPLY_CREATE && pv->exists[i]) {
			snprintf(pv->err, sizeof(pv->err),
				 "%s: %s \"%s\" already exists", o->path,
				 o->sec->noun, o->name);
			return MD_EXISTS;
		}
		if (mode == MD_APPLY_EXISTING && !pv->exists[i]) {
			snprintf(pv->err, sizeof(pv->err), "%s: no %s \"%s\"",
				 o->path, o->sec->noun, o->name);
			return MD_NOT_FOUND;
		}
	}
	return MD_OK;
}

/*
 * Apply doc (checked by md_doc_check()) in one transaction on a->conn.
 * A doc with validation errors is still checked against the database (what
 * it refers to) so that every problem is reported at once, then refused.
 * Returns MD_OK, or why nothing was written: MD_INVALID (the problems are
 * in doc->errs), MD_EXISTS / MD_NOT_FOUND (a->mode), MD_REFUSED (a rule
 * across objects, reason in a->err), MD_DBERR (a->err).
 */
int md_apply(struct md_apply *a, struct md_doc *doc)
{
	struct prov pv = {0};
	PGresult *res;
	char *outbuf = NULL;
	size_t outlen = 0;
	int ret = MD_DBERR;
	bool changed;

	a->created = a->updated = a->deleted = a->unchanged = 0;
	a->err[0] = '\0';
	pv.conn = a->conn;
	pv.doc = doc;
	pv.quiet = a->quiet;
	pv.source = a->source ? a->source : "tandemctl";
	pv.exists = calloc(doc->nobjs + 1, sizeof(*pv.exists));
	pv.out = open_memstream(&outbuf, &outlen);
	if (!pv.exists || !pv.out) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		goto out;
	}

	if (md_pq_cmd(pv.conn, "BEGIN", pv.err, sizeof(pv.err)))
		goto dberr;
	res = md_pq_exec(pv.conn,
			 "SELECT pg_advisory_xact_lock(x'" PROV_LOCK_KEY
			 "'::bigint)",
			 0, NULL, pv.err, sizeof(pv.err));
	if (!res)
		goto dberr;
	PQclear(res);

	if (check_db(&pv))
		goto dberr;
	/* the caller's rule first (an agent learns nothing of what is not
	 * its own), then an object that must (not) exist, then its fields */
	if (a->guard) {
		ret = a->guard(pv.conn, doc, a->guard_arg, pv.err,
			       sizeof(pv.err));
		if (ret == MD_DBERR)
			goto dberr;
		if (ret != MD_OK)
			goto rollback;
	}
	ret = check_mode(&pv, a->mode);
	if (ret != MD_OK)
		goto rollback;
	if (doc->nerrs) {
		ret = MD_INVALID;
		goto rollback;
	}

	if (a->if_match && doc->nobjs == 1 && pv.exists[0]) {
		ret = check_etag(&pv, a->if_match);
		if (ret == MD_DBERR)
			goto dberr;
		if (ret != MD_OK)
			goto rollback;
	}
	if (apply(&pv)) {
		ret = MD_REFUSED;
		goto rollback;
	}

	changed = pv.created || pv.updated || pv.deleted;
	if (changed && a->audit_actor && !a->dry_run) {
		fflush(pv.out);
		if (audit(&pv, a, outbuf ? outbuf : ""))
			goto dberr;
	}
	if (a->dry_run) {
		md_pq_cmd(pv.conn, "ROLLBACK", NULL, 0);
	} else {
		if (changed && notify(&pv))
			goto dberr;
		if (md_pq_cmd(pv.conn, "COMMIT", pv.err, sizeof(pv.err)))
			goto dberr;
	}
	a->created = pv.created;
	a->updated = pv.updated;
	a->deleted = pv.deleted;
	a->unchanged = pv.unchanged;
	fflush(pv.out);
	if (a->out && outlen)
		fwrite(outbuf, 1, outlen, a->out);
	ret = MD_OK;
	goto out;

dberr:
	ret = MD_DBERR;
rollback:
	memcpy(a->err, pv.err, sizeof(a->err));
	md_pq_cmd(pv.conn, "ROLLBACK", NULL, 0);
out:
	free(pv.exists);
	db_names_free(&pv);
	if (pv.out)
		fclose(pv.out);
	free(outbuf);
	return ret;
}
