/*
 * ports.c - round-robin allocator of even RTP/RTCP port pairs
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mediaproxy/ports.h"

/*
 * Set up the pairs that fit in [port_min, port_max]: the first even port at
 * or above port_min, then every second port while RTP + 1 <= port_max.
 * EINVAL when not a single pair fits.
 */
int mp_ports_init(struct mp_ports *ports, uint32_t port_min,
		  uint32_t port_max)
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
	if (!ports->used)
		return ENOMEM;
	ports->nfree = ports->npairs;

	return 0;
}

/* Release the table; the struct may be initialised again. */
void mp_ports_close(struct mp_ports *ports)
{
	if (!ports)
		return;
	free(ports->used);
	memset(ports, 0, sizeof(*ports));
}

/*
 * Book the next free pair after the cursor; *rtp_portp gets its RTP port.
 * ENOSPC when every pair is in use.
 */
int mp_ports_get(struct mp_ports *ports, uint16_t *rtp_portp)
{
	uint32_t idx;

	if (!ports || !rtp_portp || !ports->used)
		return EINVAL;
	if (!ports->nfree)
		return ENOSPC;

	for (uint32_t n = 0; n < ports->npairs; n++) {
		idx = (ports->next + n) % ports->npairs;
		if (ports->used[idx])
			continue;

		ports->used[idx] = 1;
		ports->nfree--;
		ports->next = (idx + 1) % ports->npairs;
		*rtp_portp = (uint16_t)(ports->first + 2 * idx);
		return 0;
	}

	return ENOSPC;	/* not reached while nfree is right */
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
