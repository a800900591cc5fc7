/*
 * sdp.c - signalingd's one SDP reader and writer (sdp.h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/media.h"
#include "signaling/sdp.h"

/* ---- bytes and lines ---- */

/*
 * A span of an m= line: letters, digits and the extra characters, or
 * digits only.  Never empty.
 */
static bool span_ok(const char *p, size_t n, const char *extra, bool digits)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= '0' && ch <= '9')
			continue;
		if (digits || !((ch >= 'a' && ch <= 'z') ||
				(ch >= 'A' && ch <= 'Z') || strchr(extra, ch)))
			return false;
	}
	return true;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... (RFC 4566 5.14) */
static bool mline_ok(const char *line, size_t len)
{
	const char *p = line + 2, *end = line + len;
	int tok = 0;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);
		const char *slash;

		switch (tok) {
		case 0:
			if (!span_ok(p, n, "_-", false))
				return false;
			break;
		case 1:
			slash = memchr(p, '/', n);
			if (slash
				? !span_ok(p, (size_t)(slash - p), "", true) ||
				      !span_ok(slash + 1,
					       n - (size_t)(slash - p) - 1, "",
					       true)
				: !span_ok(p, n, "", true))
				return false;
			break;
		case 2:
			if (!span_ok(p, n, "/_.-", false))
				return false;
			break;
		default:
			if (!span_ok(p, n, "_.-", false))
				return false;
			break;
		}
		tok++;
		p += n + 1;
	}
	return tok >= 4;
}

/*
 * Every line is <letter>=<value>, CR only in CRLF, no control bytes,
 * non-ASCII only in the free-text lines (s=, i=, u=, e=, p=; RFC 4566
 * allows UTF-8 there), and every m= line well formed.
 */
static bool sdp_clean(const char *sdp, size_t len)
{
	bool free_text = false;
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)sdp[i];

		if (ch == '\n') {
			col = 0;
			continue;
		}
		if (col == 0 && ch == 'm') {
			const char *nl = memchr(sdp + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - (sdp + i)) : len - i;

			if (n && sdp[i + n - 1] == '\r')
				n--;
			if (!mline_ok(sdp + i, n))
				return false;
		}
		if (ch == '\r') {
			if (i + 1 < len && sdp[i + 1] != '\n')
				return false;
			continue;
		}
		if (col == 0) {
			if (ch < 'a' || ch > 'z')
				return false;
			free_text = strchr("siuep", ch) != NULL;
		} else if (col == 1 && ch != '=') {
			return false;
		}
		col++;
		if (ch == '\t')
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return false;
		if (ch >= 0x80 && !free_text)
			return false;
	}
	return true;
}

struct line {
	const char *p;
	size_t n; /* without the line end */
};

/* next line of [*pos, end); false at the end */
static bool next_line(const char **pos, const char *end, struct line *l)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	l->p = p;
	l->n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	*pos = nl ? nl + 1 : end;
	if (l->n && p[l->n - 1] == '\r')
		l->n--;
	return true;
}

static bool starts(const struct line *l, const char *s)
{
	size_t n = strlen(s);

	return l->n >= n && !memcmp(l->p, s, n);
}

/* a decimal number at *p (advanced), -1 when none or above max */
static long number(const char **p, const char *end, long max)
{
	long v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*p = s;
	return v;
}

static void copy_span(char *dst, size_t size, const char *p, size_t n)
{
	if (!size)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* the n-th space-separated field of a line's value (after "x="), 0-based */
static bool field(const struct line *l, int n, const char **fp, size_t *fn)
{
	const char *p = l->p + 2, *end = l->p + l->n;

	for (int i = 0;; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = sp ? sp : end;

		if (i == n) {
			*fp = p;
			*fn = (size_t)(e - p);
			return e > p;
		}
		if (!sp)
			return false;
		p = sp + 1;
	}
}

static int count_fields(const struct line *l)
{
	int n = 1;

	for (size_t i = 2; i < l->n; i++)
		n += l->p[i] == ' ';
	return n;
}

/*
 * "IN IP4 <addr>" / "IN IP6 <addr>" from field `first` of an o= or c=
 * line; the address (without a /ttl) into ip.  False when malformed.
 */
static bool address(const struct line *l, int first, char *ip, size_t size)
{
	const char *p;
	size_t n;

	if (!field(l, first, &p, &n) || n != 2 || memcmp(p, "IN", 2))
		return false;
	if (!field(l, first + 1, &p, &n) || n != 3 ||
	    (memcmp(p, "IP4", 3) && memcmp(p, "IP6", 3)))
		return false;
	if (!field(l, first + 2, &p, &n) || count_fields(l) != first + 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '/') {
			n = i;
			break;
		}
	}
	if (!n || n >= size)
		return false;
	copy_span(ip, size, p, n);
	return true;
}

