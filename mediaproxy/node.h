/*
 * node.h - one mediaproxyd process: its settings, sockets and sessions
 *
 * The node ties the modules together: the config (config.h), the bus (one
 * REP listener for media.* requests, one PUSH peer to signalingd for
 * heartbeats and events), the port allocator (ports.h), the session table
 * (session.h), the timeout tick, the 10 ms clock of the media engines
 * (running only while a session has one), the heartbeat (heartbeat.h) and
 * the Prometheus metrics (metrics.h), rendered at start and every tick.
 * main.c only parses the command line, allocates a node and runs re_main.
 *
 * Ownership: main() owns the node; the node owns everything below it.
 * Threading: mediaproxyd main loop only.
 * Bus:       listens on bus_listen (control.c handles the requests), pushes
 *            node.heartbeat and media.event to signaling_url.
 */
#ifndef MP_NODE_H
#define MP_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "mediaproxy/libre.h"

#include "mediaproxy/config.h"
#include "mediaproxy/metrics.h"
#include "mediaproxy/ports.h"

struct sw_bus;
struct sw_bus_peer;
struct mp_heartbeat;

#define MP_SIG_MAX 16 /* signalingd a node serves at most */

struct mp_node {
	struct mp_conf conf;
	char conf_path[512];		     /* "" = defaults only */
	struct sw_bus *bus;		     /* owned */
	struct sw_bus_peer *sig[MP_SIG_MAX]; /* owned by bus: PUSH to each
						signalingd of signaling_url */
	size_t nsig;
	struct mp_ports ports;
	struct sa laddr;	/* rtp_ip, port 0 */
	struct hash *sessions;	/* owned: mp_session by id */
	struct mp_share *share; /* owned: sessions per account */
	uint64_t share_refused; /* offers over an account's share */
	uint64_t share_logged;	/* of those, told in the log */
	int64_t share_log_ms;	/* last such log line, 0 = none */
	uint32_t nsessions;
	uint32_t nxcode;	 /* sessions on the decoded path */
	struct tmr tick;	 /* RTP timeout checks */
	struct list xsessions;	 /* sessions with a media engine */
	struct tmr xtick;	 /* 10 ms engine clock, while any */
	int64_t xtick_due_ms;	 /* when the next xtick should run */
	int xepfd;		 /* engine sessions' sockets, read
				  * on the xtick (mp_relay_poll) */
	struct mp_heartbeat *hb; /* owned */
	int64_t start_ms;	 /* monotonic */
	uint32_t pair_cap;	 /* pairs the open-file limit allows */
	int hup_pipe[2];	 /* SIGHUP, SIGTERM -> loop */
	bool draining;		 /* SIGTERM: no new sessions */
	int64_t drain_until_ms;	 /* monotonic: then the rest are closed */
	bool bus_fd_listening;
	bool watchdog; /* systemd WatchdogSec= set: pinged each tick */
	struct mp_metrics metrics; /* counters; its server is owned */
};

int mp_node_alloc(struct mp_node **nodep, const struct mp_conf *conf,
		  const char *conf_path);
void mp_node_free(struct mp_node *node);
int mp_node_push(struct mp_node *node, const char *type, json_t *body);
void mp_node_reload(struct mp_node *node);
void mp_node_on_signal(int sig);
int64_t mp_node_uptime_s(const struct mp_node *node);
uint32_t mp_node_free_pairs(const struct mp_node *node);
uint32_t mp_node_usable_pairs(const struct mp_node *node);
void mp_node_xtick_start(struct mp_node *node);

#endif /* MP_NODE_H */
