"""The web console: static files from the package's ui/ folder, under a Content-Security-Policy that lets the
page talk to nothing but this service. The files hold no data; everything they show comes from the API with the
key the user types in."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from mem0_service.errors import NotFound

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
# Flat names only (app.js, i18n.js, app.css): no path can step outside UI_DIR.
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg)$")
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",  # a new release's files replace the old ones at once
}


def _file(path: Path) -> web.Response:
    return web.Response(body=path.read_bytes(), content_type=CONTENT_TYPES[path.suffix], charset="utf-8",
                        headers=SECURITY_HEADERS)


async def console_page(request: web.Request) -> web.Response:
    return _file(UI_DIR / "index.html")


async def console_redirect(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect("/ui/")


async def console_asset(request: web.Request) -> web.Response:
    name = request.match_info["asset"]
    path = UI_DIR / name
    if not ASSET_NAME.match(name) or not path.is_file():
        raise NotFound(f"No console file {name}")
    return _file(path)