/* ---- reading ---- */

static void static_pt(struct sg_sdp_fmt *f)
{
	uint32_t clock;
	const char *name = sw_static_pt_name(f->pt, &clock);

	if (name) {
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->rate = (int)clock;
	}
}

static struct sg_sdp_fmt *fmt_by_pt(struct sg_sdp *s, long pt)
{
	for (size_t i = 0; i < s->nfmt; i++)
		if (s->fmt[i].pt == pt)
			return &s->fmt[i];
	return NULL;
}

/* false when the port is not one */
static bool parse_mline(struct sg_sdp *s, const struct line *l)
{
	const char *p = l->p + 8, *end = l->p + l->n; /* after "m=audio " */
	long port = number(&p, end, 65535);

	if (port < 0)
		return false;
	s->port = (int)port;
	/* the port, an optional /count, the transport */
	while (p < end && *p != ' ')
		p++;
	while (p < end && *p == ' ')
		p++;
	{
		const char *t = p;

		while (p < end && *p != ' ')
			p++;
		s->secure = memmem(t, (size_t)(p - t), "SAVP", 4) != NULL;
	}
	while (p < end && s->nfmt < SG_SDP_MAX_FMT) {
		long pt;

		while (p < end && *p == ' ')
			p++;
		pt = number(&p, end, 127);
		if (pt < 0) {
			while (p < end && *p != ' ')
				p++;
			continue;
		}
		if (fmt_by_pt(s, pt))
			continue;
		memset(&s->fmt[s->nfmt], 0, sizeof(s->fmt[0]));
		s->fmt[s->nfmt].pt = (int)pt;
		static_pt(&s->fmt[s->nfmt]);
		s->nfmt++;
	}
	return true;
}

/* a=rtpmap:<pt> <enc>/<rate>[/<channels>] */
static void parse_rtpmap(struct sg_sdp *s, const struct line *l)
{
	const char *p = l->p + 9, *end = l->p + l->n, *e;
	long pt = number(&p, end, 127), rate, ch = 0;
	struct sg_sdp_fmt *f;
	char name[32];

	if (pt < 0 || p >= end || *p != ' ')
		return;
	p++;
	e = memchr(p, '/', (size_t)(end - p));
	if (!e || e == p)
		return;
	copy_span(name, sizeof(name), p, (size_t)(e - p));
	p = e + 1;
	rate = number(&p, end, 1000000);
	if (rate < SG_SDP_RATE_MIN || rate > SG_SDP_RATE_MAX)
		return;
	if (p < end && *p == '/') {
		p++;
		ch = number(&p, end, 16);
		if (ch < 0)
			ch = 0;
	}
	f = fmt_by_pt(s, pt);
	if (!f)
		return;
	if (sw_is_te(name)) {
		if (!s->te_pt) {
			s->te_pt = (int)pt;
			s->te_rate = (int)rate;
		}
		if (rate == 8000 && !s->te8_pt)
			s->te8_pt = (int)pt;
		if (rate == 48000 && !s->te48_pt)
			s->te48_pt = (int)pt;
		f->name[0] = '\0'; /* not an audio format */
		f->pt = -1;
		return;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->rate = (int)rate;
	f->channels = (int)ch;
}

static void parse_fmtp(struct sg_sdp *s, const struct line *l)
{
	const char *p = l->p + 7, *end = l->p + l->n;
	long pt = number(&p, end, 127);
	struct sg_sdp_fmt *f;

	if (pt < 0 || p >= end || *p != ' ')
		return;
	while (p < end && *p == ' ')
		p++;
	f = fmt_by_pt(s, pt);
	if (f)
		copy_span(f->fmtp, sizeof(f->fmtp), p, (size_t)(end - p));
}

static bool direction_attr(const struct line *l)
{
	return l->n == 10 && (!memcmp(l->p, "a=sendrecv", 10) ||
			      !memcmp(l->p, "a=sendonly", 10) ||
			      !memcmp(l->p, "a=recvonly", 10) ||
			      !memcmp(l->p, "a=inactive", 10));
}

static bool ip_literal(const char *ip)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, ip, buf) == 1 ||
	       inet_pton(AF_INET6, ip, buf) == 1;
}

/*
 * Check an SDP body and read its first audio stream into s: the formats
 * in m= order (names of static PTs filled in; telephone-event and dynamic
 * PTs without an rtpmap taken out), address, port, ptime, direction.
 * EBADMSG when the text is not SDP (see sdp.h) or the audio stream has no
 * connection address, ENOENT when it has no audio stream, EINVAL on bad
 * arguments.  Never reads past len.
 */
