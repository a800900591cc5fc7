/*
 * tables.c - routing data snapshot: lifetime, parameters, ingress lookup
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SW_LOG_MODULE "tables"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/prefix.h"
#include "proto/media.h"
#include "signaling/route.h"
#include "signaling/tables.h"

/* Allocate an empty snapshot holding one reference, params at defaults. */
struct sg_tables *sg_tables_alloc(void)
{
	struct sg_tables *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->refs = 1;
	sg_params_defaults(&t->params);

	return t;
}

/* Take a reference; returns t. */
struct sg_tables *sg_tables_ref(struct sg_tables *t)
{
	if (t)
		t->refs++;
	return t;
}

/* Drop a reference; the last one frees the snapshot. */
void sg_tables_unref(struct sg_tables *t)
{
	if (!t || --t->refs > 0)
		return;

	for (size_t i = 0; i < t->nmgws; i++) {
		free(t->mgws[i].nets);
		free(t->mgws[i].ports);
		sg_dialplan_free(&t->mgws[i].caller_dp);
		sg_dialplan_free(&t->mgws[i].callee_dp);
	}
	for (size_t i = 0; i < t->ngws; i++) {
		for (size_t j = 0; j < t->gws[i].nprefixes; j++)
			free(t->gws[i].prefixes[j]);
		free(t->gws[i].prefixes);
		for (size_t j = 0; j < t->gws[i].nfilter; j++)
			free(t->gws[i].filter[j]);
		free(t->gws[i].filter);
		sg_dialplan_free(&t->gws[i].caller_dp);
		sg_dialplan_free(&t->gws[i].callee_dp);
		sg_identity_free(&t->gws[i].identity);
		sg_pool_conf_free(&t->gws[i].pool);
	}
	for (size_t i = 0; i < t->naccounts; i++) {
		for (size_t j = 0; j < t->accounts[i].nallow; j++)
			free(t->accounts[i].allow[j]);
		for (size_t j = 0; j < t->accounts[i].ndeny; j++)
			free(t->accounts[i].deny[j]);
		free(t->accounts[i].allow);
		free(t->accounts[i].deny);
	}
	free(t->accounts);
	sw_prefix_ix_free(t->gw_ix);
	sw_prefix_ix_free(t->rate_ix);
	free(t->rates);
	for (size_t i = 0; i < t->ncals; i++)
		free(t->cals[i].holidays);
	free(t->cals);
	free(t->bl);
	free(t->mgws);
	free(t->gws);
	free(t);
}

/* SS_* defaults (SPEC §3, brief): a missing row means the default. */
void sg_params_defaults(struct sg_params *p)
{
	p->no_provisional_ms = 3000;
	p->timer_b_ms = 32000;
	p->switch_limit = 5;
	p->media_mode = SW_MEDIA_MODE_MUST;
	p->reply_unknown = 0;
	p->fail_open = 0;
	p->max_call_s = 7200;
	p->prefix_fallback = 1;
	p->options_interval_s = 30;
	p->max_calls = 0;
	p->qos_signal = 24;
	p->qos_rtp = 46;
	p->jb_mode = 1;
	p->jb_min_ms = 20;
	p->jb_max_ms = 200;
	p->jb_default_ms = 60;
	p->rtp_timeout_s = 30;
	p->session_expires_s = 1800;
	p->min_se_s = 90;
	p->echo_cancel = 0;
	p->echo_tail_ms = 128;
	p->voice_gain_db = 0;
	p->comfort_noise = 0;
	sg_asr_config_parse(&p->asr, "0");
	p->edge_src_rate = 20;
	p->edge_src_burst = 60;
	p->edge_net_rate = 200;
	p->edge_net_burst = 600;
	p->edge_fail_limit = 10;
	p->edge_fail_window_s = 60;
	p->blacklist_s = 3600;
	snprintf(p->scanner_sigs, sizeof(p->scanner_sigs), "%s",
		 SG_SCANNER_SIGS_DEFAULT);
}

