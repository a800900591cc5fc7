/*
 * tables.h - the routing data signalingd loads from PostgreSQL
 *
 * A struct sg_tables is one immutable snapshot of mapping gateways, routing
 * gateways (with their prefixes), customer accounts and the SS_* system
 * parameters.  db.c builds a new snapshot on start-up and on SIGHUP and
 * swaps it in; calls keep a reference to the snapshot they were routed
 * with, so gateway pointers stay valid for the whole call.
 *
 * Ownership: refcounted (sg_tables_ref/sg_tables_unref).
 * Threading: main loop only.
 */
#ifndef SG_TABLES_H
#define SG_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "common/prefix.h"
#include "signaling/calendar.h"
#include "signaling/callerpool.h"
#include "signaling/codecpol.h"
#include "signaling/dialplan.h"
#include "signaling/identity.h"
#include "signaling/stats.h"

#define SG_NAME_MAX 64
#define SG_STOP_MAX 32

struct sg_cidr {
	int af; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int bits;
};

/* SS_* system parameters signalingd applies (defaults in tables.c) */
/* SPEC §8's scanner signatures */
#define SG_SCANNER_SIGS_DEFAULT                                                \
	"friendly-scanner,VaxSIPUserAgent,sipvicious,SIPScan,sipcli,"          \
	"sipsak-scan,pplsip"

struct sg_params {
	int64_t no_provisional_ms;  /* SS_FAILOVER_NO_PROVISIONAL_MS */
	int64_t timer_b_ms;	    /* SS_SIP_TIMER_B_MS */
	int64_t switch_limit;	    /* SS_GATEWAY_SWITCH_LIMIT */
	int64_t media_mode;	    /* SS_MEDIAPROXYMODE 0..3 */
	int64_t reply_unknown;	    /* SS_SIP_REPLY_UNKNOWN_SOURCE 0/1 */
	int64_t fail_open;	    /* SS_BILLING_FAIL_OPEN 0/1 */
	int64_t max_call_s;	    /* SS_MAXCALLDURATION */
	int64_t prefix_fallback;    /* SS_ROUTE_PREFIX_FALLBACK 0/1 */
	int64_t options_interval_s; /* SS_GATEWAY_OPTIONS_INTERVAL */
	int64_t max_calls;	    /* SS_MAX_CONCURRENT_CALLS, 0 = none */
	int64_t qos_signal;	    /* SS_QOS_SIGNAL, DSCP of SIP */
	int64_t qos_rtp;	    /* SS_QOS_RTP, DSCP of RTP (offer) */
	struct sg_asr_config asr;   /* SS_GATEWAYASRROUTESORTCONFIG */
	int64_t fee_sort;	    /* SS_GATEWAYFEERATEROUTESORTCONFIG */
	int64_t pool_rr; /* FORWARD_SIGNAL_REWRITE_SEQUENCE: pools in turn */
	/* decoded-path processing, sent to the media node with each offer */
	int64_t jb_mode;       /* SS_JITTERBUFFER_MODE 0 fixed, 1 adaptive */
	int64_t jb_min_ms;     /* SS_JITTERBUFFER_MIN */
	int64_t jb_max_ms;     /* SS_JITTERBUFFER_MAX */
	int64_t jb_default_ms; /* SS_JITTERBUFFER_DEFAULT */
	int64_t echo_cancel;   /* SS_ECHOCANCEL 0/1 */
	int64_t echo_tail_ms;  /* SS_ECHOCANCELTAIL 64/128/256 */
	int64_t voice_gain_db; /* SS_VOICEGAIN -10..10 */
	int64_t comfort_noise; /* SS_COMFORTNOISE 0/1 */
	int64_t rtp_timeout_s; /* SS_RTP_TIMEOUT, 0 = never */
	int64_t session_expires_s; /* SS_SESSION_EXPIRES, 0 = no timers */
	int64_t min_se_s;	   /* SS_MIN_SE */
	/* the SIP edge layer (edge.h) */
	int64_t edge_src_rate;	    /* SS_EDGE_SOURCE_RATE, requests/s */
	int64_t edge_src_burst;	    /* SS_EDGE_SOURCE_BURST */
	int64_t edge_net_rate;	    /* SS_EDGE_NET_RATE, requests/s */
	int64_t edge_net_burst;	    /* SS_EDGE_NET_BURST */
	int64_t edge_fail_limit;    /* SS_EDGE_FAIL_LIMIT, 0 = off */
	int64_t edge_fail_window_s; /* SS_EDGE_FAIL_WINDOW */
	int64_t blacklist_s;	    /* SS_BLACKLIST_TIME, 0 = no blacklist */
	/* SS_SCANNER_SIGNATURES: comma-separated, case-insensitive */
	char scanner_sigs[1024];
};

/* one buy-rate entry of a vendor's rate table (sorted by table, prefix) */
struct sg_rate {
	int64_t table_id;
	char prefix[33];
	int64_t first_rate; /* micro-units per minute */
	int64_t next_rate;
};

/* customer account: number section limitation, agent chain */
struct sg_account {
	int64_t id;
	int64_t agent_id; /* parent, 0 = none */
	char name[SG_NAME_MAX];
	char **allow;  /* owned: callee prefixes allowed */
	size_t nallow; /* 0 = all */
	char **deny;   /* owned: callee prefixes refused */
	size_t ndeny;
};

enum sg_filter_mode { SG_FILTER_NONE, SG_FILTER_ALLOW, SG_FILTER_FORBID };
enum sg_period { SG_PERIOD_ALWAYS, SG_PERIOD_WORKING, SG_PERIOD_NON_WORKING };

