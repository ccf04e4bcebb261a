"""One real n8n for the whole n8n suite, with the package installed from a freshly packed tarball,
credentials pointing at the live service and the fake model, and every workflow published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.n8n.n8n_server import N8nServer, N8nUnavailable, pack_node_package
from tests.n8n.operation_workflows import (
    MEMORY_MANAGER_WORKFLOWS,
    OPERATION_WORKFLOWS,
    agent_variants,
    credentials,
)
from tests.support.service_process import ServiceProcess

SHIPPED_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows" / "n8n"


# The service address that plain HTTP Request nodes carry in their URL, for the user to change after the import.
EXAMPLE_SERVICE_URL = "http://localhost:3456"


def shipped_workflows() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(SHIPPED_WORKFLOWS.glob("*.json"))]


def started_by_mem0(workflow: dict) -> bool:
    """Workflows started by the Mem0 Trigger register a webhook when published: their tests publish them."""
    return any(node["type"] == "n8n-nodes-mem0-service.mem0Trigger" for node in workflow["nodes"])


def pointed_at(workflow: dict, service_url: str) -> dict:
    """The workflow with its HTTP Request URLs changed to `service_url`, as a user does after importing it."""
    workflow = json.loads(json.dumps(workflow))
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.httpRequest":
            assert node["parameters"]["url"].startswith(EXAMPLE_SERVICE_URL + "/api/"), node["parameters"]["url"]
            node["parameters"]["url"] = service_url + node["parameters"]["url"][len(EXAMPLE_SERVICE_URL):]
    return workflow


@pytest.fixture(scope="session")
def learning_service(fake_openai, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A service whose chat model (fact extraction) and embedder are the fake OpenAI server."""
    # A test here parks a conversation on purpose (the model answers junk). The periodic look for parked
    # conversations would retry it for the rest of the session and take replies later suites queue on the shared
    # fake (the llm_service fixture's comment): only the look at start-up stays.
    service = ServiceProcess(tmp_path_factory.mktemp("learning-service"), api_key="learning-key",
                             env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url,
                                  "MEM0_JOB_RESCAN": "86400"})
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def n8n(live_service, learning_service, fake_openai,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[N8nServer]:
    try:
        tarball = pack_node_package(tmp_path_factory.mktemp("n8n-package"))
        # the README's signature check in a Code node needs Node's crypto module
        server = N8nServer(tmp_path_factory.mktemp("n8n-home"), extra_env={"NODE_FUNCTION_ALLOW_BUILTIN": "crypto"})
    except N8nUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    server.install_package(tarball)
    server.import_credentials(credentials(live_service.url, live_service.api_key, fake_openai.base_url,
                                          learning_service.url, learning_service.api_key))
    shipped = [pointed_at(workflow, live_service.url) for workflow in shipped_workflows()
               if not started_by_mem0(workflow)]
    agent_api = next(w for w in shipped if w["id"] == "mem0HookAgent001")
    workflows = OPERATION_WORKFLOWS + MEMORY_MANAGER_WORKFLOWS + shipped + agent_variants(agent_api)
    server.import_workflows(workflows)
    server.start()
    for workflow in workflows:
        server.activate(workflow["id"])
    yield server
    server.stop()
