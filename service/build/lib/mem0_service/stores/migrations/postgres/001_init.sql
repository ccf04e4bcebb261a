CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    session_id TEXT,
    agent_id TEXT,
    type TEXT NOT NULL,
    content TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    -- English and Russian stemming both apply: memories stay in the language they were written in.
    search_vector TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, content) || to_tsvector('russian'::regconfig, content)
    ) STORED
);
CREATE INDEX ix_memories_user_id ON memories (user_id);
CREATE INDEX ix_memories_type ON memories (type);
CREATE INDEX ix_memories_created_at ON memories (created_at);
CREATE INDEX ix_memories_user_created ON memories (user_id, created_at DESC, id DESC);
CREATE INDEX ix_memories_user_session ON memories (user_id, session_id);
CREATE INDEX ix_memories_user_hash ON memories (user_id, content_hash);
CREATE INDEX ix_memories_search ON memories USING GIN (search_vector);

CREATE TABLE index_outbox (
    seq BIGSERIAL PRIMARY KEY,
    memory_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete'))
);
