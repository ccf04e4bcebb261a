"""LangChain's own unit-test suite for tools (``langchain-tests``), on both agent tools."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ToolsUnitTests

from mem0_langchain import Mem0RecallTool, Mem0RememberTool

ENV = {"MEM0_BASE_URL": "http://mem0-from-env.test:3456", "MEM0_API_KEY": "key-from-env"}


class TestMem0RememberToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[Mem0RememberTool]:
        return Mem0RememberTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"base_url": "http://mem0.test", "api_key": "k", "user_id": "user123"}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"content": "Is allergic to peanuts", "type": "fact"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV, {"user_id": "user123"}, {"user_id": "user123", "name": "remember"}


class TestMem0RecallToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[Mem0RecallTool]:
        return Mem0RecallTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"base_url": "http://mem0.test", "api_key": "k", "user_id": "user123"}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "food allergies"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV, {"userId": "user123"}, {"user_id": "user123", "name": "recall"}
