"""The web console's files: served under a strict Content-Security-Policy, nothing outside the ui folder, and
absent with MEM0_UI=false."""

from __future__ import annotations

import re
from pathlib import Path

from mem0_service.api.console import UI_DIR
from mem0_service.app import create_app
from tests.inprocess.conftest import InProcessApi, backend_settings


async def test_the_page_and_its_assets_carry_the_policy(api):
    for path in ("/ui/", "/ui/app.js", "/ui/app.css"):
        async with api.client.get(path) as response:
            assert response.status == 200, path
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with api.client.get("/ui/app.js") as response:
        assert response.content_type == "text/javascript"
    async with api.client.get("/ui", allow_redirects=False) as response:
        assert response.status == 308 and response.headers["Location"] == "/ui/"


async def test_nothing_outside_the_console_folder_is_served(api):
    for path in ("/ui/..%2Fconfig.py", "/ui/%2E%2E%2Fapp.py", "/ui/missing.js", "/ui/index.html.bak", "/ui/.hidden.js"):
        status, body = await api.call("GET", path, auth=False)
        assert status == 404, path
        assert body["error"] == "Not Found"


def test_the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere():
    page = (UI_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script"
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page
    for source in [page, *(path.read_text() for path in UI_DIR.glob("*.js")), (UI_DIR / "app.css").read_text()]:
        assert not re.search(r"(?:src|href|url\()\s*=?\s*[\"']?(?:https?:)?//", source)
    assert "localStorage.setItem(KEY" not in "".join(p.read_text() for p in UI_DIR.glob("*.js"))


async def test_mem0_ui_false_turns_the_console_off(aiohttp_client, tmp_path: Path):
    with backend_settings("sqlite", tmp_path, ui=False) as settings:
        api = InProcessApi(await aiohttp_client(create_app(settings, background=False)),
                           settings.api_keys[0])
        for path in ("/ui/", "/ui/app.js", "/ui"):
            status, body = await api.call("GET", path, auth=False)
            assert status == 404 and body["error"] == "Not Found", path
        status, _ = await api.call("GET", "/api/health", auth=False)
        assert status == 200


def test_mem0_ui_is_read_from_the_environment():
    from mem0_service.config import Settings

    assert Settings.from_env({}).ui is True
    assert Settings.from_env({"MEM0_UI": "false"}).ui is False
