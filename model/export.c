/*
 * export.c - configuration objects as provisioning JSON
 *
 * What the API returns for GET is what `tandemctl provision` accepts: the
 * same keys, money as decimal strings, references by name, sets sorted.
 * Secret fields (passwords) are never read.  Rate tables carry their
 * entries only when asked for one table (a list shows entry_count).
 *
 * Threading: blocking libpq on the caller's connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define SQL_MAX 16384

struct sqlbuf {
	char s[SQL_MAX];
	size_t n;
	bool over;
};

static void add(struct sqlbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->s) - b->n)
		b->over = true;
	else
		b->n += (size_t)n;
}

static bool exported(const struct md_field *f)
{
	return !(f->flags & MD_F_SECRET);
}

/* the SELECT expression of field f, as canonical text */
static void field_expr(struct sqlbuf *b, const struct md_section *sec,
		       const struct md_field *f, bool entries)
{
	char e[512];

	switch (f->kind) {
	case MD_PREFIX_SET:
	case MD_DATE_SET:
		add(b,
		    "(SELECT coalesce(json_agg(s.%s::text ORDER BY "
		    "s.%s::text COLLATE \"C\"), '[]') FROM %s s "
		    "WHERE s.%s = t.id)::text",
		    f->set_col, f->set_col, f->set_table, f->set_fk);
		return;
	case MD_RATE_ENTRIES:
		if (entries)
			add(b,
			    "(SELECT coalesce(json_agg(json_build_object("
			    "'prefix', e.prefix, 'area_name', e.area_name, "
			    "'connect_fee', e.connect_fee, 'first_interval', "
			    "e.first_interval, 'first_rate', e.first_rate, "
			    "'next_interval', e.next_interval, 'next_rate', "
			    "e.next_rate) ORDER BY e.prefix COLLATE \"C\"), "
			    "'[]') FROM rate_entries e "
			    "WHERE e.rate_table_id = t.id)::text");
		else
			add(b, "(SELECT count(*) FROM rate_entries e "
			       "WHERE e.rate_table_id = t.id)::text");
		return;
	default:
		(void)sec;
		md_read_expr(e, sizeof(e), f);
		add(b, "%s", e);
		return;
	}
}

static json_t *money_json(const char *text)
{
	char buf[40];

	md_money_str(buf, sizeof(buf), strtoll(text, NULL, 10));
	return json_string(buf);
}

/* entries as stored (micro-units) -> as provisioned (decimal strings) */
static json_t *entries_json(const char *text)
{
	static const char *const money[] = {"connect_fee", "first_rate",
					    "next_rate"};
	json_t *list = json_loads(text, 0, NULL);
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		for (size_t k = 0; k < sizeof(money) / sizeof(money[0]); k++) {
			char v[32], buf[40];
			json_t *m = json_object_get(e, money[k]);

			snprintf(v, sizeof(v), "%lld",
				 (long long)json_integer_value(m));
			md_money_str(buf, sizeof(buf), strtoll(v, NULL, 10));
			json_object_set_new(e, money[k], json_string(buf));
		}
	}
	return list;
}

static json_t *value_json(const struct md_field *f, const char *text,
			  bool entries)
{
	switch (f->kind) {
	case MD_INT:
		return json_integer(strtoll(text, NULL, 10));
	case MD_MONEY:
		return money_json(text);
	case MD_BOOL:
		return json_boolean(!strcmp(text, "true") ||
				    !strcmp(text, "t"));
	case MD_RATE_ENTRIES:
		return entries ? entries_json(text)
			       : json_integer(strtoll(text, NULL, 10));
	case MD_INT_LIST:
	case MD_PREFIX_LIST:
	case MD_IP_LIST:
	case MD_REF_LIST:
	case MD_ENUM_SET:
	case MD_PREFIX_SET:
	case MD_DATE_SET:
	case MD_DIALPLAN:
	case MD_MEDIA:
	case MD_IDENTITY:
	case MD_CALLER_POOL:
		return json_loads(text, JSON_DECODE_ANY, NULL);
	default:
		return json_string(text);
	}
}

