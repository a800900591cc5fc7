/*
 * firewall.c - `tandemctl firewall`: this host's packet filter (SPEC §8)
 *
 * Renders an nftables ruleset (default), or with --iptables / --ip6tables an
 * iptables-restore script, from
 *   - the database: mapping gateways' ips, routing gateways' addresses
 *     (names resolved now), SERVER_WEB_ACCESS_LIST (the admin addresses)
 *     and the live rows of the blacklist table;
 *   - the daemons' config files in --conf-dir (default /etc/tandem):
 *     signalingd*.conf, billingd*.conf, mediaproxyd*.conf, read with the
 *     daemons' own config tables: SIP port, bus listen ports, HTTP port,
 *     each media node's RTP range, and the bus peers named by dial URLs;
 *   - the command line: --admin LIST, --peer LIST, --ssh-port, --sip-tls-port,
 *     --sip-trusted-only.
 *
 * Rule order: established/related and loopback; invalid dropped; blacklist
 * dropped; ICMP; trusted sources accepted on the ports of their role (bus
 * peers: bus ports; gateways: SIP and RTP; admin: HTTP and SSH); SIP
 * (UDP, TCP, TLS) and the RTP ranges from anyone; everything else dropped.
 * docs/decisions.md says why SIP and RTP stay open to unknown sources.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "billingd/config.h"
#include "common/bus.h"
#include "mediaproxy/config.h"
#include "model/model.h"
#include "signaling/config.h"
#include "tools/ctl.h"
#include "tools/fwnet.h"

#define FW_MAX_PORTS 64

struct fw_range {
	uint16_t lo, hi;
};

struct fw_ports {
	struct fw_range v[FW_MAX_PORTS];
	size_t n;
};

/* everything the ruleset is made of */
struct fw {
	struct tc_fwset blacklist, gateways, peers, admin;
	struct fw_ports sip, sip_tls, bus, http, ssh, rtp;
	int nconf;
};

static int ports_add(struct fw_ports *p, unsigned lo, unsigned hi)
{
	size_t i;

	if (!lo || lo > hi || hi > 65535)
		return EINVAL;
	for (i = 0; i < p->n; i++)
		if (p->v[i].lo == lo && p->v[i].hi == hi)
			return 0;
	if (p->n == FW_MAX_PORTS) {
		fprintf(stderr, "tandemctl: firewall: more than %d ports\n",
			FW_MAX_PORTS);
		return ENOSPC;
	}
	p->v[p->n].lo = (uint16_t)lo;
	p->v[p->n].hi = (uint16_t)hi;
	p->n++;
	return 0;
}

static int add_net(struct tc_fwset *set, const char *s, size_t len, int64_t ttl,
		   const char *what)
{
	struct tc_fwnet n;

	if (tc_fwnet_parse(&n, s, len)) {
		fprintf(stderr,
			"tandemctl: firewall: %s: '%.*s' is not an IP "
			"address or CIDR\n",
			what, (int)len, s);
		return EINVAL;
	}
	n.ttl_s = ttl;
	return tc_fwset_add(set, &n);
}

