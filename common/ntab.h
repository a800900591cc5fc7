/*
 * ntab.h - entries keyed by name, found or created in one call
 *
 * The daemons keep small state per gateway, account or number (line use,
 * ASR counters, keepalive probes, CPS buckets, registrations) that lives
 * across table reloads and is keyed by name.  One table type serves them
 * all: a hash table of fixed-size entries, each zeroed when created, with
 * a destructor for what an entry owns.
 *
 * Ownership: the table owns its entries; a pointer to an entry is valid
 * until the entry is deleted or the table freed.
 * Threading: one thread per table.
 * Bus:       none.
 */
#ifndef SW_NTAB_H
#define SW_NTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_NTAB_NAME_MAX 127 /* bytes of a key at most */

struct sw_ntab;

/* releases what an entry owns (not the entry itself) */
typedef void(sw_ntab_free_h)(void *entry);
/* one entry of a walk: true stops it; the entry may be deleted */
typedef bool(sw_ntab_walk_h)(const char *name, void *entry, void *arg);

int sw_ntab_alloc(struct sw_ntab **tp, size_t entry_size, sw_ntab_free_h *fh);
void sw_ntab_free(struct sw_ntab *t);
void *sw_ntab_find(const struct sw_ntab *t, const char *name);
void *sw_ntab_get(struct sw_ntab *t, const char *name, bool *createdp);
void sw_ntab_del(struct sw_ntab *t, const char *name);
void sw_ntab_walk(struct sw_ntab *t, sw_ntab_walk_h *h, void *arg);
size_t sw_ntab_count(const struct sw_ntab *t);
const char *sw_ntab_name(const void *entry);
uint32_t sw_str_hash(const char *s);

#endif /* SW_NTAB_H */
