"""Conformance check with another implementation: the MCP Inspector's CLI (pinned, installed by
tests/mcp/install_inspector.sh) lists and calls the tools over Streamable HTTP and over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mcp.client import ALL_TOOLS, READ_TOOLS
from tests.n8n.n8n_server import cache_dir
from tests.support.api import Api
from tests.support.fixtures import unique_user
from tests.support.service_process import REPO

pytestmark = pytest.mark.e2e

INSPECTOR_VERSION = "2.12.0"
INSTALL_SCRIPT = Path(__file__).with_name("install_inspector.sh")


TOOL_ERROR_EXIT = 5  # the Inspector's exit code for a call answered with isError: true


def inspector(*args: str, exit_code: int = 0) -> dict:
    folder = cache_dir() / f"mcp-inspector-{INSPECTOR_VERSION}"
    if not (folder / ".installed").exists():
        pytest.fail(f"the MCP Inspector {INSPECTOR_VERSION} is not installed in {folder}: run bash {INSTALL_SCRIPT}",
                    pytrace=False)
    # `--no`: the pinned copy in the folder, never a download; `--` keeps npm from reading the Inspector's options
    result = subprocess.run(["npx", "--no", "--", f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}", "--cli",
                             *args], cwd=folder, capture_output=True, text=True, timeout=180)
    assert result.returncode == exit_code, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_inspector_lists_the_tools_over_streamable_http(live_service):
    user = unique_user("inspector")
    admin = ["--header", f"Authorization: Bearer {live_service.api_key}", "--header", f"X-Mem0-User-Id: {user}"]
    listed = inspector(f"{live_service.url}/mcp", "--transport", "http", "--method", "tools/list", *admin)
    assert [tool["name"] for tool in listed["tools"]] == ALL_TOOLS
    assert all(tool["inputSchema"]["type"] == "object" for tool in listed["tools"])

    called = inspector(f"{live_service.url}/mcp", "--method", "tools/call", "--tool-name", "add_memory",
                       "--tool-arg", "text=Collects vinyl records", *admin)
    assert called.get("isError") is not True and called["structuredContent"]["results"][0]["user_id"] == user
    stored = Api(live_service.url, live_service.api_key).get(f"/api/memories/user/{user}").json()
    assert [m["content"] for m in stored["memories"]] == ["Collects vinyl records"]

    failed = inspector(f"{live_service.url}/mcp", "--method", "tools/call", "--tool-name", "get_memory",
                       "--tool-arg", "memory_id=mem_missing", *admin, exit_code=TOOL_ERROR_EXIT)
    assert failed["isError"] is True and failed["content"][0]["text"] == "Memory mem_missing not found"

    key = Api(live_service.url, live_service.api_key).post("/api/keys", json={"user_id": user, "access": "read"})
    read_only = inspector(f"{live_service.url}/mcp", "--method", "tools/list", "--header",
                          f"Authorization: Bearer {key.json()['key']}")
    assert [tool["name"] for tool in read_only["tools"]] == READ_TOOLS


def test_inspector_lists_the_tools_over_stdio(live_service):
    env = {"MEM0_DATA_DIR": str(live_service.data_dir), "MEM0_API_KEY": live_service.api_key,
           "MEM0_MCP_API_KEY": live_service.api_key, "MEM0_MCP_USER_ID": unique_user("inspector")}
    if os.environ.get("PYTHONPATH"):  # the inspector refuses an empty value
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    options = [item for name, value in env.items() for item in ("-e", f"{name}={value}")]
    listed = inspector(*options, "--cwd", str(REPO), "--method", "tools/list", "--",
                       sys.executable, "-m", "mem0_service", "mcp")
    assert [tool["name"] for tool in listed["tools"]] == ALL_TOOLS
