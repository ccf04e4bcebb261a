"""The README's configuration table documents the variables the service reads: every one, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from mem0_service.config import ENV_VARS
from mem0_service.mcp.stdio import KEY_VARIABLE

REPO = Path(__file__).resolve().parents[2]


def documented_variables() -> set[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_table_names_every_variable_once_listed():
    # `mem0-service mcp` reads its client key apart from the server's settings
    expected = set(ENV_VARS) | {KEY_VARIABLE}
    documented = documented_variables()
    assert not sorted(expected - documented), "missing from the README's configuration table"
    assert not sorted(documented - expected), "in the README's table but not read by the service"
