"""Both vector indexes (embedded, Qdrant in local mode) admit only what a search's filter admits, in every call a
search makes: the scan, the scores of given ids (keyword-only candidates, neighbouring turns) and their typicality."""

from __future__ import annotations

import numpy as np
import pytest

from mem0_service.embedders.base import normalise
from mem0_service.vectors.base import VectorFilter, VectorPoint
from mem0_service.vectors.embedded import EmbeddedVectorIndex
from mem0_service.vectors.qdrant import QdrantVectorIndex

DIM = 16
POINTS = [  # (id, session, agent, type)
    ("fact-a", None, None, "fact"), ("turn-s1", "s1", None, "interaction"), ("turn-s2", "s2", None, "interaction"),
    ("agent-x", None, "x", "preference"), ("fact-b", None, None, "fact"), ("fact-s1", "s1", None, "fact"),
]
FILTERS = {
    "types": (VectorFilter("u", types=("fact",)), {"fact-a", "fact-b", "fact-s1"}),
    "session": (VectorFilter("u", session_id="s1"), {"turn-s1", "fact-s1"}),
    "agent": (VectorFilter("u", agent_id="x"), {"agent-x"}),
    "session and type": (VectorFilter("u", session_id="s1", types=("interaction",)), {"turn-s1"}),
}


@pytest.fixture(params=["embedded", "qdrant-local"])
async def index(request, tmp_path):
    if request.param == "embedded":
        made = EmbeddedVectorIndex(tmp_path / "vectors.db", dim=DIM)
    else:
        made = QdrantVectorIndex(collection="filters", dim=DIM, path=tmp_path / "qdrant")
    await made.open()
    vectors = normalise(np.random.default_rng(3).standard_normal((len(POINTS), DIM)))
    await made.upsert([VectorPoint(i, v, {"user_id": "u", "session_id": s, "agent_id": a, "type": t})
                       for (i, s, a, t), v in zip(POINTS, vectors)])
    await made.upsert([VectorPoint("other-user", vectors[0], {"user_id": "v", "type": "fact"})])
    yield made, dict(zip((p[0] for p in POINTS), vectors))
    await made.close()


@pytest.mark.parametrize("name", FILTERS)
async def test_scan_scores_and_typicality_keep_to_the_filter(index, name):
    made, vectors = index
    flt, admitted = FILTERS[name]
    everything = [*vectors, "other-user"]
    query = vectors["fact-a"]
    found = {i for i, _ in await made.search(query, flt, limit=10)}
    assert found == admitted
    scored = await made.similarity(query, flt, everything)
    assert set(scored) == admitted
    for memory_id, score in scored.items():
        assert score == pytest.approx(float(vectors[memory_id] @ query), abs=1e-5)
    # Fewer than two admitted ids resemble nothing else: no typicality at all.
    assert set(await made.typicality(flt, everything)) == (admitted if len(admitted) > 1 else set())
