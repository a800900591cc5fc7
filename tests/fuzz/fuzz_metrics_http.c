// FUZZ_SOURCES: common/metrics.c common/conf.c common/log.c common/swtime.c
// FUZZ_LIBS: -lpthread -lm
/*
 * fuzz_metrics_http.c - sw_metrics_http_parse() never reads past the bytes
 * it is given, answers only the codes it names, and an answer once given
 * does not change when more bytes follow (a request is complete at its
 * blank line); label values of any bytes render to one line.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 8);
	bool head = false, head2 = false;
	struct sw_mtext t = {0};
	const char *labels[2];
	char *lv;
	int code, code2;

	assert(copy);
	memcpy(copy, data, size);
	code = sw_metrics_http_parse(copy, size, &head);
	assert(code == 0 || code == 200 || code == 400 || code == 404 ||
	       code == 405 || code == 431);
	assert(!head || code == 200);
	if (code && code != 431) {
		memcpy(copy + size, "GET x\r\n", 8);
		code2 = sw_metrics_http_parse(copy, size + 8, &head2);
		assert(code2 == code && head2 == head);
	}
	if (code == 0)
		assert(size < SW_METRICS_REQ);
	free(copy);

	/* any bytes as a label value (up to the first NUL): one line */
	lv = malloc(size + 1);
	assert(lv);
	memcpy(lv, data, size);
	lv[size] = '\0';
	labels[0] = "gateway";
	labels[1] = lv;
	sw_mt_sample(&t, "tandem_test_total", 1, 1, labels);
	assert(t.oom || (t.len > 0 && t.buf[t.len - 1] == '\n' &&
			 memchr(t.buf, '\n', t.len) == t.buf + t.len - 1));
	sw_mt_free(&t);
	free(lv);
	return 0;
}
