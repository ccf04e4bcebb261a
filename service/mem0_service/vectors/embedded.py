"""Embedded vector index: vectors on disk in SQLite, searched as per-user numpy matrices in memory.

Partitioning by user first is what makes it fast: a search only touches one user's vectors
(measured ~0.02 ms for 100 vectors vs ~90 ms for qdrant-client's local mode over 10k points)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from mem0_service.errors import ServiceUnavailable
from mem0_service.sqlite_worker import SQLiteWorker
from mem0_service.vectors.base import VectorFilter, VectorIndex, VectorPoint


class _UserVectors:
    """One user's vectors as a growable matrix with parallel payload columns."""

    def __init__(self, dim: int):
        self.matrix = np.zeros((16, dim), dtype=np.float32)
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.session: list[str | None] = []
        self.agent: list[str | None] = []
        self.type: list[str] = []

    def put(self, point_id: str, vector: np.ndarray, payload: dict) -> None:
        row = self.row_of.get(point_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.matrix):
                self.matrix = np.vstack([self.matrix, np.zeros_like(self.matrix)])
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
        last = len(self.ids) - 1
        if row != last:  # move the last row into the hole so the matrix stays dense
            self.matrix[row] = self.matrix[last]
            for column in (self.ids, self.session, self.agent, self.type):
                column[row] = column[last]
            self.row_of[self.ids[row]] = row
        for column in (self.ids, self.session, self.agent, self.type):
            column.pop()

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
        self._users: dict[str, _UserVectors] = {}
        self._user_of: dict[str, str] = {}

    async def open(self) -> None:
        def load(conn: sqlite3.Connection) -> list[tuple]:
            with conn:
                conn.execute("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                             "session_id TEXT, agent_id TEXT, type TEXT NOT NULL, vector BLOB NOT NULL)")
                conn.execute("CREATE TABLE IF NOT EXISTS index_info (key TEXT PRIMARY KEY, value TEXT)")
                stored_dim = conn.execute("SELECT value FROM index_info WHERE key = 'dim'").fetchone()
                if stored_dim and int(stored_dim[0]) != self.dim:
                    raise ServiceUnavailable(
                        f"Vector index at {self.path} holds {stored_dim[0]}-d vectors but the embedder makes "
                        f"{self.dim}-d; move the file away and the index is rebuilt from the records",
                        dependency="vector_index")
                conn.execute("INSERT OR REPLACE INTO index_info VALUES ('dim', ?)", (str(self.dim),))
            return conn.execute("SELECT id, user_id, session_id, agent_id, type, vector FROM vectors").fetchall()

        for point_id, user_id, session_id, agent_id, type_, blob in await self._worker.open(load):
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
        await self._worker.close()

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def upsert(self, points: list[VectorPoint]) -> None:
        rows = [(p.id, p.payload["user_id"], p.payload.get("session_id"), p.payload.get("agent_id"), p.payload["type"],
                 np.asarray(p.vector, dtype=np.float32).tobytes()) for p in points]
        await self._run(lambda c: c.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?,?,?,?)", rows))
        for p in points:  # memory follows disk, never leads it
            self._remember(p.id, np.asarray(p.vector, dtype=np.float32), p.payload)

    async def delete(self, ids: list[str]) -> None:
        await self._run(lambda c: c.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in ids]))
        for point_id in ids:
            user_id = self._user_of.pop(point_id, None)
            if user_id is not None:
                self._users[user_id].remove(point_id)

    async def search(self, vector: np.ndarray, flt: VectorFilter, *, limit: int) -> list[tuple[str, float]]:
        user = self._users.get(flt.user_id)
        if user is None or not user.ids:
            return []
        rows = user.candidates(flt)
        if rows is not None and rows.size == 0:
            return []
        # a view of the live rows when unfiltered: copying a 20k-memory user's matrix cost more than the product
        matrix = user.matrix[:len(user.ids)] if rows is None else user.matrix[rows]
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-scores)[:limit] if scores.size <= limit else np.argpartition(-scores, limit)[:limit]
        top = top[np.argsort(-scores[top])]
        positions = top if rows is None else rows[top]
        return [(user.ids[p], float(scores[i])) for p, i in zip(positions, top)]

    async def similarity(self, vector: np.ndarray, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        user = self._users.get(flt.user_id)
        if user is None:
            return {}
        rows = [user.row_of[i] for i in ids if i in user.row_of]
        if not rows:
            return {}
        scores = user.matrix[rows] @ np.asarray(vector, dtype=np.float32)
        return {user.ids[r]: float(s) for r, s in zip(rows, scores)}

    async def count(self) -> int:
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
