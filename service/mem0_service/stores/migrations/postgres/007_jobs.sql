-- Background work (asynchronous adds, retried extractions) as rows: a job outlives the process that queued it.
-- seq orders the jobs of a user; workers claim with FOR UPDATE SKIP LOCKED and own a running job until
-- lease_until, renewing it while they work, so a job whose worker died is taken up again once the lease has passed.
CREATE TABLE IF NOT EXISTS jobs (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    agent_id TEXT,
    payload JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    result JSONB,
    error TEXT,
    dedup_key TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS ix_jobs_open ON jobs (status, run_after) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS ix_jobs_user ON jobs (user_id, seq) WHERE status IN ('queued', 'running');
