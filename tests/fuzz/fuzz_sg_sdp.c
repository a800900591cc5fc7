// FUZZ_SOURCES: signaling/sdp.c
// FUZZ_LIBS: -lsofia-sip-ua
/*
 * fuzz_sg_sdp.c - signalingd's SDP handling on arbitrary bytes: the media
 * plan extraction and the address rewrite must never crash, and a rewrite
 * that succeeds must produce SDP that parses again with the new port.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_sdp_media m, m2;
	char *out = NULL;
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (sg_sdp_inspect(&m, text, size) == 0) {
		if (sg_sdp_rewrite(&out, text, size, "192.0.2.1", 20000) == 0) {
			if (m.port && sg_sdp_inspect(&m2, out, strlen(out)) == 0 &&
			    m2.port != 20000)
				abort();
			free(out);
		}
	}
	free(text);
	return 0;
}
