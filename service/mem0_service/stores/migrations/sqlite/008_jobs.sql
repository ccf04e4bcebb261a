-- Background work (asynchronous adds, retried extractions) as rows: a job outlives the process that queued it.
-- seq orders the jobs of a user; a worker owns a running job until lease_until and renews it while it works, so a
-- job whose worker died (kill -9) is taken up again once the lease has passed.
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    agent_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    result TEXT,
    error TEXT,
    dedup_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_jobs_open ON jobs (status, run_after) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS ix_jobs_user ON jobs (user_id, seq) WHERE status IN ('queued', 'running');
