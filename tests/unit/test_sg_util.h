/* test_sg_util.h - helpers shared by signalingd's SDP and codec tests */
#ifndef TEST_SG_UTIL_H
#define TEST_SG_UTIL_H

#include <stdio.h>
#include <string.h>

#include "signaling/codecpol.h"
#include "signaling/sdp.h"

/* a literal and its length (embedded NULs count) */
#define LIT(s) s, (sizeof(s) - 1)

/* formats as "name/pt name/pt ..." compared with want */
static inline void names(const struct sg_sdp_fmt *f, size_t n, const char *want)
{
	char got[256] = "";

	for (size_t i = 0; i < n; i++) {
		char one[48];

		snprintf(one, sizeof(one), "%s%s/%d", i ? " " : "", f[i].name,
			 f[i].pt);
		strncat(got, one, sizeof(got) - strlen(got) - 1);
	}
	assert_string_equal(got, want);
}

/* a gateway's media settings that must parse */
static inline void conf(struct sg_cp_conf *c, const char *json)
{
	char err[128];

	assert_int_equal(sg_cp_conf_parse(c, json, err, sizeof(err)), 0);
}

#endif /* TEST_SG_UTIL_H */
