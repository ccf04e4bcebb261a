"""The components type-check as part of Flowise's packages/components: with the compiler options Flowise ships
(flowise-components' tsconfig.json) against the declarations Flowise publishes for src/Interface, src/utils and
its nodes, and the LangChain and zod its components are built with, instead of this package's own
declaration files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.flowise.flowise_server import REPO, install

pytestmark = pytest.mark.e2e

PACKAGE = REPO / "flowise-node"
OWN_DECLARATIONS = {"Interface.d.ts", "utils.d.ts"}  # stand-ins for Flowise's; the real ones are used here


def link_modules(target: Path, *sources: Path) -> None:
    """node_modules that resolves like flowise-components' own: its nested packages first, then the hoisted ones."""
    target.mkdir()
    for source in sources:
        for entry in source.iterdir():
            if entry.name.startswith("."):
                continue
            if entry.name.startswith("@"):
                scope = target / entry.name
                scope.mkdir(exist_ok=True)
                for package in entry.iterdir():
                    if not (scope / package.name).exists():
                        os.symlink(package, scope / package.name)
            elif not (target / entry.name).exists():
                os.symlink(entry, target / entry.name)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packages/components folder: Flowise's tsconfig and declarations, this package's sources."""
    flowise_modules = install() / "node_modules"
    components = flowise_modules / "flowise-components"
    root = tmp_path_factory.mktemp("packages-components")
    shutil.copy(components / "tsconfig.json", root / "tsconfig.json")
    for declaration in (components / "dist").rglob("*.d.ts"):
        destination = root / declaration.relative_to(components / "dist")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(declaration, destination)
    for part in ("nodes", "credentials", "src"):
        shutil.copytree(PACKAGE / part, root / part, dirs_exist_ok=True,
                        ignore=lambda _, names: [n for n in names if n in OWN_DECLARATIONS])
    link_modules(root / "node_modules", components / "node_modules", flowise_modules)
    return root


def test_components_type_check_against_flowise_itself(workspace):
    assert (workspace / "src" / "Interface.d.ts").read_text().startswith("import")  # Flowise's, not ours
    result = subprocess.run([str(PACKAGE / "node_modules" / ".bin" / "tsc"), "-p", str(workspace), "--noEmit"],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
