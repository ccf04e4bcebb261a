"""Every class is told where the service is the same way, and refuses what it does not take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import http_mock
import pytest
from http_mock import matchers

from mem0_langchain import (
    Mem0ChatMessageHistory,
    Mem0Client,
    Mem0Memory,
    Mem0RecallTool,
    Mem0RememberTool,
    Mem0Retriever,
)

HOST = "http://mem0-elsewhere.test:4000"
SEARCH_ANSWER = {"memories": [], "total": 0}
PAGE_ANSWER = {"memories": [], "total": 0, "limit": 20, "offset": 0}


def _search_with_key(mocked: http_mock.RequestsMock, key: str) -> None:
    mocked.post(
        f"{HOST}/api/memories/search",
        json=SEARCH_ANSWER,
        match=[matchers.header_matcher({"Authorization": f"Bearer {key}"})],
    )


# Each class, built from keyword arguments, and one call that reaches the service.
USES: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    "memory": (Mem0Memory, lambda m: m.load_memory_variables({"input": "hi"})),
    "retriever": (Mem0Retriever, lambda r: r.invoke("hi")),
    "recall tool": (Mem0RecallTool, lambda t: t.invoke({"query": "hi"})),
}


@pytest.mark.parametrize("kind", sorted(USES))
def test_base_url_api_key_and_timeout_are_used_not_ignored(
    kind: str, mocked: http_mock.RequestsMock
) -> None:
    cls, use = USES[kind]
    _search_with_key(mocked, "key-1")
    built = cls(base_url=HOST, api_key="key-1", timeout=(2.0, 9.0), user_id="u1")
    use(built)
    assert mocked.calls[0].request.timeout["read"] == 9.0
    assert mocked.calls[0].request.timeout["connect"] == 2.0


@pytest.mark.parametrize("kind", sorted(USES))
def test_the_guides_camel_case_names_work_too(kind: str, mocked: http_mock.RequestsMock) -> None:
    cls, use = USES[kind]
    _search_with_key(mocked, "key-2")
    use(cls(baseUrl=HOST, apiKey="key-2", userId="u1", sessionId="s1"))
    assert '"session_id":"s1"' in mocked.calls[0].request.body.decode().replace(" ", "")


def test_chat_history_takes_the_same_arguments(mocked: http_mock.RequestsMock) -> None:
    mocked.get(
        f"{HOST}/api/sessions/s1/messages",
        json={"session_id": "s1", "user_id": "u1", "messages": [], "total": 0, "has_more": False},
        match=[matchers.header_matcher({"Authorization": "Bearer key-3"})],
    )
    mocked.get(
        f"{HOST}/api/memories/user/u1",
        json=PAGE_ANSWER,
        match=[matchers.header_matcher({"Authorization": "Bearer key-3"})],
    )
    history = Mem0ChatMessageHistory(baseUrl=HOST, apiKey="key-3", userId="u1", sessionId="s1")
    assert history.messages == []
    assert mocked.calls[0].request.params["user_id"] == "u1"
    assert mocked.calls[1].request.params["session_id"] == "s1"
    same = Mem0ChatMessageHistory("u1", "s1", base_url=HOST, api_key="key-3", timeout=3.0)
    assert same.client.base_url == HOST and same.client.timeout == 3.0


def test_remember_tool_writes_where_it_is_told(
    mocked: http_mock.RequestsMock, memory_json: Any
) -> None:
    mocked.post(
        f"{HOST}/api/memories",
        status=201,
        json=memory_json(),
        match=[matchers.header_matcher({"Authorization": "Bearer key-4"})],
    )
    Mem0RememberTool(base_url=HOST, api_key="key-4", user_id="u1").invoke({"content": "Likes tea"})


ALL_CLASSES = [Mem0Memory, Mem0Retriever, Mem0RecallTool, Mem0RememberTool, Mem0ChatMessageHistory]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_unknown_keyword_arguments_are_refused_by_name(cls: type) -> None:
    with pytest.raises(
        TypeError,
        match=r"unexpected keyword argument\(s\): 'base_ur' \(did you mean 'base_url'\?\)",
    ):
        cls(base_ur=HOST, user_id="u1", session_id="s1")
    with pytest.raises(TypeError, match="'colour'"):
        cls(colour="blue", user_id="u1", session_id="s1")


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_a_client_and_connection_settings_together_are_refused(cls: type) -> None:
    with pytest.raises(TypeError, match="both a client and base_url"):
        cls(client=Mem0Client(HOST), base_url=HOST, user_id="u1", session_id="s1")


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_the_environment_fills_in_what_is_not_given(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEM0_BASE_URL", HOST)
    monkeypatch.setenv("MEM0_API_KEY", "from-env")
    built = cls(user_id="u1", session_id="s1")
    assert built.client.base_url == HOST and built.client.api_key == "from-env"
    explicit = cls(user_id="u1", session_id="s1", api_key="explicit")
    assert explicit.client.base_url == HOST and explicit.client.api_key == "explicit"


def test_retriever_takes_k_per_call_and_in_the_constructor(mocked: http_mock.RequestsMock) -> None:
    for limit in (3, 1, 2):
        mocked.post(
            f"{HOST}/api/memories/search",
            json=SEARCH_ANSWER,
            match=[matchers.json_params_matcher({"limit": limit}, strict_match=False)],
        )
    retriever = Mem0Retriever(base_url=HOST, user_id="u1", k=3)
    assert retriever.limit == 3
    retriever.invoke("q")
    retriever.invoke("q", k=1)
    retriever.invoke("q", limit=2)
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*top_n"):
        retriever.invoke("q", top_n=2)
    with pytest.raises(TypeError, match="both k and limit"):
        Mem0Retriever(base_url=HOST, user_id="u1", k=3, limit=4)
