/*
 * config.c - mediaproxyd.conf key table and cross-key checks
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/bus.h"
#include "mediaproxy/config.h"

#define F(x) offsetof(struct mp_conf, x), sizeof(((struct mp_conf *)0)->x)

/* Every key of mediaproxyd.conf; keep docs/mediaproxyd.md in step. */
const struct sw_conf_item mp_conf_table[] = {
    {"node_id", SW_CONF_STR, F(node_id), "mp1", 1, 64,
     "unique id of this media process"},
    {"bus_listen", SW_CONF_STR, F(bus_listen), "tcp://127.0.0.1:7621", 1, 256,
     "REP URL signalingd dials for media.* requests"},
    {"signaling_url", SW_CONF_STR, F(signaling_url), "tcp://127.0.0.1:7601", 1,
     1023,
     "signalingd PULL URLs (comma-separated: every signalingd this node "
     "serves) for heartbeats and events"},
    {"bus_pki", SW_CONF_STR, F(bus_pki), "", 0, 256,
     "certificate directory (tandemctl pki issue) for tls+tcp:// URLs"},
    {"bus_insecure", SW_CONF_BOOL, F(bus_insecure), "0", 0, 0,
     "allow plain tcp:// bus URLs off loopback (warned at every start)"},
    {"rtp_ip", SW_CONF_IP, F(rtp_ip), "127.0.0.1", 1, 64,
     "local address the RTP/RTCP sockets bind to"},
    {"rtp_advertise_ip", SW_CONF_IP, F(rtp_advertise_ip), "", 0, 64,
     "address given to peers (SDP); empty = rtp_ip"},
    {"port_min", SW_CONF_INT, F(port_min), "10000", 1024, 65534,
     "lowest RTP port"},
    {"port_max", SW_CONF_INT, F(port_max), "60000", 1025, 65535,
     "highest RTP/RTCP port"},
    {"rtp_timeout_s", SW_CONF_INT, F(rtp_timeout_s), "30", 1, 86400,
     "no RTP from either leg for this long ends the call"},
    {"rtp_hold_timeout_s", SW_CONF_INT, F(rtp_hold_timeout_s), "3600", 1,
     604800, "the same for sessions on hold (sendonly/recvonly/inactive)"},
    {"drain_timeout_s", SW_CONF_INT, F(drain_timeout_s), "0", 0, 86400,
     "SIGTERM: keep sessions up to this long, take no new one; 0 = close "
     "them at once"},
    {"heartbeat_ms", SW_CONF_INT, F(heartbeat_ms), "1000", 100, 60000,
     "interval of node.heartbeat to signalingd"},
    {"xcode_budget", SW_CONF_INT, F(xcode_budget), "64", 0, 100000,
     "decoded-path (transcoding) sessions accepted; 0 = none"},
    {"account_port_share_pct", SW_CONF_INT, F(account_port_share_pct), "50", 1,
     100,
     "one customer account may hold at most this % of the port pairs "
     "(100 = no cap)"},
    {"rtp_latch_prefix", SW_CONF_INT, F(rtp_latch_prefix), "32", 0, 32,
     "IPv4 RTP is taken only from within this prefix of the leg's SDP "
     "or signalling address"},
    {"rtp_latch_prefix6", SW_CONF_INT, F(rtp_latch_prefix6), "128", 0, 128,
     "the same for IPv6"},
    {"metrics_listen", SW_CONF_HOSTPORT, F(metrics_listen), "", 0, 64,
     "host:port of the Prometheus /metrics HTTP endpoint; empty = none"},
    {"log_level", SW_CONF_LOGLEVEL, F(log_level), "info", 0, 0,
     "err, warn, info or debug"},
    SW_CONF_END,
};

/*
 * Load defaults then path (NULL = defaults only) into conf and check what a
 * single key cannot: the bus URLs and a port range holding at least one
 * even RTP/RTCP pair.  err gets "file:line: message" or "file: message".
 */
int mp_conf_load(struct mp_conf *conf, const char *path, char *err,
		 size_t errsz)
{
	const char *fname = path ? path : "(defaults)";
	struct mp_conf c;
	char msg[400];
	int ret;

	if (!conf || !err)
		return EINVAL;

	if (path)
		ret = sw_conf_load(mp_conf_table, &c, path, err, errsz);
	else
		ret = sw_conf_defaults(mp_conf_table, &c, err, errsz);
	if (ret)
		return ret;

	if (sw_bus_url_check(c.bus_listen, c.bus_insecure, *c.bus_pki, msg,
			     sizeof(msg))) {
		sw_conf_key_error(err, errsz, path, "bus_listen", msg);
		return EINVAL;
	}
	if (sw_bus_url_list_check(c.signaling_url, c.bus_insecure, *c.bus_pki,
				  msg, sizeof(msg))) {
		sw_conf_key_error(err, errsz, path, "signaling_url", msg);
		return EINVAL;
	}
	/* the first even port and its RTCP neighbour must fit */
	if (((c.port_min + 1) & ~1LL) + 1 > c.port_max) {
		snprintf(err, errsz,
			 "%s: port_min %lld .. port_max %lld holds "
			 "no even RTP/RTCP pair",
			 fname, (long long)c.port_min, (long long)c.port_max);
		return ERANGE;
	}

	*conf = c;
	return 0;
}

/* The address peers are told to send to. */
const char *mp_conf_advertise_ip(const struct mp_conf *conf)
{
	return conf->rtp_advertise_ip[0] ? conf->rtp_advertise_ip
					 : conf->rtp_ip;
}
