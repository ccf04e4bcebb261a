"""Every shipped workflow file names node types, versions and credential types the installed n8n (and this
repository's package) really has, so an n8n upgrade that drops one fails here instead of at a user's import."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.n8n.conftest import SHIPPED_WORKFLOWS, shipped_workflows
from tests.n8n.n8n_server import PACKAGE_DIR, N8nUnavailable, n8n_binary

PACKAGE_PREFIX = "n8n-nodes-mem0-service."


def _installed_package(name: str) -> Path:
    """Where n8n resolves one of its node packages from (nested in n8n's folder or beside it)."""
    try:
        n8n_dir = n8n_binary().resolve().parents[1]
    except N8nUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    for candidate in (n8n_dir / "node_modules" / name, n8n_dir.parent / name):
        if candidate.is_dir():
            return candidate
    pytest.fail(f"{name} is not installed beside n8n in {n8n_dir}", pytrace=False)


@pytest.fixture(scope="module")
def node_versions() -> dict[str, set[float]]:
    """Node type -> versions, from the installed n8n's own node catalogues and the built package."""
    versions: dict[str, set[float]] = {}
    for package in ("n8n-nodes-base", "@n8n/n8n-nodes-langchain"):
        for node in json.loads((_installed_package(package) / "dist" / "types" / "nodes.json").read_text()):
            declared = node["version"] if isinstance(node["version"], list) else [node["version"]]
            versions.setdefault(f"{package}.{node['name'].split('.')[-1]}", set()).update(declared)
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())["n8n"]["nodes"]
    script = ("for (const file of process.argv.slice(1)) { const mod = require(file);"
              " for (const key in mod) { const d = new mod[key]().description;"
              " console.log(JSON.stringify({ name: d.name, version: d.version, tool: !!d.usableAsTool })); } }")
    built = subprocess.run(["node", "-e", script, *[str(PACKAGE_DIR / path) for path in manifest]],
                           cwd=PACKAGE_DIR, check=True, capture_output=True, text=True, timeout=60)
    for line in built.stdout.splitlines():
        node = json.loads(line)
        declared = node["version"] if isinstance(node["version"], list) else [node["version"]]
        versions.setdefault(PACKAGE_PREFIX + node["name"], set()).update(declared)
        if node["tool"]:  # n8n derives "<name>Tool", the node as an AI Agent tool, from usableAsTool
            versions.setdefault(PACKAGE_PREFIX + node["name"] + "Tool", set()).update(declared)
    return versions


@pytest.fixture(scope="module")
def credential_types() -> set[str]:
    names = {c["name"] for package in ("n8n-nodes-base", "@n8n/n8n-nodes-langchain")
             for c in json.loads((_installed_package(package) / "dist" / "types" / "credentials.json").read_text())}
    return names | {"mem0ServiceApi"}


def test_the_guide_examples_are_all_shipped():
    assert {path.stem for path in SHIPPED_WORKFLOWS.glob("*.json")} >= {
        "save-user-preference", "save-user-preference-http", "retrieve-memories", "personalized-reply",
        "capture-facts-from-message", "chat-agent-with-memory", "cleanup-old-memories"}


@pytest.mark.parametrize("workflow", shipped_workflows(), ids=lambda workflow: workflow["id"])
def test_workflow_uses_node_types_and_versions_of_the_installed_n8n(workflow, node_versions, credential_types):
    names = [node["name"] for node in workflow["nodes"]]
    assert len(names) == len(set(names)), "node names must be unique"
    for node in workflow["nodes"]:
        assert node["type"] in node_versions, f"{node['name']}: unknown node type {node['type']}"
        assert node["typeVersion"] in node_versions[node["type"]], (
            f"{node['name']}: {node['type']} has no version {node['typeVersion']} "
            f"(installed: {sorted(node_versions[node['type']])})")
        for credential_type in node.get("credentials", {}):
            assert credential_type in credential_types, f"{node['name']}: unknown credential type {credential_type}"
    for source, outputs in workflow["connections"].items():
        assert source in names, f"connection from a missing node {source}"
        for branches in outputs.values():
            for branch in branches:
                for target in branch:
                    assert target["node"] in names, f"{source} connects to a missing node {target['node']}"
