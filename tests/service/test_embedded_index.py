"""The embedded vector index scans large users in a thread; writes on the event loop must never mix into a scan."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from mem0_service.embedders.base import normalise
from mem0_service.vectors import embedded
from mem0_service.vectors.base import VectorFilter, VectorPoint
from mem0_service.vectors.embedded import OFF_LOOP_ROWS, EmbeddedVectorIndex

DIM = 16


@pytest.fixture
async def big_user(tmp_path):
    """One user with enough vectors for the threaded scan, plus their vectors by id."""
    index = EmbeddedVectorIndex(tmp_path / "vectors.db", dim=DIM)
    await index.open()
    vectors = normalise(np.random.default_rng(7).standard_normal((OFF_LOOP_ROWS + 50, DIM)))
    await index.upsert([VectorPoint(f"m{i}", v, {"user_id": "u", "type": "fact"}) for i, v in enumerate(vectors)])
    yield index, {f"m{i}": v for i, v in enumerate(vectors)}
    await index.close()


def _held_scan(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make the threaded scan wait until released, so a test can write while it is in flight."""
    entered, release = threading.Event(), threading.Event()
    real_top = embedded._top

    def held(*args):
        entered.set()
        assert release.wait(10)
        return real_top(*args)
    monkeypatch.setattr(embedded, "_top", held)
    return entered, release


async def _wait(event: threading.Event) -> None:
    for _ in range(1000):
        if event.is_set():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the scan never started")


async def test_a_delete_during_a_threaded_scan_never_surfaces_the_deleted_vector(big_user, monkeypatch):
    index, vectors = big_user
    last = f"m{len(vectors) - 1}"
    query = vectors[last]  # the row the delete moves: it sits in two places of the matrix the scan holds
    entered, release = _held_scan(monkeypatch)
    search = asyncio.create_task(index.search(query, VectorFilter("u"), limit=5))
    await _wait(entered)
    await index.delete(["m0"])  # moves the last row into m0's place while the scan holds a view of the matrix
    release.set()
    hits = await search
    assert "m0" not in dict(hits)
    assert hits[0][0] == last and len({memory_id for memory_id, _ in hits}) == len(hits) == 5
    for memory_id, score in hits:
        assert score == pytest.approx(float(vectors[memory_id] @ query), abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


async def test_a_threaded_scan_finds_the_same_best_matches_as_a_direct_product(big_user):
    index, vectors = big_user
    ids = list(vectors)
    matrix = np.stack([vectors[i] for i in ids])
    for probe in ("m3", "m1000", f"m{OFF_LOOP_ROWS + 10}"):
        expected = [ids[i] for i in np.argsort(-(matrix @ vectors[probe]))[:10]]
        hits = await index.search(vectors[probe], VectorFilter("u"), limit=10)
        assert [memory_id for memory_id, _ in hits] == expected


async def _index(path):
    index = EmbeddedVectorIndex(path, dim=DIM)
    await index.open()
    return index


def _point(memory_id: str, seed: int, user: str = "u") -> VectorPoint:
    return VectorPoint(memory_id, normalise(np.random.default_rng(seed).standard_normal((1, DIM)))[0],
                       {"user_id": user, "type": "fact"})


async def test_another_process_writes_are_seen_by_the_next_search(tmp_path):
    # Two indexes on one file behave like two processes: SQLite is the only thing they share.
    writer, reader = await _index(tmp_path / "v.db"), await _index(tmp_path / "v.db")
    try:
        point = _point("a", 1)
        await writer.upsert([point])
        await reader.refresh()
        assert [i for i, _ in await reader.search(point.vector, VectorFilter("u"), limit=3)] == ["a"]
        moved = VectorPoint("a", point.vector, {"user_id": "someone-else", "type": "fact"})
        await writer.upsert([moved, _point("b", 2)])
        await reader.refresh()
        assert [i for i, _ in await reader.search(point.vector, VectorFilter("u"), limit=3)] == ["b"]
        assert {i for i, _ in await reader.search(point.vector, VectorFilter("someone-else"), limit=3)} == {"a"}
        await writer.delete(["a"])
        await reader.refresh()
        assert await reader.search(point.vector, VectorFilter("someone-else"), limit=3) == []
        assert await reader.count() == 1
    finally:
        await writer.close()
        await reader.close()


async def test_a_process_that_missed_pruned_changes_reloads_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "LOG_KEEP", 10)
    writer, reader = await _index(tmp_path / "v.db"), await _index(tmp_path / "v.db")
    try:
        for start in range(0, 3000, 500):  # crosses several thousands: the log is pruned to its last 10 entries
            await writer.upsert([_point(f"m{i}", i) for i in range(start, start + 500)])
        await writer.delete(["m0"])
        await reader.refresh()
        assert await reader.count() == 2999
        probe = _point("m1", 1).vector
        assert (await reader.search(probe, VectorFilter("u"), limit=1))[0][0] == "m1"
    finally:
        await writer.close()
        await reader.close()
