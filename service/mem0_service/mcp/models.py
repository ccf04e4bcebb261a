"""The shape of /mcp in the OpenAPI document: JSON-RPC 2.0 as MCP uses it (the SDK validates the details)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class McpRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    jsonrpc: Literal["2.0"]
    id: int | str = Field(description="Request id, echoed in the answer (notifications, without one, are answered 202)")
    method: str = Field(description="initialize, tools/list, tools/call, ...", examples=["tools/list"])
    params: dict[str, Any] | None = None


class McpError(BaseModel):
    code: int
    message: str
    data: Any = None


class McpResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    jsonrpc: Literal["2.0"]
    id: int | str | None
    result: dict[str, Any] | None = None
    error: McpError | None = None
