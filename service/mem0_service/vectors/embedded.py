"""Embedded vector index: vectors on disk in SQLite, searched as per-user numpy matrices in memory.

Partitioning by user first is what makes it fast: a search only touches one user's vectors
(measured ~0.02 ms for 100 vectors vs ~90 ms for qdrant-client's local mode over 10k points).

Several processes may share the file (worker processes, or `mem0-service import` next to a running service):
every write also appends the changed ids to `vector_log`, and `refresh` replays what other processes logged
since this one last looked, so each process's matrices follow the file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from mem0_service.errors import ServiceUnavailable
from mem0_service.sqlite_worker import SQLiteWorker
from mem0_service.vectors.base import VectorFilter, VectorIndex, VectorPoint, mean_to_others

log = logging.getLogger("mem0_service")


# Log entries kept for processes that have not looked for a while; one further behind reloads everything.
LOG_KEEP = 50_000

# From this many rows a user's scan goes to a thread (BLAS releases the GIL, so other requests go on meanwhile);
# below it the scan is shorter than the hand-over to a thread.
OFF_LOOP_ROWS = 4096


def _top(matrix: np.ndarray, rows: np.ndarray | None, query: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into the user's columns) and scores of the best `limit` rows, best first."""
    # a view of the live rows when unfiltered: copying a 20k-memory user's matrix cost more than the product
    scores = (matrix if rows is None else matrix[rows]) @ query
    top = np.argsort(-scores)[:limit] if scores.size <= limit else np.argpartition(-scores, limit)[:limit]
    top = top[np.argsort(-scores[top])]
    return (top if rows is None else rows[top]), scores[top]


class _UserVectors:
    """One user's vectors as a growable matrix with parallel payload columns. Changed only on the event loop;
    `version` tells a scan running in a thread that rows moved under it."""

    def __init__(self, dim: int):
        self.version = 0
        self.matrix = np.zeros((16, dim), dtype=np.float32)
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.session: list[str | None] = []
        self.agent: list[str | None] = []
        self.type: list[str] = []

    def put(self, point_id: str, vector: np.ndarray, payload: dict) -> None:
        self.version += 1
        row = self.row_of.get(point_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.matrix):
                # Double the capacity. The spare rows come from np.zeros, whose pages the system hands out only
                # when written, so the process grows with the vectors stored, not with the capacity reserved.
                grown = np.zeros((2 * len(self.matrix), self.matrix.shape[1]), dtype=np.float32)
                grown[:row] = self.matrix
                self.matrix = grown
            self.ids.append(point_id)
            self.session.append(None)
            self.agent.append(None)
            self.type.append("")
            self.row_of[point_id] = row
        self.matrix[row] = vector
        self.session[row], self.agent[row], self.type[row] = payload.get("session_id"), payload.get("agent_id"), payload["type"]

    def remove(self, point_id: str) -> None:
        row = self.row_of.pop(point_id, None)
        if row is None:
            return
        self.version += 1
        last = len(self.ids) - 1
        columns: tuple[list[Any], ...] = (self.ids, self.session, self.agent, self.type)
        if row != last:  # move the last row into the hole so the matrix stays dense
            self.matrix[row] = self.matrix[last]
            for column in columns:
                column[row] = column[last]
            self.row_of[self.ids[row]] = row
        for column in columns:
            column.pop()

    def admits(self, row: int, flt: VectorFilter) -> bool:
        """Whether one row passes the filter (the user is this one's already)."""
        return ((flt.session_id is None or self.session[row] == flt.session_id)
                and (flt.agent_id is None or self.agent[row] == flt.agent_id)
                and (not flt.types or self.type[row] in flt.types))

    def candidates(self, flt: VectorFilter) -> np.ndarray | None:
        """Rows that pass the filter; None when nothing narrows the user's memories (search them all, no copy)."""
        if flt.session_id is None and flt.agent_id is None and not flt.types:
            return None
        n = len(self.ids)
        mask = np.ones(n, dtype=bool)
        if flt.session_id is not None:
            mask &= np.fromiter((s == flt.session_id for s in self.session), bool, n)
        if flt.agent_id is not None:
            mask &= np.fromiter((a == flt.agent_id for a in self.agent), bool, n)
        if flt.types:
            mask &= np.fromiter((t in flt.types for t in self.type), bool, n)
        return np.flatnonzero(mask)


