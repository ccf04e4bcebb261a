-- Writes that hold under concurrency.
--
-- version: bumped by every change of a record; an update compares and sets it, and clients see it as the ETag.
ALTER TABLE memories ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- dedup_key: the content hash for memories that take part in exact-duplicate detection (every type but
-- interaction, while MEM0_DEDUPLICATE is on), NULL otherwise. A unique index over scope + dedup_key lets the
-- database, not a read before the write, decide which of two racing creates wins. Scopes without an agent or
-- session collide too: NULL is folded into '' (never a valid id).
ALTER TABLE memories ADD COLUMN dedup_key TEXT;
UPDATE memories SET dedup_key = content_hash WHERE type != 'interaction';

-- Duplicates stored before the index existed: the oldest stays; the others are deleted (their vectors through the
-- outbox) with a history event naming the memory they were merged into.
CREATE TEMP TABLE dedup_merge AS
SELECT id AS loser, keeper FROM (
    SELECT id, first_value(id) OVER (
               PARTITION BY user_id, IFNULL(agent_id, ''), IFNULL(session_id, ''), dedup_key
               ORDER BY created_at, id) AS keeper
    FROM memories WHERE dedup_key IS NOT NULL)
WHERE id <> keeper;
INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at)
SELECT m.id, m.user_id, 'DELETE', m.content, NULL, 'merged into ' || d.keeper, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM dedup_merge d JOIN memories m ON m.id = d.loser;
INSERT INTO index_outbox (memory_id, op) SELECT loser, 'delete' FROM dedup_merge;
DELETE FROM memories WHERE id IN (SELECT loser FROM dedup_merge);
DROP TABLE dedup_merge;

CREATE UNIQUE INDEX ux_memories_dedup ON memories (user_id, IFNULL(agent_id, ''), IFNULL(session_id, ''), dedup_key)
    WHERE dedup_key IS NOT NULL;

-- Index work that cannot be done for one memory (a stored value that cannot be read back, content the embedder
-- refuses) waits here with its cause instead of blocking the outbox for everyone.
CREATE TABLE index_quarantine (
    memory_id TEXT PRIMARY KEY,
    user_id TEXT,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    cause TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);

-- Idempotency keys are reserved before the work (status 0 until the answer is stored) and remember a
-- fingerprint of the request they were first used with.
ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
