-- The agency's business-hours calendar (time zone, weekly working windows,
-- holidays, business-day length) as one JSON document. NULL: the default
-- calendar, Monday–Friday 09:00–17:00 UTC.
ALTER TABLE agencies ADD COLUMN calendar TEXT;
