/*
 * config.c - the signalingd.conf table (defaults, bounds, help text)
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/bus.h"
#include "common/conf.h"
#include "signaling/config.h"

#define S(f) offsetof(struct sg_config, f), sizeof(((struct sg_config *)0)->f)

static const struct sw_conf_item table[] = {
    {"node_id", SW_CONF_STR, S(node_id), "sg1", 1, 63,
     "this signaling node's id (health.ping, logs)"},
    {"sip_listen", SW_CONF_HOSTPORT, S(sip_listen), "127.0.0.1:5060", 3, 127,
     "SIP host:port, UDP and TCP"},
    {"sip_tls_listen", SW_CONF_HOSTPORT, S(sip_tls_listen), "", 0, 127,
     "SIP over TLS host:port (sips); empty = none"},
    {"sip_tls_dir", SW_CONF_STR, S(sip_tls_dir), "/etc/tandem/sip-tls", 1, 255,
     "directory of the SIP TLS certificate: agent.pem (certificate and "
     "key, PEM) and cafile.pem (the CAs of peers' certificates)"},
    {"sip_tls_verify_gateways", SW_CONF_BOOL, S(sip_tls_verify_gateways), "0",
     0, 0,
     "check the certificate of a routing gateway reached over TLS: signed "
     "by a CA of cafile.pem, for the gateway's address; else no call"},
    {"metrics_listen", SW_CONF_HOSTPORT, S(metrics_listen), "", 0, 127,
     "host:port of the Prometheus /metrics HTTP endpoint; empty = none"},
    {"bus_events", SW_CONF_STR, S(bus_events), "tcp://127.0.0.1:7601", 1, 255,
     "PULL listen URL for node.heartbeat and media.event"},
    {"bus_control", SW_CONF_STR, S(bus_control), "tcp://127.0.0.1:7602", 1, 255,
     "REP listen URL for health.ping and control requests"},
    {"billing_url", SW_CONF_STR, S(billing_url), "tcp://127.0.0.1:7611", 1, 255,
     "billingd REP URL (auth.request, cdr.submit)"},
    {"media_nodes", SW_CONF_STR, S(media_nodes), "", 0, 1023,
     "comma-separated static mediaproxyd REP URLs"},
    {"bus_pki", SW_CONF_STR, S(bus_pki), "", 0, 255,
     "certificate directory (tandemctl pki issue) for tls+tcp:// URLs"},
    {"bus_insecure", SW_CONF_BOOL, S(bus_insecure), "0", 0, 0,
     "allow plain tcp:// bus URLs off loopback (warned at every start)"},
    {"db", SW_CONF_STR, S(db),
     "host=127.0.0.1 port=5432 user=tandem dbname=tandem", 1, 511,
     "libpq conninfo of the Tandem database"},
    {"spool_dir", SW_CONF_STR, S(spool_dir), "/var/spool/tandem", 1, 255,
     "directory of the CDR journal"},
    {"log_level", SW_CONF_LOGLEVEL, S(log_level), "info", 0, 0,
     "err, warn, info or debug"},
    {"auth_timeout_ms", SW_CONF_INT, S(auth_timeout_ms), "1000", 50, 60000,
     "wait for billingd's auth.request reply"},
    {"media_timeout_ms", SW_CONF_INT, S(media_timeout_ms), "1000", 50, 60000,
     "wait for a media node's reply"},
    {"cdr_retry_ms", SW_CONF_INT, S(cdr_retry_ms), "2000", 100, 600000,
     "resend interval of unacknowledged CDRs"},
    {"keep_calls_on_stop", SW_CONF_BOOL, S(keep_calls_on_stop), "1", 0, 0,
     "SIGTERM leaves answered calls up for the next start to recover"},
    {"tcp_max_connections", SW_CONF_INT, S(tcp_max_connections), "2048", 16,
     1000000, "inbound SIP TCP connections in all (kept below RLIMIT_NOFILE)"},
    {"tcp_max_per_source", SW_CONF_INT, S(tcp_max_per_source), "32", 1, 1000000,
     "inbound SIP TCP connections per source address"},
    {"tcp_idle_timeout_ms", SW_CONF_INT, S(tcp_idle_timeout_ms), "120000", 1000,
     86400000, "a TCP connection without traffic is closed after"},
    {"tcp_msg_timeout_ms", SW_CONF_INT, S(tcp_msg_timeout_ms), "10000", 100,
     600000, "a SIP message must be complete within"},
    {"tcp_unknown_grace_ms", SW_CONF_INT, S(tcp_unknown_grace_ms), "2000", 0,
     60000, "a TCP source neither gateway nor authenticated is closed after"},
    SW_CONF_END,
};

/* every bus URL of cfg: listeners, billingd, static media nodes */
static int check_urls(const struct sg_config *cfg, const char *path, char *err,
		      size_t errsz)
{
	const struct {
		const char *key, *url;
	} urls[] = {{"bus_events", cfg->bus_events},
		    {"bus_control", cfg->bus_control},
		    {"billing_url", cfg->billing_url}};
	bool pki = cfg->bus_pki[0] != '\0';
	char msg[400];

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (sw_bus_url_check(urls[i].url, cfg->bus_insecure, pki, msg,
				     sizeof(msg))) {
			sw_conf_key_error(err, errsz, path, urls[i].key, msg);
			return EINVAL;
		}
	}
	if (sw_bus_url_list_check(cfg->media_nodes, cfg->bus_insecure, pki, msg,
				  sizeof(msg))) {
		sw_conf_key_error(err, errsz, path, "media_nodes", msg);
		return EINVAL;
	}
	return 0;
}

/* Load defaults, then the file (path NULL = defaults only), and check
 * what one key cannot: the bus URLs against bus_pki and bus_insecure. */
int sg_config_load(struct sg_config *cfg, const char *path, char *err,
		   size_t errsz)
{
	int e;

	if (!path)
		e = sw_conf_defaults(table, cfg, err, errsz);
	else
		e = sw_conf_load(table, cfg, path, err, errsz);
	if (!e)
		e = check_urls(cfg, path, err, errsz);
	return e;
}

/* Print every key with its default and help (for -t output and docs). */
void sg_config_print(FILE *f)
{
	for (const struct sw_conf_item *it = table; it->name; it++)
		fprintf(f, "%-18s %-28s %s\n", it->name,
			it->def ? it->def : "\"\"", it->help);
}
