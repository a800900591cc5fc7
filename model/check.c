/*
 * prov_check.c - the database-free half of provisioning: validate a whole
 * document and turn it into canonical values (see prov.h)
 *
 * Every problem is collected (not only the first), each with its JSON path,
 * so an operator fixes a file in one pass.  Nothing here trusts the input:
 * the libFuzzer harness tests/fuzz/fuzz_provision.c drives md_doc_check().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/money.h"
#include "model/model.h"
#include "proto/identity.h"
#include "proto/media.h"

#define MAX_ERRS     200    /* stop collecting after this many */
#define MAX_OBJS     100000 /* objects per section */
#define NAME_MAX_LEN 64

/* the objects qsort() comparators index into (qsort has no context) */
static const struct md_obj *sort_base;

/* jansson's iteration macros take non-const objects; we only read */
static json_t *rd(const json_t *j)
{
	union {
		const json_t *c;
		json_t *m;
	} u = {.c = j};

	return u.m;
}

/* record one problem: "path: message" */
void md_doc_error(struct md_doc *doc, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	char **errs;

	if (doc->nerrs >= MAX_ERRS)
		return;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	errs = realloc(doc->errs, (doc->nerrs + 1) * sizeof(*errs));
	if (!errs)
		return;
	doc->errs = errs;
	doc->errs[doc->nerrs] = strdup(buf);
	if (doc->errs[doc->nerrs])
		doc->nerrs++;
}

static char *xstrdup(struct md_doc *doc, const char *s)
{
	char *d = strdup(s);

	if (!d)
		md_doc_error(doc, "out of memory");
	return d;
}

/* micro-units as the shortest decimal text: 100, 0.01, -1.5 */
int md_money_str(char *buf, size_t size, int64_t micro)
{
	uint64_t u =
	    micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
	char frac[8];
	int n, len;

	n = snprintf(frac, sizeof(frac), "%06llu",
		     (unsigned long long)(u % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';

	len = snprintf(buf, size, "%s%llu%s%s", micro < 0 ? "-" : "",
		       (unsigned long long)(u / 1000000), n ? "." : "", frac);

	return len < 0 || (size_t)len >= size ? ENOSPC : 0;
}

static bool all_digits(const char *s)
{
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

/* IPv4/IPv6 address, or a CIDR with no host bits set */
bool md_ip_or_cidr_valid(const char *s)
{
	unsigned char addr[16];
	char buf[64];
	const char *slash;
	int af, bits, maxbits;
	size_t len;

	if (!s || strlen(s) >= sizeof(buf))
		return false;

	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	memcpy(buf, s, len);
	buf[len] = '\0';

	if (inet_pton(AF_INET, buf, addr) == 1) {
		af = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		af = AF_INET6;
		maxbits = 128;
	} else {
		return false;
	}
	(void)af;

	if (!slash)
		return true;

	if (!slash[1] || strlen(slash + 1) > 3 || !all_digits(slash + 1))
		return false;
	bits = (int)strtol(slash + 1, NULL, 10);
	if (bits > maxbits)
		return false;

	/* host bits must be zero: 10.0.0.0/8, not 10.0.0.1/8 */
	for (int i = bits; i < maxbits; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	}

	return true;
}

/* IPv4 or IPv6 literal, or an RFC 1123 host name */
bool md_host_valid(const char *s)
{
	unsigned char addr[16];
	size_t label = 0, len;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len > 253)
		return false;
	if (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1)
		return true;

	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return false;
		if (label == 0 && c == '-')
			return false;
		label++;
	}

	/* all-numeric dotted names are bad IPv4 addresses, not hosts */
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return true;
	}
	return false;
}

/* object names: 1..64 bytes, no control characters, no outer blanks */
static const char *name_problem(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return "must be 1..64 characters";
	if (strlen(s) != len)
		return "must not contain NUL";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return "must not contain control characters";
	}
	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))
		return "must not start or end with a blank";
	return NULL;
}

/*
 * Money: a JSON string "[-]digits[.digits]" with at most 6 decimals.
 * Returns false (and records why) when it is not acceptable.
 */
static bool check_money(struct md_doc *doc, const char *path, const json_t *j,
			int64_t min, int64_t max, int64_t *valp)
{
	const char *s, *p;
	size_t intd = 0, fracd = 0;
	int64_t val;

	if (!json_is_string(j)) {
		md_doc_error(doc,
			     "%s: must be a decimal string like \"0.0100\" "
			     "(money is never a JSON number)",
			     path);
		return false;
	}
	s = json_string_value(j);
	if (strlen(s) != json_string_length(j))
		goto bad;

	p = s;
	if (*p == '-')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		intd++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			fracd++;
		}
		if (fracd == 0)
			goto bad;
	}
	if (*p || intd == 0)
		goto bad;
	if (fracd > 6) {
		md_doc_error(doc, "%s: at most 6 decimals", path);
		return false;
	}
	if (intd > 13 || sw_money_parse(&val, s)) {
		md_doc_error(doc, "%s: out of range", path);
		return false;
	}
	if (val < min || val > max) {
		char a[32], b[32];

		md_money_str(a, sizeof(a), min);
		md_money_str(b, sizeof(b), max);
		md_doc_error(doc, "%s: must be %s..%s", path, a, b);
		return false;
	}

	*valp = val;
	return true;

bad:
	md_doc_error(doc, "%s: not a decimal amount (e.g. \"12.50\")", path);
	return false;
}

static bool check_int(struct md_doc *doc, const char *path, const json_t *j,
		      int64_t min, int64_t max, int64_t *valp)
{
	int64_t v;

	if (!json_is_integer(j)) {
		md_doc_error(doc, "%s: must be an integer", path);
		return false;
	}
	v = json_integer_value(j);
	if (v < min || v > max) {
		md_doc_error(doc, "%s: must be %lld..%lld", path,
			     (long long)min, (long long)max);
		return false;
	}
	*valp = v;
	return true;
}

/* a string of JSON type and length min..max; returns it or NULL */
static const char *check_str(struct md_doc *doc, const char *path,
			     const json_t *j, int64_t min, int64_t max)
{
	const char *s;
	size_t len;

	if (!json_is_string(j)) {
		md_doc_error(doc, "%s: must be a string", path);
		return NULL;
	}
	s = json_string_value(j);
	len = json_string_length(j);
	if (strlen(s) != len) {
		md_doc_error(doc, "%s: must not contain NUL", path);
		return NULL;
	}
	if ((int64_t)len < min || (int64_t)len > max) {
		if (min == max)
			md_doc_error(doc, "%s: must be %lld characters", path,
				     (long long)min);
		else
			md_doc_error(doc, "%s: must be %lld..%lld characters",
				     path, (long long)min, (long long)max);
		return NULL;
	}
	return s;
}

static const char *check_prefix(struct md_doc *doc, const char *path,
				const json_t *j, int64_t maxlen)
{
	const char *s = check_str(doc, path, j, 0, maxlen);

	if (s && !all_digits(s)) {
		md_doc_error(doc, "%s: a prefix is digits only", path);
		return NULL;
	}
	return s;
}

