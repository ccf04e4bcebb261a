"""Mem0Store as LangGraph uses it: items by key, semantic search with filters, namespaces,
sync and async, inside a real LangGraph graph and behind LangMem's memory tools."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.store.base import BaseStore, InvalidNamespaceError

from mem0_langchain import Mem0Client, Mem0PermissionError, Mem0Store


@pytest.fixture
def store(live_service: Any) -> Iterator[Mem0Store]:
    with_store = Mem0Store(base_url=live_service.url, api_key=live_service.api_key)
    yield with_store
    with_store.close()


def test_items_are_put_got_replaced_and_deleted_by_key(store: Mem0Store, user_id: str) -> None:
    value = {"content": "Prefers window seats", "tags": ["travel"], "detail": {"since": 2021}}
    store.put((user_id,), "seat", value)
    item = store.get((user_id,), "seat")
    assert item is not None
    assert item.value == value and item.key == "seat" and item.namespace == (user_id,)
    assert item.created_at.tzinfo is not None

    store.put((user_id,), "seat", {"content": "Prefers aisle seats"})
    replaced = store.get((user_id,), "seat")
    assert replaced is not None and replaced.value == {"content": "Prefers aisle seats"}
    assert replaced.updated_at >= item.updated_at

    assert store.get((user_id,), "missing") is None
    store.delete((user_id,), "seat")
    assert store.get((user_id,), "seat") is None


def test_namespaces_map_to_user_agent_and_session(
    store: Mem0Store, user_id: str, mem0: Mem0Client
) -> None:
    store.put((user_id,), "k", {"content": "The user's own memory"})
    store.put((user_id, "planner"), "k", {"content": "What the planner agent knows"})
    store.put((user_id, "planner", "chat-1"), "k", {"content": "Said in chat 1"})
    assert store.get((user_id, "planner"), "k").value["content"] == "What the planner agent knows"

    stored = {m.content: m for m in mem0.iter_all(user_id)}
    assert stored["The user's own memory"].agent_id is None
    assert stored["What the planner agent knows"].agent_id == "planner"
    assert stored["Said in chat 1"].session_id == "chat-1"
    assert stored["Said in chat 1"].metadata["source"] == "langgraph-store"

    # Ending the session in the service removes exactly that namespace's items.
    mem0.end_session("chat-1", user_id=user_id)
    assert store.get((user_id, "planner", "chat-1"), "k") is None
    assert store.get((user_id, "planner"), "k") is not None


def test_the_same_text_under_two_keys_stays_two_items(store: Mem0Store, user_id: str) -> None:
    store.put((user_id,), "a", {"content": "Lives in Porto"})
    store.put((user_id,), "b", {"content": "Lives in Porto"})
    assert store.get((user_id,), "a") is not None and store.get((user_id,), "b") is not None
    store.delete((user_id,), "a")
    assert store.get((user_id,), "a") is None
    assert store.get((user_id,), "b") is not None


def test_search_ranks_by_meaning_and_filters_on_values(store: Mem0Store, user_id: str) -> None:
    ns = (user_id,)
    store.put(ns, "diet", {"content": "The user is vegetarian", "kind": "food", "weight": 3})
    store.put(
        ns, "curry", {"content": "The user loves spicy Thai curry", "kind": "food", "weight": 1}
    )
    store.put(ns, "city", {"content": "The user lives in Lisbon", "kind": "place", "weight": 2})

    hits = store.search(ns, query="What does the user eat?")
    assert hits[0].key in {"diet", "curry"} and hits[0].score is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    food = store.search(ns, query="What does the user eat?", filter={"kind": "food"})
    assert {h.key for h in food} == {"diet", "curry"}
    heavy = store.search(ns, query="user", filter={"weight": {"$gte": 2}})
    assert {h.key for h in heavy} == {"diet", "city"}
    assert [h.key for h in store.search(ns, filter={"kind": "place"})] == ["city"]

    newest_first = [h.key for h in store.search(ns)]
    assert newest_first == ["city", "curry", "diet"]
    assert [h.key for h in store.search(ns, limit=1, offset=1)] == ["curry"]
    assert store.search((user_id, "no-such-agent"), query="food") == []


def test_list_namespaces_by_prefix_suffix_and_depth(store: Mem0Store, user_id: str) -> None:
    store.put((user_id,), "k", {"content": "a"})
    store.put((user_id, "planner"), "k", {"content": "b"})
    store.put((user_id, "planner", "chat-1"), "k", {"content": "c"})
    store.put((user_id, "writer"), "k", {"content": "d"})

    assert store.list_namespaces(prefix=(user_id,)) == [
        (user_id,),
        (user_id, "planner"),
        (user_id, "planner", "chat-1"),
        (user_id, "writer"),
    ]
    assert store.list_namespaces(prefix=(user_id,), max_depth=2) == [
        (user_id,),
        (user_id, "planner"),
        (user_id, "writer"),
    ]
    assert store.list_namespaces(prefix=(user_id, "*", "chat-1")) == [
        (user_id, "planner", "chat-1")
    ]
    assert store.list_namespaces(suffix=("writer",)) == [(user_id, "writer")]
    # Across users (an admin key walks GET /api/users): this user's namespaces are among them.
    everyone = store.list_namespaces(limit=10_000)
    assert (user_id, "planner", "chat-1") in everyone


def test_a_scoped_key_reaches_its_user_but_cannot_list_every_user(
    live_service: Any, store: Mem0Store, mem0: Mem0Client, user_id: str
) -> None:
    store.put((user_id,), "k", {"content": "Visible to the user's own key"})
    key = mem0.create_key(user_id=user_id).key
    own = Mem0Store(base_url=live_service.url, api_key=key)
    assert own.get((user_id,), "k") is not None
    assert own.list_namespaces(prefix=(user_id,)) == [(user_id,)]
    with pytest.raises(Mem0PermissionError):
        own.list_namespaces()


def test_bad_namespaces_and_arguments_are_refused(live_service: Any, store: Mem0Store) -> None:
    with pytest.raises(InvalidNamespaceError, match="no user id"):
        Mem0Store(
            base_url=live_service.url,
            api_key=live_service.api_key,
            namespace_layout=("app", "user_id"),
        ).put(("memories",), "k", {"content": "x"})
    with pytest.raises(TypeError, match="'base_ur'"):
        Mem0Store(base_ur=live_service.url)
    with pytest.raises(ValueError, match="user_id position exactly once"):
        Mem0Store(base_url=live_service.url, namespace_layout=("app",))


async def test_the_async_methods_do_the_same(live_service: Any, user_id: str) -> None:
    store = Mem0Store(baseUrl=live_service.url, apiKey=live_service.api_key)
    ns = (user_id, "async-agent")
    await store.aput(ns, "pet", {"content": "The user has a cat called Miso"})
    item = await store.aget(ns, "pet")
    assert item is not None and item.value["content"] == "The user has a cat called Miso"
    hits = await store.asearch(ns, query="Which pet does the user have?")
    assert [h.key for h in hits] == ["pet"]
    assert await store.alist_namespaces(prefix=(user_id,)) == [ns]
    await store.adelete(ns, "pet")
    assert await store.aget(ns, "pet") is None
    await store.aclose()


# -- inside LangGraph ------------------------------------------------------------------------


class ToolCallingFake(GenericFakeChatModel):
    """A scripted chat model that agents can bind tools to."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCallingFake:
        return self


