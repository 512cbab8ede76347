"""Swagger UI in headless Chromium: authorize with a token, try GET /v1/events, see a 200."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from fluxa.auth.principal import SCOPE_EVENTS_READ

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def live_api(app) -> Iterator[str]:
    """The API over real HTTP on loopback."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_try_it_out_with_a_bearer_token(live_api, dev_issuer):
    token = dev_issuer.mint("docs-reader", scopes=(SCOPE_EVENTS_READ,))
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on("request", lambda r: r.url.startswith(live_api) or outside.append(r.url))
        page.goto(f"{live_api}/v1/docs")

        page.click("button.btn.authorize")
        page.fill(".auth-container input", token)
        page.click(".auth-btn-wrapper button.authorize")
        page.click(".auth-btn-wrapper button.btn-done")

        operation = page.locator(".opblock-get", has=page.locator('[data-path="/v1/events"]'))
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=15_000)
        assert status.inner_text().strip().startswith("200")
        browser.close()
    assert outside == []  # nothing fetched from the internet
