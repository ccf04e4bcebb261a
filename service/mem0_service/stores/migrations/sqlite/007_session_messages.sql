-- The message log of each session: one row per message, numbered per (user, session) by the counter below so
-- that the order is the order the database received them in, never the clients' clocks.
CREATE TABLE IF NOT EXISTS session_messages (
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    agent_id   TEXT,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    name       TEXT,
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    stored_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, session_id, seq)
);
-- The last number handed out in a session; an append bumps it in the same statement that reserves its numbers,
-- so concurrent appends interleave but never share a number. Clearing a log keeps it: cursors stay valid.
CREATE TABLE IF NOT EXISTS session_counters (
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    last_seq   INTEGER NOT NULL,
    PRIMARY KEY (user_id, session_id)
);
-- The session TTL finds idle logs by their newest message.
CREATE INDEX IF NOT EXISTS ix_session_messages_stored ON session_messages (stored_at);
