/*
 * prov_schema.c - what a provisioning file may contain: sections, fields,
 * system parameters
 *
 * docs/provisioning.md documents these tables; keep the two in step.  The
 * section order is the order objects are created and updated in (a section
 * only refers to sections before it); deletions run in the reverse order.
 */
#include <string.h>

#include "common/money.h"
#include "model/model.h"
#include "proto/identity.h"
#include "proto/media.h"

#define MONEY_ANY -SW_MONEY_MAX, SW_MONEY_MAX
#define MONEY_POS 0, SW_MONEY_MAX
#define RATE_MAX  (1000000LL * SW_MONEY_UNIT) /* 1e6 units per minute */

static const char *const account_types[] = {"customer", "vendor", "both", NULL};
static const char *const billing_types[] = {"prepaid", "postpaid", NULL};
static const char *const ctd_models[] = {"standard", "flow", NULL};
static const char *const auth_modes[] = {"ip", "ip_port", "password", NULL};
static const char *const transports[] = {"udp", "tcp", "tls", NULL};
static const char *const filter_modes[] = {"none", "allow", "forbid", NULL};
/* the 8 agent authorizations (digest 1, T17), VOS3000 order */
static const char *const authorizations[] = {
    "manage_accounts",	       /* add/delete/modify account */
    "manage_phones",	       /* add/delete/modify phone */
    "manage_phone_cards",      /* add/delete/modify phone card */
    "add_delete_gateways",     /* add/delete gateway */
    "modify_gateway_info",     /* modify gateway information */
    "modify_gateway_capacity", /* modify gateway capacity */
    "pay_own_account",	       /* payment for this account */
    "pay_sub_accounts",	       /* payment for sub accounts */
    NULL,
};
static const char *const periods[] = {"always", "working", "non_working", NULL};