int sg_sdp_read(struct sg_sdp *s, const char *sdp, size_t len)
{
	const char *pos = sdp, *end;
	char sess_ip[64] = "", sess_dir[12] = "", ip[64];
	bool in_audio = false, seen = false, origin = false;
	struct line l;
	size_t k = 0;

	if (!s || !sdp)
		return EINVAL;
	memset(s, 0, sizeof(*s));
	if (!len || len > SG_SDP_MAX_LEN || !sdp_clean(sdp, len))
		return EBADMSG;
	end = sdp + len;
	if (!next_line(&pos, end, &l) || l.n != 3 || memcmp(l.p, "v=0", 3))
		return EBADMSG;
	while (next_line(&pos, end, &l)) {
		if (!l.n)
			continue;
		if (starts(&l, "o=")) {
			if (origin || !address(&l, 3, ip, sizeof(ip)))
				return EBADMSG;
			origin = true;
			continue;
		}
		if (starts(&l, "c=")) {
			if (!address(&l, 0, ip, sizeof(ip)))
				return EBADMSG;
			if (in_audio)
				snprintf(s->ip, sizeof(s->ip), "%s", ip);
			else if (!seen)
				snprintf(sess_ip, sizeof(sess_ip), "%s", ip);
			continue;
		}
		if (!origin)
			return EBADMSG; /* o= comes right after v= */
		if (starts(&l, "m=")) {
			in_audio = false;
			if (!seen && starts(&l, "m=audio ")) {
				if (!parse_mline(s, &l))
					return EBADMSG;
				in_audio = seen = true;
			}
			continue;
		}
		if (seen && !in_audio)
			continue; /* another stream */
		if (direction_attr(&l)) {
			copy_span(in_audio ? s->direction : sess_dir,
				  sizeof(sess_dir), l.p + 2, 8);
		} else if (in_audio && starts(&l, "a=rtpmap:")) {
			parse_rtpmap(s, &l);
		} else if (in_audio && starts(&l, "a=fmtp:")) {
			parse_fmtp(s, &l);
		} else if (starts(&l, "a=ptime:") && (in_audio || !s->ptime)) {
			const char *p = l.p + 8;
			long v = number(&p, l.p + l.n, 1000);

			if (v >= 10 && v <= 60)
				s->ptime = (int)v;
		}
	}
	if (!origin)
		return EBADMSG;
	if (!seen)
		return ENOENT;
	if (!s->ip[0])
		snprintf(s->ip, sizeof(s->ip), "%s", sess_ip);
	if (!s->ip[0])
		return EBADMSG; /* RFC 4566 5.7: c= for the session or stream */
	s->ip_literal = s->ip[0] && ip_literal(s->ip);
	if (!s->direction[0])
		snprintf(s->direction, sizeof(s->direction), "%s",
			 sess_dir[0] ? sess_dir : "sendrecv");
	for (size_t i = 0; i < s->nfmt; i++)
		if (s->fmt[i].pt >= 0 && s->fmt[i].name[0])
			s->fmt[k++] = s->fmt[i];
	s->nfmt = k;
	return 0;
}

/* ---- writing ---- */

struct buf {
	char *p;
	size_t len, size;
	bool bad;
};

