-- 0003_phone_cards.sql - prepaid phone cards (SPEC §2, issue 7 item 6)
-- A card is a number + PIN bound to its own prepaid account: the account
-- holds the balance, the rate table and the agent that sold the batch, so
-- reservations, rating, agent fees and the ledger are the accounts' own
-- (docs/phone-cards.md).  The card row holds what only a card has: the
-- PIN, the expiry and the wrong-PIN count.

CREATE TABLE phone_card_batches (
	id            bigserial PRIMARY KEY,
	name          text NOT NULL UNIQUE,
	agent_id      bigint REFERENCES accounts(id),
	rate_table_id bigint NOT NULL REFERENCES rate_tables(id),
	face_value    bigint NOT NULL CHECK (face_value >= 0),
	expires_at    timestamptz,
	created_by    text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE phone_cards (
	id          bigserial PRIMARY KEY,
	batch_id    bigint NOT NULL REFERENCES phone_card_batches(id),
	number      text NOT NULL UNIQUE CHECK (number ~ '^[0-9]{4,32}$'),
	pin         text NOT NULL CHECK (pin ~ '^[0-9]{4,16}$'),
	account_id  bigint NOT NULL UNIQUE REFERENCES accounts(id),
	expires_at  timestamptz,
	wrong_pins  integer NOT NULL DEFAULT 0 CHECK (wrong_pins >= 0),
	locked      boolean NOT NULL DEFAULT false,
	first_used_at timestamptz,
	last_used_at  timestamptz
);
CREATE INDEX phone_cards_batch_idx ON phone_cards (batch_id);

-- phone-card mode of a mapping gateway: callees are
-- <phone_card_prefix><card number><PIN>#<destination>
ALTER TABLE mapping_gateways
	ADD COLUMN phone_card_mode boolean NOT NULL DEFAULT false,
	ADD COLUMN phone_card_prefix text NOT NULL DEFAULT ''
		CHECK (phone_card_prefix ~ '^[0-9*]{0,16}$');

-- the card a CDR was paid by ('' = none)
ALTER TABLE cdr ADD COLUMN card text NOT NULL DEFAULT '';
