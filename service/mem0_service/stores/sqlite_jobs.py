"""The job queue on SQLite. SQLite has no row locks: a claim is one UPDATE ... RETURNING statement, which the
database's write lock makes atomic across every process sharing the file."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from mem0_service.core.job_queue import JOB_COLUMNS, Job, JobQueue, JobStats, NewJob, new_job_id
from mem0_service.core.memory import utcnow
from mem0_service.sqlite_worker import Runner
from mem0_service.stores.base import iso, parse_iso


def _row_to_job(row: tuple) -> Job:
    return Job(id=row[0], seq=row[1], kind=row[2], user_id=row[3], agent_id=row[4], payload=json.loads(row[5]),
               status=row[6], attempts=row[7], run_after=parse_iso(row[8]), lease_owner=row[9],
               result=json.loads(row[10]) if row[10] is not None else None, error=row[11],
               created_at=parse_iso(row[12]), started_at=parse_iso(row[13]) if row[13] else None,
               finished_at=parse_iso(row[14]) if row[14] else None)


# Due, and no earlier open job of the same user (a running job, even one whose lease ran out, comes first).
CLAIMABLE = ("SELECT j.seq FROM jobs j WHERE ((j.status = 'queued' AND j.run_after <= :now) "
             "OR (j.status = 'running' AND j.lease_until <= :now)) "
             "AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.user_id = j.user_id AND e.seq < j.seq "
             "AND e.status IN ('queued', 'running')) ORDER BY j.seq LIMIT 1")


class SQLiteJobs(JobQueue):
    _run: Runner  # SQLiteRecordStore's transaction runner

    async def enqueue_job(self, job: NewJob) -> Job:
        def work(c: sqlite3.Connection) -> Job:
            now = iso(utcnow())
            finished = now if job.status in ("done", "failed") else None
            c.execute("INSERT INTO jobs (id, kind, user_id, agent_id, payload, status, run_after, result, dedup_key, "
                      "created_at, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT (dedup_key) DO NOTHING",
                      (new_job_id(), job.kind, job.user_id, job.agent_id, json.dumps(job.payload, ensure_ascii=False),
                       job.status, now, json.dumps(job.result) if job.result is not None else None, job.dedup_key,
                       now, finished, finished))
            return _row_to_job(c.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE rowid = last_insert_rowid()"
                                         if job.dedup_key is None else
                                         f"SELECT {JOB_COLUMNS} FROM jobs WHERE dedup_key = ?",
                                         () if job.dedup_key is None else (job.dedup_key,)).fetchone())
        return await self._run(work)

    async def claim_job(self, owner: str, lease_seconds: float) -> Job | None:
        now = utcnow()
        # Look first, read-only: an idle worker polling must not take the database's write lock every time.
        if await self._run(lambda c: c.execute(CLAIMABLE, {"now": iso(now)}).fetchone()) is None:
            return None

        def work(c: sqlite3.Connection) -> Job | None:
            row = c.execute(f"UPDATE jobs SET status = 'running', lease_owner = :owner, lease_until = :until, "
                            f"attempts = attempts + 1, started_at = COALESCE(started_at, :now_text) "
                            f"WHERE seq = ({CLAIMABLE}) RETURNING {JOB_COLUMNS}",
                            {"owner": owner, "until": iso(now + timedelta(seconds=lease_seconds)),
                             "now": iso(now), "now_text": iso(now)}).fetchone()
            return _row_to_job(row) if row else None
        return await self._run(work)

    async def _held(self, sql: str, params: tuple, job_id: str, owner: str) -> bool:
        return await self._run(lambda c: c.execute(
            f"UPDATE jobs SET {sql} WHERE id = ? AND lease_owner = ? AND status = 'running'",
            (*params, job_id, owner)).rowcount > 0)

    async def renew_job(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        return await self._held("lease_until = ?", (iso(utcnow() + timedelta(seconds=lease_seconds)),), job_id, owner)

    async def finish_job(self, job_id: str, owner: str, result: list[dict[str, Any]]) -> bool:
        return await self._held("status = 'done', result = ?, error = NULL, lease_until = NULL, finished_at = ?",
                                (json.dumps(result, ensure_ascii=False), iso(utcnow())), job_id, owner)

    async def retry_job(self, job_id: str, owner: str, error: str, run_after: datetime) -> bool:
        return await self._held("status = 'queued', error = ?, run_after = ?, lease_until = NULL",
                                (error[:2000], iso(run_after)), job_id, owner)

    async def dead_letter_job(self, job_id: str, owner: str, error: str) -> bool:
        return await self._held("status = 'failed', error = ?, lease_until = NULL, finished_at = ?",
                                (error[:2000], iso(utcnow())), job_id, owner)

    async def get_job(self, job_id: str) -> Job | None:
        row = await self._run(lambda c: c.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?",
                                                  (job_id,)).fetchone())
        return _row_to_job(row) if row else None

    async def job_stats(self) -> JobStats:
        def work(c: sqlite3.Connection) -> JobStats:
            counts = dict(c.execute("SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running', 'failed') "
                                    "GROUP BY status").fetchall())
            oldest = c.execute("SELECT MIN(created_at) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0]
            return JobStats(queued=counts.get("queued", 0), running=counts.get("running", 0),
                            failed=counts.get("failed", 0), oldest_open_at=parse_iso(oldest) if oldest else None)
        return await self._run(work)

    async def prune_jobs(self, finished_before: datetime, *, limit: int = 10_000) -> int:
        return await self._run(lambda c: c.execute(
            "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE status = 'done' AND finished_at < ? LIMIT ?)",
            (iso(finished_before), limit)).rowcount)

    async def enqueue_pending_extractions(self, limit: int = 1000) -> int:
        def work(c: sqlite3.Connection) -> int:
            rows = c.execute(
                "SELECT m.id, m.user_id, m.agent_id FROM memories m WHERE m.type = 'interaction' "
                "AND json_extract(m.metadata, '$.extraction') = 'pending' "
                "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dedup_key = 'pending:' || m.id) "
                "ORDER BY m.created_at, m.id LIMIT ?", (limit,)).fetchall()
            now = iso(utcnow())
            c.executemany("INSERT INTO jobs (id, kind, user_id, agent_id, payload, status, run_after, dedup_key, "
                          "created_at) VALUES (?, 'pending_extraction', ?, ?, ?, 'queued', ?, ?, ?) "
                          "ON CONFLICT (dedup_key) DO NOTHING",
                          [(new_job_id(), user_id, agent_id, json.dumps({"memory_id": memory_id}), now,
                            f"pending:{memory_id}", now) for memory_id, user_id, agent_id in rows])
            return len(rows)
        return await self._run(work)