/* the number of objects of sec in scope (a page past the end) */
static int export_count(PGconn *conn, const struct md_section *sec,
			const struct md_export_q *q, long *totalp, char *err,
			size_t errsz)
{
	char sql[1024];
	const char *params[1] = {q->scope_arg};
	PGresult *res;

	snprintf(sql, sizeof(sql), "SELECT count(*) AS n FROM %s t WHERE %s",
		 sec->table, q->scope ? q->scope : "true");
	res = md_pq_exec(conn, sql, q->scope ? 1 : 0, params, err, errsz);
	if (!res)
		return EIO;
	*totalp = strtol(md_pq_get(res, 0, "n"), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * Read a page of sec's objects (or the one named q->name) into a new JSON
 * array *itemsp; *totalp gets the number of objects the query matches
 * without the page.  Returns 0 or EIO with the reason in err.
 */
int md_export(PGconn *conn, const struct md_section *sec,
	      const struct md_export_q *q, json_t **itemsp, long *totalp,
	      char *err, size_t errsz)
{
	struct sqlbuf *b = calloc(1, sizeof(*b));
	const char *params[2];
	int np = 0, col;
	PGresult *res;
	json_t *items;
	const char *id = md_section_id(sec);

	if (!b) {
		snprintf(err, errsz, "out of memory");
		return ENOMEM;
	}
	add(b, "SELECT t.%s::text AS %s, count(*) OVER () AS total", id, id);
	for (size_t k = 0; k < sec->nfields; k++) {
		const struct md_field *f = &sec->fields[k];

		if (!exported(f))
			continue;
		add(b, ", ");
		field_expr(b, sec, f, q->entries);
		add(b, " AS f%zu", k);
	}
	add(b, " FROM %s t WHERE true", sec->table);
	if (q->scope) {
		params[np++] = q->scope_arg;
		add(b, " AND (%s)", q->scope);
	}
	if (q->name) {
		params[np++] = q->name;
		add(b, " AND t.%s = $%d", id, np);
	}
	add(b, " ORDER BY t.%s COLLATE \"C\"", id);
	if (!q->name)
		add(b, " LIMIT %ld OFFSET %ld", q->limit, q->offset);
	if (b->over) {
		free(b);
		snprintf(err, errsz, "query too long");
		return EIO;
	}
	res = md_pq_exec(conn, b->s, np, params, err, errsz);
	free(b);
	if (!res)
		return EIO;

	items = json_array();
	*totalp = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		json_t *o = json_object();

		*totalp = strtol(PQgetvalue(res, r, PQfnumber(res, "total")),
				 NULL, 10);
		json_object_set_new(
		    o, id, json_string(PQgetvalue(res, r, PQfnumber(res, id))));
		for (size_t k = 0; k < sec->nfields; k++) {
			const struct md_field *f = &sec->fields[k];
			char cname[24];
			const char *key = f->key;

			if (!exported(f))
				continue;
			snprintf(cname, sizeof(cname), "f%zu", k);
			col = PQfnumber(res, cname);
			if (f->kind == MD_RATE_ENTRIES && !q->entries)
				key = "entry_count";
			if (PQgetisnull(res, r, col))
				json_object_set_new(o, key, json_null());
			else
				json_object_set_new(
				    o, key,
				    value_json(f, PQgetvalue(res, r, col),
					       q->entries));
		}
		json_array_append_new(items, o);
	}
	if (!PQntuples(res) && !q->name && q->offset > 0) {
		/* a page past the end: the total still counts */
		PQclear(res);
		*itemsp = items;
		return export_count(conn, sec, q, totalp, err, errsz);
	}
	PQclear(res);
	*itemsp = items;
	return 0;
}

/* FNV-1a 64 of the object's sorted compact JSON, as a quoted ETag */
void md_etag(const json_t *obj, char out[24])
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = text ? text : ""; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	free(text);
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}
