/*
 * heartbeat.c - periodic node.heartbeat with load and capacity
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>
#include "mediaproxy/libre.h"

#define SW_LOG_MODULE "heartbeat"
#include "common/bus.h"
#include "common/log.h"
#include "common/swtime.h"
#include "common/sysperf.h"
#include "mediaproxy/heartbeat.h"
#include "mediaproxy/node.h"
#include "proto/proto.h"

struct mp_heartbeat {
	struct mp_node *node; /* borrowed: owns us */
	struct tmr tmr;
	int64_t last_cpu_us;  /* user + system time at the last beat */
	int64_t last_wall_us; /* monotonic time at the last beat */
	int cpu_pct;
	bool warned;		/* push failure logged (once) */
	struct sw_sysperf perf; /* the host, for the API's performance page */
};

static int64_t cpu_used_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* CPU share in percent (0..100) of cpu_us used over wall_us elapsed. */
int mp_cpu_pct(int64_t cpu_us, int64_t wall_us)
{
	int64_t pct;

	if (wall_us <= 0 || cpu_us <= 0)
		return 0;
	pct = (cpu_us * 100 + wall_us / 2) / wall_us;

	return pct > 100 ? 100 : (int)pct;
}

static void measure(struct mp_heartbeat *hb)
{
	int64_t cpu = cpu_used_us(), wall = sw_time_mono_us();

	/* too short a window (the first beat, a restart) says nothing */
	if (wall - hb->last_wall_us < 100000)
		return;
	hb->cpu_pct =
	    mp_cpu_pct(cpu - hb->last_cpu_us, wall - hb->last_wall_us);
	hb->last_cpu_us = cpu;
	hb->last_wall_us = wall;
}

/* The body of node.heartbeat now (new reference, NULL on no memory). */
json_t *mp_heartbeat_body(struct mp_heartbeat *hb)
{
	const struct mp_node *node = hb->node;

	return json_pack(
	    "{s:s, s:s, s:s, s:I, s:i, s:i, s:I, s:i, s:i, s:o, "
	    "s:b}",
	    "node_id", node->conf.node_id, "url", node->conf.bus_listen,
	    "version", TANDEM_VERSION, "uptime_s",
	    (json_int_t)mp_node_uptime_s(node), "sessions",
	    (int)node->nsessions, "xcode_sessions", (int)node->nxcode,
	    "xcode_budget", (json_int_t)node->conf.xcode_budget, "free_ports",
	    (int)mp_node_free_pairs(node), "cpu_pct", hb->cpu_pct, "host",
	    sw_sysperf_json(&hb->perf), "draining", node->draining);
}

static void beat(void *arg)
{
	struct mp_heartbeat *hb = arg;
	json_t *body;
	int err;

	tmr_start(&hb->tmr, (uint64_t)hb->node->conf.heartbeat_ms, beat, hb);

	measure(hb);
	if (!hb->node->nsig)
		return;
	body = mp_heartbeat_body(hb);
	if (!body)
		return;
	err = mp_node_push(hb->node, SW_MSG_NODE_HEARTBEAT, body);
	if (err && !hb->warned) {
		sw_warn("heartbeat to %s not sent: %s",
			hb->node->conf.signaling_url, strerror(err));
		hb->warned = true;
	} else if (!err && hb->warned) {
		sw_info("heartbeat to %s flowing again",
			hb->node->conf.signaling_url);
		hb->warned = false;
	}
}

static void hb_destructor(void *arg)
{
	struct mp_heartbeat *hb = arg;

	tmr_cancel(&hb->tmr);
}

/* Start heartbeats: the first one right away, then every heartbeat_ms. */
int mp_heartbeat_alloc(struct mp_heartbeat **hbp, struct mp_node *node)
{
	struct mp_heartbeat *hb;

	if (!hbp || !node)
		return EINVAL;

	hb = mem_zalloc(sizeof(*hb), hb_destructor);
	if (!hb)
		return ENOMEM;

	hb->node = node;
	tmr_init(&hb->tmr);
	hb->last_cpu_us = cpu_used_us();
	hb->last_wall_us = sw_time_mono_us();
	tmr_start(&hb->tmr, 0, beat, hb);
	*hbp = hb;

	return 0;
}

/* Apply a new heartbeat_ms (SIGHUP): the next beat comes at once. */
void mp_heartbeat_restart(struct mp_heartbeat *hb)
{
	if (hb)
		tmr_start(&hb->tmr, 0, beat, hb);
}
