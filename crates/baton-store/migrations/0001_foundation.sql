-- Baton foundation schema. Portable subset shared by SQLite and PostgreSQL:
-- ids are TEXT with a type prefix, times are BIGINT unix milliseconds (UTC),
-- JSON is TEXT, flags are BIGINT 0/1, no arrays, no enums, no serials.
-- Every tenant-owned table carries agency_id.

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    timezone TEXT NOT NULL,
    brand_color TEXT NOT NULL,
    accent_color TEXT NOT NULL,
    logo_url TEXT,
    white_label BIGINT NOT NULL DEFAULT 0,
    custom_domain TEXT UNIQUE,
    audit_seq BIGINT NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL,
    event_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    roles TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX members_agency ON members (agency_id, id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_agency ON api_tokens (agency_id, id);

CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    website TEXT,
    notes TEXT,
    traffic_control_member_id TEXT REFERENCES members(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE INDEX clients_agency ON clients (agency_id, id);
CREATE INDEX clients_agency_lifecycle ON clients (agency_id, lifecycle);

CREATE TABLE client_team (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    role TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members(id),
    PRIMARY KEY (client_id, role)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    seq BIGINT NOT NULL,
    client_id TEXT REFERENCES clients(id),
    type TEXT NOT NULL,
    topic TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL,
    UNIQUE (agency_id, seq)
);
CREATE INDEX events_client ON events (agency_id, client_id, seq);

CREATE TABLE audit_log (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    seq BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (agency_id, seq)
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    event_id TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    done_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (done_at, run_after);

CREATE TABLE idempotency_keys (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    idem_key TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, actor_id, idem_key)
);
