/*
 * sip.c - nta agent, stateless front door: source check, OPTIONS, INVITE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SW_LOG_MODULE "sip"
#include "common/log.h"
#include "common/swtime.h"
#include "signaling/call.h"
#include "signaling/digest.h"
#include "signaling/edge.h"
#include "signaling/edgedb.h"
#include "signaling/sg.h"
#include "signaling/alias.h"
#include "signaling/registrar.h"
#include "signaling/sip.h"
#include "signaling/tables.h"
#include "signaling/tcpguard.h"

#define SG_VOUCH_MS	   (3600 * 1000) /* an authenticated source, TCP */
#define SG_SIP_TCP_BACKLOG 1000		 /* sofia's maximum */

static void addr_str(char *buf, size_t size, const struct sockaddr *sa)
{
	buf[0] = '\0';
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(
		    AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(
		    AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)size);
}

/* a routing gateway's address is a known peer for OPTIONS */
static bool is_vendor(const struct sg_tables *t, const char *ip)
{
	for (size_t i = 0; t && i < t->ngws; i++)
		if (!strcmp(t->gws[i].address, ip))
			return true;
	return false;
}

/*
 * A failure of a source that is not a gateway (edge.h): counted, and the
 * source written to the blacklist table when it crosses the threshold.
 */
static void edge_fail(struct sg *sg, const char *ip, const char *account,
		      enum sg_edge_failure why)
{
	static const char *const whys[] = {
	    "credentials refused", "unknown user or source",
	    "scanner signature", "over its request rate"};
	struct sg_edge_addr a;
	char reason[160];

	if (!sg_edge_addr_text(&a, ip) ||
	    !sg_edge_fail(sg->edge, &a, account, why, sw_time_mono_ms()))
		return;
	snprintf(reason, sizeof(reason), "signalingd: %s%s%s", whys[why],
		 account && *account ? ", account " : "",
		 account && *account ? account : "");
	sg_edgedb_ban(sg->edgedb, ip, sg->tables->params.blacklist_s, reason);
}