/* a comma-separated list of addresses and CIDRs (blank entries skipped) */
static int add_list(struct tc_fwset *set, const char *list, const char *what)
{
	const char *s = list;

	while (s && *s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		size_t k;
		int e;

		for (k = 0; k < len && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		if (k < len) {
			e = add_net(set, s, len, 0, what);
			if (e)
				return e;
		}
		s = comma ? comma + 1 : NULL;
	}
	return 0;
}

/*
 * An address or a DNS name (every A/AAAA record).  local: skip loopback
 * and wildcard addresses (a bus URL on 127.0.0.1 needs no rule).
 */
static int add_host(struct tc_fwset *set, const char *host, bool local,
		    const char *what)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	struct tc_fwnet n;
	int e;

	if (!*host || !strcmp(host, "*"))
		return 0;
	if (!tc_fwnet_parse(&n, host, strlen(host))) {
		if (local && tc_fwnet_is_local(&n))
			return 0;
		return tc_fwset_add(set, &n);
	}
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(host, NULL, &hints, &res);
	if (e) {
		fprintf(stderr,
			"tandemctl: firewall: %s: cannot resolve %s: %s\n",
			what, host, gai_strerror(e));
		return ENOENT;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char a[INET6_ADDRSTRLEN];
		const void *p =
		    ai->ai_family == AF_INET
			? (const void *)&(
			      (struct sockaddr_in *)(void *)ai->ai_addr)
			      ->sin_addr
			: (const void *)&(
			      (struct sockaddr_in6 *)(void *)ai->ai_addr)
			      ->sin6_addr;

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (!inet_ntop(ai->ai_family, p, a, sizeof(a)) ||
		    tc_fwnet_parse(&n, a, strlen(a)))
			continue;
		if (local && tc_fwnet_is_local(&n))
			continue;
		e = tc_fwset_add(set, &n);
		if (e)
			break;
	}
	freeaddrinfo(res);
	return e;
}

/* a listening nng URL: its port is a bus port */
static int add_bus_listen(struct fw *fw, const char *path, const char *key,
			  const char *url)
{
	char host[256];
	int port;
	int e = sw_bus_url_hostport(url, host, sizeof(host), &port);

	if (e == ENOENT)
		return 0;
	if (e || !port) {
		fprintf(stderr,
			"tandemctl: firewall: %s: %s: '%s' is not a bus URL "
			"with a port\n",
			path, key, url);
		return EINVAL;
	}
	return ports_add(&fw->bus, (unsigned)port, (unsigned)port);
}

/* a dialled nng URL: its host is a bus peer */
struct peer_walk {
	struct fw *fw;
	const char *path, *key;
};

static int add_bus_peer(const char *url, void *arg)
{
	struct peer_walk *w = arg;
	char host[256], what[300];
	int port;
	int e = sw_bus_url_hostport(url, host, sizeof(host), &port);

	if (e == ENOENT)
		return 0;
	if (e) {
		fprintf(stderr,
			"tandemctl: firewall: %s: %s: '%s' is not a bus URL\n",
			w->path, w->key, url);
		return EINVAL;
	}
	snprintf(what, sizeof(what), "%s: %s", w->path, w->key);
	return add_host(&w->fw->peers, host, true, what);
}

/* every URL of a key's comma-separated list is a peer */
static int add_bus_peers(struct fw *fw, const char *path, const char *key,
			 const char *list)
{
	struct peer_walk w = {fw, path, key};

	return sw_bus_url_each(list, add_bus_peer, &w);
}

static int listen_port(struct fw_ports *p, const char *path, const char *key,
		       const char *hostport)
{
	char host[256];
	uint16_t port;

	if (tc_fw_hostport(hostport, host, sizeof(host), &port)) {
		fprintf(stderr,
			"tandemctl: firewall: %s: %s: '%s' is not ip:port\n",
			path, key, hostport);
		return EINVAL;
	}
	return ports_add(p, port, port);
}

static int read_signalingd(struct fw *fw, const char *path)
{
	struct sg_config c;
	char err[512];
	int e;

	e = sg_config_load(&c, path, err, sizeof(err));
	if (e) {
		fprintf(stderr, "tandemctl: firewall: %s\n", err);
		return e;
	}
	e = listen_port(&fw->sip, path, "sip_listen", c.sip_listen);
	if (!e && c.sip_tls_listen[0])
		e = listen_port(&fw->sip_tls, path, "sip_tls_listen",
				c.sip_tls_listen);
	if (!e)
		e = add_bus_listen(fw, path, "bus_events", c.bus_events);
	if (!e)
		e = add_bus_listen(fw, path, "bus_control", c.bus_control);
	if (!e)
		e = add_bus_peers(fw, path, "billing_url", c.billing_url);
	if (!e)
		e = add_bus_peers(fw, path, "media_nodes", c.media_nodes);
	return e;
}

