"""Helpers shared by the record store implementations; the interface itself is `mem0_service.core.ports`."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from mem0_service.core.memory import Memory
from mem0_service.core.ports import (  # noqa: F401 (re-exported: the adapters and older imports name them here)
    IdempotencyState,
    IndexOp,
    QuarantineEntry,
    RecordStore,
    UnreadableRecord,
    UserSummary,
    dedup_key,
    load_rows,
)
from mem0_service.stores.stopwords import STOPWORDS

log = logging.getLogger("mem0_service.stores")
WORD = re.compile(r"\w+", re.UNICODE)
# Columns an update may name; anything else in a change set is a programming error.
UPDATABLE = ("content", "type", "metadata", "expires_at")
# Idempotency keys dropped per transaction by expiry: writers wait at most for one batch (and within SQLite's
# 999 bound parameters).
EXPIRY_BATCH = 500


def keyword_terms(query: str, max_terms: int = 32) -> list[str]:
    """Words of a query that can carry meaning, deduplicated, longest first (stop words and one-letter noise dropped)."""
    seen: dict[str, None] = {}
    for word in WORD.findall(query.casefold()):
        if (len(word) > 1 or word.isdigit()) and word not in STOPWORDS:
            seen.setdefault(word, None)
    return sorted(seen, key=len, reverse=True)[:max_terms]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix`, for an index range scan:
    `prefix <= id < bound` (for the empty prefix: every id)."""
    return prefix + "\U0010ffff"


def changed_columns(current: Memory, changes: dict[str, Any]) -> dict[str, Any]:
    """The named fields that really differ from the stored record."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return {k: v for k, v in changes.items() if getattr(current, k) != v}


def iso(dt: datetime) -> str:
    """The one written form of an instant: UTC, fixed width (the year always four digits), so stored text sorts in
    time order. strftime("%Y") would write year 999 as "999" on glibc."""
    utc = dt.astimezone(timezone.utc)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
            f".{utc.microsecond:06d}Z")


def parse_iso(text: str) -> datetime:
    """Reads what iso() writes, and the unpadded years older versions wrote ("999-06-01T...")."""
    date, sep, rest = text.partition("-")
    if sep and date.isdigit() and len(date) < 4:
        text = f"{int(date):04d}-{rest}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def migrations(dialect: str) -> list[tuple[int, str]]:
    """Numbered SQL scripts shipped with the package, in order."""
    folder = resources.files("mem0_service.stores") / "migrations" / dialect
    scripts = [(int(f.name.split("_", 1)[0]), f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(scripts)


def adjacent_turns_sql(ids_in: str, reach: int) -> str:
    """The `reach` conversation turns stored just before and just after each turn among `ids_in` (a SQL condition on
    m.id), read through ix_memories_turns on both databases: same user, session and agent, in creation order
    (created_at, then id, which sorts in creation order within a batch; imported memories keep their own ids)."""
    same = ("n.type = 'interaction' AND n.user_id = m.user_id AND coalesce(n.session_id, '') = coalesce(m.session_id, '') "
            "AND coalesce(n.agent_id, '') = coalesce(m.agent_id, '')")
    before = [f"(SELECT n.id FROM memories n WHERE {same} AND (n.created_at, n.id) < (m.created_at, m.id) "
              f"ORDER BY n.created_at DESC, n.id DESC LIMIT 1 OFFSET {k})" for k in range(reach)]
    after = [f"(SELECT n.id FROM memories n WHERE {same} AND (n.created_at, n.id) > (m.created_at, m.id) "
             f"ORDER BY n.created_at, n.id LIMIT 1 OFFSET {k})" for k in range(reach)]
    return f"SELECT m.id, {', '.join(before + after)} FROM memories m WHERE m.type = 'interaction' AND {ids_in}"


def adjacency(rows) -> dict[str, list[str]]:
    """Each turn's neighbours, nearest first on each side; turns without any are left out."""
    out = {}
    for turn, *around in rows:
        neighbours = [n for n in around if n is not None]
        if neighbours:
            out[turn] = neighbours
    return out
