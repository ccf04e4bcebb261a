-- Writes that hold under concurrency (see the SQLite migration 005 for the reasons).
ALTER TABLE memories ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE memories ADD COLUMN dedup_key TEXT;
UPDATE memories SET dedup_key = content_hash WHERE type <> 'interaction';

CREATE TEMP TABLE dedup_merge ON COMMIT DROP AS
SELECT id AS loser, keeper FROM (
    SELECT id, first_value(id) OVER (
               PARTITION BY user_id, COALESCE(agent_id, ''), COALESCE(session_id, ''), dedup_key
               ORDER BY created_at, id) AS keeper
    FROM memories WHERE dedup_key IS NOT NULL) ranked
WHERE id <> keeper;
INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at)
SELECT m.id, m.user_id, 'DELETE', m.content, NULL, 'merged into ' || d.keeper, now()
FROM dedup_merge d JOIN memories m ON m.id = d.loser;
INSERT INTO index_outbox (memory_id, op) SELECT loser, 'delete' FROM dedup_merge;
DELETE FROM memories WHERE id IN (SELECT loser FROM dedup_merge);

CREATE UNIQUE INDEX ux_memories_dedup ON memories (user_id, COALESCE(agent_id, ''), COALESCE(session_id, ''), dedup_key)
    WHERE dedup_key IS NOT NULL;

CREATE TABLE index_quarantine (
    memory_id TEXT PRIMARY KEY,
    user_id TEXT,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    cause TEXT NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
