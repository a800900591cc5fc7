// FUZZ_SOURCES: mediaproxy/config.c mediaproxy/control.c mediaproxy/heartbeat.c mediaproxy/node.c mediaproxy/ports.c mediaproxy/relay.c mediaproxy/session.c mediaproxy/share.c mediaproxy/stats.c mediaproxy/xcode/codec.c mediaproxy/xcode/repack.c mediaproxy/xcode/rtcp.c mediaproxy/xcode/rtp.c mediaproxy/xcode/xcode.c mediaproxy/dsp/cng.c mediaproxy/dsp/ec.c mediaproxy/dsp/gain.c mediaproxy/dsp/jb.c mediaproxy/dsp/plc.c mediaproxy/dsp/resample.c mediaproxy/dtmf/inband.c mediaproxy/dtmf/rtpev.c common/bus.c common/conf.c common/envelope.c common/json.c common/log.c common/money.c common/swtime.c common/sysperf.c common/uuid.c proto/proto.c
// FUZZ_LIBS: -lbcg729 -lopus -lspandsp -lspeexdsp -lre -lnng -ljansson -lpthread -lm
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
