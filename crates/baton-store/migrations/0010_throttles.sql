-- Throttle counters (failed logins, link guesses), kept in the database so
-- that several servers on one PostgreSQL share them: three servers allow
-- the same number of guesses as one. A counter counts hits in a fixed
-- window that starts with its first hit. Not tenant data: keyed by what is
-- throttled (an address, an account at an address).
CREATE TABLE throttle_counters (
    throttle_key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters (window_start);
