"""The consistent view of the configured record store that backup, export and cleanup read from."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mem0_service.config import Settings
from mem0_service.core.ports import Snapshot, SnapshotUnreadable

__all__ = ["Snapshot", "SnapshotUnreadable", "open_snapshot"]


@contextlib.contextmanager
def open_snapshot(settings: Settings) -> Iterator[Snapshot]:
    """One snapshot of the store the settings select, through the store itself (which owns the connection)."""
    from mem0_service.backends import make_store

    with make_store(settings).snapshot() as snapshot:
        yield snapshot
