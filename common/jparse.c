/*
 * jparse.c - a recursive-descent JSON reader building jansson trees
 *
 * One pass over the bytes.  A string without escapes goes to jansson
 * straight from the input (json_stringn_nocheck copies it); one with
 * escapes is decoded into the reader's scratch buffer first.  Numbers are
 * read by hand (integers) or by strtod on a NUL-terminated copy (reals),
 * as jansson does.  Nesting is by recursion, bounded by MAX_DEPTH.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jparse.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct rd {
	const unsigned char *p, *end, *start;
	unsigned depth;
	char *err;
	size_t errsz;
	bool failed;
	char *scratch; /* owned: decoded strings with escapes */
	size_t scap;
};

static void fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return;
	r->failed = true;
	if (!r->errsz)
		return;
	n = snprintf(r->err, r->errsz, "%zu: ", (size_t)(r->p - r->start));
	if (n < 0 || (size_t)n >= r->errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errsz - (size_t)n, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' ||
				 *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* the length (2-4) of the valid UTF-8 sequence at p, 0 when invalid
 * (overlong forms, surrogates and values past U+10FFFF are invalid) */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	return n;
}

static bool scratch_put(struct rd *r, size_t *len, const void *s, size_t n)
{
	if (!n)
		return true;
	if (*len + n > r->scap) {
		size_t cap = r->scap ? r->scap * 2 : 256;
		char *b;

		while (cap < *len + n)
			cap *= 2;
		b = realloc(r->scratch, cap);
		if (!b) {
			fail(r, "out of memory");
			return false;
		}
		r->scratch = b;
		r->scap = cap;
	}
	memcpy(r->scratch + *len, s, n);
	*len += n;
	return true;
}

