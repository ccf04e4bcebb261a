"""The embedder interface and the per-model relevance calibration."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """Maps a model's raw cosine to a relevance score in [0, 1] that means the same for every model.

    Anchors, measured per model on a labelled set of related and unrelated pairs:
    `unrelated` (typical cosine of unrelated texts) -> 0.3, `threshold` (the cosine that best separates
    related from unrelated) -> 0.7, `related` (typical cosine of paraphrases) -> 0.9. In between the map is
    linear, so the guide's default relevance_threshold 0.7 means "more likely related than not" for any model.
    """

    unrelated: float
    threshold: float
    related: float

    def __post_init__(self) -> None:
        if not -1.0 < self.unrelated < self.threshold < self.related < 1.0:
            raise ValueError("calibration anchors must satisfy -1 < unrelated < threshold < related < 1")

    def score(self, cosine: np.ndarray | float) -> np.ndarray:
        xs = [-1.0, self.unrelated, self.threshold, self.related, 1.0]
        ys = [0.0, 0.3, 0.7, 0.9, 1.0]
        return np.interp(cosine, xs, ys)

    @classmethod
    def parse(cls, text: str) -> Calibration:
        try:
            unrelated, threshold, related = (float(x) for x in text.split(","))
        except ValueError:
            raise ValueError("MEM0_SCORE_CALIBRATION must be three numbers: unrelated,threshold,related") from None
        return cls(unrelated, threshold, related)


class Embedder(ABC):
    """Produces L2-normalised float32 vectors, so cosine similarity is a dot product."""

    name: str
    dim: int
    calibration: Calibration

    async def open(self) -> None:
        """Load weights, open clients, warm up."""

    async def close(self) -> None:
        """Release resources."""

    @abstractmethod
    async def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text."""

    async def embed_one(self, text: str) -> np.ndarray:
        return (await self.embed([text]))[0]


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
