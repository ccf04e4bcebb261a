"""The memory domain: what a memory is and what can be done with it."""

from mem0_service.core.memory import Memory, MemoryType, Scope
from mem0_service.core.service import MemoryService

__all__ = ["Memory", "MemoryType", "MemoryService", "Scope"]
