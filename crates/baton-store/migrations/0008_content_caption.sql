-- Content approval, narrow for real, and what the client sees.
--
-- The caption (copy) is part of what is approved: the item's working
-- caption, the caption each version was added with and the caption each
-- round was submitted with (what the approvers saw). Versions and rounds of
-- the previous release have none (NULL).
ALTER TABLE content_items ADD COLUMN caption TEXT NOT NULL DEFAULT '';
ALTER TABLE content_versions ADD COLUMN caption TEXT;
ALTER TABLE content_rounds ADD COLUMN caption TEXT;
-- A change of reviewers and approvers made during an open round by someone
-- other than an admin: JSON {"reviewers","approvers","approval_mode",
-- "by","by_id","at"}, applied when the next round opens. NULL: none.
ALTER TABLE content_items ADD COLUMN pending_participants TEXT;
-- Comments the client sees on their approval link (0: internal).
ALTER TABLE content_comments ADD COLUMN for_client BIGINT NOT NULL DEFAULT 0;
