/*
 * edge.c - rate limits, failure counting and the dynamic blacklist of the
 * SIP edge (edge.h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define SW_LOG_MODULE "edge"
#include "common/log.h"
#include "signaling/edge.h"

struct src {
	struct sg_edge_addr k;
	bool used;
	int64_t tokens; /* milli-requests */
	int64_t last_ms;
	int64_t fail_start_ms;
	uint32_t fails;
	int64_t rate_fail_s;	  /* last second an over-rate drop counted */
	int64_t trusted_until_ms; /* a phone registered from here */
};

struct net {
	struct sg_edge_addr k; /* masked to its /24 or /64 */
	bool used;
	int64_t tokens;
	int64_t last_ms;
};

struct acc {
	char name[SG_EDGE_ACCOUNT_LEN];
	bool used;
	uint32_t fails;
	int64_t fail_start_ms;
	int64_t attack_until_ms;
	int64_t last_ms;
};

struct bl {
	struct sg_edge_addr k;
	bool used;
	bool from_db;	  /* else added here, not yet read back */
	uint32_t gen;	  /* the sync that last saw it */
	int64_t until_ms; /* INT64_MAX: no expiry */
	int64_t added_ms;
};

struct sg_edge {
	struct sg_edge_conf conf;
	uint64_t key[2]; /* keys the bucket hash: an attacker cannot aim */
	struct src *src; /* owned: SG_EDGE_SRC_BUCKETS * SG_EDGE_WAYS */
	struct net *net; /* owned */
	struct acc *acc; /* owned */
	struct bl *bl;	 /* owned */
	uint32_t gen;
	struct sg_edge_stats st;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(const struct sg_edge *e, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = e->key[0];

	while (n) {
		uint64_t w = 0;
		size_t k = n < 8 ? n : 8;

		memcpy(&w, b, k);
		h = mix(h ^ w ^ e->key[1]);
		b += k;
		n -= k;
	}
	return h;
}

static size_t bucket(const struct sg_edge *e, const void *p, size_t n,
		     size_t nbuckets)
{
	return (size_t)(hash_bytes(e, p, n) % nbuckets) * SG_EDGE_WAYS;
}

/* Allocate the tables, all of them, once. */
int sg_edge_alloc(struct sg_edge **ep)
{
	struct sg_edge *e;

	if (!ep)
		return EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	e->src = calloc(SG_EDGE_SRC_BUCKETS * SG_EDGE_WAYS, sizeof(*e->src));
	e->net = calloc(SG_EDGE_NET_BUCKETS * SG_EDGE_WAYS, sizeof(*e->net));
	e->acc = calloc(SG_EDGE_ACC_BUCKETS * SG_EDGE_WAYS, sizeof(*e->acc));
	e->bl = calloc(SG_EDGE_BL_BUCKETS * SG_EDGE_WAYS, sizeof(*e->bl));
	if (!e->src || !e->net || !e->acc || !e->bl) {
		sg_edge_free(e);
		return ENOMEM;
	}
	if (getrandom(e->key, sizeof(e->key), 0) != (ssize_t)sizeof(e->key)) {
		sg_edge_free(e);
		return EIO;
	}
	*ep = e;
	return 0;
}

void sg_edge_free(struct sg_edge *e)
{
	if (!e)
		return;
	free(e->src);
	free(e->net);
	free(e->acc);
	free(e->bl);
	free(e);
}

/* New limits (at every table reload); the counts so far are kept. */
void sg_edge_set_conf(struct sg_edge *e, const struct sg_edge_conf *c)
{
	if (e && c)
		e->conf = *c;
}

/* The key of a socket address; false for a family other than IPv4/6. */
bool sg_edge_addr_sa(struct sg_edge_addr *out, const struct sockaddr *sa)
{
	if (!out || !sa)
		return false;
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		out->a[10] = out->a[11] = 0xff;
		memcpy(&out->a[12], &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(out->a, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* The key of an address in text (as PostgreSQL's host() prints it). */
bool sg_edge_addr_text(struct sg_edge_addr *out, const char *text)
{
	struct in_addr v4;

	if (!out || !text)
		return false;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &v4) == 1) {
		out->a[10] = out->a[11] = 0xff;
		memcpy(&out->a[12], &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, text, out->a) == 1;
}

static bool is_v4(const struct sg_edge_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0,	  0,
					0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a->a, pfx, sizeof(pfx));
}

/* An address for the log (IPv4 in its dotted form). */
void sg_edge_addr_str(char *buf, size_t size, const struct sg_edge_addr *a)
{
	if (!buf || !size)
		return;
	buf[0] = '\0';
	if (!a)
		return;
	if (!inet_ntop(is_v4(a) ? AF_INET : AF_INET6,
		       is_v4(a) ? (const void *)&a->a[12] : (const void *)a->a,
		       buf, (socklen_t)size))
		buf[0] = '\0';
}

/* the source's network: /24 for IPv4, /64 for IPv6 */
static struct sg_edge_addr net_of(const struct sg_edge_addr *a)
{
	struct sg_edge_addr n = *a;

	if (is_v4(a))
		n.a[15] = 0;
	else
		memset(&n.a[8], 0, 8);
	return n;
}

/*
 * The entry of key k in a bucket of `ways` entries, made (evicting the
 * least recently seen, preferring not to evict a trusted source) when
 * make is set.  One function per table would repeat this; the entry types
 * differ, so the caller passes what the choice needs.
 */
static struct src *src_get(struct sg_edge *e, const struct sg_edge_addr *k,
			   int64_t now_ms, bool make)
{
	struct src *b = &e->src[bucket(e, k, sizeof(*k), SG_EDGE_SRC_BUCKETS)];
	struct src *victim = NULL;

	for (size_t i = 0; i < SG_EDGE_WAYS; i++) {
		struct src *s = &b[i];

		if (s->used && !memcmp(&s->k, k, sizeof(*k)))
			return s;
		if (!make)
			continue;
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		if (!victim ||
		    (victim->used && ((victim->trusted_until_ms > now_ms &&
				       s->trusted_until_ms <= now_ms) ||
				      ((victim->trusted_until_ms > now_ms) ==
					   (s->trusted_until_ms > now_ms) &&
				       s->last_ms < victim->last_ms))))
			victim = s;
	}
	if (!make)
		return NULL;
	if (victim->used)
		e->st.evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->k = *k;
	victim->tokens = e->conf.src_burst * 1000;
	victim->last_ms = now_ms;
	return victim;
}

static struct net *net_get(struct sg_edge *e, const struct sg_edge_addr *k,
			   int64_t now_ms)
{
	struct net *b = &e->net[bucket(e, k, sizeof(*k), SG_EDGE_NET_BUCKETS)];
	struct net *victim = &b[0];

	for (size_t i = 0; i < SG_EDGE_WAYS; i++) {
		struct net *n = &b[i];

		if (n->used && !memcmp(&n->k, k, sizeof(*k)))
			return n;
		if (victim->used && (!n->used || n->last_ms < victim->last_ms))
			victim = n;
	}
	if (victim->used)
		e->st.evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->k = *k;
	victim->tokens = e->conf.net_burst * 1000;
	victim->last_ms = now_ms;
	return victim;
}

static struct acc *acc_get(struct sg_edge *e, const char *name, int64_t now_ms)
{
	size_t len = strlen(name);
	struct acc *b, *victim;

	if (len >= SG_EDGE_ACCOUNT_LEN)
		len = SG_EDGE_ACCOUNT_LEN - 1;
	b = &e->acc[bucket(e, name, len, SG_EDGE_ACC_BUCKETS)];
	victim = &b[0];
	for (size_t i = 0; i < SG_EDGE_WAYS; i++) {
		struct acc *a = &b[i];

		if (a->used && !strncmp(a->name, name, len) &&
		    a->name[len] == '\0')
			return a;
		if (victim->used && (!a->used || a->last_ms < victim->last_ms))
			victim = a;
	}
	if (victim->used)
		e->st.evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	memcpy(victim->name, name, len);
	victim->name[len] = '\0';
	victim->last_ms = now_ms;
	return victim;
}

/* take one request from a bucket refilled at rate/s up to burst */
static bool take(int64_t *tokens, int64_t *last_ms, int64_t rate, int64_t burst,
		 int64_t now_ms)
{
	int64_t dt = now_ms - *last_ms;

	if (dt > 0) {
		/* dt * rate milli-requests; capped before it can overflow */
		if (dt > burst * 1000 || *tokens + dt * rate > burst * 1000)
			*tokens = burst * 1000;
		else
			*tokens += dt * rate;
		*last_ms = now_ms;
	}
	if (*tokens < 1000)
		return false;
	*tokens -= 1000;
	return true;
}

static struct bl *bl_find(struct sg_edge *e, const struct sg_edge_addr *k)
{
	struct bl *b = &e->bl[bucket(e, k, sizeof(*k), SG_EDGE_BL_BUCKETS)];

	for (size_t i = 0; i < SG_EDGE_WAYS; i++)
		if (b[i].used && !memcmp(&b[i].k, k, sizeof(*k)))
			return &b[i];
	return NULL;
}

/*
 * Room for k on the blacklist: its entry, a free or expired one, else the
 * one that expires first if that is before until_ms; NULL when the bucket
 * only holds entries that outlive this one.
 */
static struct bl *bl_slot(struct sg_edge *e, const struct sg_edge_addr *k,
			  int64_t until_ms, int64_t now_ms)
{
	struct bl *b = &e->bl[bucket(e, k, sizeof(*k), SG_EDGE_BL_BUCKETS)];
	struct bl *victim = NULL;

	for (size_t i = 0; i < SG_EDGE_WAYS; i++) {
		struct bl *x = &b[i];

		if (x->used && !memcmp(&x->k, k, sizeof(*k)))
			return x;
		if (!x->used || x->until_ms <= now_ms) {
			x->used = false;
			victim = x;
		} else if (!victim ||
			   (victim->used && x->until_ms < victim->until_ms)) {
			victim = x;
		}
	}
	if (victim && victim->used) {
		if (victim->until_ms >= until_ms)
			return NULL;
		e->st.evicted++;
	}
	if (victim) {
		memset(victim, 0, sizeof(*victim));
		victim->k = *k;
	}
	return victim;
}

/* Is src on the blacklist right now? */
bool sg_edge_blacklisted(struct sg_edge *e, const struct sg_edge_addr *src,
			 int64_t now_ms)
{
	struct bl *x;

	if (!e || !src || !(x = bl_find(e, src)))
		return false;
	if (x->until_ms > now_ms)
		return true;
	x->used = false;
	return false;
}

/*
 * The verdict on a request from src, a source that is not a gateway:
 * blacklisted, over its rate or its network's, else pass.  A source a
 * phone registered from is not rate limited (it is still blacklisted).
 */
enum sg_edge_verdict
sg_edge_check(struct sg_edge *e, const struct sg_edge_addr *src, int64_t now_ms)
{
	struct src *s;
	struct sg_edge_addr n;
	struct net *nt;

	if (!e || !src)
		return SG_EDGE_PASS;
	if (sg_edge_blacklisted(e, src, now_ms)) {
		e->st.dropped_blacklist++;
		return SG_EDGE_BLACKLISTED;
	}
	s = src_get(e, src, now_ms, true);
	if (s->trusted_until_ms > now_ms) {
		s->last_ms = now_ms;
		return SG_EDGE_PASS;
	}
	if (e->conf.src_rate > 0 &&
	    !take(&s->tokens, &s->last_ms, e->conf.src_rate, e->conf.src_burst,
		  now_ms)) {
		e->st.dropped_source++;
		return SG_EDGE_OVER_SOURCE;
	}
	s->last_ms = now_ms;
	if (e->conf.net_rate > 0) {
		n = net_of(src);
		nt = net_get(e, &n, now_ms);
		if (!take(&nt->tokens, &nt->last_ms, e->conf.net_rate,
			  e->conf.net_burst, now_ms)) {
			e->st.dropped_net++;
			return SG_EDGE_OVER_NET;
		}
	}
	return SG_EDGE_PASS;
}

/* one more failure in a window of window_ms; the count */
static uint32_t count(uint32_t *fails, int64_t *start_ms, int64_t window_ms,
		      int64_t now_ms)
{
	if (!*fails || now_ms - *start_ms >= window_ms) {
		*fails = 0;
		*start_ms = now_ms;
	}
	return ++*fails;
}

static void ban(struct sg_edge *e, struct src *s, int64_t now_ms,
		const char *why)
{
	struct bl *x = bl_slot(e, &s->k, now_ms + e->conf.ban_ms, now_ms);
	char ip[64];

	s->fails = 0;
	sg_edge_addr_str(ip, sizeof(ip), &s->k);
	if (!x) {
		e->st.bl_full++;
		sw_warn("blacklist bucket full, %s not blacklisted", ip);
		return;
	}
	if (x->used && x->until_ms >= now_ms + e->conf.ban_ms)
		return;
	x->used = true;
	x->until_ms = now_ms + e->conf.ban_ms;
	x->added_ms = now_ms;
	x->gen = e->gen;
	e->st.banned++;
	sw_warn("%s blacklisted for %lld s: %s", ip,
		(long long)(e->conf.ban_ms / 1000), why);
}

/*
 * Count a failure of src (against account, when known).  True when src
 * was put on the blacklist by it: the caller then writes it down.
 */
bool sg_edge_fail(struct sg_edge *e, const struct sg_edge_addr *src,
		  const char *account, enum sg_edge_failure why, int64_t now_ms)
{
	static const char *const whys[] = {
	    "credentials refused", "unknown user or source",
	    "scanner signature", "over its rate"};
	int64_t win;
	struct src *s;
	struct acc *a = NULL;
	bool attacked = false;
	char reason[128];
	uint32_t n;

	if (!e || !src || e->conf.fail_limit <= 0)
		return false;
	win = e->conf.fail_window_ms > 0 ? e->conf.fail_window_ms : 1;
	s = src_get(e, src, now_ms, true);
	if (why == SG_EDGE_FAIL_RATE) {
		if (s->rate_fail_s == now_ms / 1000)
			return false;
		s->rate_fail_s = now_ms / 1000;
	}
	e->st.failures++;
	if (account && *account) {
		a = acc_get(e, account, now_ms);
		a->last_ms = now_ms;
		attacked = a->attack_until_ms > now_ms;
		if (count(&a->fails, &a->fail_start_ms, win, now_ms) >=
			(uint32_t)e->conf.fail_limit &&
		    !attacked) {
			a->attack_until_ms = now_ms + win;
			sw_warn("account %s under attack: %u failures within "
				"%lld s",
				a->name, a->fails, (long long)(win / 1000));
		}
	}
	n = count(&s->fails, &s->fail_start_ms, win, now_ms);
	if (e->conf.ban_ms <= 0 ||
	    (n < (uint32_t)e->conf.fail_limit && !attacked))
		return false;
	/* a source that authenticated (a registered phone) is not banned
	 * automatically: over UDP its address is easy to spoof */
	if (s->trusted_until_ms > now_ms)
		return false;
	if (attacked)
		snprintf(reason, sizeof(reason),
			 "%s, against account %s under attack", whys[why],
			 a->name);
	else
		snprintf(reason, sizeof(reason),
			 "%u failures within %lld s, "
			 "the last: %s",
			 n, (long long)(win / 1000), whys[why]);
	ban(e, s, now_ms, reason);
	return sg_edge_blacklisted(e, src, now_ms);
}

/* A phone registered from src until until_ms: not rate limited till then. */
void sg_edge_trust(struct sg_edge *e, const struct sg_edge_addr *src,
		   int64_t now_ms, int64_t until_ms)
{
	struct src *s;

	if (!e || !src)
		return;
	s = src_get(e, src, now_ms, true);
	s->trusted_until_ms = until_ms;
}

/*
 * Replacing the blacklist with the database's: sg_edge_bl_begin, then
 * sg_edge_bl_add for each row, then sg_edge_bl_end, which drops what the
 * database no longer has (but keeps bans made here in the last
 * SG_EDGE_LOCAL_KEEP_MS, which a reload already under way cannot show).
 */
void sg_edge_bl_begin(struct sg_edge *e)
{
	if (e)
		e->gen++;
}

void sg_edge_bl_add(struct sg_edge *e, const struct sg_edge_addr *src,
		    int64_t until_ms, int64_t now_ms)
{
	struct bl *x;

	if (!e || !src || until_ms <= now_ms)
		return;
	x = bl_slot(e, src, until_ms, now_ms);
	if (!x) {
		e->st.bl_full++;
		return;
	}
	if (!x->used)
		x->added_ms = now_ms;
	x->used = true;
	x->from_db = true;
	x->gen = e->gen;
	x->until_ms = until_ms;
}

void sg_edge_bl_end(struct sg_edge *e, int64_t now_ms)
{
	if (!e)
		return;
	for (size_t i = 0; i < SG_EDGE_BL_BUCKETS * SG_EDGE_WAYS; i++) {
		struct bl *x = &e->bl[i];

		if (!x->used || x->gen == e->gen)
			continue;
		if (x->from_db || x->until_ms <= now_ms ||
		    now_ms - x->added_ms > SG_EDGE_LOCAL_KEEP_MS)
			x->used = false;
	}
}

/* Addresses on the blacklist now. */
size_t sg_edge_bl_count(const struct sg_edge *e, int64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; e && i < SG_EDGE_BL_BUCKETS * SG_EDGE_WAYS; i++)
		if (e->bl[i].used && e->bl[i].until_ms > now_ms)
			n++;
	return n;
}

const struct sg_edge_stats *sg_edge_stats(const struct sg_edge *e)
{
	return e ? &e->st : NULL;
}

/* The counters and the blacklist's size for health.ping (docs/bus.md). */
json_t *sg_edge_json(const struct sg_edge *e, int64_t now_ms)
{
	if (!e)
		return json_null();
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "blacklisted",
	    (json_int_t)sg_edge_bl_count(e, now_ms), "dropped_blacklisted",
	    (json_int_t)e->st.dropped_blacklist, "dropped_source_rate",
	    (json_int_t)e->st.dropped_source, "dropped_net_rate",
	    (json_int_t)e->st.dropped_net, "failures",
	    (json_int_t)e->st.failures, "banned", (json_int_t)e->st.banned,
	    "evicted", (json_int_t)e->st.evicted);
}
