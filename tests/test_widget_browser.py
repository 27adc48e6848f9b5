"""The patient widget's reading and safety details in a real headless Chromium (Debian's
/usr/bin/chromium driven by Playwright) against the service running in its own process:
the first line of an emergency in view on a phone (portrait and landscape) and a desktop,
over-long messages refused without losing a word, the banner following the conversation's
level, care-team replies in the page title, times, starting afresh, shared computers, one
message order in every tab, and sources."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser_support import (
    LiveService,
    open_widget,
    screenshot,
    send,
    stored_conversation,
    watch,
)

VIEWS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "landscape": {"viewport": {"width": 844, "height": 390}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
CLOSE_CHAT = "Close chat"
MESSAGES_API = re.compile(r"/api/conversations/[^/?]+/messages(\?.*)?$")
RUNNING_NOW = "Yes, it's running now"
EMERGENCY_FIRST_LINE = re.compile(
    r"^(Call your local emergency number now|Tell the infusion nurse right now)"
)
ANAPHYLAXIS = "my throat is closing and I can't breathe"
# Hidden pages cannot be made in headless Chromium: the page's visibility is switched here.
VISIBILITY_SWITCH = """
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true, get() { return window.__hidden ? "hidden" : "visible"; },
});
Object.defineProperty(Document.prototype, "hidden", {
    configurable: true, get() { return window.__hidden; },
});
"""


def new_page(
    browser: Browser, view: str = "desktop", **options: Any
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(**VIEWS[view], **options)
    return context, context.new_page()


def reopen_after_reload(page: Page) -> None:
    page.reload()
    if not page.get_by_test_id("input").is_visible():
        page.get_by_test_id("launcher").click()


def history(service: LiveService, conversation: dict[str, str]) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{service.url}/api/conversations/{conversation['id']}/messages",
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["messages"]


def rows(page: Page) -> list[list[Any]]:
    """[seq, bubble text] of every message row, top to bottom."""
    return page.locator(".msg-row").evaluate_all(
        "rows => rows.map(r => [Number(r.getAttribute('data-seq')),"
        " r.querySelector('.msg').textContent])"
    )


def ask_about_pml(page: Page) -> dict[str, Any]:
    """An information question (no alert); returns the stored conversation id and token."""
    send(page, "what is PML?")
    expect(page.locator(".msg-bot")).to_have_count(3)
    conversation = stored_conversation(page)
    assert conversation
    return conversation


def emergency_turn(page: Page, text: str) -> None:
    """Sends `text`; answers the infusion-timing question with "running now" if it is asked."""
    send(page, text)
    banner = page.get_by_test_id("emergency-banner")
    timing = page.get_by_role("button", name=RUNNING_NOW)
    expect(banner.or_(timing).first).to_be_visible()
    if timing.is_visible():
        timing.click()
    expect(banner).to_be_visible()
    expect(page.locator(".msg-emergency").first).to_have_text(EMERGENCY_FIRST_LINE)
    expect(page.get_by_test_id("send")).to_be_enabled()  # the turn is over


# ---------------------------------------------------------------------- 4: emergency in view


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("anaphylaxis", ANAPHYLAXIS),
        ("infusion", "I'm at my infusion and I'm covered in itchy bumps"),
    ],
)
def test_the_first_line_of_an_emergency_is_in_view_without_scrolling(
    service: LiveService, browser: Browser, view: str, case: str, text: str
):
    context, page = new_page(browser, view)
    watched = watch(page)
    open_widget(page, service.url)
    emergency_turn(page, text)

    log = page.get_by_test_id("log").bounding_box()
    banner = page.get_by_test_id("emergency-banner").bounding_box()
    line = page.locator(".msg-emergency").first.bounding_box()
    size = page.viewport_size
    assert log and banner and line and size
    screenshot(page, f"widget-emergency-{case}-{view}")
    # Inside the log's visible part: not scrolled away above it, nor below.
    assert line["y"] >= log["y"] - 0.5, (line, log)
    assert line["y"] + line["height"] <= log["y"] + log["height"] + 0.5, (line, log)
    assert line["y"] >= banner["y"] + banner["height"] - 0.5, (line, banner)  # not under it
    assert log["y"] >= 0 and log["y"] + log["height"] <= size["height"] + 0.5, (log, size)
    assert log["height"] >= 150, log  # room to read, in landscape too
    assert watched.errors == [] and watched.dialogs == []
    context.close()


# ---------------------------------------------------------------------- 9: long messages

LONG_END = "...my lips are swelling and I can't breathe"
DIARY = (
    "I have been keeping a diary of how I feel after each infusion so that I can tell the "
    "nurse everything at my next visit. "
)
LONG = (DIARY * 60)[: 5200 - len(LONG_END)] + LONG_END


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_message_over_the_limit_is_refused_and_kept_in_full(
    service: LiveService, browser: Browser, view: str
):
    assert len(LONG) == 5200
    context, page = new_page(browser, view)
    watched = watch(page)
    open_widget(page, service.url)
    field = page.get_by_test_id("input")
    field.fill(LONG)  # a paste
    expect(field).to_have_value(LONG)  # nothing cut off
    counter = page.get_by_test_id("counter")
    expect(counter).to_have_text("5,200 of 5,000 characters: 200 too many")
    page.get_by_test_id("send").click()
    error = page.locator(".error")
    expect(error).to_have_text(re.compile(r"^Not sent: your message is 5,200 characters"))
    expect(error).to_contain_text("your text is still in the box")
    expect(field).to_have_value(LONG)
    expect(page.locator(".msg-patient")).to_have_count(0)
    screenshot(page, f"widget-too-long-{view}")

    shorter = LONG[400:].lstrip()  # the patient cuts the start: the ending is what matters
    field.fill(shorter)
    expect(counter).to_have_text(f"{len(shorter):,} of 5,000 characters")
    expect(error).to_have_count(0)
    page.get_by_test_id("send").click()
    expect(page.locator(".msg-patient")).to_have_text(shorter)
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    expect(page.locator(".msg-emergency").first).to_have_text(EMERGENCY_FIRST_LINE)
    field.fill("a few words")
    expect(counter).to_be_hidden()  # only near the limit
    assert watched.errors == [] and watched.dialogs == []
    context.close()


@pytest.mark.parametrize(
    ("status", "detail", "shown"),
    [
        (
            413,
            "message is 5001 characters; the limit is 5000",
            "Message is 5001 characters; the limit is 5000. "
            "Your message was not sent; it is still in the box.",
        ),
        (
            400,
            "the request body is not valid UTF-8",
            "The request body is not valid UTF-8. "
            "Your message was not sent; it is still in the box.",
        ),
    ],
)
def test_a_refusal_from_the_server_is_shown_and_the_text_kept(
    service: LiveService, browser: Browser, status: int, detail: str, shown: str
):
    context, page = new_page(browser, "phone")
    watched = watch(page)
    open_widget(page, service.url)
    expect(page.locator(".msg-bot")).to_have_count(1)  # the conversation exists

    def refuse(route: Route) -> None:
        if route.request.method == "POST":
            route.fulfill(status=status, json={"detail": detail})
        else:
            route.continue_()

    page.route(MESSAGES_API, refuse)
    text = "my legs feel weaker than last week"
    send(page, text)
    expect(page.locator(".error")).to_have_text(shown)
    expect(page.get_by_test_id("input")).to_have_value(text)
    expect(page.locator(".msg-patient")).to_have_count(0)
    # The console reports the refused request itself; nothing else may go wrong.
    assert [e for e in watched.errors if "Failed to load resource" not in e] == []
    context.close()


# ---------------------------------------------------------------------- 10: banner follows level


def test_the_banner_follows_the_conversation_level(service: LiveService, browser: Browser):
    """The server's "alert resolved" message (simulated here on the widget API's answers,
    for polls and for the history after a reload) takes the banner away."""
    context, page = new_page(browser, "phone")
    watched = watch(page)
    open_widget(page, service.url)
    emergency_turn(page, ANAPHYLAXIS)
    conversation = stored_conversation(page)
    assert conversation
    resolution = {
        "seq": history(service, conversation)[-1]["seq"] + 1,
        "role": "bot",
        "text": "Your care team has checked on you and closed the emergency alert.",
        "created_at": datetime.now(UTC).isoformat(),
        "custom": {"conversation": {"level": "none", "alert": "resolved"}},
    }

    def resolved(route: Route) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        data = response.json()
        after = int(parse_qs(urlparse(route.request.url).query).get("after", ["0"])[0])
        if resolution["seq"] > after:
            data["messages"].append(resolution)
        route.fulfill(response=response, json=data)

    page.route(MESSAGES_API, resolved)
    expect(page.get_by_test_id("log")).to_contain_text(resolution["text"], timeout=10_000)
    expect(page.get_by_test_id("emergency-banner")).to_have_count(0)
    screenshot(page, "widget-banner-resolved-phone")

    reopen_after_reload(page)  # derived from the history's latest level
    expect(page.get_by_test_id("log")).to_contain_text(resolution["text"])
    expect(page.locator(".msg-emergency").first).to_have_text(EMERGENCY_FIRST_LINE)
    expect(page.get_by_test_id("emergency-banner")).to_have_count(0)
    assert watched.errors == [] and watched.dialogs == []
    context.close()


def test_a_coordinator_resolving_the_alert_takes_the_banner_away(
    service: LiveService, browser: Browser
):
    """End to end: the coordinator resolves the critical alert through the JSON API; the
    server tells the widget (a bot message with custom.conversation.level)."""
    context, page = new_page(browser, "desktop")
    watched = watch(page)
    open_widget(page, service.url)
    emergency_turn(page, ANAPHYLAXIS)
    conversation = stored_conversation(page)
    assert conversation
    alerts = service.coordinator("GET", "/alerts").json()["alerts"]
    alert = next(a for a in alerts if a["conversation_id"] == conversation["id"])
    service.coordinator(
        "POST", f"/alerts/{alert['id']}/resolve", json={"note": "Called back: she is fine."}
    )
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_have_count(0, timeout=15_000)
    screenshot(page, "widget-banner-resolved-desktop")

    reopen_after_reload(page)
    expect(page.locator(".msg-emergency").first).to_have_text(EMERGENCY_FIRST_LINE)
    expect(banner).to_have_count(0)

    emergency_turn(page, ANAPHYLAXIS)  # a new emergency brings it back
    assert watched.errors == [] and watched.dialogs == []
    context.close()


# ---------------------------------------------------------------------- 11: page title


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_care_team_reply_shows_in_the_page_title(
    service: LiveService, browser: Browser, view: str
):
    context, page = new_page(browser, view)
    context.add_init_script(VISIBILITY_SWITCH)
    watched = watch(page)
    open_widget(page, service.url)
    conversation = ask_about_pml(page)
    title = page.title()
    launcher = page.get_by_test_id("launcher")

    def reply(text: str) -> None:
        service.coordinator(
            "POST", f"/conversations/{conversation['id']}/reply", json={"text": text}
        )

    # The panel is closed: with its close button (on a phone it covers the launcher).
    page.get_by_role("button", name=CLOSE_CHAT).click()
    expect(page.get_by_test_id("input")).to_be_hidden()
    reply("Hello, this is Sam from the MS team.")
    expect(page).to_have_title(f"(1) {title}", timeout=10_000)
    expect(launcher).to_have_accessible_name("Open symptom chat (new message)")
    reply("Call us on 0100 000 0000 if you want to talk it through.")
    expect(page).to_have_title(f"(2) {title}", timeout=10_000)
    screenshot(page, f"widget-title-unread-{view}")
    launcher.click()
    expect(page).to_have_title(title)
    expect(page.locator(".msg-coordinator")).to_have_count(2)
    if launcher.is_visible():  # (on a phone the open panel covers it)
        # It shows the close icon, so it says what a press does now (issue 12, item 6).
        expect(launcher).to_have_accessible_name("Close symptom chat")

    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    reply("Are you still there?")  # the panel is open, the page hidden (another tab)
    expect(page).to_have_title(f"(1) {title}", timeout=25_000)
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    expect(page).to_have_title(title)
    expect(page.locator(".msg-coordinator")).to_have_count(3)
    assert watched.errors == [] and watched.dialogs == []
    context.close()


# ---------------------------------------------------------------------- 12: widget basics


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_message_shows_its_time_in_local_time(
    service: LiveService, browser: Browser, view: str
):
    zone = "Asia/Kathmandu"  # UTC+05:45: a wrong conversion shows in the minutes
    context, page = new_page(browser, view, timezone_id=zone, locale="en-GB")
    watched = watch(page)
    open_widget(page, service.url)
    conversation = ask_about_pml(page)
    messages = history(service, conversation)
    assert len(messages) == 4
    expect(page.locator(".msg-row time")).to_have_count(len(messages))
    for message in messages:
        at = datetime.fromisoformat(message["created_at"])
        time = page.locator(f'.msg-row[data-seq="{message["seq"]}"] time')
        expect(time).to_have_text(at.astimezone(ZoneInfo(zone)).strftime("%H:%M"))
        utc = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        expect(time).to_have_attribute("datetime", utc)
        expect(time).to_have_attribute("title", re.compile(str(at.year)))
    screenshot(page, f"widget-times-{view}")
    assert watched.errors == [] and watched.dialogs == []
    context.close()


@pytest.mark.parametrize("view", list(VIEWS))
def test_start_a_new_conversation_after_a_confirm_step(
    service: LiveService, browser: Browser, view: str
):
    context, page = new_page(browser, view)
    watched = watch(page)
    open_widget(page, service.url)
    old = ask_about_pml(page)

    start_new = page.get_by_role("button", name="Start a new conversation", exact=True)
    confirm = page.get_by_test_id("confirm-new")
    start_new.click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("This chat will be cleared from this device")
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_focused()  # the safe choice
    screenshot(page, f"widget-new-conversation-confirm-{view}")
    cancel.click()
    expect(confirm).to_be_hidden()
    expect(start_new).to_be_focused()
    start_new.click()
    page.keyboard.press("Escape")  # Escape cancels the confirm step, not the whole chat
    expect(confirm).to_be_hidden()
    expect(page.get_by_test_id("input")).to_be_visible()
    expect(page.locator(".msg-patient")).to_have_text("what is PML?")
    assert stored_conversation(page) == old

    start_new.click()
    page.get_by_role("button", name="Start new conversation", exact=True).click()
    expect(page.locator(".msg-patient")).to_have_count(0)
    expect(page.locator(".msg-bot")).to_have_count(1)  # the disclaimer of the new one
    expect(page.get_by_test_id("input")).to_be_focused()
    fresh = stored_conversation(page)
    assert fresh and fresh["id"] != old["id"] and fresh["token"] != old["token"]
    storage = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert old["token"] not in storage and old["id"] not in storage

    reopen_after_reload(page)
    expect(page.locator(".msg-bot")).to_have_count(1)
    expect(page.locator(".msg-patient")).to_have_count(0)
    assert watched.errors == [] and watched.dialogs == []
    context.close()


KIOSK = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Waiting room</title>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<link rel='icon' href='data:,'></head><body><h1>Waiting room kiosk</h1>"
    "<script src='/widget.js' defer data-storage='session'></script></body></html>"
)


def test_a_shared_computer_keeps_the_conversation_for_the_tab_only(
    service: LiveService, browser: Browser
):
    context, page = new_page(browser, "desktop")
    context.route(
        f"{service.url}/kiosk",
        lambda route: route.fulfill(status=200, content_type="text/html", body=KIOSK),
    )
    watched = watch(page)
    page.goto(f"{service.url}/kiosk")
    page.get_by_test_id("launcher").click()
    send(page, "what is PML?")
    expect(page.locator(".msg-bot")).to_have_count(3)
    assert stored_conversation(page, "sessionStorage")
    assert stored_conversation(page, "localStorage") is None

    reopen_after_reload(page)  # the same tab resumes it
    expect(page.locator(".msg-patient")).to_have_text("what is PML?")

    other = watch(context.new_page())  # the next person at the computer, in a new tab
    other.page.goto(f"{service.url}/kiosk")
    other.page.get_by_test_id("launcher").click()
    expect(other.page.locator(".msg-bot")).to_have_count(1)
    expect(other.page.locator(".msg-patient")).to_have_count(0)
    assert stored_conversation(other.page, "localStorage") is None
    assert watched.errors == [] and other.errors == []
    context.close()


def test_two_tabs_show_one_order(service: LiveService, browser: Browser):
    """Two tabs on one conversation; the second does not hear of the first's turn until
    after its own (its polls come back empty, as on a slow network)."""
    context, first = new_page(browser, "desktop")
    second = context.new_page()  # the same storage: the same conversation
    watched = [watch(first), watch(second)]
    open_widget(first, service.url)
    send(first, "what is PML?")
    expect(first.locator(".msg-bot")).to_have_count(3)
    open_widget(second, service.url)
    expect(second.locator(".msg-patient")).to_have_text(["what is PML?"])

    held = {"on": True}

    def slow_network(route: Route) -> None:
        if route.request.method == "GET" and held["on"]:
            route.fulfill(json={"messages": []})
        else:
            route.continue_()

    second.route(MESSAGES_API, slow_network)
    send(first, "I have a mild headache")
    expect(first.locator(".msg-patient")).to_have_count(2)
    expect(first.get_by_test_id("send")).to_be_enabled()
    send(second, "what does the JC virus test show?")
    expect(second.locator(".msg-patient")).to_have_count(2)
    expect(second.get_by_test_id("send")).to_be_enabled()
    held["on"] = False

    for page in (first, second):
        expect(page.locator(".msg-patient")).to_have_count(3, timeout=10_000)
    expect(first.locator(".msg-row")).to_have_count(len(rows(second)), timeout=10_000)
    one, two = rows(first), rows(second)
    assert one == two
    seqs = [seq for seq, _ in one]
    assert seqs == sorted(set(seqs)), seqs  # in seq order, none twice
    # Only the newest turn may offer quick replies: the headache screen was answered over.
    for page in (first, second):
        expect(page.locator(".quick-replies")).to_have_count(0)
    screenshot(second, "widget-two-tabs-second")
    assert all(w.errors == [] and w.dialogs == [] for w in watched)
    context.close()


def expected_source(custom: dict[str, Any]) -> str | None:
    if not custom.get("source"):
        return None
    if custom.get("document"):
        return f"Source: {custom['document']}, {custom['source']}"
    return f"Source: {custom['source']}"


@pytest.mark.parametrize("view", list(VIEWS))
def test_sources_are_shown_under_the_messages_that_have_them(
    service: LiveService, browser: Browser, view: str
):
    context, page = new_page(browser, view)
    watched = watch(page)
    open_widget(page, service.url)
    conversation = ask_about_pml(page)
    messages = history(service, conversation)
    sourced = [m for m in messages if expected_source(m.get("custom", {}))]
    assert sourced, messages  # the answers name their sections
    expect(page.locator(".msg-source")).to_have_count(len(sourced))
    for message in messages:
        row = page.locator(f'.msg-row[data-seq="{message["seq"]}"]')
        shown = expected_source(message.get("custom", {}))
        if shown:
            expect(row.locator(".msg-source")).to_have_text(shown)
        else:
            expect(row.locator(".msg-source")).to_have_count(0)

    # Both forms, whatever the server sends today: with and without the document's name.
    documents = iter(["Tysabri SmPC", None])

    def rename(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()
        data = response.json()
        document = next(documents)
        for message in data["messages"]:
            custom = message.get("custom", {})
            custom.pop("document", None)
            if document and "source" in custom:
                custom["document"] = document
        route.fulfill(response=response, json=data)

    page.route(MESSAGES_API, rename)
    send(page, "what is PML?")
    expect(page.locator(".msg-bot")).to_have_count(5)
    expect(page.locator(".msg-source").nth(len(sourced))).to_have_text(
        "Source: Tysabri SmPC, Serious side effects (1)"
    )
    send(page, "what is PML?")
    expect(page.locator(".msg-bot")).to_have_count(7)
    expect(page.locator(".msg-source").nth(2 * len(sourced))).to_have_text(
        "Source: Serious side effects (1)"
    )
    screenshot(page, f"widget-sources-{view}")
    assert watched.errors == [] and watched.dialogs == []
    context.close()


ZH_PAGE = (
    "<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>诊所</title>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<link rel='icon' href='data:,'></head><body><h1>诊所</h1>"
    "<script src='/widget.js' defer data-lang='zh'></script></body></html>"
)


def open_chinese_page(service: LiveService, browser: Browser, view: str):
    """A clinic page in Chinese with the widget (data-lang="zh"), opened."""
    context, page = new_page(browser, view)
    context.route(
        f"{service.url}/zh",
        lambda route: route.fulfill(status=200, content_type="text/html", body=ZH_PAGE),
    )
    watched = watch(page)
    page.goto(f"{service.url}/zh")
    page.get_by_test_id("launcher").click()
    return context, page, watched


def test_the_new_controls_speak_chinese(service: LiveService, browser: Browser):
    context, page, watched = open_chinese_page(service, browser, "phone")
    expect(page.locator(".msg-bot")).to_have_count(1)
    expect(page.locator(".msg-row time")).to_have_count(1)
    page.get_by_role("button", name="开始新的对话", exact=True).click()
    expect(page.get_by_test_id("confirm-new")).to_contain_text("要开始新的对话吗")
    page.get_by_role("button", name="取消", exact=True).click()
    field = page.get_by_test_id("input")
    field.fill("头" * 5010)
    expect(page.get_by_test_id("counter")).to_have_text("已输入5,010个字符，上限5,000个：超出10个")
    page.get_by_test_id("send").click()
    expect(page.locator(".error")).to_contain_text("未发送")
    expect(field).to_have_value("头" * 5010)
    screenshot(page, "widget-zh-too-long-phone")
    assert watched.errors == [] and watched.dialogs == []
    context.close()


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_chinese_emergency_is_answered_in_chinese_with_its_action_line_in_view(
    service: LiveService, browser: Browser, view: str
):
    """A Chinese patient at the infusion: the reply, its emergency banner and the action
    line are Chinese, the line in view without scrolling (CJK fonts render: screenshot)."""
    context, page, watched = open_chinese_page(service, browser, view)
    expect(page.locator(".msg-bot").first).to_contain_text("那他珠单抗")  # the disclaimer
    send(page, "我正在输液，身上起了好多疙瘩很痒")
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    first = page.locator(".msg-emergency").first
    expect(first).to_contain_text("输液护士")
    log = page.get_by_test_id("log").bounding_box()
    line = first.bounding_box()
    assert log and line
    assert log["y"] - 0.5 <= line["y"] <= log["y"] + log["height"] - line["height"] + 0.5
    screenshot(page, f"widget-zh-emergency-{view}")
    assert watched.errors == [] and watched.dialogs == []
    context.close()
