"""A chat model that must answer JSON matching a pydantic schema, or say clearly that it did not."""

from __future__ import annotations

import json
import logging
import re
from typing import TypeVar

import openai
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

from mem0_service.embedders.openai import describe_openai_error
from mem0_service.errors import ServiceUnavailable

log = logging.getLogger("mem0_service.llm")
S = TypeVar("S", bound=BaseModel)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class LLMJunk(Exception):
    """The model answered, but not with the JSON we asked for (after one retry)."""


class ChatModel:
    def __init__(self, *, model: str, api_key: str | None, base_url: str | None, timeout: float, max_retries: int = 2):
        self.model = model
        self._client = openai.AsyncOpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout,
                                          max_retries=max_retries)

    async def close(self) -> None:
        await self._client.close()

    async def json(self, system: str, user: str, schema: type[S], *, attempts: int = 2) -> S:
        """Ask for JSON; a malformed or off-schema answer is retried once, then raised as LLMJunk.

        Transport failures (timeouts, 5xx after the client's own retries, bad key) are ServiceUnavailable."""
        problem = ""
        for attempt in range(attempts):
            messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": system},
                                                          {"role": "user", "content": user}]
            if problem:
                messages.append({"role": "user", "content": f"Your previous answer was invalid ({problem}). "
                                                            "Answer again with JSON only, exactly in the schema."})
            try:
                response = await self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=0, response_format={"type": "json_object"})
            except openai.APITimeoutError as exc:
                problem = "timeout"
                log.warning("LLM timed out (attempt %d): %s", attempt + 1, exc)
                continue
            except openai.OpenAIError as exc:
                raise ServiceUnavailable(describe_openai_error(exc), dependency="llm") from exc
            text = (response.choices[0].message.content or "") if response.choices else ""
            try:
                match = _FENCE.match(text)
                return schema.model_validate(json.loads(match.group(1) if match else text))
            except (json.JSONDecodeError, ValidationError) as exc:
                problem = f"{type(exc).__name__}: {str(exc)[:200]}"
                log.warning("LLM answered junk (attempt %d): %s", attempt + 1, problem)
        raise LLMJunk(problem or "no valid answer")
