-- Platform connectors: the agency's own OAuth apps, its connections to
-- platforms, and the checks that verify (and re-verify) access through the
-- platforms' APIs. Secrets (client secrets, developer tokens, refresh and
-- access tokens, PKCE verifiers) are sealed with the server key.

-- The agency's OAuth app for one platform (client id, sealed secret, and
-- what else the platform needs: a developer token, a business id), as JSON
-- of sealed values in `extras_sealed`.
CREATE TABLE connector_apps (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    platform TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    -- JSON object: extra key → value (non-secret ones plain).
    extras TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (agency_id, platform)
);

-- One connection of the agency to a platform. `pending` while the admin is
-- at the platform's consent screen (found by the hash of its `state`),
-- `active` once tokens came back, `expired` when the platform refused the
-- refresh token, `revoked` when an admin removed it.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    platform TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The account it acts as (an email, a name), as the platform said.
    account TEXT,
    scopes TEXT NOT NULL,
    state_hash TEXT,
    verifier_sealed TEXT,
    pending_until BIGINT,
    refresh_sealed TEXT,
    access_sealed TEXT,
    access_expires_at BIGINT,
    -- A server refreshing the token holds this lease, so two servers never
    -- spend one rotating refresh token twice.
    refreshing_until BIGINT,
    started_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    connected_at BIGINT,
    last_success_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE UNIQUE INDEX connections_state ON connections (state_hash);
CREATE INDEX connections_agency ON connections (agency_id, platform, status);

-- Checks of access requests: how each was verified, what the platform
-- returned, and when a connector looks next (due checks are claimed by
-- moving `next_check_at` forward inside one UPDATE).
ALTER TABLE access_requests ADD COLUMN verified_by_kind TEXT;
ALTER TABLE access_requests ADD COLUMN verified_connection_id TEXT;
ALTER TABLE access_requests ADD COLUMN evidence TEXT;
-- verified, pending, missing, could_not_check (with `check_detail`).
ALTER TABLE access_requests ADD COLUMN check_state TEXT;
ALTER TABLE access_requests ADD COLUMN check_detail TEXT;
ALTER TABLE access_requests ADD COLUMN checked_at BIGINT;
ALTER TABLE access_requests ADD COLUMN next_check_at BIGINT;
ALTER TABLE access_requests ADD COLUMN check_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_requests ADD COLUMN lost_at BIGINT;
ALTER TABLE access_requests ADD COLUMN revoke_confirmed_at BIGINT;
CREATE INDEX access_requests_next_check ON access_requests (next_check_at);

-- Requests verified before connectors existed were verified by a person.
UPDATE access_requests SET verified_by_kind = 'member' WHERE verified_at IS NOT NULL;
