-- Integrations: outbound endpoints (signed webhooks, Slack and Teams
-- channels), their deliveries and attempts, and inbound endpoints.

-- A client's id in the agency's CRM, matched by inbound "deal won" events.
ALTER TABLE clients ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX clients_external_id ON clients (agency_id, external_id);

-- Where events go. `kind` is webhook, slack or teams. A webhook's URL is
-- shown; a channel's URL is a secret, kept sealed in `url_sealed` with only
-- its masked form in `url`. Secrets are sealed with the server key.
CREATE TABLE integration_endpoints (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    url_sealed TEXT,
    description TEXT NOT NULL,
    -- JSON array of event filters (`client.*`, `access.verified`, `*`).
    events TEXT NOT NULL,
    client_id TEXT REFERENCES clients(id),
    enabled BIGINT NOT NULL,
    disabled_reason TEXT,
    secret_sealed TEXT,
    -- While a secret rotates, the old one signs too until this time.
    old_secret_sealed TEXT,
    old_secret_until BIGINT,
    -- The first failed attempt since the last success (five days of it
    -- disable the endpoint).
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX integration_endpoints_agency ON integration_endpoints (agency_id, deleted_at);

-- One event's delivery to one endpoint: the body as sent (frozen at the
-- fan-out, so every attempt sends the same bytes) and where it stands.
CREATE TABLE integration_deliveries (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    endpoint_id TEXT NOT NULL REFERENCES integration_endpoints(id),
    -- The `webhook-id`: the event's id (a test event's own id).
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending, succeeded or failed.
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- Attempts since the last manual retry (the retry schedule's position).
    round_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX integration_deliveries_endpoint ON integration_deliveries (agency_id, endpoint_id, id);
CREATE INDEX integration_deliveries_state ON integration_deliveries (endpoint_id, state, created_at);

-- Every attempt of a delivery: status code, latency, what the receiver said.
CREATE TABLE integration_attempts (
    delivery_id TEXT NOT NULL REFERENCES integration_deliveries(id),
    attempt BIGINT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    endpoint_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    error TEXT,
    response_excerpt TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX integration_attempts_endpoint ON integration_attempts (endpoint_id, started_at);

-- Endpoints that accept Standard-Webhooks-signed events from outside.
CREATE TABLE inbound_endpoints (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_received_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX inbound_endpoints_agency ON inbound_endpoints (agency_id, deleted_at);

-- Message ids already taken per inbound endpoint: a replay is ignored.
CREATE TABLE inbound_messages (
    endpoint_id TEXT NOT NULL REFERENCES inbound_endpoints(id),
    msg_id TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    received_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    client_id TEXT,
    PRIMARY KEY (endpoint_id, msg_id)
);