static bool digits_at(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* YYYY-MM-DD, a real calendar date, years 1900..2999 */
static bool date_valid(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits_at(s, 4) ||
	    !digits_at(s + 5, 2) || !digits_at(s + 8, 2))
		return false;
	y = (int)strtol(s, NULL, 10);
	m = (int)strtol(s + 5, NULL, 10);
	d = (int)strtol(s + 8, NULL, 10);
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29)
		return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return true;
}

/* "HH:MM" or "HH:MM:SS" within 00:00..24:00 -> "HH:MM:SS", or false */
static bool time_canon(const char *s, char out[9])
{
	size_t len = strlen(s);
	int h, m, sec = 0;

	if ((len != 5 && len != 8) || s[2] != ':' || !digits_at(s, 2) ||
	    !digits_at(s + 3, 2))
		return false;
	if (len == 8 && (s[5] != ':' || !digits_at(s + 6, 2)))
		return false;
	h = (int)strtol(s, NULL, 10);
	m = (int)strtol(s + 3, NULL, 10);
	if (len == 8)
		sec = (int)strtol(s + 6, NULL, 10);
	if (m > 59 || sec > 59 || h > 24 || (h == 24 && (m || sec)))
		return false;
	out[0] = (char)('0' + h / 10);
	out[1] = (char)('0' + h % 10);
	out[2] = ':';
	out[3] = (char)('0' + m / 10);
	out[4] = (char)('0' + m % 10);
	out[5] = ':';
	out[6] = (char)('0' + sec / 10);
	out[7] = (char)('0' + sec % 10);
	out[8] = '\0';
	return true;
}

static bool enum_has(const char *const *enums, const char *s)
{
	for (size_t i = 0; enums[i]; i++) {
		if (!strcmp(enums[i], s))
			return true;
	}
	return false;
}

static void enum_list(char *buf, size_t size, const char *const *enums)
{
	buf[0] = '\0';
	for (size_t i = 0; enums[i]; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
			 enums[i]);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A list value: every element checked, kept in file order (or sorted for
 * sets), duplicates refused; canonical text is compact JSON.
 */
static char *check_list(struct md_doc *doc, const char *path,
			const struct md_field *f, const json_t *j)
{
	json_t *out = NULL;
	const char **strs = NULL;
	char ep[200];
	char *text = NULL;
	size_t n, i;
	bool ok = true;

	if (!json_is_array(j)) {
		md_doc_error(doc, "%s: must be a list", path);
		return NULL;
	}
	n = json_array_size(j);
	if (n > f->max_items) {
		md_doc_error(doc, "%s: at most %zu items", path, f->max_items);
		return NULL;
	}

	out = json_array();
	strs = calloc(n + 1, sizeof(*strs));
	if (!out || !strs) {
		md_doc_error(doc, "out of memory");
		goto out;
	}

	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(j, i);
		const char *s = NULL;
		int64_t v;

		snprintf(ep, sizeof(ep), "%s[%zu]", path, i);

		switch (f->kind) {

		case MD_INT_LIST:
			if (!check_int(doc, ep, e, f->min, f->max, &v)) {
				ok = false;
				continue;
			}
			for (size_t k = 0; k < i; k++) {
				if (json_integer_value(json_array_get(j, k)) ==
				    v) {
					md_doc_error(doc,
						     "%s: %lld is listed "
						     "twice",
						     ep, (long long)v);
					ok = false;
				}
			}
			json_array_append_new(out, json_integer(v));
			continue;

		case MD_PREFIX_LIST:
		case MD_PREFIX_SET:
			s = check_prefix(doc, ep, e, f->max);
			break;

		case MD_IP_LIST:
			s = check_str(doc, ep, e, 1, 63);
			if (s && !md_ip_or_cidr_valid(s)) {
				md_doc_error(
				    doc,
				    strchr(s, '/')
					? "%s: not a CIDR with the host "
					  "bits 0 (e.g. 10.0.0.0/8)"
					: "%s: not an IPv4/IPv6 address",
				    ep);
				s = NULL;
			}
			break;

		case MD_REF_LIST:
			s = check_str(doc, ep, e, 1, NAME_MAX_LEN);
			break;

		case MD_ENUM_SET:
			s = check_str(doc, ep, e, 1, 64);
			if (s && !enum_has(f->enums, s)) {
				char list[512];

				enum_list(list, sizeof(list), f->enums);
				md_doc_error(doc, "%s: must be one of %s", ep,
					     list);
				s = NULL;
			}
			break;

		case MD_DATE_SET:
			s = check_str(doc, ep, e, 10, 10);
			if (s && !date_valid(s)) {
				md_doc_error(doc, "%s: not a date YYYY-MM-DD",
					     ep);
				s = NULL;
			}
			break;

		default:
			break;
		}

		if (!s) {
			ok = false;
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			if (strs[k] && !strcmp(strs[k], s)) {
				md_doc_error(doc, "%s: \"%s\" is listed twice",
					     ep, s);
				ok = false;
			}
		}
		strs[i] = s;
	}
	if (!ok)
		goto out;

	if (f->kind != MD_INT_LIST) {
		if (f->kind == MD_PREFIX_SET || f->kind == MD_DATE_SET ||
		    f->kind == MD_ENUM_SET)
			qsort(strs, n, sizeof(*strs), cmp_str);
		for (i = 0; i < n; i++)
			json_array_append_new(out, json_string(strs[i]));
	}

	text = json_dumps(out, JSON_COMPACT);
	if (!text)
		md_doc_error(doc, "out of memory");

out:
	free(strs);
	json_decref(out);
	return text;
}

static const char *const entry_keys[] = {
    "prefix",	  "area_name",	   "connect_fee", "first_interval",
    "first_rate", "next_interval", "next_rate",	  NULL,
};

static void unknown_keys(struct md_doc *doc, const char *path, const json_t *o,
			 const char *const *keys, const struct md_section *sec)
{
	const char *key;
	json_t *val;

	json_object_foreach(rd(o), key, val)
	{
		bool known = false;

		(void)val;
		for (size_t i = 0; keys && keys[i]; i++)
			known |= !strcmp(keys[i], key);
		if (sec &&
		    (!strcmp(key, md_section_id(sec)) ||
		     !strcmp(key, "delete") || md_field_index(sec, key) >= 0))
			known = true;
		if (!known)
			md_doc_error(doc, "%s.%s: unknown field", path, key);
	}
}

static const char *const rule_keys[] = {
    "prefix", "regex", "strip", "prepend", "min_length", "max_length", NULL,
};

/*
 * A POSIX ERE that compiles and stays small.  glibc's regcomp() copies a
 * subexpression for every '+' and for every count of {m,n}, so nested or
 * stacked repetitions grow exponentially ("0++++..." takes gigabytes): the
 * product of the repetition factors is bounded, and a quantifier may not
 * follow another one.
 */
