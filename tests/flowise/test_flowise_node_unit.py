"""Runs the components' own unit tests (node --test, no Flowise needed) as part of the Python suite."""

from __future__ import annotations

import subprocess

from tests.flowise.flowise_server import REPO

PACKAGE = REPO / "flowise-node"


def test_flowise_node_unit_tests_pass():
    if not (PACKAGE / "node_modules" / "typescript").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PACKAGE, check=True, capture_output=True,
                       timeout=600)
    result = subprocess.run(["npm", "test"], check=False, cwd=PACKAGE, capture_output=True, text=True, timeout=600)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# pass", "# fail", "not ok"))]
    assert result.returncode == 0, "\n".join(summary) + "\n" + result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in summary
