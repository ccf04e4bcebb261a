"""Two processes (worker processes, replicas) writing the same memory: the vector must end as the record's.

Two MemoryServices opened on one data directory stand for two processes: they share only the SQLite files,
exactly as two worker processes do."""

from __future__ import annotations

import numpy as np
import pytest

from mem0_service.backends import open_backends
from mem0_service.config import Settings
from mem0_service.core.service import NewMemory


async def _stored_vector(service, memory_id: str) -> np.ndarray | None:
    return (await service.index.fetch_vectors([memory_id])).get(memory_id)


@pytest.fixture
async def two_processes(tmp_path):
    settings = Settings(data_dir=tmp_path, api_keys=["k"])
    async with open_backends(settings) as first, open_backends(settings) as second:
        yield first, second


async def test_an_older_vector_written_late_is_replaced_by_the_records_current_one(two_processes):
    first, second = two_processes
    memory, _ = await first.create(NewMemory(user_id="u", content="The user's boat is called Albatross"))

    real_upsert = first.index.upsert
    raced = False

    async def upsert_after_the_other_process(points):
        # `first` has read the record and embedded it; before its vector lands, `second` updates the memory
        # and finishes its own indexing. `first`'s vector is now the older one.
        nonlocal raced
        if not raced:
            raced = True
            await second.update(memory.id, content="The user sold the boat and bought a red bicycle")
        await real_upsert(points)

    first.index.upsert = upsert_after_the_other_process
    await first.update(memory.id, content="The user's boat is called Petrel")
    assert raced

    record = await first.get(memory.id)
    assert record.content == "The user sold the boat and bought a red bicycle"
    expected = await first.embedder.embed_one(record.content)
    assert float(await _stored_vector(first, memory.id) @ expected) > 0.999


async def test_a_memory_deleted_by_another_process_during_indexing_leaves_no_vector(two_processes):
    first, second = two_processes
    memory, _ = await first.create(NewMemory(user_id="u", content="The user's locker code is 4711"))

    real_upsert = first.index.upsert

    async def upsert_after_a_delete(points):
        if any(p.id == memory.id for p in points):
            await second.delete(memory.id)
        await real_upsert(points)

    first.index.upsert = upsert_after_a_delete
    await first.update(memory.id, content="The user's locker code is 1234")
    assert await _stored_vector(first, memory.id) is None
    assert await _stored_vector(second, memory.id) is None