static int read_billingd(struct fw *fw, const char *path)
{
	struct bd_conf c;
	char err[512];
	int e;

	e = bd_conf_load(&c, path, err, sizeof(err));
	if (e) {
		fprintf(stderr, "tandemctl: firewall: %s\n", err);
		return e;
	}
	e = add_bus_listen(fw, path, "bus_listen", c.bus_listen);
	if (!e)
		e = listen_port(&fw->http, path, "http_listen", c.http_listen);
	if (!e)
		e = add_bus_peers(fw, path, "signaling_url", c.signaling_url);
	return e;
}

static int read_mediaproxyd(struct fw *fw, const char *path)
{
	struct mp_conf c;
	char err[512];
	int e;

	e = mp_conf_load(&c, path, err, sizeof(err));
	if (e) {
		fprintf(stderr, "tandemctl: firewall: %s\n", err);
		return e;
	}
	e = add_bus_listen(fw, path, "bus_listen", c.bus_listen);
	if (!e)
		e = ports_add(&fw->rtp, (unsigned)c.port_min,
			      (unsigned)c.port_max);
	if (!e)
		e = add_bus_peers(fw, path, "signaling_url", c.signaling_url);
	return e;
}

static int read_confs(struct fw *fw, const char *dir)
{
	static const struct {
		const char *pattern;
		int (*read)(struct fw *fw, const char *path);
	} kinds[] = {
	    {"signalingd*.conf", read_signalingd},
	    {"billingd*.conf", read_billingd},
	    {"mediaproxyd*.conf", read_mediaproxyd},
	};
	size_t k, i;
	int e = 0;

	for (k = 0; !e && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char pat[1024];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/%s", dir, kinds[k].pattern);
		if (glob(pat, 0, NULL, &g))
			continue;
		for (i = 0; !e && i < g.gl_pathc; i++) {
			e = kinds[k].read(fw, g.gl_pathv[i]);
			fw->nconf++;
		}
		globfree(&g);
	}
	if (!e && !fw->nconf) {
		fprintf(stderr,
			"tandemctl: firewall: no signalingd*.conf, "
			"billingd*.conf or mediaproxyd*.conf in %s "
			"(--conf-dir)\n",
			dir);
		e = ENOENT;
	}
	return e;
}

static PGresult *query(PGconn *conn, const char *sql)
{
	char err[512];
	PGresult *res = md_pq_exec(conn, sql, 0, NULL, err, sizeof(err));

	if (!res)
		fprintf(stderr, "tandemctl: firewall: %s\n", err);
	return res;
}

static int read_db(struct fw *fw, PGconn *conn)
{
	PGresult *res;
	int i, e = 0, col, ttl;

	res = query(conn, "SELECT g.name, x.ip FROM mapping_gateways g, "
			  "unnest(g.ips) AS x(ip) ORDER BY g.id");
	if (!res)
		return EIO;
	col = PQfnumber(res, "ip");
	for (i = 0; !e && i < PQntuples(res); i++) {
		const char *ip = PQgetvalue(res, i, col);

		e = add_net(&fw->gateways, ip, strlen(ip), 0,
			    "mapping gateway ips");
	}
	PQclear(res);
	if (e)
		return e;

	res = query(conn, "SELECT name, address FROM routing_gateways "
			  "ORDER BY id");
	if (!res)
		return EIO;
	col = PQfnumber(res, "address");
	for (i = 0; !e && i < PQntuples(res); i++)
		e = add_host(&fw->gateways, PQgetvalue(res, i, col), false,
			     "routing gateway address");
	PQclear(res);
	if (e)
		return e;

	res = query(conn, "SELECT value FROM system_parameters WHERE name = "
			  "'SERVER_WEB_ACCESS_LIST'");
	if (!res)
		return EIO;
	if (PQntuples(res))
		e = add_list(&fw->admin,
			     PQgetvalue(res, 0, PQfnumber(res, "value")),
			     "SERVER_WEB_ACCESS_LIST");
	PQclear(res);
	if (e)
		return e;

	/* seconds left, rounded up: the kernel lets the entry expire */
	res =
	    query(conn, "SELECT host(ip) || '/' || masklen(ip) AS net, "
			"CASE WHEN expires_at IS NULL THEN 0 ELSE greatest(1, "
			"ceil(extract(epoch FROM expires_at - now())))::bigint "
			"END AS ttl FROM blacklist WHERE expires_at IS NULL OR "
			"expires_at > now() ORDER BY ip");
	if (!res)
		return EIO;
	col = PQfnumber(res, "net");
	ttl = PQfnumber(res, "ttl");
	for (i = 0; !e && i < PQntuples(res); i++) {
		const char *net = PQgetvalue(res, i, col);

		e = add_net(&fw->blacklist, net, strlen(net),
			    strtoll(PQgetvalue(res, i, ttl), NULL, 10),
			    "blacklist");
	}
	PQclear(res);
	return e;
}

