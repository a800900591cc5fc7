/*
 * pgarr.c - binary PostgreSQL array parameters
 *
 * The layout array_recv reads, every integer big-endian:
 *   int32 ndim (1), int32 flags (1 when an element is NULL),
 *   uint32 element type, int32 length, int32 lower bound (1),
 *   then per element: int32 byte length (-1 = NULL) and its bytes.
 * Element bytes: int4/int8 big-endian; text as is; uuid its 16 bytes;
 * jsonb a version byte (1) and the JSON text.
 * The caller gives the element count up front and writes exactly that
 * many elements.  A failed allocation is w->oom, as for any sw_jw.
 *
 * A binary COPY stream (COPY ... FROM STDIN (FORMAT binary)) holds its
 * fields the same way: the signature, two int32 zeros (flags, header
 * extension), then per row an int16 field count and each field as an int32
 * length (-1 = NULL) and its bytes, and an int16 -1 at the end.
 */
#include <string.h>

#include "billingd/pgarr.h"

static void put32(struct sw_jw *w, uint32_t v)
{
	char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

	sw_jw_mem(w, b, sizeof(b));
}

static void put64(struct sw_jw *w, uint64_t v)
{
	put32(w, (uint32_t)(v >> 32));
	put32(w, (uint32_t)v);
}

static void put16(struct sw_jw *w, uint16_t v)
{
	char b[2] = {(char)(v >> 8), (char)v};

	sw_jw_mem(w, b, sizeof(b));
}

void bd_pgarr_begin(struct bd_pgarr *a, struct sw_jw *w,
		    enum bd_pgarr_type type, uint32_t n)
{
	a->w = w;
	a->start = w->len;
	a->type = type;
	put32(w, 1); /* ndim */
	put32(w, 0); /* flags: set by the first NULL */
	put32(w, (uint32_t)type);
	put32(w, n);
	put32(w, 1); /* lower bound */
}

/* an int4 or int8 value; an int4 out of its range goes as 8 bytes,
 * which the server refuses ("incorrect binary data format"), as it would
 * refuse the number in text */
void bd_pgbin_int(struct sw_jw *w, enum bd_pgarr_type type, int64_t v)
{
	if (type == BD_PGARR_INT4 && v >= INT32_MIN && v <= INT32_MAX) {
		put32(w, 4);
		put32(w, (uint32_t)v);
	} else {
		put32(w, 8);
		put64(w, (uint64_t)v);
	}
}

/* a text or jsonb value; NULL s is the empty text */
void bd_pgbin_str(struct sw_jw *w, enum bd_pgarr_type type, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool jsonb = type == BD_PGARR_JSONB;

	if (n > INT32_MAX - 1) {
		w->oom = true; /* no parameter is that big */
		return;
	}
	put32(w, (uint32_t)(n + jsonb));
	if (jsonb)
		sw_jw_mem(w, "\1", 1);
	sw_jw_mem(w, s ? s : "", n);
}

void bd_pgarr_int(struct bd_pgarr *a, int64_t v)
{
	bd_pgbin_int(a->w, a->type, v);
}

void bd_pgarr_str(struct bd_pgarr *a, const char *s)
{
	bd_pgbin_str(a->w, a->type, s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* a uuid value from its 8-4-4-4-12 text; false (nothing written) when
 * s is not one */
bool bd_pgbin_uuid(struct sw_jw *w, const char *s)
{
	char b[16];
	size_t k = 0;

	for (size_t i = 0; s && s[i] && k < sizeof(b) * 2; i++) {
		int v;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		v = hexval(s[i]);
		if (v < 0)
			return false;
		if (k % 2)
			b[k / 2] = (char)(b[k / 2] | v);
		else
			b[k / 2] = (char)(v << 4);
		k++;
	}
	if (k != sizeof(b) * 2 || strlen(s) != 36)
		return false;
	put32(w, sizeof(b));
	sw_jw_mem(w, b, sizeof(b));
	return true;
}

bool bd_pgarr_uuid(struct bd_pgarr *a, const char *s)
{
	return bd_pgbin_uuid(a->w, s);
}

void bd_pgbin_null(struct sw_jw *w)
{
	put32(w, UINT32_MAX); /* -1 */
}

void bd_pgarr_null(struct bd_pgarr *a)
{
	bd_pgbin_null(a->w);
	if (!a->w->oom)
		a->w->buf[a->start + 7] = 1; /* flags, low byte */
}

/* the array's bytes so far */
size_t bd_pgarr_len(const struct bd_pgarr *a)
{
	return a->w->len - a->start;
}

/* an int8[] value: its length, then the array */
void bd_pgbin_int8_array(struct sw_jw *w, const int64_t *v, size_t n)
{
	size_t at = w->len;
	struct bd_pgarr a;
	size_t len;

	put32(w, 0); /* the length, set below */
	bd_pgarr_begin(&a, w, BD_PGARR_INT8, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		bd_pgarr_int(&a, v[i]);
	len = bd_pgarr_len(&a);
	if (len > INT32_MAX)
		w->oom = true;
	if (w->oom)
		return;
	w->buf[at] = (char)(len >> 24);
	w->buf[at + 1] = (char)(len >> 16);
	w->buf[at + 2] = (char)(len >> 8);
	w->buf[at + 3] = (char)len;
}

/* a timestamptz value from milliseconds since the Unix epoch: the server
 * counts microseconds since 2000-01-01 UTC */
void bd_pgbin_time_ms(struct sw_jw *w, int64_t ms)
{
	bd_pgbin_int(w, BD_PGARR_INT8, ms * 1000 - 946684800000000LL);
}

void bd_pgcopy_begin(struct sw_jw *w)
{
	sw_jw_mem(w, "PGCOPY\n\377\r\n", 11); /* with its NUL */
	put32(w, 0);			      /* flags */
	put32(w, 0);			      /* header extension length */
}

void bd_pgcopy_row(struct sw_jw *w, unsigned nfields)
{
	put16(w, (uint16_t)nfields);
}

void bd_pgcopy_end(struct sw_jw *w)
{
	put16(w, UINT16_MAX); /* -1 */
}
