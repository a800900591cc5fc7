/*
 * leg.h - the two legs of a media session
 *
 * One name for a leg everywhere in mediaproxyd: the relay's sockets, the
 * session's plans and the media engine's streams are all indexed by it.
 * Kept apart so the engine can name a leg without including the relay.
 *
 * Threading: any (a type only).
 * Bus:       "a" and "b" of every media.* message (docs/bus.md).
 */
#ifndef MP_LEG_H
#define MP_LEG_H

enum mp_leg_id {
	MP_LEG_A = 0, /* caller side */
	MP_LEG_B = 1, /* vendor side */
};

#endif /* MP_LEG_H */
