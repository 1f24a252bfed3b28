-- Cadences with artifacts: the agency's recurring meetings as versioned
-- data, the meetings that were held (artifact attached) or flagged (none by
-- the end of their day), the decisions taken in them, and the day clock
-- that flags them.

-- The first local day (`YYYY-MM-DD`) whose meetings count; set by the
-- scheduler the first time it looks at the agency, so an upgrade never
-- owes meetings from before it.
ALTER TABLE agencies ADD COLUMN cadences_since TEXT;
-- The newest local day whose meetings were checked for their artifact.
ALTER TABLE agencies ADD COLUMN cadence_checked_through TEXT;
-- When the next local day ends (NULL: to be computed, e.g. after the
-- calendar or the time zone changed).
ALTER TABLE agencies ADD COLUMN cadence_next_check_at BIGINT;
CREATE INDEX agencies_cadence_check ON agencies (cadence_next_check_at);

-- Every version of every cadence an agency edited (Baton's four defaults
-- are version 1 until then). A version rules the meetings from its
-- `effective_from` day on; earlier meetings keep the schedule they had.
CREATE TABLE cadence_versions (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    cadence_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- The whole definition (name, purpose, scope, attendees, owner role,
    -- schedule, duration, artifact) as JSON.
    definition TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, cadence_key, version)
);

-- A meeting something was written about: held (its artifact attached) or
-- flagged (no artifact by the end of its day). The id is derived from the
-- agency, cadence, scope (`agency` or the client id) and day, so the
-- meeting has it before this row exists. `artifact` is JSON: what Baton
-- generated when it was attached (calendar, scorecard, KPIs, changelog)
-- plus the notes and link the team gave.
CREATE TABLE cadence_occurrences (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    cadence_key TEXT NOT NULL,
    scope TEXT NOT NULL,
    client_id TEXT REFERENCES clients(id),
    on_date TEXT NOT NULL,
    version BIGINT NOT NULL,
    owner_member_id TEXT REFERENCES members(id),
    held_at BIGINT,
    held_by TEXT,
    artifact TEXT,
    -- A memo shared with the client: the SHA-256 of the link's token.
    share_token_hash TEXT,
    flagged_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (agency_id, cadence_key, scope, on_date)
);
CREATE INDEX cadence_occurrences_day ON cadence_occurrences (agency_id, on_date);
CREATE UNIQUE INDEX cadence_occurrences_share ON cadence_occurrences (share_token_hash);

-- A decision taken in a meeting: text, owner, optional due day, done.
CREATE TABLE cadence_decisions (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    occurrence_id TEXT NOT NULL REFERENCES cadence_occurrences(id),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    owner_member_id TEXT NOT NULL REFERENCES members(id),
    due_on TEXT,
    done_at BIGINT,
    done_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX cadence_decisions_meeting ON cadence_decisions (agency_id, occurrence_id, position);
CREATE INDEX cadence_decisions_owner ON cadence_decisions (agency_id, owner_member_id, done_at);

-- Notices about a meeting (its artifact is missing).
ALTER TABLE notices ADD COLUMN occurrence_id TEXT;
