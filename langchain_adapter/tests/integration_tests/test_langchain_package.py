"""The package builds as it would be published, and PyPI would accept it (``twine check``).

Built offline: ``--no-isolation`` uses the build backend installed with the ``test`` extra.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from mem0_langchain import __version__

ADAPTER = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: building leaves build/ and *.egg-info next to the sources.
    source = tmp_path_factory.mktemp("source") / "mem0-langchain"
    shutil.copytree(
        ADAPTER,
        source,
        ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"),
    )
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def test_twine_accepts_the_wheel_and_the_sdist(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert [f.name for f in files] == [
        f"mem0_langchain-{__version__}-py3-none-any.whl",
        f"mem0_langchain-{__version__}.tar.gz",
    ]
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_is_typed_and_describes_itself(dist: Path) -> None:
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = set(wheel.namelist())
    assert {"mem0_langchain/py.typed", "mem0_langchain/store.py"} <= names
    assert not any(name.startswith("tests/") for name in names)
    metadata = email.message_from_bytes(
        wheel.read(f"mem0_langchain-{__version__}.dist-info/METADATA")
    )
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Framework :: AsyncIO" in classifiers
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= set(urls)
    requires = metadata.get_all("Requires-Dist") or []
    assert not any(r.startswith("requests") for r in requires)  # one HTTP stack: httpx
    assert 'langgraph>=1.0; extra == "langgraph"' in requires
    assert metadata.get_content_type() == "text/plain"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "## `Mem0Store`" in metadata.get_payload()


def test_the_sdist_carries_the_changelog(dist: Path) -> None:
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        names = sdist.getnames()
        changelog = sdist.extractfile(f"mem0_langchain-{__version__}/CHANGELOG.md")
        assert changelog is not None
        assert f"## {__version__}" in changelog.read().decode()
    assert f"mem0_langchain-{__version__}/mem0_langchain/py.typed" in names