/* ---------------------------------------------------------------- nftables */

static void nft_set(FILE *f, const char *name, const struct tc_fwset *set,
		    int af, bool timeout)
{
	const char *sep = "";
	char a[INET6_ADDRSTRLEN + 8];
	size_t i;

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval%s\n", name,
		af == AF_INET ? "ipv4_addr" : "ipv6_addr",
		timeout ? ", timeout" : "");
	if (tc_fwset_count(set, af)) {
		fprintf(f, "\t\telements = {");
		for (i = 0; i < set->n; i++) {
			if (set->v[i].af != af ||
			    tc_fwnet_print(&set->v[i], a, sizeof(a)))
				continue;
			fprintf(f, "%s\n\t\t\t%s", sep, a);
			if (set->v[i].ttl_s)
				fprintf(f, " timeout %llds",
					(long long)set->v[i].ttl_s);
			sep = ",";
		}
		fprintf(f, "\n\t\t}\n");
	}
	fprintf(f, "\t}\n");
}

/* "{ 5060, 10000-20000 }" */
static void nft_ports(FILE *f, const struct fw_ports *p)
{
	size_t i;

	fprintf(f, "{ ");
	for (i = 0; i < p->n; i++) {
		fprintf(f, "%s%u", i ? ", " : "", p->v[i].lo);
		if (p->v[i].hi != p->v[i].lo)
			fprintf(f, "-%u", p->v[i].hi);
	}
	fprintf(f, " }");
}

/* one rule per family: "<ip|ip6> saddr @SET{4,6} PROTO dport { } accept" */
static void nft_from(FILE *f, const char *set, const struct tc_fwset *s,
		     const char *proto, const struct fw_ports *p)
{
	if (!p->n)
		return;
	if (!s) {
		fprintf(f, "\t\t%s dport ", proto);
		nft_ports(f, p);
		fprintf(f, " accept\n");
		return;
	}
	if (tc_fwset_count(s, AF_INET)) {
		fprintf(f, "\t\tip saddr @%s4 %s dport ", set, proto);
		nft_ports(f, p);
		fprintf(f, " accept\n");
	}
	if (tc_fwset_count(s, AF_INET6)) {
		fprintf(f, "\t\tip6 saddr @%s6 %s dport ", set, proto);
		nft_ports(f, p);
		fprintf(f, " accept\n");
	}
}

/*
 * New TCP connections to the SIP ports from one untrusted address beyond
 * cap are dropped (conntrack counts them; closed ones stop counting).
 */
