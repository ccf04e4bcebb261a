"""What a caller may reach, as the core understands it: every memory, or one user's and/or one agent's.

The HTTP layer turns an API key into an `Access` once (see auth.Principal); handlers narrow the scope they were
asked for with `restrict` and pass the same object to MemoryService for operations by id. No other place decides
who may see what."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mem0_service.core.memory import Memory, Scope
from mem0_service.errors import Forbidden


@dataclass(frozen=True)
class Access:
    user_id: str | None = None  # None: every user
    agent_id: str | None = None  # None: every agent

    @property
    def unbounded(self) -> bool:
        return self.user_id is None and self.agent_id is None

    def admits(self, memory: Memory) -> bool:
        return self.admits_owner(memory.user_id, memory.agent_id)

    def admits_owner(self, user_id: str, agent_id: str | None) -> bool:
        return (self.user_id is None or user_id == self.user_id) and (self.agent_id is None or agent_id == self.agent_id)

    def restrict(self, scope: Scope, *, fill_agent: bool = False, every_agent: bool = False) -> Scope:
        """The scope this caller may act on, or Forbidden naming the field that reaches too far.

        `fill_agent`: an unnamed agent becomes the caller's own (creating a memory). `every_agent`: the operation
        spans all agents of the user by nature (export, ending a session), which an agent-bound caller may not do."""
        if self.user_id is not None and scope.user_id != self.user_id:
            raise Forbidden(f"This API key is limited to user_id '{self.user_id}'", field="user_id")
        if self.agent_id is None:
            return scope
        if every_agent:
            raise Forbidden(f"This API key is limited to agent_id '{self.agent_id}'; this operation spans every agent",
                            field="agent_id")
        if scope.agent_id is None and fill_agent:
            return replace(scope, agent_id=self.agent_id)
        if scope.agent_id != self.agent_id:
            raise Forbidden(f"This API key is limited to agent_id '{self.agent_id}': pass \"agent_id\": "
                            f"\"{self.agent_id}\"", field="agent_id")
        return scope


EVERYTHING = Access()
