/*
 * dialplan.c - parse and apply number rewriting rules
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "signaling/dialplan.h"

static int parse_rule(struct sg_dp_rule *r, const json_t *o, size_t idx,
		      char *err, size_t errsz)
{
	char path[32];
	const char *prefix, *regex, *prepend;
	struct sw_jv v;

	snprintf(path, sizeof(path), "[%zu]", idx);
	sw_jv_init(&v, path);
	prefix = sw_jv_str(&v, o, "prefix", 32, false, "");
	regex = sw_jv_str(&v, o, "regex", 256, false, "");
	r->min_len = (int)sw_jv_int(&v, o, "min_length", 0, 64, false, 0);
	r->max_len = (int)sw_jv_int(&v, o, "max_length", 0, 64, false, 0);
	r->strip = (int)sw_jv_int(&v, o, "strip", 0, 32, false, 0);
	prepend = sw_jv_str(&v, o, "prepend", 32, false, "");
	if (v.bad) {
		snprintf(err, errsz, "%s", v.err);
		return EINVAL;
	}
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	snprintf(r->prepend, sizeof(r->prepend), "%s", prepend);
	if (*regex) {
		int rc = regcomp(&r->re, regex, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char why[128];

			regerror(rc, &r->re, why, sizeof(why));
			snprintf(err, errsz, "%s.regex: %s", path, why);
			return EINVAL;
		}
		r->has_regex = true;
	}
	return 0;
}

/*
 * Parse a JSON array of rules ("" or NULL = empty plan).  On error the plan
 * is empty and err names the rule.
 */
int sg_dialplan_parse(struct sg_dialplan *dp, const char *json, char *err,
		      size_t errsz)
{
	json_t *arr;
	json_error_t jerr;
	size_t n;
	int e = 0;

	memset(dp, 0, sizeof(*dp));
	if (!json || !*json)
		return 0;
	arr = json_loads(json, 0, &jerr);
	if (!json_is_array(arr)) {
		snprintf(err, errsz, "not a JSON array");
		json_decref(arr);
		return EINVAL;
	}
	n = json_array_size(arr);
	if (n > SG_DP_MAX_RULES) {
		snprintf(err, errsz, "%zu rules, at most %d", n,
			 SG_DP_MAX_RULES);
		json_decref(arr);
		return EINVAL;
	}
	if (n) {
		dp->rules = calloc(n, sizeof(*dp->rules));
		if (!dp->rules) {
			json_decref(arr);
			return ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		e = parse_rule(&dp->rules[i], json_array_get(arr, i), i, err,
			       errsz);
		if (e)
			break;
		dp->n++;
	}
	json_decref(arr);
	if (e)
		sg_dialplan_free(dp);
	return e;
}

void sg_dialplan_free(struct sg_dialplan *dp)
{
	if (!dp)
		return;
	for (size_t i = 0; i < dp->n; i++)
		if (dp->rules[i].has_regex)
			regfree(&dp->rules[i].re);
	free(dp->rules);
	dp->rules = NULL;
	dp->n = 0;
}

static bool rule_matches(const struct sg_dp_rule *r, const char *num)
{
	size_t len = strlen(num);

	if (r->min_len && len < (size_t)r->min_len)
		return false;
	if (r->max_len && len > (size_t)r->max_len)
		return false;
	if (r->has_regex)
		return regexec(&r->re, num, 0, NULL, 0) == 0;
	return !strncmp(num, r->prefix, strlen(r->prefix));
}

/*
 * Rewrite in with the first matching rule into out; true when a rule
 * matched.  Without a match (or a plan) out is a copy of in.
 */
bool sg_dialplan_apply(const struct sg_dialplan *dp, const char *in, char *out,
		       size_t outsz)
{
	if (!outsz)
		return false;
	for (size_t i = 0; dp && in && i < dp->n; i++) {
		const struct sg_dp_rule *r = &dp->rules[i];
		size_t len = strlen(in);

		if (!rule_matches(r, in))
			continue;
		snprintf(out, outsz, "%s%s", r->prepend,
			 (size_t)r->strip < len ? in + r->strip : "");
		return true;
	}
	snprintf(out, outsz, "%s", in ? in : "");
	return false;
}

bool sg_dialplan_card_split(const char *callee, const char *prefix,
			    char *digits, size_t digsz, const char **dest)
{
	size_t plen = strlen(prefix), n;
	const char *p, *hash, *raw;

	if (digsz)
		digits[0] = '\0';
	*dest = NULL;
	if (strncmp(callee, prefix, plen))
		return false;
	p = callee + plen;
	n = strspn(p, "0123456789");
	hash = p + n; /* the first non-digit: '#' or "%23", nothing else */
	raw = !strncmp(hash, "%23", 3) ? hash + 3
	      : *hash == '#'	       ? hash + 1
				       : NULL;
	if (!raw || !n || n >= digsz || !*raw)
		return false;
	memcpy(digits, p, n);
	digits[n] = '\0';
	*dest = raw;
	return true;
}
