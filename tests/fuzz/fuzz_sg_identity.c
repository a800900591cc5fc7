// FUZZ_SOURCES: signaling/identity.c proto/identity.c
// FUZZ_LIBS: -lsofia-sip-ua -ljansson
/*
 * fuzz_sg_identity.c - the caller identity headers (signaling/identity.c)
 * written from any bytes parsed as a SIP INVITE, in every mode: never a
 * crash, and what is written is whole header lines only (each "Name: value"
 * ending in CRLF, no bare line break inside), so a caller's header can
 * never smuggle another one into the vendor's INVITE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>

#include "signaling/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const confs[] = {
    "{\"pai\":\"pass_through\",\"ppi\":\"pass_through\",\"privacy\":"
    "\"pass_through\",\"extra_headers\":\"all\"}",
    "{\"pai\":\"caller\",\"ppi\":\"caller\",\"privacy\":\"id\","
    "\"extra_headers\":\"list\",\"headers\":[\"X-A\",\"Subject\","
    "\"P-Charging-Vector\",\"x-b\"]}",
};

static void check(const char *out)
{
	const char *p = out;

	while (*p) {
		const char *eol = strstr(p, "\r\n");
		const char *colon = strchr(p, ':');

		if (!eol || !colon || colon > eol || colon == p)
			abort();
		for (const char *q = p; q < eol; q++)
			if (*q == '\r' || *q == '\n' || *q == '\0')
				abort();
		p = eol + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static msg_mclass_t const *mc; /* the extended class, made once */
	msg_t *msg;

	if (size > 65536)
		return 0;
	if (!mc)
		mc = sip_extend_mclass(NULL);
	msg = msg_make(mc, 0, data, (ssize_t)size);
	if (!msg)
		return 0;
	if (!sip_object(msg) || !sip_object(msg)->sip_request) {
		msg_destroy(msg);
		return 0;
	}
	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		struct sg_identity id;
		struct sg_identity_in in = {msg, true, "15550001", "192.0.2.1"};
		char err[128];
		char *out;

		if (sg_identity_parse(&id, confs[i], err, sizeof(err)))
			abort();
		out = sg_identity_headers(&id, &in);
		if (out)
			check(out);
		free(out);
		sg_identity_free(&id);
	}
	msg_destroy(msg);
	return 0;
}
