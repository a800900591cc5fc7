// FUZZ_SOURCES: mediaproxy/*.c mediaproxy/*/*.c common/*.c proto/*.c
// FUZZ_LIBS: -lbcg729 -lopus -lspandsp -lspeexdsp -lre
// FUZZ_LIBS: -lavcodec -lavutil
// FUZZ_LIBS: -lnng -ljansson -lcrypto -lsystemd -lpthread -lm
/* fuzz_mp_plan.c - mediaproxyd's decoder of media.offer leg plans */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "common/log.h"
#include "mediaproxy/control.h"
#include "mediaproxy/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_plan plan;
	struct sw_jv v;
	json_t *obj;

	sw_log_set_level(SW_LOG_ERR);
	obj = json_loadb((const char *)data, size, 0, NULL);
	if (!obj)
		return 0;
	memset(&plan, 0, sizeof(plan));
	sw_jv_init(&v, "body.a");
	mp_control_decode_plan(&plan, &v, obj);
	json_decref(obj);
	return 0;
}
