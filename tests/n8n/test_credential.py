"""The credential's "Test" button in the n8n editor, through the same REST call the editor makes."""

from __future__ import annotations

import pytest
import requests

from tests.n8n.n8n_server import free_ports
from tests.n8n.operation_workflows import MEM0_CREDENTIAL, WRONG_KEY_CREDENTIAL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def editor(n8n) -> requests.Session:
    return n8n.editor()


def test_credential(n8n, editor, credential: dict, data: dict) -> dict:
    response = editor.post(f"{n8n.url}/rest/credentials/test", timeout=30, json={
        "credentials": {**credential, "type": "mem0ServiceApi", "data": data}})
    assert response.status_code == 200, response.text
    return response.json()["data"]


test_credential.__test__ = False  # a helper, not a test


def test_the_right_key_passes(n8n, editor, live_service):
    result = test_credential(n8n, editor, MEM0_CREDENTIAL, {"baseUrl": live_service.url,
                                                            "apiKey": live_service.api_key})
    assert result["status"] == "OK", result


def test_a_wrong_key_fails_although_the_service_is_up(n8n, editor, live_service):
    result = test_credential(n8n, editor, WRONG_KEY_CREDENTIAL, {"baseUrl": live_service.url,
                                                                 "apiKey": "not-the-key"})
    assert result["status"] == "Error"
    assert "401" in result["message"] or "authoriz" in result["message"].lower(), result


def test_a_wrong_address_fails(n8n, editor, live_service):
    [unused_port] = free_ports(1)
    result = test_credential(n8n, editor, MEM0_CREDENTIAL, {"baseUrl": f"http://127.0.0.1:{unused_port}",
                                                            "apiKey": live_service.api_key})
    assert result["status"] == "Error", result
