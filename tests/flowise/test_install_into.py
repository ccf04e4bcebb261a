"""`npm run install-into` / `uninstall-from` against a real Flowise (a private copy of the installed one):
installing twice leaves what installing once does, uninstalling leaves Flowise as it was, and Flowise starts
and lists (or no longer lists) the components each time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.flowise.flowise_copy import components_dist, folders, pristine_copy, snapshot
from tests.flowise.flowise_server import REPO, FlowiseServer, install

pytestmark = pytest.mark.e2e

PACKAGE = REPO / "flowise-node"
COMPONENTS = {"mem0Memory", "mem0Search", "mem0Save"}
INSTALLED_FILES = {
    "nodes/memory/Mem0Memory/Mem0Memory.js", "nodes/memory/Mem0Memory/mem0.svg",
    "nodes/tools/Mem0Search/Mem0Search.js", "nodes/tools/Mem0Search/mem0.svg",
    "nodes/tools/Mem0Save/Mem0Save.js", "nodes/tools/Mem0Save/mem0.svg",
    "credentials/Mem0Api.credential.js",
    "src/mem0Service/client.js", "src/mem0Service/credentials.js", "src/mem0Service/mapping.js",
    "src/mem0Service/options.js",
    "mem0-components.json",
}


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["npm", "run", "--silent", *args], cwd=PACKAGE, capture_output=True, text=True,
                          timeout=600, check=False)


def listed(flowise_dir: Path, home: Path) -> tuple[set[str], set[str]]:
    """Starts Flowise from `flowise_dir`; the names of the nodes and credentials it offers."""
    server = FlowiseServer(flowise_dir, home).start()
    try:
        return ({n["name"] for n in server.get("nodes")}, {c["name"] for c in server.get("components-credentials")})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def flowise_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pristine_copy(install(), tmp_path_factory.mktemp("flowise-copy"))


def test_install_twice_is_install_once_and_uninstall_restores_flowise(flowise_dir, tmp_path):
    dist = components_dist(flowise_dir)
    before, folders_before = snapshot(dist), folders(dist)

    first = run_script("install-into", "--", str(flowise_dir))
    assert first.returncode == 0, first.stdout + first.stderr
    once = snapshot(dist)
    assert set(once) - set(before) == INSTALLED_FILES
    assert {path: once[path] for path in before} == before  # none of Flowise's files touched

    second = run_script("install-into", "--", str(flowise_dir))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "reinstalled 11 files" in second.stdout
    assert snapshot(dist) == once

    nodes, credentials = listed(flowise_dir, tmp_path / "installed")
    assert nodes >= COMPONENTS and "mem0Api" in credentials

    removed = run_script("uninstall-from", "--", str(flowise_dir))
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert snapshot(dist) == before
    assert folders(dist) == folders_before

    nodes, credentials = listed(flowise_dir, tmp_path / "uninstalled")
    assert not COMPONENTS & nodes and "mem0Api" not in credentials
    assert {"bufferMemory", "mem0", "conversationChain"} <= nodes  # Flowise's own, including its Mem0 node


def test_install_refuses_to_overwrite_a_file_it_did_not_install(flowise_dir):
    dist = components_dist(flowise_dir)
    foreign = dist / "src" / "mem0Service" / "client.js"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("// not ours\n")
    try:
        result = run_script("install-into", "--", str(flowise_dir))
        assert result.returncode == 1
        assert "src/mem0Service/client.js" in result.stderr and "not installed by this script" in result.stderr
        assert foreign.read_text() == "// not ours\n"
        assert not (dist / "nodes" / "memory" / "Mem0Memory").exists()
    finally:
        foreign.unlink()
        foreign.parent.rmdir()
