-- Audit entries say how their hash was made. Version 1 (every entry before
-- this release) left actor_label and user_agent out of the hash; version 2,
-- for every new entry, covers every stored column. Old entries keep version
-- 1 and verify exactly as they were written; the chain runs on across the
-- change.
ALTER TABLE audit_log ADD COLUMN hash_version BIGINT NOT NULL DEFAULT 1;
