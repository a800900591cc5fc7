/*
 * json.c - validating getters for JSON received from outside
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/uuid.h"

/* Start a validation; path prefixes every message ("body", "cdr"...). */
void sw_jv_init(struct sw_jv *v, const char *path)
{
	memset(v, 0, sizeof(*v));
	v->path = path ? path : "";
}

/* Record a problem with key; only the first one is kept. */
void sw_jv_fail(struct sw_jv *v, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (v->bad++)
		return;

	n = snprintf(v->err, sizeof(v->err), "%s%s%s: ", v->path,
		     (*v->path && key && *key) ? "." : "", key ? key : "");
	if (n < 0 || (size_t)n >= sizeof(v->err))
		return;
	va_start(ap, fmt);
	vsnprintf(v->err + n, sizeof(v->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

static json_t *get(struct sw_jv *v, const json_t *obj, const char *key,
		   bool required)
{
	json_t *j;

	if (!json_is_object(obj)) {
		sw_jv_fail(v, key, "parent is not an object");
		return NULL;
	}
	j = json_object_get(obj, key);
	if ((!j || json_is_null(j)) && required)
		sw_jv_fail(v, key, "required");
	return json_is_null(j) ? NULL : j;
}

/* A string of at most maxlen bytes with no NUL; def ("" if NULL) if absent. */
const char *sw_jv_str(struct sw_jv *v, const json_t *obj, const char *key,
		      size_t maxlen, bool required, const char *def)
{
	json_t *j = get(v, obj, key, required);
	const char *s;

	if (!def)
		def = "";
	if (!j)
		return def;
	if (!json_is_string(j)) {
		sw_jv_fail(v, key, "must be a string");
		return def;
	}
	s = json_string_value(j);
	if (json_string_length(j) > maxlen) {
		sw_jv_fail(v, key, "longer than %zu bytes", maxlen);
		return def;
	}
	if (strlen(s) != json_string_length(j)) {
		sw_jv_fail(v, key, "contains a NUL character");
		return def;
	}
	return s;
}

/* An integer in [min, max]; def if absent. */
int64_t sw_jv_int(struct sw_jv *v, const json_t *obj, const char *key,
		  int64_t min, int64_t max, bool required, int64_t def)
{
	json_t *j = get(v, obj, key, required);
	json_int_t n;

	if (!j)
		return def;
	if (!json_is_integer(j)) {
		sw_jv_fail(v, key, "must be an integer");
		return def;
	}
	n = json_integer_value(j);
	if (n < min || n > max) {
		sw_jv_fail(v, key, "must be %lld..%lld", (long long)min,
			   (long long)max);
		return def;
	}
	return n;
}

/* A JSON boolean; def if absent. */
bool sw_jv_bool(struct sw_jv *v, const json_t *obj, const char *key,
		bool required, bool def)
{
	json_t *j = get(v, obj, key, required);

	if (!j)
		return def;
	if (!json_is_boolean(j)) {
		sw_jv_fail(v, key, "must be true or false");
		return def;
	}
	return json_is_true(j);
}

/* A nested object (borrowed), NULL if absent or wrong. */
json_t *sw_jv_obj(struct sw_jv *v, const json_t *obj, const char *key,
		  bool required)
{
	json_t *j = get(v, obj, key, required);

	if (j && !json_is_object(j)) {
		sw_jv_fail(v, key, "must be an object");
		return NULL;
	}
	return j;
}

/* A nested array of at most maxlen elements (borrowed). */
json_t *sw_jv_arr(struct sw_jv *v, const json_t *obj, const char *key,
		  size_t maxlen, bool required)
{
	json_t *j = get(v, obj, key, required);

	if (!j)
		return NULL;
	if (!json_is_array(j)) {
		sw_jv_fail(v, key, "must be an array");
		return NULL;
	}
	if (json_array_size(j) > maxlen) {
		sw_jv_fail(v, key, "more than %zu elements", maxlen);
		return NULL;
	}
	return j;
}

/* A UUID string; "" if absent and optional. */
const char *sw_jv_uuid(struct sw_jv *v, const json_t *obj, const char *key,
		       bool required)
{
	const char *s = sw_jv_str(v, obj, key, SW_UUID_LEN, required, "");

	if (*s && !sw_uuid_valid(s)) {
		sw_jv_fail(v, key, "must be a UUID");
		return "";
	}
	return s;
}

/* One of the NULL-terminated allowed strings; def if absent. */
const char *sw_jv_enum(struct sw_jv *v, const json_t *obj, const char *key,
		       const char *const *allowed, bool required,
		       const char *def)
{
	const char *s = sw_jv_str(v, obj, key, 64, required, NULL);
	char list[160] = "";
	size_t n = 0;

	if (!json_object_get(obj, key) ||
	    json_is_null(json_object_get(obj, key)))
		return def ? def : "";
	for (const char *const *a = allowed; *a; a++) {
		if (!strcmp(s, *a))
			return *a;
		n += (size_t)snprintf(list + n, n < sizeof(list) ?
				      sizeof(list) - n : 0, "%s%s",
				      a == allowed ? "" : ", ", *a);
		if (n >= sizeof(list))
			n = sizeof(list) - 1;
	}
	sw_jv_fail(v, key, "must be one of: %s", list);
	return def ? def : "";
}

/* Fail on the first key of obj that is not in the NULL-terminated list. */
void sw_jv_known(struct sw_jv *v, const json_t *obj, const char *const *keys)
{
	const char *key;
	json_t *val;

	if (!json_is_object(obj))
		return;
	json_object_foreach((json_t *)(uintptr_t)obj, key, val) {
		const char *const *k;

		(void)val;
		for (k = keys; *k; k++) {
			if (!strcmp(*k, key))
				break;
		}
		if (!*k) {
			sw_jv_fail(v, key, "unknown field");
			return;
		}
	}
}

/* The string at key, or def when absent or not a string. */
const char *sw_json_str_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
}
