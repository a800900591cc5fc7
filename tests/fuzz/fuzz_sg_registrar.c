// FUZZ_SOURCES: signaling/registrar.c common/ntab.c
// FUZZ_LIBS: -lsofia-sip-ua
/*
 * fuzz_sg_registrar.c - where a registered phone is called, from any
 * contact and source (a REGISTER's Contact, a registrations row read back):
 * the bytes up to the first newline are the contact, the rest the source.
 * The target is always a string within its buffer; a NAT target names the
 * source's address and port; a split source is an address with a port in
 * range.  Never a crash or a leak.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/registrar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *source, out[320], ip[64];
	int port = -1;
	bool nat;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	source = strchr(text, '\n');
	if (source)
		*source++ = '\0';

	if (sg_registrar_split_source(source, ip, sizeof(ip), &port)) {
		assert(port >= 0 && port <= 65535);
		assert(strlen(ip) < sizeof(ip));
	}
	nat = sg_registrar_target(out, sizeof(out), text, source);
	assert(strlen(out) < sizeof(out));
	if (nat) {
		assert(!strncmp(out, "sip:", 4));
		assert(port > 0 && strstr(out, ip));
	}
	free(text);
	return 0;
}
