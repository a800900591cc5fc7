/*
 * proto.c - the list of known bus message types
 */
#include <string.h>

#include "proto/proto.h"

static const char *const known[] = {
    SW_MSG_ERROR,	    SW_MSG_HEALTH_PING,	 SW_MSG_NODE_HEARTBEAT,
    SW_MSG_MEDIA_EVENT,	    SW_MSG_MEDIA_OFFER,	 SW_MSG_MEDIA_ANSWER,
    SW_MSG_MEDIA_UPDATE,    SW_MSG_MEDIA_DELETE, SW_MSG_MEDIA_QUERY,
    SW_MSG_MEDIA_PLAY_DTMF, SW_MSG_AUTH_REQUEST, SW_MSG_AUTH_EXTEND,
    SW_MSG_AUTH_RELEASE,    SW_MSG_CDR_SUBMIT,	 SW_MSG_CALL_LIST,
    SW_MSG_ROUTE_ANALYZE,   SW_MSG_GATEWAY_LOCK, SW_MSG_CALL_HANGUP,
    SW_MSG_CONFIG_CHANGED,  SW_MSG_STATS_ASR,
};

/* True when type is in the catalogue, as a request or its ".reply". */
bool sw_proto_known(const char *type)
{
	size_t n;

	if (!type)
		return false;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		n = strlen(known[i]);
		if (strncmp(type, known[i], n))
			continue;
		if (type[n] == '\0' || !strcmp(type + n, ".reply"))
			return true;
	}

	return false;
}