static const struct md_field work_calendar_fields[] = {
    {"time_zone", "time_zone", MD_TZ, 1, 64, 0, NULL, NULL, 0, "UTC",
     "IANA time zone the hours and days are in"},
    {"working_days", "working_days", MD_INT_LIST, 1, 7, 7, NULL, NULL, 0,
     "[1,2,3,4,5]", "ISO weekdays that are working days (1 = Monday)"},
    {"work_start", "work_start", MD_TIME, 0, 0, 0, NULL, NULL, 0, "\"09:00\"",
     "working hours start (inclusive)"},
    {"work_end", "work_end", MD_TIME, 0, 0, 0, NULL, NULL, 0, "\"18:00\"",
     "working hours end (exclusive), after work_start"},
    {"holidays", NULL, MD_DATE_SET, 0, 0, 3660, NULL, NULL, 0, "[]",
     "non-working dates, replaced as a set when given", "holidays",
     "calendar_id", "day"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field package_period_rate_fields[] = {
    {"calendar", "calendar_id", MD_REF, 0, 0, 0, NULL, "work_calendars",
     MD_F_REQ_CREATE, "(required)", "the work calendar, by name"},
    {"working_rate_table", "working_rate_table_id", MD_REF, 0, 0, 0, NULL,
     "rate_tables", MD_F_REQ_CREATE, "(required)",
     "rate table of working hours"},
    {"non_working_rate_table", "non_working_rate_table_id", MD_REF, 0, 0, 0,
     NULL, "rate_tables", MD_F_REQ_CREATE, "(required)",
     "rate table outside working hours, holidays and non-working days"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field phone_fields[] = {
    {"account", "account_id", MD_REF, 0, 0, 0, NULL, "accounts",
     MD_F_REQ_CREATE, "(required)", "the account calls are billed to"},
    {"password", "ha1", MD_TEXT, 1, 128, 0, NULL, NULL,
     MD_F_REQ_CREATE | MD_F_SECRET | MD_F_HA1, "(required)",
     "digest password (only its HA1 is stored)"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field rate_table_fields[] = {
    {"entries", NULL, MD_RATE_ENTRIES, 0, 0, 1000000, NULL, NULL, 0, "[]",
     "the table's entries, replaced as a set when given"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field gateway_group_fields[] = {
    {"capacity", "capacity", MD_INT, 0, 1000000, 0, NULL, NULL, 0, "0",
     "total lines of the group's gateways (0 = unlimited)"},
    {"reserved_lines", "reserved_lines", MD_INT, 0, 1000000, 0, NULL, NULL, 0,
     "0", "lines kept for priority customers and protect routes"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field account_fields[] = {
    {"type", "type", MD_ENUM, 0, 0, 0, account_types, NULL, 0, "customer",
     "customer, vendor or both"},
    {"agent", "agent_id", MD_REF, 0, 0, 0, NULL, "accounts", MD_F_NULLABLE,
     "null", "parent (agent) account, by name"},
    {"balance", "balance", MD_MONEY, MONEY_ANY, 0, NULL, NULL, MD_F_CREATE_ONLY,
     "\"0\"", "opening balance; applied when the account is created only"},
    {"credit_limit", "credit_limit", MD_MONEY, MONEY_POS, 0, NULL, NULL, 0,
     "\"0\"", "overdraft allowed below zero"},
    {"billing_type", "billing_type", MD_ENUM, 0, 0, 0, billing_types, NULL, 0,
     "prepaid", "prepaid or postpaid"},
    {"rate_table", "rate_table_id", MD_REF, 0, 0, 0, NULL, "rate_tables",
     MD_F_NULLABLE, "null", "selling rate table (customers), by name"},
    {"buy_rate_table", "buy_rate_table_id", MD_REF, 0, 0, 0, NULL,
     "rate_tables", MD_F_NULLABLE, "null",
     "buying rate table (vendors), by name"},
    {"package_period_rate", "package_period_rate_id", MD_REF, 0, 0, 0, NULL,
     "package_period_rates", MD_F_NULLABLE, "null",
     "selling by period instead of rate_table, by name"},
    {"work_calendar", "work_calendar_id", MD_REF, 0, 0, 0, NULL,
     "work_calendars", MD_F_NULLABLE, "null", "the account's work calendar"},
    {"max_concurrent_calls", "max_concurrent_calls", MD_INT, 0, 1000000, 0,
     NULL, NULL, 0, "0", "0 = unlimited"},
    {"number_allow", "number_allow", MD_PREFIX_LIST, 0, 32, 1000, NULL, NULL, 0,
     "[]", "callee prefixes allowed (empty = all)"},
    {"number_deny", "number_deny", MD_PREFIX_LIST, 0, 32, 1000, NULL, NULL, 0,
     "[]", "callee prefixes refused"},
    {"agent_authorizations", "agent_authorizations", MD_ENUM_SET, 0, 0, 8,
     authorizations, NULL, 0, "[]",
     "what this account may do as an agent; a subset of its agent's"},
    {"ctd_model", "ctd_model", MD_ENUM, 0, 0, 0, ctd_models, NULL, 0,
     "standard", "standard or flow"},
    {"suppress_duration_alarm", "suppress_duration_alarm", MD_BOOL, 0, 0, 0,
     NULL, NULL, 0, "false", "no \"call duration too long\" alarm"},
    {"low_balance_alarm", "low_balance_alarm", MD_MONEY, MONEY_POS, 0, NULL,
     NULL, 0, "\"0\"", "alarm when the balance falls below (0 = off)"},
    {"locked", "locked", MD_BOOL, 0, 0, 0, NULL, NULL, 0, "false",
     "a locked account makes no calls"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field mapping_gateway_fields[] = {
    {"account", "account_id", MD_REF, 0, 0, 0, NULL, "accounts",
     MD_F_REQ_CREATE, "(required)", "the customer account, by name"},
    {"auth_mode", "auth_mode", MD_ENUM, 0, 0, 0, auth_modes, NULL, 0, "ip",
     "ip, ip_port or password"},
    {"ips", "ips", MD_IP_LIST, 0, 0, 256, NULL, NULL, 0, "[]",
     "source IPv4/IPv6 addresses or CIDRs"},
    {"ports", "ports", MD_INT_LIST, 1, 65535, 64, NULL, NULL, 0, "[]",
     "source ports (auth_mode ip_port; empty = any)"},
    {"username", "username", MD_TEXT, 1, 64, 0, NULL, NULL, MD_F_NULLABLE,
     "null", "digest user (auth_mode password)"},
    {"password", "ha1", MD_TEXT, 1, 128, 0, NULL, NULL,
     MD_F_NULLABLE | MD_F_SECRET | MD_F_HA1, "null",
     "digest password (auth_mode password; only its HA1 is stored)"},
    {"cps_limit", "cps_limit", MD_INT, 0, 100000, 0, NULL, NULL, 0, "50",
     "calls per second (0 = unlimited)"},
    {"max_concurrent_calls", "max_concurrent_calls", MD_INT, 0, 1000000, 0,
     NULL, NULL, 0, "500", "0 = unlimited"},
    {"max_call_duration_s", "max_call_duration_s", MD_INT, 0, 604800, 0, NULL,
     NULL, 0, "0",
     "conversation limitation in seconds (0 = SS_MAXCALLDURATION only)"},
    {"caller_dial_plan", "caller_dial_plan", MD_DIALPLAN, 0, 0, 100, NULL, NULL,
     0, "[]", "rewrites the caller number on ingress"},
    {"callee_dial_plan", "callee_dial_plan", MD_DIALPLAN, 0, 0, 100, NULL, NULL,
     0, "[]", "rewrites the callee number on ingress, before routing"},
    {"caller_source", "caller_source", MD_ENUM, 0, 0, 0, sw_number_source_names,
     NULL, 0, "from", "from, display or rpid"},
    {"media", "media", MD_MEDIA, 0, 0, 0, NULL, NULL, 0, "{}",
     "codec, DTMF and media proxy settings; replaced as a whole"},
    {"support_privacy", "support_privacy", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false", "pass Privacy/PAI through"},
    {"priority_customer", "priority_customer", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false", "may use reserved group lines"},
    {"media_handover", "media_handover", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false",
     "RTP may move to a new port of the caller's address after 2 s of "
     "silence (NAT)"},
    {"locked", "locked", MD_BOOL, 0, 0, 0, NULL, NULL, 0, "false",
     "a locked gateway takes no calls"},
    {"phone_card_mode", "phone_card_mode", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false",
     "callers pay with phone cards: <prefix><card><PIN>#<destination>"},
    {"phone_card_prefix", "phone_card_prefix", MD_PREFIX, 0, 16, 0, NULL, NULL,
     0, "\"\"", "access prefix dialled before the card number"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

static const struct md_field routing_gateway_fields[] = {
    {"account", "account_id", MD_REF, 0, 0, 0, NULL, "accounts", MD_F_NULLABLE,
     "null", "the vendor account, by name"},
    {"address", "address", MD_HOST, 1, 253, 0, NULL, NULL, MD_F_REQ_CREATE,
     "(required)", "SIP host: IPv4, IPv6 or DNS name"},
    {"port", "port", MD_INT, 1, 65535, 0, NULL, NULL, 0, "5060", "SIP port"},
    {"transport", "transport", MD_ENUM, 0, 0, 0, transports, NULL, 0, "udp",
     "how SIP reaches the gateway: udp, tcp or tls"},
    {"register_username", "register_username", MD_TEXT, 1, 64, 0, NULL, NULL,
     MD_F_NULLABLE, "null", "outbound REGISTER user"},
    {"register_password", "register_password", MD_TEXT, 1, 128, 0, NULL, NULL,
     MD_F_NULLABLE | MD_F_SECRET, "null", "outbound REGISTER password"},
    {"prefixes", NULL, MD_PREFIX_SET, 0, 32, 10000, NULL, NULL, 0, "[]",
     "callee prefixes routed here, replaced as a set when given",
     "routing_gateway_prefixes", "routing_gateway_id", "prefix"},
    {"priority", "priority", MD_INT, 1, 65535, 0, NULL, NULL, 0, "1",
     "1 = tried first"},
    {"line_limit", "line_limit", MD_INT, 0, 1000000, 0, NULL, NULL, 0, "0",
     "concurrent calls (0 = unlimited)"},
    {"gateway_prefix", "gateway_prefix", MD_DIALSTR, 0, 32, 0, NULL, NULL, 0,
     "\"\"", "tech prefix prepended to the callee"},
    {"callee_dial_plan", "callee_dial_plan", MD_DIALPLAN, 0, 0, 100, NULL, NULL,
     0, "[]", "rewrites the callee for this gateway, before gateway_prefix"},
    {"caller_dial_plan", "caller_dial_plan", MD_DIALPLAN, 0, 0, 100, NULL, NULL,
     0, "[]", "rewrites the caller number (and PAI) for this gateway"},
    {"switch_until_connect", "switch_until_connect", MD_BOOL, 0, 0, 0, NULL,
     NULL, 0, "true", "fail over to the next gateway on failure"},
    {"stop_codes", "stop_codes", MD_INT_LIST, 400, 699, 300, NULL, NULL, 0,
     "[486,487,403,404,484,488,600,603,606]",
     "failure codes relayed to the caller without failover"},
    {"media", "media", MD_MEDIA, 0, 0, 0, NULL, NULL, 0, "{}",
     "codec, DTMF and media proxy settings; replaced as a whole"},
    {"identity", "identity", MD_IDENTITY, 0, 0, 0, NULL, NULL, 0, "{}",
     "PAI, Privacy, PPI and extra headers; replaced as a whole"},
    {"caller_pool", "caller_pool", MD_CALLER_POOL, 0, 0, 0, NULL, NULL, 0, "{}",
     "caller number pool; replaced as a whole"},
    {"protect_route", "protect_route", MD_BOOL, 0, 0, 0, NULL, NULL, 0, "false",
     "tried after every normal gateway"},
    {"gateway_group", "gateway_group_id", MD_REF, 0, 0, 0, NULL,
     "gateway_groups", MD_F_NULLABLE, "null", "gateway group, by name"},
    {"mapping_filter_mode", "mapping_filter_mode", MD_ENUM, 0, 0, 0,
     filter_modes, NULL, 0, "none", "none, allow or forbid"},
    {"mapping_filter", "mapping_filter", MD_REF_LIST, 0, 0, 1000, NULL,
     "mapping_gateways", 0, "[]",
     "mapping gateway names the filter mode applies to"},
    {"locked", "locked", MD_BOOL, 0, 0, 0, NULL, NULL, 0, "false",
     "a locked gateway is never tried"},
    {"options_keepalive", "options_keepalive", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false", "OPTIONS keepalive; offline gateways are skipped"},
    {"media_handover", "media_handover", MD_BOOL, 0, 0, 0, NULL, NULL, 0,
     "false",
     "RTP may move to a new port of the vendor's address after 2 s of "
     "silence (NAT)"},
    {"work_calendar", "work_calendar_id", MD_REF, 0, 0, 0, NULL,
     "work_calendars", MD_F_NULLABLE, "null",
     "calendar of active_period, by name"},
    {"active_period", "active_period", MD_ENUM, 0, 0, 0, periods, NULL, 0,
     "always", "always, working or non_working (by work_calendar)"},
    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]) - 1)

/* in apply order: each section refers only to sections before it */
const struct md_section md_sections[] = {
    {"rate_tables", "rate_tables", "rate table", rate_table_fields,
     NF(rate_table_fields)},
    {"work_calendars", "work_calendars", "work calendar", work_calendar_fields,
     NF(work_calendar_fields)},
    {"package_period_rates", "package_period_rates", "package period rate",
     package_period_rate_fields, NF(package_period_rate_fields)},
    {"gateway_groups", "gateway_groups", "gateway group", gateway_group_fields,
     NF(gateway_group_fields)},
    {"accounts", "accounts", "account", account_fields, NF(account_fields)},
    {"mapping_gateways", "mapping_gateways", "mapping gateway",
     mapping_gateway_fields, NF(mapping_gateway_fields)},
    {"routing_gateways", "routing_gateways", "routing gateway",
     routing_gateway_fields, NF(routing_gateway_fields)},
    {"phones", "phones", "phone", phone_fields, NF(phone_fields), "number"},
};
const size_t md_nsections = sizeof(md_sections) / sizeof(md_sections[0]);

/*
 * The system parameters tandemctl accepts.  Ranges are enforced here so a typo
 * or an impossible value never reaches a daemon; parameters whose format is
 * not fixed yet are free text.  def is the value a daemon uses when the row
 * is missing ("" = decided by the daemon, see its documentation).
 */
const struct md_param_def md_params[] = {
    {"SS_FAILOVER_NO_PROVISIONAL_MS", 0, 600000, false, "3000",
     "no 1xx from a gateway within this many ms counts as 408"},
    {"SS_SIP_TIMER_B_MS", 1000, 600000, false, "32000",
     "no final response within this many ms counts as 408"},
    {"SS_GATEWAY_SWITCH_LIMIT", 1, 100, false, "5",
     "routing gateways tried per call at most"},
    {"SS_MEDIAPROXYMODE", SW_MEDIA_MODE_OFF, SW_MEDIA_MODE_MAX, false, "3",
     "0 off, 1 on, 2 auto, 3 must on"},
    {"SS_SIP_REPLY_UNKNOWN_SOURCE", 0, 1, false, "0",
     "0 = silently drop requests from unknown sources, 1 = answer 403"},
    {"SS_BILLING_FAIL_OPEN", 0, 1, false, "0",
     "1 = postpaid calls go through while billingd is unreachable"},
    {"SS_MAXCALLDURATION", 1, 604800, false, "7200", "longest call in seconds"},
    {"SS_ROUTE_PREFIX_FALLBACK", 0, 1, false, "1",
     "1 = shorter-prefix gateways are candidates after longer ones"},
    {"SS_SCANNER_SIGNATURES", 0, 1000, true,
     "friendly-scanner,VaxSIPUserAgent,sipvicious,SIPScan,sipcli,"
     "sipsak-scan,pplsip",
     "scanner signatures, comma-separated, case-insensitive: a request "
     "from a non-gateway address whose User-Agent, Server, Subject, "
     "Organization, From, To or Contact holds one is dropped silently"},
    {"SS_GATEWAYASRROUTESORTCONFIG", 0, 256, true, "0",
     "ASR route sorting (format decided by signalingd)"},
    {"SS_GATEWAYFEERATEROUTESORTCONFIG", 0, 256, true, "0",
     "fee-rate route sorting (format decided by signalingd)"},
    {"SS_GATEWAY_OPTIONS_INTERVAL", 1, 3600, false, "30",
     "OPTIONS keepalive interval, seconds"},
    {"SS_MAX_CONCURRENT_CALLS", 0, 10000000, false, "0",
     "switch-wide concurrent call cap (0 = none)"},
    {"SS_BLACKLIST_TIME", 0, 31536000, false, "3600",
     "seconds a source stays on the dynamic blacklist (0 = failures "
     "counted, nobody blacklisted)"},
    {"SS_EDGE_SOURCE_RATE", 0, 100000, false, "20",
     "SIP requests/s a source that is neither a gateway nor a registered "
     "phone may send; the excess is dropped silently (0 = no limit)"},
    {"SS_EDGE_SOURCE_BURST", 1, 1000000, false, "60",
     "requests such a source may send at once (its token bucket)"},
    {"SS_EDGE_NET_RATE", 0, 1000000, false, "200",
     "SIP requests/s all such sources of one /24 (IPv6: /64) may send "
     "together (0 = no limit)"},
    {"SS_EDGE_NET_BURST", 1, 10000000, false, "600",
     "requests one such network may send at once"},
    {"SS_EDGE_FAIL_LIMIT", 0, 100000, false, "10",
     "failures (credentials refused, unknown user or source, scanner "
     "signature, a second over its rate) that put a source on the dynamic "
     "blacklist, and that put an account under attack (0 = not counted)"},
    {"SS_EDGE_FAIL_WINDOW", 1, 86400, false, "60",
     "seconds the failures of SS_EDGE_FAIL_LIMIT are counted over"},
    {"SS_MEDIAPROXYPORT_START", 1024, 65535, false, "10000",
     "default first RTP port of a media node"},
    {"SS_MEDIAPROXYPORT_END", 1024, 65535, false, "60000",
     "default last RTP port of a media node"},
    {"SS_RTP_TIMEOUT", 0, 86400, false, "30",
     "seconds without RTP before the call is ended (0 = never)"},
    {"SS_SESSION_EXPIRES", 0, 86400, false, "1800",
     "session timer interval offered and accepted, seconds (RFC 4028; 0 = "
     "no session timers)"},
    {"SS_MIN_SE", 2, 86400, false, "90",
     "shortest session timer interval accepted, seconds (RFC 4028's floor "
     "is 90; lower values are for labs)"},
    {"SS_RTP_HOLD_TIMEOUT", 0, 86400, false, "3600",
     "the same for legs on hold"},
    {"SS_JITTERBUFFER_MODE", 0, 1, false, "1", "0 fixed, 1 adaptive"},
    {"SS_JITTERBUFFER_MIN", 10, 1000, false, "20", "ms"},
    {"SS_JITTERBUFFER_MAX", 10, 1000, false, "200", "ms"},
    {"SS_JITTERBUFFER_DEFAULT", 10, 1000, false, "60", "ms"},
    {"SS_ECHOCANCEL", 0, 1, false, "", "1 = echo cancellation on"},
    {"SS_ECHOCANCELTAIL", 64, 256, false, "",
     "echo tail in ms: 64, 128 or 256"},
    {"SS_VOICEGAIN", -10, 10, false, "0", "gain in dB"},
    {"SS_COMFORTNOISE", 0, 1, false, "", "1 = comfort noise on"},
    {"SS_QOS_RTP", 0, 63, false, "46", "DSCP of RTP (0 = none)"},
    {"SS_QOS_SIGNAL", 0, 63, false, "24", "DSCP of SIP (0 = none)"},
    {"FORWARD_SIGNAL_REWRITE_SEQUENCE", 0, 1, false, "0",
     "caller pool order: 0 random, 1 round robin"},
    {"SERVER_BILLING_FEE_PRECISION", 0, 6, false, "4",
     "decimals fees are rounded to"},
    {"SERVER_CURRENCY", 0, 8, true, "USD",
     "currency code or sign the web manager shows with money (USD, CNY, "
     "€)"},
    {"SERVER_BILLING_HOLD_TIME_PRECISION", 0, 1000, false, "50",
     "ms of a started second that count as a whole second"},
    {"SERVER_BILLING_FREE_TIME", 0, 86400, false, "0", "free seconds per call"},
    {"SERVER_BILLING_RECORD_ZERO_HOLD_TIME", 0, 1, false, "1",
     "1 = keep CDRs of unanswered calls"},
    {"SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME", 1, 86400, false, "60",
     "seconds of cost reserved ahead"},
    {"SERVER_WORK_CALENDAR_ENABLED", 0, 1, false, "1",
     "1 = work calendars choose the rate period"},
    {"SERVER_PHONE_CARD_PIN_ATTEMPTS", 1, 100, false, "5",
     "wrong PINs in a row that lock a phone card"},
    {"SERVER_PERIOD_RATE_ENABLED", 0, 1, false, "1",
     "1 = package period rates are used"},
    {"SERVER_WEB_ACCESS_LIST", 0, 4000, true, "",
     "Web Access Control: comma-separated IP addresses and CIDRs that may "
     "use the web manager and the API (empty: any address)",
     true},
    {"SERVER_ALARM_LOW_BALANCE", 0, 1000000000, false, "0",
     "alarm when a prepaid customer's balance + credit limit falls below "
     "this many currency units (0 = off)"},
    {"SERVER_ALARM_LOW_ASR", 0, 100, false, "0",
     "alarm when a routing gateway's ASR over the window is below this "
     "percentage (0 = off)"},
    {"SERVER_ALARM_ASR_WINDOW", 60, 86400, false, "900",
     "seconds of attempts the low-ASR alarm looks at"},
    {"SERVER_ALARM_ASR_MIN_CALLS", 1, 1000000, false, "20",
     "attempts in the window before the low-ASR alarm judges a gateway"},
    {"SERVER_ALARM_LONG_CALL", 0, 604800, false, "0",
     "alarm when a call has lasted more than this many seconds (0 = off)"},
    {"SERVER_ALARM_LOSS", 0, 100, false, "0",
     "alarm when a routing gateway's RTP loss over the ASR window is above "
     "this percentage (0 = off)"},
    {"SERVER_ALARM_JITTER", 0, 10000, false, "0",
     "alarm when a routing gateway's mean RTP jitter over the ASR window "
     "is above this many ms (0 = off)"},
    {"SERVER_ALARM_LATENCY", 0, 10000, false, "0",
     "alarm when a routing gateway's mean RTP round trip (RTCP) over the "
     "ASR window is above this many ms (0 = off)"},
    {"SERVER_ALARM_CPU", 0, 100, false, "90",
     "alarm when a host's CPU use (billingd's, signalingd's, a media "
     "node's) is above this percentage (0 = off)"},
    {"SERVER_ALARM_MEMORY", 0, 100, false, "90",
     "alarm when a host's memory use is above this percentage (0 = off)"},
    {"SERVER_ALARM_DISK", 0, 100, false, "90",
     "alarm when a disk of a host is fuller than this percentage (0 = "
     "off)"},
    {NULL, 0, 0, false, NULL, NULL},
};

/* the section of a top-level key, or NULL */
const struct md_section *md_section_find(const char *key)
{
	for (size_t i = 0; i < md_nsections; i++) {
		if (!strcmp(md_sections[i].key, key))
			return &md_sections[i];
	}
	return NULL;
}

/* the key (and column) identifying the objects of a section */
const char *md_section_id(const struct md_section *sec)
{
	return sec->id ? sec->id : "name";
}

/* the definition of a system parameter, or NULL when unknown */
const struct md_param_def *md_param_find(const char *name)
{
	for (const struct md_param_def *p = md_params; p->name; p++) {
		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

/* index of a field of a section, -1 when absent */
int md_field_index(const struct md_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->nfields; i++) {
		if (!strcmp(sec->fields[i].key, key))
			return (int)i;
	}
	return -1;
}
