"""A private copy of the installed Flowise that a test may change: the two packages the components touch
(flowise, whose start-up looks for flowise-components beside itself, and flowise-components) are real copies
(about 25 MB), every other package is a symlink into the shared install."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

COPIED_PACKAGES = ("flowise", "flowise-components")

# Where the components go inside flowise-components/dist, and what releases before the install list wrote.
COMPONENT_PATHS = ("nodes/memory/Mem0Memory", "nodes/tools/Mem0Search", "nodes/tools/Mem0Save",
                   "credentials/Mem0Api.credential.js", "src/mem0Service", "mem0client", "mem0-components.json")


def _copy_package(source: Path, destination: Path, skip_in_dist: tuple[str, ...] = ()) -> None:
    destination.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name == "node_modules":
            os.symlink(entry, destination / entry.name)
        elif entry.is_dir():
            shutil.copytree(entry, destination / entry.name, symlinks=True,
                            ignore=_skip(entry, skip_in_dist) if entry.name == "dist" else None)
        else:
            shutil.copy2(entry, destination / entry.name)


def _skip(dist: Path, relative: tuple[str, ...]):
    skipped = {dist / r for r in relative}

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if Path(directory) / n in skipped}

    return ignore


def pristine_copy(flowise_dir: Path, destination: Path) -> Path:
    """A Flowise folder like `flowise_dir` but without this repository's components in it."""
    modules = destination / "node_modules"
    modules.mkdir(parents=True)
    shared = flowise_dir / "node_modules"
    for entry in shared.iterdir():
        if entry.name in COPIED_PACKAGES or entry.name == ".bin":
            continue
        os.symlink(entry, modules / entry.name)
    _copy_package(shared / "flowise", modules / "flowise")
    _copy_package(shared / "flowise-components", modules / "flowise-components", COMPONENT_PATHS)
    (modules / ".bin").mkdir()
    os.symlink("../flowise/bin/run", modules / ".bin" / "flowise")
    (destination / "package.json").write_text('{"private": true}\n')
    return destination


def components_dist(flowise_dir: Path) -> Path:
    return flowise_dir / "node_modules" / "flowise-components" / "dist"


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` (relative path) with the SHA-256 of its content."""
    return {str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def folders(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_dir()}
