-- The message log of each session: one row per message, numbered per (user, session) by the counter below so
-- that the order is the order the database received them in, never the clients' clocks.
CREATE TABLE IF NOT EXISTS session_messages (
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    agent_id   TEXT,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    name       TEXT,
    metadata   JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    stored_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, session_id, seq)
);
-- The last number handed out in a session. An append bumps it with an upsert, which holds the counter's row lock
-- until the append commits: concurrent appends to one session take turns and never share a number.
CREATE TABLE IF NOT EXISTS session_counters (
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    last_seq   BIGINT NOT NULL,
    PRIMARY KEY (user_id, session_id)
);
CREATE INDEX IF NOT EXISTS ix_session_messages_stored ON session_messages (stored_at);