static int hex4(const unsigned char *p, const unsigned char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (int)(c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* one \u escape (r->p after the 'u'), as UTF-8 into the scratch buffer */
static bool unicode_escape(struct rd *r, size_t *len)
{
	int32_t v = hex4(r->p, r->end);
	unsigned char u[4];
	size_t n;

	if (v < 0) {
		fail(r, "invalid escape");
		return false;
	}
	r->p += 4;
	if (v >= 0xdc00 && v <= 0xdfff) {
		fail(r, "invalid Unicode '\\u%04X'", (unsigned)v);
		return false;
	}
	if (v >= 0xd800 && v <= 0xdbff) {
		int32_t lo = -1;

		if (r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u')
			lo = hex4(r->p + 2, r->end);
		if (lo < 0xdc00 || lo > 0xdfff) {
			fail(r, "invalid Unicode '\\u%04X'", (unsigned)v);
			return false;
		}
		r->p += 6;
		v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (v == 0) {
		fail(r, "\\u0000 is not allowed");
		return false;
	}
	if (v < 0x80) {
		u[0] = (unsigned char)v;
		n = 1;
	} else if (v < 0x800) {
		u[0] = (unsigned char)(0xc0 | (v >> 6));
		u[1] = (unsigned char)(0x80 | (v & 0x3f));
		n = 2;
	} else if (v < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (v >> 12));
		u[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (v & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (v >> 18));
		u[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (v & 0x3f));
		n = 4;
	}
	return scratch_put(r, len, u, n);
}

/*
 * The string at r->p (its opening quote): *sp and *np point at its text,
 * in the input when it has no escape, else in the scratch buffer (valid
 * until the next string).  false on an error.
 */
static bool read_string(struct rd *r, const char **sp, size_t *np)
{
	const unsigned char *s = ++r->p, *run;
	size_t len = 0;
	bool esc = false;

	/* the common case: no escape */
	while (r->p < r->end) {
		unsigned c = *r->p;

		if (c == '"') {
			*sp = (const char *)s;
			*np = (size_t)(r->p - s);
			r->p++;
			return true;
		}
		if (c == '\\') {
			esc = true;
			break;
		}
		if (c < 0x20) {
			fail(r, "control character 0x%x", c);
			return false;
		}
		if (c < 0x80) {
			r->p++;
			continue;
		}
		size_t n = utf8_seq(r->p, r->end);
		if (!n) {
			fail(r, "unable to decode byte 0x%x", c);
			return false;
		}
		r->p += n;
	}
	if (!esc) {
		fail(r, "premature end of input");
		return false;
	}

	/* the text so far, then the rest decoded */
	if (!scratch_put(r, &len, s, (size_t)(r->p - s)))
		return false;
	run = r->p;
	while (r->p < r->end) {
		unsigned c = *r->p;
		char out;

		if (c == '"') {
			if (!scratch_put(r, &len, run, (size_t)(r->p - run)))
				return false;
			r->p++;
			*sp = r->scratch;
			*np = len;
			return true;
		}
		if (c < 0x20) {
			fail(r, "control character 0x%x", c);
			return false;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq(r->p, r->end);

			if (!n) {
				fail(r, "unable to decode byte 0x%x", c);
				return false;
			}
			r->p += n;
			continue;
		}
		if (c != '\\') {
			r->p++;
			continue;
		}
		if (!scratch_put(r, &len, run, (size_t)(r->p - run)))
			return false;
		if (r->end - r->p < 2) {
			r->p = r->end;
			break;
		}
		r->p += 2;
		switch (r->p[-1]) {
		case '"':
		case '\\':
		case '/':
			out = (char)r->p[-1];
			break;
		case 'b':
			out = '\b';
			break;
		case 'f':
			out = '\f';
			break;
		case 'n':
			out = '\n';
			break;
		case 'r':
			out = '\r';
			break;
		case 't':
			out = '\t';
			break;
		case 'u':
			if (!unicode_escape(r, &len))
				return false;
			run = r->p;
			continue;
		default:
			fail(r, "invalid escape");
			return false;
		}
		if (!scratch_put(r, &len, &out, 1))
			return false;
		run = r->p;
	}
	fail(r, "premature end of input");
	return false;
}

static bool is_digit(const struct rd *r)
{
	return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

/* one or more digits (a fraction's, an exponent's) */
static bool digits(struct rd *r)
{
	if (!is_digit(r)) {
		fail(r, "invalid token");
		return false;
	}
	while (is_digit(r))
		r->p++;
	return true;
}

static json_t *read_number(struct rd *r)
{
	const unsigned char *s = r->p;
	bool neg = false, real = false;
	uint64_t v = 0;
	bool big = false;

	if (*r->p == '-') {
		neg = true;
		r->p++;
	}
	if (!is_digit(r)) {
		fail(r, "invalid token");
		return NULL;
	}
	if (*r->p == '0') {
		r->p++;
		if (is_digit(r)) {
			fail(r, "invalid token");
			return NULL;
		}
	} else {
		while (is_digit(r)) {
			unsigned d = *r->p++ - '0';

			if (v > (UINT64_MAX - d) / 10)
				big = true;
			else
				v = v * 10 + d;
		}
	}
	if (r->p < r->end && *r->p == '.') {
		real = true;
		r->p++;
		if (!digits(r))
			return NULL;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		real = true;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digits(r))
			return NULL;
	}

	if (!real) {
		if (big || v > (uint64_t)INT64_MAX + neg) {
			fail(r, neg ? "too big negative integer"
				    : "too big integer");
			return NULL;
		}
		if (neg)
			return json_integer(v == (uint64_t)INT64_MAX + 1
						? INT64_MIN
						: -(int64_t)v);
		return json_integer((int64_t)v);
	}

	/* strtod wants a terminated string */
	char small[64], *text = small;
	size_t n = (size_t)(r->p - s);
	double d;

	if (n >= sizeof(small)) {
		text = malloc(n + 1);
		if (!text) {
			fail(r, "out of memory");
			return NULL;
		}
	}
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	d = strtod(text, NULL);
	if (text != small)
		free(text);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
		fail(r, "real number overflow");
		return NULL;
	}
	return json_real(d);
}

static bool word(struct rd *r, const char *w, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return false;
	r->p += n;
	return true;
}

static json_t *read_value(struct rd *r);

/* at an opening bracket, for container c (NULL: out of memory): 1 when
 * the closing one follows (empty), 0 to read members, -1 failed */
static int open_bracket(struct rd *r, const json_t *c, unsigned char close)
{
	if (!c) {
		fail(r, "out of memory");
		return -1;
	}
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 1;
	}
	return 0;
}

/* after an array element or object member: 1 at the closing bracket, 0
 * at a comma (both consumed), -1 (failed) at anything else */
static int after_member(struct rd *r, unsigned char close)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 1;
	}
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		return 0;
	}
	fail(r, close == ']' ? "']' expected" : "'}' expected");
	return -1;
}