static const char *regex_problem(const char *re)
{
	long mult = 1;
	bool in_bracket = false, prev_quant = false;
	regex_t rx;

	for (const char *p = re; *p; p++) {
		bool quant = false;

		if (in_bracket) {
			if (*p == ']')
				in_bracket = false;
			continue;
		}
		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			break;
		case '[':
			in_bracket = true;
			if (p[1] == '^')
				p++;
			if (p[1] == ']')
				p++; /* a leading ']' is literal */
			break;
		case '*':
		case '?':
			quant = true;
			break;
		case '+':
			quant = true;
			mult *= 2;
			break;
		case '{': {
			char *end;
			long m = strtol(p + 1, &end, 10), n = m;

			if (end == p + 1 || m > 64)
				return "repetition counts are at most 64";
			if (*end == ',') {
				n = isdigit((unsigned char)end[1])
					? strtol(end + 1, &end, 10)
					: (end++, m + 1);
				if (*end == ',' || n > 64)
					return "repetition counts are at "
					       "most 64";
			}
			if (*end != '}')
				return "not a valid POSIX extended regular "
				       "expression";
			mult *= (n > m ? n : m) + 1;
			quant = true;
			p = end;
			break;
		}
		default:
			break;
		}
		if (quant && prev_quant)
			return "a repetition cannot repeat another one";
		prev_quant = quant;
		if (mult > 4096)
			return "too many or too nested repetitions";
	}
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return "not a valid POSIX extended regular expression";
	regfree(&rx);
	return NULL;
}

/*
 * Dial plan: an ordered list of rules {prefix | regex, strip, prepend,
 * min_length, max_length}; canonical text is compact JSON with every key
 * present and sorted.
 */
static char *check_dialplan(struct md_doc *doc, const char *path,
			    const struct md_field *f, const json_t *j)
{
	json_t *out;
	char rp[200], kp[240];
	char *text = NULL;
	bool ok = true;
	size_t i;
	const json_t *r;

	if (!json_is_array(j)) {
		md_doc_error(doc, "%s: must be a list of rules", path);
		return NULL;
	}
	if (json_array_size(j) > f->max_items) {
		md_doc_error(doc, "%s: at most %zu rules", path, f->max_items);
		return NULL;
	}
	out = json_array();
	if (!out) {
		md_doc_error(doc, "out of memory");
		return NULL;
	}

	json_array_foreach(j, i, r)
	{
		const char *prefix = "", *regex = "", *prepend = "", *s;
		int64_t strip = 0, minl = 0, maxl = 0;
		const json_t *v;
		bool rok = true;

		snprintf(rp, sizeof(rp), "%s[%zu]", path, i);
		if (!json_is_object(r)) {
			md_doc_error(doc, "%s: must be an object", rp);
			ok = false;
			continue;
		}
		unknown_keys(doc, rp, r, rule_keys, NULL);

#define RULE_KEY(k) snprintf(kp, sizeof(kp), "%s." k, rp)
		if ((v = json_object_get(r, "prefix"))) {
			RULE_KEY("prefix");
			if ((s = check_prefix(doc, kp, v, 32)))
				prefix = s;
			else
				rok = false;
		}
		if ((v = json_object_get(r, "regex"))) {
			const char *why;

			RULE_KEY("regex");
			s = check_str(doc, kp, v, 1, 256);
			if (s && (why = regex_problem(s))) {
				md_doc_error(doc, "%s: %s", kp, why);
				s = NULL;
			}
			if (s)
				regex = s;
			else
				rok = false;
		}
		if (*prefix && *regex) {
			md_doc_error(doc, "%s: prefix and regex are exclusive",
				     rp);
			rok = false;
		}
		if ((v = json_object_get(r, "strip"))) {
			RULE_KEY("strip");
			rok &= check_int(doc, kp, v, 0, 32, &strip);
		}
		if ((v = json_object_get(r, "prepend"))) {
			RULE_KEY("prepend");
			s = check_str(doc, kp, v, 0, 32);
			if (s && strspn(s, "0123456789*#+") != strlen(s)) {
				md_doc_error(doc,
					     "%s: digits, '*', '#' and '+' "
					     "only",
					     kp);
				s = NULL;
			}
			if (s)
				prepend = s;
			else
				rok = false;
		}
		if ((v = json_object_get(r, "min_length"))) {
			RULE_KEY("min_length");
			rok &= check_int(doc, kp, v, 0, 64, &minl);
		}
		if ((v = json_object_get(r, "max_length"))) {
			RULE_KEY("max_length");
			rok &= check_int(doc, kp, v, 0, 64, &maxl);
		}
#undef RULE_KEY
		if (rok && maxl && minl > maxl) {
			md_doc_error(doc,
				     "%s.max_length: must be 0 (none) or "
				     "at least min_length",
				     rp);
			rok = false;
		}
		if (!rok) {
			ok = false;
			continue;
		}
		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:I, s:s, s:I, s:I}", "prefix",
				   prefix, "regex", regex, "strip",
				   (json_int_t)strip, "prepend", prepend,
				   "min_length", (json_int_t)minl, "max_length",
				   (json_int_t)maxl));
	}

	if (ok) {
		text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text)
			md_doc_error(doc, "out of memory");
	}
	json_decref(out);
	return text;
}

static const char *const media_keys[] = {
    "codec_mode",	 "codecs",     "specified_codec",
    "allow_transcoding", "g729_mode",  "dtmf_receive",
    "dtmf_send",	 "rfc2833_pt", "use_peer_rfc2833",
    "media_proxy",	 NULL,
};

#define ALL_NAMES (~0u)

/*
 * A name of a media vocabulary (proto/media.h) whose index is in set, in
 * any case; the canonical spelling is returned, def when the key is absent.
 */
static const char *media_enum(struct md_doc *doc, const char *path,
			      const json_t *o, const char *key,
			      const char *const *names, unsigned set,
			      const char *def, bool *ok)
{
	const json_t *v = json_object_get(o, key);
	char kp[240], list[256];
	const char *s;
	int i;

	if (!v)
		return def;
	snprintf(kp, sizeof(kp), "%s.%s", path, key);
	s = check_str(doc, kp, v, 1, 32);
	i = s ? sw_names_find(names, s) : -1;
	if (i >= 0 && (set & (1u << i)))
		return names[i];
	if (s) {
		sw_names_list(list, sizeof(list), names, set);
		md_doc_error(doc, "%s: must be one of %s", kp, list);
	}
	*ok = false;
	return def;
}

/* a codec name at kp, canonical ("g729a" is G729); NULL after an error */
static const char *media_codec(struct md_doc *doc, const char *kp,
			       const json_t *v)
{
	const char *s = check_str(doc, kp, v, 1, 32);
	const char *cn = s ? sw_codec_canon(s) : NULL;
	char list[128];

	if (cn || !s)
		return cn;
	sw_names_list(list, sizeof(list), sw_codec_names, ALL_NAMES);
	md_doc_error(doc, "%s: must be one of %s", kp, list);
	return NULL;
}

static bool media_bool(struct md_doc *doc, const char *path, const json_t *o,
		       const char *key, bool def, bool *ok)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return def;
	if (!json_is_boolean(v)) {
		md_doc_error(doc, "%s.%s: must be true or false", path, key);
		*ok = false;
		return def;
	}
	return json_is_true(v);
}

/*
 * Media settings of a gateway (SPEC §5): replaced as a whole, missing keys
 * take their defaults; canonical text is compact JSON, every key, sorted.
 */
