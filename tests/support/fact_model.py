"""A chat model for the job queue tests: it answers from what it is asked, not from a script, so any number of
workers can ask in any order. Each user turn of a conversation is one fact; a fact already stored (same text)
is reconciled as NONE. It can be switched off (503, like a provider outage) and counts what it was asked."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from typing import Any

from tests.support.fake_openai import FakeOpenAI

EXTRACT_MARK = "You extract durable memories"


class FactModel(FakeOpenAI):
    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.extractions: Counter[str] = Counter()  # transcript -> fact extraction requests answered
        self.refused = 0
        self._count_lock = threading.Lock()

    def _take_error(self, path: str):
        if self.down and path.endswith("/chat/completions"):
            with self._count_lock:
                self.refused += 1
            return 503, {"error": {"message": "the model is overloaded", "type": "server_error", "code": 503}}
        return super()._take_error(path)

    def _chat_message(self, body: dict[str, Any], scripted: bool = True) -> dict[str, Any]:
        # answers from the request alone: nothing is queued, so whoever asks gets the same answer
        messages = body.get("messages", [])
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        asked = messages[-1]["content"]
        if EXTRACT_MARK in system:
            with self._count_lock:
                self.extractions[asked] += 1
            facts = [line.removeprefix("user: ") for line in asked.split("\n") if line.startswith("user: ")]
            answer = {"facts": [{"content": f, "type": "fact"} for f in facts]}
        else:
            existing = dict(re.findall(r"^- id=(\S+): (.*)$", asked, re.M))
            new = re.findall(r"^- (?!id=)(.*)$", asked.split("NEW:", 1)[1], re.M)
            known = {text: memory_id for memory_id, text in existing.items()}
            answer = {"decisions": [{"event": "NONE", "id": known[f]} if f in known else
                                    {"event": "ADD", "content": f, "type": "fact"} for f in new]}
        return {"role": "assistant", "content": json.dumps(answer)}
