"""One SQLite connection owned by one thread: SQLite serialises writers anyway, and the thread keeps blocking
file I/O off the event loop. Shared by the record store and the embedded vector index."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from mem0_service.errors import ServiceUnavailable

T = TypeVar("T")


class Runner(Protocol):
    """`SQLiteWorker.run` as the store mixins sharing its connection see it."""

    def __call__(self, fn: Callable[[sqlite3.Connection], T], /) -> Awaitable[T]: ...


class SQLiteWorker:
    def __init__(self, path: Path, *, dependency: str, label: str):
        self.path = path
        self.dependency, self.label = dependency, label
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=dependency)
        self._conn: sqlite3.Connection | None = None

    async def open(self, setup: Callable[[sqlite3.Connection], T]) -> T:
        """Connect (WAL, durable commits) and run `setup` on the worker thread before anything else."""
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def connect() -> T:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a power cut
            conn.execute("PRAGMA busy_timeout=5000")
            conn.isolation_level = "DEFERRED"
            self._conn = conn
            return setup(conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one transaction: committed if it returns, rolled back if it raises."""
        def call() -> T:
            assert self._conn is not None, f"{self.label} is not open"
            with self._conn:
                return fn(self._conn)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except sqlite3.Error as exc:
            raise ServiceUnavailable(f"{self.label} error: {exc}", dependency=self.dependency) from exc

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
