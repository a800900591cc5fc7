// FUZZ_SOURCES: tools/fwnet.c
// FUZZ_LIBS:
/*
 * fuzz_fw_net.c - tandemctl firewall's parsers of addresses, CIDRs and
 * host:port (database rows, config files, options): any bytes
 * give an error or a value that prints and parses back to itself, and the
 * overlap-free set never holds two elements where one covers the other.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/fwnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_fwset set = {0};
	struct tc_fwnet n, back;
	char buf[64], host[64], *s;
	const uint8_t *p = data, *end = data + size;
	uint16_t port;
	size_t i, j;

	/* every newline-separated piece is an address for the set */
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!tc_fwnet_parse(&n, (const char *)p, len)) {
			n.ttl_s = (int64_t)(len % 3);
			assert(!tc_fwnet_print(&n, buf, sizeof(buf)));
			assert(!tc_fwnet_parse(&back, buf, strlen(buf)));
			assert(back.af == n.af && back.plen == n.plen &&
			       !memcmp(back.addr, n.addr, 16));
			assert(tc_fwnet_covers(&n, &back));
			(void)tc_fwnet_is_local(&n);
			assert(!tc_fwset_add(&set, &n));
		}
		p += len + (nl ? 1 : 0);
	}
	for (i = 0; i < set.n; i++)
		for (j = 0; j < set.n; j++)
			assert(i == j ||
			       !tc_fwnet_covers(&set.v[i], &set.v[j]));
	tc_fwset_free(&set);

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!tc_fw_hostport(s, host, sizeof(host), &port))
		assert(port > 0 && strlen(host) < sizeof(host));
	free(s);
	return 0;
}