static void nft_tcp_cap(FILE *f, const struct fw *fw, unsigned cap)
{
	struct fw_ports tcp = fw->sip;
	size_t i;

	for (i = 0; i < fw->sip_tls.n; i++)
		(void)ports_add(&tcp, fw->sip_tls.v[i].lo, fw->sip_tls.v[i].hi);
	if (!tcp.n)
		return;
	fprintf(f, "\t\ttcp dport ");
	nft_ports(f, &tcp);
	fprintf(f,
		" ct state new add @sip_tcp4 { ip saddr ct count over %u } "
		"drop\n",
		cap);
	fprintf(f, "\t\ttcp dport ");
	nft_ports(f, &tcp);
	fprintf(f,
		" ct state new add @sip_tcp6 { ip6 saddr ct count over %u "
		"} drop\n",
		cap);
}

static void render_nft(FILE *f, const struct fw *fw, const struct tc_opts *o,
		       bool admin_any)
{
	static const struct {
		const char *name;
		size_t off;
		bool timeout;
	} sets[] = {
	    {"blacklist", offsetof(struct fw, blacklist), true},
	    {"peers", offsetof(struct fw, peers), false},
	    {"gateways", offsetof(struct fw, gateways), false},
	    {"admin", offsetof(struct fw, admin), false},
	};
	const struct tc_fwset *admin = admin_any ? NULL : &fw->admin;
	size_t i;

	fprintf(f, "table inet tandem\n"
		   "delete table inet tandem\n"
		   "table inet tandem {\n");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		const struct tc_fwset *s =
		    (const void *)((const char *)fw + sets[i].off);
		char name[32];

		snprintf(name, sizeof(name), "%s4", sets[i].name);
		nft_set(f, name, s, AF_INET, sets[i].timeout);
		snprintf(name, sizeof(name), "%s6", sets[i].name);
		nft_set(f, name, s, AF_INET6, sets[i].timeout);
	}
	if (o->sip_tcp_cap)
		fprintf(f, "\tset sip_tcp4 {\n\t\ttype ipv4_addr\n\t\tsize "
			   "65535\n\t\tflags dynamic\n\t}\n"
			   "\tset sip_tcp6 {\n\t\ttype ipv6_addr\n\t\tsize "
			   "65535\n\t\tflags dynamic\n\t}\n");
	fprintf(f, "\tchain input {\n"
		   "\t\ttype filter hook input priority filter; policy drop;\n"
		   "\t\tct state established,related accept\n"
		   "\t\tct state invalid drop\n"
		   "\t\tiif \"lo\" accept\n"
		   "\t\tip saddr @blacklist4 drop\n"
		   "\t\tip6 saddr @blacklist6 drop\n"
		   "\t\tmeta l4proto { icmp, ipv6-icmp } accept\n");
	fprintf(f, "\t\t# bus peers: bus ports\n");
	nft_from(f, "peers", &fw->peers, "tcp", &fw->bus);
	fprintf(f, "\t\t# gateways: SIP and RTP\n");
	nft_from(f, "gateways", &fw->gateways, "udp", &fw->sip);
	nft_from(f, "gateways", &fw->gateways, "tcp", &fw->sip);
	nft_from(f, "gateways", &fw->gateways, "tcp", &fw->sip_tls);
	nft_from(f, "gateways", &fw->gateways, "udp", &fw->rtp);
	fprintf(f, "\t\t# admin: HTTP API and web manager, SSH%s\n",
		admin_any ? " (SERVER_WEB_ACCESS_LIST is empty: anyone)" : "");
	nft_from(f, "admin", admin, "tcp", &fw->http);
	nft_from(f, "admin", admin, "tcp", &fw->ssh);
	if (!o->sip_trusted_only) {
		fprintf(f, "\t\t# anyone: SIP (signalingd's edge layer "
			   "answers or drops), RTP\n");
		if (o->sip_tcp_cap)
			nft_tcp_cap(f, fw, o->sip_tcp_cap);
		nft_from(f, NULL, NULL, "udp", &fw->sip);
		nft_from(f, NULL, NULL, "tcp", &fw->sip);
		nft_from(f, NULL, NULL, "tcp", &fw->sip_tls);
	} else {
		fprintf(f, "\t\t# anyone: RTP (--sip-trusted-only)\n");
	}
	nft_from(f, NULL, NULL, "udp", &fw->rtp);
	fprintf(f, "\t\tcounter comment \"dropped by policy\"\n"
		   "\t}\n"
		   "}\n");
}