class EmbeddedVectorIndex(VectorIndex):
    name = "embedded"

    def __init__(self, path: Path, dim: int):
        self.path, self.dim = path, dim
        self._worker = SQLiteWorker(path, dependency="vector_index", label="Vector index")
        self._run = self._worker.run
        # Replays read on their own connection, so a search never queues behind this process's writes.
        self._reader = SQLiteWorker(path, dependency="vector_index", label="Vector index")
        self._probe: sqlite3.Connection | None = None  # event-loop thread only: PRAGMA data_version
        self._version = -1
        self._users: dict[str, _UserVectors] = {}
        self._user_of: dict[str, str] = {}
        self._seen = 0  # the last vector_log entry reflected in memory
        # Orders "write the file, then change memory" against "read the log, then change memory"; without it a
        # replay read before a write could be applied after it and bring back the old vector.
        self._apply = asyncio.Lock()

    async def open(self) -> None:
        def setup(conn: sqlite3.Connection) -> tuple[list[tuple], int]:
            # a vector is derived from its memory's text: a deleted one is overwritten, not left in free pages
            conn.execute("PRAGMA secure_delete = ON")
            with conn:
                conn.execute("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                             "session_id TEXT, agent_id TEXT, type TEXT NOT NULL, vector BLOB NOT NULL)")
                conn.execute("CREATE TABLE IF NOT EXISTS index_info (key TEXT PRIMARY KEY, value TEXT)")
                conn.execute("CREATE TABLE IF NOT EXISTS vector_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                             "id TEXT NOT NULL)")
                stored_dim = conn.execute("SELECT value FROM index_info WHERE key = 'dim'").fetchone()
                if stored_dim and int(stored_dim[0]) != self.dim:
                    raise ServiceUnavailable(
                        f"Vector index at {self.path} holds {stored_dim[0]}-d vectors but the embedder makes "
                        f"{self.dim}-d; move the file away and the index is rebuilt from the records",
                        dependency="vector_index")
                conn.execute("INSERT OR REPLACE INTO index_info VALUES ('dim', ?)", (str(self.dim),))
            return _load_all(conn)

        self._load(*await self._worker.open(setup))
        await self._reader.open(lambda c: None)
        self._probe = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)

    def _load(self, rows: list[tuple], seen: int) -> None:
        self._users.clear()
        self._user_of.clear()
        for row in rows:
            self._remember_row(*row)
        self._seen = seen

    async def refresh(self) -> None:
        """Take in what other processes wrote to the file since this one last looked."""
        def changes(c: sqlite3.Connection) -> tuple[str, list[tuple], int]:
            first = c.execute("SELECT MIN(seq), MAX(seq) FROM vector_log").fetchone()
            if first[1] is None or first[1] <= seen:
                return "none", [], seen
            if first[0] > seen + 1:  # the entries this process missed were pruned
                return "all", *_load_all(c)
            rows = c.execute("SELECT l.seq, l.id, v.user_id, v.session_id, v.agent_id, v.type, v.vector "
                             "FROM vector_log l LEFT JOIN vectors v ON v.id = l.id WHERE l.seq > ? ORDER BY l.seq",
                             (seen,)).fetchall()
            return "some", rows, rows[-1][0] if rows else seen

        assert self._probe is not None, "Vector index is not open"
        try:  # a read of SQLite's shared memory, no disk: cheap enough for the event loop
            version = self._probe.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise ServiceUnavailable(f"Vector index error: {exc}", dependency="vector_index") from exc
        if version == self._version:  # nobody has committed since the last look
            return
        async with self._apply:
            seen = self._seen
            kind, rows, last = await self._reader.run(changes)
            self._version = version
            if kind == "all":
                log.warning("vector index: other processes wrote more than %d changes since this one looked; "
                            "reloaded %d vectors", LOG_KEEP, len(rows))
                self._load(rows, last)
                return
            for _, point_id, *stored in rows:
                if stored[-1] is None:  # no vector left for a logged id: it was deleted
                    self._forget(point_id)
                else:
                    self._remember_row(point_id, *stored)
            self._seen = last

    def _remember_row(self, point_id: str, user_id: str, session_id: str | None, agent_id: str | None, type_: str,
                      blob: bytes) -> None:
        """A row of the `vectors` table into memory."""
        self._remember(point_id, np.frombuffer(blob, dtype=np.float32),
                       {"user_id": user_id, "session_id": session_id, "agent_id": agent_id, "type": type_})

    def _remember(self, point_id: str, vector: np.ndarray, payload: dict) -> None:
        user_id = payload["user_id"]
        previous = self._user_of.get(point_id)
        if previous is not None and previous != user_id:
            self._users[previous].remove(point_id)
        self._users.setdefault(user_id, _UserVectors(self.dim)).put(point_id, vector, payload)
        self._user_of[point_id] = user_id

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        await self._reader.close()
        await self._worker.close()

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def upsert(self, points: list[VectorPoint]) -> None:
        rows = [(p.id, p.payload["user_id"], p.payload.get("session_id"), p.payload.get("agent_id"), p.payload["type"],
                 np.asarray(p.vector, dtype=np.float32).tobytes()) for p in points]

        def write(c: sqlite3.Connection) -> tuple[int, int]:
            c.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?,?,?,?)", rows)
            return _log(c, [p.id for p in points])

        async with self._apply:
            self._skip_own(*await self._run(write))
            for p in points:  # memory follows disk, never leads it
                self._remember(p.id, np.asarray(p.vector, dtype=np.float32), p.payload)

    async def delete(self, ids: list[str]) -> None:
        def write(c: sqlite3.Connection) -> tuple[int, int]:
            c.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in ids])
            return _log(c, ids)

        async with self._apply:
            self._skip_own(*await self._run(write))
            for point_id in ids:
                self._forget(point_id)

    def _skip_own(self, before: int, last: int) -> None:
        """This process's own log entries need no replay when nobody else logged since this process looked."""
        if before == self._seen:
            self._seen = last

    def _forget(self, point_id: str) -> None:
        user_id = self._user_of.pop(point_id, None)
        if user_id is not None:
            self._users[user_id].remove(point_id)

    async def search(self, vector: np.ndarray, flt: VectorFilter, *, limit: int) -> list[tuple[str, float]]:
        user = self._users.get(flt.user_id)
        if user is None or not user.ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if len(user.ids) >= OFF_LOOP_ROWS:
            version, rows = user.version, user.candidates(flt)
            found = await asyncio.to_thread(_top, user.matrix[:len(user.ids)], rows, query, limit)
            if user.version == version:
                return [(user.ids[p], float(s)) for p, s in zip(*found)]
            # a write moved rows during the scan: scan again below, on the loop, where nothing moves
        positions, scores = _top(user.matrix[:len(user.ids)], user.candidates(flt), query, limit)
        return [(user.ids[p], float(s)) for p, s in zip(positions, scores)]

    async def similarity(self, vector: np.ndarray, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        user = self._users.get(flt.user_id)
        if user is None:
            return {}
        rows = [row for row in (user.row_of.get(i) for i in ids) if row is not None and user.admits(row, flt)]
        if not rows:
            return {}
        scores = user.matrix[rows] @ np.asarray(vector, dtype=np.float32)
        return {user.ids[r]: float(s) for r, s in zip(rows, scores)}

    async def typicality(self, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        # From the user's matrix in memory, as `similarity`: a search already refreshed it.
        user = self._users.get(flt.user_id)
        if user is None:
            return {}
        known = [i for i in ids if i in user.row_of and user.admits(user.row_of[i], flt)]
        if len(known) < 2:
            return {}
        return mean_to_others(known, user.matrix[[user.row_of[i] for i in known]])

    async def count(self) -> int:
        await self.refresh()
        return len(self._user_of)

    async def fetch_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        def work(c: sqlite3.Connection) -> dict[str, np.ndarray]:
            found: dict[str, np.ndarray] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = c.execute(f"SELECT id, vector FROM vectors WHERE id IN ({','.join('?' * len(chunk))})", chunk)
                found.update((i, np.frombuffer(blob, dtype=np.float32).copy()) for i, blob in rows)
            return found
        return await self._run(work) if ids else {}


def _load_all(c: sqlite3.Connection) -> tuple[list[tuple], int]:
    """Every vector and the log position they reflect, read in one snapshot."""
    c.execute("BEGIN")
    try:
        seen = c.execute("SELECT COALESCE(MAX(seq), 0) FROM vector_log").fetchone()[0]
        rows = c.execute("SELECT id, user_id, session_id, agent_id, type, vector FROM vectors").fetchall()
    finally:
        c.execute("COMMIT")
    return rows, seen


def _log(c: sqlite3.Connection, ids: list[str]) -> tuple[int, int]:
    """Append the changed ids; (the last entry before them, the last of them). Called after the write has
    begun the transaction, so no other process can log in between."""
    before = c.execute("SELECT COALESCE(MAX(seq), 0) FROM vector_log").fetchone()[0]
    c.executemany("INSERT INTO vector_log (id) VALUES (?)", [(i,) for i in ids])
    last = c.execute("SELECT COALESCE(MAX(seq), 0) FROM vector_log").fetchone()[0]
    if last // 1000 != before // 1000:  # now and then, not on every write
        c.execute("DELETE FROM vector_log WHERE seq <= ?", (last - LOG_KEEP,))
    return before, last
