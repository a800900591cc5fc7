// FUZZ_SOURCES: common/bus.c common/busconn.c common/conf.c common/log.c
// FUZZ_SOURCES: common/swtime.c
// FUZZ_SOURCES: common/envelope.c common/jarena.c common/uuid.c proto/proto.c
// FUZZ_SOURCES: common/jparse.c common/jsonw.c common/utf8.c
// FUZZ_LIBS: -lnng -ljansson -lpthread
/*
 * fuzz_bus_url.c - sw_bus_url_check() and sw_bus_url_local() on any text:
 * no crash, an error message for every refusal, and a URL that passes
 * without bus_insecure is TLS, local, or not TCP at all.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[512], err[400];
	bool insecure = size && (data[0] & 1), pki = size && (data[0] & 2);
	size_t n = size > 1 ? size - 1 : 0;

	if (n >= sizeof(url))
		n = sizeof(url) - 1;
	memcpy(url, size > 1 ? data + 1 : data, n);
	url[n] = '\0';
	sw_log_set_level(SW_LOG_ERR);
	err[0] = '\0';
	if (sw_bus_url_check(url, insecure, pki, err, sizeof(err))) {
		assert(err[0] != '\0');
		return 0;
	}
	if (!insecure && !strncmp(url, "tcp://", 6))
		assert(sw_bus_url_local(url));
	if (!strncmp(url, "tls+tcp://", 10))
		assert(pki);
	return 0;
}
