/*
 * cdr.c - the CDR object of docs/bus.md built from a finished call
 */
#include <string.h>

#include "common/utf8.h"
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

#define T(s) sw_json_text(s)

/*
 * Last resort when the full CDR cannot be built: ids, account, times and
 * the outcome, which is what billing needs to charge the call right.
 */
static json_t *minimal_cdr(const struct sg_call *c, int64_t hold)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I,"
	    " s:i, s:o}",
	    "id", T(c->id), "call_id_a", T(c->callid_a), "mapping_gateway",
	    T(c->mgw->name), "account", T(c->account), "routing_gateway",
	    T(c->routing_gw), "callee", T(c->callee), "setup_ms",
	    (json_int_t)c->setup_ms, "answer_ms", (json_int_t)c->answer_ms,
	    "end_ms", (json_int_t)c->end_ms, "hold_ms", (json_int_t)hold,
	    "end_code", c->end_code, "end_reason", T(c->end_reason));
}

/*
 * The CDR of a finished call (new reference, NULL only when out of
 * memory).  Every string goes through sw_json_text(), so no byte of a
 * call can make it fail.  A call whose 200 was never acknowledged by the
 * caller (AckTimeout) has no hold time: the caller never had the call, so
 * it is recorded as answered by the vendor but billed as not connected.
 */
json_t *sg_cdr_build(const struct sg_call *c)
{
	json_t *cdr, *attempts;
	int64_t hold = 0;
	const char *dtmf_a, *dtmf_b;

	if (c->answer_ms && c->end_mono > c->answer_mono &&
	    strcmp(c->end_reason, "AckTimeout"))
		hold = c->end_mono - c->answer_mono;
	sg_calldtmf_modes(c, &dtmf_a, &dtmf_b);
	attempts = json_array();
	for (size_t i = 0; attempts && i < c->nattempts; i++) {
		const struct sg_attempt_rec *a = &c->attempts[i];

		json_array_append_new(
		    attempts,
		    json_pack("{s:o, s:i, s:I, s:I}", "gateway", T(a->gateway),
			      "code", a->code, "start_ms",
			      (json_int_t)a->start_ms, "end_ms",
			      (json_int_t)(a->end_ms ? a->end_ms : c->end_ms)));
	}

	cdr = json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:o,"
	    " s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", T(c->id), "call_id_a", T(c->callid_a), "call_id_b",
	    T(c->nattempts ? c->callid_b : ""), "caller_in", T(c->caller_in),
	    "callee_in", T(c->callee_in), "caller", T(c->caller), "callee",
	    T(c->callee), "caller_out", T(c->caller_out), "callee_out",
	    T(c->callee_out), "src_ip", T(c->src_ip), "dst_ip", T(c->dst_ip),
	    "mapping_gateway", T(c->mgw->name), "account", T(c->account),
	    "routing_gateway", T(c->routing_gw), "setup_ms",
	    (json_int_t)c->setup_ms, "ringing_ms", (json_int_t)c->ringing_ms,
	    "answer_ms", (json_int_t)c->answer_ms, "end_ms",
	    (json_int_t)c->end_ms, "hold_ms", (json_int_t)hold, "pdd_ms",
	    (json_int_t)c->pdd_ms, "end_code", c->end_code, "end_text",
	    T(c->end_text), "end_direction", T(c->end_dir), "end_reason",
	    T(c->end_reason), "q850", sg_q850_of(c->end_code), "attempts",
	    attempts ? attempts : json_array(), "codec_a", T(c->codec_a),
	    "codec_b", T(c->codec_b), "dtmf_a", T(dtmf_a), "dtmf_b", T(dtmf_b),
	    "media_node", T(c->node && c->media_up ? c->node->node_id : ""),
	    "rtp", c->rtp ? json_deep_copy(c->rtp) : json_object());
	if (!cdr)
		cdr = minimal_cdr(c, hold);
	if (cdr && c->card[0]) /* paid by a phone card (its own account) */
		json_object_set_new(cdr, "card", T(c->card));

	if (cdr && c->recovered_cdr) {
		/* a call recovered after a restart: what was known at answer
		 * time, plus how it ended */
		static const char *const end_keys[] = {
		    "end_ms",	     "hold_ms",	   "end_code", "end_text",
		    "end_direction", "end_reason", "q850",     "rtp",
		};
		json_t *rec = json_deep_copy(c->recovered_cdr);

		for (size_t i = 0;
		     rec && i < sizeof(end_keys) / sizeof(end_keys[0]); i++)
			json_object_set(rec, end_keys[i],
					json_object_get(cdr, end_keys[i]));
		json_decref(cdr);
		cdr = rec;
	}
	return cdr;
}