static char *check_media(struct md_doc *doc, const char *path, const json_t *j)
{
	const char *mode, *spec, *g729, *recv, *send, *proxy;
	json_t *codecs, *out;
	const json_t *cj, *e;
	bool ok = true, xcode, peer_pt;
	int64_t pt = SW_TE_PT_DEFAULT;
	char kp[240];
	char *text;
	size_t i;

	if (!json_is_object(j)) {
		md_doc_error(doc, "%s: must be an object", path);
		return NULL;
	}
	unknown_keys(doc, path, j, media_keys, NULL);

	mode =
	    media_enum(doc, path, j, "codec_mode", sw_codec_mode_names,
		       ALL_NAMES, sw_codec_mode_names[SW_CODEC_MODE_AUTO], &ok);
	spec = "";
	if (json_object_get(j, "specified_codec")) {
		snprintf(kp, sizeof(kp), "%s.specified_codec", path);
		spec =
		    media_codec(doc, kp, json_object_get(j, "specified_codec"));
		ok &= spec != NULL;
		spec = spec ? spec : "";
	}
	g729 = media_enum(doc, path, j, "g729_mode", sw_g729_mode_names,
			  ALL_NAMES, sw_g729_mode_names[SW_G729_AUTO], &ok);
	recv = media_enum(doc, path, j, "dtmf_receive", sw_dtmf_names,
			  SW_DTMF_RECEIVE, sw_dtmf_name(SW_DTMF_ALL), &ok);
	send = media_enum(doc, path, j, "dtmf_send", sw_dtmf_names,
			  SW_DTMF_SEND, sw_dtmf_name(SW_DTMF_AUTO), &ok);
	proxy = media_enum(doc, path, j, "media_proxy", sw_media_proxy_names,
			   ALL_NAMES,
			   sw_media_proxy_names[SW_MEDIA_PROXY_DEFAULT], &ok);
	xcode = media_bool(doc, path, j, "allow_transcoding", false, &ok);
	peer_pt = media_bool(doc, path, j, "use_peer_rfc2833", true, &ok);
	if (json_object_get(j, "rfc2833_pt")) {
		snprintf(kp, sizeof(kp), "%s.rfc2833_pt", path);
		ok &= check_int(doc, kp, json_object_get(j, "rfc2833_pt"),
				SW_PT_DYNAMIC_MIN, SW_PT_DYNAMIC_MAX, &pt);
	}

	codecs = json_array();
	if (!codecs) {
		md_doc_error(doc, "out of memory");
		return NULL;
	}
	cj = json_object_get(j, "codecs");
	if (cj && !json_is_array(cj)) {
		md_doc_error(doc, "%s.codecs: must be a list", path);
		ok = false;
	}
	json_array_foreach(cj, i, e)
	{
		const char *c;

		snprintf(kp, sizeof(kp), "%s.codecs[%zu]", path, i);
		c = media_codec(doc, kp, e);
		for (size_t k = 0; c && k < json_array_size(codecs); k++) {
			if (!strcmp(
				json_string_value(json_array_get(codecs, k)),
				c)) {
				md_doc_error(doc, "%s: \"%s\" is listed twice",
					     kp, c);
				c = NULL;
			}
		}
		if (!c)
			ok = false;
		else
			json_array_append_new(codecs, json_string(c));
	}

	if (ok && !strcmp(mode, "specified") && !*spec) {
		md_doc_error(doc,
			     "%s.specified_codec: required with codec_mode "
			     "specified",
			     path);
		ok = false;
	}
	if (ok && *spec && json_array_size(codecs)) {
		bool listed = false;

		for (i = 0; i < json_array_size(codecs); i++)
			listed |= !strcmp(
			    json_string_value(json_array_get(codecs, i)), spec);
		if (!listed) {
			md_doc_error(doc,
				     "%s.specified_codec: %s is not in "
				     "codecs",
				     path, spec);
			ok = false;
		}
	}
	if (!ok) {
		json_decref(codecs);
		return NULL;
	}

	out = json_pack("{s:s, s:o, s:s, s:b, s:s, s:s, s:s, s:I, s:b, s:s}",
			"codec_mode", mode, "codecs", codecs, "specified_codec",
			spec, "allow_transcoding", xcode, "g729_mode", g729,
			"dtmf_receive", recv, "dtmf_send", send, "rfc2833_pt",
			(json_int_t)pt, "use_peer_rfc2833", peer_pt,
			"media_proxy", proxy);
	text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(out);
	if (!text)
		md_doc_error(doc, "out of memory");
	return text;
}

static const char *const identity_keys[] = {
    "pai", "privacy", "ppi", "extra_headers", "headers", "peer_number_source",
    NULL,
};

/*
 * Caller identity of a routing gateway (SPEC §3.8, digest 2 T3): replaced
 * as a whole, missing keys take their defaults.
 */
static char *check_identity(struct md_doc *doc, const char *path,
			    const json_t *j)
{
	const char *pai, *privacy, *ppi, *extra, *source;
	json_t *headers, *out;
	const json_t *hj, *e;
	bool ok = true;
	char kp[240];
	char *text;
	size_t i;

	if (!json_is_object(j)) {
		md_doc_error(doc, "%s: must be an object", path);
		return NULL;
	}
	unknown_keys(doc, path, j, identity_keys, NULL);
	pai = media_enum(doc, path, j, "pai", sw_id_mode_names, ALL_NAMES,
			 "none", &ok);
	privacy = media_enum(doc, path, j, "privacy", sw_privacy_names,
			     ALL_NAMES, "none", &ok);
	ppi = media_enum(doc, path, j, "ppi", sw_id_mode_names, ALL_NAMES,
			 "none", &ok);
	extra = media_enum(doc, path, j, "extra_headers", sw_extra_names,
			   ALL_NAMES, "none", &ok);
	source = media_enum(doc, path, j, "peer_number_source",
			    sw_number_source_names, ALL_NAMES, "from", &ok);

	headers = json_array();
	if (!headers) {
		md_doc_error(doc, "out of memory");
		return NULL;
	}
	hj = json_object_get(j, "headers");
	if (hj && !json_is_array(hj)) {
		md_doc_error(doc, "%s.headers: must be a list", path);
		ok = false;
	}
	if (json_array_size(hj) > 64) {
		md_doc_error(doc, "%s.headers: at most 64", path);
		ok = false;
		hj = NULL;
	}
	json_array_foreach(hj, i, e)
	{
		const char *h;

		snprintf(kp, sizeof(kp), "%s.headers[%zu]", path, i);
		h = check_str(doc, kp, e, 1, 64);
		if (h &&
		    strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
			      "tuvwxyz0123456789-_.!%*+`'~") != strlen(h)) {
			md_doc_error(doc, "%s: not a SIP header name", kp);
			h = NULL;
		}
		if (h && sw_id_header_forbidden(h)) {
			md_doc_error(doc,
				     "%s: %s is never copied (hop-by-hop, "
				     "dialog or identity header)",
				     kp, h);
			h = NULL;
		}
		for (size_t k = 0; h && k < json_array_size(headers); k++) {
			if (!strcasecmp(
				json_string_value(json_array_get(headers, k)),
				h)) {
				md_doc_error(doc, "%s: \"%s\" is listed twice",
					     kp, h);
				h = NULL;
			}
		}
		if (h)
			json_array_append_new(headers, json_string(h));
		else
			ok = false;
	}
	if (ok && !strcmp(extra, "list") && !json_array_size(headers)) {
		md_doc_error(doc,
			     "%s.headers: extra_headers list needs at least "
			     "one header",
			     path);
		ok = false;
	}
	if (ok && strcmp(extra, "list") && json_array_size(headers)) {
		md_doc_error(doc, "%s.headers: only with extra_headers list",
			     path);
		ok = false;
	}
	if (!ok) {
		json_decref(headers);
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "pai", pai, "privacy",
			privacy, "ppi", ppi, "extra_headers", extra, "headers",
			headers, "peer_number_source", source);
	text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(out);
	if (!text)
		md_doc_error(doc, "out of memory");
	return text;
}

