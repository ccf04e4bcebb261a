"""Who calls the MCP tools, and for which user and agent they act."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from mem0_service.api.models import Identifier
from mem0_service.auth import Principal
from mem0_service.core.access import Access
from mem0_service.core.memory import Scope
from mem0_service.core.service import MemoryService
from mem0_service.errors import BadRequest, Forbidden

USER_HEADER = "X-Mem0-User-Id"
_IDENTIFIER = TypeAdapter(Identifier)


@dataclass(frozen=True)
class Caller:
    """One authenticated client. The key decides everything the model may not: a user-bound key fixes the user,
    an agent-bound key fixes the agent, a read-only key never writes."""

    service: MemoryService
    principal: Principal
    default_user: str | None = None  # X-Mem0-User-Id, ?user_id= or MEM0_MCP_USER_ID, for keys not bound to a user
    user_argument: bool = False  # MEM0_MCP_USER_ARGUMENT: tools of such keys take a user_id argument

    @property
    def user_is_fixed(self) -> bool:
        return self.principal.user_id is not None

    @property
    def offers_user_argument(self) -> bool:
        return self.user_argument and not self.user_is_fixed

    @property
    def can_write(self) -> bool:
        return self.principal.can_write

    @property
    def can_erase(self) -> bool:
        """Forgetting a whole user: a writing key bound to that user, or an admin key."""
        return self.principal.can_write and (self.user_is_fixed or self.principal.is_admin)

    @property
    def agent_id(self) -> str | None:
        return self.principal.agent_id

    def access(self, user: str) -> Access:
        """What a tool acting for `user` may reach: that user's memories, and only the key's agent's if it has one."""
        return Access(user_id=user, agent_id=self.agent_id)

    def user(self, requested: str | None) -> str:
        """The user a tool call acts for. The model can only name one when the key and configuration allow it."""
        if self.user_is_fixed:
            assert self.principal.user_id is not None
            if requested is not None:
                self.principal.restrict(Scope(user_id=requested), fill_agent=True)
            return self.principal.user_id
        if requested is not None:
            if not self.user_argument:
                raise Forbidden("This server does not let tools choose the user (MEM0_MCP_USER_ARGUMENT is off); "
                                f"the user comes from the {USER_HEADER} header or MEM0_MCP_USER_ID", field="user_id")
            return requested
        if self.default_user is not None:
            try:
                return _IDENTIFIER.validate_python(self.default_user)
            except ValidationError:
                raise BadRequest(f"Invalid user id {self.default_user!r} (from the {USER_HEADER} header, ?user_id= "
                                 "or MEM0_MCP_USER_ID): must be 1-128 characters: letters, digits and _ . @ : + -",
                                 field="user_id") from None
        hint = " or pass user_id" if self.user_argument else ""
        raise BadRequest(f"No user to act for: send the {USER_HEADER} header, add ?user_id= to the MCP URL or set "
                         f"MEM0_MCP_USER_ID{hint}",
                         field="user_id")