/* does text contain one of the comma-separated signatures (any case)? */
static bool sig_in(const char *sigs, const char *text)
{
	const char *p = sigs;

	if (!sigs || !text || !*text)
		return false;
	while (*p) {
		size_t n = strcspn(p, ",");
		char sig[128];

		while (n && *p == ' ') {
			p++;
			n--;
		}
		if (n && n < sizeof(sig)) {
			memcpy(sig, p, n);
			while (n && sig[n - 1] == ' ')
				n--;
			sig[n] = '\0';
			if (n && strcasestr(text, sig))
				return true;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return false;
}

/*
 * SPEC §8: a scanner's request, by its signature (SS_SCANNER_SIGNATURES)
 * in the User-Agent, Server, Subject, Organization, or the display name or
 * user of From, To or Contact.
 */
static bool is_scanner(const struct sg_params *params, sip_t const *sip)
{
	const char *sigs;
	const sip_addr_t *addrs[2] = {sip->sip_from, sip->sip_to};

	if (!params || !params->scanner_sigs[0])
		return false;
	sigs = params->scanner_sigs;
	if ((sip->sip_user_agent &&
	     sig_in(sigs, sip->sip_user_agent->g_string)) ||
	    (sip->sip_server && sig_in(sigs, sip->sip_server->g_string)) ||
	    (sip->sip_subject && sig_in(sigs, sip->sip_subject->g_string)) ||
	    (sip->sip_organization &&
	     sig_in(sigs, sip->sip_organization->g_string)))
		return true;
	for (size_t i = 0; i < 2; i++)
		if (addrs[i] && (sig_in(sigs, addrs[i]->a_display) ||
				 sig_in(sigs, addrs[i]->a_url->url_user)))
			return true;
	for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next)
		if (sig_in(sigs, m->m_display) ||
		    sig_in(sigs, m->m_url->url_user))
			return true;
	return false;
}

/*
 * The password-mode mapping gateway or phone a request claims to come
 * from: by the credential's username, else by the From user (INVITE) or
 * the To user (REGISTER).
 */
static const struct sg_mgw *password_mgw(const struct sg_tables *t,
					 sip_t const *sip, bool reg)
{
	char buf[128];
	msg_auth_t const *au =
	    reg ? sip->sip_authorization : sip->sip_proxy_authorization;
	const char *user = sg_digest_user(au, buf, sizeof(buf));

	if (!user)
		user = reg ? sip->sip_to->a_url->url_user
			   : sip->sip_from->a_url->url_user;
	/* phones and password gateways both REGISTER and call */
	for (size_t i = 0; user && i < t->nmgws; i++) {
		const struct sg_mgw *m = &t->mgws[i];

		if ((!strcmp(m->auth_mode, "phone") ||
		     !strcmp(m->auth_mode, "password")) &&
		    m->username[0] && !strcmp(m->username, user))
			return m;
	}
	return NULL;
}

/*
 * Answer with a fresh challenge: 401 (REGISTER) or 407 (INVITE), the
 * same for every user, known or not.  msg is consumed.
 */
static void challenge(struct sg *sg, nta_agent_t *agent, msg_t *msg, bool reg,
		      const char *src, bool stale)
{
	int64_t now = sw_time_wall_ms() / 1000;
	char nonce[96], chal[256];

	sg_digest_nonce(nonce, sizeof(nonce), sg->nonce_secret, src, now,
			++sg->nonce_seq);
	snprintf(chal, sizeof(chal),
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
		 "qop=\"auth\"%s",
		 SG_DIGEST_REALM, nonce, stale ? ", stale=true" : "");
	if (reg)
		nta_msg_treply(agent, msg, SIP_401_UNAUTHORIZED,
			       SIPTAG_WWW_AUTHENTICATE_STR(chal), TAG_END());
	else
		nta_msg_treply(agent, msg, SIP_407_PROXY_AUTH_REQUIRED,
			       SIPTAG_PROXY_AUTHENTICATE_STR(chal), TAG_END());
}

/*
 * Digest for a password-mode mapping gateway or a phone: true when the
 * credential verifies, else a 407 (INVITE) / 401 (REGISTER) challenge was
 * sent and msg is consumed.  A refused credential counts as a failure of
 * the source and of the account (edge.h); a stale or replayed nonce does
 * not (a real client meets it too).  A source that authenticated is not
 * rate limited for SG_EDGE_AUTH_TRUST_MS after (a phone's REGISTER then
 * sets it to the registration's end).
 */
static bool digest_ok(struct sg *sg, nta_agent_t *agent, msg_t *msg, sip_t *sip,
		      const struct sg_mgw *dm, bool reg, const char *src,
		      bool trusted)
{
	int64_t now = sw_time_wall_ms() / 1000;
	msg_auth_t const *au =
	    reg ? sip->sip_authorization : sip->sip_proxy_authorization;
	char ruri[512];
	struct sg_digest_req rq = {sip->sip_request->rq_method_name, ruri, src,
				   now};
	bool stale = false;

	if (url_e(ruri, sizeof(ruri), sip->sip_request->rq_url) < 0 ||
	    strlen(ruri) >= sizeof(ruri) - 1)
		ruri[0] = '\0';
	ruri[sizeof(ruri) - 1] = '\0';
	if (au && sg_digest_verify(au, &rq, dm->username, dm->ha1,
				   sg->nonce_secret, sg->nonces, &stale)) {
		struct sg_edge_addr ea;
		int64_t mono = sw_time_mono_ms();

		/* a PBX behind a password places calls at its own pace */
		if (!trusted && sg_edge_addr_text(&ea, src))
			sg_edge_trust(sg->edge, &ea, mono,
				      mono + SG_EDGE_AUTH_TRUST_MS);
		return true;
	}
	sw_info("%s from %s (%s) at %s: %d%s", sip->sip_request->rq_method_name,
		dm->username, dm->name, src, reg ? 401 : 407,
		!au	? ""
		: stale ? " (stale or replayed nonce)"
			: " (credentials refused)");
	if (au && !stale && !trusted)
		edge_fail(sg, src, dm->username, SG_EDGE_FAIL_AUTH);
	challenge(sg, agent, msg, reg, src, stale);
	return false;
}

/*
 * Does the switch take digest (for REGISTER and INVITE: a phone or a
 * password mapping gateway exists)?  Then a request naming an unknown
 * user is challenged exactly like one naming a known user, so the answers
 * do not tell which users exist.
 */
static bool takes_digest(const struct sg_tables *t)
{
	return t->has_phones || t->has_password;
}

/*
 * A REGISTER or INVITE for a user the switch does not know, from a source
 * that is not a gateway: challenged like a known user's (its credentials
 * are never accepted) and counted as a failure.
 */
static void unknown_user(struct sg *sg, nta_agent_t *agent, msg_t *msg,
			 sip_t *sip, bool reg, const char *src)
{
	msg_auth_t const *au =
	    reg ? sip->sip_authorization : sip->sip_proxy_authorization;
	char buf[128];
	const char *user = sg_digest_user(au, buf, sizeof(buf));

	if (!user)
		user = reg ? sip->sip_to->a_url->url_user
			   : sip->sip_from->a_url->url_user;
	sw_info("%s from unknown user %s at %s: %d%s",
		sip->sip_request->rq_method_name, user ? user : "-", src,
		reg ? 401 : 407, au ? " (credentials refused)" : "");
	edge_fail(sg, src, NULL, SG_EDGE_FAIL_UNKNOWN);
	challenge(sg, agent, msg, reg, src, false);
}

/* what registers: a phone, or a mapping gateway in password mode */
static const char *who(const struct sg_mgw *m)
{
	return strcmp(m->auth_mode, "phone") ? "mapping gateway user" : "phone";
}

/*
 * Where a REGISTER came from, as kept with the registration: "ip:port"
 * over UDP (the port its NAT mapping has, if any), the address alone over
 * a connection (its port is the connection's, no way back by itself).
 */
static void reg_source(char *buf, size_t size, const char *ip,
		       const struct sockaddr *sa, const sip_t *sip)
{
	int port = 0;

	if (sa && sa->sa_family == AF_INET)
		port = ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	else if (sa && sa->sa_family == AF_INET6)
		port = ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	if (!port || !sip->sip_via || !sip->sip_via->v_protocol ||
	    strcasecmp(sip->sip_via->v_protocol, sip_transport_udp))
		snprintf(buf, size, "%s", ip);
	else if (strchr(ip, ':'))
		snprintf(buf, size, "[%s]:%d", ip, port);
	else
		snprintf(buf, size, "%s:%d", ip, port);
}

/* an authenticated REGISTER of a phone or a password gateway: store or
 * remove its contact */
static void do_register(struct sg *sg, nta_agent_t *agent, msg_t *msg,
			sip_t *sip, const struct sg_mgw *phone, const char *src,
			const struct sockaddr *sa)
{
	struct sg_edge_addr ea;
	bool have_ea = sg_edge_addr_text(&ea, src);
	int64_t now = sw_time_mono_ms(), until;
	sip_contact_t const *m = sip->sip_contact;
	unsigned expires = 3600;
	char hdr[320], *u, source[80], target[320];
	bool nat;

	if (sip->sip_expires)
		expires = sip->sip_expires->ex_delta;
	if (m && m->m_expires)
		expires = (unsigned)strtoul(m->m_expires, NULL, 10);
	if (expires > 3600)
		expires = 3600;
	if (!m || expires == 0 || (m->m_url->url_type == url_any)) {
		sg_registrar_del(sg->registrar, phone->username);
		sg_edgedb_register(sg->edgedb, phone->username, NULL, NULL, 0);
		if (have_ea)
			sg_edge_trust(sg->edge, &ea, now, 0);
		sw_info("%s %s unregistered", who(phone), phone->username);
		nta_msg_treply(agent, msg, SIP_200_OK, TAG_END());
		return;
	}
	u = url_as_string(msg_home(msg), m->m_url);
	until = now + (int64_t)expires * 1000;
	reg_source(source, sizeof(source), src, sa, sip);
	nat = sg_registrar_target(target, sizeof(target), u ? u : "", source);
	if (sg_registrar_set(sg->registrar, phone->username, target, until)) {
		nta_msg_treply(agent, msg, SIP_500_INTERNAL_SERVER_ERROR,
			       TAG_END());
		return;
	}
	if (have_ea) /* a registered phone's source is not rate limited */
		sg_edge_trust(sg->edge, &ea, now, until);
	/* kept in PostgreSQL too: a restart reads it back */
	sg_edgedb_register(sg->edgedb, phone->username, u ? u : "", source,
			   expires);
	snprintf(hdr, sizeof(hdr), "<%s>;expires=%u", u ? u : "", expires);
	sw_info("%s %s registered at %s for %u s%s%s", who(phone),
		phone->username, u ? u : "", expires,
		nat ? "; behind NAT, called at " : "", nat ? target : "");
	nta_msg_treply(agent, msg, SIP_200_OK, SIPTAG_CONTACT_STR(hdr),
		       TAG_END());
}

void sg_sip_restore_registrations(struct sg *sg)
{
	struct sg_edgedb_reg *regs;
	long n = sg_edgedb_restored(sg->edgedb, &regs);
	int64_t now = sw_time_mono_ms();
	long kept = 0;

	for (long i = 0; i < n; i++) {
		const struct sg_edgedb_reg *g = &regs[i];
		struct sg_edge_addr ea;
		int64_t until = now + g->remaining_ms;
		char target[320], ip[64];
		int port;

		/* a REGISTER since the start is newer than the row */
		(void)sg_registrar_target(target, sizeof(target), g->contact,
					  g->source);
		if (g->remaining_ms <= 0 ||
		    sg_registrar_has(sg->registrar, g->number) ||
		    sg_registrar_set(sg->registrar, g->number, target, until))
			continue;
		if (sg_registrar_split_source(g->source, ip, sizeof(ip),
					      &port) &&
		    sg_edge_addr_text(&ea, ip))
			sg_edge_trust(sg->edge, &ea, now, until);
		kept++;
	}
	if (n > 0)
		sw_info("%ld registrations read back from PostgreSQL, %ld "
			"kept",
			n, kept);
	free(regs);
}

/*
 * Every request outside a dialog and every response without a transaction
 * arrives here.  msg is ours to answer or destroy.
 */
/*
 * Can the switch carry this initial INVITE?  false after refusing it: a
 * Request-URI scheme other than sip, sips or tel is a 416 (RFC 3261
 * 8.2.2.1; the callee would otherwise be taken from the To header),
 * Max-Forwards 0 a 483 (a routing loop; the B leg gets the caller's
 * Max-Forwards less one), a missing Contact a 400 (the caller's leg would
 * have no target for a BYE).
 */
static bool invite_fit(nta_agent_t *agent, msg_t *msg, sip_t const *sip,
		       const char *ip)
{
	enum url_type_e t = (enum url_type_e)sip->sip_request->rq_url->url_type;

	if (t != url_sip && t != url_sips && t != url_tel) {
		sw_info("INVITE from %s: Request-URI scheme not sip, sips or "
			"tel: 416",
			ip);
		nta_msg_treply(agent, msg, SIP_416_UNSUPPORTED_URI, TAG_END());
		return false;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		sw_info("INVITE from %s with Max-Forwards 0: 483", ip);
		nta_msg_treply(agent, msg, SIP_483_TOO_MANY_HOPS, TAG_END());
		return false;
	}
	if (!sip->sip_contact || !sip->sip_contact->m_url->url_host) {
		sw_info("INVITE from %s without a Contact: 400", ip);
		nta_msg_treply(agent, msg, 400, "Missing Contact", TAG_END());
		return false;
	}
	return true;
}

/* an authenticated source: its TCP and TLS connections stay past the
 * unknown sources' grace */
static void vouch(struct sg *sg, const struct sockaddr *sa)
{
	sg_tcpguard_vouch(sg->tcpguard, sa, SG_VOUCH_MS);
	sg_tcpguard_vouch(sg->tcpguard_tls, sa, SG_VOUCH_MS);
}

static int agent_message(void *magic, nta_agent_t *agent, msg_t *msg,
			 sip_t *sip)
{
	struct sg *sg = magic;
	su_addrinfo_t *ai = msg_addrinfo(msg);
	const struct sockaddr *sa =
	    ai ? (const struct sockaddr *)(const void *)ai->ai_addr : NULL;
	const struct sg_mgw *mgw;
	char ip[64];
	sip_method_t method;
	bool vendor, trusted;

	if (sip && !sip->sip_request) {
		/* a response no transaction took: a retransmitted 2xx */
		sg_call_stray_response(agent, sip);
		msg_destroy(msg);
		return 0;
	}
	if (!sip || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq) {
		msg_destroy(msg);
		return 0;
	}
	method = sip->sip_request->rq_method;
	addr_str(ip, sizeof(ip), sa);
	mgw = sg_tables_mgw_by_addr(sg->tables, sa);
	vendor = is_vendor(sg->tables, ip);
	trusted = mgw || vendor;

	/* SPEC §8, before any other work, for a source that is neither a
	 * mapping nor a routing gateway: the blacklist and the rate limits
	 * (edge.h), then the scanner signatures; silence for all of them,
	 * whatever is asked (known and unknown users alike) */
	if (!trusted) {
		struct sg_edge_addr ea;
		enum sg_edge_verdict v = SG_EDGE_PASS;

		if (sg_edge_addr_sa(&ea, sa))
			v = sg_edge_check(sg->edge, &ea, sw_time_mono_ms());
		if (v == SG_EDGE_OVER_SOURCE)
			edge_fail(sg, ip, NULL, SG_EDGE_FAIL_RATE);
		if (v != SG_EDGE_PASS) {
			sw_debug("%s from %s: %s, dropped",
				 sip->sip_request->rq_method_name, ip,
				 v == SG_EDGE_BLACKLISTED ? "blacklisted"
							  : "over its rate");
			sg_tcpguard_reject(sg->tcpguard, agent, msg);
			msg_destroy(msg);
			return 0;
		}
		if (is_scanner(&sg->tables->params, sip)) {
			sw_debug("%s from %s: scanner signature, dropped",
				 sip->sip_request->rq_method_name, ip);
			edge_fail(sg, ip, NULL, SG_EDGE_FAIL_SCANNER);
			sg_tcpguard_reject(sg->tcpguard, agent, msg);
			msg_destroy(msg);
			return 0;
		}
	}

	if (trusted && sip->sip_via &&
	    msg_params_find(sip->sip_via->v_params, "alias")) {
		/* RFC 5923: a known peer's connection, offered for requests
		 * to it (alias.h) */
		tport_t *tp = nta_incoming_transport(agent, NULL, msg);

		sg_alias_learn(sg->alias, tp, sip->sip_via, ip);
		tport_unref(tp);
	}

	if (sg->stopping && sip->sip_to->a_tag) {
		/* a dialog of a call this process left up for the next start:
		 * no 481; the peer's retransmission reaches the next process */
		sw_debug("%s in a dialog left to the next start: dropped",
			 sip->sip_request->rq_method_name);
		msg_destroy(msg);
		return 0;
	}
	if (method == sip_method_register) {
		const struct sg_mgw *ph = password_mgw(sg->tables, sip, true);

		if (ph) {
			if (digest_ok(sg, agent, msg, sip, ph, true, ip,
				      trusted)) {
				vouch(sg, sa);
				do_register(sg, agent, msg, sip, ph, ip, sa);
			}
			return 0;
		}
		if (!trusted && takes_digest(sg->tables)) {
			unknown_user(sg, agent, msg, sip, true, ip);
			return 0;
		}
	} else if (!mgw && method == sip_method_invite && !sip->sip_to->a_tag) {
		const struct sg_mgw *dm = password_mgw(sg->tables, sip, false);

		if (dm) {
			if (!digest_ok(sg, agent, msg, sip, dm, false, ip,
				       trusted))
				return 0; /* challenged */
			vouch(sg, sa);
			mgw = dm;
		} else if (!vendor && takes_digest(sg->tables)) {
			unknown_user(sg, agent, msg, sip, false, ip);
			return 0;
		}
	}
	if (!mgw && !(method == sip_method_options && vendor)) {
		if (!trusted && method != sip_method_ack)
			edge_fail(sg, ip, NULL, SG_EDGE_FAIL_UNKNOWN);
		/* over TCP the connection goes too (SPEC §8) */
		sg_tcpguard_reject(sg->tcpguard, agent, msg);
		if (sg->tables->params.reply_unknown &&
		    method != sip_method_ack) {
			sw_info("%s from unknown source %s: 403",
				sip->sip_request->rq_method_name, ip);
			nta_msg_treply(agent, msg, SIP_403_FORBIDDEN,
				       TAG_END());
		} else {
			sw_debug("%s from unknown source %s dropped",
				 sip->sip_request->rq_method_name, ip);
			msg_destroy(msg);
		}
		return 0;
	}

	switch (method) {
	case sip_method_options:
		nta_msg_treply(agent, msg, SIP_200_OK,
			       SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, "
						"OPTIONS, INFO, UPDATE"),
			       TAG_END());
		break;
	case sip_method_invite:
		if (sip->sip_to->a_tag) {
			nta_msg_treply(agent, msg, SIP_481_NO_TRANSACTION,
				       TAG_END());
			break;
		}
		if (!invite_fit(agent, msg, sip, ip))
			break;
		sg_call_incoming(sg, msg, sip, mgw, ip);
		break;
	case sip_method_ack:
		msg_destroy(msg);
		break;
	case sip_method_bye:
	case sip_method_cancel:
		nta_msg_treply(agent, msg, SIP_481_NO_TRANSACTION, TAG_END());
		break;
	default:
		nta_msg_treply(agent, msg, SIP_501_NOT_IMPLEMENTED, TAG_END());
		break;
	}
	return 0;
}

