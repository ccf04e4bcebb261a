"""Vector indexes: derived data that can always be rebuilt from the records."""

from mem0_service.vectors.base import VectorFilter, VectorIndex, VectorPoint

__all__ = ["VectorFilter", "VectorIndex", "VectorPoint"]
