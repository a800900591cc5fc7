-- 0001_init.sql - the whole data model (DESIGN.md "Data")
-- Money columns are BIGINT micro-units. Times in CDRs are timestamptz plus
-- millisecond integers where arithmetic is needed.

CREATE TABLE schema_version (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE system_parameters (
	name       text PRIMARY KEY,
	value      text NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE work_calendars (
	id            bigserial PRIMARY KEY,
	name          text NOT NULL UNIQUE,
	time_zone     text NOT NULL DEFAULT 'UTC',
	working_days  integer[] NOT NULL DEFAULT '{1,2,3,4,5}', -- ISO 1=Mon..7=Sun
	work_start    time NOT NULL DEFAULT '09:00',
	work_end      time NOT NULL DEFAULT '18:00'
);

CREATE TABLE holidays (
	calendar_id bigint NOT NULL REFERENCES work_calendars(id) ON DELETE CASCADE,
	day         date NOT NULL,
	PRIMARY KEY (calendar_id, day)
);

CREATE TABLE rate_tables (
	id   bigserial PRIMARY KEY,
	name text NOT NULL UNIQUE
);

CREATE TABLE rate_entries (
	rate_table_id  bigint NOT NULL REFERENCES rate_tables(id) ON DELETE CASCADE,
	prefix         text NOT NULL,
	area_name      text NOT NULL DEFAULT '',
	connect_fee    bigint NOT NULL DEFAULT 0 CHECK (connect_fee >= 0),
	first_interval integer NOT NULL DEFAULT 60 CHECK (first_interval >= 0),
	first_rate     bigint NOT NULL DEFAULT 0 CHECK (first_rate >= 0),
	next_interval  integer NOT NULL DEFAULT 60 CHECK (next_interval >= 0),
	next_rate      bigint NOT NULL DEFAULT 0 CHECK (next_rate >= 0),
	PRIMARY KEY (rate_table_id, prefix)
);

CREATE TABLE package_period_rates (
	id                     bigserial PRIMARY KEY,
	name                   text NOT NULL UNIQUE,
	calendar_id            bigint NOT NULL REFERENCES work_calendars(id),
	working_rate_table_id  bigint NOT NULL REFERENCES rate_tables(id),
	non_working_rate_table_id bigint NOT NULL REFERENCES rate_tables(id)
);

CREATE TABLE accounts (
	id                   bigserial PRIMARY KEY,
	name                 text NOT NULL UNIQUE,
	agent_id             bigint REFERENCES accounts(id),
	type                 text NOT NULL DEFAULT 'customer'
	                     CHECK (type IN ('customer', 'vendor', 'both')),
	balance              bigint NOT NULL DEFAULT 0,
	credit_limit         bigint NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
	billing_type         text NOT NULL DEFAULT 'prepaid'
	                     CHECK (billing_type IN ('prepaid', 'postpaid')),
	rate_table_id        bigint REFERENCES rate_tables(id),
	package_period_rate_id bigint REFERENCES package_period_rates(id),
	buy_rate_table_id    bigint REFERENCES rate_tables(id),
	work_calendar_id     bigint REFERENCES work_calendars(id),
	max_concurrent_calls integer NOT NULL DEFAULT 0 CHECK (max_concurrent_calls >= 0),
	number_allow         text[] NOT NULL DEFAULT '{}',
	number_deny          text[] NOT NULL DEFAULT '{}',
	agent_authorizations text[] NOT NULL DEFAULT '{}',
	ctd_model            text NOT NULL DEFAULT 'standard'
	                     CHECK (ctd_model IN ('standard', 'flow')),
	suppress_duration_alarm boolean NOT NULL DEFAULT false,
	low_balance_alarm    bigint NOT NULL DEFAULT 0,
	web_username         text UNIQUE,
	web_password_hash    text,
	web_enabled          boolean NOT NULL DEFAULT false,
	locked               boolean NOT NULL DEFAULT false,
	created_at           timestamptz NOT NULL DEFAULT now(),
	CHECK (agent_id IS NULL OR agent_id <> id)
);

CREATE TABLE gateway_groups (
	id             bigserial PRIMARY KEY,
	name           text NOT NULL UNIQUE,
	capacity       integer NOT NULL DEFAULT 0 CHECK (capacity >= 0),
	reserved_lines integer NOT NULL DEFAULT 0 CHECK (reserved_lines >= 0)
);

CREATE TABLE mapping_gateways (
	id                   bigserial PRIMARY KEY,
	name                 text NOT NULL UNIQUE,
	account_id           bigint NOT NULL REFERENCES accounts(id),
	auth_mode            text NOT NULL DEFAULT 'ip'
	                     CHECK (auth_mode IN ('ip', 'ip_port', 'password')),
	ips                  text[] NOT NULL DEFAULT '{}',   -- IPs or CIDRs
	ports                integer[] NOT NULL DEFAULT '{}',
	username             text,
	password             text,
	cps_limit            integer NOT NULL DEFAULT 0 CHECK (cps_limit >= 0),
	max_concurrent_calls integer NOT NULL DEFAULT 0 CHECK (max_concurrent_calls >= 0),
	max_call_duration_s  integer NOT NULL DEFAULT 0 CHECK (max_call_duration_s >= 0),
	caller_dial_plan     jsonb NOT NULL DEFAULT '[]',
	callee_dial_plan     jsonb NOT NULL DEFAULT '[]',
	caller_source        text NOT NULL DEFAULT 'from'
	                     CHECK (caller_source IN ('from', 'display', 'rpid')),
	support_privacy      boolean NOT NULL DEFAULT false,
	media                jsonb NOT NULL DEFAULT '{}',   -- codec/DTMF/proxy settings
	priority_customer    boolean NOT NULL DEFAULT false,
	locked               boolean NOT NULL DEFAULT false
);

CREATE TABLE routing_gateways (
	id                   bigserial PRIMARY KEY,
	name                 text NOT NULL UNIQUE,
	account_id           bigint REFERENCES accounts(id),
	address              text NOT NULL,
	port                 integer NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
	transport            text NOT NULL DEFAULT 'udp'
	                     CHECK (transport IN ('udp', 'tcp')),
	register_username    text,
	register_password    text,
	priority             integer NOT NULL DEFAULT 1 CHECK (priority >= 1),
	line_limit           integer NOT NULL DEFAULT 0 CHECK (line_limit >= 0),
	gateway_prefix       text NOT NULL DEFAULT '',
	callee_dial_plan     jsonb NOT NULL DEFAULT '[]',
	caller_dial_plan     jsonb NOT NULL DEFAULT '[]',
	switch_until_connect boolean NOT NULL DEFAULT true,
	stop_codes           integer[] NOT NULL
	                     DEFAULT '{486,487,403,404,484,488,600,603,606}',
	protect_route        boolean NOT NULL DEFAULT false,
	gateway_group_id     bigint REFERENCES gateway_groups(id),
	mapping_filter_mode  text NOT NULL DEFAULT 'none'
	                     CHECK (mapping_filter_mode IN ('none', 'allow', 'forbid')),
	mapping_filter       text[] NOT NULL DEFAULT '{}',
	locked               boolean NOT NULL DEFAULT false,
	media                jsonb NOT NULL DEFAULT '{}',
	identity             jsonb NOT NULL DEFAULT '{}',   -- PAI/Privacy/PPI/headers
	caller_pool          jsonb NOT NULL DEFAULT '{}',
	work_calendar_id     bigint REFERENCES work_calendars(id),
	active_period        text NOT NULL DEFAULT 'always'
	                     CHECK (active_period IN ('always', 'working', 'non_working')),
	options_keepalive    boolean NOT NULL DEFAULT false
);

CREATE TABLE routing_gateway_prefixes (
	routing_gateway_id bigint NOT NULL REFERENCES routing_gateways(id) ON DELETE CASCADE,
	prefix             text NOT NULL,
	PRIMARY KEY (routing_gateway_id, prefix)
);

CREATE TABLE phones (
	id         bigserial PRIMARY KEY,
	number     text NOT NULL UNIQUE,
	password   text NOT NULL,
	account_id bigint NOT NULL REFERENCES accounts(id),
	online     boolean NOT NULL DEFAULT false,
	contact    text
);

-- CDRs: partitioned by month on setup time; money in micro-units
CREATE TABLE cdr (
	id              uuid NOT NULL,
	setup_time      timestamptz NOT NULL,
	call_id_a       text NOT NULL DEFAULT '',
	call_id_b       text NOT NULL DEFAULT '',
	caller_in       text NOT NULL DEFAULT '',
	callee_in       text NOT NULL DEFAULT '',
	caller          text NOT NULL DEFAULT '',
	callee          text NOT NULL DEFAULT '',
	caller_out      text NOT NULL DEFAULT '',
	callee_out      text NOT NULL DEFAULT '',
	src_ip          text NOT NULL DEFAULT '',
	dst_ip          text NOT NULL DEFAULT '',
	mapping_gateway text NOT NULL DEFAULT '',
	account         text NOT NULL DEFAULT '',
	account_id      bigint,
	agent_chain     bigint[] NOT NULL DEFAULT '{}',
	routing_gateway text NOT NULL DEFAULT '',
	vendor          text NOT NULL DEFAULT '',
	setup_ms        bigint NOT NULL,
	ringing_ms      bigint NOT NULL DEFAULT 0,
	answer_ms       bigint NOT NULL DEFAULT 0,
	end_ms          bigint NOT NULL DEFAULT 0,
	hold_ms         bigint NOT NULL DEFAULT 0,
	fee_s           integer NOT NULL DEFAULT 0,
	pdd_ms          bigint NOT NULL DEFAULT 0,
	fee             bigint NOT NULL DEFAULT 0,
	agent_fees      jsonb NOT NULL DEFAULT '[]',
	vendor_cost     bigint NOT NULL DEFAULT 0,
	rate_prefix     text NOT NULL DEFAULT '',
	rate_period     text NOT NULL DEFAULT '',
	end_code        integer NOT NULL DEFAULT 0,
	end_text        text NOT NULL DEFAULT '',
	end_direction   text NOT NULL DEFAULT '',
	end_reason      text NOT NULL DEFAULT '',
	q850            integer NOT NULL DEFAULT 0,
	codec_a         text NOT NULL DEFAULT '',
	codec_b         text NOT NULL DEFAULT '',
	dtmf_a          text NOT NULL DEFAULT '',
	dtmf_b          text NOT NULL DEFAULT '',
	media_node      text NOT NULL DEFAULT '',
	rtp             jsonb NOT NULL DEFAULT '{}',
	stored_at       timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, setup_time)
) PARTITION BY RANGE (setup_time);

CREATE INDEX cdr_setup_idx ON cdr (setup_time DESC);
CREATE INDEX cdr_account_idx ON cdr (account, setup_time DESC);

-- Idempotency across partitions: one row per CDR id, written in the same
-- transaction as the CDR itself.
CREATE TABLE cdr_ids (
	id         uuid PRIMARY KEY,
	setup_time timestamptz NOT NULL,
	fee        bigint NOT NULL
);

CREATE TABLE cdr_attempts (
	cdr_id     uuid NOT NULL REFERENCES cdr_ids(id) ON DELETE CASCADE,
	seq        integer NOT NULL,
	gateway    text NOT NULL,
	code       integer NOT NULL,
	start_ms   bigint NOT NULL,
	end_ms     bigint NOT NULL,
	PRIMARY KEY (cdr_id, seq)
);

-- Monthly partitions are created by billingd ahead of time; this function
-- makes the one covering a given instant (idempotent).
CREATE FUNCTION cdr_ensure_partition(t timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo date := date_trunc('month', t AT TIME ZONE 'UTC')::date;
	hi date := (lo + interval '1 month')::date;
	part text := format('cdr_%s', to_char(lo, 'YYYY_MM'));
BEGIN
	EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF cdr '
		       'FOR VALUES FROM (%L) TO (%L)',
		       part, lo::timestamp AT TIME ZONE 'UTC',
		       hi::timestamp AT TIME ZONE 'UTC');
END $$;

CREATE TABLE cdr_default PARTITION OF cdr DEFAULT;

CREATE TABLE payments (
	id         bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts(id),
	amount     bigint NOT NULL,
	memo       text NOT NULL DEFAULT '',
	created_by text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE balance_history (
	id         bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts(id),
	delta      bigint NOT NULL,
	balance    bigint NOT NULL,          -- after the change
	reason     text NOT NULL,            -- cdr, payment, provision, transfer
	ref        text NOT NULL DEFAULT '', -- CDR id, payment id
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX balance_history_account_idx ON balance_history (account_id, created_at);

CREATE TABLE reservations (
	call_id    uuid PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts(id),
	amount     bigint NOT NULL,
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alarms (
	id         bigserial PRIMARY KEY,
	kind       text NOT NULL,
	severity   text NOT NULL CHECK (severity IN ('critical', 'major', 'warning')),
	subject    text NOT NULL DEFAULT '',
	message    text NOT NULL,
	raised_at  timestamptz NOT NULL DEFAULT now(),
	cleared_at timestamptz
);

CREATE TABLE audit_log (
	id         bigserial PRIMARY KEY,
	actor      text NOT NULL,
	action     text NOT NULL,
	object     text NOT NULL DEFAULT '',
	detail     jsonb NOT NULL DEFAULT '{}',
	source_ip  text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE web_users (
	id            bigserial PRIMARY KEY,
	username      text NOT NULL UNIQUE,
	password_hash text NOT NULL,
	role          text NOT NULL CHECK (role IN ('admin', 'operator', 'agent', 'customer')),
	account_id    bigint REFERENCES accounts(id),
	enabled       boolean NOT NULL DEFAULT true,
	created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE web_sessions (
	token      text PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
	csrf       text NOT NULL,
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blacklist (
	ip         inet PRIMARY KEY,
	reason     text NOT NULL DEFAULT '',
	expires_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