/* ingress: mapping gateway (customer side) */
struct sg_mgw {
	int64_t id;
	char name[SG_NAME_MAX];
	char account[SG_NAME_MAX];
	bool postpaid;	      /* of its account */
	char auth_mode[16];   /* ip | ip_port | password */
	struct sg_cidr *nets; /* owned */
	size_t nnets;
	int *ports; /* owned; ip_port mode */
	size_t nports;
	int64_t max_duration_s;	   /* 0 = no limit */
	int64_t cps_limit;	   /* calls/s, burst the same; 0 = none */
	int64_t max_calls;	   /* concurrent calls; 0 = none */
	int64_t account_max_calls; /* of its account; 0 = none */
	bool locked;
	bool priority_customer; /* may use reserved group lines */
	bool media_handover;	/* media may re-latch after silence (NAT) */
	char username[65];	/* auth_mode password */
	char ha1[33];		/* MD5(username:realm:password), hex */
	char caller_source[8];	/* from | display | rpid */
	bool support_privacy;	/* its Privacy may be passed through */
	struct sg_dialplan caller_dp; /* owned: ingress caller rewrite */
	struct sg_dialplan callee_dp; /* owned: ingress callee rewrite */
	struct sg_cp_conf media;      /* codec/DTMF settings (SPEC §5) */
	bool phone_card; /* callees: <card_prefix><card><PIN>#<dest> */
	char card_prefix[17];
};

/* egress: routing gateway (vendor side) */
struct sg_gw {
	int64_t id;
	char name[SG_NAME_MAX];
	char account[SG_NAME_MAX];
	char address[256];
	int port;
	bool tcp;
	bool tls;	/* transport tls (SIP over TLS, sg->tls_contact) */
	int priority;	/* 1 = first */
	int line_limit; /* 0 = none */
	char tech_prefix[64]; /* gateway_prefix */
	bool switch_until_connect;
	int stop_codes[SG_STOP_MAX];
	size_t nstop;
	bool protect;
	bool locked;
	bool keepalive;		     /* options_keepalive */
	char register_username[64];  /* "" = signalingd does not register */
	char register_password[128]; /* with the gateway (outreg.c) */
	bool media_handover;	     /* media may re-latch after silence */
	int64_t buy_table_id;	     /* vendor's buy rate table, 0 = none */
	int64_t calendar_id;	     /* work calendar, 0 = none */
	enum sg_period period;	     /* active period */
	char **prefixes;	     /* owned */
	size_t nprefixes;
	char group[SG_NAME_MAX];	 /* gateway group, "" = none */
	int group_capacity;		 /* lines of the group, 0 = none */
	int group_reserved;		 /* for priority customers/protect */
	enum sg_filter_mode filter_mode; /* mapping gateway filter */
	char **filter;			 /* owned: mapping gateway names */
	size_t nfilter;
	struct sg_dialplan caller_dp; /* owned: caller (and PAI) rewrite */
	struct sg_dialplan callee_dp; /* owned: before gateway_prefix */
	struct sg_cp_conf media;      /* codec/DTMF settings (SPEC §5) */
	struct sg_identity identity;  /* owned: PAI, Privacy, PPI, headers */
	struct sg_pool_conf pool;     /* owned: caller number pool */
};

/* an active row of the blacklist table */
#define SG_BL_MAX_S "32768" /* rows read at most (edge.h's capacity) */
struct sg_bl_row {
	char ip[64];
	int64_t left_ms; /* at load time; -1 = no expiry */
};

struct sg_tables {
	int refs;
	struct sg_params params;
	struct sg_mgw *mgws; /* owned */
	size_t nmgws;
	struct sg_gw *gws; /* owned */
	size_t ngws;
	struct sg_account *accounts; /* owned */
	size_t naccounts;
	struct sw_prefix_ix *gw_ix; /* owned: gateways' prefixes (route.c) */
	struct sg_rate *rates;	    /* owned: buy rates */
	size_t nrates;
	struct sw_prefix_ix *rate_ix; /* owned: rates by table and prefix */
	struct sg_calendar *cals;     /* owned: work calendars */
	size_t ncals;
	struct sg_bl_row *bl; /* owned: blacklist */
	size_t nbl;
	bool has_phones;   /* a mapping gateway with auth_mode phone */
	bool has_password; /* one with auth_mode password */
	int64_t loaded_wall_ms;
};

struct sg_tables *sg_tables_alloc(void);
struct sg_tables *sg_tables_ref(struct sg_tables *t);
void sg_tables_unref(struct sg_tables *t);

void sg_params_defaults(struct sg_params *p);
int sg_params_set(struct sg_params *p, const char *name, const char *value);
struct sw_jw;
void sg_params_media_write(struct sw_jw *w, const struct sg_params *p);

int sg_cidr_parse(struct sg_cidr *c, const char *s);
bool sg_cidr_match(const struct sg_cidr *c, const struct sockaddr *sa);

const struct sg_mgw *sg_tables_mgw_by_addr(const struct sg_tables *t,
					   const struct sockaddr *sa);
const struct sg_gw *sg_tables_gw_by_name(const struct sg_tables *t,
					 const char *name);
bool sg_gw_filtered(const struct sg_gw *gw, const char *mgw);
bool sg_gw_out_of_period(const struct sg_tables *t, const struct sg_gw *gw);
int sg_tables_index(struct sg_tables *t);
const struct sg_rate *sg_tables_buy_rate(const struct sg_tables *t,
					 const struct sg_gw *gw,
					 const char *callee);
const char *sg_tables_number_check(const struct sg_tables *t,
				   const char *account, const char *callee);

#endif /* SG_TABLES_H */