static const char *const pool_keys[] = {"enabled", "numbers", "multiplexes",
					NULL};

/* caller number pool of a routing gateway: {enabled, numbers, multiplexes} */
static char *check_caller_pool(struct md_doc *doc, const char *path,
			       const json_t *j)
{
	static const struct md_field numbers_field = {
	    "numbers", NULL, MD_PREFIX_LIST, 1,	   32, 10000, NULL,
	    NULL,      0,    NULL,	     NULL,
	};
	json_t *numbers = NULL, *out;
	const json_t *v;
	int64_t mux = 1;
	bool ok = true, enabled;
	char kp[240], *text = NULL, *ntext;

	if (!json_is_object(j)) {
		md_doc_error(doc, "%s: must be an object", path);
		return NULL;
	}
	unknown_keys(doc, path, j, pool_keys, NULL);
	enabled = media_bool(doc, path, j, "enabled", false, &ok);
	if ((v = json_object_get(j, "multiplexes"))) {
		snprintf(kp, sizeof(kp), "%s.multiplexes", path);
		ok &= check_int(doc, kp, v, 1, 1000, &mux);
	}
	snprintf(kp, sizeof(kp), "%s.numbers", path);
	v = json_object_get(j, "numbers");
	ntext = v ? check_list(doc, kp, &numbers_field, v) : strdup("[]");
	if (!ntext) {
		return NULL;
	}
	numbers = json_loads(ntext, 0, NULL);
	free(ntext);
	if (!numbers) {
		md_doc_error(doc, "out of memory");
		return NULL;
	}
	for (size_t i = 0; ok && i < json_array_size(numbers); i++) {
		if (!json_string_length(json_array_get(numbers, i))) {
			md_doc_error(doc, "%s[%zu]: must not be empty", kp, i);
			ok = false;
		}
	}
	if (ok && enabled && !json_array_size(numbers)) {
		md_doc_error(doc, "%s: an enabled pool needs numbers", kp);
		ok = false;
	}
	if (!ok) {
		json_decref(numbers);
		return NULL;
	}
	out = json_pack("{s:b, s:o, s:I}", "enabled", enabled, "numbers",
			numbers, "multiplexes", (json_int_t)mux);
	text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(out);
	if (!text)
		md_doc_error(doc, "out of memory");
	return text;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;
	int c = strcmp(x->prefix, y->prefix);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* rate table entries: a set keyed by prefix */
static bool check_entries(struct md_doc *doc, const char *path,
			  const struct md_field *f, const json_t *j,
			  struct md_obj *obj)
{
	char ep[200], fp[240];
	size_t n;
	bool ok = true;

	if (!json_is_array(j)) {
		md_doc_error(doc, "%s: must be a list", path);
		return false;
	}
	n = json_array_size(j);
	if (n > f->max_items) {
		md_doc_error(doc, "%s: at most %zu entries", path,
			     f->max_items);
		return false;
	}
	obj->entries = calloc(n ? n : 1, sizeof(*obj->entries));
	if (!obj->entries) {
		md_doc_error(doc, "out of memory");
		return false;
	}

	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(j, i);
		struct md_entry *en = &obj->entries[obj->nentries];
		const json_t *v;
		const char *s;
		bool eok = true;

		snprintf(ep, sizeof(ep), "%s[%zu]", path, i);
		if (!json_is_object(e)) {
			md_doc_error(doc, "%s: must be an object", ep);
			ok = false;
			continue;
		}
		unknown_keys(doc, ep, e, entry_keys, NULL);

		snprintf(fp, sizeof(fp), "%s.prefix", ep);
		v = json_object_get(e, "prefix");
		if (!v) {
			md_doc_error(doc, "%s: required", fp);
			eok = false;
		} else if ((s = check_prefix(doc, fp, v, 32))) {
			strcpy(en->prefix, s);
		} else {
			eok = false;
		}

		snprintf(fp, sizeof(fp), "%s.area_name", ep);
		v = json_object_get(e, "area_name");
		s = v ? check_str(doc, fp, v, 0, 128) : "";
		if (!s || !(en->area_name = xstrdup(doc, s)))
			eok = false;

		/* rates: first_rate required, next_* default to first_* */
		snprintf(fp, sizeof(fp), "%s.first_rate", ep);
		v = json_object_get(e, "first_rate");
		if (!v) {
			md_doc_error(doc, "%s: required", fp);
			eok = false;
		} else if (!check_money(doc, fp, v, 0,
					1000000LL * SW_MONEY_UNIT,
					&en->first_rate)) {
			eok = false;
		}

		snprintf(fp, sizeof(fp), "%s.first_interval", ep);
		v = json_object_get(e, "first_interval");
		en->first_interval = 60;
		if (v && !check_int(doc, fp, v, 0, 86400, &en->first_interval))
			eok = false;

		snprintf(fp, sizeof(fp), "%s.next_rate", ep);
		v = json_object_get(e, "next_rate");
		en->next_rate = en->first_rate;
		if (v && !check_money(doc, fp, v, 0, 1000000LL * SW_MONEY_UNIT,
				      &en->next_rate))
			eok = false;

		snprintf(fp, sizeof(fp), "%s.next_interval", ep);
		v = json_object_get(e, "next_interval");
		en->next_interval = en->first_interval ? en->first_interval : 1;
		if (v && !check_int(doc, fp, v, 0, 86400, &en->next_interval))
			eok = false;

		snprintf(fp, sizeof(fp), "%s.connect_fee", ep);
		v = json_object_get(e, "connect_fee");
		en->connect_fee = 0;
		if (v && !check_money(doc, fp, v, 0, 1000000LL * SW_MONEY_UNIT,
				      &en->connect_fee))
			eok = false;

		if (!eok) {
			free(en->area_name);
			en->area_name = NULL;
			ok = false;
			continue;
		}

		en->index = i;
		obj->nentries++;
	}

	/* sorted by prefix: duplicates are neighbours */
	qsort(obj->entries, obj->nentries, sizeof(*obj->entries), cmp_entry);
	for (size_t k = 1; k < obj->nentries; k++) {
		const struct md_entry *a = &obj->entries[k - 1];
		const struct md_entry *b = &obj->entries[k];

		if (strcmp(a->prefix, b->prefix))
			continue;
		md_doc_error(doc, "%s[%zu].prefix: \"%s\" is also %s[%zu]",
			     path, a->index > b->index ? a->index : b->index,
			     b->prefix, path,
			     a->index < b->index ? a->index : b->index);
		ok = false;
	}
	return ok;
}

static char *int_text(struct md_doc *doc, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return xstrdup(doc, buf);
}

