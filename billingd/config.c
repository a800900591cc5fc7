/*
 * config.c - the billingd.conf table (common/conf.h does the parsing)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/config.h"
#include "billingd/sgpeers.h"
#include "common/bus.h"
#include "common/conf.h"

#define STR(field, def, lo, help)                                              \
	{                                                                      \
#field, SW_CONF_STR, offsetof(struct bd_conf, field),          \
		    sizeof(((struct bd_conf *)0)->field), def, lo,             \
		    sizeof(((struct bd_conf *)0)->field) - 1, help             \
	}

static const struct sw_conf_item conf_tab[] = {
    STR(node_id, "bd1", 1, "this daemon's id in status output"),
    STR(bus_listen, "tcp://127.0.0.1:7611", 1,
	"REP bus socket signalingd sends auth and CDRs to"),
    STR(signaling_url, "tcp://127.0.0.1:7602", 1,
	"signalingd control REP URLs, comma-separated: every signalingd "
	"this billingd serves (status, calls, alarms)"),
    STR(bus_pki, "", 0,
	"certificate directory (tandemctl pki issue) for tls+tcp:// URLs"),
    {"bus_insecure", SW_CONF_BOOL, offsetof(struct bd_conf, bus_insecure),
     sizeof(bool), "0", 0, 0,
     "allow plain tcp:// bus URLs off loopback (warned at every start)"},
    STR(db, "host=127.0.0.1 port=5432 user=tandem dbname=tandem", 1,
	"libpq conninfo of the Tandem database"),
    {"http_listen", SW_CONF_HOSTPORT, offsetof(struct bd_conf, http_listen),
     sizeof(((struct bd_conf *)0)->http_listen), "127.0.0.1:8080", 1,
     sizeof(((struct bd_conf *)0)->http_listen) - 1,
     "HTTP API address ip:port ([ip6]:port)"},
    {"metrics_listen", SW_CONF_HOSTPORT,
     offsetof(struct bd_conf, metrics_listen),
     sizeof(((struct bd_conf *)0)->metrics_listen), "", 0,
     sizeof(((struct bd_conf *)0)->metrics_listen) - 1,
     "host:port of the Prometheus /metrics HTTP endpoint; empty = none"},
    STR(http_tls_cert, "", 0,
	"PEM file with the certificate and its key: the API and web "
	"manager are served over HTTPS (empty: plain HTTP)"),
    STR(web_root, "", 0,
	"directory of the web manager's built files (billingd/web/public "
	"after `make web`), served under /manage/; empty: no web manager"),
    {"log_level", SW_CONF_LOGLEVEL, offsetof(struct bd_conf, log_level),
     sizeof(enum sw_log_level), "info", 0, 0, "err | warn | info | debug"},
    SW_CONF_END,
};

struct url_count {
	char seen[1024]; /* the URLs so far, each NUL-terminated */
	size_t used, n;
	char *msg;
	size_t msgsz;
};

static int url_count(const char *url, void *arg)
{
	struct url_count *c = arg;
	size_t len = strlen(url) + 1;

	for (size_t at = 0; at < c->used; at += strlen(c->seen + at) + 1) {
		if (!strcmp(c->seen + at, url)) {
			snprintf(c->msg, c->msgsz, "'%s' listed twice", url);
			return EINVAL;
		}
	}
	if (c->n == BD_SG_MAX || len > sizeof(c->seen) - c->used) {
		snprintf(c->msg, c->msgsz, "more than %d URLs", BD_SG_MAX);
		return E2BIG;
	}
	memcpy(c->seen + c->used, url, len);
	c->used += len;
	c->n++;
	return 0;
}

/* signaling_url: 1 to BD_SG_MAX URLs, none twice */
static bool url_list_ok(const char *list, char *msg, size_t msgsz)
{
	struct url_count c = {.msg = msg, .msgsz = msgsz};

	if (sw_bus_url_each(list, url_count, &c))
		return false;
	if (!c.n)
		snprintf(msg, msgsz, "no URL");
	return c.n > 0;
}

/*
 * Load path (NULL = defaults only) into conf and check what the table cannot:
 * the bus URLs (signaling_url: 1 to BD_SG_MAX, none twice) and
 * http_tls_cert.  err gets "file:line: message" or a key
 * name on failure.
 */
int bd_conf_load(struct bd_conf *conf, const char *path, char *err,
		 size_t errsz)
{
	int ret;

	if (!conf || !err || !errsz)
		return EINVAL;

	memset(conf, 0, sizeof(*conf));
	ret = sw_conf_load(conf_tab, conf, path, err, errsz);
	if (ret)
		return ret;

	for (int i = 0; i < 2; i++) {
		const char *key = i ? "signaling_url" : "bus_listen";
		const char *url = i ? conf->signaling_url : conf->bus_listen;
		char msg[400];

		/* 0 or 1: libre.h makes bool a signed char here, common/
		 * reads a real _Bool */
		bool pki = *conf->bus_pki != 0;
		int bad = i ? sw_bus_url_list_check(url, conf->bus_insecure,
						    pki, msg, sizeof(msg))
			    : sw_bus_url_check(url, conf->bus_insecure, pki,
					       msg, sizeof(msg));

		if (bad || (i && !url_list_ok(url, msg, sizeof(msg)))) {
			sw_conf_key_error(err, errsz, path, key, msg);
			return EINVAL;
		}
	}
	if (*conf->http_tls_cert) {
		FILE *f = fopen(conf->http_tls_cert, "r");

		if (!f) {
			char msg[600];

			snprintf(msg, sizeof(msg), "%s: %s",
				 conf->http_tls_cert, strerror(errno));
			sw_conf_key_error(err, errsz, path, "http_tls_cert",
					  msg);
			return EINVAL;
		}
		fclose(f);
	}

	return 0;
}