/* ---------------------------------------------------------- iptables-restore
 */

static void ipt_rule(FILE *f, const char *src, const char *proto,
		     const struct fw_range *r)
{
	fprintf(f, "-A INPUT%s%s -p %s --dport %u", src ? " -s " : "",
		src ? src : "", proto, r->lo);
	if (r->hi != r->lo)
		fprintf(f, ":%u", r->hi);
	fprintf(f, " -j ACCEPT\n");
}

static void ipt_from(FILE *f, const struct tc_fwset *s, int af,
		     const char *proto, const struct fw_ports *p)
{
	char a[INET6_ADDRSTRLEN + 8];
	size_t i, k;

	for (k = 0; k < p->n; k++) {
		if (!s) {
			ipt_rule(f, NULL, proto, &p->v[k]);
			continue;
		}
		for (i = 0; i < s->n; i++)
			if (s->v[i].af == af &&
			    !tc_fwnet_print(&s->v[i], a, sizeof(a)))
				ipt_rule(f, a, proto, &p->v[k]);
	}
}

/* the iptables form of nft_tcp_cap() */
static void ipt_tcp_cap(FILE *f, const struct fw *fw, int af, unsigned cap)
{
	struct fw_ports tcp = fw->sip;
	const char *sep = "";
	size_t i;

	for (i = 0; i < fw->sip_tls.n; i++)
		(void)ports_add(&tcp, fw->sip_tls.v[i].lo, fw->sip_tls.v[i].hi);
	if (!tcp.n)
		return;
	fprintf(f, "-A INPUT -p tcp --syn -m multiport --dports ");
	for (i = 0; i < tcp.n && i < 15; i++) {
		fprintf(f, "%s%u", sep, tcp.v[i].lo);
		sep = ",";
	}
	fprintf(f,
		" -m connlimit --connlimit-above %u --connlimit-mask %d "
		"-j DROP\n",
		cap, af == AF_INET ? 32 : 128);
}

static void render_ipt(FILE *f, const struct fw *fw, int af,
		       const struct tc_opts *o, bool admin_any)
{
	const struct tc_fwset *admin = admin_any ? NULL : &fw->admin;
	char a[INET6_ADDRSTRLEN + 8];
	size_t i;

	fprintf(f, "*filter\n"
		   ":INPUT DROP [0:0]\n"
		   ":FORWARD ACCEPT [0:0]\n"
		   ":OUTPUT ACCEPT [0:0]\n"
		   "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED "
		   "-j ACCEPT\n"
		   "-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
		   "-A INPUT -i lo -j ACCEPT\n");
	for (i = 0; i < fw->blacklist.n; i++) {
		const struct tc_fwnet *n = &fw->blacklist.v[i];

		if (n->af != af || tc_fwnet_print(n, a, sizeof(a)))
			continue;
		if (n->ttl_s)
			fprintf(f, "# blacklisted for %llds more\n",
				(long long)n->ttl_s);
		fprintf(f, "-A INPUT -s %s -j DROP\n", a);
	}
	fprintf(f, "-A INPUT -p %s -j ACCEPT\n",
		af == AF_INET ? "icmp" : "ipv6-icmp");
	fprintf(f, "# bus peers: bus ports\n");
	ipt_from(f, &fw->peers, af, "tcp", &fw->bus);
	fprintf(f, "# gateways: SIP and RTP\n");
	ipt_from(f, &fw->gateways, af, "udp", &fw->sip);
	ipt_from(f, &fw->gateways, af, "tcp", &fw->sip);
	ipt_from(f, &fw->gateways, af, "tcp", &fw->sip_tls);
	ipt_from(f, &fw->gateways, af, "udp", &fw->rtp);
	fprintf(f, "# admin: HTTP API and web manager, SSH%s\n",
		admin_any ? " (SERVER_WEB_ACCESS_LIST is empty: anyone)" : "");
	ipt_from(f, admin, af, "tcp", &fw->http);
	ipt_from(f, admin, af, "tcp", &fw->ssh);
	if (!o->sip_trusted_only) {
		fprintf(f, "# anyone: SIP, RTP\n");
		if (o->sip_tcp_cap)
			ipt_tcp_cap(f, fw, af, o->sip_tcp_cap);
		ipt_from(f, NULL, af, "udp", &fw->sip);
		ipt_from(f, NULL, af, "tcp", &fw->sip);
		ipt_from(f, NULL, af, "tcp", &fw->sip_tls);
	} else {
		fprintf(f, "# anyone: RTP (--sip-trusted-only)\n");
	}
	ipt_from(f, NULL, af, "udp", &fw->rtp);
	fprintf(f, "COMMIT\n");
}

