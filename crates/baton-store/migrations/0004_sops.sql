-- SOPs as data, their runs, escalation notices and the sales-to-delivery
-- handoff brief.

-- Every version of every SOP an agency has used or edited. The current SOP is
-- the highest version; version 1 of a default SOP is Baton's library entry,
-- written the first time a run or an edit needs it. Runs point at the version
-- they started with, so an edit never changes a running run.
CREATE TABLE sop_versions (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    sop_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    trigger_event TEXT NOT NULL,
    -- The whole definition (name, owner and escalation roles, checklist, SLA) as JSON.
    definition TEXT NOT NULL,
    -- The changelog line: why, who and when.
    reason TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, sop_key, version)
);

-- One SOP started for one client.
CREATE TABLE sop_runs (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    sop_key TEXT NOT NULL,
    sop_version BIGINT NOT NULL,
    -- The event that started it; NULL when started by hand.
    trigger_event_id TEXT,
    started_at BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    owner_member_id TEXT REFERENCES members(id),
    -- How the owner was found: role, traffic_control, assigned or unowned.
    owner_source TEXT NOT NULL,
    status TEXT NOT NULL,
    at_risk_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    -- When the scheduler must look at the run next; NULL once nothing can
    -- change by itself (breached, paused or done).
    next_change_at BIGINT,
    paused_at BIGINT,
    pause_reason TEXT,
    -- SLA time spent paused, in the SLA's own clock (business or wall time).
    paused_ms BIGINT NOT NULL DEFAULT 0,
    -- Done checklist items as JSON: {"key": {"at": ms, "by": "name"}}.
    checklist TEXT NOT NULL,
    at_risk_since BIGINT,
    breached_since BIGINT,
    done_at BIGINT,
    done_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (agency_id, sop_key, sop_version) REFERENCES sop_versions (agency_id, sop_key, version)
);
-- One run per SOP per triggering event, so a replayed event starts nothing twice.
CREATE UNIQUE INDEX sop_runs_trigger ON sop_runs (agency_id, trigger_event_id, sop_key);
CREATE INDEX sop_runs_next_change ON sop_runs (next_change_at);
CREATE INDEX sop_runs_client ON sop_runs (agency_id, client_id, started_at);
CREATE INDEX sop_runs_owner ON sop_runs (agency_id, owner_member_id, due_at);
CREATE INDEX sop_runs_status ON sop_runs (agency_id, status, due_at);

-- In-app notices for members (escalations); email goes through the outbox.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    client_id TEXT REFERENCES clients(id),
    run_id TEXT REFERENCES sop_runs(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notices_member ON notices (agency_id, member_id, created_at);

-- The sales-to-delivery handoff brief, one row per saved version.
CREATE TABLE handoff_briefs (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    version BIGINT NOT NULL,
    -- The brief as JSON (scope, goals, constraints, first 30 days,
    -- stakeholders, non-standard promises).
    brief TEXT NOT NULL,
    complete BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    author_label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id, version)
);
