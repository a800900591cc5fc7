/*
 * identity.c - the caller identity vocabulary (see identity.h)
 */
#include <stddef.h>
#include <strings.h>

#include "proto/identity.h"

const char *const sw_id_mode_names[SW_ID_COUNT + 1] = {"none", "pass_through",
						       "caller", NULL};
const char *const sw_privacy_names[SW_PRIV_COUNT + 1] = {"none", "pass_through",
							 "id", NULL};
const char *const sw_extra_names[SW_EXTRA_COUNT + 1] = {"none", "all", "list",
							NULL};
const char *const sw_number_source_names[SW_SRC_COUNT + 1] = {"from", "display",
							      "rpid", NULL};

int sw_id_name_index(const char *const *names, const char *name)
{
	for (int i = 0; name && names[i]; i++)
		if (!strcasecmp(names[i], name))
			return i;
	return -1;
}

bool sw_id_header_forbidden(const char *name)
{
	static const char *const never[] = {
	    "via",
	    "route",
	    "record-route",
	    "contact",
	    "call-id",
	    "cseq",
	    "max-forwards",
	    "from",
	    "to",
	    "authorization",
	    "www-authenticate",
	    "p-asserted-identity",
	    "p-preferred-identity",
	    "privacy",
	    "remote-party-id",
	    "supported",
	    "require",
	    "rseq",
	    "rack",
	    "session-expires",
	    "min-se",
	    "allow",
	    "accept",
	    "user-agent",
	    "server",
	    NULL,
	};

	if (!name || !strncasecmp(name, "content-", 8) ||
	    !strncasecmp(name, "proxy-", 6))
		return true;
	for (size_t i = 0; never[i]; i++)
		if (!strcasecmp(never[i], name))
			return true;
	return false;
}
