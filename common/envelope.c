/*
 * envelope.c - parse and build the bus envelope, trusting nothing
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/jarena.h"
#include "common/jparse.h"
#include "common/swtime.h"

/* A message type: [a-z0-9_.]{1,SW_ENV_TYPE_MAX}. */
bool sw_env_type_ok(const char *t)
{
	if (!t)
		return false;

	size_t n = strlen(t);

	if (n == 0 || n > SW_ENV_TYPE_MAX)
		return false;
	for (; *t; t++) {
		if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') ||
		      *t == '_' || *t == '.'))
			return false;
	}
	return true;
}

/* Drop what a parsed envelope holds. */
void sw_env_reset(struct sw_env *env)
{
	if (!env)
		return;
	json_decref(env->root);
	memset(env, 0, sizeof(*env));
}

/*
 * Parse and check buf; on success env owns the JSON tree (sw_env_reset()
 * frees it).  On EBADMSG/EMSGSIZE err says what was wrong.
 */
int sw_env_parse(struct sw_env *env, const void *buf, size_t len, char *err,
		 size_t errsz)
{
	char perr[160];
	json_t *root, *j;
	const char *s;

	memset(env, 0, sizeof(*env));
	if (!buf || len == 0) {
		snprintf(err, errsz, "empty message");
		return EBADMSG;
	}
	if (len > SW_ENV_MAX_SIZE) {
		snprintf(err, errsz, "message of %zu bytes exceeds %d", len,
			 SW_ENV_MAX_SIZE);
		return EMSGSIZE;
	}

	/* the tree lives as long as the message: in the arena (jarena.h) */
	sw_jarena_begin();
	root = sw_json_parse(buf, len, perr, sizeof(perr));
	sw_jarena_end();
	if (!root) {
		snprintf(err, errsz, "invalid JSON at %s", perr);
		return EBADMSG;
	}
	if (!json_is_object(root)) {
		snprintf(err, errsz, "message is not a JSON object");
		goto bad;
	}

	j = json_object_get(root, "v");
	if (!json_is_integer(j) || json_integer_value(j) != 1) {
		snprintf(err, errsz, "v: must be 1");
		goto bad;
	}
	s = json_string_value(json_object_get(root, "type"));
	if (!s || !sw_env_type_ok(s)) {
		snprintf(err, errsz, "type: must match [a-z0-9_.]{1,%d}",
			 SW_ENV_TYPE_MAX);
		goto bad;
	}
	/* checked above: 1..SW_ENV_TYPE_MAX bytes (every message: no printf) */
	memcpy(env->type, s, strlen(s) + 1);

	s = json_string_value(json_object_get(root, "id"));
	if (!s || !sw_uuid_valid(s)) {
		snprintf(err, errsz, "id: must be a UUID");
		goto bad;
	}
	memcpy(env->id, s, SW_UUID_LEN + 1); /* checked above: a UUID */

	j = json_object_get(root, "ts");
	if (!json_is_integer(j) || json_integer_value(j) < 0) {
		snprintf(err, errsz, "ts: must be an integer >= 0");
		goto bad;
	}
	env->ts = json_integer_value(j);

	j = json_object_get(root, "body");
	if (!json_is_object(j)) {
		snprintf(err, errsz, "body: must be an object");
		goto bad;
	}
	env->body = j;
	env->root = root;
	return 0;

bad:
	json_decref(root);
	memset(env, 0, sizeof(*env));
	return EBADMSG;
}

/*
 * The head of an envelope into w, up to and including "body": (the caller
 * writes the body, an object, and the closing brace).  id NULL = a new
 * UUID.
 */
void sw_env_head(struct sw_jw *w, const char *type, const char *id)
{
	char uuid[SW_UUID_LEN + 1];

	if (!id) {
		sw_uuid_gen(uuid);
		id = uuid;
	}
	sw_jw_raw(w, "{\"v\":1,\"type\":");
	sw_jw_str(w, type);
	sw_jw_raw(w, ",\"id\":");
	sw_jw_str(w, id);
	sw_jw_raw(w, ",\"ts\":");
	sw_jw_i64(w, sw_time_wall_ms());
	sw_jw_raw(w, ",\"body\":");
}

/*
 * Encode an envelope; steals body.  Returns a malloc'd buffer (not
 * NUL-terminated in *lenp terms, but NUL-terminated in memory) or NULL.
 */
char *sw_env_encode(const char *type, const char *id, json_t *body,
		    size_t *lenp)
{
	struct sw_jw w = {0};

	sw_env_head(&w, type, id);
	if (body)
		sw_jw_json(&w, body);
	else
		sw_jw_raw(&w, "{}");
	sw_jw_raw(&w, "}");
	json_decref(body);
	if (w.oom || !w.buf) {
		sw_jw_free(&w);
		return NULL;
	}
	if (lenp)
		*lenp = w.len;
	return w.buf;
}

/*
 * Item i of a batch's items (docs/bus.md "Batches"): its type and body
 * (borrowed).  EBADMSG, with why, when it is not {type, body} with a valid
 * type other than "batch" and an object body.
 */
int sw_env_batch_item(const json_t *items, size_t i, const char **typep,
		      json_t **bodyp, char *why, size_t whysz)
{
	json_t *it = json_array_get(items, i);
	const char *type = json_string_value(json_object_get(it, "type"));
	json_t *body = json_object_get(it, "body");

	*typep = NULL;
	*bodyp = NULL;
	if (!sw_env_type_ok(type) || !strcmp(type, SW_MSG_BATCH) ||
	    !json_is_object(body)) {
		snprintf(why, whysz,
			 "items[%zu]: needs a type (not batch) and an object "
			 "body",
			 i);
		return EBADMSG;
	}
	*typep = type;
	*bodyp = body;
	return 0;
}
