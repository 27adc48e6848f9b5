"""The patient widget and the coordinator dashboard in a real headless Chromium (Debian's
/usr/bin/chromium driven by Playwright) against the service running in its own process."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """`triagebot` with a coordinator account, served by uvicorn in a separate process."""
    folder = tmp_path_factory.mktemp("browser")
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
        yield LiveService(url, log)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
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


def test_emergency_to_coordinator_reply_and_back(service: LiveService, browser: Browser):
    """The acceptance path: hives at the infusion -> emergency banner -> critical alert at
    the top of the queue -> acknowledged, replied -> the reply in the patient's widget;
    a reload keeps the conversation; HTML sent as a message is only ever text."""
    desk_context = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = watch(desk_context.new_page())
    sign_in(desk.page, service.url)  # already watching the queue when the alert comes in
    older = httpx.post(f"{service.url}/api/conversations", json={}).json()
    httpx.post(
        f"{service.url}/api/conversations/{older['id']}/messages",
        json={"text": "my eyes look kind of yellow"},
        headers={"Authorization": f"Bearer {older['token']}"},
        timeout=10,
    ).raise_for_status()  # an older, urgent alert: the emergency must still come first

    patient_context = browser.new_context(viewport={"width": 1280, "height": 800})
    patient = watch(patient_context.new_page())
    page = patient.page
    open_widget(page, service.url)
    send(page, "I'm at my infusion and have hives everywhere")
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Call your local emergency number now")
    expect(page.locator(".msg-emergency").first).to_contain_text("infusion nurse")
    send(page, XSS)
    expect(page.locator(".msg-patient").last).to_have_text(XSS)
    screenshot(page, "widget-desktop-emergency")

    first_row = desk.page.locator("[data-testid=alert-queue] tbody tr").first
    expect(first_row).to_have_class("sev-critical status-open", timeout=10_000)  # live refresh
    expect(first_row).to_contain_text("infusion_reaction")
    expect(desk.page.locator("[data-testid=alert-queue] tbody tr")).to_have_count(2)
    expect(desk.page.locator("[data-testid=alert-queue] tbody tr").nth(1)).to_contain_text("liver")
    screenshot(desk.page, "dashboard-queue", full_page=True)
    first_row.get_by_role("link", name="Open transcript").click()
    transcript = desk.page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("I'm at my infusion and have hives everywhere")
    expect(transcript).to_contain_text(XSS)  # shown as text ...
    expect(transcript.locator("img")).to_have_count(0)  # ... never as an element
    expect(transcript).to_contain_text("hives (allergic_reaction)")
    desk.page.get_by_role("button", name="Acknowledge").click()
    expect(desk.page.get_by_test_id("alert-status").first).to_have_text("acknowledged")
    desk.page.get_by_label("Message (shown in the patient's chat").fill(
        "This is Sam from the infusion suite: we are coming to you now."
    )
    desk.page.get_by_role("button", name="Send reply").click()
    expect(transcript).to_contain_text("we are coming to you now")
    screenshot(desk.page, "dashboard-transcript", full_page=True)

    reply = page.locator(".msg-coordinator").last
    expect(reply).to_contain_text("we are coming to you now", timeout=15_000)
    send(page, "ok thank you, the nurse is with me")
    notice = desk.page.get_by_test_id("new-activity")
    expect(notice).to_be_visible(timeout=15_000)  # the open transcript notices the answer
    notice.get_by_role("link", name="Reload").click()
    expect(transcript).to_contain_text("the nurse is with me")

    page.reload()
    if not page.get_by_test_id("input").is_visible():
        page.get_by_test_id("launcher").click()
    expect(page.locator(".msg-patient").first).to_have_text(
        "I'm at my infusion and have hives everywhere"
    )
    expect(page.locator(".msg-patient").nth(1)).to_have_text(XSS)
    expect(page.locator(".msg-coordinator").last).to_contain_text("we are coming to you now")
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    expect(page.get_by_test_id("log").locator("img")).to_have_count(0)

    desk.page.goto(service.url + "/coordinator/conversations?q=hives+everywhere")
    expect(desk.page.get_by_test_id("conversation-list")).to_contain_text("emergency")
    desk.page.goto(service.url + "/coordinator/audit")
    expect(desk.page.get_by_test_id("audit-log")).to_contain_text("view_transcript")
    expect(desk.page.get_by_test_id("audit-log")).to_contain_text("reply")

    log = service.log.read_text()
    assert "GET /coordinator/conversations?" in log  # the access log is on ...
    assert "everywhere" not in log and "yellow" not in log  # ... without patient text
    assert patient.dialogs == [] and desk.dialogs == []
    assert patient.errors == [] and desk.errors == [], (patient.errors, desk.errors)
    patient_context.close()
    desk_context.close()


def test_widget_on_a_phone_and_with_the_keyboard_only(service: LiveService, browser: Browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    watched = watch(context.new_page())
    page = watched.page
    page.goto(service.url + "/")
    launcher = page.get_by_test_id("launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    field = page.get_by_test_id("input")
    expect(field).to_be_focused()
    page.keyboard.type("I've got hives all over")
    page.keyboard.press("Enter")
    quick_reply = page.get_by_role("button", name="Yes, it's running now")
    expect(quick_reply).to_be_visible()
    box = page.locator("#natalizumab-triage-widget [role=dialog]").bounding_box()
    assert box is not None and box["width"] >= 380  # the panel fills a phone's width
    screenshot(page, "widget-phone")
    quick_reply.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".msg-patient").last).to_have_text("Yes, it's running now")
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()
    assert watched.dialogs == [] and watched.errors == []
    context.close()


def test_widget_embedded_on_another_origin(service: LiveService, browser: Browser, tmp_path: Path):
    """A clinic's own site on another origin (a plain static server with a strict
    Content-Security-Policy: no inline styles): the one script tag from our host, the API
    through CORS, the widget styled."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>Clinic</title><link rel='icon' href='data:,'>"
        "</head><body><h1>Clinic</h1>"
        f'<script src="{service.url}/widget.js" defer data-title="Ask the nurses" '
        'data-color="#6b3fa0"></script></body></html>',
        encoding="utf-8",
    )
    QuietHandler.csp = (
        f"default-src 'self'; script-src {service.url}; connect-src {service.url}; "
        "style-src 'self'; img-src 'self' data:"
    )
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    clinic = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=clinic.serve_forever, daemon=True).start()
    context = browser.new_context()
    watched = watch(context.new_page())
    page = watched.page
    try:
        page.goto(f"http://127.0.0.1:{clinic.server_address[1]}/")
        launcher = page.get_by_test_id("launcher")
        assert launcher.evaluate("node => getComputedStyle(node).position") == "fixed"
        launcher.click()
        expect(page.get_by_role("dialog", name="Ask the nurses")).to_be_visible()
        send(page, "my eyes look kind of yellow")
        expect(page.locator(".msg-bot").last).to_be_visible()
        expect(page.get_by_test_id("log")).to_contain_text("natalizumab")
        assert watched.errors == []
    finally:
        context.close()
        clinic.shutdown()
        clinic.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    csp = ""

    def end_headers(self) -> None:
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass


def test_dashboard_refuses_a_browser_that_is_not_signed_in(service: LiveService, browser: Browser):
    context = browser.new_context()
    page = context.new_page()
    for path in ("/coordinator", "/coordinator/conversations", "/coordinator/audit"):
        page.goto(service.url + path)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    response = page.request.get(service.url + "/api/coordinator/alerts")
    assert response.status == 401
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("sign-in-error")).to_have_text("Wrong username or password.")
    context.close()