/*
 * A TCP source that is a gateway: a mapping gateway's address (ip or
 * ip_port mode; the port of a TCP connection is the client's choice) or a
 * routing gateway's.  Phones and password gateways are vouched for once
 * they authenticate.
 */
static bool tcp_trusted(const struct sockaddr *sa, void *arg)
{
	const struct sg *sg = arg;
	const struct sg_tables *t = sg->tables;
	char ip[64];

	for (size_t i = 0; t && i < t->nmgws; i++) {
		const struct sg_mgw *m = &t->mgws[i];

		if (strcmp(m->auth_mode, "ip") &&
		    strcmp(m->auth_mode, "ip_port"))
			continue;
		for (size_t j = 0; j < m->nnets; j++)
			if (sg_cidr_match(&m->nets[j], sa))
				return true;
	}
	addr_str(ip, sizeof(ip), sa);
	return is_vendor(t, ip);
}

/* sip_listen's port */
static unsigned listen_port(const char *hostport)
{
	const char *c = strrchr(hostport, ':');
	const char *b = strrchr(hostport, ']');

	if (!c || (b && c < b))
		return 5060;
	return (unsigned)strtoul(c + 1, NULL, 10);
}

/*
 * Replaces libsofia-sip-ua's su_root_yield() (the dynamic linker binds the
 * library's calls to this definition, as with epoll_wait() in loopwait.c):
 * reading sockets from inside a callback is switched off.
 *
 * The installed sofia-sip (Debian's 1.12.11 snapshot of 2011, nta.c) has
 * only one caller of it that matters here: the agent timer runs the client
 * transaction timers first, and these yield after every fifth
 * retransmission to handle received packets.  A packet handled there ends
 * in agent_recv_message(), which zeroes the agent's cached clock
 * (sa_millisec); the server transaction timers that run next take that 0
 * as "now".  Their times are milliseconds of sofia's NTP-based clock, 32
 * bits: while its top bit is set (25 days out of 50) every timer then looks
 * expired.  Timers H and I free the INVITE transactions that absorb
 * retransmissions (a retransmitted INVITE becomes a new call, or a
 * re-INVITE), Timer H ends answered calls not yet ACKed (AckTimeout), Timer
 * G sends a final response up to 30 times.  Under load (many requests of
 * ours retransmitted) such runs came several times a second in
 * bench/sip_cps.  (Fixed in later sofia-sip: the timers read the clock
 * themselves.)
 *
 * Without the yield, packets wait for the end of the timer run, which is
 * bounded (30 retransmissions, 100 timeouts).  signalingd has no other
 * caller (no nua, no nea).
 */
