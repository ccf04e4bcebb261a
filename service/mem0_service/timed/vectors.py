"""A vector index whose writes, searches and refreshes are timed."""

from __future__ import annotations

import numpy as np

from mem0_service.timed.timer import DependencyTimer
from mem0_service.vectors.base import VectorFilter, VectorIndex, VectorPoint


class TimedVectorIndex(VectorIndex):
    def __init__(self, index: VectorIndex, timer: DependencyTimer):
        self.index, self.timer = index, timer
        self.name = index.name

    async def open(self) -> None:
        await self.index.open()

    async def close(self) -> None:
        await self.index.close()

    async def ping(self) -> None:
        await self.index.ping()

    async def upsert(self, points: list[VectorPoint]) -> None:
        await self.timer("upsert", self.index.upsert(points))

    async def delete(self, ids: list[str]) -> None:
        await self.timer("delete", self.index.delete(ids))

    async def search(self, vector: np.ndarray, flt: VectorFilter, *, limit: int) -> list[tuple[str, float]]:
        return await self.timer("search", self.index.search(vector, flt, limit=limit))

    async def similarity(self, vector: np.ndarray, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        return await self.timer("similarity", self.index.similarity(vector, flt, ids))

    async def typicality(self, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        return await self.timer("typicality", self.index.typicality(flt, ids))

    async def count(self) -> int:
        return await self.index.count()

    async def refresh(self) -> None:
        await self.timer("refresh", self.index.refresh())

    async def fetch_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        return await self.index.fetch_vectors(ids)
