-- Expiry dates outside what the service reads back (0001-01-02 .. 9999-12-30 UTC, see api/values.py) were accepted
-- before they were validated; psycopg cannot load them. Move them to the nearest end of the range, which keeps
-- their meaning: long expired, or never.
UPDATE memories SET expires_at = TIMESTAMPTZ '9999-12-30 23:59:59.999999+00'
WHERE expires_at > TIMESTAMPTZ '9999-12-30 23:59:59.999999+00';
UPDATE memories SET expires_at = TIMESTAMPTZ '0001-01-02 00:00:00+00'
WHERE expires_at < TIMESTAMPTZ '0001-01-02 00:00:00+00';
