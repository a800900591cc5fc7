/*
 * dtmfinfo.c - SIP INFO DTMF bodies: application/dtmf-relay and
 * application/dtmf in, application/dtmf-relay out
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signaling/dtmfinfo.h"

static const char digits[] = "0123456789*#ABCD!"; /* event 0..16 */

/* is this Content-Type (parameters allowed) one of the DTMF bodies? */
bool sg_dtmf_info_type(const char *ct)
{
	static const char *const types[] = {"application/dtmf-relay",
					    "application/dtmf", NULL};

	if (!ct)
		return false;
	for (size_t i = 0; types[i]; i++) {
		size_t n = strlen(types[i]);

		if (!strncasecmp(ct, types[i], n) &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' ||
		     ct[n] == '\t'))
			return true;
	}
	return false;
}

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

/* a digit from a Signal value: one character or an event number 0-16 */
static int signal_value(const char *p, size_t n, char *digit)
{
	char c;

	if (n == 1) {
		c = p[0];
		if (c >= 'a' && c <= 'd')
			c = (char)(c - 'a' + 'A');
		if (!strchr(digits, c) || c == '\0')
			return EBADMSG;
		*digit = c;
		return 0;
	}
	if (n == 2 && p[0] == '1' && p[1] >= '0' && p[1] <= '6') {
		*digit = digits[10 + (p[1] - '0')];
		return 0;
	}
	return EBADMSG;
}

/*
 * Read a DTMF INFO body: key=value lines (Signal, Duration; other keys
 * ignored; CRLF or LF) or, for application/dtmf, the digit alone.  A body
 * without a valid Signal, with a bad Duration, a repeated key or NUL bytes
 * is EBADMSG (answered 200 and dropped by the caller).  A missing or zero
 * Duration gives SG_DTMF_DURATION_DEFAULT; longer than
 * SG_DTMF_DURATION_MAX is capped.
 */
int sg_dtmf_info_parse(const char *body, size_t len, char *digit,
		       unsigned *duration_ms)
{
	const char *p = body, *end = body + len;
	bool have_sig = false, have_dur = false;
	unsigned long dur = 0;
	char d = 0;

	if (!body || !digit || !duration_ms)
		return EINVAL;
	if (!len || len > 1024 || memchr(body, '\0', len))
		return EBADMSG;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq, *k, *ke, *v, *ve;

		k = p;
		p = nl ? nl + 1 : end;
		ve = le;
		if (ve > k && ve[-1] == '\r')
			ve--;
		while (k < ve && space(*k))
			k++;
		while (ve > k && space(ve[-1]))
			ve--;
		if (k == ve)
			continue; /* blank line */
		eq = memchr(k, '=', (size_t)(ve - k));
		if (!eq) {
			/* application/dtmf: the digit alone */
			if (have_sig || signal_value(k, (size_t)(ve - k), &d))
				return EBADMSG;
			have_sig = true;
			continue;
		}
		ke = eq;
		while (ke > k && space(ke[-1]))
			ke--;
		v = eq + 1;
		while (v < ve && space(*v))
			v++;
		if ((size_t)(ke - k) == 6 && !strncasecmp(k, "Signal", 6)) {
			if (have_sig || signal_value(v, (size_t)(ve - v), &d))
				return EBADMSG;
			have_sig = true;
		} else if ((size_t)(ke - k) == 8 &&
			   !strncasecmp(k, "Duration", 8)) {
			if (have_dur || v == ve || ve - v > 9)
				return EBADMSG;
			for (const char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9')
					return EBADMSG;
				dur = dur * 10 + (unsigned long)(*q - '0');
			}
			have_dur = true;
		}
	}
	if (!have_sig)
		return EBADMSG;
	if (!dur)
		dur = SG_DTMF_DURATION_DEFAULT;
	if (dur > SG_DTMF_DURATION_MAX)
		dur = SG_DTMF_DURATION_MAX;
	*digit = d;
	*duration_ms = (unsigned)dur;
	return 0;
}

/*
 * Write an application/dtmf-relay body: "Signal=5\r\nDuration=160\r\n"
 * (hook flash as Signal=16; duration 0 = SG_DTMF_DURATION_DEFAULT).
 * EINVAL for a digit outside 0-9 * # A-D !, ENOSPC when buf is too small.
 */
int sg_dtmf_info_build(char *buf, size_t size, char digit, unsigned duration_ms)
{
	char sig[3] = {digit, '\0', '\0'};
	int n;

	if (!buf || !digit || !strchr(digits, digit))
		return EINVAL;
	if (digit == '!')
		memcpy(sig, "16", 3);
	if (!duration_ms)
		duration_ms = SG_DTMF_DURATION_DEFAULT;
	n = snprintf(buf, size, "Signal=%s\r\nDuration=%u\r\n", sig,
		     duration_ms);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}
