"""A real Flowise process for the end-to-end tests: installs it (idempotent), starts it on loopback, drives its REST API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
INSTALL_SCRIPT = HERE / "install_flowise.sh"
WORKFLOWS = REPO / "workflows" / "flowise"


def cache_dir() -> Path:
    return Path(os.environ.get("MEM0_E2E_CACHE") or Path.home() / ".cache" / "mem0-e2e")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install() -> Path:
    """Runs the install script (fast when Flowise is already there) and returns the Flowise folder."""
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], check=False, capture_output=True, text=True,
                            timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"installing Flowise failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return cache_dir() / "flowise"


class FlowiseError(AssertionError):
    pass


class FlowiseServer:
    """One Flowise process with its own data folder, an owner account and an API key."""

    def __init__(self, flowise_dir: Path, home: Path) -> None:
        self.flowise_dir = flowise_dir
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.api_key = ""
        self.process: subprocess.Popen | None = None
        self.log_path = home / "flowise.log"

    def start(self, timeout: float = 120.0) -> FlowiseServer:
        for sub in ("db", "secret", "logs", "storage"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)  # Flowise does not create SECRETKEY_PATH
        env = dict(os.environ)
        env.update({
            "PORT": str(self.port), "HOST": "127.0.0.1",
            "DATABASE_PATH": str(self.home / "db"), "SECRETKEY_PATH": str(self.home / "secret"),
            "LOG_PATH": str(self.home / "logs"), "BLOB_STORAGE_PATH": str(self.home / "storage"),
            "DISABLE_FLOWISE_TELEMETRY": "true", "MEM0_TELEMETRY": "false",
            "JWT_AUTH_TOKEN_SECRET": "e2e-1", "JWT_REFRESH_TOKEN_SECRET": "e2e-2",
            "EXPRESS_SESSION_SECRET": "e2e-3", "TOKEN_HASH_SECRET": "e2e-4",
        })
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([str(self.flowise_dir / "node_modules" / ".bin" / "flowise"), "start"],
                                            cwd=self.flowise_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FlowiseError(f"Flowise exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base}/ping", timeout=1).text.strip() == "pong":
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise FlowiseError(f"Flowise did not answer /ping within {timeout:.0f} s:\n{self.log_tail()}")
        self._create_api_key()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _create_api_key(self) -> None:
        """Owner account -> login cookie -> API key (the steps a person does once in the UI)."""
        user = {"name": "Admin", "email": "admin@example.com", "credential": "Passw0rd!23"}
        r = requests.post(f"{self.base}/account/register", json={"user": user}, timeout=30)
        if r.status_code >= 400 and "exist" not in r.text.lower():
            raise FlowiseError(f"register failed: {r.status_code} {r.text}")
        session = requests.Session()
        r = session.post(f"{self.base}/auth/login", json={"email": user["email"], "password": user["credential"]},
                         timeout=30)
        if r.status_code != 200:
            raise FlowiseError(f"login failed: {r.status_code} {r.text}")
        permissions = [f"{what}:{verb}" for what in ("chatflows", "credentials")
                       for verb in ("view", "create", "update", "delete")]
        r = session.post(f"{self.base}/apikey", json={"keyName": "e2e", "permissions": permissions},
                         headers={"x-request-from": "internal"}, timeout=30)
        if r.status_code != 200:
            raise FlowiseError(f"API key creation failed: {r.status_code} {r.text}")
        self.api_key = next(k["apiKey"] for k in r.json() if k["keyName"] == "e2e")

    # --- REST helpers -------------------------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def get(self, path: str) -> Any:
        r = requests.get(f"{self.base}/{path}", headers=self.headers, timeout=30)
        if r.status_code != 200:
            raise FlowiseError(f"GET {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def post(self, path: str, body: Any) -> Any:
        r = requests.post(f"{self.base}/{path}", json=body, headers=self.headers, timeout=60)
        if r.status_code not in (200, 201):
            raise FlowiseError(f"POST {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def create_credential(self, name: str, credential_name: str, data: dict[str, Any]) -> str:
        return self.post("credentials", {"name": name, "credentialName": credential_name, "plainDataObj": data})["id"]

    def import_chatflow(self, name: str, flow: dict[str, Any], *, api_config: dict[str, Any] | None = None,
                        chatflow_type: str = "CHATFLOW") -> str:
        """Creates a chatflow from an exported flow (the {"nodes", "edges"} file the UI saves)."""
        body = {"name": name, "type": chatflow_type, "deployed": False, "isPublic": False,
                "flowData": json.dumps(flow)}
        if api_config is not None:
            body["apiConfig"] = json.dumps(api_config)
        return self.post("chatflows", body)["id"]

    def predict(self, chatflow_id: str, question: str, *, chat_id: str | None = None,
                override_config: dict[str, Any] | None = None, expect_ok: bool = True) -> requests.Response:
        body: dict[str, Any] = {"question": question, "streaming": False}
        if chat_id:
            body["chatId"] = chat_id
        if override_config:
            body["overrideConfig"] = override_config
        r = requests.post(f"{self.base}/prediction/{chatflow_id}", json=body, timeout=120)
        if expect_ok and r.status_code != 200:
            raise FlowiseError(f"prediction failed: {r.status_code} {r.text[:1000]}\n{self.log_tail(2000)}")
        return r


def load_workflow(name: str) -> dict[str, Any]:
    return json.loads((WORKFLOWS / name).read_text())


def bind_flow(flow: dict[str, Any], *, credentials: dict[str, str], inputs: dict[str, dict[str, Any]] | None = None
              ) -> dict[str, Any]:
    """What a user does after importing: pick a credential per node (by credential type) and adjust inputs.

    credentials maps a credential type (e.g. "mem0Api") to the id of a stored credential; inputs maps a node
    name (e.g. "chatOpenAI") to input values to set on every node of that kind."""
    flow = json.loads(json.dumps(flow))
    for node in flow["nodes"]:
        data = node["data"]
        wanted = _credential_types(data)
        for cred_type in wanted:
            if cred_type in credentials:
                data["credential"] = credentials[cred_type]
                data.setdefault("inputs", {})["credential"] = credentials[cred_type]
        for key, value in (inputs or {}).get(data["name"], {}).items():
            data.setdefault("inputs", {})[key] = value
    return flow


def _credential_types(data: dict[str, Any]) -> list[str]:
    for param in data.get("inputParams", []):
        if param.get("type") == "credential":
            return list(param.get("credentialNames", []))
    return list(data.get("credentialNames", []))
