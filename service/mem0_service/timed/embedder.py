"""An embedder whose embedding calls are timed."""

from __future__ import annotations

import numpy as np

from mem0_service.embedders.base import Embedder
from mem0_service.timed.timer import DependencyTimer


class TimedEmbedder(Embedder):
    """Wraps an opened embedder: its name, dimension and calibration are settled by then."""

    def __init__(self, embedder: Embedder, timer: DependencyTimer):
        self.embedder, self.timer = embedder, timer
        self.name, self.dim, self.calibration = embedder.name, embedder.dim, embedder.calibration

    async def open(self) -> None:
        await self.embedder.open()

    async def close(self) -> None:
        await self.embedder.close()

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await self.timer("embed", self.embedder.embed(texts))

    async def embed_one(self, text: str) -> np.ndarray:
        return await self.timer("embed_one", self.embedder.embed_one(text))