static const struct {
	const char *name;
	size_t off;
	int64_t min, max;
} pdefs[] = {
    {"SS_FAILOVER_NO_PROVISIONAL_MS",
     offsetof(struct sg_params, no_provisional_ms), 0, 600000},
    {"SS_SIP_TIMER_B_MS", offsetof(struct sg_params, timer_b_ms), 500, 600000},
    {"SS_GATEWAY_SWITCH_LIMIT", offsetof(struct sg_params, switch_limit), 1,
     100},
    {"SS_MEDIAPROXYMODE", offsetof(struct sg_params, media_mode), 0,
     SW_MEDIA_MODE_MAX},
    {"SS_SIP_REPLY_UNKNOWN_SOURCE", offsetof(struct sg_params, reply_unknown),
     0, 1},
    {"SS_BILLING_FAIL_OPEN", offsetof(struct sg_params, fail_open), 0, 1},
    {"SS_MAXCALLDURATION", offsetof(struct sg_params, max_call_s), 0,
     86400 * 7},
    {"SS_ROUTE_PREFIX_FALLBACK", offsetof(struct sg_params, prefix_fallback), 0,
     1},
    {"SS_GATEWAY_OPTIONS_INTERVAL",
     offsetof(struct sg_params, options_interval_s), 1, 3600},
    {"SS_MAX_CONCURRENT_CALLS", offsetof(struct sg_params, max_calls), 0,
     10000000},
    {"SS_QOS_SIGNAL", offsetof(struct sg_params, qos_signal), 0, 63},
    {"SS_QOS_RTP", offsetof(struct sg_params, qos_rtp), 0, 63},
    {"SS_GATEWAYFEERATEROUTESORTCONFIG", offsetof(struct sg_params, fee_sort),
     0, 1},
    {"FORWARD_SIGNAL_REWRITE_SEQUENCE", offsetof(struct sg_params, pool_rr), 0,
     1},
    {"SS_JITTERBUFFER_MODE", offsetof(struct sg_params, jb_mode), 0, 1},
    {"SS_JITTERBUFFER_MIN", offsetof(struct sg_params, jb_min_ms), 10, 1000},
    {"SS_JITTERBUFFER_MAX", offsetof(struct sg_params, jb_max_ms), 10, 1000},
    {"SS_JITTERBUFFER_DEFAULT", offsetof(struct sg_params, jb_default_ms), 10,
     1000},
    {"SS_ECHOCANCEL", offsetof(struct sg_params, echo_cancel), 0, 1},
    {"SS_ECHOCANCELTAIL", offsetof(struct sg_params, echo_tail_ms), 64, 256},
    {"SS_VOICEGAIN", offsetof(struct sg_params, voice_gain_db), -10, 10},
    {"SS_COMFORTNOISE", offsetof(struct sg_params, comfort_noise), 0, 1},
    {"SS_RTP_TIMEOUT", offsetof(struct sg_params, rtp_timeout_s), 0, 86400},
    {"SS_SESSION_EXPIRES", offsetof(struct sg_params, session_expires_s), 0,
     86400},
    {"SS_MIN_SE", offsetof(struct sg_params, min_se_s), 2, 86400},
    {"SS_EDGE_SOURCE_RATE", offsetof(struct sg_params, edge_src_rate), 0,
     100000},
    {"SS_EDGE_SOURCE_BURST", offsetof(struct sg_params, edge_src_burst), 1,
     1000000},
    {"SS_EDGE_NET_RATE", offsetof(struct sg_params, edge_net_rate), 0, 1000000},
    {"SS_EDGE_NET_BURST", offsetof(struct sg_params, edge_net_burst), 1,
     10000000},
    {"SS_EDGE_FAIL_LIMIT", offsetof(struct sg_params, edge_fail_limit), 0,
     100000},
    {"SS_EDGE_FAIL_WINDOW", offsetof(struct sg_params, edge_fail_window_s), 1,
     86400},
    {"SS_BLACKLIST_TIME", offsetof(struct sg_params, blacklist_s), 0, 31536000},
};

/*
 * The `media` object of media.offer (docs/bus.md), written to w: the
 * decoded-path settings, made consistent here so that a node never refuses an
 * offer for a combination each parameter allows on its own.
 */
