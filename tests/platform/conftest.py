"""mem0's own clients pointed at the live service: the Python SDK in-process, the JavaScript SDK through Node."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

# mem0's clients report usage to an outside host unless told not to; the Python one reads this at import time.
os.environ["MEM0_TELEMETRY"] = "false"

HERE = Path(__file__).resolve().parent
JS_VERSION = "2.4.6"  # the mem0ai client that Flowise 3.1.2 bundles


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@pytest.fixture(scope="session")
def mem0_client(live_service):
    from mem0 import MemoryClient

    return MemoryClient(api_key=live_service.api_key, host=live_service.url)


@pytest.fixture(scope="session")
def js_client_dir() -> Path:
    """The npm client, installed by the idempotent install script (the Makefile runs it too)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the JavaScript client tests need Node.js 18+")
    result = subprocess.run(["bash", str(HERE / "install_mem0ai_js.sh")], capture_output=True, text=True,
                            timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(f"could not install mem0ai {JS_VERSION} from npm:\n{result.stdout}\n{result.stderr}")
    cache = Path(os.environ.get("MEM0_E2E_CACHE", Path.home() / ".cache" / "mem0-e2e"))
    return cache / f"mem0ai-js-{JS_VERSION}"


class JsClient:
    """Runs a list of MemoryClient calls in one Node process and returns what each one answered."""

    def __init__(self, directory: Path, host: str, api_key: str):
        self.directory, self.host, self.api_key = directory, host, api_key

    def run(self, *operations: tuple[str, list[Any]], api_key: str | None = None) -> list[dict[str, Any]]:
        calls = [{"op": op, "args": args} for op, args in operations]
        result = subprocess.run(
            ["node", str(HERE / "mem0_js_client.cjs"), str(self.directory), self.host, api_key or self.api_key],
            input=json.dumps(calls), capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "MEM0_TELEMETRY": "false"})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def js_client(live_service, js_client_dir) -> JsClient:
    return JsClient(js_client_dir, live_service.url, live_service.api_key)
