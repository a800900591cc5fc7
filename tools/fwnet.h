/*
 * fwnet.h - the address, CIDR, port and bus URL parsing `tandemctl
 * firewall` needs, and sets of networks that stay free of overlaps
 *
 * Input comes from the database (mapping gateway ips, routing gateway
 * addresses, SERVER_WEB_ACCESS_LIST, the blacklist table), the daemons'
 * config files and the command line; nothing here trusts it.  A set never
 * holds two networks where one contains the other, because nftables refuses
 * overlapping elements in an interval set.
 *
 * Threading: tandemctl is single-threaded.
 */
#ifndef TC_FWNET_H
#define TC_FWNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* an IPv4 or IPv6 network; ttl_s: seconds left (blacklist), 0 = forever */
struct tc_fwnet {
	int af; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int plen;
	int64_t ttl_s;
};

struct tc_fwset {
	struct tc_fwnet *v; /* owned */
	size_t n, cap;
};

int tc_fwnet_parse(struct tc_fwnet *net, const char *s, size_t len);
bool tc_fwnet_covers(const struct tc_fwnet *a, const struct tc_fwnet *b);
bool tc_fwnet_is_local(const struct tc_fwnet *net);
int tc_fwnet_print(const struct tc_fwnet *net, char *buf, size_t size);

int tc_fwset_add(struct tc_fwset *set, const struct tc_fwnet *net);
size_t tc_fwset_count(const struct tc_fwset *set, int af);
void tc_fwset_free(struct tc_fwset *set);

int tc_fw_hostport(const char *s, char *host, size_t hsize, uint16_t *portp);

#endif /* TC_FWNET_H */
