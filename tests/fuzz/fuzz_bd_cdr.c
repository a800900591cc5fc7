// FUZZ_SOURCES: billingd/*.c model/*.c common/*.c proto/*.c
// FUZZ_LIBS: -lre -lpq -lnng -ljansson -largon2 -lcurl -lcrypto -lsystemd
// FUZZ_LIBS: -lpthread -lm
/* fuzz_bd_cdr.c - billingd's decoder of cdr.submit bodies (bus input) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "billingd/cdr.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bd_cdr_rec rec;
	char err[256];
	json_t *body;

	sw_log_set_level(SW_LOG_ERR);
	body = json_loadb((const char *)data, size, 0, NULL);
	if (!body)
		return 0;
	memset(&rec, 0, sizeof(rec));
	if (!bd_cdr_decode(&rec, body, err, sizeof(err)))
		bd_cdr_rec_reset(&rec);
	json_decref(body);
	return 0;
}
