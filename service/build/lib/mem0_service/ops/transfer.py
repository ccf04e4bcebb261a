"""Export and import as JSON lines, streamed in batches so millions of memories never sit in memory at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO

from mem0_service.config import Settings
from mem0_service.core.memory import Memory
from mem0_service.ops.progress import bar
from mem0_service.ops.records import BadRecord, memory_from_json, memory_line
from mem0_service.ops.snapshot import open_snapshot

BATCH = 500


class ImportError_(Exception):
    """A line of the import file is not a memory (the message names the line)."""


@dataclass
class ImportResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    index_note: str | None = None


def export(settings: Settings, out: IO[str], *, user_id: str | None = None, progress: bool | None = None) -> int:
    """Every memory (or one user's) as JSON lines, from one consistent snapshot; returns how many."""
    written = 0
    with open_snapshot(settings) as snapshot:
        where, params = ("user_id = ?", (user_id,)) if user_id else ("", ())
        if user_id and snapshot.backend == "postgres":
            where = "user_id = %s"
        with bar(None if user_id else snapshot.count(), "export", progress) as shown:
            for batch in snapshot.batches(BATCH, where=where, params=params):
                for memory in batch:
                    out.write(memory_line(memory))
                written += len(batch)
                shown.update(len(batch))
    out.flush()
    return written


async def import_lines(settings: Settings, source: IO[str], *, skip_invalid: bool = False,
                       progress: bool | None = None) -> ImportResult:
    """Memories keep their ids and timestamps; an id already present is brought to the imported version."""
    from mem0_service.backends import open_backends

    result = ImportResult()
    async with open_backends(settings) as service:
        with bar(None, "import", progress) as shown:
            batch: list[Memory] = []
            for number, line in enumerate(source, 1):
                if not line.strip():
                    continue
                try:
                    batch.append(memory_from_json(json.loads(line)))
                except (ValueError, BadRecord) as exc:
                    if not skip_invalid:
                        raise ImportError_(f"line {number}: {exc}") from None
                    result.skipped += 1
                    continue
                if len(batch) >= BATCH:
                    await _write(service, batch, result)
                    shown.update(len(batch))
                    batch = []
            if batch:
                await _write(service, batch, result)
                shown.update(len(batch))
        if not await service.indexer.flush():
            result.index_note = (f"vector index not fully updated ({service.indexer.last_error}); "
                                 "the service finishes it when it starts")
    return result


async def _write(service, batch: list[Memory], result: ImportResult) -> None:
    unique = list({m.id: m for m in batch}.values())  # the last line for an id wins
    existing = await service.store.get_many([m.id for m in unique])
    fresh = [m for m in unique if m.id not in existing]
    changed = [m for m in unique if m.id in existing and existing[m.id] != m]
    if fresh:
        await service.store.insert(fresh, actor="import")
    for memory in changed:
        await service.store.update(memory, reindex=True, actor="import")
    result.inserted += len(fresh)
    result.updated += len(changed)
    result.unchanged += len(unique) - len(fresh) - len(changed)
    await service.indexer.flush()
