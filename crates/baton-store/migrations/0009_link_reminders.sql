-- Onboarding links whose token the server can derive again (so a reminder
-- can carry the link): token = base64url(HMAC-SHA256(server secret key,
-- "baton-onboarding-link:" || id || ":" || token_salt)). The token itself is
-- still never stored; token_hash stays the only lookup key. Links made
-- before this release keep NULL here, and their reminders point to the
-- message that carried the link, as before.
ALTER TABLE onboarding_links ADD COLUMN token_salt TEXT;
