/*
 * conf.c - `key value` config files checked against a declarative table
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/conf.h"
#include "common/log.h"

#define MAX_ITEMS 128
#define MAX_FILE  (1024 * 1024)

/*
 * A decimal integer in [min, max] (the whole string): 0, EINVAL when it is
 * not an integer, ERANGE when out of range (*vp unchanged on error).  Used
 * for config values, system parameters and API parameters alike.
 */
int sw_parse_int(int64_t *vp, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long n;

	if (!s)
		return EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return ERANGE;
	if (errno || end == s || *end)
		return EINVAL;
	if (n < min || n > max)
		return ERANGE;
	*vp = n;
	return 0;
}

static bool ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * "<IPv4>:<port>" or "[<IPv6>]:<port>" with a port of 1..65535 (the whole
 * string): 0 with the address in ip and the port, else EINVAL and why.
 * One reading of a listen address for every daemon (sip_listen,
 * http_listen).
 */
int sw_conf_hostport(const char *s, char *ip, size_t ipsz, unsigned *port,
		     char *why, size_t whysz)
{
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hlen;
	char addr[64];
	int64_t p;

	if (!colon) {
		snprintf(why, whysz, "'%s' is not <ip>:<port>", s);
		return EINVAL;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']') {
			snprintf(why, whysz, "'%s' is not [<IPv6>]:<port>", s);
			return EINVAL;
		}
		host = s + 1;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(addr)) {
		snprintf(why, whysz, "'%s' is not <ip>:<port>", s);
		return EINVAL;
	}
	memcpy(addr, host, hlen);
	addr[hlen] = '\0';
	if (!ip_literal(addr) || (s[0] != '[' && strchr(addr, ':'))) {
		snprintf(why, whysz,
			 "'%s' is not an IP address (IPv6 goes in [ ])", addr);
		return EINVAL;
	}
	if (sw_parse_int(&p, colon + 1, 1, 65535)) {
		snprintf(why, whysz, "port '%s' is not one of 1..65535",
			 colon + 1);
		return EINVAL;
	}
	if (ip)
		snprintf(ip, ipsz, "%s", addr);
	if (port)
		*port = (unsigned)p;
	return 0;
}

static int set_value(const struct sw_conf_item *it, void *obj, const char *val,
		     char *why, size_t whysz)
{
	char *field = (char *)obj + it->offset;
	int64_t n = 0;
	int e;

	switch (it->type) {
	case SW_CONF_INT:
		e = sw_parse_int(&n, val, INT64_MIN, INT64_MAX);
		if (e == EINVAL) {
			snprintf(why, whysz, "'%s' is not an integer", val);
			return EINVAL;
		}
		if (e || n < it->min || n > it->max) {
			snprintf(why, whysz,
				 "%s is out of range %" PRId64 "..%" PRId64,
				 val, it->min, it->max);
			return ERANGE;
		}
		*(int64_t *)(void *)field = n;
		return 0;

	case SW_CONF_BOOL:
		if (!strcasecmp(val, "1") || !strcasecmp(val, "yes") ||
		    !strcasecmp(val, "on") || !strcasecmp(val, "true")) {
			*(bool *)field = true;
		} else if (!*val || !strcasecmp(val, "0") ||
			   !strcasecmp(val, "no") || !strcasecmp(val, "off") ||
			   !strcasecmp(val, "false")) {
			*(bool *)field = false;
		} else {
			snprintf(why, whysz, "'%s' is not a boolean", val);
			return EINVAL;
		}
		return 0;

	case SW_CONF_IP:
		if ((*val || it->min > 0) && !ip_literal(val)) {
			snprintf(why, whysz, "'%s' is not an IP address", val);
			return EINVAL;
		}
		goto str;

	case SW_CONF_HOSTPORT:
		if ((*val || it->min > 0) &&
		    sw_conf_hostport(val, NULL, 0, NULL, why, whysz))
			return EINVAL;
		goto str;

	case SW_CONF_STR:
	str:
		n = (long long)strlen(val);
		if ((size_t)n >= it->size) {
			snprintf(why, whysz, "value longer than %zu characters",
				 it->size - 1);
			return ERANGE;
		}
		if (n < it->min || (it->max > 0 && n > it->max)) {
			snprintf(why, whysz,
				 "length %lld out of range %" PRId64
				 "..%" PRId64,
				 (long long)n, it->min, it->max);
			return ERANGE;
		}
		memcpy(field, val, (size_t)n + 1);
		return 0;

	case SW_CONF_LOGLEVEL:
		if (sw_log_level_parse((enum sw_log_level *)(void *)field,
				       val)) {
			snprintf(why, whysz,
				 "'%s' is not one of err, warn, info, debug",
				 val);
			return EINVAL;
		}
		return 0;
	}

	snprintf(why, whysz, "unsupported type");
	return EINVAL;
}

