/*
 * ports.h - the node's RTP/RTCP port pairs
 *
 * The range [port_min, port_max] is cut into pairs (even RTP port, RTCP =
 * RTP + 1).  A pair is drawn at random among the free ones (SPEC §8: an
 * attacker cannot guess the next call's ports from the last one's), and a
 * pair freed less than MP_PORTS_QUARANTINE_S ago is taken only when no
 * other is free (late packets of an old call do not reach a new one).  The
 * allocator only books numbers; relay.c binds the sockets and gives a pair
 * back when the bind fails, then asks for the next one.
 *
 * Every operation is O(1) (amortised): the free pairs out of quarantine
 * are an array drawn from at random; a freed pair waits in a FIFO, in the
 * order pairs were freed, and moves to that array when its quarantine
 * ends.  At a high call rate most of the range is in quarantine at once;
 * the allocator never scans it.
 *
 * Ownership: the node owns one struct mp_ports.
 * Threading: main loop only.
 * Bus:       free_ports of node.heartbeat; exhaustion => no_capacity.
 */
#ifndef MP_PORTS_H
#define MP_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define MP_PORTS_QUARANTINE_S 10

struct mp_ports {
	uint16_t first; /* RTP port of pair 0 (even) */
	uint32_t npairs;
	uint32_t nfree;
	uint8_t *used;	  /* owned: one byte per pair */
	int64_t *freed_s; /* owned: when each pair was freed (monotonic s) */
	uint32_t *ready;  /* owned: free pairs out of quarantine, nready */
	uint32_t nready;
	uint32_t *fifo; /* owned: freed pairs in quarantine, a ring of
			 * npairs from fifo_head, nfifo long */
	uint32_t fifo_head, nfifo;
	uint64_t rng; /* xorshift64 state, seeded by getrandom */
};

int mp_ports_init(struct mp_ports *ports, uint32_t port_min, uint32_t port_max);
void mp_ports_close(struct mp_ports *ports);
int mp_ports_get(struct mp_ports *ports, uint16_t *rtp_portp);
void mp_ports_put(struct mp_ports *ports, uint16_t rtp_port);
bool mp_ports_in_use(const struct mp_ports *ports, uint16_t rtp_port);
uint32_t mp_ports_free_count(const struct mp_ports *ports);

#endif /* MP_PORTS_H */
