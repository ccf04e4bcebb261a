"""Search queries rewritten by the chat model, when one is configured and the search asks for it.

The bundled model misses what only a wider vocabulary finds: a Russian question about "домашние животные" and the
memory "Anna has a cat", "спорт" and "goes running every morning", a Cyrillic borrowing ("деплой") and the English
word it spells. A chat model bridges these in one short call: it translates the question and names the specific
things an answer would mention. Each alternative is matched beside the query as written, and a memory counts with
its best match, so an alternative can add what the query missed but never hides what the query found.

Never required: without a chat model, when it is slow, down or answers junk, the search runs on the query as
written and says why in its `query_rewrite` answer. Answers are kept per query text (a workflow repeats its
searches), so a repeated search costs no second call.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator

from mem0_service.errors import ServiceUnavailable
from mem0_service.llm import prompts
from mem0_service.llm.client import ChatModel, LLMJunk
from mem0_service.timed.timer import DependencyTimer

log = logging.getLogger("mem0_service.core")

# Alternatives matched beside the query: each costs an index search, and three covered translation, specific words
# and one paraphrase in the measurements (bench/results/relevance-query-rewrite.md).
MAX_ALTERNATIVES = 3
# A longer alternative is an answer or an essay, not a query; it is cut here.
MAX_ALTERNATIVE_CHARS = 300
# Queries whose alternatives are remembered (least recently used dropped first).
CACHE_SIZE = 2048
# After the chat model timed out or was unavailable, searches do not ask it for this long: during an outage each
# one would otherwise wait out the timeout. A junk answer does not count (the model is up; the next query may do).
REST_SECONDS = 30.0
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A model's JSON may escape half of a surrogate pair ("\ud83d"): no store can hold it, so it goes.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _first_few(value: object) -> object:
    return value[:MAX_ALTERNATIVES * 4] if isinstance(value, list) else value


class Alternatives(BaseModel):
    """The chat model's answer. More than asked for is cut, not refused: the first ones are the best (a few spare
    ones stand in for those that turn out empty or repeat the query)."""

    queries: Annotated[list[str], BeforeValidator(_first_few)]


@dataclass(frozen=True)
class QueryRewrite:
    """What became of a search's rewrite: `off` (not asked), `done`, `skipped` (nothing to rewrite or no chat
    model) or `failed` (the search ran on the query as written)."""

    status: Literal["off", "done", "skipped", "failed"]
    queries: tuple[str, ...] = ()
    reason: str | None = None


OFF = QueryRewrite("off")


def cleaned(query: str, answers: list[str]) -> tuple[str, ...]:
    """The usable alternatives: trimmed, on one line, none empty, none repeating the query or each other."""
    seen = {_SPACE.sub(" ", query).strip().casefold()}
    out: list[str] = []
    for answer in answers:
        text = _SPACE.sub(" ", _CONTROL.sub(" ", _LONE_SURROGATE.sub("", answer))).strip()
        text = text[:MAX_ALTERNATIVE_CHARS].strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
        if len(out) == MAX_ALTERNATIVES:
            break
    return tuple(out)


class QueryRewriter:
    def __init__(self, model: ChatModel, *, timeout: float, cache_size: int = CACHE_SIZE,
                 timer: DependencyTimer | None = None):
        self.model, self.timeout, self.cache_size, self.timer = model, timeout, cache_size, timer
        self._cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[QueryRewrite]] = {}
        self._resting: tuple[float, str] | None = None  # (until when, why) after the model failed

    def timed(self, timer: DependencyTimer) -> QueryRewriter:
        """The same rewriter with its chat calls in /metrics and the search's Server-Timing."""
        return QueryRewriter(self.model, timeout=self.timeout, cache_size=self.cache_size, timer=timer)

    async def rewrite(self, query: str) -> QueryRewrite:
        known = self._cache.get(query)
        if known is not None:
            self._cache.move_to_end(query)
            return QueryRewrite("done", known)
        if self._resting is not None:
            until, why = self._resting
            left = until - time.monotonic()
            if left > 0:
                return QueryRewrite("failed", reason=f"{why}; rewrites resume in {max(1, round(left))} s")
            self._resting = None
        # Identical searches at once (a workflow fanning out, a retried request) share one chat call; it finishes
        # even when the search that started it is cancelled, so the others and the cache still get its answer.
        pending = self._pending.get(query)
        if pending is None:
            pending = self._pending[query] = asyncio.ensure_future(self._ask(query))
            pending.add_done_callback(lambda _: self._pending.pop(query, None))
        return await asyncio.shield(pending)

    async def _ask(self, query: str) -> QueryRewrite:
        try:
            call = self.model.json(prompts.REWRITE_QUERY, query, Alternatives)
            answer = await asyncio.wait_for(self.timer("rewrite_query", call) if self.timer else call, self.timeout)
        except TimeoutError:
            return self._rest(f"the chat model took longer than {self.timeout:g} s")
        except LLMJunk as exc:
            return self._failed(f"the chat model answered junk ({exc})")
        except ServiceUnavailable as exc:
            return self._rest(exc.message)
        except Exception:  # a rewrite is never required: whatever else breaks in it, the search goes on without it
            log.exception("query rewrite broke")
            return QueryRewrite("failed", reason="the rewrite failed inside the service (logged)")
        alternatives = cleaned(query, answer.queries)
        self._cache[query] = alternatives
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return QueryRewrite("done", alternatives)

    def _rest(self, reason: str) -> QueryRewrite:
        self._resting = (time.monotonic() + REST_SECONDS, reason)
        return self._failed(reason)

    @staticmethod
    def _failed(reason: str) -> QueryRewrite:
        log.warning("query rewrite failed, searching with the query as written: %s", reason)
        return QueryRewrite("failed", reason=reason)
