"""Fitting a model's calibration (core/ranking.py) to a labelled set of queries and memories.

The labelled file is JSON: {"users": [{"user_id": ..., "memories": {key: text}, "queries": [{"q": text,
"relevant": [key, ...]}]}]}. Each query is scored against its user's memories only, as a search would; every memory
not listed as relevant counts as unrelated to it. A query may list no relevant memory (nothing should pass).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mem0_service.core import ranking
from mem0_service.core.ranking import calibrated_cosines
from mem0_service.embedders.base import Calibration, Embedder

# Weights tried when the caller does not fix one; 0 calibrates raw cosines.
QUERY_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0)
# Where the background shift is measured before the raw anchors are known (refined until they settle).
START = Calibration(0.09, 0.26, 0.45)
MAX_REFINEMENTS = 50


class LabelledSetError(ValueError):
    """The labelled file is not in the expected form; the message names the place."""


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    cosines: np.ndarray  # against the user's memories
    relevant: np.ndarray  # bool mask over the same memories


@dataclass(frozen=True)
class Fit:
    calibration: Calibration
    relevant_pass: float  # share of relevant pairs with relevance >= 0.7
    unrelated_pass: float  # share of unrelated pairs with relevance >= 0.7
    hit_at_1: float  # queries with an answer whose best memory is relevant
    unanswerable_pass: float  # queries without an answer for which some memory still passes 0.7
    queries: int
    pairs: int


def read_labelled(path: Path) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelledSetError(f"{path}: cannot read JSON ({exc})") from None
    users = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(users, list) or not users:
        raise LabelledSetError(f"{path}: 'users' must be a non-empty list")
    for n, user in enumerate(users):
        where = f"{path}: users[{n}]"
        memories = user.get("memories") if isinstance(user, dict) else None
        if not isinstance(memories, dict) or not memories or not all(isinstance(v, str) and v.strip() for v in memories.values()):
            raise LabelledSetError(f"{where}.memories must map keys to non-empty texts")
        queries = user.get("queries")
        if not isinstance(queries, list) or not queries:
            raise LabelledSetError(f"{where}.queries must be a non-empty list")
        for m, query in enumerate(queries):
            if not isinstance(query, dict) or not isinstance(query.get("q"), str) or not query["q"].strip():
                raise LabelledSetError(f"{where}.queries[{m}].q must be a non-empty text")
            relevant = query.get("relevant", [])
            if not isinstance(relevant, list) or any(k not in memories for k in relevant):
                raise LabelledSetError(f"{where}.queries[{m}].relevant must list keys of the user's memories")
    return users


async def embed_labelled(users: list[dict], embedder: Embedder) -> list[LabelledQuery]:
    out = []
    for user in users:
        keys = list(user["memories"])
        memories = await embedder.embed([user["memories"][k] for k in keys])
        queries = await embedder.embed([q["q"] for q in user["queries"]])
        for query, vector in zip(user["queries"], queries):
            relevant = np.array([k in set(query.get("relevant", [])) for k in keys])
            out.append(LabelledQuery(query["q"], (memories @ vector).astype(np.float64), relevant))
    return out


def dense_relevance(calibration: Calibration, cosines: np.ndarray) -> np.ndarray:
    """What a search scores from meaning alone (no keyword evidence), for a query's candidates."""
    return ranking.dense_relevance(calibration, cosines, np.ones(cosines.shape, dtype=bool))


def _separating_anchors(related: np.ndarray, unrelated: np.ndarray) -> tuple[float, float, float]:
    if related.size == 0 or unrelated.size == 0:
        raise LabelledSetError("the labelled set needs both relevant and unrelated pairs")
    # The threshold anchor is the value that best separates the two (Youden's J: most relevant pairs kept for
    # the fewest unrelated ones let through).
    candidates = np.unique(related)
    kept = (related[None, :] >= candidates[:, None]).mean(axis=1)
    leaked = (unrelated[None, :] >= candidates[:, None]).mean(axis=1)
    threshold = float(candidates[int(np.argmax(kept - leaked))])
    low = min(float(np.median(unrelated)), threshold - 0.01)
    high = min(max(float(np.median(related)), threshold + 0.01), 0.999)
    return round(low, 4), round(threshold, 4), round(high, 4)


