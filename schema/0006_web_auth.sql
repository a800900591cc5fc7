-- 0006_web_auth.sql - who may use the HTTP API and the web manager
-- Web users log in with a password (argon2id, hashed by billingd or
-- tandemctl) and get a session; machines use API tokens.  Session and
-- token secrets are stored as SHA-256 hex, never as given.  Every login
-- attempt is kept (lockout after 5 failures in 10 minutes, login audit).

ALTER TABLE web_users
	ADD COLUMN language   text NOT NULL DEFAULT 'en'
		CHECK (language IN ('en', 'zh-CN')),
	ADD COLUMN time_zone  text NOT NULL DEFAULT 'UTC',
	ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
	ADD CONSTRAINT web_users_username_ok
		CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
	ADD CONSTRAINT web_users_scoped_role
		CHECK ((role IN ('agent', 'customer')) = (account_id IS NOT NULL));

-- sessions made before this version had clear tokens: drop them
DELETE FROM web_sessions;
ALTER TABLE web_sessions RENAME COLUMN token TO token_hash;
ALTER TABLE web_sessions
	ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
	ADD COLUMN source_ip    text NOT NULL DEFAULT '';
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE api_tokens (
	id           bigserial PRIMARY KEY,
	user_id      bigint NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
	name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	token_hash   text NOT NULL UNIQUE,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	expires_at   timestamptz,
	UNIQUE (user_id, name)
);

CREATE TABLE login_attempts (
	id        bigserial PRIMARY KEY,
	username  text NOT NULL,
	source_ip text NOT NULL DEFAULT '',
	ok        boolean NOT NULL,
	reason    text NOT NULL DEFAULT '',
	at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_at ON login_attempts (username, at);

CREATE INDEX audit_log_created ON audit_log (created_at);
