"""Regenerates docs/images/n8n-*.png: the Mem0 node and a workflow in the n8n editor, from the installed n8n
with this repository's package, rendered by headless Chromium.

    bash tests/n8n/install_n8n.sh
    npm install --prefix "${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}/playwright" playwright-core
    .venv/bin/python -m tests.n8n.editor_screenshots      # needs /usr/bin/chromium (Debian: apt-get install chromium)
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from tests.n8n.conftest import shipped_workflows
from tests.n8n.n8n_server import OWNER, REPO, N8nServer, cache_dir, pack_node_package
from tests.n8n.operation_workflows import credentials

IMAGES = REPO / "docs" / "images"


def main() -> None:
    workflows = {workflow["id"]: workflow for workflow in shipped_workflows()}
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        server = N8nServer(scratch_dir / "n8n")
        server.home.mkdir()
        server.install_package(pack_node_package(scratch_dir))
        # Addresses only: the editor shows the credentials' names, nothing is called.
        server.import_credentials(credentials("http://localhost:3456", "mem0-key", "http://localhost:11434/v1",
                                              "http://localhost:3456", "mem0-key"))
        server.import_workflows(list(workflows.values()))
        server.start()
        try:
            server.editor()  # the owner account the browser signs in with
            search = next(node for node in workflows["mem0Retrieve0001"]["nodes"] if node["name"] == "Search Memories")
            jobs = [
                {"path": f"/workflow/mem0Retrieve0001/{search['id']}", "node": search["name"], "clip": "ndv",
                 "output": str(IMAGES / "n8n-mem0-node.png")},
                {"path": "/workflow/mem0FactCapture1", "clip": "canvas",
                 "output": str(IMAGES / "n8n-capture-facts-workflow.png")},
            ]
            jobs_file = scratch_dir / "jobs.json"
            jobs_file.write_text(json.dumps(jobs))
            env = {**os.environ, "PLAYWRIGHT_CORE": str(cache_dir() / "playwright" / "node_modules" / "playwright-core")}
            subprocess.run(["node", str(Path(__file__).with_name("editor_screenshots.js")), server.url, OWNER["email"],
                            OWNER["password"], str(jobs_file)], check=True, env=env, timeout=300)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
