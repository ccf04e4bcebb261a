"""Workflows the tests import besides the shipped examples: one webhook per Mem0 node operation.

Each takes its parameters from the request body, runs the node once and answers with everything
the node output, so a test sees exactly what the next node in a user's workflow would see."""

from __future__ import annotations

import copy
import uuid
from typing import Any

MEM0_CREDENTIAL = {"id": "mem0ServiceCred1", "name": "Mem0 Service"}
WRONG_KEY_CREDENTIAL = {"id": "mem0WrongKey0001", "name": "Mem0 Service (wrong key)"}
OPENAI_CREDENTIAL = {"id": "openAiCredentl01", "name": "OpenAI"}
LEARNING_CREDENTIAL = {"id": "mem0LearningCrd1", "name": "Mem0 Service with a chat model"}
BEARER_CREDENTIAL = {"id": "mem0BearerCred01", "name": "Mem0 Bearer Token"}


def credentials(service_url: str, api_key: str, openai_base_url: str,
                learning_service_url: str, learning_api_key: str) -> list[dict[str, Any]]:
    """The credentials the shipped workflows and the test workflows refer to, pointed at the test servers."""
    return [
        {**LEARNING_CREDENTIAL, "type": "mem0ServiceApi",
         "data": {"baseUrl": learning_service_url, "apiKey": learning_api_key}},
        {**MEM0_CREDENTIAL, "type": "mem0ServiceApi", "data": {"baseUrl": service_url + "/", "apiKey": api_key}},
        {**WRONG_KEY_CREDENTIAL, "type": "mem0ServiceApi", "data": {"baseUrl": service_url, "apiKey": "not-the-key"}},
        {**OPENAI_CREDENTIAL, "type": "openAiApi", "data": {"apiKey": "sk-test", "url": openai_base_url}},
        # n8n's own Bearer Auth, for the workflows made of plain HTTP Request nodes
        {**BEARER_CREDENTIAL, "type": "httpBearerAuth", "data": {"token": api_key}},
    ]


def _node_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "mem0-n8n-tests/" + "/".join(parts)))


def operation_workflow(path: str, parameters: dict[str, Any], credential: dict[str, str] = MEM0_CREDENTIAL,
                       on_error: str | None = None) -> dict[str, Any]:
    """Webhook POST /webhook/<path> -> Mem0 node with `parameters` -> answer with all its output items.

    With on_error="continueErrorOutput" a failure goes to a second Respond node that answers 502 with the
    error n8n recorded, so a test can read the message a user would see in the editor."""
    workflow_id = ("t" + uuid.uuid5(uuid.NAMESPACE_URL, path).hex)[:16]
    mem0_node: dict[str, Any] = {
        "id": _node_id(path, "mem0"), "name": "Mem0", "type": "n8n-nodes-mem0-service.mem0Service", "typeVersion": 1,
        "position": [220, 0], "parameters": parameters, "credentials": {"mem0ServiceApi": credential}}
    nodes = [
        {"id": _node_id(path, "webhook"), "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2.1,
         "position": [0, 0], "webhookId": _node_id(path, "hook"),
         "parameters": {"httpMethod": "POST", "path": path, "responseMode": "responseNode", "options": {}}},
        mem0_node,
        {"id": _node_id(path, "respond"), "name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
         "typeVersion": 1.5, "position": [440, 0], "parameters": {"respondWith": "allIncomingItems", "options": {}}},
    ]
    connections: dict[str, Any] = {
        "Webhook": {"main": [[{"node": "Mem0", "type": "main", "index": 0}]]},
        "Mem0": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]},
    }
    if on_error:
        mem0_node["onError"] = on_error
        nodes.append({
            "id": _node_id(path, "respond-error"), "name": "Respond Error", "type": "n8n-nodes-base.respondToWebhook",
            "typeVersion": 1.5, "position": [440, 200],
            "parameters": {"respondWith": "json", "responseBody": "={{ JSON.stringify($json) }}",
                           "options": {"responseCode": 502}}})
        connections["Mem0"]["main"].append([{"node": "Respond Error", "type": "main", "index": 0}])
    return {"id": workflow_id, "name": f"test {path}", "active": False, "settings": {"executionOrder": "v1"},
            "nodes": nodes, "connections": connections}


BODY = "={{ $json.body.%s }}"

