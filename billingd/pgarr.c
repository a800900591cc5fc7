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

/* an int4 or int8 element; an int4 out of its range goes as 8 bytes,
 * which the server refuses ("incorrect binary data format"), as it would
 * refuse the number in text */
void bd_pgarr_int(struct bd_pgarr *a, int64_t v)
{
	if (a->type == BD_PGARR_INT4 && v >= INT32_MIN && v <= INT32_MAX) {
		put32(a->w, 4);
		put32(a->w, (uint32_t)v);
	} else {
		put32(a->w, 8);
		put64(a->w, (uint64_t)v);
	}
}

/* a text or jsonb element; NULL s is the empty text */
void bd_pgarr_str(struct bd_pgarr *a, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool jsonb = a->type == BD_PGARR_JSONB;

	if (n > INT32_MAX - 1) {
		a->w->oom = true; /* no parameter is that big */
		return;
	}
	put32(a->w, (uint32_t)(n + jsonb));
	if (jsonb)
		sw_jw_mem(a->w, "\1", 1);
	sw_jw_mem(a->w, s ? s : "", n);
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

/* a uuid element from its 8-4-4-4-12 text; false (nothing written) when
 * s is not one */
bool bd_pgarr_uuid(struct bd_pgarr *a, const char *s)
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
	put32(a->w, sizeof(b));
	sw_jw_mem(a->w, b, sizeof(b));
	return true;
}

void bd_pgarr_null(struct bd_pgarr *a)
{
	put32(a->w, UINT32_MAX); /* -1 */
	if (!a->w->oom)
		a->w->buf[a->start + 7] = 1; /* flags, low byte */
}

/* the array's bytes so far */
size_t bd_pgarr_len(const struct bd_pgarr *a)
{
	return a->w->len - a->start;
}
