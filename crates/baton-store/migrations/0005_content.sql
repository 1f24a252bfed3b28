-- Content production: items with a brief, immutable versions named by the
-- agency's convention, reviewers (comment) and approvers (decide), approval
-- rounds with consolidated feedback and revisions, the publishing QA gate
-- and the schedule.

-- The agency's content settings: version naming pattern and QA checklists
-- per channel (JSON {channel: [{"key","label"}]}); NULL: Baton's defaults.
CREATE TABLE content_settings (
    agency_id TEXT PRIMARY KEY REFERENCES agencies(id),
    naming TEXT,
    qa TEXT,
    updated_at BIGINT NOT NULL
);

-- A client's approval defaults: who reviews, who approves, all or any.
CREATE TABLE client_content_settings (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    approval_mode TEXT NOT NULL,
    -- JSON arrays of member ids.
    reviewers TEXT NOT NULL,
    approvers TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id)
);

CREATE TABLE content_items (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    title TEXT NOT NULL,
    channel TEXT NOT NULL,
    format TEXT NOT NULL,
    campaign TEXT NOT NULL,
    -- JSON {audience, angle, offer, constraints, examples}.
    brief TEXT NOT NULL,
    status TEXT NOT NULL,
    approval_mode TEXT NOT NULL,
    reviewers TEXT NOT NULL,
    approvers TEXT NOT NULL,
    -- The newest version's number (0: none yet) and the current round.
    current_version BIGINT NOT NULL DEFAULT 0,
    round BIGINT NOT NULL DEFAULT 0,
    first_submitted_at BIGINT,
    submitted_at BIGINT,
    approved_at BIGINT,
    -- Business time from first submission to approval, on the agency's calendar.
    approval_business_ms BIGINT,
    -- QA: JSON {"items": [{"key","label"}], "done": {"key": {"at","by"}}}.
    qa TEXT NOT NULL,
    qa_by TEXT,
    qa_at BIGINT,
    qa_waived_reason TEXT,
    publish_at BIGINT,
    published_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX content_items_agency ON content_items (agency_id, id);
CREATE INDEX content_items_status ON content_items (agency_id, status, id);
CREATE INDEX content_items_client ON content_items (agency_id, client_id, status, id);
CREATE INDEX content_items_publish ON content_items (agency_id, publish_at);

-- Immutable versions: a file under the data directory or a link.
CREATE TABLE content_versions (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    content_id TEXT NOT NULL REFERENCES content_items(id),
    n BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT,
    file_name TEXT,
    content_type TEXT,
    size_bytes BIGINT,
    note TEXT,
    -- Who added it (the creative, for per-creative metrics) and their name.
    created_by_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (content_id, n)
);

-- One approval round per submission: the version reviewed, the outcome,
-- whether a round with changes requested was a major or minor revision, and
-- the consolidated feedback sent back to production.
CREATE TABLE content_rounds (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    content_id TEXT NOT NULL REFERENCES content_items(id),
    round BIGINT NOT NULL,
    version_n BIGINT NOT NULL,
    submitted_at BIGINT NOT NULL,
    decided_at BIGINT,
    outcome TEXT,
    revision TEXT,
    consolidated TEXT,
    PRIMARY KEY (content_id, round)
);

-- Comments (reviewers, approvers, the client) and decisions (approvers, the
-- client), per round.
CREATE TABLE content_comments (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    content_id TEXT NOT NULL REFERENCES content_items(id),
    round BIGINT NOT NULL,
    version_n BIGINT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_label TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX content_comments_item ON content_comments (content_id, created_at);

CREATE TABLE content_decisions (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    content_id TEXT NOT NULL REFERENCES content_items(id),
    round BIGINT NOT NULL,
    version_n BIGINT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_label TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX content_decisions_item ON content_decisions (content_id, round, created_at);

-- Secret iCalendar feed URLs (per client or per member) that calendar apps
-- subscribe to; only the token's SHA-256 is stored.
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT REFERENCES clients(id),
    member_id TEXT REFERENCES members(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX calendar_feeds_agency ON calendar_feeds (agency_id, client_id, member_id);

-- The client's approval link of a content item: a capability URL like the
-- onboarding link (256-bit token, only its SHA-256 stored, expiry,
-- revocable). One open link per item; a new one revokes the previous.
CREATE TABLE approval_links (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    content_id TEXT NOT NULL REFERENCES content_items(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX approval_links_item ON approval_links (agency_id, content_id);
