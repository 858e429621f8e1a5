"""Browser tests: the app on a live server, driven by Debian's Chromium
through Playwright, on the test database.

They skip only where /usr/bin/chromium is missing (a developer's machine);
CI installs it, so there they run. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ..conftest import empty_tables, make_app
from ..helpers import unavailable
from .site import Site, seed, serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_config() -> dict:
    # A real browser asks for 127.0.0.1:<port>, not the test client's host.
    return {"SERVER_NAME": None}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable("/usr/bin/chromium is missing: apt-get install chromium fonts-wqy-microhei (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # A container's /dev/shm is often tiny; Chromium then crashes its renderers.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port, in a thread."""
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def site(database_url, model_dir) -> Iterator[Site]:
    """The demo with a ticket in each state, seeded and served once for the
    module's cases (see site.py); emptied after the module."""
    app = make_app(database_url, model_dir, {"SERVER_NAME": None, "RATELIMIT_SUBMIT": "3 per minute"})
    shared = Site(app)
    session = app.extensions["tingjian"].db.Session()
    try:
        seed(session, model_dir, shared, app.config["CLASSIFIER_THRESHOLD"])
    finally:
        session.close()
    with serve(app) as base:
        shared.base = base
        yield shared
    empty_tables(app)


class Watched:
    """A page with what went wrong on it: console errors, uncaught exceptions, dialogs."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str):
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str) -> None:
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def open_page(browser, live_server):
    """open_page(phone=False) → a Watched page in a fresh browser context."""
    contexts = []

    def opener(*, phone: bool = False) -> Watched:
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2} if phone else {}
        context = browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Watched(context.new_page(), live_server)

    yield opener
    for context in contexts:
        context.close()
