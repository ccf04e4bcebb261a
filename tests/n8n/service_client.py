"""Direct calls to the memory service, to check what the n8n nodes stored and to prepare data."""

from __future__ import annotations

import uuid
from typing import Any

import requests


def new_user(prefix: str = "n8n") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class ServiceClient:
    def __init__(self, base_url: str, api_key: str):
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"}

    def create(self, user_id: str, content: str, **fields: Any) -> dict[str, Any]:
        response = requests.post(f"{self.base_url}/api/memories", json={"user_id": user_id, "content": content,
                                                                        **fields}, headers=self.headers, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def create_many(self, user_id: str, contents: list[str]) -> list[str]:
        """Ids of the new memories, in the order of `contents` (batches of the API's maximum, 1000)."""
        ids = []
        for start in range(0, len(contents), 1000):
            response = requests.post(f"{self.base_url}/api/memories/batch", headers=self.headers, timeout=120, json={
                "memories": [{"user_id": user_id, "content": c} for c in contents[start:start + 1000]]})
            assert response.status_code == 201 and not response.json()["failed"], response.text
            ids += [r["memory"]["id"] for r in response.json()["results"]]
        return ids

    def get(self, memory_id: str) -> requests.Response:
        return requests.get(f"{self.base_url}/api/memories/{memory_id}", headers=self.headers, timeout=30)

    def memories_of(self, user_id: str, **params: Any) -> list[dict[str, Any]]:
        response = requests.get(f"{self.base_url}/api/memories/user/{user_id}", params={"limit": 100, **params},
                                headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["memories"]

    def messages_of(self, user_id: str, session_id: str) -> list[tuple[str, str]]:
        """(role, content) of a session's message log, oldest first."""
        response = requests.get(f"{self.base_url}/api/sessions/{session_id}/messages",
                                params={"user_id": user_id, "limit": 1000}, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return [(m["role"], m["content"]) for m in response.json()["messages"]]