/* one field of one object; fills *out on success */
static void check_field(struct md_doc *doc, struct md_obj *obj,
			const struct md_field *f, const json_t *j,
			struct md_val *out)
{
	char path[160];
	const char *s;
	int64_t v;

	snprintf(path, sizeof(path), "%s.%s", obj->path, f->key);

	if (json_is_null(j)) {
		if (f->flags & MD_F_NULLABLE) {
			out->set = true;
			out->null = true;
		} else {
			md_doc_error(doc, "%s: must not be null", path);
		}
		return;
	}

	switch (f->kind) {

	case MD_TEXT:
		s = check_str(doc, path, j, f->min, f->max);
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_DIALSTR:
		s = check_str(doc, path, j, f->min, f->max);
		if (s && strspn(s, "0123456789*#+") != strlen(s)) {
			md_doc_error(doc, "%s: digits, '*', '#' and '+' only",
				     path);
			s = NULL;
		}
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_PREFIX:
		s = check_prefix(doc, path, j, f->max);
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_HOST:
		s = check_str(doc, path, j, f->min, f->max);
		if (s && !md_host_valid(s)) {
			md_doc_error(doc, "%s: not an IP address or host name",
				     path);
			s = NULL;
		}
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_INT:
		if (check_int(doc, path, j, f->min, f->max, &v))
			out->text = int_text(doc, v);
		break;

	case MD_BOOL:
		if (!json_is_boolean(j))
			md_doc_error(doc, "%s: must be true or false", path);
		else
			out->text =
			    xstrdup(doc, json_is_true(j) ? "true" : "false");
		break;

	case MD_MONEY:
		if (check_money(doc, path, j, f->min, f->max, &v))
			out->text = int_text(doc, v);
		break;

	case MD_ENUM:
		s = check_str(doc, path, j, 1, 32);
		if (s) {
			bool found = false;
			char list[128] = "";

			for (size_t i = 0; f->enums[i]; i++) {
				found |= !strcmp(f->enums[i], s);
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", f->enums[i]);
			}
			if (found)
				out->text = xstrdup(doc, s);
			else
				md_doc_error(doc, "%s: must be one of %s", path,
					     list);
		}
		break;

	case MD_REF:
		s = check_str(doc, path, j, 1, NAME_MAX_LEN);
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_INT_LIST:
	case MD_PREFIX_LIST:
	case MD_IP_LIST:
	case MD_REF_LIST:
	case MD_PREFIX_SET:
	case MD_DATE_SET:
	case MD_ENUM_SET:
		out->text = check_list(doc, path, f, j);
		break;

	case MD_TIME:
		s = check_str(doc, path, j, 5, 8);
		if (s) {
			char t[9];

			if (time_canon(s, t))
				out->text = xstrdup(doc, t);
			else
				md_doc_error(doc,
					     "%s: not a time HH:MM "
					     "(00:00..24:00)",
					     path);
		}
		break;

	case MD_TZ:
		s = check_str(doc, path, j, f->min, f->max);
		if (s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				   "qrstuvwxyz0123456789_/+-") != strlen(s)) {
			md_doc_error(doc,
				     "%s: not a time zone name (e.g. "
				     "Europe/London)",
				     path);
			s = NULL;
		}
		if (s)
			out->text = xstrdup(doc, s);
		break;

	case MD_DIALPLAN:
		out->text = check_dialplan(doc, path, f, j);
		break;

	case MD_MEDIA:
		out->text = check_media(doc, path, j);
		break;

	case MD_IDENTITY:
		out->text = check_identity(doc, path, j);
		break;

	case MD_CALLER_POOL:
		out->text = check_caller_pool(doc, path, j);
		break;

	case MD_RATE_ENTRIES:
		if (check_entries(doc, path, f, j, obj))
			out->text = xstrdup(doc, "entries");
		break;
	}

	out->set = out->text != NULL;
}

/* the value of field `key` of obj as text (NULL when unset or null) */
static const char *val_of(const struct md_obj *obj, const char *key)
{
	int i = md_field_index(obj->sec, key);

	if (i < 0 || !obj->vals[i].set || obj->vals[i].null)
		return NULL;
	return obj->vals[i].text;
}

/* rules between fields of one object */
static void check_object_rules(struct md_doc *doc, const struct md_obj *obj)
{
	const char *sec = obj->sec->key;

	if (!strcmp(sec, "gateway_groups")) {
		const char *cap = val_of(obj, "capacity");
		const char *res = val_of(obj, "reserved_lines");

		if (cap && res && strtoll(cap, NULL, 10) &&
		    strtoll(res, NULL, 10) > strtoll(cap, NULL, 10))
			md_doc_error(doc,
				     "%s.reserved_lines: must not exceed "
				     "capacity (%s)",
				     obj->path, cap);
	} else if (!strcmp(sec, "work_calendars")) {
		const char *a = val_of(obj, "work_start");
		const char *b = val_of(obj, "work_end");

		if (a && b && strcmp(a, b) >= 0)
			md_doc_error(doc,
				     "%s.work_end: must be after "
				     "work_start (%s)",
				     obj->path, a);
	} else if (!strcmp(sec, "accounts")) {
		const char *agent = val_of(obj, "agent");

		if (agent && obj->name && !strcmp(agent, obj->name))
			md_doc_error(doc,
				     "%s.agent: an account cannot be its "
				     "own agent",
				     obj->path);
	} else if (!strcmp(sec, "mapping_gateways")) {
		const char *mode = val_of(obj, "auth_mode");
		const char *ips = val_of(obj, "ips");

		if (mode && !strcmp(mode, "password")) {
			if (!val_of(obj, "username"))
				md_doc_error(doc,
					     "%s.username: required with "
					     "auth_mode password",
					     obj->path);
			if (!val_of(obj, "password"))
				md_doc_error(doc,
					     "%s.password: required with "
					     "auth_mode password",
					     obj->path);
		} else if (ips && !strcmp(ips, "[]")) {
			md_doc_error(doc,
				     "%s.ips: auth_mode %s needs at least "
				     "one address",
				     obj->path, mode ? mode : "ip");
		}
	}
}

static void check_object(struct md_doc *doc, const struct md_section *sec,
			 size_t idx, const json_t *o, struct md_obj *obj)
{
	const json_t *j;
	char path[160];
	const char *name;

	obj->sec = sec;
	snprintf(obj->path, sizeof(obj->path), "%s[%zu]", sec->key, idx);

	if (!json_is_object(o)) {
		md_doc_error(doc, "%s: must be an object", obj->path);
		return;
	}
	unknown_keys(doc, obj->path, o, NULL, sec);

	snprintf(path, sizeof(path), "%s.%s", obj->path, md_section_id(sec));
	j = json_object_get(o, md_section_id(sec));
	if (!j) {
		md_doc_error(doc, "%s: required", path);
	} else if (!json_is_string(j)) {
		md_doc_error(doc, "%s: must be a string", path);
	} else {
		const char *why;

		name = json_string_value(j);
		why = name_problem(name, json_string_length(j));
		/* phones are identified by their number */
		if (!why && sec->id && !strcmp(sec->id, "number") &&
		    (strlen(name) > 32 ||
		     strspn(name, "0123456789*#+") != strlen(name)))
			why = "must be 1..32 of 0-9 * # +";
		if (why)
			md_doc_error(doc, "%s: %s", path, why);
		else
			obj->name = xstrdup(doc, name);
	}

	j = json_object_get(o, "delete");
	if (j && !json_is_boolean(j))
		md_doc_error(doc, "%s.delete: must be true or false",
			     obj->path);
	obj->del = j && json_is_true(j);

	obj->vals = calloc(sec->nfields ? sec->nfields : 1, sizeof(*obj->vals));
	if (!obj->vals) {
		md_doc_error(doc, "out of memory");
		return;
	}
	for (size_t i = 0; i < sec->nfields; i++) {
		j = json_object_get(o, sec->fields[i].key);
		if (j)
			check_field(doc, obj, &sec->fields[i], j,
				    &obj->vals[i]);
	}

	if (!obj->del)
		check_object_rules(doc, obj);
}

