"""Learning from conversations: extract facts with a chat model, reconcile them with what is already known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from mem0_service.core.memory import MemoryType
from mem0_service.llm import prompts
from mem0_service.llm.client import ChatModel

Event = Literal["ADD", "UPDATE", "DELETE", "NONE"]


class ExtractedFact(BaseModel):
    content: str = Field(min_length=1, max_length=2000)
    type: Literal["fact", "preference"] = "fact"


class ExtractedFacts(BaseModel):
    facts: list[ExtractedFact] = Field(max_length=50)


class Decision(BaseModel):
    event: Event
    id: str | None = None
    content: str | None = Field(None, max_length=2000)
    type: Literal["fact", "preference"] = "fact"


class Decisions(BaseModel):
    decisions: list[Decision] = Field(max_length=100)


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Plan:
    """What to do with the user's memories, decided before anything is written."""

    add: list[tuple[str, MemoryType]]
    update: list[tuple[str, str]]  # (memory id, new content)
    delete: list[str]
    unchanged: list[str]


def transcript(messages: list[Message]) -> str:
    return "\n".join(f"{m.role}: {m.content}" for m in messages)


class Extractor:
    def __init__(self, model: ChatModel):
        self.model = model

    async def facts(self, messages: list[Message]) -> list[ExtractedFact]:
        answer = await self.model.json(prompts.EXTRACT_FACTS, transcript(messages), ExtractedFacts)
        return [f for f in answer.facts if f.content.strip()]

    async def plan(self, facts: list[ExtractedFact], existing: dict[str, str]) -> Plan:
        """Turn facts into ADD/UPDATE/DELETE/NONE. Decisions naming unknown ids are not trusted blindly."""
        if not existing:  # nothing to reconcile with: no second model call
            return Plan(add=[(f.content, MemoryType(f.type)) for f in facts], update=[], delete=[], unchanged=[])
        listing = "\n".join(f"- id={i}: {text}" for i, text in existing.items())
        new = "\n".join(f"- {f.content}" for f in facts)
        answer = await self.model.json(prompts.RECONCILE, f"EXISTING:\n{listing}\n\nNEW:\n{new}", Decisions)
        plan = Plan(add=[], update=[], delete=[], unchanged=[])
        for d in answer.decisions:
            known = d.id if d.id in existing else None
            if d.event == "ADD" or (d.event == "UPDATE" and known is None):
                if d.content and d.content.strip():
                    plan.add.append((d.content, MemoryType(d.type)))
            elif (d.event == "UPDATE" and known is not None and d.content and d.content.strip()
                  and d.content != existing[known]):
                plan.update.append((known, d.content))
            elif d.event == "DELETE" and known is not None:
                plan.delete.append(known)
            elif d.event == "NONE" and known is not None:
                plan.unchanged.append(known)
        return plan
