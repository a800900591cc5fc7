/*
 * identity.h - the caller identity a routing gateway receives (SPEC §3.8,
 * digest 2 T3: P-Asserted-Identity, Privacy, P-Preferred-Identity and the
 * extra headers of the caller's INVITE)
 *
 * A gateway's `identity` object (docs/provisioning.md "Caller identity",
 * vocabulary in proto/identity.h) is parsed once when the tables load;
 * per attempt, sg_identity_headers() writes the header block that goes
 * into the vendor's INVITE from the caller's INVITE and the numbers the
 * call settled on.
 *
 * Ownership: struct sg_identity owns its header names.
 * Threading: any (pure functions over their arguments).
 */
#ifndef SG_IDENTITY_H
#define SG_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include "proto/identity.h"

#define SG_ID_MAX_HEADERS 64

struct sg_identity {
	enum sw_id_mode pai, ppi;
	enum sw_privacy privacy;
	enum sw_extra extra;
	enum sw_number_source source; /* the number of pai/ppi caller */
	char **headers;		      /* owned: names, with SW_EXTRA_LIST */
	size_t nheaders;
};

/* what one attempt's identity headers are made of */
struct sg_identity_in {
	msg_t *invite;	      /* the caller's INVITE (as received) */
	bool support_privacy; /* the mapping gateway's */
	const char *number;   /* the caller number the `caller` modes assert
				 (after the dial plans) */
	const char *host;     /* the switch's host, for their URIs */
};

int sg_identity_parse(struct sg_identity *id, const char *json, char *err,
		      size_t errsz);
void sg_identity_free(struct sg_identity *id);
/* the header block ("Name: value\r\n"...), malloc'ed ("" for none); NULL
 * when out of memory */
char *sg_identity_headers(const struct sg_identity *id,
			  const struct sg_identity_in *in);

#endif /* SG_IDENTITY_H */