static void put(struct buf *b, const char *p, size_t n)
{
	if (b->bad)
		return;
	if (!b->p || b->len + n + 1 > b->size) {
		size_t size = (b->len + n + 1) * 2;
		char *np = realloc(b->p, size);

		if (!np) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->size = size;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		b->bad = true;
	else
		put(b, tmp,
		    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void put_formats(struct buf *b, const struct sg_sdp_edit *e)
{
	const struct sg_sdp_fmt *f = e->fmt;

	for (size_t i = 0; i < e->nfmt; i++) {
		if (f[i].channels > 0)
			putf(b, "a=rtpmap:%d %s/%d/%d\r\n", f[i].pt, f[i].name,
			     f[i].rate, f[i].channels);
		else
			putf(b, "a=rtpmap:%d %s/%d\r\n", f[i].pt, f[i].name,
			     f[i].rate);
		if (f[i].fmtp[0])
			putf(b, "a=fmtp:%d %s\r\n", f[i].pt, f[i].fmtp);
	}
	if (e->te_pt) {
		putf(b, "a=rtpmap:%d " SW_TE_NAME "/%d\r\n", e->te_pt,
		     e->te_rate ? e->te_rate : 8000);
		putf(b, "a=fmtp:%d 0-16\r\n", e->te_pt);
	}
	if (e->te2_pt) {
		putf(b, "a=rtpmap:%d " SW_TE_NAME "/%d\r\n", e->te2_pt,
		     e->te2_rate ? e->te2_rate : 8000);
		putf(b, "a=fmtp:%d 0-16\r\n", e->te2_pt);
	}
}

static const char *addrtype(const char *ip)
{
	return strchr(ip, ':') ? "IP6" : "IP4";
}

/* o=<user> <id> <version> IN IP4 <ip>: the first three fields kept */
static void put_origin(struct buf *b, const struct line *l, const char *ip)
{
	const char *p;
	size_t n;

	if (!field(l, 3, &p, &n)) {
		put(b, l->p, l->n);
		return;
	}
	put(b, l->p, (size_t)(p - l->p));
	putf(b, "IN %s %s", addrtype(ip), ip);
}

/* the first audio m= line: "m=audio <port>[/n] <proto>" then formats */
static void put_mline(struct buf *b, const struct line *l,
		      const struct sg_sdp_edit *e)
{
	const char *p = l->p + 8, *end = l->p + l->n, *q = p;
	long port = number(&q, end, 65535);

	if (e->port > 0 && port > 0) {
		put(b, l->p, 8);
		putf(b, "%d", e->port);
		p = q;
	} else {
		p = l->p;
	}
	if (!e->set_formats) {
		put(b, p, (size_t)(end - p));
		return;
	}
	/* up to the end of the transport */
	q = p == l->p ? l->p + 8 : p;
	while (q < end && *q != ' ')
		q++;
	while (q < end && *q == ' ')
		q++;
	while (q < end && *q != ' ')
		q++;
	put(b, p, (size_t)(q - p));
	for (size_t i = 0; i < e->nfmt; i++)
		putf(b, " %d", e->fmt[i].pt);
	if (e->te_pt)
		putf(b, " %d", e->te_pt);
	if (e->te2_pt)
		putf(b, " %d", e->te2_pt);
}

/*
 * Copy an SDP body with the edit applied (sdp.h), CRLF line ends.  The
 * formats go where the first audio stream's first a= line was (or at its
 * end).  With e->ip, a=rtcp lines of that stream go: RTCP then follows
 * RTP to the node.  *outp is malloc'd.  ENOENT when formats are to be set
 * and there is no audio stream, EBADMSG with a NUL byte.
 */
int sg_sdp_write(char **outp, const char *sdp, size_t len,
		 const struct sg_sdp_edit *e)
{
	struct buf b = {0};
	const char *pos = sdp, *end;
	bool in_audio = false, seen = false, pending = false;
	struct line l;

	if (!outp || !sdp || !e || (e->nfmt && !e->fmt))
		return EINVAL;
	*outp = NULL;
	if (len > SG_SDP_MAX_LEN || memchr(sdp, '\0', len))
		return EBADMSG;
	end = sdp + len;
	while (next_line(&pos, end, &l)) {
		if (starts(&l, "m=")) {
			if (pending) {
				put_formats(&b, e);
				pending = false;
			}
			in_audio = false;
			if (!seen && starts(&l, "m=audio ")) {
				put_mline(&b, &l, e);
				put(&b, "\r\n", 2);
				in_audio = seen = true;
				pending = e->set_formats;
				continue;
			}
		} else if (e->ip && starts(&l, "o=")) {
			put_origin(&b, &l, e->ip);
			put(&b, "\r\n", 2);
			continue;
		} else if (e->ip && starts(&l, "c=")) {
			putf(&b, "c=IN %s %s\r\n", addrtype(e->ip), e->ip);
			continue;
		} else if (in_audio && starts(&l, "a=")) {
			if (pending) {
				put_formats(&b, e);
				pending = false;
			}
			if (e->set_formats &&
			    (starts(&l, "a=rtpmap:") || starts(&l, "a=fmtp:") ||
			     starts(&l, "a=rtcp-fb:")))
				continue;
			if (e->ip && starts(&l, "a=rtcp:"))
				continue;
		}
		put(&b, l.p, l.n);
		put(&b, "\r\n", 2);
	}
	if (pending)
		put_formats(&b, e);
	if (!b.bad && !b.p)
		puts_(&b, "");
	if (b.bad || (e->set_formats && !seen)) {
		free(b.p);
		return b.bad ? ENOMEM : ENOENT;
	}
	*outp = b.p;
	return 0;
}

/**
 * The telephone-event PT of an SDP for a codec of clock rate (RFC 4733
 * 2.3.1: events share the stream's clock): the one at that clock, else
 * the first listed (a peer that lists only telephone-event/8000 beside
 * Opus is taken at its word).  *ratep gets its clock; 0 when none.
 */
int sg_sdp_te_at(const struct sg_sdp *s, int rate, int *ratep)
{
	int pt = 0, r = 0;

	if (s && rate == 48000 && s->te48_pt) {
		pt = s->te48_pt;
		r = 48000;
	} else if (s && rate == 8000 && s->te8_pt) {
		pt = s->te8_pt;
		r = 8000;
	} else if (s && s->te_pt) {
		pt = s->te_pt;
		r = s->te_rate ? s->te_rate : 8000;
	}
	if (ratep)
		*ratep = r;
	return pt;
}
