"""The Mem0 Trigger node in a real n8n (server mode): publishing the shipped "notify when a preference changes"
workflow registers its webhook with the service, a preference written through the API runs the workflow (which
notifies a receiver), a forged delivery is refused, and unpublishing removes the webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from tests.n8n.conftest import SHIPPED_WORKFLOWS
from tests.n8n.n8n_server import N8nServer
from tests.support.api import Api
from tests.support.fixtures import unique_user
from tests.support.service_process import ServiceProcess
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def notify_workflow(notify_url: str) -> dict:
    """The shipped workflow with its notification going to `notify_url`, as a user sets their Slack URL."""
    workflow = json.loads((SHIPPED_WORKFLOWS / "notify-on-preference-change.json").read_text())
    for node in workflow["nodes"]:
        if node["name"] == "Notify":
            node["parameters"]["url"] = notify_url
    return workflow


def hooks_towards(api: Api, n8n: N8nServer) -> list[dict]:
    response = api.get("/api/webhooks")
    assert response.status_code == 200, response.text
    return [h for h in response.json()["webhooks"] if h["url"].startswith(n8n.url + "/webhook/")]


def test_publishing_registers_a_change_runs_it_unpublishing_removes(n8n: N8nServer, live_service: ServiceProcess,
                                                                    receiver: WebhookReceiver):
    api = Api(live_service.url, live_service.api_key)
    editor = n8n.editor()
    workflow = notify_workflow(receiver.url)
    created = editor.post(f"{n8n.url}/rest/workflows", timeout=30, json={
        key: workflow[key] for key in ("name", "nodes", "connections", "settings")})
    assert created.status_code == 200, created.text
    workflow_id = created.json()["data"]["id"]
    assert hooks_towards(api, n8n) == []

    n8n.activate(workflow_id)
    [hook] = hooks_towards(api, n8n)
    assert hook["enabled"] and hook["user_id"] is None
    assert hook["events"] == ["memory.created", "memory.updated"]

    user = unique_user("n8n-trigger")
    api.create(user, "Works on the night shift", type="fact")  # not a preference: the workflow does not run
    preference = api.create(user, "Prefers dark mode", type="preference")
    assert api.put(f"/api/memories/{preference['id']}", json={"content": "Prefers light mode"}).status_code == 200
    notes = [r.json for r in receiver.wait_for(2)]
    assert notes[0] == {"text": f"New preference for {user}: Prefers dark mode", "user_id": user,
                        "memory_id": preference["id"]}
    assert notes[1]["text"] == f"Preference changed for {user}: Prefers light mode (was: Prefers dark mode)"

    # a delivery that the service did not sign never starts the workflow
    forged = requests.post(hook["url"], timeout=30, json={"event": "memory.created", "data": {}},
                           headers={"X-Mem0-Timestamp": "1700000000", "X-Mem0-Signature": "v1=" + "0" * 64})
    assert forged.status_code == 401, forged.text
    log = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert [d["status"] for d in log] == ["delivered"] * 3  # the fact was acknowledged, not run
    assert len(receiver.received) == 2

    deactivated = editor.post(f"{n8n.url}/rest/workflows/{workflow_id}/deactivate", json={}, timeout=60)
    assert deactivated.status_code == 200, deactivated.text
    assert hooks_towards(api, n8n) == []
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404


def readme_code_node() -> str:
    """The README's n8n Code-node signature check, as printed there."""
    readme = (SHIPPED_WORKFLOWS.parents[1] / "README.md").read_text()
    start = readme.index("```javascript\n// Code node") + len("```javascript\n")
    return readme[start:readme.index("```", start)]


def test_the_readme_signature_check_in_a_code_node(n8n: N8nServer, live_service: ServiceProcess):
    """A plain Webhook node (raw body) and the README's Code node: genuine deliveries pass, forged ones fail."""
    api = Api(live_service.url, live_service.api_key)
    user = unique_user("n8n-code-check")
    path = "mem0-signed-" + user
    hook = api.post("/api/webhooks", json={"url": f"{n8n.url}/webhook/{path}", "user_id": user}).json()
    code = readme_code_node().replace("'whsec_…'", json.dumps(hook["secret"]))
    nodes = [
        {"id": "5b0f0a51-0a43-4c39-9d0e-1f3b2b7c0001", "name": "Webhook", "type": "n8n-nodes-base.webhook",
         "typeVersion": 2.1, "position": [0, 0], "webhookId": "5b0f0a51-0a43-4c39-9d0e-1f3b2b7c0002",
         "parameters": {"httpMethod": "POST", "path": path, "responseMode": "lastNode",
                        "options": {"rawBody": True}}},
        {"id": "5b0f0a51-0a43-4c39-9d0e-1f3b2b7c0003", "name": "Check Signature", "type": "n8n-nodes-base.code",
         "typeVersion": 2, "position": [240, 0], "parameters": {"jsCode": code}},
    ]
    created = n8n.editor().post(f"{n8n.url}/rest/workflows", timeout=30, json={
        "name": "signature check", "nodes": nodes, "settings": {"executionOrder": "v1"},
        "connections": {"Webhook": {"main": [[{"node": "Check Signature", "type": "main", "index": 0}]]}}})
    assert created.status_code == 200, created.text
    n8n.activate(created.json()["data"]["id"])

    memory = api.create(user, "Prefers window seats", type="preference")

    def delivered():
        log = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()["deliveries"]
        return log if log and log[0]["status"] == "delivered" else None
    deadline = time.monotonic() + 60
    while not (log := delivered()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert log, api.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    run = n8n.last_execution(created.json()["data"]["id"])
    assert run["Check Signature"][0]["data"]["main"][0][0]["json"]["data"]["memory"]["id"] == memory["id"]

    forged = requests.post(f"{n8n.url}/webhook/{path}", timeout=30, data=b'{"event": "memory.created"}',
                           headers={"Content-Type": "application/json", "X-Mem0-Timestamp": str(int(time.time())),
                                    "X-Mem0-Signature": "v1=" + "0" * 64})
    assert forged.status_code >= 400
    assert api.delete(f"/api/webhooks/{hook['id']}").status_code == 200
