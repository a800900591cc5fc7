/*
 * identity.h - the caller identity vocabulary of a routing gateway, defined
 * once (SPEC §3.8, digest 2 T3; docs/provisioning.md "Caller identity")
 *
 * The provisioning validator writes a routing gateway's `identity` object
 * with these names and signalingd reads it back with them; the headers
 * that are never copied to a vendor are decided here for both.
 *
 * Threading: constants and pure functions only.
 * Bus:       none.
 */
#ifndef SW_PROTO_IDENTITY_H
#define SW_PROTO_IDENTITY_H

#include <stdbool.h>

/* P-Asserted-Identity and P-Preferred-Identity toward a gateway */
enum sw_id_mode { SW_ID_NONE = 0, SW_ID_PASS, SW_ID_CALLER, SW_ID_COUNT };
/* Privacy toward a gateway */
enum sw_privacy { SW_PRIV_NONE = 0, SW_PRIV_PASS, SW_PRIV_ID, SW_PRIV_COUNT };
/* other headers of the caller's INVITE copied to a gateway */
enum sw_extra {
	SW_EXTRA_NONE = 0,
	SW_EXTRA_ALL,
	SW_EXTRA_LIST,
	SW_EXTRA_COUNT
};
/* where a caller number is read from in an INVITE */
enum sw_number_source {
	SW_SRC_FROM = 0,
	SW_SRC_DISPLAY,
	SW_SRC_RPID,
	SW_SRC_COUNT
};

/* canonical names, in enum order, NULL-terminated */
extern const char *const sw_id_mode_names[SW_ID_COUNT + 1];
extern const char *const sw_privacy_names[SW_PRIV_COUNT + 1];
extern const char *const sw_extra_names[SW_EXTRA_COUNT + 1];
extern const char *const sw_number_source_names[SW_SRC_COUNT + 1];

/* index of name in a NULL-terminated name list (case-insensitive), or -1 */
int sw_id_name_index(const char *const *names, const char *name);
/* a header that belongs to one hop, one dialog or the identity itself:
 * never copied from the caller's INVITE as an extra header */
bool sw_id_header_forbidden(const char *name);

#endif /* SW_PROTO_IDENTITY_H */
