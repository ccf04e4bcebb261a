"""JSON responses from pydantic models (the same models the OpenAPI document describes)."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel


def json_response(model: BaseModel | dict, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    text = model.model_dump_json() if isinstance(model, BaseModel) else json.dumps(model, ensure_ascii=False)
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)
