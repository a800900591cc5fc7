// FUZZ_SOURCES: signaling/lastgood.c common/log.c common/swtime.c
// FUZZ_LIBS: -lpq -ljansson -lpthread
/*
 * fuzz_sg_lastgood.c - sg_lastgood_parse() on any bytes: an error with a
 * reason, or results whose every value reads back (no crash, no leak).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "signaling/lastgood.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PGresult *res[SG_LASTGOOD_MAX];
	char err[256] = "";
	int64_t saved = 0;
	size_t n = 99;
	int ret =
	    sg_lastgood_parse((const char *)data, size, res, SG_LASTGOOD_MAX,
			      &n, &saved, err, sizeof(err));

	if (ret) {
		assert(n == 0 && err[0]);
		return 0;
	}
	assert(n <= SG_LASTGOOD_MAX);
	for (size_t i = 0; i < n; i++) {
		int nf = PQnfields(res[i]);

		for (int r = 0; r < PQntuples(res[i]); r++)
			for (int c = 0; c < nf; c++)
				assert(PQgetvalue(res[i], r, c));
		for (int c = 0; c < nf; c++)
			assert(PQfname(res[i], c));
		PQclear(res[i]);
	}
	return 0;
}
