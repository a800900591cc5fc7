// FUZZ_SOURCES: signaling/dtmfinfo.c signaling/codecpol.c
// FUZZ_SOURCES: signaling/sdp.c proto/media.c
// FUZZ_LIBS: -ljansson
/*
 * fuzz_sg_dtmfinfo.c - SIP INFO DTMF bodies and the codec policy's SDP
 * reader/writer on arbitrary bytes: never crash, a parsed digit is always
 * one of 0-9 * # A-D ! with a duration in range and builds back, and the
 * policy never fails on what the reader accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/codecpol.h"
#include "signaling/dtmfinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char d, buf[64];
	unsigned ms;
	struct sg_sdp s, v;
	struct sg_cp_conf mg, rg;
	struct sg_cp_offer o;
	struct sg_cp_answer r;
	char *out = NULL;

	if (sg_dtmf_info_parse(text, size, &d, &ms) == 0) {
		if (!strchr("0123456789*#ABCD!", d) || !d || !ms ||
		    ms > SG_DTMF_DURATION_MAX)
			abort();
		if (sg_dtmf_info_build(buf, sizeof(buf), d, ms))
			abort();
	}

	if (sg_sdp_read(&s, text, size) == 0) {
		sg_cp_conf_default(&mg);
		sg_cp_conf_default(&rg);
		mg.allow_transcoding = rg.allow_transcoding = true;
		if (sg_cp_make_offer(&o, &s, &mg, &rg, true, NULL) == 0) {
			if (!o.nb || !o.na)
				abort();
			struct sg_sdp_edit e = {.set_formats = true,
						.fmt = o.b,
						.nfmt = o.nb,
						.te_pt = o.b_te_pt,
						.te_rate = o.b_te_rate};

			if (sg_sdp_write(&out, text, size, &e))
				abort();
			if (sg_sdp_read(&v, out, strlen(out)))
				abort();
			/* the vendor answers with our own offer */
			if (sg_cp_make_answer(&r, &o, &s, &v, &mg, &rg, NULL))
				abort();
			free(out);
		}
	}
	return 0;
}
