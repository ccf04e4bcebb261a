"""How dense similarity and keyword matches combine into one calibrated relevance score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mem0_service.embedders.base import Calibration

# A keyword hit can lift a memory at most this far towards 1.0: enough to pass the default threshold when
# the words match exactly but the embedding disagrees (names, codes, rare terms), never enough to make an
# unrelated memory look certain.
KEYWORD_WEIGHT = 0.35


@dataclass(frozen=True)
class Ranked:
    memory_id: str
    relevance: float
    cosine: float | None
    keyword: float


def fuse(calibration: Calibration, cosines: dict[str, float], keyword_scores: dict[str, float],
         keyword_weight: float = KEYWORD_WEIGHT) -> list[Ranked]:
    """Relevance = calibrated cosine, raised towards 1 by keyword evidence (in [0, 1)); best first."""
    ids = list(dict.fromkeys([*cosines, *keyword_scores]))
    if not ids:
        return []
    cos = np.array([cosines.get(i, -1.0) for i in ids], dtype=np.float64)
    dense = calibration.score(cos)
    evidence = np.clip([keyword_scores.get(i, 0.0) for i in ids], 0.0, 1.0)
    relevance = 1.0 - (1.0 - dense) * (1.0 - keyword_weight * evidence)
    order = np.argsort(-relevance, kind="stable")
    return [Ranked(ids[i], float(np.clip(relevance[i], 0.0, 1.0)), cosines.get(ids[i]), float(evidence[i]))
            for i in order]
