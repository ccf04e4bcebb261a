"""LangChain's own integration-test suites (``langchain-tests``) against a live service:
the retriever and both agent tools, as LangChain checks its partner packages."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests

from mem0_langchain import Mem0Client, Mem0RecallTool, Mem0RememberTool, Mem0Retriever

FACTS = [
    "The user's favourite food is spicy Thai curry",
    "The user cooks Italian pasta every Sunday",
    "The user dislikes coriander in any dish",
    "The user drinks green tea after dinner",
]


@pytest.fixture(scope="module")
def seeded(live_service: Any) -> dict[str, str]:
    """A user with a few food memories: the retriever suite asks for 3 and expects 3."""
    user_id = f"std-{secrets.token_hex(6)}"
    with Mem0Client(live_service.url, api_key=live_service.api_key) as client:
        for fact in FACTS:
            client.add(fact, user_id=user_id, type="preference")
    return {"base_url": live_service.url, "api_key": live_service.api_key, "user_id": user_id}


class _LiveService:
    @pytest.fixture(autouse=True)
    def _connect(self, seeded: dict[str, str]) -> None:
        # The suites read the constructor's arguments from properties; the fixture runs first.
        self.connection = seeded


class TestMem0RetrieverStandard(_LiveService, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[Mem0Retriever]:
        return Mem0Retriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        # Every memory of the user counts: the suite checks how many come back, not how relevant.
        return {**self.connection, "relevance_threshold": 0.0}

    @property
    def retriever_query_example(self) -> str:
        return "What does the user like to eat?"

    @property
    def num_results_arg_name(self) -> str:
        return "k"


class TestMem0RememberToolStandard(_LiveService, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[Mem0RememberTool]:
        return Mem0RememberTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return self.connection

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"content": "The user bakes sourdough bread", "type": "pattern"}


class TestMem0RecallToolStandard(_LiveService, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[Mem0RecallTool]:
        return Mem0RecallTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {**self.connection, "relevance_threshold": 0.3}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "What food does the user dislike?"}
