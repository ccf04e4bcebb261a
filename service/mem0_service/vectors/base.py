"""The vector index interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VectorPoint:
    id: str
    vector: np.ndarray
    payload: dict[str, Any]


@dataclass(frozen=True)
class VectorFilter:
    """Filtering happens inside the index, so a small user's search never scans a large user's vectors."""

    user_id: str
    session_id: str | None = None
    agent_id: str | None = None
    types: tuple[str, ...] = ()


class VectorIndex(ABC):
    name: str

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    async def upsert(self, points: list[VectorPoint]) -> None: ...

    @abstractmethod
    async def delete(self, ids: list[str]) -> None: ...

    @abstractmethod
    async def search(self, vector: np.ndarray, flt: VectorFilter, *, limit: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) pairs, best first."""

    @abstractmethod
    async def similarity(self, vector: np.ndarray, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of the given ids (those present in the index and in the filter)."""

    @abstractmethod
    async def typicality(self, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        """Each id's mean cosine similarity to the other ids (those present in the index and in the filter): how
        much a candidate resembles every other candidate of a search, whatever the query."""

    @abstractmethod
    async def count(self) -> int: ...

    async def refresh(self) -> None:
        """Bring whatever this process keeps in memory up to date with writes made by other processes.
        Indexes that keep nothing in memory (Qdrant) have nothing to do."""

    async def fetch_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids (those present), for backups."""
        raise NotImplementedError(f"{type(self).__name__} cannot hand out its vectors")


def mean_similarity(vectors: dict[str, np.ndarray]) -> dict[str, float]:
    """Each vector's mean cosine to the others (unit vectors); nothing for fewer than two."""
    if len(vectors) < 2:
        return {}
    return mean_to_others(list(vectors), np.stack(list(vectors.values())).astype(np.float32, copy=False))


def mean_to_others(ids: list[str], matrix: np.ndarray) -> dict[str, float]:
    """Each row's mean cosine to the other rows of a matrix of unit vectors."""
    # x . (sum of all) - x . x is the sum of x's cosines to the others: n dot products, not an n x n matrix.
    sums = matrix @ matrix.sum(axis=0) - np.einsum("ij,ij->i", matrix, matrix)
    return dict(zip(ids, (sums / (len(ids) - 1)).tolist()))