void sg_params_media_write(struct sw_jw *w, const struct sg_params *p)
{
	int64_t lo = p->jb_min_ms, hi = p->jb_max_ms, def = p->jb_default_ms;
	int64_t tail = p->echo_tail_ms <= 64	? 64
		       : p->echo_tail_ms <= 128 ? 128
						: 256;

	if (lo > hi) {
		int64_t t = lo;

		lo = hi;
		hi = t;
	}
	if (def < lo)
		def = lo;
	if (def > hi)
		def = hi;

	sw_jw_raw(w, "{");
	sw_jw_key(w, "jb_mode", true);
	sw_jw_i64(w, p->jb_mode);
	sw_jw_ki64(w, "jb_min_ms", lo);
	sw_jw_ki64(w, "jb_max_ms", hi);
	sw_jw_ki64(w, "jb_default_ms", def);
	sw_jw_key(w, "echo_cancel", false);
	sw_jw_raw(w, p->echo_cancel ? "true" : "false");
	sw_jw_ki64(w, "echo_tail_ms", tail);
	sw_jw_ki64(w, "voice_gain_db", p->voice_gain_db);
	sw_jw_key(w, "comfort_noise", false);
	sw_jw_raw(w, p->comfort_noise ? "true" : "false");
	sw_jw_ki64(w, "rtp_timeout_s", p->rtp_timeout_s);
	sw_jw_raw(w, "}");
}

/*
 * Apply one system_parameters row.  ENOENT for a parameter signalingd does
 * not use (ignored by the caller), EINVAL/ERANGE for a bad value (the
 * default stays).
 */
int sg_params_set(struct sg_params *p, const char *name, const char *value)
{
	char *end;
	long long v;

	if (!p || !name || !value)
		return EINVAL;
	if (!strcmp(name, "SS_SCANNER_SIGNATURES")) {
		if (strlen(value) >= sizeof(p->scanner_sigs))
			return ERANGE;
		snprintf(p->scanner_sigs, sizeof(p->scanner_sigs), "%s", value);
		return 0;
	}
	if (!strcmp(name, "SS_GATEWAYASRROUTESORTCONFIG")) {
		struct sg_asr_config c;

		if (sg_asr_config_parse(&c, value))
			return EINVAL;
		p->asr = c;
		return 0;
	}

	for (size_t i = 0; i < sizeof(pdefs) / sizeof(pdefs[0]); i++) {
		if (strcmp(pdefs[i].name, name))
			continue;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end)
			return EINVAL;
		if (v < pdefs[i].min || v > pdefs[i].max)
			return ERANGE;
		*(int64_t *)(void *)((char *)p + pdefs[i].off) = v;
		return 0;
	}

	return ENOENT;
}

/* Parse "a.b.c.d", "a.b.c.d/n", IPv6 likewise. */
int sg_cidr_parse(struct sg_cidr *c, const char *s)
{
	char buf[64];
	char *slash, *end;
	long bits;

	if (!c || !s || strlen(s) >= sizeof(buf))
		return EINVAL;
	memset(c, 0, sizeof(*c));
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';

	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->af = AF_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->af = AF_INET6;
		c->bits = 128;
	} else {
		return EINVAL;
	}

	if (slash) {
		errno = 0;
		bits = strtol(slash, &end, 10);
		if (errno || end == slash || *end || bits < 0 || bits > c->bits)
			return EINVAL;
		c->bits = (int)bits;
	}

	return 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, (size_t)bytes))
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((a[bytes] & mask) != (b[bytes] & mask))
			return false;
	}
	return true;
}

/* True when the address sa lies inside the network c (v4-mapped v6 too). */
bool sg_cidr_match(const struct sg_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;

	if (!c || !sa)
		return false;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&(
			(const struct sockaddr_in *)(const void *)sa)
			->sin_addr;
		return c->af == AF_INET && prefix_eq(a, c->addr, c->bits);
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		a = (const uint8_t *)in6;
		if (c->af == AF_INET6)
			return prefix_eq(a, c->addr, c->bits);
		if (IN6_IS_ADDR_V4MAPPED(in6))
			return prefix_eq(a + 12, c->addr, c->bits);
	}

	return false;
}

static int sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

/*
 * The mapping gateway a request from sa belongs to, or NULL (unknown
 * source).  Modes ip and ip_port match here; password mode is matched by
 * digest credentials in sip.c, never by address.
 */
const struct sg_mgw *sg_tables_mgw_by_addr(const struct sg_tables *t,
					   const struct sockaddr *sa)
{
	if (!t || !sa)
		return NULL;

	for (size_t i = 0; i < t->nmgws; i++) {
		const struct sg_mgw *m = &t->mgws[i];
		bool ip_port = !strcmp(m->auth_mode, "ip_port");

		if (strcmp(m->auth_mode, "ip") && !ip_port)
			continue;
		for (size_t j = 0; j < m->nnets; j++) {
			if (!sg_cidr_match(&m->nets[j], sa))
				continue;
			if (!ip_port || m->nports == 0)
				return m;
			for (size_t k = 0; k < m->nports; k++)
				if (m->ports[k] == sa_port(sa))
					return m;
		}
	}

	return NULL;
}

