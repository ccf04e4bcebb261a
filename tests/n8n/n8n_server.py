"""Runs a real n8n (installed by install_n8n.sh) with this repository's node package, the way users run it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

N8N_VERSION = "2.8.4"
REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "n8n-node"
INSTALL_SCRIPT = Path(__file__).with_name("install_n8n.sh")


OWNER = {"email": "owner@example.com", "password": "Passw0rd123"}


class N8nUnavailable(RuntimeError):
    """n8n or the package build is missing: the install script has not run or failed."""


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open until every one is chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cache_dir() -> Path:
    return Path(os.environ.get("MEM0_E2E_CACHE") or Path.home() / ".cache" / "mem0-e2e")


def n8n_binary() -> Path:
    """The n8n the install script put in the cache, or MEM0_E2E_N8N_BIN to test against another n8n
    (whose Node must come first on PATH)."""
    override = os.environ.get("MEM0_E2E_N8N_BIN")
    binary = Path(override) if override else cache_dir() / f"n8n-{N8N_VERSION}" / "node_modules" / ".bin" / "n8n"
    if not binary.exists():
        raise N8nUnavailable(f"n8n {N8N_VERSION} is not installed at {binary}: run bash {INSTALL_SCRIPT}")
    return binary


def pack_node_package(destination: Path) -> Path:
    """Builds the package from the working tree and packs it the way it would be published."""
    if not (PACKAGE_DIR / "node_modules" / ".bin" / "tsc").exists():
        raise N8nUnavailable(f"the n8n package's build tools are missing: run bash {INSTALL_SCRIPT}")
    subprocess.run(["npm", "run", "--silent", "build"], cwd=PACKAGE_DIR, check=True, capture_output=True, timeout=180)
    result = subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(destination)], cwd=PACKAGE_DIR,
                            check=True, capture_output=True, text=True, timeout=120)
    return destination / result.stdout.strip().splitlines()[-1]


class N8nServer:
    """One n8n instance with its own user folder and ports.

    The CLI imports write to n8n's database directly and a running n8n does not notice, so everything is
    imported before `start()`; `restart()` keeps the user folder (and what is active), as a real restart does."""

    def __init__(self, home: Path, extra_env: dict[str, str] | None = None):
        self.home = home
        self.port, self.broker_port = free_ports(2)
        self.extra_env = extra_env or {}
        self.binary = n8n_binary()
        self.process: subprocess.Popen | None = None
        self._editor: requests.Session | None = None
        self.log_path = home / "n8n.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("N8N_", "DB_", "WEBHOOK_"))}
        env.update({
            "N8N_USER_FOLDER": str(self.home),
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "WEBHOOK_URL": f"{self.url}/",
            "N8N_RUNNERS_BROKER_PORT": str(self.broker_port),
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            # the editor's auth cookie over plain http on loopback
            "N8N_SECURE_COOKIE": "false",
            **self.extra_env,
        })
        return env

    def cli(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([str(self.binary), *args], check=False, env=self.env(), capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"n8n {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def install_package(self, tarball: Path) -> None:
        """Installs the packed node package where n8n looks for community nodes."""
        nodes_dir = self.home / ".n8n" / "nodes"
        nodes_dir.mkdir(parents=True, exist_ok=True)
        (nodes_dir / "package.json").write_text('{"private": true}')
        # Without --legacy-peer-deps npm would fetch the n8n-workflow peer, which n8n already provides.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--legacy-peer-deps", str(tarball)],
                       cwd=nodes_dir, check=True, capture_output=True, timeout=300)

    def import_credentials(self, credentials: list[dict[str, Any]]) -> None:
        self._import("import:credentials", credentials)

    def import_workflows(self, workflows: list[dict[str, Any]]) -> None:
        """Imports (inactive) workflows; `activate` them once n8n runs."""
        self._import("import:workflow", workflows)

    def _import(self, command: str, items: list[dict[str, Any]]) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.home, delete=False) as handle:
            json.dump(items, handle)
        try:
            self.cli(command, f"--input={handle.name}")
        finally:
            os.unlink(handle.name)

    def start(self, timeout: float = 120) -> N8nServer:
        with open(self.log_path, "ab") as log:  # n8n keeps its own handle on the log
            started_at = log.tell()
            self.process = subprocess.Popen([str(self.binary), "start"], env=self.env(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"n8n exited with {self.process.returncode}:\n{self.log()}")
            if "Editor is now accessible" in self.log(since=started_at):
                try:
                    if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return self
                except requests.ConnectionError:
                    pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"n8n did not start within {timeout}s:\n{self.log()}")

    def editor(self) -> requests.Session:
        """A logged-in session of the owner account, created on first use as on n8n's setup screen."""
        if self._editor is None:
            session = requests.Session()
            session.headers["browser-id"] = "mem0-n8n-tests"  # n8n binds the auth cookie to this header
            response = session.post(f"{self.url}/rest/owner/setup", json={**OWNER, "firstName": "Test",
                                                                          "lastName": "Owner"}, timeout=30)
            if response.status_code != 200:  # set up before a restart: log in
                response = session.post(f"{self.url}/rest/login", json={
                    "emailOrLdapLoginId": OWNER["email"], "password": OWNER["password"]}, timeout=30)
            response.raise_for_status()
            self._editor = session
        return self._editor

    def activate(self, workflow_id: str) -> None:
        """What the editor's publish switch does (much faster than one CLI process per workflow)."""
        editor = self.editor()
        version = editor.get(f"{self.url}/rest/workflows/{workflow_id}", timeout=30)
        version.raise_for_status()
        response = editor.post(f"{self.url}/rest/workflows/{workflow_id}/activate",
                               json={"versionId": version.json()["data"]["versionId"]}, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"activating {workflow_id} failed: {response.text}\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        self._editor = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self, since: int = 0) -> str:
        """The log written since byte offset `since` (the last 8000 characters of it)."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as handle:
            handle.seek(since)
            return handle.read().decode(errors="replace")[-8000:]

    def last_execution(self, workflow_id: str) -> dict[str, Any]:
        """The run data of the workflow's latest execution, by node name, as the editor shows it."""
        editor = self.editor()
        listing = editor.get(f"{self.url}/rest/executions", timeout=30,
                             params={"filter": json.dumps({"workflowId": workflow_id}), "limit": 1})
        listing.raise_for_status()
        [latest] = listing.json()["data"]["results"]
        execution = editor.get(f"{self.url}/rest/executions/{latest['id']}", timeout=30)
        execution.raise_for_status()
        return unflatten(execution.json()["data"]["data"])["resultData"]["runData"]

    def webhook(self, path: str, body: dict[str, Any], timeout: float = 60) -> requests.Response:
        return requests.post(f"{self.url}/webhook/{path}", json=body, timeout=timeout)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def unflatten(text: str) -> Any:
    """Decodes n8n's execution data, stored in the `flatted` format: a JSON list whose first entry is the value,
    and in which every string inside an object or list is the index of the entry holding the real value."""
    table = json.loads(text)
    revived: dict[int, Any] = {}

    def entry(index: int) -> Any:
        if index in revived:
            return revived[index]
        item = table[index]
        if isinstance(item, list):
            revived[index] = out = []
            out.extend(value(v) for v in item)
            return out
        if isinstance(item, dict):
            revived[index] = out = {}
            out.update({key: value(v) for key, v in item.items()})
            return out
        return item

    def value(v: Any) -> Any:
        return entry(int(v)) if isinstance(v, str) else v

    return entry(0)