/* an integer parameter's value: canonical decimal text, or NULL */
static char *param_int(struct md_doc *doc, const char *path,
		       const struct md_param_def *def, const json_t *val)
{
	const char *t = json_string_value(val);
	const char *d = t[0] == '-' ? t + 1 : t;
	char num[32];
	long long v;

	if (!*d || strlen(d) > 12 || !all_digits(d) ||
	    strlen(t) != json_string_length(val)) {
		md_doc_error(doc,
			     "%s: must be an integer in a string, e.g. "
			     "\"%s\"",
			     path, *def->def ? def->def : "1");
		return NULL;
	}
	v = strtoll(t, NULL, 10);
	if (!strcmp(def->name, "SS_ECHOCANCELTAIL") && v != 64 && v != 128 &&
	    v != 256) {
		md_doc_error(doc, "%s: must be 64, 128 or 256", path);
		return NULL;
	}
	if (v < def->min || v > def->max) {
		md_doc_error(doc, "%s: must be %lld..%lld", path,
			     (long long)def->min, (long long)def->max);
		return NULL;
	}
	snprintf(num, sizeof(num), "%lld", v);
	return xstrdup(doc, num);
}

/* "system_parameters": {"NAME": "value" | null} */
/* "10.0.0.0/8, 192.0.2.7" (empty: none); records the first bad item */
static bool cidr_list_ok(struct md_doc *doc, const char *path, const char *s)
{
	char item[64];

	while (*s) {
		size_t n = strcspn(s, ",");
		size_t a = 0, b = n;

		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (b - a >= sizeof(item) || b == a) {
			md_doc_error(doc,
				     "%s: a comma-separated list of IP "
				     "addresses and CIDRs, without empty "
				     "items",
				     path);
			return false;
		}
		memcpy(item, s + a, b - a);
		item[b - a] = '\0';
		if (!md_ip_or_cidr_valid(item)) {
			md_doc_error(doc,
				     "%s: '%s' is not an IP address or CIDR",
				     path, item);
			return false;
		}
		s += n + (s[n] == ',');
	}
	return true;
}

static void check_params(struct md_doc *doc, const json_t *o)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	if (!json_is_object(o)) {
		md_doc_error(doc, "system_parameters: must be an object of "
				  "NAME: \"value\"");
		return;
	}
	doc->params = calloc(json_object_size(o) + 1, sizeof(*doc->params));
	if (!doc->params) {
		md_doc_error(doc, "out of memory");
		return;
	}

	json_object_foreach(rd(o), key, val)
	{
		const struct md_param_def *def = md_param_find(key);
		struct md_param *p = &doc->params[n];
		char path[96];
		const char *s;

		snprintf(path, sizeof(path), "system_parameters.%.60s", key);
		if (!def) {
			md_doc_error(doc, "%s: unknown system parameter", path);
			continue;
		}
		if (json_is_null(val)) {
			p->value = NULL; /* back to the default */
		} else if (!json_is_string(val)) {
			md_doc_error(doc,
				     "%s: must be a string (e.g. \"5\") "
				     "or null",
				     path);
			continue;
		} else if (def->text) {
			s = check_str(doc, path, val, def->min, def->max);
			if (s && def->cidr_list && !cidr_list_ok(doc, path, s))
				s = NULL;
			if (!s || !(p->value = xstrdup(doc, s)))
				continue;
		} else if (!(p->value = param_int(doc, path, def, val))) {
			continue;
		}

		if (!(p->name = xstrdup(doc, key))) {
			free(p->value);
			p->value = NULL;
			continue;
		}
		snprintf(p->path, sizeof(p->path), "%s", path);
		n++;
	}
	doc->nparams = n;
}

/* the object `name` of section `section` in the document, or NULL */
struct md_obj *md_doc_find(const struct md_doc *doc, const char *section,
			   const char *name)
{
	const struct md_section *sec = md_section_find(section);

	if (doc->byname && sec) {
		size_t lo = 0, hi = doc->nbyname;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			struct md_obj *o = &doc->objs[doc->byname[mid]];
			int c = o->sec != sec ? (o->sec < sec ? -1 : 1)
					      : strcmp(o->name, name);

			if (c == 0)
				return o;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}

	for (size_t i = 0; i < doc->nobjs; i++) {
		struct md_obj *o = &doc->objs[i];

		if (o->name && !strcmp(o->sec->key, section) &&
		    !strcmp(o->name, name))
			return o;
	}
	return NULL;
}

