// FUZZ_SOURCES: signaling/sdp.c proto/media.c
/*
 * fuzz_sg_sdp.c - signalingd's one SDP reader and writer on arbitrary
 * bytes: neither may crash; an SDP that reads must write with an address,
 * a port and a format list, and what was written must read again with
 * that port and those formats.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sg_sdp s, s2;
	struct sg_sdp_fmt f = {.pt = 8, .name = "PCMA", .rate = 8000};
	struct sg_sdp_edit e = {.ip = "192.0.2.1", .port = 20000};
	char *out = NULL;

	if (size > SG_SDP_MAX_LEN)
		return 0;
	if (sg_sdp_read(&s, text, size))
		return 0;
	/* the address and port alone: the formats read back the same */
	if (sg_sdp_write(&out, text, size, &e))
		abort();
	if (sg_sdp_read(&s2, out, strlen(out)))
		abort();
	if (s2.nfmt != s.nfmt || s2.te_pt != s.te_pt ||
	    (s.port && s2.port != 20000) || strcmp(s2.ip, "192.0.2.1"))
		abort();
	free(out);
	out = NULL;
	/* and with one format of ours */
	e.set_formats = true;
	e.fmt = &f;
	e.nfmt = 1;
	e.te_pt = 101;
	e.te_rate = 8000;
	if (sg_sdp_write(&out, text, size, &e))
		abort();
	if (sg_sdp_read(&s2, out, strlen(out)) || s2.nfmt != 1 ||
	    s2.fmt[0].pt != 8 || s2.te_pt != 101)
		abort();
	free(out);
	return 0;
}
