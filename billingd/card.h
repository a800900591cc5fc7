/*
 * card.h - phone cards: which card a dialled string names, and its PIN
 *
 * A phone-card call dials <access prefix><card number><PIN>#<destination>
 * (SPEC §2).  signalingd strips the access prefix and the destination and
 * sends the digits in between as auth.request's "card"; bd_card_check()
 * finds the card whose number is the longest prefix of them, compares the
 * rest with its PIN and answers which account pays the call.  A wrong PIN
 * is counted on the card (one UPDATE, atomic against concurrent tries) and
 * locks it at SERVER_PHONE_CARD_PIN_ATTEMPTS; a right one resets the count.
 * The PIN never leaves this file: it is not logged and not in any reply.
 *
 * Threading: re_main thread only.
 * Bus:       none (serves auth.request).
 */
#ifndef BD_CARD_H
#define BD_CARD_H

#include <stdint.h>

#include "billingd/lookup.h"

#define BD_CARD_DIGITS_MAX 48 /* card number + PIN */

enum bd_card_status {
	BD_CARD_OK,
	BD_CARD_UNKNOWN,   /* no card has that number */
	BD_CARD_WRONG_PIN, /* counted */
	BD_CARD_LOCKED,	   /* locked before, or by this wrong PIN */
	BD_CARD_EXPIRED,
};

struct bd_card_result {
	enum bd_card_status status;
	char number[BD_CARD_DIGITS_MAX + 1];
	char account[BD_NAME_MAX + 1]; /* the card's own account (OK only) */
	int64_t wrong_pins;	       /* after this try */
};

/* err as for bd_db_query handlers; r valid during the call only */
typedef void(bd_card_h)(int err, const struct bd_card_result *r, void *arg);

int bd_card_check(struct bd_db *db, const char *digits, int64_t max_wrong,
		  bd_card_h *h, void *arg);
int bd_card_prepare(struct bd_db *db);
const char *bd_card_reason(enum bd_card_status s);
int bd_card_sip_code(enum bd_card_status s);

#endif /* BD_CARD_H */
