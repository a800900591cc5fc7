/*
 * sysperf.h - this host's performance from /proc, as JSON
 *
 * Every daemon reports the host it runs on (billingd in its status,
 * signalingd in health.ping.reply, mediaproxyd in node.heartbeat), so the
 * API can show each host of the switch (SPEC §7 "system performance"):
 *
 *   {"hostname", "cpu_pct": [per core, since the previous call],
 *    "load": [1, 5, 15 min], "memory_kb": {"total", "used", "cached",
 *    "available"}, "disks": [{"mount", "total_kb", "used_kb",
 *    "available_kb"}], "net": [{"iface", "rx_bytes", "tx_bytes"}]}
 *
 * Threading: a struct sw_sysperf belongs to one thread.
 */
#ifndef SW_SYSPERF_H
#define SW_SYSPERF_H

#include <jansson.h>

#define SW_SYSPERF_CPUS 256 /* cores reported at most */

struct sw_sysperf {
	unsigned long long busy[SW_SYSPERF_CPUS], total[SW_SYSPERF_CPUS];
	unsigned ncpu; /* cores of the previous sample */
};

json_t *sw_sysperf_json(struct sw_sysperf *p);

#endif /* SW_SYSPERF_H */
