"""The embedder interface and the per-model relevance calibration."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

ANCHOR_SCORES = (0.3, 0.7, 0.9)


def _anchored(cosine, anchors: tuple[float, float, float]) -> np.ndarray:
    unrelated, threshold, related = anchors
    return np.interp(cosine, [min(-1.0, unrelated - 1.0), unrelated, threshold, related, 1.0], [0.0, *ANCHOR_SCORES, 1.0])


def _check(anchors: tuple[float, float, float], what: str) -> None:
    unrelated, threshold, related = anchors
    if not -3.0 < unrelated < threshold < related < 1.0:
        raise ValueError(f"{what} anchors must satisfy unrelated < threshold < related < 1")


@dataclass(frozen=True)
class Calibration:
    """Maps a model's raw cosine to a relevance score in [0, 1] that means the same for every model.

    Anchors, measured per model on a labelled set of related and unrelated pairs:
    `unrelated` (typical cosine of unrelated texts) -> 0.3, `threshold` (the cosine that best separates
    related from unrelated) -> 0.7, `related` (typical cosine of paraphrases) -> 0.9. In between the map is
    linear, so the guide's default relevance_threshold 0.7 means "more likely related than not" for any model.

    Per-query normalisation (optional): with `query_weight` w > 0 the score reads
    `cosine - w * (best cosine of the query - cosine)` through anchors of its own (`normalised`), fitted together
    with w: a memory far below the query's best candidate is lowered, one close to it is kept (see
    core/ranking.py). The raw anchors still say what the model finds related at all, for keyword evidence.
    `mem0-service calibrate` fits all of them on a labelled set.
    """

    unrelated: float
    threshold: float
    related: float
    query_weight: float = 0.0
    normalised: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        _check((self.unrelated, self.threshold, self.related), "calibration")
        if not 0.0 <= self.query_weight <= 10.0:
            raise ValueError("calibration query weight must be between 0 and 10")
        if self.query_weight and self.normalised is None:
            raise ValueError("a calibration with a query weight needs the anchors of its normalised cosine")
        if self.normalised is not None:
            _check(self.normalised, "normalised calibration")

    def score(self, cosine: np.ndarray | float) -> np.ndarray:
        """Relevance of raw cosines."""
        return _anchored(cosine, (self.unrelated, self.threshold, self.related))

    def normalise(self, cosines: np.ndarray, best: float) -> np.ndarray:
        """The query's cosines as the dense score reads them: lowered by their distance below its best one."""
        return cosines - self.query_weight * (best - cosines) if self.query_weight else cosines

    def score_normalised(self, values: np.ndarray) -> np.ndarray:
        """Relevance of values from `normalise`."""
        if self.query_weight and self.normalised is not None:
            return _anchored(values, self.normalised)
        return self.score(values)

    def related_at_all(self, cosine: np.ndarray) -> np.ndarray:
        """0 at the model's unrelated raw cosine, 1 at its threshold: how far the model finds a text related."""
        return np.clip((cosine - self.unrelated) / (self.threshold - self.unrelated), 0.0, 1.0)

    def __str__(self) -> str:
        """The MEM0_SCORE_CALIBRATION form."""
        numbers = [self.unrelated, self.threshold, self.related]
        if self.query_weight and self.normalised is not None:
            numbers += [self.query_weight, *self.normalised]
        return ",".join(f"{x:.4f}".rstrip("0").rstrip(".") if x else "0" for x in numbers)

    @classmethod
    def parse(cls, text: str) -> Calibration:
        """`unrelated,threshold,related` or, with per-query normalisation,
        `unrelated,threshold,related,query_weight,unrelated',threshold',related'`."""
        try:
            numbers = [float(x) for x in text.split(",")]
            if len(numbers) not in (3, 7):
                raise ValueError
        except ValueError:
            raise ValueError("MEM0_SCORE_CALIBRATION must be three numbers (unrelated,threshold,related) or seven "
                             "(the same, then query_weight and the normalised unrelated,threshold,related)") from None
        unrelated, threshold, related = numbers[:3]
        if len(numbers) == 7:
            return cls(unrelated, threshold, related, numbers[3], normalised=(numbers[4], numbers[5], numbers[6]))
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
