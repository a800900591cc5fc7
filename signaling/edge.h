/*
 * edge.h - the SIP edge layer: rate limits, failure counting and the
 * dynamic blacklist, before any dialog state (SPEC §8)
 *
 * Every request from a source that is not a gateway passes sg_edge_check()
 * first: a blacklisted source, or one over its token bucket or over its
 * network's (/24 for IPv4, /64 for IPv6) is dropped without an answer.
 * What the switch refuses afterwards (a scanner signature, an unknown
 * user, a digest refusal) is reported with sg_edge_fail(), counted per
 * source and per account; a source reaching SS_EDGE_FAIL_LIMIT failures
 * within SS_EDGE_FAIL_WINDOW s goes on the blacklist for SS_BLACKLIST_TIME
 * s.  An account with that many failures (from any sources) is "under
 * attack" for the window: every further failure against it blacklists its
 * source at once.  A source that authenticated (a registered phone, a
 * verified digest in the last SG_EDGE_AUTH_TRUST_MS) is neither rate
 * limited nor blacklisted automatically: a spoofed request from its
 * address must not cut off a customer.  The account itself is never locked, so
 * the real phone (which never fails) still registers and calls.
 *
 * Memory is fixed at sg_edge_alloc(): each table (sources, networks,
 * accounts, blacklist) is set-associative, SG_EDGE_WAYS entries per bucket
 * under a keyed hash, and a new key evicts the least recently seen entry
 * of its bucket, so no number of sources grows it.
 *
 * The blacklist holds the entries of the database table `blacklist`
 * (sg_edge_bl_sync, at every table reload) and those added here that the
 * database has not shown back yet; writing them is edgedb.c's job.
 *
 * Ownership: struct sg owns the one struct sg_edge.
 * Threading: su_root thread only.
 */
#ifndef SG_EDGE_H
#define SG_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct sockaddr;

#define SG_EDGE_WAYS	      8
#define SG_EDGE_SRC_BUCKETS   2048 /* 16384 sources */
#define SG_EDGE_NET_BUCKETS   512  /* 4096 networks */
#define SG_EDGE_ACC_BUCKETS   256  /* 2048 accounts */
#define SG_EDGE_BL_BUCKETS    4096 /* 32768 blacklisted addresses */
#define SG_EDGE_ACCOUNT_LEN   64
#define SG_EDGE_LOCAL_KEEP_MS 30000  /* a local ban outlives a stale reload */
#define SG_EDGE_AUTH_TRUST_MS 300000 /* no rate limit after a good digest */

/* the system parameters of this layer (0 = that limit off) */
struct sg_edge_conf {
	int64_t src_rate;	/* SS_EDGE_SOURCE_RATE, requests/s */
	int64_t src_burst;	/* SS_EDGE_SOURCE_BURST, requests */
	int64_t net_rate;	/* SS_EDGE_NET_RATE, requests/s */
	int64_t net_burst;	/* SS_EDGE_NET_BURST, requests */
	int64_t fail_limit;	/* SS_EDGE_FAIL_LIMIT, failures */
	int64_t fail_window_ms; /* SS_EDGE_FAIL_WINDOW */
	int64_t ban_ms;		/* SS_BLACKLIST_TIME */
};

enum sg_edge_verdict {
	SG_EDGE_PASS,
	SG_EDGE_BLACKLISTED,
	SG_EDGE_OVER_SOURCE, /* the source's token bucket is empty */
	SG_EDGE_OVER_NET,    /* its network's is */
};

enum sg_edge_failure {
	SG_EDGE_FAIL_AUTH,    /* credentials refused */
	SG_EDGE_FAIL_UNKNOWN, /* unknown user or unknown source */
	SG_EDGE_FAIL_SCANNER, /* a scanner signature */
	SG_EDGE_FAIL_RATE,    /* dropped over its rate (once a second) */
};

/* counters since start */
struct sg_edge_stats {
	uint64_t dropped_blacklist;
	uint64_t dropped_source;
	uint64_t dropped_net;
	uint64_t failures;
	uint64_t banned;  /* sources this process put on the blacklist */
	uint64_t evicted; /* entries pushed out of a full bucket */
	uint64_t bl_full; /* blacklist entries that found no room */
};

/* an address as the tables key it: IPv4 as ::ffff:a.b.c.d */
struct sg_edge_addr {
	uint8_t a[16];
};

struct sg_edge;

int sg_edge_alloc(struct sg_edge **ep);
void sg_edge_free(struct sg_edge *e);
void sg_edge_set_conf(struct sg_edge *e, const struct sg_edge_conf *c);

bool sg_edge_addr_sa(struct sg_edge_addr *out, const struct sockaddr *sa);
bool sg_edge_addr_text(struct sg_edge_addr *out, const char *text);
void sg_edge_addr_str(char *buf, size_t size, const struct sg_edge_addr *a);

enum sg_edge_verdict sg_edge_check(struct sg_edge *e,
				   const struct sg_edge_addr *src,
				   int64_t now_ms);
bool sg_edge_fail(struct sg_edge *e, const struct sg_edge_addr *src,
		  const char *account, enum sg_edge_failure why,
		  int64_t now_ms);
void sg_edge_trust(struct sg_edge *e, const struct sg_edge_addr *src,
		   int64_t now_ms, int64_t until_ms);

bool sg_edge_blacklisted(struct sg_edge *e, const struct sg_edge_addr *src,
			 int64_t now_ms);
void sg_edge_bl_begin(struct sg_edge *e);
void sg_edge_bl_add(struct sg_edge *e, const struct sg_edge_addr *src,
		    int64_t until_ms, int64_t now_ms);
void sg_edge_bl_end(struct sg_edge *e, int64_t now_ms);
size_t sg_edge_bl_count(const struct sg_edge *e, int64_t now_ms);

const struct sg_edge_stats *sg_edge_stats(const struct sg_edge *e);
json_t *sg_edge_json(const struct sg_edge *e, int64_t now_ms);

#endif /* SG_EDGE_H */
