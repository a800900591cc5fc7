-- 0002_payments.sql - the payments ledger (issue 7, item 5)
-- Every operator money movement is one payments row (who, why, kind) and,
-- when the balance moves, one balance_history row with reason 'payment'
-- and ref = the payment id, in the same transaction.  CDR debits stay
-- balance_history rows with reason 'cdr'.

ALTER TABLE payments
	ADD COLUMN kind text NOT NULL DEFAULT 'topup'
		CHECK (kind IN ('topup', 'deduction', 'refund', 'credit_limit',
		                'transfer_out', 'transfer_in')),
	ADD COLUMN balance_after bigint,
	ADD COLUMN credit_limit_after bigint,
	ADD COLUMN peer_account_id bigint REFERENCES accounts(id);

CREATE INDEX payments_account_idx ON payments (account_id, created_at);
