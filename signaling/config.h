/*
 * config.h - signalingd.conf: the daemon's local settings
 *
 * Owns the table of `key value` settings (listen addresses, bus URLs,
 * database conninfo, spool directory, timeouts).  Business data and SS_*
 * parameters live in PostgreSQL (tables.h), not here.
 *
 * Threading: main loop only (start-up and SIGHUP).
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/log.h"

struct sg_config {
	char node_id[64];
	char sip_listen[128];	      /* host:port, UDP and TCP */
	char sip_tls_listen[128];     /* host:port of SIP over TLS, "" = none */
	bool sip_tls_verify_gateways; /* TLS to vendors: CA and name */
	char sip_tls_dir[256];	      /* agent.pem (certificate and key),
					 cafile.pem */
	char metrics_listen[128];     /* host:port of /metrics, "" = none */
	char bus_events[256];	      /* PULL listen */
	char bus_control[256];	      /* REP listen */
	char billing_url[256];	      /* billingd REP */
	char media_nodes[1024];	      /* comma-separated static REP URLs */
	char bus_pki[256];	      /* tandemctl pki host dir, "" = none */
	bool bus_insecure;	      /* plain tcp:// off loopback allowed */
	char db[512];		      /* libpq conninfo */
	char spool_dir[256];
	enum sw_log_level log_level;
	int64_t auth_timeout_ms;
	int64_t media_timeout_ms;
	int64_t cdr_retry_ms;
	bool keep_calls_on_stop;      /* answered calls survive a restart */
	int64_t tcp_max_connections;  /* inbound SIP over TCP, in total */
	int64_t tcp_max_per_source;   /* ... per source address */
	int64_t tcp_idle_timeout_ms;  /* a connection with no traffic */
	int64_t tcp_msg_timeout_ms;   /* a message that never completes */
	int64_t tcp_unknown_grace_ms; /* not a gateway, not authenticated */
};

int sg_config_load(struct sg_config *cfg, const char *path, char *err,
		   size_t errsz);
void sg_config_print(FILE *f);

#endif /* SG_CONFIG_H */
