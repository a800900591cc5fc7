/*
 * share.c - sessions per customer account, for the port share cap
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mediaproxy/libre.h"
#include "mediaproxy/share.h"

#define BUCKETS 256

struct mp_share {
	struct hash *accounts; /* owned: struct entry by name */
};

struct entry {
	struct le he;
	uint32_t sessions;
	char name[65];
};

static void share_destructor(void *arg)
{
	struct mp_share *share = arg;

	hash_flush(share->accounts); /* entries are mem_deref'd */
	mem_deref(share->accounts);
}

static void entry_destructor(void *arg)
{
	struct entry *e = arg;

	hash_unlink(&e->he);
}

/* Allocate an empty table (mem_deref frees it). */
int mp_share_alloc(struct mp_share **sharep)
{
	struct mp_share *share;
	int err;

	if (!sharep)
		return EINVAL;
	share = mem_zalloc(sizeof(*share), share_destructor);
	if (!share)
		return ENOMEM;
	err = hash_alloc(&share->accounts, BUCKETS);
	if (err) {
		mem_deref(share);
		return err;
	}
	*sharep = share;

	return 0;
}

static bool name_cmp(struct le *le, void *arg)
{
	const struct entry *e = le->data;

	return !strcmp(e->name, arg);
}

static struct entry *find(const struct mp_share *share, const char *account)
{
	struct le *le;

	if (!share || !account || !account[0])
		return NULL;
	le = hash_lookup(share->accounts, hash_joaat_str(account), name_cmp,
			 (void *)(uintptr_t)account);

	return le ? le->data : NULL;
}

/* Sessions the account holds now. */
uint32_t mp_share_count(const struct mp_share *share, const char *account)
{
	const struct entry *e = find(share, account);

	return e ? e->sessions : 0;
}

/*
 * May the account take one more session (two pairs) of a node with pairs
 * usable pairs, capped at pct % of them?  An empty account and pct >= 100
 * are never capped; a cap is at least one session.
 */
bool mp_share_allows(const struct mp_share *share, const char *account,
		     uint32_t pairs, unsigned pct)
{
	uint64_t cap;

	if (!account || !account[0] || pct >= 100)
		return true;
	cap = (uint64_t)pairs * pct / 100 / 2;
	if (cap < 1)
		cap = 1;

	return mp_share_count(share, account) < cap;
}

/* One more session of account (none counted for an empty name). */
int mp_share_add(struct mp_share *share, const char *account)
{
	struct entry *e;

	if (!share || !account || !account[0])
		return 0;
	e = find(share, account);
	if (!e) {
		e = mem_zalloc(sizeof(*e), entry_destructor);
		if (!e)
			return ENOMEM;
		(void)snprintf(e->name, sizeof(e->name), "%s", account);
		hash_append(share->accounts, hash_joaat_str(e->name), &e->he,
			    e);
	}
	e->sessions++;

	return 0;
}

/* A session of account ended. */
void mp_share_del(struct mp_share *share, const char *account)
{
	struct entry *e = find(share, account);

	if (!e)
		return;
	if (e->sessions > 1)
		e->sessions--;
	else
		mem_deref(e);
}