/* Apply every default of the table to obj. */
int sw_conf_defaults(const struct sw_conf_item *tab, void *obj, char *err,
		     size_t errsz)
{
	char why[160];
	int ret;

	for (const struct sw_conf_item *it = tab; it->name; it++) {
		ret = set_value(it, obj, it->def ? it->def : "", why,
				sizeof(why));
		if (ret && !(it->type == SW_CONF_INT && !it->def)) {
			snprintf(err, errsz, "default of %s: %s", it->name,
				 why);
			return ret;
		}
		if (ret)
			*(int64_t *)(void *)((char *)obj + it->offset) = 0;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Parse `text` (the contents of fname) into obj; defaults are NOT applied
 * here.  The first problem is reported as "fname:line: message".
 */
int sw_conf_parse(const struct sw_conf_item *tab, void *obj, const char *text,
		  const char *fname, char *err, size_t errsz)
{
	bool seen[MAX_ITEMS] = {false};
	char *copy, *line, *save = NULL, *key, *val;
	const struct sw_conf_item *it;
	char why[160];
	int lineno = 0, ret = 0;
	size_t idx;

	copy = strdup(text ? text : "");
	if (!copy)
		return ENOMEM;

	/* strtok_r would merge empty lines and break the numbering */
	for (line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;

		key = trim(line);
		if (!*key || *key == '#')
			continue;

		val = key;
		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = trim(val);

		for (it = tab, idx = 0; it->name; it++, idx++) {
			if (!strcmp(it->name, key))
				break;
		}
		if (!it->name) {
			snprintf(err, errsz, "%s:%d: unknown key '%s'", fname,
				 lineno, key);
			ret = EINVAL;
			goto out;
		}
		if (idx < MAX_ITEMS && seen[idx]) {
			snprintf(err, errsz, "%s:%d: duplicate key '%s'", fname,
				 lineno, key);
			ret = EINVAL;
			goto out;
		}
		if (idx < MAX_ITEMS)
			seen[idx] = true;

		ret = set_value(it, obj, val, why, sizeof(why));
		if (ret) {
			snprintf(err, errsz, "%s:%d: %s: %s", fname, lineno,
				 key, why);
			goto out;
		}
	}

out:
	free(copy);
	return ret;
}

/*
 * The line of path where key is set (1-based), 0 when it is not there or
 * the file cannot be read: for checks made after the load (bus URLs
 * against bus_pki and bus_insecure) that still name file:line.
 */
int sw_conf_key_line(const char *path, const char *key)
{
	char line[2048];
	size_t klen = strlen(key);
	int n = 0, found = 0;
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line;

		n++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!strncmp(s, key, klen) &&
		    (s[klen] == ' ' || s[klen] == '\t' || s[klen] == '\n' ||
		     !s[klen]))
			found = n; /* the last one would win, were it allowed */
	}
	fclose(f);
	return found;
}

/* err = "path:line: key: msg" (path NULL: the defaults) */
void sw_conf_key_error(char *err, size_t errsz, const char *path,
		       const char *key, const char *msg)
{
	int line = sw_conf_key_line(path, key);

	if (line)
		snprintf(err, errsz, "%s:%d: %s: %s", path, line, key, msg);
	else
		snprintf(err, errsz, "%s: %s: %s", path ? path : "(defaults)",
			 key, msg);
}

/* Apply defaults, then read and parse the file at path. */
int sw_conf_load(const struct sw_conf_item *tab, void *obj, const char *path,
		 char *err, size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int ret;

	ret = sw_conf_defaults(tab, obj, err, errsz);
	if (ret)
		return ret;
	if (!path)
		return 0;

	f = fopen(path, "r");
	if (!f) {
		ret = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(ret));
		return ret;
	}

	buf = malloc(MAX_FILE + 1);
	if (!buf) {
		ret = ENOMEM;
		goto out;
	}
	len = fread(buf, 1, MAX_FILE + 1, f);
	if (ferror(f)) {
		ret = EIO;
		snprintf(err, errsz, "%s: read error", path);
		goto out;
	}
	if (len > MAX_FILE) {
		ret = EFBIG;
		snprintf(err, errsz, "%s: larger than %d bytes", path,
			 MAX_FILE);
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		ret = EINVAL;
		snprintf(err, errsz, "%s: contains a NUL byte", path);
		goto out;
	}
	buf[len] = '\0';
	ret = sw_conf_parse(tab, obj, buf, path, err, errsz);

out:
	free(buf);
	fclose(f);
	return ret;
}
