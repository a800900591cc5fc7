/*
 * jsonw.h - JSON text written straight into a growing buffer
 *
 * For the hot paths that would otherwise build a jansson tree only to dump
 * it (billingd's CDR store batches): the caller writes the punctuation, the
 * writer escapes strings and formats numbers.  Strings must be valid UTF-8
 * (what jansson decoded is); bytes below 0x20, '"' and '\' are escaped.
 * A failed allocation is remembered (oom) and later writes do nothing, so
 * the caller checks once at the end.  The buffer is kept between uses
 * (sw_jw_reset) and freed by sw_jw_free.
 *
 * Threading: one writer per thread.
 */
#ifndef SW_JSONW_H
#define SW_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sw_jw {
	char *buf; /* owned, NUL-terminated after every write */
	size_t len, cap;
	bool oom;
};

void sw_jw_reset(struct sw_jw *w);
void sw_jw_free(struct sw_jw *w);
void sw_jw_raw(struct sw_jw *w, const char *s);
void sw_jw_str(struct sw_jw *w, const char *s);
/* a string from the wire: as sw_json_text() (utf8.h) sanitises it */
void sw_jw_text(struct sw_jw *w, const char *s);
void sw_jw_i64(struct sw_jw *w, int64_t v);
void sw_jw_mem(struct sw_jw *w, const char *s, size_t n);
void sw_jw_json(struct sw_jw *w, const json_t *j);
/* ,"key": (the comma unless first) then a value */
void sw_jw_key(struct sw_jw *w, const char *key, bool first);
void sw_jw_kstr(struct sw_jw *w, const char *key, const char *s);
void sw_jw_ki64(struct sw_jw *w, const char *key, int64_t v);
void sw_jw_ktext(struct sw_jw *w, const char *key, const char *s);

#endif /* SW_JSONW_H */
