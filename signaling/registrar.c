/*
 * registrar.c - where registered phones are (signaling/registrar.h)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ntab.h"
#include "signaling/registrar.h"
#include "signaling/sofia.h"

struct sg_registrar {
	struct sw_ntab *phones; /* owned: struct reg by number */
};

struct reg {
	char contact[256];
	int64_t expires_ms; /* monotonic */
};

/** No phone registered yet. */
int sg_registrar_alloc(struct sg_registrar **rp)
{
	struct sg_registrar *r;
	int err;

	if (!rp)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	err = sw_ntab_alloc(&r->phones, sizeof(struct reg), NULL);
	if (err) {
		free(r);
		return err;
	}
	*rp = r;
	return 0;
}

/** Forget every registration (NULL is fine). */
void sg_registrar_free(struct sg_registrar *r)
{
	if (!r)
		return;
	sw_ntab_free(r->phones);
	free(r);
}

/** Store or refresh number's contact until expires_ms (monotonic). */
int sg_registrar_set(struct sg_registrar *r, const char *number,
		     const char *contact, int64_t expires_ms)
{
	struct reg *g;

	if (!r || !number || !contact)
		return EINVAL;
	g = sw_ntab_get(r->phones, number, NULL);
	if (!g)
		return ENOMEM;
	snprintf(g->contact, sizeof(g->contact), "%s", contact);
	g->expires_ms = expires_ms;
	return 0;
}

/** number's contact while registered at now_ms; false when not */
bool sg_registrar_contact(struct sg_registrar *r, const char *number,
			  int64_t now_ms, char *out, size_t size)
{
	const struct reg *g =
	    r && number ? sw_ntab_find(r->phones, number) : NULL;

	if (!g || g->expires_ms <= now_ms || !g->contact[0])
		return false;
	snprintf(out, size, "%s", g->contact);
	return true;
}

/** Whether number has a registration (expired or not). */
bool sg_registrar_has(struct sg_registrar *r, const char *number)
{
	return r && number && sw_ntab_find(r->phones, number);
}

/** Remove number's registration (absent is fine). */
void sg_registrar_del(struct sg_registrar *r, const char *number)
{
	if (r)
		sw_ntab_del(r->phones, number);
}

struct sweep {
	struct sw_ntab *tab;
	int64_t now_ms;
};

static bool sweep_h(const char *name, void *entry, void *arg)
{
	const struct reg *g = entry;
	const struct sweep *s = arg;

	if (g->expires_ms <= s->now_ms)
		sw_ntab_del(s->tab, name);
	return false;
}

/** Phones registered at now (the expired are forgotten on the way). */
unsigned sg_registrar_count(struct sg_registrar *r, int64_t now_ms)
{
	struct sweep s;

	if (!r)
		return 0;
	s.tab = r->phones;
	s.now_ms = now_ms;
	sw_ntab_walk(r->phones, sweep_h, &s);
	return (unsigned)sw_ntab_count(r->phones);
}

/**
 * Split a source "ip:port" ("[v6]:port"; the port may be missing: 0)
 * into its address and port.  false when it is not one.
 */
bool sg_registrar_split_source(const char *source, char *ip, size_t size,
			       int *portp)
{
	const char *end, *colon;
	unsigned char a[16];
	size_t len;
	bool v6 = source && source[0] == '[';

	if (!source || !ip || !size)
		return false;
	if (v6) {
		end = strchr(source, ']');
		if (!end)
			return false;
		source++;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(source, ':');
		if (colon && strchr(source, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		end = colon ? colon : source + strlen(source);
	}
	len = (size_t)(end - source);
	if (len >= size)
		return false;
	memcpy(ip, source, len);
	ip[len] = '\0';
	*portp = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
	if (*portp < 0 || *portp > 65535)
		return false;
	return inet_pton(AF_INET, ip, a) == 1 ||
	       inet_pton(AF_INET6, ip, a) == 1;
}

/*
 * Whether a URI's parameters leave its transport UDP: no transport=, or
 * transport=udp.  Read here, not by url_param(): sofia-sip's reads past
 * the end of some malformed parameter strings (tests/fuzz).
 */
static bool udp_params(const char *params)
{
	static const char key[] = "transport=";
	const char *p = params;

	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n >= sizeof(key) - 1 &&
		    !strncasecmp(p, key, sizeof(key) - 1))
			return n == sizeof(key) - 1 + 3 &&
			       !strncasecmp(p + sizeof(key) - 1, "udp", 3);
		p = end ? end + 1 : NULL;
	}
	return true;
}

/**
 * Where a phone that registered contact from source ("ip:port") is called:
 * the contact as written, or, when it names an address and port we did
 * not hear it from over UDP (the phone is behind NAT: the contact is its
 * private address), "sip:user@ip:port" of the source, the mapping its NAT
 * keeps open by the registrations.  A contact with a host name or another
 * transport than UDP is used as written.  Returns true when behind NAT.
 */
bool sg_registrar_target(char *out, size_t size, const char *contact,
			 const char *source)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char ip[64], host[64];
	url_t *u;
	int port = 0;
	bool nat = false;
	unsigned char a[16];

	snprintf(out, size, "%s", contact ? contact : "");
	u = contact ? url_make(home, contact) : NULL;
	if (!u || !u->url_host ||
	    !sg_registrar_split_source(source, ip, sizeof(ip), &port) || !port)
		goto done;
	if (!udp_params(u->url_params))
		goto done;
	snprintf(host, sizeof(host), "%s", u->url_host);
	if (host[0] == '[' && strlen(host) > 2) {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (inet_pton(AF_INET, host, a) != 1 &&
	    inet_pton(AF_INET6, host, a) != 1)
		goto done; /* a name: as written */
	if (!strcasecmp(host, ip) &&
	    (u->url_port ? (int)strtol(u->url_port, NULL, 10) : 5060) == port)
		goto done;
	nat = true;
	snprintf(out, size, "sip:%s%s%s%s%s:%d", u->url_user ? u->url_user : "",
		 u->url_user ? "@" : "", strchr(ip, ':') ? "[" : "", ip,
		 strchr(ip, ':') ? "]" : "", port);
done:
	su_home_deinit(home);
	return nat;
}
