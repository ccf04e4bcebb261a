"""Qdrant vector index: a Qdrant server (QDRANT_URL) or qdrant-client's local mode (a path), same code."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
from qdrant_client import AsyncQdrantClient, models

from mem0_service.errors import ServiceUnavailable
from mem0_service.vectors.base import VectorFilter, VectorIndex, VectorPoint, mean_similarity

_POINT_NAMESPACE = uuid.UUID("6f1c2a52-8d0e-4a57-9a59-3f0c8b1f4e21")
_FILTER_FIELDS = ("user_id", "session_id", "agent_id", "type")


def collection_name(prefix: str, model: str, dim: int) -> str:
    """Two embedding models never share a collection: the name carries both model and dimension."""
    slug = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")
    return f"{prefix}_{slug}_{dim}"


def point_uuid(memory_id: str) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, memory_id))


class QdrantVectorIndex(VectorIndex):
    name = "qdrant"

    def __init__(self, *, collection: str, dim: int, url: str | None = None, api_key: str | None = None,
                 path: Path | None = None, timeout: float = 10.0):
        if (url is None) == (path is None):
            raise ValueError("give exactly one of url (server) or path (local mode)")
        self.collection, self.dim = collection, dim
        self._client_args = ({"url": url, "api_key": api_key, "timeout": int(timeout)} if url else {"path": str(path)})
        self._client: AsyncQdrantClient | None = None

    @property
    def client(self) -> AsyncQdrantClient:
        assert self._client is not None, "index is not open"
        return self._client

    async def _call(self, coro):
        try:
            return await coro
        except ServiceUnavailable:
            raise
        except Exception as exc:  # the client raises transport, HTTP and gRPC errors alike
            raise ServiceUnavailable(f"Vector index (Qdrant) error: {type(exc).__name__}: {exc}",
                                     dependency="vector_index") from exc

    async def open(self) -> None:
        self._client = AsyncQdrantClient(**self._client_args)
        await self._call(self._ensure_collection())

    async def _ensure_collection(self) -> None:
        if not await self.client.collection_exists(self.collection):
            await self.client.create_collection(
                self.collection, vectors_config=models.VectorParams(size=self.dim, distance=models.Distance.COSINE))
            if "url" in self._client_args:  # local mode has no payload indexes and warns about them
                for field in _FILTER_FIELDS:
                    await self.client.create_payload_index(
                        self.collection, field, field_schema=models.PayloadSchemaType.KEYWORD)
        info = await self.client.get_collection(self.collection)
        size = info.config.params.vectors.size  # type: ignore[union-attr]
        if size != self.dim:
            raise ServiceUnavailable(f"Qdrant collection {self.collection} has {size}-d vectors, expected {self.dim}",
                                     dependency="vector_index")

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def ping(self) -> None:
        await self._call(self.client.get_collection(self.collection))

    async def upsert(self, points: list[VectorPoint]) -> None:
        if not points:
            return
        structs = [models.PointStruct(id=point_uuid(p.id), vector=np.asarray(p.vector, dtype=np.float32).tolist(),
                                      payload={**p.payload, "memory_id": p.id}) for p in points]
        await self._call(self.client.upsert(self.collection, points=structs, wait=True))

    async def delete(self, ids: list[str]) -> None:
        if ids:
            await self._call(self.client.delete(
                self.collection, points_selector=models.PointIdsList(points=[point_uuid(i) for i in ids]), wait=True))

    @staticmethod
    def _filter(flt: VectorFilter, ids: list[str] | None = None) -> models.Filter:
        must: list[models.Condition] = [models.FieldCondition(key="user_id", match=models.MatchValue(value=flt.user_id))]
        if flt.session_id is not None:
            must.append(models.FieldCondition(key="session_id", match=models.MatchValue(value=flt.session_id)))
        if flt.agent_id is not None:
            must.append(models.FieldCondition(key="agent_id", match=models.MatchValue(value=flt.agent_id)))
        if flt.types:
            must.append(models.FieldCondition(key="type", match=models.MatchAny(any=list(flt.types))))
        if ids is not None:
            must.append(models.HasIdCondition(has_id=[point_uuid(i) for i in ids]))
        return models.Filter(must=must)

    async def search(self, vector: np.ndarray, flt: VectorFilter, *, limit: int) -> list[tuple[str, float]]:
        result = await self._call(self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), query_filter=self._filter(flt),
            limit=limit, with_payload=["memory_id"]))
        return [(p.payload["memory_id"], float(p.score)) for p in result.points if p.payload]

    async def similarity(self, vector: np.ndarray, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        if not ids:
            return {}
        result = await self._call(self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), query_filter=self._filter(flt, ids),
            limit=len(ids), with_payload=["memory_id"]))
        return {p.payload["memory_id"]: float(p.score) for p in result.points if p.payload}

    async def typicality(self, flt: VectorFilter, ids: list[str]) -> dict[str, float]:
        if len(ids) < 2:
            return {}
        points, _ = await self._call(self.client.scroll(
            self.collection, scroll_filter=self._filter(flt, ids), limit=len(ids), with_vectors=True,
            with_payload=["memory_id"]))
        return mean_similarity({p.payload["memory_id"]: np.asarray(p.vector, dtype=np.float32)
                                for p in points if p.payload and p.vector is not None})

    async def count(self) -> int:
        return (await self._call(self.client.count(self.collection, exact=True))).count

    async def fetch_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), 256):
            points = await self._call(self.client.retrieve(
                self.collection, ids=[point_uuid(i) for i in ids[start:start + 256]], with_vectors=True,
                with_payload=["memory_id"]))
            found.update((p.payload["memory_id"], np.asarray(p.vector, dtype=np.float32))
                         for p in points if p.payload and p.vector is not None)
        return found
