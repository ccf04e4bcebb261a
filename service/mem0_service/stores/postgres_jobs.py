"""The job queue on PostgreSQL: workers and replicas claim with FOR UPDATE SKIP LOCKED, so two of them never take
the same job and none waits on a job another is claiming."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from mem0_service.core.job_queue import JOB_COLUMNS, Job, JobQueue, JobStats, NewJob, new_job_id
from mem0_service.core.memory import utcnow
from mem0_service.stores.postgres_cursor import Transaction, single_row


def _row_to_job(row: tuple) -> Job:
    return Job(id=row[0], seq=row[1], kind=row[2], user_id=row[3], agent_id=row[4], payload=row[5], status=row[6],
               attempts=row[7], run_after=row[8], lease_owner=row[9], result=row[10], error=row[11],
               created_at=row[12], started_at=row[13], finished_at=row[14])


# Due, and no earlier open job of the same user (a running job, even one whose lease ran out, comes first). A job
# being claimed right now is locked and skipped; its user's later jobs still see it open and wait.
CLAIM = (f"WITH next AS (SELECT j.seq FROM jobs j WHERE ((j.status = 'queued' AND j.run_after <= %(now)s) "
         f"OR (j.status = 'running' AND j.lease_until <= %(now)s)) "
         f"AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.user_id = j.user_id AND e.seq < j.seq "
         f"AND e.status IN ('queued', 'running')) ORDER BY j.seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
         f"UPDATE jobs SET status = 'running', lease_owner = %(owner)s, lease_until = %(until)s, "
         f"attempts = jobs.attempts + 1, started_at = COALESCE(jobs.started_at, %(now)s) "
         f"FROM next WHERE jobs.seq = next.seq RETURNING {', '.join('jobs.' + c for c in JOB_COLUMNS.split(', '))}")


class PostgresJobs(JobQueue):
    _tx: Transaction

    async def enqueue_job(self, job: NewJob) -> Job:
        now = utcnow()
        finished = now if job.status in ("done", "failed") else None
        async with self._tx() as cur:
            await cur.execute(
                "INSERT INTO jobs (id, kind, user_id, agent_id, payload, status, run_after, result, dedup_key, "
                "created_at, started_at, finished_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                f"ON CONFLICT (dedup_key) DO NOTHING RETURNING {JOB_COLUMNS}",
                (new_job_id(), job.kind, job.user_id, job.agent_id, Jsonb(job.payload), job.status, now,
                 Jsonb(job.result) if job.result is not None else None, job.dedup_key, now, finished, finished))
            row = await cur.fetchone()
            if row is None:
                await cur.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE dedup_key = %s", (job.dedup_key,))
                row = await single_row(cur)
        return _row_to_job(row)

    async def claim_job(self, owner: str, lease_seconds: float) -> Job | None:
        now = utcnow()
        async with self._tx() as cur:
            await cur.execute(CLAIM, {"now": now, "owner": owner, "until": now + timedelta(seconds=lease_seconds)})
            row = await cur.fetchone()
        return _row_to_job(row) if row else None

    async def _held(self, sql: str, params: tuple, job_id: str, owner: str) -> bool:
        async with self._tx() as cur:
            await cur.execute(f"UPDATE jobs SET {sql} WHERE id = %s AND lease_owner = %s AND status = 'running'",
                              (*params, job_id, owner))
            return cur.rowcount > 0

    async def renew_job(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        return await self._held("lease_until = %s", (utcnow() + timedelta(seconds=lease_seconds),), job_id, owner)

    async def finish_job(self, job_id: str, owner: str, result: list[dict[str, Any]]) -> bool:
        return await self._held("status = 'done', result = %s, error = NULL, lease_until = NULL, finished_at = %s",
                                (Jsonb(result), utcnow()), job_id, owner)

    async def retry_job(self, job_id: str, owner: str, error: str, run_after: datetime) -> bool:
        return await self._held("status = 'queued', error = %s, run_after = %s, lease_until = NULL",
                                (error[:2000], run_after), job_id, owner)

    async def dead_letter_job(self, job_id: str, owner: str, error: str) -> bool:
        return await self._held("status = 'failed', error = %s, lease_until = NULL, finished_at = %s",
                                (error[:2000], utcnow()), job_id, owner)

    async def get_job(self, job_id: str) -> Job | None:
        async with self._tx() as cur:
            await cur.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,))
            row = await cur.fetchone()
        return _row_to_job(row) if row else None

    async def job_stats(self) -> JobStats:
        async with self._tx() as cur:
            await cur.execute("SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running', 'failed') "
                              "GROUP BY status")
            counts: dict[str, int] = dict(await cur.fetchall())
            await cur.execute("SELECT MIN(created_at) FROM jobs WHERE status IN ('queued', 'running')")
            oldest = (await single_row(cur))[0]
        return JobStats(queued=counts.get("queued", 0), running=counts.get("running", 0),
                        failed=counts.get("failed", 0), oldest_open_at=oldest)

    async def prune_jobs(self, finished_before: datetime, *, limit: int = 10_000) -> int:
        async with self._tx() as cur:
            await cur.execute("DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE status = 'done' "
                              "AND finished_at < %s LIMIT %s)", (finished_before, limit))
            return cur.rowcount

    async def enqueue_pending_extractions(self, limit: int = 1000) -> int:
        now = utcnow()
        async with self._tx() as cur:
            await cur.execute(
                "SELECT m.id, m.user_id, m.agent_id FROM memories m WHERE m.type = 'interaction' "
                "AND m.metadata @> '{\"extraction\": \"pending\"}' "
                "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dedup_key = 'pending:' || m.id) "
                "ORDER BY m.created_at, m.id LIMIT %s", (limit,))
            rows = await cur.fetchall()
            await cur.executemany(
                "INSERT INTO jobs (id, kind, user_id, agent_id, payload, status, run_after, dedup_key, created_at) "
                "VALUES (%s, 'pending_extraction', %s, %s, %s, 'queued', %s, %s, %s) ON CONFLICT (dedup_key) DO NOTHING",
                [(new_job_id(), user_id, agent_id, Jsonb({"memory_id": memory_id}), now, f"pending:{memory_id}", now)
                 for memory_id, user_id, agent_id in rows])
        return len(rows)
