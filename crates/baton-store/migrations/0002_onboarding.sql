-- Client onboarding and verified platform access: onboarding settings, custom
-- platforms, access templates, onboarding links (only token hashes), access
-- requests, the client's intake answers and uploaded files. Same portable
-- subset as 0001.

-- The agency's onboarding settings as one JSON document: platform values the
-- client's instructions use, the intake questionnaire, the reminder schedule.
ALTER TABLE agencies ADD COLUMN onboarding TEXT NOT NULL DEFAULT '{}';

-- Kept on the client so KPIs over many clients are one indexed scan:
-- when the contract was signed and when every required access was verified.
ALTER TABLE clients ADD COLUMN contract_signed_at BIGINT;
ALTER TABLE clients ADD COLUMN access_complete_at BIGINT;
UPDATE clients SET contract_signed_at = (
    SELECT MIN(e.occurred_at) FROM events e
    WHERE e.client_id = clients.id AND e.type = 'contract_signed'
);
CREATE INDEX clients_access_complete ON clients (agency_id, access_complete_at);

CREATE TABLE custom_platforms (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    platform_key TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, platform_key)
);

CREATE TABLE access_templates (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    requests TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (agency_id, name)
);

CREATE TABLE onboarding_links (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    regenerated_at BIGINT,
    open_count BIGINT NOT NULL DEFAULT 0,
    last_opened_at BIGINT,
    reminder_count BIGINT NOT NULL DEFAULT 0,
    last_reminded_at BIGINT,
    next_reminder_at BIGINT,
    contact_email TEXT
);
CREATE INDEX onboarding_links_client ON onboarding_links (agency_id, client_id);
CREATE INDEX onboarding_links_reminder ON onboarding_links (next_reminder_at);

CREATE TABLE access_requests (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    link_id TEXT REFERENCES onboarding_links(id),
    platform TEXT NOT NULL,
    permission TEXT NOT NULL,
    asset TEXT,
    required BIGINT NOT NULL DEFAULT 1,
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    granted_at BIGINT,
    granted_by TEXT,
    verified_at BIGINT,
    verified_by TEXT,
    verify_note TEXT,
    failed_reason TEXT,
    stuck_at BIGINT,
    stuck_message TEXT,
    revoked_at BIGINT,
    revoked_by TEXT,
    revoke_note TEXT,
    waived_at BIGINT,
    waived_by TEXT,
    waive_reason TEXT,
    connector TEXT
);
CREATE INDEX access_requests_client ON access_requests (agency_id, client_id, position);
-- The API board pages by id: walking this index stops after a page instead
-- of sorting every open request of the agency.
CREATE INDEX access_requests_agency ON access_requests (agency_id, id);
CREATE INDEX access_requests_status ON access_requests (agency_id, status, status_at);
CREATE INDEX access_requests_link ON access_requests (link_id);

CREATE TABLE client_answers (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    question_key TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, question_key)
);

CREATE TABLE client_files (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    link_id TEXT REFERENCES onboarding_links(id),
    name TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE INDEX client_files_client ON client_files (agency_id, client_id, id);
