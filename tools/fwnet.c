/*
 * fwnet.c - addresses, CIDRs, host:port and bus URLs for `tandemctl
 * firewall`; overlap-free network sets
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tools/fwnet.h"

static int max_plen(int af)
{
	return af == AF_INET ? 32 : 128;
}

/*
 * "ADDR" or "ADDR/LEN" (IPv4 or IPv6, surrounding blanks allowed) of len
 * bytes into *net, host bits cleared, ttl 0.  EINVAL when it is anything
 * else; *net is untouched on error.
 */
int tc_fwnet_parse(struct tc_fwnet *net, const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct tc_fwnet n = {0};
	char *slash, *end;
	int i;

	if (!net || !s)
		return EINVAL;
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(buf) || memchr(s, '\0', len))
		return EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';

	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n.addr) == 1)
		n.af = AF_INET;
	else if (inet_pton(AF_INET6, buf, n.addr) == 1)
		n.af = AF_INET6;
	else
		return EINVAL;

	n.plen = max_plen(n.af);
	if (slash) {
		long v;

		if (*slash < '0' || *slash > '9')
			return EINVAL;
		errno = 0;
		v = strtol(slash, &end, 10);
		if (errno || *end || v < 0 || v > n.plen)
			return EINVAL;
		n.plen = (int)v;
	}
	for (i = 0; i < 16; i++) {
		int keep = n.plen - 8 * i;

		if (keep <= 0)
			n.addr[i] = 0;
		else if (keep < 8)
			n.addr[i] &= (unsigned char)(0xff << (8 - keep));
	}
	*net = n;
	return 0;
}

/* does network a contain network b (same family)? */
bool tc_fwnet_covers(const struct tc_fwnet *a, const struct tc_fwnet *b)
{
	int full, rest;

	if (a->af != b->af || a->plen > b->plen)
		return false;
	full = a->plen / 8;
	rest = a->plen % 8;
	if (memcmp(a->addr, b->addr, (size_t)full))
		return false;
	if (rest) {
		unsigned char m = (unsigned char)(0xff << (8 - rest));

		if ((a->addr[full] & m) != (b->addr[full] & m))
			return false;
	}
	return true;
}

/* loopback or unspecified: never a peer address worth a rule */
bool tc_fwnet_is_local(const struct tc_fwnet *net)
{
	static const unsigned char zero[16];

	if (!memcmp(net->addr, zero, 16))
		return true;
	if (net->af == AF_INET)
		return net->addr[0] == 127;
	return net->plen == 128 && !memcmp(net->addr, zero, 15) &&
	       net->addr[15] == 1;
}

/* "ADDR" for a host, "ADDR/LEN" for a network; 0 or ENOSPC */
int tc_fwnet_print(const struct tc_fwnet *net, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(net->af, net->addr, a, sizeof(a)))
		return EINVAL;
	if (net->plen == max_plen(net->af))
		n = snprintf(buf, size, "%s", a);
	else
		n = snprintf(buf, size, "%s/%d", a, net->plen);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* the longer of two lifetimes, 0 being forever */
static int64_t ttl_max(int64_t a, int64_t b)
{
	if (!a || !b)
		return 0;
	return a > b ? a : b;
}

/*
 * Add net to set.  A network already contained in an element is folded into
 * it (which keeps the longer lifetime); elements net contains are folded
 * into net.  0 or ENOMEM.
 */
int tc_fwset_add(struct tc_fwset *set, const struct tc_fwnet *net)
{
	struct tc_fwnet add = *net;
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		if (tc_fwnet_covers(&set->v[i], &add)) {
			set->v[i].ttl_s = ttl_max(set->v[i].ttl_s, add.ttl_s);
			return 0;
		}
	}
	for (i = 0, j = 0; i < set->n; i++) {
		if (tc_fwnet_covers(&add, &set->v[i]))
			add.ttl_s = ttl_max(add.ttl_s, set->v[i].ttl_s);
		else
			set->v[j++] = set->v[i];
	}
	set->n = j;
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		struct tc_fwnet *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = add;
	return 0;
}

/* how many elements of family af */
size_t tc_fwset_count(const struct tc_fwset *set, int af)
{
	size_t i, n = 0;

	for (i = 0; i < set->n; i++)
		n += set->v[i].af == af;
	return n;
}

void tc_fwset_free(struct tc_fwset *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int port_parse(const char *s, uint16_t *portp)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return EINVAL;
	*portp = (uint16_t)v;
	return 0;
}

/*
 * "HOST:PORT" or "[V6]:PORT" into host (brackets removed; may be "*" or
 * empty for any address) and *portp.  0, EINVAL or ENOSPC.
 */
int tc_fw_hostport(const char *s, char *host, size_t hsize, uint16_t *portp)
{
	const char *colon, *h = s;
	size_t hlen;
	uint16_t port;

	if (!s || !host || !hsize)
		return EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (port_parse(colon + 1, &port))
		return EINVAL;
	if (hlen >= hsize)
		return ENOSPC;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*portp = port;
	return 0;
}