def test_a_langgraph_graph_recalls_what_an_earlier_run_stored(
    store: Mem0Store, user_id: str
) -> None:
    """A graph whose nodes read and write long-term memory through the store it is given."""
    prompts: list[str] = []

    def recall(state: MessagesState, *, store: BaseStore) -> dict[str, Any]:
        question = state["messages"][-1].text
        known = store.search((user_id,), query=question, limit=3)
        context = "\n".join(item.value["content"] for item in known)
        prompts.append(context)
        return {"messages": [SystemMessage(content=f"Known about the user:\n{context}")]}

    def remember(state: MessagesState, *, store: BaseStore) -> dict[str, Any]:
        said = state["messages"][0].text
        if said.startswith("Remember: "):
            store.put(
                (user_id,), secrets.token_hex(4), {"content": said.removeprefix("Remember: ")}
            )
        return {}

    model = GenericFakeChatModel(
        messages=iter([AIMessage(content="Noted."), AIMessage(content="Porto.")])
    )

    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("recall", recall)
    builder.add_node("answer", answer)
    builder.add_node("remember", remember)
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "answer")
    builder.add_edge("answer", "remember")
    builder.add_edge("remember", END)
    graph = builder.compile(store=store)

    graph.invoke({"messages": [HumanMessage(content="Remember: The user lives in Porto")]})
    # A fresh run, no shared state: only the store carries the fact over.
    graph.invoke({"messages": [HumanMessage(content="Where does the user live?")]})
    assert "The user lives in Porto" in prompts[-1]


def test_langmem_tools_keep_an_agents_memory_in_the_service(
    live_service: Any, user_id: str, mem0: Mem0Client
) -> None:
    import langmem
    from langchain.agents import create_agent

    store = Mem0Store(
        base_url=live_service.url, api_key=live_service.api_key, namespace_layout=("app", "user_id")
    )
    namespace = ("memories", "{langgraph_user_id}")
    tools = [
        langmem.create_manage_memory_tool(namespace=namespace),
        langmem.create_search_memory_tool(namespace=namespace),
    ]
    config = {"configurable": {"langgraph_user_id": user_id}}

    def agent(*replies: AIMessage) -> Any:
        return create_agent(ToolCallingFake(messages=iter(replies)), tools=tools, store=store)

    remember = AIMessage(
        content="",
        tool_calls=[
            {
                "name": "manage_memory",
                "args": {"content": "The user is allergic to peanuts", "action": "create"},
                "id": "call-1",
            }
        ],
    )
    agent(remember, AIMessage(content="Noted.")).invoke(
        {"messages": [HumanMessage(content="I'm allergic to peanuts")]}, config
    )
    stored = [m for m in mem0.iter_all(user_id) if m.metadata.get("source") == "langgraph-store"]
    assert [m.content for m in stored] == ["The user is allergic to peanuts"]

    search = AIMessage(
        content="",
        tool_calls=[{"name": "search_memory", "args": {"query": "food allergies"}, "id": "call-2"}],
    )
    result = agent(search, AIMessage(content="No peanuts for you.")).invoke(
        {"messages": [HumanMessage(content="What should I avoid eating?")]}, config
    )
    found = [m.text for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(found) == 1 and "allergic to peanuts" in found[0]
    assert store.list_namespaces(prefix=("memories", user_id)) == [("memories", user_id)]


def test_async_calls_work_from_one_event_loop_to_the_next(live_service: Any, user_id: str) -> None:
    """Scripts call asyncio.run once per step; the store's async client must not hold on to a
    connection of a loop that is gone."""
    import asyncio

    store = Mem0Store(base_url=live_service.url, api_key=live_service.api_key)
    asyncio.run(store.aput((user_id,), "k", {"content": "First loop"}))
    item = asyncio.run(store.aget((user_id,), "k"))
    assert item is not None and item.value == {"content": "First loop"}
