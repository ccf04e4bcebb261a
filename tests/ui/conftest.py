"""The web console in a real browser: Debian's Chromium driven by Playwright, against a live service on each
backend. Every page records the requests it makes; a test fails if one leaves the service's origin or if the
browser reports a Content-Security-Policy violation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.api import Api
from tests.support.fixtures import BACKENDS, backend_process
from tests.support.service_process import ServiceProcess

CHROMIUM = os.environ.get("MEM0_CHROMIUM", "/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
# The README shows the embedded default; the other backend's run must look the same and is not written.
SCREENSHOT_BACKEND = "sqlite"


# Module scope: Playwright's synchronous API runs an event loop of its own while it is open, and the async suites
# collected after this one need the thread's loop free again.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run tests/ui/install_chromium.sh (make e2e-deps does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def console_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with backend_process(request.param, tmp_path_factory.mktemp(f"ui-{request.param}")) as service:
        yield service


@dataclass
class Console:
    """One browser tab on the console, with the service's API beside it for seeding and checking."""

    page: object
    service: ServiceProcess
    api: Api
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.service.url + "/ui/"

    def open(self):
        response = self.page.goto(self.url)
        assert response is not None and response.status == 200
        return response

    def sign_in(self, key: str) -> None:
        self.page.fill("#key-input", key)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_selector("#tabs", state="visible")

    def sign_out(self) -> None:
        self.page.click("#sign-out")
        self.page.wait_for_selector("#login", state="visible")

    def tab(self, name: str) -> None:
        self.page.click(f"#tabs [data-view={name}]")
        self.page.wait_for_selector(f"#view-{name}", state="visible")

    def screenshot(self, name: str) -> None:
        # The README's pictures: refreshed on request only, since every run shows other dates and ids.
        if os.environ.get("MEM0_UPDATE_SCREENSHOTS") and getattr(self.service, "backend", None) == SCREENSHOT_BACKEND:
            IMAGES.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(IMAGES / f"console-{name}.png"))


@pytest.fixture
def open_console(browser) -> Iterator[Callable[..., Console]]:
    opened: list[tuple[object, Console]] = []

    def make(service: ServiceProcess, *, locale: str = "en-US", width: int = 1280, height: int = 860) -> Console:
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        console = Console(page=context.new_page(), service=service, api=Api(service.url, service.api_key))
        # On the context: every tab the test opens is watched, not only the first
        context.on("request", lambda request: console.requests.append(request.url))
        context.on("console", lambda message: console.problems.append(message.text)
                   if "Content Security Policy" in message.text else None)
        console.page.on("pageerror", lambda error: console.problems.append(f"page error: {error}"))
        opened.append((context, console))
        return console

    yield make
    for context, console in opened:
        context.close()
        origin = console.service.url + "/"
        elsewhere = [url for url in console.requests if not url.startswith((origin, "blob:" + origin))]
        assert not elsewhere, f"requests left the service's origin: {elsewhere}"
        assert not console.problems, console.problems


@pytest.fixture
def ui(open_console, console_service: ServiceProcess) -> Console:
    console = open_console(console_service)
    console.open()
    return console
