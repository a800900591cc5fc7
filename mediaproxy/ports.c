/*
 * ports.c - random allocator of even RTP/RTCP port pairs (ports.h)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/swtime.h"
#include "mediaproxy/ports.h"

static uint64_t next_random(struct mp_ports *ports)
{
	uint64_t x = ports->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ports->rng = x;
	return x;
}

/*
 * Set up the pairs that fit in [port_min, port_max]: the first even port at
 * or above port_min, then every second port while RTP + 1 <= port_max.
 * EINVAL when not a single pair fits.
 */
int mp_ports_init(struct mp_ports *ports, uint32_t port_min, uint32_t port_max)
{
	uint32_t first;

	if (!ports)
		return EINVAL;

	memset(ports, 0, sizeof(*ports));
	first = (port_min + 1) & ~1u;
	if (port_min == 0 || port_max > 65535 || first + 1 > port_max)
		return EINVAL;

	ports->first = (uint16_t)first;
	ports->npairs = (port_max - first + 1) / 2;
	ports->used = calloc(ports->npairs, 1);
	ports->freed_s = calloc(ports->npairs, sizeof(*ports->freed_s));
	ports->ready = calloc(ports->npairs, sizeof(*ports->ready));
	ports->fifo = calloc(ports->npairs, sizeof(*ports->fifo));
	if (!ports->used || !ports->freed_s || !ports->ready || !ports->fifo) {
		mp_ports_close(ports);
		return ENOMEM;
	}
	for (uint32_t i = 0; i < ports->npairs; i++)
		ports->ready[i] = i;
	ports->nready = ports->npairs;
	ports->nfree = ports->npairs;
	if (getrandom(&ports->rng, sizeof(ports->rng), 0) !=
		(ssize_t)sizeof(ports->rng) ||
	    !ports->rng)
		ports->rng = (uint64_t)sw_time_mono_us() | 1u;

	return 0;
}

/* Release the table; the struct may be initialised again. */
void mp_ports_close(struct mp_ports *ports)
{
	if (!ports)
		return;
	free(ports->used);
	free(ports->freed_s);
	free(ports->ready);
	free(ports->fifo);
	memset(ports, 0, sizeof(*ports));
}

/* the pair at the FIFO's head, taken out of it */
static uint32_t fifo_pop(struct mp_ports *ports)
{
	uint32_t idx = ports->fifo[ports->fifo_head];

	ports->fifo_head = (ports->fifo_head + 1) % ports->npairs;
	ports->nfifo--;
	return idx;
}

/*
 * Book a free pair at random, one out of quarantine when there is one;
 * *rtp_portp gets its RTP port.  ENOSPC when every pair is in use.
 */
int mp_ports_get(struct mp_ports *ports, uint16_t *rtp_portp)
{
	int64_t now = sw_time_mono_ms() / 1000;
	uint32_t idx;

	if (!ports || !rtp_portp || !ports->used)
		return EINVAL;
	if (!ports->nfree)
		return ENOSPC;

	/* quarantines ended: the FIFO is in the order pairs were freed */
	while (ports->nfifo &&
	       now - ports->freed_s[ports->fifo[ports->fifo_head]] >=
		   MP_PORTS_QUARANTINE_S)
		ports->ready[ports->nready++] = fifo_pop(ports);
	if (ports->nready) {
		uint32_t i = (uint32_t)(next_random(ports) % ports->nready);

		idx = ports->ready[i];
		ports->ready[i] = ports->ready[--ports->nready];
	} else {
		/* every free pair in quarantine: the one freed longest ago */
		idx = fifo_pop(ports);
	}
	ports->used[idx] = 1;
	ports->nfree--;
	*rtp_portp = (uint16_t)(ports->first + 2 * idx);
	return 0;
}

static bool index_of(const struct mp_ports *ports, uint16_t rtp_port,
		     uint32_t *idxp)
{
	uint32_t off;

	if (!ports || !ports->used || rtp_port < ports->first)
		return false;
	off = (uint32_t)rtp_port - ports->first;
	if (off & 1u || off / 2 >= ports->npairs)
		return false;
	*idxp = off / 2;
	return true;
}

/* Give a pair back; unknown or already free ports are ignored. */
void mp_ports_put(struct mp_ports *ports, uint16_t rtp_port)
{
	uint32_t idx;

	if (!index_of(ports, rtp_port, &idx) || !ports->used[idx])
		return;
	ports->used[idx] = 0;
	ports->freed_s[idx] = sw_time_mono_ms() / 1000;
	ports->fifo[(ports->fifo_head + ports->nfifo) % ports->npairs] = idx;
	ports->nfifo++;
	ports->nfree++;
}

/* True when the pair starting at rtp_port is booked. */
bool mp_ports_in_use(const struct mp_ports *ports, uint16_t rtp_port)
{
	uint32_t idx;

	return index_of(ports, rtp_port, &idx) && ports->used[idx];
}

/* Pairs left. */
uint32_t mp_ports_free_count(const struct mp_ports *ports)
{
	return ports ? ports->nfree : 0;
}
