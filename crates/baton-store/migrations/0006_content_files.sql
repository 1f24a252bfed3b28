-- Draft files of content versions: where the bytes are kept under the data
-- directory (`uploads/{agency}/{client}/{stored_name}`) and their SHA-256,
-- so a download can be checked against what was uploaded. Link versions
-- leave both NULL.
ALTER TABLE content_versions ADD COLUMN stored_name TEXT;
ALTER TABLE content_versions ADD COLUMN sha256 TEXT;
