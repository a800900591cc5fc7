/*
 * config.h - billingd.conf: the keys, their defaults and bounds
 *
 *   node_id        bd1                      this daemon's id in status output
 *   bus_listen     tcp://127.0.0.1:7611     REP socket for signalingd
 *   signaling_url  tcp://127.0.0.1:7602     signalingd control REP sockets
 *                                           (comma-separated, one each)
 *   db             host=127.0.0.1 port=5432 user=tandem dbname=tandem
 *   http_listen    127.0.0.1:8080           HTTP API address
 *   http_tls_cert  (empty)                  PEM cert + key: serve HTTPS
 *   metrics_listen (empty)                  Prometheus /metrics address
 *   log_level      info                     err | warn | info | debug
 *
 * Threading: main loop (start-up and SIGHUP).
 */
#ifndef BD_CONFIG_H
#define BD_CONFIG_H

#include <stddef.h>

#include "common/log.h"

#include <stdbool.h>

#define BD_CONF_PATH "/etc/tandem/billingd.conf"

struct bd_conf {
	char node_id[65];
	char bus_listen[257];
	char signaling_url[1024]; /* comma-separated list */
	char bus_pki[257];	  /* tandemctl pki host dir, "" = none */
	bool bus_insecure;	  /* plain tcp:// off loopback allowed */
	char db[1025];
	char http_listen[129];
	char http_tls_cert[513];
	char metrics_listen[129]; /* Prometheus /metrics, "" = none */
	char web_root[513];	  /* the web manager's files, "" = none */
	enum sw_log_level log_level;
};

int bd_conf_load(struct bd_conf *conf, const char *path, char *err,
		 size_t errsz);

#endif /* BD_CONFIG_H */
