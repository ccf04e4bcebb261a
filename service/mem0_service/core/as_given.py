"""Writing memories exactly as an archive or an import file holds them: the operation restore and import share."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from mem0_service.core.memory import HistoryEvent, Memory
from mem0_service.core.ports import AsGivenWriter


@dataclass
class AsGivenCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def write_as_given(writer: AsGivenWriter, batch: list[Memory], *, actor: str, counts: AsGivenCounts,
                   history_kept: Collection[str] = ()) -> list[str]:
    """New ids are inserted, existing ones brought to the given version (an identical one is left alone); each
    gains the history event of that write, except a new memory whose archived history was written (`history_kept`:
    its ADD is in it). The last of several versions of one id in `batch` wins. Returns the ids written."""
    if not batch:
        return []
    unique = list({m.id: m for m in batch}.values())
    existing = writer.existing([m.id for m in unique])
    fresh = [m for m in unique if m.id not in existing]
    changed = [m for m in unique if m.id in existing and existing[m.id] != m]
    writer.insert(fresh)
    writer.add_history([(m.user_id, HistoryEvent(m.id, "ADD", None, m.content, actor, m.created_at))
                        for m in fresh if m.id not in history_kept])
    for memory in changed:
        before = existing[memory.id]
        writer.update(memory)
        writer.add_history([(memory.user_id, HistoryEvent(memory.id, "UPDATE", before.content if before else None,
                                                          memory.content, actor, memory.updated_at))])
    counts.inserted += len(fresh)
    counts.updated += len(changed)
    counts.unchanged += len(unique) - len(fresh) - len(changed)
    return [m.id for m in [*fresh, *changed]]