int su_root_yield(su_root_t *root)
{
	(void)root;
	return 0;
}

/*
 * Bind sip_listen (UDP and TCP) and start taking requests.  The UDP
 * socket's receive buffer is SG_SIP_UDP_RMEM (the kernel caps it at
 * net.core.rmem_max): a flood shares the socket with the gateways, and a
 * short stall of the loop must not overflow it and drop their packets
 * before the edge layer has seen a single one.
 */
int sg_sip_start(struct sg *sg, char *err, size_t errsz)
{
	char url[160];
	int64_t nofile = 0, room = sg_tcpguard_raise_nofile(&nofile);
	struct sg_tcpguard_conf gc = {
	    sg->cfg.tcp_max_connections, sg->cfg.tcp_max_per_source,
	    sg->cfg.tcp_unknown_grace_ms, sg->cfg.tcp_idle_timeout_ms};
	int e;

	snprintf(url, sizeof(url), "sip:%s", sg->cfg.sip_listen);
	sg_tcpguard_sofia_log(); /* before sofia logs anything */
	/* parse Remote-Party-ID, P-Asserted-Identity & co. as headers */
	sip_update_default_mclass(sip_extend_mclass(NULL));
	sg->agent = nta_agent_create(
	    sg->root, URL_STRING_MAKE(url), agent_message, sg, NTATAG_UA(1),
	    NTATAG_CANCEL_487(0), NTATAG_SERVER_RPORT(1), NTATAG_PASS_100(0),
	    NTATAG_TIMEOUT_408(1), NTATAG_EXTRA_100(0), NTATAG_MAXSIZE(65536),
	    TPTAG_UDP_RMEM(SG_SIP_UDP_RMEM),
	    TPTAG_TOS((int)sg->tables->params.qos_signal << 2),
	    TPTAG_IDLE((unsigned)sg->cfg.tcp_idle_timeout_ms),
	    /* also the listen backlog: a burst of reconnects waits in the
	     * kernel instead of retrying its SYNs for seconds */
	    TPTAG_QUEUESIZE(SG_SIP_TCP_BACKLOG),
	    TPTAG_TIMEOUT((unsigned)sg->cfg.tcp_msg_timeout_ms), TAG_END());
	if (!sg->agent) {
		snprintf(err, errsz, "cannot listen on %s: %s", url,
			 strerror(errno));
		return EADDRNOTAVAIL;
	}
	sw_info("SIP listening on %s", url);
	if (sg->cfg.sip_tls_listen[0]) {
		char c[300];

		/* SIP over TLS (RFC 3261 26.2): peers need no certificate
		 * of their own; mapping gateways are still known by address */
		snprintf(url, sizeof(url), "sips:%s", sg->cfg.sip_tls_listen);
		/* sofia-sip would listen without a certificate and fail
		 * every handshake: refuse to start instead */
		snprintf(c, sizeof(c), "%s/agent.pem", sg->cfg.sip_tls_dir);
		if (access(c, R_OK)) {
			snprintf(err, errsz,
				 "sip_tls_listen: cannot read %s (the "
				 "certificate and key, PEM): %s",
				 c, strerror(errno));
			return ENOENT;
		}
		if (nta_agent_add_tport(
			sg->agent, URL_STRING_MAKE(url),
			TPTAG_CERTIFICATE(sg->cfg.sip_tls_dir),
			TPTAG_TLS_VERIFY_POLICY(sg->cfg.sip_tls_verify_gateways
						    ? TPTLS_VERIFY_SUBJECTS_OUT
						    : TPTLS_VERIFY_NONE),
			TPTAG_IDLE((unsigned)sg->cfg.tcp_idle_timeout_ms),
			TPTAG_TIMEOUT((unsigned)sg->cfg.tcp_msg_timeout_ms),
			TAG_END()) < 0) {
			snprintf(err, errsz,
				 "cannot listen on %s (certificate in %s: "
				 "agent.pem, cafile.pem): %s",
				 url, sg->cfg.sip_tls_dir, strerror(errno));
			return EADDRNOTAVAIL;
		}
		snprintf(c, sizeof(c), "<sip:%s;transport=tls>",
			 sg->cfg.sip_tls_listen);
		sg->tls_contact = sip_contact_make(NULL, c);
		sw_info("SIP listening on %s", url);
	}
	if (gc.max_total > room) {
		sw_warn("tcp_max_connections %lld lowered to %lld: "
			"RLIMIT_NOFILE is %lld",
			(long long)gc.max_total, (long long)room,
			(long long)nofile);
		gc.max_total = room;
	}
	e = sg_tcpguard_alloc(&sg->tcpguard, sg->root, &gc,
			      listen_port(sg->cfg.sip_listen), tcp_trusted, sg);
	/* the TLS port's connections are held in the same bounds, counted
	 * on their own (a TLS flood does not crowd out TCP gateways) */
	if (!e && sg->cfg.sip_tls_listen[0])
		e = sg_tcpguard_alloc(&sg->tcpguard_tls, sg->root, &gc,
				      listen_port(sg->cfg.sip_tls_listen),
				      tcp_trusted, sg);
	if (e) {
		snprintf(err, errsz, "TCP guard: %s", strerror(e));
		return e;
	}
	return 0;
}

/* Apply parameters that can change on reload (DSCP of new sockets). */
void sg_sip_params(struct sg *sg)
{
	if (sg->agent)
		nta_agent_set_params(
		    sg->agent,
		    TPTAG_TOS((int)sg->tables->params.qos_signal << 2),
		    TAG_END());
}

void sg_sip_stop(struct sg *sg)
{
	su_free(NULL, sg->tls_contact);
	sg->tls_contact = NULL;
	sg_tcpguard_free(sg->tcpguard);
	sg->tcpguard = NULL;
	sg_tcpguard_free(sg->tcpguard_tls);
	sg->tcpguard_tls = NULL;
	if (sg->agent) {
		nta_agent_destroy(sg->agent);
		sg->agent = NULL;
	}
}
