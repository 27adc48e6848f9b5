"""The patient widget and the coordinator dashboard in a real headless Chromium (Debian's
/usr/bin/chromium driven by Playwright) against the service running in its own process."""

from __future__ import annotations

import functools
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser_support import (
    PASSWORD,
    XSS,
    LiveService,
    QuietHandler,
    open_widget,
    screenshot,
    send,
    sign_in,
    watch,
)


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
    assert '"route": "/coordinator/conversations"' in log  # the access log is on ...
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


def _patient_says(service: LiveService, text: str) -> str:
    """A patient's message through the widget API; the conversation's id."""
    started = httpx.post(f"{service.url}/api/conversations", json={}).json()
    httpx.post(
        f"{service.url}/api/conversations/{started['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {started['token']}"},
        timeout=10,
    ).raise_for_status()
    return started["id"]


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True},
}


@pytest.mark.parametrize("view", list(VIEWPORTS))
def test_the_queue_refreshes_while_a_control_in_it_has_focus(
    service: LiveService, browser: Browser, view: str
):
    """Issue 12, defect 1: with keyboard focus on a row's link (after Ctrl+click "Open
    transcript"), a new emergency still appears within a refresh, and focus stays on that
    link; when the server cannot be reached the page says so prominently."""
    _patient_says(service, "my eyes look kind of yellow")
    context = browser.new_context(**VIEWPORTS[view])
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    link = page.get_by_role("link", name="Open transcript").first
    link.focus()
    expect(link).to_be_focused()
    rows = page.locator("tr[data-alert-id]")
    before = rows.count()
    _patient_says(service, "I've just had a seizure and my neck is stiff with a fever")
    expect(rows).to_have_count(before + 1, timeout=8000)
    expect(page.locator(".badge.sev-critical").first).to_be_visible()
    focused = page.evaluate("document.activeElement && document.activeElement.textContent")
    assert focused == "Open transcript"

    context.route("**/coordinator/queue/rows", lambda route: route.abort())
    status = page.get_by_test_id("queue-status")
    expect(status).to_contain_text("NOT up to date", timeout=12000)
    screenshot(page, f"dashboard-queue-stale-{view}")
    context.unroute("**/coordinator/queue/rows")
    expect(status).not_to_contain_text("NOT up to date", timeout=8000)
    context.close()


def test_the_queue_on_a_phone_names_patients_and_keeps_actions_on_screen(
    service: LiveService, browser: Browser
):
    """Issue 12, defects 2 and 3: at 390x844 every row's patient label, first words of the
    message, level and buttons are on screen (no sideways scrolling); open alerts come
    before acknowledged ones; times are in the coordinator's time zone."""
    _patient_says(service, "my eyes look kind of yellow and my pee is dark")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo", is_mobile=True
    )
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    queue = page.get_by_test_id("alert-queue")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    first = page.locator("tr[data-alert-id]").first
    expect(first.get_by_test_id("patient-label")).to_have_text(re.compile(r"^P-[0-9A-F]{6}$"))
    acknowledge = queue.get_by_role("button", name="Acknowledge").first
    box = acknowledge.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    excerpts = page.get_by_test_id("excerpt").all_text_contents()
    assert any("yellow" in text for text in excerpts)
    raised = first.locator("time[data-local]")
    assert "UTC" not in raised.inner_text()  # shown in Tokyo time, UTC on hover
    statuses = [row.get_attribute("class") or "" for row in page.locator("tr[data-alert-id]").all()]
    opened = [i for i, c in enumerate(statuses) if "status-open" in c]
    acknowledged = [i for i, c in enumerate(statuses) if "status-acknowledged" in c]
    assert not (opened and acknowledged) or max(opened) < min(acknowledged)
    screenshot(page, "dashboard-queue-phone")
    assert desk.errors == []
    context.close()


def test_the_dashboard_on_a_phone_held_sideways(service: LiveService, browser: Browser):
    """Issue 12, item 3, phone landscape (844x390): the queue fits the width with its
    Acknowledge button on screen; the transcript's reply box is reachable and a reply sent
    from it shows in the transcript."""
    conversation = _patient_says(service, "there's blood in my wee since this morning")
    width, height = 844, 390
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=True, has_touch=True
    )
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    acknowledge = page.get_by_test_id("alert-queue").get_by_role("button", name="Acknowledge")
    acknowledge.first.scroll_into_view_if_needed()
    box = acknowledge.first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    screenshot(page, "dashboard-queue-phone-landscape")

    _open_transcript(page, service, conversation)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    message = page.get_by_label("Message (shown in the patient's chat")
    message.scroll_into_view_if_needed()
    box = message.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    reply = "We have seen your message: please call the clinic today"
    message.fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("li.role-coordinator").filter(has_text=reply)).to_have_count(1)
    screenshot(page, "dashboard-transcript-phone-landscape")
    assert desk.errors == []
    context.close()


