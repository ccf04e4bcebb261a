"""Export and import as JSON lines, streamed in batches so millions of memories never sit in memory at once."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mem0_service.config import Settings
from mem0_service.core.as_given import AsGivenCounts
from mem0_service.core.memory import Memory
from mem0_service.ops.progress import bar
from mem0_service.ops.records import memory_from_json, memory_line
from mem0_service.ops.snapshot import open_snapshot
from mem0_service.ops.validation import parse_json

BATCH = 500


class ImportError_(Exception):
    """A line of the import file is not a memory (the message names the line and the field)."""


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
    with open_snapshot(settings) as snapshot, bar(None if user_id else snapshot.count(), "export", progress) as shown:
        for batch in snapshot.batches(BATCH, user_id=user_id or None):
            for memory in batch:
                out.write(memory_line(memory))
            written += len(batch)
            shown.update(len(batch))
    out.flush()
    return written


def _checked_copy(source: IO[str], target: IO[str], *, skip_invalid: bool) -> tuple[int, int]:
    """Copy the valid memories of `source` to `target`, one line each; (copied, skipped). Without `skip_invalid`
    the first invalid line stops the import before anything is written."""
    copied = skipped = number = 0
    lines = iter(source)
    while True:
        number += 1
        try:
            line = next(lines)
        except StopIteration:
            break
        except UnicodeDecodeError:
            raise ImportError_(f"line {number}: not UTF-8 text") from None
        if not line.strip():
            continue
        try:
            memory = memory_from_json(parse_json(line))
        except ValueError as exc:  # BadRecord included
            if not skip_invalid:
                raise ImportError_(f"line {number}: {exc}") from None
            skipped += 1
            continue
        target.write(memory_line(memory))
        copied += 1
    return copied, skipped


async def import_lines(settings: Settings, source: IO[str], *, skip_invalid: bool = False,
                       progress: bool | None = None) -> ImportResult:
    """Memories keep their ids and timestamps; an id already present is brought to the imported version. The whole
    file is checked first, then written in one transaction: an invalid line leaves the store untouched."""
    from mem0_service.backends import open_backends

    result = ImportResult()
    with tempfile.TemporaryDirectory(prefix="mem0-import-") as tmp:
        checked = Path(tmp) / "memories.jsonl"
        with open(checked, "w", encoding="utf-8") as target:
            copied, result.skipped = _checked_copy(source, target, skip_invalid=skip_invalid)
        async with open_backends(settings) as service:  # opening applies the schema migrations first
            counts = AsGivenCounts()
            with service.as_given() as writer, open(checked, encoding="utf-8") as lines, \
                    bar(copied, "import", progress) as shown:
                batch: list[Memory] = []
                for line in lines:
                    batch.append(memory_from_json(parse_json(line)))
                    if len(batch) >= BATCH:
                        service.write_as_given(writer, batch, actor="import", counts=counts)
                        shown.update(len(batch))
                        batch = []
                service.write_as_given(writer, batch, actor="import", counts=counts)
                shown.update(len(batch))
            result.inserted, result.updated, result.unchanged = counts.inserted, counts.updated, counts.unchanged
            if not await service.indexer.flush():
                result.index_note = (f"vector index not fully updated ({service.indexer.last_error}); "
                                     "the service finishes it when it starts")
    return result