def _pairs(queries: list[LabelledQuery], calibration: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """Related and unrelated values of what the calibration's dense score reads (normalised, shifted)."""
    basis = []
    for q in queries:
        adjusted, shift, _ = calibrated_cosines(calibration, q.cosines, np.ones(q.cosines.shape, dtype=bool))
        basis.append(adjusted - shift)
    return (np.concatenate([b[q.relevant] for b, q in zip(basis, queries)]),
            np.concatenate([b[~q.relevant] for b, q in zip(basis, queries)]))


def fit_raw(queries: list[LabelledQuery]) -> Calibration:
    """Raw-cosine anchors, refined until they settle: the background shift the anchors are fitted on depends on
    the unrelated anchor being fitted. Two passes were enough for the bundled model, not for one whose cosines all
    lie near 0.8 (multilingual-e5: 99% of unrelated pairs passed 0.7 after two, none once settled)."""
    seen: list[Calibration] = []
    calibration = START
    while calibration not in seen and len(seen) < MAX_REFINEMENTS:
        seen.append(calibration)
        calibration = Calibration(*_separating_anchors(*_pairs(queries, calibration)))
    if calibration == seen[-1]:
        return calibration
    # A cycle (or no end in sight): the refinement that separates best among those visited since START.
    return max(seen[1:] or seen, key=lambda c: _separation(evaluate(c, queries)))


def _separation(result: Fit) -> float:
    return result.relevant_pass - result.unrelated_pass


def fit_normalised(queries: list[LabelledQuery], raw: Calibration, query_weight: float) -> Calibration:
    """Anchors for the normalised cosine with the given weight; the raw anchors stay those of `raw`."""
    if not query_weight:
        return Calibration(raw.unrelated, raw.threshold, raw.related)
    probe = Calibration(raw.unrelated, raw.threshold, raw.related, query_weight, (-2.0, -1.0, 0.0))
    return Calibration(raw.unrelated, raw.threshold, raw.related, query_weight,
                       _separating_anchors(*_pairs(queries, probe)))


def evaluate(calibration: Calibration, queries: list[LabelledQuery], threshold: float = 0.7) -> Fit:
    kept = related = leaked = unrelated = hits = answered = loud = unanswerable = 0
    for q in queries:
        scores = dense_relevance(calibration, q.cosines)
        kept += int((scores[q.relevant] >= threshold).sum())
        related += int(q.relevant.sum())
        leaked += int((scores[~q.relevant] >= threshold).sum())
        unrelated += int((~q.relevant).sum())
        if q.relevant.any():
            answered += 1
            hits += bool(q.relevant[int(np.argmax(scores))])
        else:
            unanswerable += 1
            loud += bool((scores >= threshold).any())
    return Fit(calibration, kept / max(related, 1), leaked / max(unrelated, 1), hits / max(answered, 1),
               loud / max(unanswerable, 1), len(queries), related + unrelated)


def fit(queries: list[LabelledQuery], query_weight: float | None = None, raw: Calibration | None = None) -> Fit:
    """Raw anchors (unless given) and, for the given per-query weight or the one among QUERY_WEIGHTS that
    separates best, the anchors of the normalised cosine."""
    raw = raw or fit_raw(queries)
    best: Fit | None = None
    for weight in (QUERY_WEIGHTS if query_weight is None else (query_weight,)):
        result = evaluate(fit_normalised(queries, raw, weight), queries)
        if best is None or _separation(result) > _separation(best):
            best = result
    assert best is not None
    return best
