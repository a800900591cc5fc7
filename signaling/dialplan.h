/*
 * dialplan.h - number rewriting rules (SPEC §3.3, docs/provisioning.md)
 *
 * A dial plan is an ordered list of rules {prefix | POSIX ERE, min/max
 * length, strip N leading characters, prepend}; the first rule that matches
 * rewrites the number, the rest are not looked at.  Plans are parsed (and
 * regexes compiled) when the routing tables load, never per call.
 *
 * Ownership: a plan owns its rules and compiled regexes.
 * Threading: any (pure functions over their arguments).
 */
#ifndef SG_DIALPLAN_H
#define SG_DIALPLAN_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define SG_DP_MAX_RULES 100

struct sg_dp_rule {
	char prefix[33];
	bool has_regex;
	regex_t re;	      /* compiled when has_regex */
	int min_len, max_len; /* 0 = no bound */
	int strip;
	char prepend[33];
};

struct sg_dialplan {
	struct sg_dp_rule *rules; /* owned */
	size_t n;
};

int sg_dialplan_parse(struct sg_dialplan *dp, const char *json, char *err,
		      size_t errsz);
void sg_dialplan_free(struct sg_dialplan *dp);
bool sg_dialplan_apply(const struct sg_dialplan *dp, const char *in, char *out,
		       size_t outsz);

/*
 * A phone-card dial string <prefix><digits>#<destination> ('#' may be
 * written %23): the digits (card number + PIN, 1..digsz-1 of 0-9) into
 * digits, the destination (non-empty) as a pointer into callee.  false when
 * callee is not of that form (digits then "").
 */
bool sg_dialplan_card_split(const char *callee, const char *prefix,
			    char *digits, size_t digsz, const char **dest);

#endif /* SG_DIALPLAN_H */
