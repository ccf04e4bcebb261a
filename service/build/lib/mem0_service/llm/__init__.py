"""Talking to a chat model (OpenAI or any OpenAI-compatible server) for fact extraction and reconciliation."""

from mem0_service.llm.client import ChatModel, LLMJunk

__all__ = ["ChatModel", "LLMJunk"]
