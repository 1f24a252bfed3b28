-- The incident log: brand-risk events and publishing errors, with a triage
-- SLA on a 24/7 clock. `triage_at_risk_at`/`triage_due_at` are fixed at the
-- report (minutes per severity from `incident_severities`, 60 by default);
-- `next_change_at` is when the scheduler next looks at the triage clock
-- (NULL once triaged or cancelled), `triage_at_risk_since` and
-- `triage_breached_at` record what it found. `content_version` and
-- `approval_round` link a publishing error to the version that went out and
-- the round that approved it. `closing_summary` is the resolve note (the
-- log updated), `postmortem` a JSON object (summary, impact, detection,
-- response, root_cause), `close_override` an admin's reason to close with
-- follow-up actions still open.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT REFERENCES clients(id),
    content_id TEXT REFERENCES content_items(id),
    content_version BIGINT,
    approval_round BIGINT,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    summary TEXT,
    status TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_by_member_id TEXT,
    occurred_at BIGINT NOT NULL,
    reported_at BIGINT NOT NULL,
    triage_at_risk_at BIGINT NOT NULL,
    triage_due_at BIGINT NOT NULL,
    next_change_at BIGINT,
    triage_at_risk_since BIGINT,
    triage_breached_at BIGINT,
    lead_member_id TEXT REFERENCES members(id),
    plan TEXT,
    triaged_at BIGINT,
    mitigated_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    cancelled_at BIGINT,
    cancel_reason TEXT,
    closing_summary TEXT,
    postmortem TEXT,
    close_override TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX incidents_agency ON incidents (agency_id, id);
CREATE INDEX incidents_reported ON incidents (agency_id, reported_at);
CREATE INDEX incidents_client ON incidents (agency_id, client_id, id);
CREATE INDEX incidents_next_change ON incidents (next_change_at);

-- The timeline's notes: append-only, each with the time it speaks of (`at`,
-- "14:05 client called") and when it was written.
CREATE TABLE incident_notes (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    at BIGINT NOT NULL,
    note TEXT NOT NULL,
    author TEXT NOT NULL,
    author_member_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (agency_id, incident_id, at);

-- A postmortem's follow-up actions: owner, due day (agency time; `due_at`
-- is the end of that day), done; `overdue_noticed_at` claims the overdue
-- notice once.
CREATE TABLE incident_actions (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    title TEXT NOT NULL,
    owner_member_id TEXT NOT NULL REFERENCES members(id),
    due_on TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by TEXT,
    overdue_noticed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX incident_actions_incident ON incident_actions (agency_id, incident_id);
CREATE INDEX incident_actions_due ON incident_actions (done_at, overdue_noticed_at, due_at);

-- An agency's wording and triage limit per severity; a severity without a
-- row uses Baton's definition and 60 minutes.
CREATE TABLE incident_severities (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    severity TEXT NOT NULL,
    definition TEXT NOT NULL,
    triage_minutes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, severity)
);

-- Notices about an incident (triage at risk or breached, an overdue action).
ALTER TABLE notices ADD COLUMN incident_id TEXT;
CREATE INDEX events_entity ON events (agency_id, entity_type, entity_id);
