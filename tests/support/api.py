"""A thin requests wrapper so tests read like the curl examples they replay."""

from __future__ import annotations

from typing import Any

import requests


class Api:
    def __init__(self, base_url: str, api_key: str):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.session = requests.Session()

    def request(self, method: str, path: str, *, key: str | None = None, auth: bool = True, **kwargs: Any):
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.setdefault("Authorization", f"Bearer {key or self.api_key}")
        return self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.request("DELETE", path, **kwargs)

    def create(self, user_id: str, content: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/memories", json={"user_id": user_id, "content": content, **fields})
        assert response.status_code in (200, 201), response.text
        return response.json()

    def search(self, user_id: str, query: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"user_id": user_id, **fields}
        if query is not None:
            body["query"] = query
        response = self.post("/api/memories/search", json=body)
        assert response.status_code == 200, response.text
        return response.json()
