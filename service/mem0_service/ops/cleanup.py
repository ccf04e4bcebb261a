"""The guide's "delete memories older than six months", as a command that shows before it deletes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from mem0_service.config import Settings
from mem0_service.core.memory import utcnow
from mem0_service.ops.progress import bar
from mem0_service.ops.snapshot import open_snapshot

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|w|y)?\s*$", re.IGNORECASE)
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1), "y": timedelta(days=365)}
BATCH = 500


def parse_age(text: str) -> timedelta:
    """'180d', '26w', '12h', '1y' or a bare number of days."""
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an age: use a number with h, d, w or y (e.g. 180d)")
    return _UNIT[(match.group(2) or "d").lower()] * float(match.group(1))


@dataclass
class CleanupPlan:
    cutoff: datetime
    ids: list[str]


def plan(settings: Settings, older_than: timedelta, types: tuple[str, ...] = (),
         user_id: str | None = None) -> CleanupPlan:
    cutoff = utcnow() - older_than
    with open_snapshot(settings) as snapshot:
        return CleanupPlan(cutoff, snapshot.ids_older_than(cutoff, types, user_id))


async def delete(settings: Settings, ids: list[str], *, progress: bool | None = None) -> int:
    """Delete the records through MemoryService; their vectors follow through the index outbox, which the service
    applies (search never shows a memory whose record is gone, so the order is safe even while the service runs)."""
    from mem0_service.backends import open_records

    async with open_records(settings) as service:
        with bar(len(ids), "delete", progress) as shown:
            return await service.forget(ids, actor="cleanup", apply_index=False, batch_size=BATCH,
                                        on_progress=shown.update)
