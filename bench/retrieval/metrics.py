"""Recall@k of evidence turns, MRR and latency percentiles, grouped by LoCoMo category."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from bench.retrieval.locomo import CATEGORIES, Question

KS = (1, 5, 10)
GROUPS = ["1-4", "multi-hop", "temporal", "open-domain", "single-hop", "adversarial"]


def per_question(ranked: Sequence[str], evidence: Iterable[str]) -> dict[str, float]:
    """Recall@k = share of the question's evidence turns among the first k results; RR = 1/rank of the first one."""
    evidence = set(evidence)
    row = {f"R@{k}": len(evidence.intersection(ranked[:k])) / len(evidence) for k in KS}
    rank = next((i for i, dia in enumerate(ranked, 1) if dia in evidence), None)
    row["MRR"] = 1.0 / rank if rank else 0.0
    return row


def summarise(questions: Sequence[Question], rows: Sequence[dict[str, float]],
              latencies_ms: Sequence[float] | None = None) -> dict[str, dict[str, float]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        groups[CATEGORIES[q.category]].append(i)
        if q.category != 5:
            groups["1-4"].append(i)
    out: dict[str, dict[str, float]] = {}
    for name in GROUPS:
        idx = groups.get(name, [])
        if not idx:
            continue
        out[name] = {key: float(np.mean([rows[i][key] for i in idx])) for key in rows[0]}
        out[name]["n"] = len(idx)
    if latencies_ms:
        out["latency"] = {"p50": float(np.percentile(latencies_ms, 50)), "p95": float(np.percentile(latencies_ms, 95))}
    return out
