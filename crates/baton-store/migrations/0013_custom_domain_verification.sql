-- Custom domains are verified by a DNS TXT record before Baton routes them.
-- `custom_domain` keeps what routing and links read: the domain Baton serves
-- the agency's client links on, now only once verified (still UNIQUE: one
-- agency per host). A domain set but not yet verified waits in
-- `custom_domain_pending` (not unique: another agency's unproven claim does
-- not lock the domain's owner out) with its challenge, the value Baton looks
-- for in the TXT record `_baton-challenge.<domain>`. The worker checks a
-- pending domain at `custom_domain_next_check_at`, claiming the check by
-- moving that time forward; `custom_domain_checked_at` and
-- `custom_domain_found` say when the last check ran and what it found.
ALTER TABLE agencies ADD COLUMN custom_domain_pending TEXT;
ALTER TABLE agencies ADD COLUMN custom_domain_challenge TEXT;
ALTER TABLE agencies ADD COLUMN custom_domain_set_at BIGINT;
ALTER TABLE agencies ADD COLUMN custom_domain_verified_at BIGINT;
ALTER TABLE agencies ADD COLUMN custom_domain_checked_at BIGINT;
ALTER TABLE agencies ADD COLUMN custom_domain_found TEXT;
ALTER TABLE agencies ADD COLUMN custom_domain_next_check_at BIGINT;
-- Domains set before this release are grandfathered: verified as of the
-- upgrade ($1 is the time the migration runs), so they stay routed and in
-- links exactly as before.
UPDATE agencies SET custom_domain_set_at = $1, custom_domain_verified_at = $1 WHERE custom_domain IS NOT NULL;
CREATE INDEX agencies_domain_checks ON agencies (custom_domain_next_check_at);