/* Routing gateway by name, or NULL. */
const struct sg_gw *sg_tables_gw_by_name(const struct sg_tables *t,
					 const char *name)
{
	if (!t || !name)
		return NULL;
	for (size_t i = 0; i < t->ngws; i++)
		if (!strcmp(t->gws[i].name, name))
			return &t->gws[i];
	return NULL;
}

/* True when the routing gateway's mapping filter keeps calls of mgw away. */
bool sg_gw_filtered(const struct sg_gw *gw, const char *mgw)
{
	bool listed = false;

	if (!gw || gw->filter_mode == SG_FILTER_NONE)
		return false;
	for (size_t i = 0; mgw && i < gw->nfilter; i++)
		if (!strcmp(gw->filter[i], mgw))
			listed = true;
	return gw->filter_mode == SG_FILTER_ALLOW ? !listed : listed;
}

static bool has_prefix(char *const *list, size_t n, const char *number)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(number, list[i], strlen(list[i])))
			return true;
	return false;
}

static const struct sg_account *account_by_id(const struct sg_tables *t,
					      int64_t id)
{
	for (size_t i = 0; i < t->naccounts; i++)
		if (t->accounts[i].id == id)
			return &t->accounts[i];
	return NULL;
}

/*
 * Number section limitation of the account and every agent above it:
 * NULL when the callee may be dialled, else the name of the account whose
 * allow/deny list refuses it.
 */
const char *sg_tables_number_check(const struct sg_tables *t,
				   const char *account, const char *callee)
{
	const struct sg_account *a = NULL;

	for (size_t i = 0; t && account && i < t->naccounts; i++)
		if (!strcmp(t->accounts[i].name, account))
			a = &t->accounts[i];
	/* the chain is bounded: a cycle in the data cannot loop forever */
	for (int depth = 0; a && depth < 32; depth++) {
		if (has_prefix(a->deny, a->ndeny, callee))
			return a->name;
		if (a->nallow && !has_prefix(a->allow, a->nallow, callee))
			return a->name;
		a = a->agent_id ? account_by_id(t, a->agent_id) : NULL;
	}
	return NULL;
}

/*
 * The buy rate of the gateway's vendor for callee: the entry with the
 * longest matching prefix in the vendor's buy rate table, or NULL.
 */
const struct sg_rate *sg_tables_buy_rate(const struct sg_tables *t,
					 const struct sg_gw *gw,
					 const char *callee)
{
	uint32_t i;

	if (!t || !gw || !callee || !gw->buy_table_id ||
	    !sw_prefix_ix_longest(t->rate_ix, (uint64_t)gw->buy_table_id,
				  callee, &i, NULL) ||
	    i >= t->nrates)
		return NULL;
	return &t->rates[i];
}

/*
 * Index a loaded snapshot: the gateways' prefixes for routing and the buy
 * rates by table and prefix (common/prefix.h).
 */
int sg_tables_index(struct sg_tables *t)
{
	int err;

	if (!t)
		return EINVAL;
	err = sg_route_index(&t->gw_ix, t->gws, t->ngws);
	if (!err)
		err = sw_prefix_ix_alloc(&t->rate_ix);
	for (size_t i = 0; !err && i < t->nrates; i++)
		err =
		    sw_prefix_ix_add(t->rate_ix, (uint64_t)t->rates[i].table_id,
				     t->rates[i].prefix, (uint32_t)i);
	sw_prefix_ix_seal(t->rate_ix);
	return err;
}

/*
 * True when the gateway's active period excludes it now (`working` outside
 * working time, `non_working` inside it).  A gateway without a calendar
 * is always active.
 */
bool sg_gw_out_of_period(const struct sg_tables *t, const struct sg_gw *gw)
{
	if (!t || !gw || gw->period == SG_PERIOD_ALWAYS || !gw->calendar_id)
		return false;
	for (size_t i = 0; i < t->ncals; i++) {
		if (t->cals[i].id != gw->calendar_id)
			continue;
		return gw->period == SG_PERIOD_WORKING ? !t->cals[i].working
						       : t->cals[i].working;
	}
	return false;
}
