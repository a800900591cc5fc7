/*
 * rate.c - tandemctl rate: the fee of a number and duration for an account
 * at a given time (SPEC §9), asked of billingd's HTTP API so that it is
 * computed by the very code that rates CDRs (GET /api/v1/rate).
 *
 *   tandemctl rate ACCOUNT NUMBER SECONDS [--at TIME]
 *
 * TIME is milliseconds since 1970 or YYYY-MM-DDTHH:MM[:SS]Z (UTC); now by
 * default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tools/ctl.h"

/* TIME -> epoch ms; false when unreadable */
static bool parse_at(const char *s, long long *ms)
{
	struct tm tm;
	char *end;
	const char *rest;

	if (*s >= '0' && *s <= '9' && !strchr(s, '-')) {
		*ms = strtoll(s, &end, 10);
		return !*end && *ms > 0;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (rest && *rest == ':')
		rest = strptime(rest, ":%S", &tm);
	if (!rest || strcmp(rest, "Z"))
		return false;
	*ms = (long long)timegm(&tm) * 1000;
	return true;
}

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

int tc_cmd_rate(const struct tc_opts *o, int argc, char **argv)
{
	const char *api = tc_api_base(o);
	char path[512], err[512], *body = NULL, *end;
	long long at = 0, secs;
	json_t *root, *e;
	int status, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: tandemctl rate ACCOUNT NUMBER SECONDS "
				"[--at TIME]\n");
		return 2;
	}
	secs = strtoll(argv[2], &end, 10);
	if (*end || end == argv[2] || secs < 0 || secs > 604800) {
		fprintf(stderr, "tandemctl: rate: SECONDS: whole seconds "
				"0..604800\n");
		return 2;
	}
	if (o->at && !parse_at(o->at, &at)) {
		fprintf(stderr, "tandemctl: rate: --at: milliseconds since "
				"1970 or YYYY-MM-DDTHH:MM[:SS]Z\n");
		return 2;
	}
	if (strspn(argv[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
			    "yz0123456789_.-@") != strlen(argv[0]) ||
	    strspn(argv[1], "0123456789*#+") != strlen(argv[1])) {
		fprintf(stderr, "tandemctl: rate: ACCOUNT is a name, NUMBER "
				"digits (*, #, +)\n");
		return 2;
	}
	if (at)
		snprintf(path, sizeof(path),
			 "/api/v1/rate?account=%s&number=%s&duration=%lld"
			 "&at=%lld",
			 argv[0], argv[1], secs, at);
	else
		snprintf(path, sizeof(path),
			 "/api/v1/rate?account=%s&number=%s&duration=%lld",
			 argv[0], argv[1], secs);
	if (tc_http_get(api, path, o->timeout_ms, &status, &body, err,
			sizeof(err))) {
		fprintf(stderr,
			"tandemctl: billingd API at %s is "
			"unreachable: %s\n",
			api, err);
		return 1;
	}
	root = json_loads(body, 0, NULL);
	if (status != 200) {
		fprintf(stderr, "tandemctl: rate: %s\n",
			str(json_object_get(root, "error"), "message"));
		goto out;
	}
	e = json_object_get(root, "entry");
	{
		time_t t = (time_t)(num(root, "at_ms") / 1000);
		struct tm tm;
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime_r(&t, &tm));
		printf("account   %s\nnumber    %s\n", str(root, "account"),
		       str(root, "number"));
		printf("duration  %lld s (billed %lld s, paid for %lld s)\n",
		       num(root, "duration_s"), num(root, "billable_s"),
		       num(root, "fee_s"));
		printf("at        %s\n", when);
		printf("table     %s (period %s)\n", str(root, "rate_table"),
		       str(root, "period"));
		printf("entry     prefix '%s': connect %s, first %lld s at "
		       "%s/min, next %lld s at %s/min\n",
		       str(e, "prefix"), str(e, "connect_fee"),
		       num(e, "first_interval"), str(e, "first_rate"),
		       num(e, "next_interval"), str(e, "next_rate"));
		printf("fee       %s\n", str(root, "fee"));
	}
	ret = 0;
out:
	json_decref(root);
	free(body);
	return ret;
}
