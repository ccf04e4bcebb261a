"""Flowise 3.1.2's built-in Mem0 memory node, its host pointed at this service, in a real chatflow."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.platform.conftest import unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def flowise(tmp_path_factory):
    from tests.flowise.flowise_server import FlowiseServer, install

    # Installing or starting Flowise failing is a test failure, never a skip.
    server = FlowiseServer(install(), tmp_path_factory.mktemp("flowise-mem0-node")).start()
    yield server
    server.stop()


def node(node_id: str, label: str, category: str, version: float, base: list[str], inputs: dict[str, Any],
         credential: str | None = None) -> dict[str, Any]:
    data = {"id": node_id, "name": node_id.split("_")[0], "label": label, "type": label, "category": category,
            "version": version, "baseClasses": base, "inputs": inputs, "credential": credential, "outputs": {},
            "inputParams": [], "inputAnchors": [], "outputAnchors": []}
    return {"id": node_id, "type": "customNode", "position": {"x": 0, "y": 0}, "data": data}


def chatflow(model_url: str, openai_credential: str, mem0_credential: str, service_url: str) -> dict[str, Any]:
    """ChatOpenAI + Flowise's Mem0 node + Conversation Chain, as saved by the editor, with the node's `host` set."""
    model = node("chatOpenAI_0", "ChatOpenAI", "Chat Models", 8.3, ["ChatOpenAI", "BaseChatModel"],
                 {"modelName": "gpt-4o-mini", "temperature": 0, "streaming": False, "basepath": model_url},
                 openai_credential)
    memory = node("mem0_0", "Mem0", "Memory", 1.1, ["Mem0", "BaseChatMemory", "BaseMemory"],
                  {"user_id": "flowise-default-user", "useFlowiseChatId": True, "searchOnly": True,
                   "host": service_url}, mem0_credential)
    chain = node("conversationChain_0", "ConversationChain", "Chains", 3, ["ConversationChain", "BaseChain"],
                 {"model": "{{chatOpenAI_0.data.instance}}", "memory": "{{mem0_0.data.instance}}",
                  "systemMessagePrompt": "You are a helpful assistant."})
    edges = [{"id": f"e-{source}", "source": source, "target": "conversationChain_0", "type": "buttonedge",
              "sourceHandle": f"{source}-output", "targetHandle": f"conversationChain_0-input-{handle}"}
             for source, handle in (("chatOpenAI_0", "model"), ("mem0_0", "memory"))]
    return {"nodes": [model, memory, chain], "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


def test_mem0_node_brings_the_users_memories_into_the_conversation(flowise, live_service, fake_openai, mem0_client):
    chat, stranger = unique("chat"), unique("chat")
    # Memories written by two different clients of the service: mem0's SDK and the guide's API.
    mem0_client.add("My name is Alice and I fly gliders", user_id=chat, infer=False)
    stored = requests.post(f"{live_service.url}/api/memories", timeout=30,
                           headers={"Authorization": f"Bearer {live_service.api_key}"},
                           json={"user_id": chat, "content": "Alice's glider is called Kestrel"})
    assert stored.status_code == 201, stored.text
    mem0_client.add("My name is Bruno", user_id=stranger, infer=False)

    openai = flowise.create_credential("fake openai", "openAIApi", {"openAIApiKey": "sk-fake"})
    mem0 = flowise.create_credential("mem0 self-hosted", "mem0MemoryApi", {"apiKey": live_service.api_key})
    flow_id = flowise.import_chatflow("mem0-node", chatflow(fake_openai.base_url, openai, mem0, live_service.url))

    fake_openai.clear()
    answer = flowise.predict(flow_id, "What is the name of my glider?", chat_id=chat)
    assert answer.json()["text"].startswith("FAKE-REPLY")
    [request] = fake_openai.chat_requests()
    prompt = json.dumps(request["messages"], ensure_ascii=False)
    assert "My name is Alice and I fly gliders" in prompt and "Kestrel" in prompt
    assert "Bruno" not in prompt

    # Another chat id is another user: only its own memories come back.
    fake_openai.clear()
    flowise.predict(flow_id, "What is my name?", chat_id=stranger)
    prompt = json.dumps(fake_openai.chat_requests()[0]["messages"], ensure_ascii=False)
    assert "My name is Bruno" in prompt and "Alice" not in prompt
