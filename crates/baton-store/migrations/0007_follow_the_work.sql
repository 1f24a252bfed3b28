-- Issue 11: forms that write once, moves that can be corrected, runs that
-- follow the work.

-- A form's single-use nonce (or any request that must write at most once),
-- claimed inside the write's transaction. `owner` is the request that
-- claimed it; `location` is where its answer was shown, so a second submit
-- of the same form is sent there instead of writing again.
CREATE TABLE request_claims (
    claim_key TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    location TEXT
);
CREATE INDEX request_claims_created ON request_claims (created_at);

-- The page a form's POST answered with, shown once by the GET it redirects
-- to (Post/Redirect/Get). The body is sealed with a key only the browser's
-- own secret (its session cookie or the capability token in the URL) opens,
-- so a secret shown once (a new link's URL) is never readable at rest.
CREATE TABLE web_flashes (
    id TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL,
    status BIGINT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX web_flashes_created ON web_flashes (created_at);

-- Requests withdrawn (by a lifecycle move, a revoked or expired link) keep
-- what they were and the event that withdrew them, so correcting that move
-- (or regenerating the link) brings them back.
ALTER TABLE access_requests ADD COLUMN withdrawn_from TEXT;
ALTER TABLE access_requests ADD COLUMN withdrawn_cause TEXT;

-- Requests withdrawn by a lifecycle move before this release carry the
-- note Baton wrote then; link them to the move that withdrew them.
UPDATE access_requests SET withdrawn_from = 'requested',
    withdrawn_cause = (SELECT e.id FROM events e WHERE e.agency_id = access_requests.agency_id
        AND e.client_id = access_requests.client_id AND e.type IN ('contract_ended', 'archived')
        AND e.recorded_at = access_requests.revoked_at ORDER BY e.seq DESC LIMIT 1)
WHERE status = 'revoked' AND revoke_note LIKE 'withdrawn: the client moved to %';

-- A link that expired withdraws its open requests once; the partial index
-- holds only the live links still to be looked at.
ALTER TABLE onboarding_links ADD COLUMN expiry_handled_at BIGINT;
CREATE INDEX onboarding_links_expiry ON onboarding_links (expires_at)
    WHERE expiry_handled_at IS NULL AND revoked_at IS NULL;

-- What a run is about (a content item, the client's handoff brief, access,
-- offboarding) and, for a review run, the approval round it reviews.
ALTER TABLE sop_runs ADD COLUMN subject_type TEXT;
ALTER TABLE sop_runs ADD COLUMN subject_id TEXT;
ALTER TABLE sop_runs ADD COLUMN subject_round BIGINT;
-- Cancelled runs (their item was cancelled, the client left delivery):
-- never judged on time; `cancel_cause` is the event that cancelled them,
-- so correcting that event restores them.
ALTER TABLE sop_runs ADD COLUMN cancelled_at BIGINT;
ALTER TABLE sop_runs ADD COLUMN cancelled_by TEXT;
ALTER TABLE sop_runs ADD COLUMN cancel_reason TEXT;
ALTER TABLE sop_runs ADD COLUMN cancel_cause TEXT;
CREATE INDEX sop_runs_subject ON sop_runs (agency_id, subject_type, subject_id);

-- Runs started before this release: content runs are about the item their
-- trigger event named; the client-level SOPs about the client's brief,
-- access or offboarding.
UPDATE sop_runs SET subject_type = 'content_item',
    subject_id = (SELECT e.entity_id FROM events e WHERE e.id = sop_runs.trigger_event_id)
WHERE trigger_event_id IN (SELECT id FROM events WHERE entity_type = 'content');
UPDATE sop_runs SET subject_type = 'handoff_brief', subject_id = client_id
WHERE subject_type IS NULL AND sop_key = 'sales_handoff';
UPDATE sop_runs SET subject_type = 'access', subject_id = client_id
WHERE subject_type IS NULL AND sop_key = 'access_setup';
UPDATE sop_runs SET subject_type = 'offboarding', subject_id = client_id
WHERE subject_type IS NULL AND sop_key = 'offboarding';
