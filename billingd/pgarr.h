/*
 * pgarr.h - one-dimensional PostgreSQL arrays in the binary wire format,
 * for statement parameters sent with format 1 (array_recv): the server
 * takes the elements as they are, without parsing an array literal; and
 * the rows of a binary COPY stream, whose fields are written the same way
 */
#ifndef BD_PGARR_H
#define BD_PGARR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/jsonw.h"

/* element types (pg_type.oid), as array_recv checks them */
enum bd_pgarr_type {
	BD_PGARR_INT4 = 23,
	BD_PGARR_INT8 = 20,
	BD_PGARR_TEXT = 25,
	BD_PGARR_UUID = 2950,
	BD_PGARR_JSONB = 3802,
};

/* one array being written at the end of w */
struct bd_pgarr {
	struct sw_jw *w; /* borrowed */
	size_t start;	 /* where its header starts in w */
	enum bd_pgarr_type type;
};

void bd_pgarr_begin(struct bd_pgarr *a, struct sw_jw *w,
		    enum bd_pgarr_type type, uint32_t n);
void bd_pgarr_int(struct bd_pgarr *a, int64_t v);
void bd_pgarr_str(struct bd_pgarr *a, const char *s);
bool bd_pgarr_uuid(struct bd_pgarr *a, const char *s);
void bd_pgarr_null(struct bd_pgarr *a);
size_t bd_pgarr_len(const struct bd_pgarr *a);

/* one value (an array element, a COPY field): int32 length, its bytes */
void bd_pgbin_int(struct sw_jw *w, enum bd_pgarr_type type, int64_t v);
void bd_pgbin_str(struct sw_jw *w, enum bd_pgarr_type type, const char *s);
bool bd_pgbin_uuid(struct sw_jw *w, const char *s);
void bd_pgbin_null(struct sw_jw *w);
void bd_pgbin_int8_array(struct sw_jw *w, const int64_t *v, size_t n);
void bd_pgbin_time_ms(struct sw_jw *w, int64_t ms);

/* COPY ... FROM STDIN (FORMAT binary): begin, per row its field count and
 * fields, end */
void bd_pgcopy_begin(struct sw_jw *w);
void bd_pgcopy_row(struct sw_jw *w, unsigned nfields);
void bd_pgcopy_end(struct sw_jw *w);

#endif /* BD_PGARR_H */