OPERATION_WORKFLOWS = [
    operation_workflow("op-create", {
        "operation": "create", "userId": BODY % "user_id", "content": BODY % "content", "memoryType": BODY % "type",
        "additionalFields": {"sessionId": BODY % "session_id", "agentId": BODY % "agent_id",
                             "metadata": "={{ JSON.stringify($json.body.metadata) }}"}}),
    operation_workflow("op-create-minimal", {
        "operation": "create", "userId": BODY % "user_id", "content": BODY % "content"},
        on_error="continueErrorOutput"),
    # learning from a conversation needs the service whose chat model is the fake server
    operation_workflow("op-create-conversation", {
        "operation": "create", "userId": BODY % "user_id", "createFrom": "conversation",
        "messages": "={{ JSON.stringify($json.body.messages) }}", "infer": BODY % "infer",
        "additionalFields": {"sessionId": BODY % "session_id"}}, credential=LEARNING_CREDENTIAL,
        on_error="continueErrorOutput"),
    operation_workflow("op-search", {
        "operation": "search", "userId": BODY % "user_id", "query": BODY % "query",
        "searchOptions": {"relevanceThreshold": BODY % "relevance_threshold", "limit": BODY % "limit",
                          "types": BODY % "types"}}),
    operation_workflow("op-search-rewrite", {
        "operation": "search", "userId": BODY % "user_id", "query": BODY % "query",
        "searchOptions": {"rewriteQuery": True, "relevanceThreshold": 0}}, credential=LEARNING_CREDENTIAL),
    operation_workflow("op-search-items", {
        "operation": "search", "userId": BODY % "user_id", "query": BODY % "query",
        "searchOptions": {"relevanceThreshold": 0}, "splitIntoItems": True}),
    operation_workflow("op-get", {"operation": "get", "memoryId": BODY % "id"}, on_error="continueErrorOutput"),
    operation_workflow("op-update", {
        "operation": "update", "memoryId": BODY % "id",
        "updateFields": {"content": BODY % "content", "metadata": "={{ JSON.stringify($json.body.metadata) }}"}}),
    operation_workflow("op-delete", {"operation": "delete", "memoryId": BODY % "id"}),
    operation_workflow("op-list", {
        "operation": "getAll", "userId": BODY % "user_id", "limit": BODY % "limit",
        "filters": {"order": BODY % "order", "offset": BODY % "offset"}, "splitIntoItems": True}),
    operation_workflow("op-list-all", {"operation": "getAll", "userId": BODY % "user_id", "returnAll": True}),
    operation_workflow("op-list-session", {
        "operation": "getAll", "userId": BODY % "user_id", "limit": 50,
        "filters": {"sessionId": BODY % "session_id", "memoryType": BODY % "type"}}),
    operation_workflow("op-delete-all", {
        "operation": "deleteAll", "userId": BODY % "user_id", "sessionId": BODY % "session_id"}),
    operation_workflow("op-wrong-key", {"operation": "search", "userId": BODY % "user_id", "query": "anything"},
                       credential=WRONG_KEY_CREDENTIAL, on_error="continueErrorOutput"),
]


def memory_manager_workflow(path: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Webhook -> n8n's Chat Memory Manager (`parameters`) <- Mem0 Chat Memory of body.userId / body.sessionId."""
    workflow_id = ("m" + uuid.uuid5(uuid.NAMESPACE_URL, path).hex)[:16]
    return {
        "id": workflow_id, "name": f"test {path}", "active": False, "settings": {"executionOrder": "v1"},
        "nodes": [
            {"id": _node_id(path, "webhook"), "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2.1,
             "position": [0, 0], "webhookId": _node_id(path, "hook"),
             "parameters": {"httpMethod": "POST", "path": path, "responseMode": "responseNode", "options": {}}},
            {"id": _node_id(path, "manager"), "name": "Chat Memory Manager",
             "type": "@n8n/n8n-nodes-langchain.memoryManager", "typeVersion": 1.1, "position": [220, 0],
             "parameters": parameters},
            {"id": _node_id(path, "memory"), "name": "Mem0 Chat Memory", "type": "n8n-nodes-mem0-service.mem0ChatMemory",
             "typeVersion": 1, "position": [220, 200], "credentials": {"mem0ServiceApi": MEM0_CREDENTIAL},
             "parameters": {"userId": BODY % "userId", "sessionIdType": "customKey", "sessionKey": BODY % "sessionId",
                            "contextWindowLength": 10, "options": {"recallMemories": False}}},
            {"id": _node_id(path, "respond"), "name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
             "typeVersion": 1.5, "position": [440, 0], "parameters": {"respondWith": "allIncomingItems", "options": {}}},
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "Chat Memory Manager", "type": "main", "index": 0}]]},
            "Chat Memory Manager": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]},
            "Mem0 Chat Memory": {"ai_memory": [[{"node": "Chat Memory Manager", "type": "ai_memory", "index": 0}]]},
        },
    }


MEMORY_MANAGER_WORKFLOWS = [
    memory_manager_workflow("mm-load", {"mode": "load", "simplifyOutput": True, "options": {"groupMessages": True}}),
    memory_manager_workflow("mm-insert", {"mode": "insert", "insertMode": "insert", "messages": {"messageValues": [
        {"type": "system", "message": "={{ $json.body.note }}"}]}}),
    memory_manager_workflow("mm-delete-all", {"mode": "delete", "deleteMode": "all"}),
]


def agent_variant(agent_api: dict[str, Any], path: str, credential: dict[str, str] = MEM0_CREDENTIAL,
                  memory_options: dict[str, Any] | None = None, continue_on_error: bool = False) -> dict[str, Any]:
    """The shipped agent API workflow on another webhook path, credential or memory options. With
    continue_on_error the agent's error becomes its output item and the webhook answers with the items."""
    workflow = copy.deepcopy(agent_api)
    workflow.update(id=("t" + uuid.uuid5(uuid.NAMESPACE_URL, path).hex)[:16], name=f"test {path}")
    for node in workflow["nodes"]:
        node["id"] = _node_id(path, node["name"])
        if "mem0ServiceApi" in node.get("credentials", {}):
            node["credentials"] = {"mem0ServiceApi": credential}
        if node["type"] == "n8n-nodes-base.webhook":
            node["webhookId"] = _node_id(path, "hook")
            node["parameters"]["path"] = path
        if node["name"] == "Mem0 Chat Memory":
            node["parameters"]["options"].update(memory_options or {})
        if continue_on_error:
            if node["name"] == "AI Agent":
                node["onError"] = "continueRegularOutput"
            if node["name"] == "Respond":
                node["parameters"] = {"respondWith": "allIncomingItems", "options": {}}
    return workflow


def agent_variants(agent_api: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        # Learn Facts on the service whose chat model is the fake server, and on one without a chat model
        agent_variant(agent_api, "mem0-agent-learning", LEARNING_CREDENTIAL, {"learnFacts": True}),
        agent_variant(agent_api, "mem0-agent-learning-no-model", MEM0_CREDENTIAL, {"learnFacts": True},
                      continue_on_error=True),
        agent_variant(agent_api, "mem0-agent-recall-system", MEM0_CREDENTIAL, {"recallAs": "system"}),
    ]
