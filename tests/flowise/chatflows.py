"""The Flowise chatflows shipped in workflows/flowise/, described once and written in Flowise's export format.

The node descriptions come from the installed Flowise, so the files carry the same parameters, anchors and
versions the Flowise editor would save. Regenerate after changing a spec or upgrading Flowise:

    python -m tests.flowise.chatflows          # starts the cached Flowise, rewrites workflows/flowise/*.json
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.flowise.flowise_server import WORKFLOWS, FlowiseServer, install

# Input types the editor shows as fields; every other type is a connection point (anchor).
PARAM_TYPES = {"asyncOptions", "asyncMultiOptions", "options", "multiOptions", "array", "datagrid", "string",
               "number", "boolean", "password", "json", "code", "date", "file", "folder", "tabs"}

CHATBOT_SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the information about the user from previous interactions, "
    "when it is given, to personalise your answer. Answer briefly and to the point."
)

IMAGE_PROMPT_TEMPLATE = (
    "You write prompts for an image generation model (Stable Diffusion, DALL-E).\n"
    "Request: {request}\n"
    "Style preferences of the user:\n{preferences}\n\n"
    "Write one vivid image prompt that fulfils the request in the user's preferred style. "
    "Reply with the prompt only."
)

AGENT_SYSTEM_MESSAGE = (
    "You are a helpful assistant with a long-term memory about the user. "
    "Before answering anything that depends on who the user is or what they like, call mem0_search. "
    "When the user tells you a lasting fact or preference about themselves, store it with mem0_save "
    "(one short sentence, type preference or fact). Never invent memories."
)

MCP_AGENT_SYSTEM_MESSAGE = (
    "You are a helpful assistant with a long-term memory about the user, reached through the memory service's "
    "MCP tools. Before answering anything that depends on who the user is or what they like, call "
    "search_memories. When the user tells you a lasting fact or preference about themselves, store it with "
    "add_memory (one short sentence). Never invent memories."
)
# A key bound to the user (`mem0-service keys create --user-id ...`), kept in a Flowise variable
MCP_SERVER_CONFIG = json.dumps({"url": "http://localhost:3456/mcp",
                                "headers": {"Authorization": "Bearer {{$vars.mem0ApiKey}}"}}, indent=2)
# every tool but forget_everything: an agent should not be able to erase the user on its own
MCP_ACTIONS = ["add_memory", "delete_memory", "get_memory", "list_memories", "search_memories", "update_memory"]


@dataclass
class NodeSpec:
    id: str
    name: str
    position: tuple[int, int]
    inputs: dict[str, Any] = field(default_factory=dict)
    output: str | None = None  # chosen output of nodes that have several


@dataclass
class FlowSpec:
    file: str
    title: str
    nodes: list[NodeSpec]
    # (source node id, target node id, target input name)
    edges: list[tuple[str, str, str]]


FLOWS = [
    FlowSpec(
        file="chatbot-with-memory.json",
        title="Chatbot with Mem0 memory",
        nodes=[
            NodeSpec("chatOpenAI_0", "chatOpenAI", (80, 40), {"modelName": "gpt-4o-mini", "temperature": 0.7}),
            NodeSpec("mem0Memory_0", "mem0Memory", (480, 420), {"userId": "{{$flow.userId}}"}),
            NodeSpec("conversationChain_0", "conversationChain", (880, 160),
                     {"systemMessagePrompt": CHATBOT_SYSTEM_PROMPT}),
        ],
        edges=[("chatOpenAI_0", "conversationChain_0", "model"),
               ("mem0Memory_0", "conversationChain_0", "memory")],
    ),
    FlowSpec(
        file="image-prompt-personalization.json",
        title="Image prompt personalised with the user's style preferences",
        nodes=[
            NodeSpec("mem0Search_0", "mem0Search", (80, 60),
                     {"userId": "{{$flow.userId}}", "types": json.dumps(["preference"]), "limit": 10,
                      "relevanceThreshold": 0,
                      "query": "preferred style, colours and look of images and pictures",
                      "emptyText": "Neutral style"}, output="text"),
            NodeSpec("promptTemplate_0", "promptTemplate", (480, 60),
                     {"template": IMAGE_PROMPT_TEMPLATE,
                      "promptValues": json.dumps({"request": "{{question}}",
                                                  "preferences": "{{mem0Search_0.data.instance}}"})}),
            NodeSpec("chatOpenAI_0", "chatOpenAI", (880, 20), {"modelName": "gpt-4o-mini", "temperature": 0.9}),
            NodeSpec("llmChain_0", "llmChain", (1280, 200), {"chainName": "Image prompt"}, output="llmChain"),
        ],
        edges=[("mem0Search_0", "promptTemplate_0", "promptValues"),
               ("chatOpenAI_0", "llmChain_0", "model"),
               ("promptTemplate_0", "llmChain_0", "prompt")],
    ),
    FlowSpec(
        file="agent-with-mem0-tools.json",
        title="Tool agent that searches and saves Mem0 memories",
        nodes=[
            NodeSpec("mem0Search_0", "mem0Search", (80, 20), {"userId": "{{$flow.userId}}"}, output="tool"),
            NodeSpec("mem0Save_0", "mem0Save", (80, 660), {"userId": "{{$flow.userId}}", "defaultType": "fact"}),
            NodeSpec("chatOpenAI_0", "chatOpenAI", (480, 20), {"modelName": "gpt-4o-mini", "temperature": 0.3}),
            NodeSpec("mem0Memory_0", "mem0Memory", (880, 520),
                     {"userId": "{{$flow.userId}}", "contextLimit": 0}),
            NodeSpec("toolAgent_0", "toolAgent", (1280, 160), {"systemMessage": AGENT_SYSTEM_MESSAGE}),
        ],
        edges=[("mem0Search_0", "toolAgent_0", "tools"), ("mem0Save_0", "toolAgent_0", "tools"),
               ("chatOpenAI_0", "toolAgent_0", "model"), ("mem0Memory_0", "toolAgent_0", "memory")],
    ),
    FlowSpec(
        file="agent-with-mcp-memory.json",
        title="Tool agent with the memory service's MCP tools",
        nodes=[
            NodeSpec("customMCP_0", "customMCP", (80, 20),
                     {"mcpServerConfig": MCP_SERVER_CONFIG, "mcpActions": json.dumps(MCP_ACTIONS)}),
            NodeSpec("chatOpenAI_0", "chatOpenAI", (480, 20), {"modelName": "gpt-4o-mini", "temperature": 0.3}),
            NodeSpec("bufferMemory_0", "bufferMemory", (880, 520)),
            NodeSpec("toolAgent_0", "toolAgent", (1280, 160), {"systemMessage": MCP_AGENT_SYSTEM_MESSAGE}),
        ],
        edges=[("customMCP_0", "toolAgent_0", "tools"), ("chatOpenAI_0", "toolAgent_0", "model"),
               ("bufferMemory_0", "toolAgent_0", "memory")],
    ),
]


def _init_node(description: dict[str, Any], spec: NodeSpec) -> dict[str, Any]:
    """The node data the Flowise editor creates when a component is dropped on the canvas."""
    nid = spec.id
    input_params, input_anchors = [], []
    for param in description.get("inputs") or []:
        item = {**param, "id": f"{nid}-input-{param['name']}-{param['type']}"}
        (input_params if param["type"] in PARAM_TYPES else input_anchors).append(item)
    if description.get("credential"):
        cred = description["credential"]
        input_params.insert(0, {**cred, "id": f"{nid}-input-{cred['name']}-{cred['type']}"})
    if description.get("outputs"):
        options = []
        for out in description["outputs"]:
            classes = out.get("baseClasses") or []
            options.append({"id": f"{nid}-output-{out['name']}-{'|'.join(classes)}", "name": out["name"],
                            "label": out["label"], "description": out.get("description", ""),
                            "type": " | ".join(classes)})
        output_anchors = [{"name": "output", "label": "Output", "type": "options", "description": "",
                           "options": options, "default": description["outputs"][0]["name"]}]
        outputs = {"output": spec.output or description["outputs"][0]["name"]}
    else:
        output_anchors = [{"id": f"{nid}-output-{description['name']}-{'|'.join(description['baseClasses'])}",
                           "name": description["name"], "label": description["type"],
                           "description": description.get("description", ""),
                           "type": " | ".join(description["baseClasses"])}]
        outputs = {}
    inputs = {p["name"]: p.get("default", "") if p.get("default") is not None else ""
              for p in description.get("inputs") or []}
    for key, value in spec.inputs.items():
        if key not in inputs:
            raise KeyError(f"{description['name']} has no input {key!r}")
        inputs[key] = value
    data = {
        "id": nid, "label": description["label"], "version": description["version"], "name": description["name"],
        "type": description["type"], "baseClasses": description["baseClasses"], "category": description["category"],
        "description": description.get("description", ""), "inputParams": input_params,
        "inputAnchors": input_anchors, "inputs": inputs, "outputAnchors": output_anchors, "outputs": outputs,
        "selected": False,
    }
    return {"id": nid, "position": {"x": spec.position[0], "y": spec.position[1]}, "type": "customNode",
            "data": data, "width": 300, "height": 600, "selected": False,
            "positionAbsolute": {"x": spec.position[0], "y": spec.position[1]}, "dragging": False}


def _source_handle(node: dict[str, Any]) -> str:
    anchor = node["data"]["outputAnchors"][0]
    if anchor.get("type") == "options":
        chosen = node["data"]["outputs"]["output"]
        return next(o["id"] for o in anchor["options"] if o["name"] == chosen)
    return anchor["id"]


def build_flow(spec: FlowSpec, describe: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    nodes = {n.id: _init_node(describe(n.name), n) for n in spec.nodes}
    edges = []
    for source, target, input_name in spec.edges:
        tdata = nodes[target]["data"]
        anchor = next((a for a in tdata["inputAnchors"] + tdata["inputParams"] if a["name"] == input_name), None)
        if anchor is None:
            raise KeyError(f"{tdata['name']} has no input {input_name!r}")
        source_handle = _source_handle(nodes[source])
        reference = f"{{{{{source}.data.instance}}}}"
        if anchor["type"] not in PARAM_TYPES:  # a connection: the input holds a reference to the source node
            if anchor.get("list"):
                current = tdata["inputs"].get(input_name) or []
                tdata["inputs"][input_name] = [*current, reference]
            else:
                tdata["inputs"][input_name] = reference
        edges.append({"source": source, "sourceHandle": source_handle, "target": target,
                      "targetHandle": anchor["id"], "type": "buttonedge",
                      "id": f"{source}-{source_handle}-{target}-{anchor['id']}"})
    return {"nodes": list(nodes.values()), "edges": edges}


def write_all(server: FlowiseServer) -> list[Path]:
    def describe(name: str) -> dict[str, Any]:
        description = server.get(f"nodes/{name}")
        description.pop("filePath", None)
        return description

    WORKFLOWS.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in FLOWS:
        path = WORKFLOWS / spec.file
        path.write_text(json.dumps(build_flow(spec, describe), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


def main() -> None:
    flowise_dir = install()
    with tempfile.TemporaryDirectory(prefix="flowise-export-") as home:
        server = FlowiseServer(flowise_dir, Path(home)).start()
        try:
            for path in write_all(server):
                print(f"wrote {path}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
