-- The measurement loop: planned days for content (the on-time KPI), the
-- agency's choice of "first value", the weekly scorecard (measurables,
-- manual values, shipped weeks with their frozen values, insights and
-- actions) and the `week_ended` clock.

-- The day a content item is planned to go out (`YYYY-MM-DD`, agency time);
-- NULL for items planned before planned days existed (not judged on time).
ALTER TABLE content_items ADD COLUMN planned_on TEXT;
CREATE INDEX content_items_planned ON content_items (agency_id, planned_on);

-- `published` (first item published) or `client_approved`.
ALTER TABLE agencies ADD COLUMN first_value_rule TEXT NOT NULL DEFAULT 'published';
-- When the default measurables were created (once per agency).
ALTER TABLE agencies ADD COLUMN scorecard_seeded_at BIGINT;
-- The newest ISO week (`2026-W48`) whose `week_ended` was recorded; the
-- scheduler claims the next one by moving this forward.
ALTER TABLE agencies ADD COLUMN week_ended_through TEXT;
-- When the next week ends (NULL: to be computed, e.g. after the calendar
-- or the time zone changed).
ALTER TABLE agencies ADD COLUMN week_ended_next_at BIGINT;
CREATE INDEX agencies_week_ended ON agencies (week_ended_next_at);

-- A measurable: a number with an owner and a goal. `source` is `manual` or
-- a KPI key (filled by Baton each week); `kpi_default` names the default
-- it was created from. `goal_max` is the upper end of a `range`.
CREATE TABLE measurables (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    owner_member_id TEXT REFERENCES members(id),
    unit TEXT NOT NULL,
    comparator TEXT NOT NULL,
    goal DOUBLE PRECISION NOT NULL,
    goal_max DOUBLE PRECISION,
    source TEXT NOT NULL,
    kpi_default TEXT,
    position BIGINT NOT NULL,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX measurables_agency ON measurables (agency_id, position);

-- The owner's weekly value of a manual measurable.
CREATE TABLE measurable_values (
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    measurable_id TEXT NOT NULL REFERENCES measurables(id),
    week TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (measurable_id, week)
);

-- A shipped week: the agency's (`scope` = 'agency') or one client's
-- (`scope` = the client id). `frozen` is the scorecard as shipped (JSON:
-- each measurable with its goal and 13 weeks of values), `insights` a JSON
-- array of the three insights.
CREATE TABLE scorecards (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    client_id TEXT REFERENCES clients(id),
    scope TEXT NOT NULL,
    week TEXT NOT NULL,
    insights TEXT NOT NULL,
    frozen TEXT NOT NULL,
    shipped_by TEXT NOT NULL,
    shipped_by_member_id TEXT,
    shipped_at BIGINT NOT NULL,
    UNIQUE (agency_id, scope, week)
);
CREATE INDEX scorecards_week ON scorecards (agency_id, week);

-- The actions a shipped week agreed: owner, due day (agency time; `due_at`
-- the end of that day), done. `overdue_noticed_at` claims the overdue
-- notice once.
CREATE TABLE scorecard_actions (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    scorecard_id TEXT NOT NULL REFERENCES scorecards(id),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    owner_member_id TEXT NOT NULL REFERENCES members(id),
    due_on TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by TEXT,
    overdue_noticed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX scorecard_actions_card ON scorecard_actions (agency_id, scorecard_id, position);
CREATE INDEX scorecard_actions_owner ON scorecard_actions (agency_id, owner_member_id, done_at);
CREATE INDEX scorecard_actions_due ON scorecard_actions (done_at, overdue_noticed_at, due_at);

-- Notices about a scorecard action (overdue).
ALTER TABLE notices ADD COLUMN action_id TEXT;
