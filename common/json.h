/*
 * json.h - checked reading of jansson objects received from outside
 *
 * Bus bodies, HTTP bodies and provisioning files are read through a
 * validator: each getter checks presence, type, length or range and records
 * the first problem as "<path>.<key>: <why>".  Callers read all fields, then
 * test v.bad once.  Getters never return NULL strings: a missing optional
 * string is "" (or the given default).
 *
 * Threading: any thread; a validator belongs to one decode.
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sw_jv {
	const char *path;	/* prefix for messages, e.g. "body" */
	int bad;		/* number of problems seen */
	char err[256];		/* the first one */
};

void sw_jv_init(struct sw_jv *v, const char *path);
void sw_jv_fail(struct sw_jv *v, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *sw_jv_str(struct sw_jv *v, const json_t *obj, const char *key,
		      size_t maxlen, bool required, const char *def);
int64_t sw_jv_int(struct sw_jv *v, const json_t *obj, const char *key,
		  int64_t min, int64_t max, bool required, int64_t def);
bool sw_jv_bool(struct sw_jv *v, const json_t *obj, const char *key,
		bool required, bool def);
json_t *sw_jv_obj(struct sw_jv *v, const json_t *obj, const char *key,
		  bool required);
json_t *sw_jv_arr(struct sw_jv *v, const json_t *obj, const char *key,
		  size_t maxlen, bool required);
const char *sw_jv_uuid(struct sw_jv *v, const json_t *obj, const char *key,
		       bool required);
const char *sw_jv_enum(struct sw_jv *v, const json_t *obj, const char *key,
		       const char *const *allowed, bool required,
		       const char *def);
/* fail if obj has a key not in the NULL-terminated list */
void sw_jv_known(struct sw_jv *v, const json_t *obj, const char *const *keys);

const char *sw_json_str_or(const json_t *obj, const char *key, const char *def);

#endif /* SW_JSON_H */
