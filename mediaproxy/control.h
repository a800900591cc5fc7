/*
 * control.h - the node's bus requests (REP on bus_listen)
 *
 * Decodes and checks every field of media.offer, media.answer,
 * media.update (with their optional `media` object), media.delete,
 * media.query, media.play_dtmf and health.ping exactly as docs/bus.md
 * describes them, drives session.c and answers.  Bad input gets
 * error/bad_request naming the field ("body.a.remote_port: ..."), an unknown
 * session not_found, exhausted ports or transcoding budget no_capacity; the
 * node keeps serving whatever arrives.
 *
 * Threading: mediaproxyd main loop only (inside sw_bus_drain).
 * Bus:       media.offer/answer/update/delete/query/play_dtmf,
 *            health.ping.
 */
#ifndef MP_CONTROL_H
#define MP_CONTROL_H

#include <jansson.h>

struct sw_bus_req;
struct sw_env;
struct sw_jv;
struct mp_plan;

void mp_control_request(struct sw_bus_req *req, const struct sw_env *env,
			void *arg);
void mp_control_decode_plan(struct mp_plan *plan, struct sw_jv *v,
			    const json_t *obj);

#endif /* MP_CONTROL_H */
