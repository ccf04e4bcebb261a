-- GET /api/users pages through user ids in byte order, whatever the database's collation: a prefix is then a
-- plain range of this index, and the count and last activity come from the index alone.
CREATE INDEX IF NOT EXISTS ix_memories_user_bytes ON memories ((user_id COLLATE "C")) INCLUDE (updated_at, expires_at);
