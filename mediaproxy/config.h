/*
 * config.h - mediaproxyd.conf: the node's settings
 *
 * Owns the declarative key table (docs/mediaproxyd.md documents every key)
 * and the checks that span several keys (port range, addresses).
 *
 * Threading: main loop only (start-up and SIGHUP).
 * Bus:       none.
 */
#ifndef MP_CONFIG_H
#define MP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/log.h"

#define MP_CONF_DEFAULT_PATH "/etc/tandem/mediaproxyd.conf"

struct mp_conf {
	char node_id[65];
	char bus_listen[257];
	char bus_pki[257];	  /* tandemctl pki host dir, "" = none */
	bool bus_insecure;	  /* plain tcp:// off loopback allowed */
	char signaling_url[1024]; /* comma-separated */
	char metrics_listen[65];  /* host:port of /metrics, "" = none */
	char rtp_ip[65];
	char rtp_advertise_ip[65]; /* "" = rtp_ip */
	int64_t port_min;
	int64_t port_max;
	int64_t rtp_timeout_s;
	int64_t rtp_hold_timeout_s;
	int64_t drain_timeout_s; /* SIGTERM: sessions kept this long */
	int64_t heartbeat_ms;
	int64_t xcode_budget;
	int64_t account_port_share_pct; /* 1..100, 100 = no cap */
	int64_t rtp_latch_prefix;	/* IPv4 bits, 0..32 */
	int64_t rtp_latch_prefix6;	/* IPv6 bits, 0..128 */
	enum sw_log_level log_level;
};

extern const struct sw_conf_item mp_conf_table[];

int mp_conf_load(struct mp_conf *conf, const char *path, char *err,
		 size_t errsz);
const char *mp_conf_advertise_ip(const struct mp_conf *conf);

#endif /* MP_CONFIG_H */
