/*
 * envelope.h - the JSON envelope every bus message travels in
 *
 *   {"v":1, "type":"media.offer", "id":"<uuid>", "ts":<ms>, "body":{...}}
 *
 * sw_env_parse() checks a received buffer before anything reads it: size,
 * JSON syntax, v == 1, type matching [a-z0-9_.]{1,48}, id a UUID, ts an
 * integer >= 0, body an object.  It never trusts the input.
 *
 * Threading: any thread.
 */
#ifndef SW_ENVELOPE_H
#define SW_ENVELOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/jsonw.h"
#include "common/uuid.h"
#include "proto/proto.h"

#define SW_ENV_MAX_SIZE (256 * 1024) /* bytes; larger messages are refused */
#define SW_ENV_TYPE_MAX 48

struct sw_env {
	char type[SW_ENV_TYPE_MAX + 1];
	char id[SW_UUID_LEN + 1];
	int64_t ts;	   /* sender's wall clock, ms */
	json_t *root;	   /* owned: the whole message */
	json_t *body;	   /* borrowed from root */
	enum sw_role role; /* set by the bus: who sent it (LOCAL = trusted) */
	uint32_t pipe;	   /* set by the bus: the connection it came on */
};

int sw_env_parse(struct sw_env *env, const void *buf, size_t len, char *err,
		 size_t errsz);
void sw_env_reset(struct sw_env *env);
bool sw_env_type_ok(const char *type);
int sw_env_batch_item(const json_t *items, size_t i, const char **typep,
		      json_t **bodyp, char *why, size_t whysz);
/* encode; steals body (may be NULL = {}); id NULL = a new UUID */
char *sw_env_encode(const char *type, const char *id, json_t *body,
		    size_t *lenp);
void sw_env_head(struct sw_jw *w, const char *type, const char *id);

#endif /* SW_ENVELOPE_H */
