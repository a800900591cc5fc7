/*
 * share.h - each customer account's share of a node's port pairs
 *
 * A fairness cap (issue 9, item 6): one account may hold at most
 * account_port_share_pct % of the node's port pairs (two per session), so
 * a flood from one customer leaves ports for the others.  signalingd names
 * the billed account in media.offer ("account"); offers without one are
 * not counted.  This module only keeps the count of sessions per account.
 *
 * Ownership: the node owns the table; entries live while their count > 0.
 * Threading: mediaproxyd main loop only.
 * Bus:       none (control.c refuses a media.offer over the share).
 */
#ifndef MP_SHARE_H
#define MP_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct mp_share;

int mp_share_alloc(struct mp_share **sharep);
uint32_t mp_share_count(const struct mp_share *share, const char *account);
bool mp_share_allows(const struct mp_share *share, const char *account,
		     uint32_t pairs, unsigned pct);
int mp_share_add(struct mp_share *share, const char *account);
void mp_share_del(struct mp_share *share, const char *account);

#endif /* MP_SHARE_H */