def _open_transcript(page, service: LiveService, conversation_id: str) -> None:
    page.goto(f"{service.url}/coordinator/conversations/{conversation_id}")
    expect(page.get_by_role("heading", name="Reply to the patient")).to_be_visible()


def test_a_reply_typed_when_the_session_expired_is_not_lost(service: LiveService, browser: Browser):
    """Issue 12, defect 5, on a phone: the session ends (signed out in another tab) while
    a reply is typed; sending it leads to sign-in, which returns to the transcript with
    the text put back; sent then, it reaches the patient and the draft is forgotten."""
    conversation = _patient_says(service, "my gums keep bleeding when I brush")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    _open_transcript(page, service, conversation)
    transcript_url = page.url
    reply = "Please stop brushing for now and call us on 0123 456 789 today"
    page.get_by_label("Message (shown in the patient's chat").fill(reply)

    other = context.new_page()  # another tab of the same browser signs out
    other.goto(service.url + "/coordinator")
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    other.close()

    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(transcript_url)
    box = page.get_by_label("Message (shown in the patient's chat")
    expect(box).to_have_value(reply)
    expect(page.get_by_test_id("draft-restored")).to_be_visible()
    screenshot(page, "dashboard-draft-restored-phone")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("li.role-coordinator").filter(has_text=reply)).to_have_count(1)
    assert "sent=" not in page.url  # a reload must not forget a later draft
    page.reload()
    expect(page.get_by_label("Message (shown in the patient's chat")).to_have_value("")
    expect(page.get_by_test_id("draft-restored")).to_have_count(0)
    assert desk.errors == []
    context.close()


def test_a_second_coordinator_is_told_who_acted_first_and_keeps_their_note(
    service: LiveService, browser: Browser
):
    """Issue 12, defect 5: two coordinators open the same alert; the first acknowledges;
    the second's note is saved all the same and the page says who acknowledged it when."""
    conversation = _patient_says(service, "I think my eyes might be a bit yellow")
    first = browser.new_context(viewport={"width": 1280, "height": 900})
    second = browser.new_context(viewport={"width": 1280, "height": 900})
    pages = []
    for context in (first, second):
        page = context.new_page()
        sign_in(page, service.url)
        _open_transcript(page, service, conversation)
        pages.append(page)
    one, two = pages
    one.get_by_role("button", name="Acknowledge").first.click()
    expect(one.get_by_text("acknowledged by alice").first).to_be_visible()

    note = "Rang her at 10:05, she is going to the GP this afternoon"
    two.get_by_label("Note", exact=True).fill(note)
    two.get_by_role("button", name="Acknowledge").first.click()
    message = two.get_by_role("alert")
    expect(message).to_contain_text("already acknowledged by alice at")
    expect(message).to_contain_text("Your note was saved")
    two.get_by_role("link", name="Back").click()
    expect(two.get_by_test_id("notes")).to_contain_text(note)
    expect(two.get_by_label("Note", exact=True)).to_have_value("")  # saved: no draft put back
    expect(two.get_by_test_id("draft-restored")).to_have_count(0)
    first.close()
    second.close()


def test_the_protocol_page_on_a_phone_and_the_version_of_each_turn(
    service: LiveService, browser: Browser
):
    """Issue 12, item 9: the protocol as a clinician reads it, from the dashboard's menu,
    readable on a phone; a transcript's turn links to the version it was decided under."""
    conversation = _patient_says(service, "my eyes look kind of yellow")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    page.get_by_role("link", name="Protocol").click()
    expect(page.get_by_role("heading", name="Triage protocol")).to_be_visible()
    version = page.get_by_test_id("protocol-version").inner_text()
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    liver = page.locator("#category-liver")
    expect(liver).to_contain_text("urgent")
    expect(liver).to_contain_text("Source:")
    expect(liver.locator("td[lang=zh]").first).not_to_be_empty()  # Chinese example phrases
    expect(page.get_by_test_id("protocol-category").first).to_contain_text("emergency")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(page, "dashboard-protocol-phone", full_page=False)
    page.goto(f"{service.url}/coordinator/conversations/{conversation}")
    expect(page.get_by_test_id("turn-protocol").first).to_have_text(f"protocol {version}")
    assert desk.errors == []
    context.close()


