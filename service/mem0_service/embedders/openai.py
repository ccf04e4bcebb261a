"""OpenAI embeddings, or any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio) through OPENAI_BASE_URL."""

from __future__ import annotations

from typing import Any

import numpy as np
import openai

from mem0_service.embedders.base import Calibration, Embedder, normalise
from mem0_service.errors import ServiceUnavailable

KNOWN_DIMS = {"text-embedding-ada-002": 1536, "text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
# Cosine anchors (unrelated, threshold, related): ada-002 packs everything into 0.7-1.0; the 3rd generation spreads wider.
KNOWN_CALIBRATIONS = {
    "text-embedding-ada-002": Calibration(0.72, 0.79, 0.87),
    "text-embedding-3-small": Calibration(0.12, 0.32, 0.55),
    "text-embedding-3-large": Calibration(0.10, 0.30, 0.55),
}
GENERIC_CALIBRATION = Calibration(0.15, 0.40, 0.65)
BATCH = 256
MAX_EMBED_CHARS = 8000


def describe_openai_error(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"OpenAI API error: {status} - {getattr(exc, 'message', exc)}"
    return f"OpenAI API error: {type(exc).__name__}: {exc}"


class OpenAIEmbedder(Embedder):
    def __init__(self, *, model: str, api_key: str | None, base_url: str | None, timeout: float,
                 dims: int | None = None, calibration: Calibration | None = None, max_retries: int = 3):
        self.name = model
        self._dims_param = dims if dims and model.startswith("text-embedding-3") else None
        self.dim = dims or KNOWN_DIMS.get(model, 0)
        self.calibration = calibration or KNOWN_CALIBRATIONS.get(model, GENERIC_CALIBRATION)
        # The client retries 429 and 5xx answers with exponential backoff by itself.
        self._client = openai.AsyncOpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout,
                                          max_retries=max_retries)

    async def open(self) -> None:
        if not self.dim:  # an unknown model on a compatible server: ask it once what it produces
            self.dim = int((await self.embed(["dimension probe"])).shape[1])

    async def close(self) -> None:
        await self._client.close()

    async def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            chunk = [t[:MAX_EMBED_CHARS] or " " for t in texts[start:start + BATCH]]
            kwargs: dict[str, Any] = {"dimensions": self._dims_param} if self._dims_param else {}
            try:
                response = await self._client.embeddings.create(model=self.name, input=chunk, **kwargs)
            except openai.OpenAIError as exc:
                raise ServiceUnavailable(describe_openai_error(exc), dependency="embedder") from exc
            data = sorted(response.data, key=lambda d: d.index)
            if len(data) != len(chunk) or any(not d.embedding for d in data):
                raise ServiceUnavailable("Embedding provider returned a malformed answer", dependency="embedder")
            rows.extend(d.embedding for d in data)
        matrix = np.asarray(rows, dtype=np.float32)
        if self.dim and matrix.shape[1] != self.dim:
            raise ServiceUnavailable(f"Embedding provider returned {matrix.shape[1]}-d vectors, expected {self.dim}",
                                     dependency="embedder")
        return normalise(matrix)