static int cmp_byname(const void *a, const void *b)
{
	const struct md_obj *x = &sort_base[*(const size_t *)a];
	const struct md_obj *y = &sort_base[*(const size_t *)b];

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* the lookup index of md_doc_find(); without it lookups are linear */
static void index_names(struct md_doc *doc)
{
	size_t n = 0;

	doc->byname = calloc(doc->nobjs + 1, sizeof(*doc->byname));
	if (!doc->byname)
		return;
	for (size_t i = 0; i < doc->nobjs; i++) {
		if (doc->objs[i].name && doc->objs[i].sec)
			doc->byname[n++] = i;
	}
	sort_base = doc->objs;
	qsort(doc->byname, n, sizeof(*doc->byname), cmp_byname);
	sort_base = NULL;
	doc->nbyname = n;
}

/* references inside the file: to a deleted object is an error */
static void check_refs(struct md_doc *doc)
{
	for (size_t i = 0; i < doc->nobjs; i++) {
		const struct md_obj *o = &doc->objs[i];

		if (o->del || !o->vals)
			continue;
		for (size_t k = 0; k < o->sec->nfields; k++) {
			const struct md_field *f = &o->sec->fields[k];
			const struct md_obj *t;
			json_t *list;
			size_t x;
			json_t *e;

			if (!o->vals[k].set || o->vals[k].null)
				continue;
			if (f->kind == MD_REF) {
				t = md_doc_find(doc, f->ref, o->vals[k].text);
				if (t && t->del)
					md_doc_error(doc,
						     "%s.%s: refers to %s "
						     "\"%s\", which this file "
						     "deletes",
						     o->path, f->key,
						     t->sec->noun, t->name);
			}
			if (f->kind != MD_REF_LIST)
				continue;
			list = json_loads(o->vals[k].text, 0, NULL);
			json_array_foreach(list, x, e)
			{
				t = md_doc_find(doc, f->ref,
						json_string_value(e));
				if (t && t->del)
					md_doc_error(doc,
						     "%s.%s[%zu]: refers "
						     "to %s \"%s\", which this "
						     "file deletes",
						     o->path, f->key, x,
						     t->sec->noun, t->name);
			}
			json_decref(list);
		}
	}
}

/*
 * Accounts are created parents first.  Sort the accounts of the file so that
 * an agent named in the file precedes its sub-accounts, refusing cycles.
 */

static int cmp_idx_name(const void *a, const void *b)
{
	return strcmp(sort_base[*(const size_t *)a].name,
		      sort_base[*(const size_t *)b].name);
}

static void order_accounts(struct md_doc *doc, size_t first, size_t n)
{
	struct md_obj *objs = &doc->objs[first];
	struct md_obj *sorted = NULL;
	size_t *byname = NULL, *parent = NULL, *stack = NULL;
	unsigned char *state = NULL; /* 0 new, 1 on the walk, 2 placed */
	size_t out = 0;
	int ai;

	if (n < 2)
		return;
	ai = md_field_index(md_section_find("accounts"), "agent");
	sorted = calloc(n, sizeof(*sorted));
	byname = calloc(n, sizeof(*byname));
	parent = calloc(n, sizeof(*parent));
	stack = calloc(n, sizeof(*stack));
	state = calloc(n, 1);
	if (!sorted || !byname || !parent || !stack || !state) {
		md_doc_error(doc, "out of memory");
		goto out;
	}

	/* parent[i]: index of the in-file agent of account i, or n */
	for (size_t i = 0; i < n; i++)
		byname[i] = i;
	sort_base = objs;
	qsort(byname, n, sizeof(*byname), cmp_idx_name);
	for (size_t i = 0; i < n; i++) {
		const struct md_val *a = &objs[i].vals[ai];
		size_t lo = 0, hi = n;

		parent[i] = n;
		if (objs[i].del || !a->set || a->null)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(objs[byname[mid]].name, a->text);

			if (c == 0) {
				if (!objs[byname[mid]].del)
					parent[i] = byname[mid];
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}

	for (size_t i = 0; i < n; i++) {
		size_t depth = 0, cur = i;

		/* walk up the unplaced ancestors, then place them top down */
		while (cur < n && state[cur] != 2) {
			if (state[cur] == 1) {
				md_doc_error(doc,
					     "%s.agent: the agent chain "
					     "of \"%s\" is a cycle",
					     objs[cur].path, objs[cur].name);
				goto out;
			}
			state[cur] = 1;
			stack[depth++] = cur;
			cur = parent[cur];
		}
		while (depth > 0) {
			cur = stack[--depth];
			sorted[out++] = objs[cur];
			state[cur] = 2;
		}
	}
	if (out == n)
		memcpy(objs, sorted, n * sizeof(*sorted));

out:
	sort_base = NULL;
	free(sorted);
	free(byname);
	free(parent);
	free(stack);
	free(state);
}

static int cmp_idx_name_or_null(const void *a, const void *b)
{
	const struct md_obj *x = &sort_base[*(const size_t *)a];
	const struct md_obj *y = &sort_base[*(const size_t *)b];
	int c;

	if (!x->name || !y->name)
		c = !x->name - !y->name;
	else
		c = strcmp(x->name, y->name);
	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b
		   ? -1
		   : *(const size_t *)a > *(const size_t *)b;
}

/* names are unique within a section of the file */
static void check_dup_names(struct md_doc *doc, size_t first, size_t n)
{
	struct md_obj *objs = &doc->objs[first];
	size_t *idx;

	if (n < 2)
		return;
	idx = calloc(n, sizeof(*idx));
	if (!idx) {
		md_doc_error(doc, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_base = objs;
	qsort(idx, n, sizeof(*idx), cmp_idx_name_or_null);
	sort_base = NULL;

	for (size_t k = 1; k < n; k++) {
		const struct md_obj *a = &objs[idx[k - 1]];
		const struct md_obj *b = &objs[idx[k]];

		if (a->name && b->name && !strcmp(a->name, b->name))
			md_doc_error(doc, "%s.%s: \"%s\" is also %s", b->path,
				     md_section_id(b->sec), b->name, a->path);
	}
	free(idx);
}

/*
 * Check a whole document.  Returns 0 when it is valid; otherwise EINVAL and
 * doc->errs lists every problem.  doc must be zeroed; free with
 * md_doc_free() in both cases.
 */
int md_doc_check(struct md_doc *doc, const json_t *root)
{
	const char *key;
	json_t *val;
	size_t total = 0;

	if (!doc)
		return EINVAL;
	if (!json_is_object(root)) {
		md_doc_error(doc, "(top): the document must be a JSON object");
		return EINVAL;
	}

	json_object_foreach(rd(root), key, val)
	{
		const struct md_section *sec = md_section_find(key);

		if (!strcmp(key, "system_parameters"))
			continue;
		if (!sec) {
			md_doc_error(doc, "%.64s: unknown section", key);
			continue;
		}
		if (!json_is_array(val)) {
			md_doc_error(doc, "%s: must be a list of objects", key);
			continue;
		}
		if (json_array_size(val) > MAX_OBJS) {
			md_doc_error(doc, "%s: at most %d objects", key,
				     MAX_OBJS);
			continue;
		}
		total += json_array_size(val);
	}

	val = json_object_get(root, "system_parameters");
	if (val)
		check_params(doc, val);

	doc->objs = calloc(total ? total : 1, sizeof(*doc->objs));
	if (!doc->objs) {
		md_doc_error(doc, "out of memory");
		return ENOMEM;
	}

	/* sections in apply order, objects in file order */
	for (size_t s = 0; s < md_nsections; s++) {
		const struct md_section *sec = &md_sections[s];
		const json_t *arr = json_object_get(root, sec->key);
		size_t first = doc->nobjs;

		if (!json_is_array(arr) || json_array_size(arr) > MAX_OBJS)
			continue;

		for (size_t i = 0; i < json_array_size(arr); i++) {
			struct md_obj *obj = &doc->objs[doc->nobjs++];

			check_object(doc, sec, i, json_array_get(arr, i), obj);
		}
		check_dup_names(doc, first, doc->nobjs - first);
		if (!doc->nerrs && !strcmp(sec->key, "accounts"))
			order_accounts(doc, first, doc->nobjs - first);
	}

	index_names(doc);
	if (!doc->nerrs)
		check_refs(doc);

	return doc->nerrs ? EINVAL : 0;
}

/* free what a document owns (not the struct itself) */
void md_doc_free(struct md_doc *doc)
{
	if (!doc)
		return;

	for (size_t i = 0; i < doc->nparams; i++) {
		free(doc->params[i].name);
		free(doc->params[i].value);
	}
	free(doc->params);

	for (size_t i = 0; i < doc->nobjs; i++) {
		struct md_obj *o = &doc->objs[i];

		for (size_t k = 0; o->vals && k < o->sec->nfields; k++)
			free(o->vals[k].text);
		free(o->vals);
		for (size_t k = 0; k < o->nentries; k++)
			free(o->entries[k].area_name);
		free(o->entries);
		free(o->name);
	}
	free(doc->objs);
	free(doc->byname);

	for (size_t i = 0; i < doc->nerrs; i++)
		free(doc->errs[i]);
	free(doc->errs);

	memset(doc, 0, sizeof(*doc));
}