static void header(FILE *f, const struct fw *fw, const struct tc_opts *o,
		   const char *dir, bool admin_any)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f,
		"# generated by tandemctl firewall at %s\n"
		"# from %d config file(s) in %s and the database; %zu "
		"gateway, %zu bus peer, %zu admin, %zu blacklist entries\n",
		when, fw->nconf, dir, fw->gateways.n, fw->peers.n, fw->admin.n,
		fw->blacklist.n);
	if (admin_any)
		fprintf(f, "# WARNING: no admin addresses: HTTP and SSH are "
			   "open to every address\n");
	if (o->fw_format == TC_FW_NFT)
		fprintf(f, "# load: nft -f FILE (replaces table inet tandem "
			   "only)\n");
	else
		fprintf(f,
			"# load: %s-restore < FILE (replaces the filter "
			"table)\n",
			o->fw_format == TC_FW_IPT6 ? "ip6tables" : "iptables");
}

/*
 * tandemctl firewall: print the ruleset on stdout.  0, 1 (reported on
 * stderr; nothing printed), 2 usage.
 */
int tc_cmd_firewall(const struct tc_opts *o)
{
	const char *dir = o->conf_dir ? o->conf_dir : "/etc/tandem";
	struct fw fw;
	PGconn *conn;
	bool admin_any;
	int e;

	memset(&fw, 0, sizeof(fw));
	e = read_confs(&fw, dir);
	if (!e && o->sip_tls_port)
		e = ports_add(&fw.sip_tls, o->sip_tls_port, o->sip_tls_port);
	if (!e && o->ssh_port)
		e = ports_add(&fw.ssh, o->ssh_port, o->ssh_port);
	if (!e && o->fw_peers)
		e = add_list(&fw.peers, o->fw_peers, "--peer");
	if (!e && o->fw_admin)
		e = add_list(&fw.admin, o->fw_admin, "--admin");
	if (e)
		goto out;

	conn = tc_db_connect(o);
	if (!conn) {
		e = EIO;
		goto out;
	}
	e = read_db(&fw, conn);
	PQfinish(conn);
	if (e)
		goto out;

	admin_any = fw.admin.n == 0;
	if (admin_any)
		fprintf(stderr,
			"tandemctl: firewall: warning: no admin addresses "
			"(SERVER_WEB_ACCESS_LIST, --admin): HTTP and SSH "
			"are open to every address\n");
	header(stdout, &fw, o, dir, admin_any);
	if (o->fw_format == TC_FW_NFT)
		render_nft(stdout, &fw, o, admin_any);
	else
		render_ipt(stdout, &fw,
			   o->fw_format == TC_FW_IPT6 ? AF_INET6 : AF_INET, o,
			   admin_any);
	if (fflush(stdout))
		e = EIO;
out:
	tc_fwset_free(&fw.blacklist);
	tc_fwset_free(&fw.gateways);
	tc_fwset_free(&fw.peers);
	tc_fwset_free(&fw.admin);
	return e ? 1 : 0;
}
