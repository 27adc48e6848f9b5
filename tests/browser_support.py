"""What the browser tests share: the service in its own process, Debian's Chromium
(/usr/bin/chromium driven by Playwright; never `playwright install`), and page helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


@dataclass
class LiveService:
    url: str
    log: Path
    token: str  # a coordinator API token (alice) for /api/coordinator

    def coordinator(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to the coordinator JSON API as alice."""
        response = httpx.request(
            method,
            f"{self.url}/api/coordinator{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kwargs,
        )
        response.raise_for_status()
        return response


def start_service(folder: Path) -> Iterator[LiveService]:
    """`triagebot` with a coordinator account (and an API token), served by uvicorn in a
    separate process."""
    env = {**os.environ, "TRIAGE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/triage.db"}
    triagebot = Path(sys.executable).with_name("triagebot")
    subprocess.run(
        [triagebot, "coordinator", "add", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = subprocess.run(
        [triagebot, "coordinator", "token", "alice", "--days", "1"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [triagebot, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield LiveService(url, log, token)
    finally:
        server.terminate()
        server.wait(timeout=20)


def launch_chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page with what it would have done wrong: dialogs (script ran), console errors."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def watch(page: Page) -> Watched:
    watched = Watched(page)

    def on_dialog(dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on(
        "console",
        lambda message: watched.errors.append(message.text) if message.type == "error" else None,
    )
    return watched


def screenshot(page: Page, name: str, full_page: bool = False) -> None:
    """Saved for people to look at (artifacts/ is git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)


def send(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()


def open_widget(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("input")).to_be_focused()


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/coordinator")
    expect(page).to_have_url(f"{url}/coordinator/sign-in?next=/coordinator")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()


def stored_conversation(page: Page, storage: str = "localStorage") -> dict[str, str] | None:
    """The widget's {id, token} as the page keeps it, or None."""
    raw = page.evaluate(
        """(storage) => {
            const store = window[storage];
            for (let i = 0; i < store.length; i += 1) {
                const key = store.key(i);
                if (key.startsWith("natalizumab-triage:") && !key.endsWith(":open")) {
                    return store.getItem(key);
                }
            }
            return null;
        }""",
        storage,
    )
    return json.loads(raw) if raw else None


class QuietHandler(SimpleHTTPRequestHandler):
    csp = ""

    def end_headers(self) -> None:
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass
