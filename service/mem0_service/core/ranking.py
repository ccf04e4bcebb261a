"""How dense similarity and keyword matches combine into one calibrated relevance score.

Chosen by measurement: `python -m bench.retrieval.tune` (fusions, bench/results/ranking-fusion.md) and
`python -m bench.retrieval.relevance` (relevance at the default threshold, bench/results/relevance.md), on LoCoMo
categories 1-4 with the bundled model and on the labelled sets in tests/data and bench/data.

A weighted sum ranks LoCoMo well but punishes every memory that matches by meaning only (a Russian query
finding an English memory has no shared word), so it breaks the threshold for cross-lingual matches.
Three things keep both kinds of data working:

1. Background-relative dense score: when a query's dense candidates are all similar to it (a long
   conversation about the same people), the cosine that counts is the distance above that background
   (the median of the 50 nearest candidates), not the raw cosine. With few candidates (a small memory store) the
   shift fades out, and it is zero when the background already looks unrelated.
2. Per-query normalisation (Calibration.query_weight): among a small store's memories, which all share the user's
   name or topics, the one that answers is the one close to the query's best candidate; the others are lowered by
   their distance below it. This takes the multilingual set from 32% to under 10% of unrelated pairs passing 0.7
   while relevant pairs keep passing. It fades out as the background rises, where (1) already normalises and the
   dense best candidate would otherwise outrank keyword matches (LoCoMo).
3. Keyword evidence rescaled against the query's best match (with a floor, so a weak best match stays weak)
   and combined as a noisy-OR with a high weight: a strong keyword match can make a memory certain, while
   missing words never lower a memory that matches by meaning. The lift is gated by the raw cosine (zero at the
   model's "unrelated" anchor, full at its threshold anchor), so a shared common word cannot promote a memory
   the model finds unrelated.
4. Hub correction (CSLS-style): a memory that resembles every other candidate (a generic line like "The user
   prefers email notifications", or small talk in a long chat) is near every query and wins where nothing better
   stands out. Each candidate's cosine is lowered by HUB_PENALTY times how much more it resembles the other
   candidates than the median candidate does (bench/results/relevance-hubs.md).
5. Conversation context: a turn of a stored conversation is read with its neighbours. The reply that answers a
   question often shares no word with it ("It's an octopus"), while the turn before it matches ("I love the design
   on your guitar"): a turn is at least CONTEXT_SHARE as relevant as a turn stored up to CONTEXT_REACH turns before
   or after it in the same conversation (bench/results/relevance-turn-context.md); facts and preferences stand alone
   and lend nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mem0_service.embedders.base import Calibration

# How far keyword evidence can lift a memory towards 1.0 (noisy-OR weight).
# How far keyword evidence can lift a memory towards 1 (the default of MEM0_KEYWORD_WEIGHT; 0 ranks by meaning alone).
KEYWORD_WEIGHT = 0.95
# Stores report keyword evidence as s / (s + EVIDENCE_HALF) for a BM25-like score s (see RecordStore.keyword_search).
EVIDENCE_HALF = 6.0
# BM25 score that counts as a full keyword match even when it is the query's best one.
KEYWORD_FLOOR = 12.0
# Share of the background (median candidate cosine above the model's "unrelated" anchor) subtracted from cosines.
BACKGROUND_SHIFT = 2.2
# The background is estimated from this many nearest candidates, and trusted fully once there are that many.
BACKGROUND_SAMPLE = 50
# Per-query normalisation against the best candidate holds while the background stays low, and fades out over
# NORMALISE_FADE before NORMALISE_UNTIL; both in units of the model's span from its unrelated to its threshold cosine.
# A store of distinct facts has a low background; a long conversation about the same people a high one, where the
# background shift does the job and the normalisation would let the dense best candidate outrank keyword matches.
NORMALISE_UNTIL = 2.0
NORMALISE_FADE = 0.3
# Share of a candidate's excess typicality (mean cosine to the other candidates, above the median candidate's) taken
# off its cosine. 0.2 to 0.6 measured within a query or two of each other (bench/results/relevance-hubs.md).
HUB_PENALTY = 0.3
# Fewer candidates than this say too little about what is typical among them: among six memories, two on one topic
# ("allergic to peanuts", "the uncle sells peanuts") made each other look typical and the answer lost first place.
HUB_MIN_CANDIDATES = 10
# A conversation turn's relevance is at least this share of its neighbour's (the turn stored just before or after it
# in the same conversation): 0.7 and 0.75 ranked the same, 0.75 lets the neighbour of a near-certain match (>= 0.94)
# pass the default threshold; 0.8 and above put unrelated neighbours ahead of real matches.
CONTEXT_SHARE = 0.75
# Only the best candidates lend context: measured the same from 5 to 20, and every lender costs 2 x reach index probes.
CONTEXT_LENDERS = 10
# How many turns on each side of a lender it lends to: the exchange around a matching turn, not only the next line
# (a question, a short acknowledgement, then the answer). 3 measured lower than 2.
CONTEXT_REACH = 2


def dense_relevance(calibration: Calibration, cos: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Relevance from meaning alone: the calibrated cosine, shifted by the background and normalised per query.

    Per-query normalisation: a candidate far below the query's best one is lowered (Calibration.query_weight),
    which separates the memory that answers from the ones that merely share its topic (bench/results/relevance.md).
    """
    normalised, shift, share = calibrated_cosines(calibration, cos, known)
    raw = calibration.score(cos - shift)
    if share == 0.0:
        return raw
    return share * calibration.score_normalised(normalised - shift) + (1.0 - share) * raw


def without_hubs(cosines: dict[str, float], typicality: dict[str, float],
                 penalty: float = HUB_PENALTY) -> dict[str, float]:
    """The candidates' cosines with the hub correction applied (a candidate without a typicality keeps its own)."""
    if len(typicality) < HUB_MIN_CANDIDATES or not penalty:
        return cosines
    median = float(np.median(list(typicality.values())))
    return {i: c - penalty * (typicality[i] - median) if i in typicality else c for i, c in cosines.items()}


def calibrated_cosines(calibration: Calibration, cos: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The query's normalised cosines, the background shift and the share of the normalised score in the dense one."""
    if not known.any():
        return cos, 0.0, 0.0
    # The background is the median of the best BACKGROUND_SAMPLE cosines: the same whatever `limit` asked for
    # (a larger limit fetches more, weaker candidates, which must not change any memory's score).
    nearest = np.sort(cos[known])[::-1][:BACKGROUND_SAMPLE]
    background = float(np.median(nearest))
    shift = BACKGROUND_SHIFT * max(0.0, background - calibration.unrelated) * (nearest.size / BACKGROUND_SAMPLE)
    share = 0.0
    if calibration.query_weight:
        level = (background - calibration.unrelated) / (calibration.threshold - calibration.unrelated)
        share = float(np.clip((NORMALISE_UNTIL - level) / NORMALISE_FADE, 0.0, 1.0))
    return np.where(known, calibration.normalise(cos, float(nearest[0])), cos), shift, share


@dataclass(frozen=True)
class Ranked:
    memory_id: str
    relevance: float
    cosine: float | None
    keyword: float
    # The two terms of relevance = 1 - (1 - dense) * (1 - keyword_term), kept so a search can explain itself.
    dense: float = 0.0
    keyword_term: float = 0.0
    # What a neighbouring conversation turn lends (CONTEXT_SHARE of its relevance), and which turn lends it.
    context: float = 0.0
    context_from: str | None = None


def fuse(calibration: Calibration, cosines: dict[str, float], keyword_scores: dict[str, float],
         keyword_weight: float | None = None) -> list[Ranked]:
    """Relevance in [0, 1] for every candidate, best first."""
    weight = KEYWORD_WEIGHT if keyword_weight is None else keyword_weight
    ids = list(dict.fromkeys([*cosines, *keyword_scores]))
    if not ids:
        return []
    cos = np.array([cosines.get(i, -1.0) for i in ids], dtype=np.float64)
    known = np.array([i in cosines for i in ids])
    dense = dense_relevance(calibration, cos, known)
    evidence = np.clip([keyword_scores.get(i, 0.0) for i in ids], 0.0, 0.999)
    bm25 = EVIDENCE_HALF * evidence / (1.0 - evidence)
    keyword = bm25 / max(float(bm25.max()), KEYWORD_FLOOR)
    # Words confirm what the model finds at least loosely related; they never promote what it finds unrelated
    # (one shared common word, like "user", is not relevance).
    confirm = calibration.related_at_all(cos)
    keyword_term = weight * keyword * confirm
    relevance = 1.0 - (1.0 - dense) * (1.0 - keyword_term)
    order = np.argsort(-relevance, kind="stable")
    # Plain floats before the loop: per-element numpy calls cost microseconds each, and a search fuses hundreds.
    scores, kw = np.clip(relevance, 0.0, 1.0).tolist(), keyword.tolist()
    dense_terms, keyword_terms = dense.tolist(), keyword_term.tolist()
    return [Ranked(ids[i], scores[i], cosines.get(ids[i]), kw[i], dense_terms[i], keyword_terms[i])
            for i in order.tolist()]


def with_context(ranked: list[Ranked], adjacent: dict[str, list[str]], share: float = CONTEXT_SHARE) -> list[Ranked]:
    """Each lender's neighbours raised to `share` of its relevance where that is more than their own, best first.
    `adjacent` maps the lending turns to their neighbours; a neighbour missing from `ranked` (no vector or keyword
    evidence of its own) joins it with nothing but what it is lent."""
    by_id = {r.memory_id: r for r in ranked}
    lent: dict[str, tuple[float, str]] = {}
    for lender, neighbours in adjacent.items():
        if lender not in by_id:
            continue
        amount = share * by_id[lender].relevance
        for neighbour in neighbours:
            if amount > lent.get(neighbour, (0.0, ""))[0]:
                lent[neighbour] = (amount, lender)
    if not lent:
        return ranked
    out = dict(by_id)
    for neighbour, (amount, lender) in lent.items():
        own = out.get(neighbour) or Ranked(neighbour, 0.0, None, 0.0)
        out[neighbour] = replace(own, relevance=max(own.relevance, amount), context=amount, context_from=lender)
    # Stable for equal relevance: a lender stays ahead of what it lends, and the fused order is kept otherwise.
    order = {r.memory_id: n for n, r in enumerate(ranked)}
    return sorted(out.values(), key=lambda r: (-r.relevance, order.get(r.memory_id, len(order))))
