// FUZZ_SOURCES: common/envelope.c common/jarena.c common/json.c common/uuid.c
// FUZZ_SOURCES: common/swtime.c proto/proto.c common/jparse.c common/jsonw.c
// FUZZ_SOURCES: common/utf8.c
// FUZZ_LIBS: -ljansson
/* fuzz_envelope.c - bus envelope parsing and the body validator */
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"
#include "common/json.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = {"rfc2833", "info", "inband", NULL};
	struct sw_env env;
	struct sw_jv v;
	char err[256];

	if (sw_env_parse(&env, data, size, err, sizeof(err)))
		return 0;

	/* walk a body the way a leg plan decoder does */
	sw_jv_init(&v, "body");
	(void)sw_proto_known(env.type);
	(void)sw_jv_uuid(&v, env.body, "session", false);
	json_t *a = sw_jv_obj(&v, env.body, "a", false);
	(void)sw_jv_str(&v, a, "remote_ip", 64, false, NULL);
	(void)sw_jv_int(&v, a, "remote_port", 0, 65535, false, 0);
	(void)sw_jv_enum(&v, a, "dtmf_send", modes, false, "rfc2833");
	(void)sw_jv_arr(&v, env.body, "attempts", 16, false);
	(void)sw_jv_bool(&v, env.body, "allow", false, false);

	/* a batch's items, as the bus hands them out (docs/bus.md) */
	json_t *items = json_object_get(env.body, "items");

	for (size_t i = 0; i < json_array_size(items) && i < 300; i++) {
		const char *type;
		json_t *body;

		if (!sw_env_batch_item(items, i, &type, &body, err,
				       sizeof(err)))
			(void)sw_proto_allowed(type, SW_ROLE_SIGNALING);
	}
	sw_env_reset(&env);
	return 0;
}