static json_t *read_array(struct rd *r)
{
	json_t *a = json_array();
	int st = open_bracket(r, a, ']');

	while (!st) {
		json_t *v = read_value(r);

		if (!v) {
			st = -1;
		} else if (json_array_append_new(a, v)) {
			fail(r, "out of memory");
			st = -1;
		} else {
			st = after_member(r, ']');
		}
	}
	if (st > 0)
		return a;
	json_decref(a);
	return NULL;
}

/* one "key": value into o; false when failed */
static bool read_member(struct rd *r, json_t *o)
{
	const char *ks, *key;
	size_t kn;
	char kbuf[128], *own = NULL;
	json_t *v = NULL;

	skip_ws(r);
	if (r->p >= r->end || *r->p != '"') {
		fail(r, "string or '}' expected");
		return false;
	}
	if (!read_string(r, &ks, &kn))
		return false;
	/* an escaped key sits in the scratch buffer, which the value may
	 * reuse */
	key = ks;
	if (ks == r->scratch) {
		char *k = kn < sizeof(kbuf) ? kbuf : (own = malloc(kn));

		if (!k) {
			fail(r, "out of memory");
			return false;
		}
		memcpy(k, ks, kn);
		key = k;
	}
	if (json_object_getn(o, key, kn)) {
		fail(r, "duplicate object key");
	} else {
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':') {
			fail(r, "':' expected");
		} else {
			r->p++;
			v = read_value(r);
		}
	}
	if (v && json_object_setn_new_nocheck(o, key, kn, v))
		fail(r, "out of memory");
	free(own);
	return !r->failed;
}

static json_t *read_object(struct rd *r)
{
	json_t *o = json_object();
	int st = open_bracket(r, o, '}');

	while (!st)
		st = read_member(r, o) ? after_member(r, '}') : -1;
	if (st > 0)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *read_value(struct rd *r)
{
	json_t *v = NULL;

	if (++r->depth > MAX_DEPTH) {
		fail(r, "maximum parsing depth reached");
		return NULL;
	}
	skip_ws(r);
	if (r->p >= r->end) {
		fail(r, "premature end of input");
		return NULL;
	}
	switch (*r->p) {
	case '{':
		v = read_object(r);
		break;
	case '[':
		v = read_array(r);
		break;
	case '"': {
		const char *s;
		size_t n;

		if (read_string(r, &s, &n)) {
			v = json_stringn_nocheck(s, n);
			if (!v)
				fail(r, "out of memory");
		}
		break;
	}
	case 't':
		v = word(r, "true", 4) ? json_true() : NULL;
		break;
	case 'f':
		v = word(r, "false", 5) ? json_false() : NULL;
		break;
	case 'n':
		v = word(r, "null", 4) ? json_null() : NULL;
		break;
	default:
		if (*r->p == '-' || is_digit(r))
			v = read_number(r);
		break;
	}
	if (!v)
		fail(r, "invalid token");
	r->depth--;
	return v;
}

json_t *sw_json_parse(const char *buf, size_t len, char *err, size_t errsz)
{
	struct rd r = {.err = err, .errsz = errsz};
	json_t *root = NULL;

	if (errsz)
		err[0] = '\0';
	if (!buf) {
		fail(&r, "no input");
		return NULL;
	}
	r.p = r.start = (const unsigned char *)buf;
	r.end = r.p + len;
	skip_ws(&r);
	if (r.p >= r.end || (*r.p != '{' && *r.p != '[')) {
		fail(&r, "'[' or '{' expected");
		return NULL;
	}
	root = read_value(&r);
	if (root) {
		skip_ws(&r);
		if (r.p < r.end) {
			fail(&r, "end of file expected");
			json_decref(root);
			root = NULL;
		}
	}
	free(r.scratch);
	return root;
}
