/*
 * proto.c - the list of known bus message types and who may send them
 */
#include <errno.h>
#include <string.h>

#include "proto/proto.h"

static const char *const known[] = {
    SW_MSG_ERROR,	    SW_MSG_HEALTH_PING,	 SW_MSG_NODE_HEARTBEAT,
    SW_MSG_MEDIA_EVENT,	    SW_MSG_MEDIA_OFFER,	 SW_MSG_MEDIA_ANSWER,
    SW_MSG_MEDIA_UPDATE,    SW_MSG_MEDIA_DELETE, SW_MSG_MEDIA_QUERY,
    SW_MSG_MEDIA_PLAY_DTMF, SW_MSG_AUTH_REQUEST, SW_MSG_AUTH_EXTEND,
    SW_MSG_AUTH_RELEASE,    SW_MSG_CDR_SUBMIT,	 SW_MSG_CALL_LIST,
    SW_MSG_ROUTE_ANALYZE,   SW_MSG_GATEWAY_LOCK, SW_MSG_CALL_HANGUP,
    SW_MSG_CONFIG_CHANGED,  SW_MSG_STATS_ASR,	 SW_MSG_BATCH,
};

#define R(x) (1u << (x))

/*
 * Who may send each request or push over a role-checked (TLS) listener.
 * health.ping is for every role: it is how peers and operators' probes see
 * that a daemon is up.  Replies are not listed: they come back on the
 * requester's own connection, whose server was checked at the handshake.
 */
static const struct {
	const char *type;
	unsigned roles;
} allowed[] = {
    {SW_MSG_HEALTH_PING, R(SW_ROLE_SIGNALING) | R(SW_ROLE_MEDIA) |
			     R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_NODE_HEARTBEAT, R(SW_ROLE_MEDIA)},
    {SW_MSG_MEDIA_EVENT, R(SW_ROLE_MEDIA)},
    {SW_MSG_MEDIA_OFFER, R(SW_ROLE_SIGNALING)},
    {SW_MSG_MEDIA_ANSWER, R(SW_ROLE_SIGNALING)},
    {SW_MSG_MEDIA_UPDATE, R(SW_ROLE_SIGNALING)},
    {SW_MSG_MEDIA_DELETE, R(SW_ROLE_SIGNALING)},
    {SW_MSG_MEDIA_QUERY, R(SW_ROLE_SIGNALING)},
    {SW_MSG_MEDIA_PLAY_DTMF, R(SW_ROLE_SIGNALING)},
    {SW_MSG_AUTH_REQUEST, R(SW_ROLE_SIGNALING)},
    {SW_MSG_AUTH_EXTEND, R(SW_ROLE_SIGNALING)},
    {SW_MSG_AUTH_RELEASE, R(SW_ROLE_SIGNALING)},
    {SW_MSG_CDR_SUBMIT, R(SW_ROLE_SIGNALING)},
    {SW_MSG_CALL_LIST, R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_ROUTE_ANALYZE, R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_GATEWAY_LOCK, R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_CALL_HANGUP, R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_CONFIG_CHANGED, R(SW_ROLE_BILLING) | R(SW_ROLE_CONTROL)},
    {SW_MSG_STATS_ASR, R(SW_ROLE_BILLING)},
};

static const char *const role_names[SW_ROLE_COUNT] = {
    [SW_ROLE_LOCAL] = "local",	   [SW_ROLE_SIGNALING] = "signaling",
    [SW_ROLE_MEDIA] = "media",	   [SW_ROLE_BILLING] = "billing",
    [SW_ROLE_CONTROL] = "control",
};

const char *sw_role_name(enum sw_role role)
{
	return (unsigned)role < SW_ROLE_COUNT ? role_names[role] : "?";
}

/* "signaling", "media", "billing" or "control"; EINVAL otherwise. */
int sw_role_parse(enum sw_role *rolep, const char *name)
{
	for (int r = SW_ROLE_SIGNALING; r < SW_ROLE_COUNT; r++) {
		if (name && !strcmp(name, role_names[r])) {
			*rolep = (enum sw_role)r;
			return 0;
		}
	}
	return EINVAL;
}

/* A local peer may send anything; a role only what the table gives it. */
bool sw_proto_allowed(const char *type, enum sw_role role)
{
	if (role == SW_ROLE_LOCAL)
		return true;
	for (size_t i = 0; type && i < sizeof(allowed) / sizeof(allowed[0]);
	     i++)
		if (!strcmp(type, allowed[i].type))
			return (allowed[i].roles & R(role)) != 0;
	return false;
}

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
