/*
 * cdr.c - the CDR object of docs/bus.md built from a finished call
 */
#include <string.h>

#include "common/jsonw.h"
#include "signaling/call.h"
#include "signaling/calldtmf.h"
#include "signaling/media.h"

/* RFC 3398 section 8.2.6.1: SIP final response -> Q.850 cause */
int sg_q850_of(int code)
{
	static const struct {
		int sip, q850;
	} map[] = {
	    {200, 16},	{400, 41},  {401, 21},	{402, 21},  {403, 21},
	    {404, 1},	{405, 63},  {406, 79},	{407, 21},  {408, 102},
	    {410, 22},	{413, 127}, {414, 127}, {415, 79},  {416, 127},
	    {420, 127}, {421, 127}, {423, 127}, {480, 18},  {481, 41},
	    {482, 25},	{483, 25},  {484, 28},	{485, 1},   {486, 17},
	    {487, 127}, {488, 127}, {500, 41},	{501, 79},  {502, 38},
	    {503, 41},	{504, 102}, {505, 127}, {513, 127}, {600, 17},
	    {603, 21},	{604, 1},   {606, 58},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].sip == code)
			return map[i].q850;
	if (code >= 400 && code < 500)
		return 21;
	if (code >= 500 && code < 600)
		return 41;
	if (code >= 600)
		return 31;
	return 0;
}

/* the fields kept from the CDR journaled at answer time that a recovered
 * call's end replaces */
static const char *const end_keys[] = {
    "end_ms",	     "hold_ms",	   "end_code", "end_text",
    "end_direction", "end_reason", "q850",     "rtp",
};

/*
 * A call recovered after a restart: what was known at answer time (the
 * journaled CDR), plus how it ended (the fields just written at from).
 * The rare path, so through jansson; false when out of memory.
 */
static bool merge_recovered(struct sw_jw *w, size_t from,
			    const json_t *recovered)
{
	json_t *now = json_loads(w->buf + from, 0, NULL);
	json_t *rec = json_deep_copy(recovered);
	bool ok = now && rec;

	for (size_t i = 0; ok && i < sizeof(end_keys) / sizeof(end_keys[0]);
	     i++)
		json_object_set(rec, end_keys[i],
				json_object_get(now, end_keys[i]));
	if (ok) {
		w->len = from;
		sw_jw_json(w, rec);
	}
	json_decref(now);
	json_decref(rec);
	return ok && !w->oom;
}

/*
 * The CDR of a finished call, appended to w as one JSON object (docs/
 * bus.md); false only when out of memory.  Every string from a call goes
 * through sw_jw_text(), so no byte of a call can make it fail.  A call
 * whose 200 was never acknowledged by the caller (AckTimeout) has no hold
 * time: the caller never had the call, so it is recorded as answered by
 * the vendor but billed as not connected.  Written as text, not as a
 * jansson tree: it is built twice for every answered call (the restart
 * journal, the spool).
 */
bool sg_cdr_write(struct sw_jw *w, const struct sg_call *c)
{
	int64_t hold = 0;
	const char *dtmf_a, *dtmf_b;
	size_t from = w->len;

	if (c->answer_ms && c->end_mono > c->answer_mono &&
	    strcmp(c->end_reason, "AckTimeout"))
		hold = c->end_mono - c->answer_mono;
	sg_calldtmf_modes(c, &dtmf_a, &dtmf_b);

	sw_jw_raw(w, "{\"id\":");
	sw_jw_text(w, c->id);
	sw_jw_ktext(w, "call_id_a", c->callid_a);
	sw_jw_ktext(w, "call_id_b", c->nattempts ? c->callid_b : "");
	sw_jw_ktext(w, "caller_in", c->caller_in);
	sw_jw_ktext(w, "callee_in", c->callee_in);
	sw_jw_ktext(w, "caller", c->caller);
	sw_jw_ktext(w, "callee", c->callee);
	sw_jw_ktext(w, "caller_out", c->caller_out);
	sw_jw_ktext(w, "callee_out", c->callee_out);
	sw_jw_ktext(w, "src_ip", c->src_ip);
	sw_jw_ktext(w, "dst_ip", c->dst_ip);
	sw_jw_ktext(w, "mapping_gateway", c->mgw->name);
	sw_jw_ktext(w, "account", c->account);
	sw_jw_ktext(w, "routing_gateway", c->routing_gw);
	sw_jw_ki64(w, "setup_ms", c->setup_ms);
	sw_jw_ki64(w, "ringing_ms", c->ringing_ms);
	sw_jw_ki64(w, "answer_ms", c->answer_ms);
	sw_jw_ki64(w, "end_ms", c->end_ms);
	sw_jw_ki64(w, "hold_ms", hold);
	sw_jw_ki64(w, "pdd_ms", c->pdd_ms);
	sw_jw_ki64(w, "end_code", c->end_code);
	sw_jw_ktext(w, "end_text", c->end_text);
	sw_jw_ktext(w, "end_direction", c->end_dir);
	sw_jw_ktext(w, "end_reason", c->end_reason);
	sw_jw_ki64(w, "q850", sg_q850_of(c->end_code));
	sw_jw_key(w, "attempts", false);
	sw_jw_raw(w, "[");
	for (size_t i = 0; i < c->nattempts; i++) {
		const struct sg_attempt_rec *a = &c->attempts[i];

		sw_jw_raw(w, i ? ",{\"gateway\":" : "{\"gateway\":");
		sw_jw_text(w, a->gateway);
		sw_jw_ki64(w, "code", a->code);
		sw_jw_ki64(w, "start_ms", a->start_ms);
		sw_jw_ki64(w, "end_ms", a->end_ms ? a->end_ms : c->end_ms);
		sw_jw_raw(w, "}");
	}
	sw_jw_raw(w, "]");
	sw_jw_ktext(w, "codec_a", c->codec_a);
	sw_jw_ktext(w, "codec_b", c->codec_b);
	sw_jw_ktext(w, "dtmf_a", dtmf_a);
	sw_jw_ktext(w, "dtmf_b", dtmf_b);
	sw_jw_ktext(w, "media_node",
		    c->node && c->media_up ? c->node->node_id : "");
	sw_jw_key(w, "rtp", false);
	if (c->rtp)
		sw_jw_json(w, c->rtp);
	else
		sw_jw_raw(w, "{}");
	if (c->card[0]) /* paid by a phone card (its own account) */
		sw_jw_ktext(w, "card", c->card);
	sw_jw_raw(w, "}");
	if (w->oom)
		return false;
	return c->recovered_cdr ? merge_recovered(w, from, c->recovered_cdr)
				: true;
}