def test_review_and_tags_like_rasa_x(service: LiveService, browser: Browser):
    """Issue 12, item 7: a turn the bot did not understand puts the conversation in
    "needs review"; the coordinator finds it with the list's filter, tags it (choosing
    from the tags in use) and marks it reviewed."""
    conversation = _patient_says(service, "flibber wobble snorkel zazz")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    page.get_by_role("link", name="Conversations").click()
    page.get_by_label("Review").select_option("needs_review")
    page.get_by_role("button", name="Filter").click()
    listed = page.get_by_test_id("conversation-list")
    expect(listed).to_contain_text("needs review")
    listed.get_by_role("link", name=conversation[:8]).click()
    expect(page.get_by_test_id("turn-needs-review").first).to_have_text("not understood")
    page.get_by_test_id("tags-input").fill("new phrase, Nonsense")
    page.get_by_role("button", name="Save tags").click()
    expect(page.get_by_test_id("tags")).to_contain_text("new phrase")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_test_id("review-status")).to_contain_text("Reviewed by alice")
    expect(page.get_by_role("button", name="Mark not reviewed")).to_be_visible()
    page.get_by_test_id("tags").get_by_role("link", name="Nonsense").click()
    expect(page.get_by_test_id("conversation-list")).to_contain_text(conversation[:8])
    expect(page.get_by_label("Tag")).to_have_value("Nonsense")
    screenshot(page, "dashboard-review-tags")
    assert desk.errors == []
    context.close()


def test_the_insight_page_draws_real_data(service: LiveService, browser: Browser):
    """Issue 12, item 8: the charts are drawn from this service's own alerts and messages
    (server-side SVG, allowed by the dashboard's CSP: no console error)."""
    _patient_says(service, "I'm at my infusion and have hives everywhere")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    page.get_by_role("link", name="Insight").click()
    charts = page.get_by_test_id("insight-charts")
    expect(charts.locator("svg")).to_have_count(4)
    expect(
        charts.get_by_role("img", name="Alerts per day by severity")
        .locator("rect[fill='#b00020']")
        .first
    ).to_be_attached()
    expect(page.get_by_test_id("insight-categories")).to_contain_text("infusion_reaction")
    with page.expect_download() as download:
        page.get_by_test_id("insight-csv").click()
    assert download.value.suggested_filename.startswith("insight-")
    screenshot(page, "dashboard-insight", full_page=True)
    assert desk.errors == []
    context.close()


NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  static permission = "default";
  static async requestPermission() { window.Notification.permission = "granted"; return "granted"; }
  constructor(title, options) { window.__notes.push({ title, ...options }); }
};
"""


def test_a_new_emergency_can_ring_and_notify(service: LiveService, browser: Browser):
    """Issue 12, defect 2: switched on, a new critical alert plays a tone and shows a
    system notification naming the patient label and categories, never the message; an
    urgent one does not; the choice is kept by the browser."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(NOTIFICATIONS)
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    toggle = page.get_by_test_id("notify-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    _patient_says(service, "my eyes look kind of yellow and itchy")
    _patient_says(service, "I'm at my infusion and my throat is closing up")
    expect(page.locator("tr.new.sev-critical")).to_have_count(1, timeout=10_000)
    notes = page.evaluate("window.__notes")
    assert len(notes) == 1, notes
    assert notes[0]["title"] == "Emergency alert"
    assert re.match(r"P-[0-9A-F]{6}: ", notes[0]["body"]) and "throat" not in notes[0]["body"]
    page.reload()
    expect(page.get_by_test_id("notify-toggle")).to_have_attribute("aria-pressed", "true")
    assert desk.errors == []
    context.close()


def test_a_transcript_on_a_phone_shows_buttons_as_the_patient_saw_them(
    service: LiveService, browser: Browser
):
    """Issue 12, defect 4, at 390x844: a tapped quick reply reads as its title, with the
    payload one tap away; the transcript fits the screen."""
    started = httpx.post(f"{service.url}/api/conversations", json={}).json()
    headers = {"Authorization": f"Bearer {started['token']}"}
    path = f"{service.url}/api/conversations/{started['id']}/messages"
    for text in ("I've got hives all over", '/inform_infusion_timing{"infusion_window": "later"}'):
        httpx.post(path, json={"text": text}, headers=headers, timeout=10).raise_for_status()
    context = browser.new_context(**VIEWPORTS["phone"])
    desk = watch(context.new_page())
    page = desk.page
    sign_in(page, service.url)
    page.goto(f"{service.url}/coordinator/conversations/{started['id']}")
    pressed = page.get_by_test_id("pressed")
    expect(pressed).to_have_count(1)
    expect(pressed).to_contain_text("button")
    payload = page.locator("details.payload").first
    expect(payload.locator("code")).to_be_hidden()
    payload.locator("summary").click()
    expect(payload.locator("code")).to_contain_text("/inform_infusion_timing")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "dashboard-transcript-phone")
    assert desk.errors == []
    context.close()
