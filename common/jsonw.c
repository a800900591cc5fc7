/*
 * jsonw.c - JSON text written straight into a growing buffer (jsonw.h)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/utf8.h"

/* room for n more bytes and the NUL */
static bool room(struct sw_jw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->oom)
		return false;
	if (w->len + n + 1 <= w->cap)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n + 1)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		w->oom = true;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void put(struct sw_jw *w, const char *s, size_t n)
{
	if (!room(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Empty the buffer (kept for the next use). */
void sw_jw_reset(struct sw_jw *w)
{
	w->len = 0;
	w->oom = false;
	if (w->buf)
		w->buf[0] = '\0';
}

void sw_jw_free(struct sw_jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void sw_jw_raw(struct sw_jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A JSON string: "s", escaped.  NULL is written as "". */
void sw_jw_str(struct sw_jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	put(w, "\"", 1);
	for (run = s = s ? s : ""; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		default:
			put(w, esc, sizeof(esc));
		}
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

/*
 * A string from the wire, the same text sw_json_text() would give: valid
 * UTF-8 as it is, anything else through sw_utf8_copy() (1024 bytes).
 */
void sw_jw_text(struct sw_jw *w, const char *s)
{
	char buf[1025];

	if (!s)
		s = "";
	if (!sw_utf8_valid(s, strlen(s))) {
		sw_utf8_copy(buf, sizeof(buf), s, strlen(s));
		s = buf;
	}
	sw_jw_str(w, s);
}

void sw_jw_i64(struct sw_jw *w, int64_t v)
{
	char n[24], *e = n + sizeof(n), *p = e;
	/* the magnitude as unsigned: INT64_MIN has no positive int64_t */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(w, p, (size_t)(e - p));
}

/* n bytes as they are (the caller's own syntax, e.g. a SQL array's) */
void sw_jw_mem(struct sw_jw *w, const char *s, size_t n)
{
	put(w, s, n);
}

/* A jansson value, compact (null when j is NULL). */
void sw_jw_json(struct sw_jw *w, const json_t *j)
{
	size_t n;

	if (!j) {
		put(w, "null", 4);
		return;
	}
	/* into the room there is; once more when it did not fit */
	if (!room(w, 256))
		return;
	n = json_dumpb(j, w->buf + w->len, w->cap - w->len - 1,
		       JSON_COMPACT | JSON_ENCODE_ANY);
	if (n > w->cap - w->len - 1) {
		if (!room(w, n))
			return;
		n = json_dumpb(j, w->buf + w->len, n,
			       JSON_COMPACT | JSON_ENCODE_ANY);
	}
	if (!n) {
		w->oom = true; /* cannot be written: the whole text is bad */
		return;
	}
	w->len += n;
	w->buf[w->len] = '\0';
}

void sw_jw_key(struct sw_jw *w, const char *key, bool first)
{
	if (!first)
		put(w, ",", 1);
	sw_jw_str(w, key);
	put(w, ":", 1);
}

void sw_jw_kstr(struct sw_jw *w, const char *key, const char *s)
{
	sw_jw_key(w, key, false);
	sw_jw_str(w, s);
}

void sw_jw_ki64(struct sw_jw *w, const char *key, int64_t v)
{
	sw_jw_key(w, key, false);
	sw_jw_i64(w, v);
}

void sw_jw_ktext(struct sw_jw *w, const char *key, const char *s)
{
	sw_jw_key(w, key, false);
	sw_jw_text(w, s);
}
