"""The coordinator dashboard and JSON API over real HTTP (httpx) on a real database:
sign-in, CSRF, throttling, the alert queue, transcripts, notes, replies, exports, audit."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta

import httpx
import pytest
import yaml
from sqlalchemy import func, select, update

from app.coordinator import accounts
from app.store.models import Alert, AuditEntry, Conversation, Message, Note
from tests.conftest import running_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def add_coordinator(app, username: str = "alice", password: str = PASSWORD) -> None:
    async with app.state.conversations.sessionmaker() as session, session.begin():
        await accounts.add_coordinator(session, username, password)


async def api_token(app, username: str = "alice", days: float = 1) -> str:
    async with app.state.conversations.sessionmaker() as session, session.begin():
        token, _ = await accounts.issue_token(session, username, timedelta(days=days))
    return token


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD):
    form = await http.get("/coordinator/sign-in")
    return await http.post(
        "/coordinator/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_of(form)},
    )


async def signed_in_csrf(http: httpx.AsyncClient) -> str:
    response = await sign_in(http)
    assert response.status_code == 303, response.text
    return csrf_of(await http.get("/coordinator"))


async def patient(http: httpx.AsyncClient, *texts: str) -> tuple[str, dict[str, str]]:
    created = (await http.post("/api/conversations", json={})).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    for text in texts:
        reply = await http.post(
            f"/api/conversations/{created['id']}/messages", json={"text": text}, headers=headers
        )
        assert reply.status_code == 200, reply.text
    return created["id"], headers


async def count(app, model, *where) -> int:
    async with app.state.conversations.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
async def desk(triager, tmp_path):
    """The service on a SQLite file with one coordinator account."""
    async with running_app(triager, f"sqlite+aiosqlite:///{tmp_path}/desk.db") as (app, http):
        await add_coordinator(app)
        yield app, http


# ---------------------------------------------------------------------- anonymous access


def all_routes(app):
    for route in app.routes:
        included = getattr(route, "original_router", None)  # routers kept whole by FastAPI
        yield from included.routes if included is not None else [route]


def coordinator_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in all_routes(app):
        path = getattr(route, "path", "")
        if not path.startswith(("/coordinator", "/api/coordinator")) or path.endswith("sign-in"):
            continue
        path = path.replace("{alert_id}", "1").replace("{conversation_id}", "abc")
        routes += [(method, path) for method in sorted(route.methods - {"HEAD"})]
    return routes


async def test_every_coordinator_route_refuses_anonymous_access(desk):
    app, http = desk
    conversation_id, _ = await patient(http, "I'm at my infusion and have hives everywhere")
    routes = coordinator_routes(app)
    assert len(routes) >= 20
    for method, path in routes:
        path = path.replace("abc", conversation_id)
        response = await http.request(method, path, data={"text": "x", "note": "x"})
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/coordinator/sign-in")
        assert "hives" not in response.text
    assert await count(app, Alert, Alert.status != "open") == 0
    assert await count(app, Note) == 0
    assert await count(app, Message, Message.role == "coordinator") == 0


async def test_wrong_expired_and_malformed_api_tokens_are_401(desk):
    app, http = desk
    good = await api_token(app)
    expired = await api_token(app, days=-1)
    assert (
        await http.get("/api/coordinator/me", headers={"Authorization": f"Bearer {good}"})
    ).json() == {
        "username": "alice",
        "via": "api",
    }
    for value in (f"Bearer {expired}", "Bearer nope", "Bearer ", "Basic YWxpY2U6eA==", good):
        response = await http.get("/api/coordinator/alerts", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert "detail" in response.json()


# ---------------------------------------------------------------------- sign-in and sessions


async def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(desk):
    app, http = desk
    response = await sign_in(http)
    assert response.status_code == 303
    assert response.headers["location"] == "/coordinator"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("triage_coordinator=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await http.get("/coordinator")
    assert page.status_code == 200 and "alice" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    signed_out = await http.post("/coordinator/sign-out", data={"csrf_token": csrf_of(page)})
    assert signed_out.status_code == 303
    http.cookies.set("triage_coordinator", cookie.split(";")[0].split("=", 1)[1])
    again = await http.get("/coordinator")  # the old cookie no longer works
    assert again.status_code == 303


async def test_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(desk):
    _, http = desk
    wrong = await sign_in(http, password="not the password")
    unknown = await sign_in(http, username="mallory")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        "Wrong username or password." in wrong.text
        and "Wrong username or password." in unknown.text
    )
    assert "triage_coordinator=" not in wrong.headers.get("set-cookie", "")


async def test_expired_session_signs_out(desk):
    app, http = desk
    await signed_in_csrf(http)
    async with app.state.conversations.sessionmaker() as session, session.begin():
        from app.store.models import CoordinatorSession

        await session.execute(
            update(CoordinatorSession).values(expires_at=accounts.now_utc() - timedelta(minutes=1))
        )
    assert (await http.get("/coordinator")).status_code == 303
    assert (await http.get("/api/coordinator/alerts")).status_code == 401


async def test_failed_sign_ins_are_throttled_even_for_the_right_password(desk):
    app, http = desk
    for _ in range(5):
        assert (await sign_in(http, password="guess guess guess")).status_code == 401
    blocked = await sign_in(http)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    assert (await http.get("/coordinator")).status_code == 303
    # Another account is not locked by alice's failures.
    await add_coordinator(app, "bob")
    assert (await sign_in(http, "bob")).status_code == 303
    # Once the failures leave the window, alice can sign in again.
    from app.store.models import SignInFailure

    async with app.state.conversations.sessionmaker() as session, session.begin():
        await session.execute(
            update(SignInFailure).values(at=accounts.now_utc() - timedelta(hours=1))
        )
    assert (await sign_in(http)).status_code == 303
    actions = [row for (row,) in (await _audit_rows(app, AuditEntry.actor == "alice"))]
    assert actions.count("sign_in_failed") == 5 and "sign_in_throttled" in actions


async def _audit_rows(app, *where):
    async with app.state.conversations.sessionmaker() as session:
        return (await session.execute(select(AuditEntry.action).where(*where))).all()


async def test_sign_in_without_the_form_token_is_refused(desk):
    _, http = desk
    response = await http.post(
        "/coordinator/sign-in", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "triage_coordinator=" not in response.headers.get("set-cookie", "")


async def test_next_only_redirects_inside_the_dashboard(desk):
    _, http = desk
    form = await http.get("/coordinator/sign-in?next=https://evil.example/")
    response = await http.post(
        "/coordinator/sign-in",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/coordinator"


# ---------------------------------------------------------------------- CSRF


async def test_forms_without_a_valid_csrf_token_change_nothing(desk):
    app, http = desk
    conversation_id, _ = await patient(http, "I'm at my infusion and have hives everywhere")
    await signed_in_csrf(http)
    for token in (None, "", "forged-token"):
        data = {"note": "n", "text": "hello"}
        if token is not None:
            data["csrf_token"] = token
        for path in (
            "/coordinator/alerts/1/acknowledge",
            "/coordinator/alerts/1/resolve",
            f"/coordinator/conversations/{conversation_id}/notes",
            f"/coordinator/conversations/{conversation_id}/reply",
            "/coordinator/sign-out",
        ):
            response = await http.post(path, data=data)
            assert response.status_code == 403, (path, token)
    # The JSON API used with the session cookie needs the token in a header.
    no_header = await http.post("/api/coordinator/alerts/1/acknowledge", json={})
    assert no_header.status_code == 403
    assert await count(app, Alert, Alert.status == "open") == 1
    assert await count(app, Note) == 0
    assert await count(app, Message, Message.role == "coordinator") == 0
    assert (await http.get("/coordinator")).status_code == 200  # still signed in


# ---------------------------------------------------------------------- alert queue


async def test_queue_puts_emergencies_first_then_oldest(desk):
    app, http = desk
    urgent_first, _ = await patient(http, "my eyes look kind of yellow")
    emergency, _ = await patient(http, "I'm at my infusion and covered in itchy bumps")
    urgent_second, _ = await patient(http, "I've got hives all over")
    token = await api_token(app)
    queue = (
        await http.get("/api/coordinator/alerts", headers={"Authorization": f"Bearer {token}"})
    ).json()["alerts"]
    assert [a["conversation_id"] for a in queue] == [emergency, urgent_first, urgent_second]
    assert [a["severity"] for a in queue] == ["critical", "high", "high"]
    await signed_in_csrf(http)
    rows = (await http.get("/coordinator/queue/rows")).text
    positions = [rows.index(cid) for cid in (emergency, urgent_first, urgent_second)]
    assert positions == sorted(positions)


async def test_acknowledge_then_resolve_with_notes_through_the_dashboard(desk):
    app, http = desk
    conversation_id, _ = await patient(http, "I'm at my infusion and have hives everywhere")
    csrf = await signed_in_csrf(http)
    acknowledged = await http.post(
        "/coordinator/alerts/1/acknowledge",
        data={"csrf_token": csrf, "note": "Called the infusion suite", "next": "/coordinator"},
    )
    assert acknowledged.status_code == 303
    again = await http.post("/coordinator/alerts/1/acknowledge", data={"csrf_token": csrf})
    assert again.status_code == 409 and "already acknowledged" in again.text
    resolved = await http.post(
        "/coordinator/alerts/1/resolve", data={"csrf_token": csrf, "note": "Infusion stopped"}
    )
    assert resolved.status_code == 303
    page = (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    assert "resolved by alice" in page and "Infusion stopped" in page
    assert "Called the infusion suite" in page
    assert "No open alerts." in (await http.get("/coordinator")).text
    assert (
        await http.post("/coordinator/alerts/999/resolve", data={"csrf_token": csrf})
    ).status_code == 404


async def test_api_acknowledge_resolve_and_bad_bodies(desk):
    app, http = desk
    await patient(http, "my eyes look kind of yellow")
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    bad = await http.post(
        "/api/coordinator/alerts/1/acknowledge", content=b"{not json", headers=headers
    )
    assert bad.status_code == 422
    wrong_type = await http.post(
        "/api/coordinator/alerts/1/acknowledge", json={"note": 5}, headers=headers
    )
    assert wrong_type.status_code == 422
    unknown_key = await http.post(
        "/api/coordinator/alerts/1/acknowledge", json={"nope": 1}, headers=headers
    )
    assert unknown_key.status_code == 422
    assert await count(app, Alert, Alert.status == "open") == 1
    done = await http.post(
        "/api/coordinator/alerts/1/acknowledge", json={"note": "seen"}, headers=headers
    )
    assert done.status_code == 200
    assert done.json()["status"] == "acknowledged" and done.json()["acknowledged_by"] == "alice"
    resolved = await http.post("/api/coordinator/alerts/1/resolve", headers=headers)
    assert resolved.json()["status"] == "resolved"
    late = await http.post(
        "/api/coordinator/alerts/1/resolve", json={"note": "also rang her GP"}, headers=headers
    )
    assert late.status_code == 409
    assert re.search(r"already resolved by alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC", late.text)
    assert "Your note was saved" in late.text  # a late coordinator's words are kept
    assert await count(app, Note, Note.text == "also rang her GP") == 1
    assert (
        await http.post("/api/coordinator/alerts/x/resolve", headers=headers)
    ).status_code == 422


# ---------------------------------------------------------------------- conversations


async def test_conversation_list_filters_paginates_and_exports(desk):
    app, http = desk
    emergency, _ = await patient(http, "I'm at my infusion and have hives everywhere")
    urgent, _ = await patient(http, "my eyes look kind of yellow")
    routine, _ = await patient(http, "no bleeding, just tired")
    headers = {"Authorization": f"Bearer {await api_token(app)}"}

    async def ids(**params):
        response = await http.get("/api/coordinator/conversations", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert set(await ids()) == {emergency, urgent, routine}
    assert await ids(level="emergency") == [emergency]
    assert set(await ids(alert_status="open")) == {emergency, urgent}
    assert await ids(alert_status="none") == [routine]
    assert await ids(q="YELLOW") == [urgent]
    assert await ids(q="100%_") == []  # LIKE wildcards are searched literally
    today = accounts.now_utc().date()
    assert len(await ids(since=today.isoformat(), until=today.isoformat())) == 3
    assert await ids(until=(today - timedelta(days=1)).isoformat()) == []
    first = (
        await http.get("/api/coordinator/conversations", params={"per_page": 2}, headers=headers)
    ).json()
    second = (
        await http.get(
            "/api/coordinator/conversations", params={"per_page": 2, "page": 2}, headers=headers
        )
    ).json()
    assert first["total"] == 3 and first["pages"] == 2
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"] + second["items"]} == {emergency, urgent, routine}
    for bad in (
        {"level": "severe"},
        {"page": 0},
        {"per_page": 1000},
        {"since": "yesterday"},
        {"x": 1},
        {"since": "2026-12-03", "until": "2026-12-01"},
    ):
        response = await http.get("/api/coordinator/conversations", params=bad, headers=headers)
        assert response.status_code == 422, bad
    backwards = await http.get(
        "/api/coordinator/conversations",
        params={"since": "2026-12-03", "until": "2026-12-01"},
        headers=headers,
    )
    assert "is after the To date" in str(backwards.json()["detail"])  # not silently empty

    exported = await http.get(
        "/api/coordinator/conversations.csv", params={"alert_status": "open"}, headers=headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["id"] for row in rows} == {emergency, urgent}
    assert {row["level"] for row in rows} == {"emergency", "urgent"}
    assert "yellow" not in exported.text  # the list export carries no message text

    await signed_in_csrf(http)
    page = await http.get("/coordinator/conversations", params={"level": "urgent"})
    assert urgent[:8] in page.text and emergency[:8] not in page.text
    assert (
        await http.get("/coordinator/conversations", params={"level": "bad"})
    ).status_code == 422
    dashboard_csv = await http.get("/coordinator/conversations.csv", params={"q": "tired"})
    assert [row["id"] for row in csv.DictReader(io.StringIO(dashboard_csv.text))] == [routine]


async def test_transcript_shows_symptoms_context_levels_and_guidance(desk):
    app, http = desk
    conversation_id, _ = await patient(
        http, "no bleeding but my eyes look yellow, my mum had hepatitis"
    )
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    found = (
        await http.get(f"/api/coordinator/conversations/{conversation_id}", headers=headers)
    ).json()
    turn = next(m for m in found["messages"] if m["role"] == "patient")
    assert turn["level"] == "urgent" and turn["categories"][0] == "liver"
    jaundice = next(s for s in turn["symptoms"] if s["concept"] == "jaundice")
    assert jaundice["category"] == "liver" and jaundice["flags"] == []
    assert any(s["flags"] for s in turn["symptoms"])  # the mother's hepatitis is family
    assert any(m["role"] == "bot" and m["source"] for m in found["messages"])
    assert found["alerts"][0]["categories"] == ["liver"]
    await signed_in_csrf(http)
    page = (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    assert "jaundice (liver)" in page and "Source: " in page
    assert (await http.get("/coordinator/conversations/nope")).status_code == 404
    assert (
        await http.get("/api/coordinator/conversations/nope", headers=headers)
    ).status_code == 404


async def test_transcript_shows_a_button_press_as_the_patient_saw_it(desk):
    """Issue 12, defect 4 (and 6): a button's title, not its payload; a phrase said many
    times in one long message is listed once with a count."""
    app, http = desk
    payload = '/inform_infusion_timing{"infusion_window": "within_2h"}'
    conversation_id, _ = await patient(
        http, "I've got hives all over", payload, "so tired. " * 30 + "just tired"
    )
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    found = (
        await http.get(f"/api/coordinator/conversations/{conversation_id}", headers=headers)
    ).json()
    pressed = [m for m in found["messages"] if m["role"] == "patient" and m.get("pressed")]
    assert [m["pressed"] for m in pressed] == ["It ended less than 2 hours ago"]
    assert pressed[0]["text"] == payload  # the payload stays available
    long_turn = [m for m in found["messages"] if m["role"] == "patient"][-1]
    tired = [s for s in long_turn["symptoms"] if s["concept"] == "fatigue"]
    assert len(tired) <= 2 and sum(s["count"] for s in tired) >= 30
    await signed_in_csrf(http)
    page = (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    assert "It ended less than 2 hours ago" in page
    assert '<div class="text">/inform_infusion_timing' not in page


async def test_reply_reaches_the_patients_widget_and_notes_are_kept(desk):
    app, http = desk
    conversation_id, patient_headers = await patient(http, "I've got hives all over")
    csrf = await signed_in_csrf(http)
    sent = await http.post(
        f"/coordinator/conversations/{conversation_id}/reply",
        data={
            "csrf_token": csrf,
            "text": "This is Sam from the clinic. Are you still at the unit?",
        },
    )
    assert sent.status_code == 303
    messages = (
        await http.get(f"/api/conversations/{conversation_id}/messages", headers=patient_headers)
    ).json()["messages"]
    last = messages[-1]
    assert last["role"] == "coordinator" and last["text"].startswith("This is Sam")
    assert last["author"] == "Care team"  # the username is not shown to patients
    # The patient can answer; the conversation goes on.
    answer = await http.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"text": "yes still on the drip"},
        headers=patient_headers,
    )
    assert answer.status_code == 200
    noted = await http.post(
        f"/coordinator/conversations/{conversation_id}/notes",
        data={"csrf_token": csrf, "text": "<b>Phoned</b> patient"},
    )
    assert noted.status_code == 303
    page = (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    assert "&lt;b&gt;Phoned&lt;/b&gt; patient" in page and "<b>Phoned</b>" not in page
    empty = await http.post(
        f"/coordinator/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf, "text": "  "},
    )
    assert empty.status_code == 422
    too_long = await http.post(
        f"/coordinator/conversations/{conversation_id}/notes",
        data={"csrf_token": csrf, "text": "x" * 5001},
    )
    assert too_long.status_code == 413
    missing = await http.post(
        "/coordinator/conversations/nope/reply", data={"csrf_token": csrf, "text": "hi"}
    )
    assert missing.status_code == 404
    assert await count(app, Message, Message.role == "coordinator") == 1
    assert await count(app, Note) == 1


async def test_the_protocol_in_force_and_the_version_each_turn_was_decided_under(desk):
    """Issue 12, item 9: the protocol as a clinician reads it (page and JSON), with its
    version; every patient turn records the version it was decided under."""
    app, http = desk
    conversation_id, _ = await patient(http, "my eyes look kind of yellow")
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    shown = (await http.get("/api/coordinator/protocol", headers=headers)).json()
    assert re.fullmatch(r"[0-9a-f]{12}", shown["version"])
    assert shown["languages"] == ["en", "zh"]
    liver = next(c for c in shown["categories"] if c["name"] == "liver")
    assert liver["level"] == "urgent" and liver["stop_next_dose"] is True
    jaundice = next(c for c in liver["concepts"] if c["name"] == "jaundice")
    assert jaundice["examples"]["en"] and jaundice["examples"]["zh"]
    assert all(line["source"] for line in liver["guidance"]["zh"])
    assert liver["guidance"]["zh"][0]["text"] != liver["guidance"]["en"][0]["text"]
    assert [c["level"] for c in shown["categories"]][0] == "emergency"  # most urgent first
    assert any(r["category"] == "cns_infection" for r in shown["combinations"])
    transcript = (
        await http.get(f"/api/coordinator/conversations/{conversation_id}", headers=headers)
    ).json()
    turn = next(m for m in transcript["messages"] if m["role"] == "patient")
    assert turn["protocol_version"] == shown["version"]
    assert (await http.get("/api/coordinator/protocol")).status_code == 401
    await signed_in_csrf(http)
    page = (await http.get("/coordinator/protocol")).text
    assert shown["version"] in page and 'id="category-liver"' in page
    assert (
        shown["version"] in (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    )


async def test_every_read_and_change_is_audited(desk):
    app, http = desk
    conversation_id, _ = await patient(http, "I'm at my infusion and have hives everywhere")
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    base = f"/api/coordinator/conversations/{conversation_id}"
    await http.get(base, headers=headers)
    export = await http.get(f"{base}/export", headers=headers)
    assert export.headers["content-disposition"].startswith("attachment")
    assert export.json()["id"] == conversation_id
    await http.get(
        "/api/coordinator/conversations.csv", params={"level": "emergency"}, headers=headers
    )
    await http.post("/api/coordinator/alerts/1/acknowledge", json={}, headers=headers)
    await http.post(f"{base}/reply", json={"text": "Calling you now"}, headers=headers)
    await http.post(f"{base}/notes", json={"text": "Spoke to the nurse"}, headers=headers)
    await http.get(f"{base}/fixture", headers=headers)
    await http.get("/api/coordinator/conversations", params={"q": "hives"}, headers=headers)
    entries = (await http.get("/api/coordinator/audit", headers=headers)).json()["entries"]
    actions = [entry["action"] for entry in entries]
    for expected in (
        "view_transcript",
        "export_transcript",
        "export_list",
        "acknowledge",
        "reply",
        "note",
        "save_fixture",
        "search",
    ):
        assert expected in actions, expected
    assert all(entry["actor"] == "alice" and entry["via"] == "api" for entry in entries)
    exported_list = next(entry for entry in entries if entry["action"] == "export_list")
    assert exported_list["detail"] == "1 conversation; filters: level=emergency"
    view = next(entry for entry in entries if entry["action"] == "view_transcript")
    assert view["conversation_id"] == conversation_id
    await signed_in_csrf(http)
    await http.get(f"/coordinator/conversations/{conversation_id}")
    page = (await http.get("/coordinator/audit")).text
    assert "view_transcript" in page and "dashboard" in page and "sign_in" in page


async def test_save_as_fixture_replays_green(desk, triager, tmp_path):
    from app.dialogue.domain import default_domain
    from app.replay.fixtures import FixtureLoader
    from app.replay.runner import in_process_client, replay
    from app.triage.protocol import default_protocol

    app, http = desk
    conversation_id, _ = await patient(
        http, "I've got hives all over", "yes still on the drip", "thanks"
    )
    await signed_in_csrf(http)
    page = (await http.get(f"/coordinator/conversations/{conversation_id}")).text
    assert f"/coordinator/conversations/{conversation_id}/fixture.yml" in page
    response = await http.get(f"/coordinator/conversations/{conversation_id}/fixture.yml")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    document = yaml.safe_load(response.text)
    assert [turn["expect"]["level"] for turn in document["turns"]] == [
        "urgent",
        "emergency",
        "emergency",
    ]
    saved = tmp_path / "saved.yml"
    saved.write_text(response.text, encoding="utf-8")
    loader = FixtureLoader(default_protocol(), set(default_domain().responses))
    (fixture,) = loader.load_file(saved)
    async with in_process_client(triager) as replay_http:
        result = await replay(fixture, replay_http)
    assert result.passed, result.diff()


# ---------------------------------------------------------------------- widget side


async def test_widget_cors_is_open_but_coordinator_api_is_not(desk):
    _, http = desk
    preflight = await http.options(
        "/api/conversations",
        headers={
            "Origin": "https://clinic.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://clinic.example")
    assert "access-control-allow-credentials" not in preflight.headers
    coordinator = await http.get(
        "/api/coordinator/alerts", headers={"Origin": "https://clinic.example"}
    )
    assert "access-control-allow-origin" not in coordinator.headers


async def test_demo_page_and_widget_script_are_served(desk):
    _, http = desk
    page = await http.get("/")
    assert page.status_code == 200
    assert '<script src="/widget.js" defer' in page.text
    script = await http.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text  # patient and coordinator text is inserted as text


async def test_postgresql_coordinator_flow(triager, postgres_server):
    from tests.conftest import _create_database

    url = await _create_database(postgres_server)
    async with running_app(triager, url) as (app, http):
        await add_coordinator(app)
        conversation_id, patient_headers = await patient(
            http, "I'm at my infusion and have hives everywhere"
        )
        csrf = await signed_in_csrf(http)
        assert conversation_id in (await http.get("/coordinator")).text
        assert (
            await http.post("/coordinator/alerts/1/acknowledge", data={"csrf_token": csrf})
        ).status_code == 303
        await http.post(
            f"/coordinator/conversations/{conversation_id}/reply",
            data={"csrf_token": csrf, "text": "We are calling you"},
        )
        messages = (
            await http.get(
                f"/api/conversations/{conversation_id}/messages", headers=patient_headers
            )
        ).json()["messages"]
        assert messages[-1]["text"] == "We are calling you"
        listed = await http.get("/coordinator/conversations", params={"q": "HIVES"})
        assert conversation_id[:8] in listed.text
        async with app.state.conversations.sessionmaker() as session:
            level = await session.scalar(
                select(Conversation.level).where(Conversation.id == conversation_id)
            )
        assert level == "emergency"


async def test_dashboard_answers_bad_input_with_a_page(desk):
    _, http = desk
    await signed_in_csrf(http)
    for path in ("/coordinator/audit?page=abc", "/coordinator/conversations?since=yesterday"):
        response = await http.get(path)
        assert response.status_code == 422, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Back to the alert queue" in response.text


async def test_list_and_queue_reads_are_audited_but_not_the_live_refresh(desk):
    app, http = desk
    await signed_in_csrf(http)
    await http.get("/coordinator")
    for _ in range(3):
        await http.get("/coordinator/queue/rows")
    await http.get("/coordinator/conversations", params={"level": "urgent"})
    actions = [action for (action,) in await _audit_rows(app)]
    assert actions.count("view_queue") == 2  # after sign-in, and the explicit visit
    assert "view_list" in actions


async def test_malformed_dashboard_forms_get_a_page_and_change_nothing(desk):
    app, http = desk
    await patient(http, "I'm at my infusion and have hives everywhere")
    csrf = await signed_in_csrf(http)
    garbage = await http.post(
        "/coordinator/alerts/1/acknowledge",
        content=b"garbage",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert garbage.status_code == 400 and "Not understood" in garbage.text
    upload = await http.post(
        "/coordinator/alerts/1/acknowledge",
        data={"csrf_token": csrf},
        files={"file": ("a.txt", b"x")},
    )
    assert upload.status_code == 400
    binary = await http.post(
        "/coordinator/alerts/1/acknowledge",
        content=b"\xff\xfe\x00csrf_token=" + csrf.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert binary.status_code == 403
    unknown = await http.get("/coordinator/nothing-here")
    assert unknown.status_code == 404 and "Not found" in unknown.text
    assert await count(app, Alert, Alert.status == "open") == 1


# ---------------------------------------------------------------------- sign-in throttle


async def _form_token(http: httpx.AsyncClient) -> str:
    return csrf_of(await http.get("/coordinator/sign-in"))


async def _post_sign_in(http, token: str, password: str, username: str = "alice"):
    return await http.post(
        "/coordinator/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
    )


def _from_address(app, address: str) -> httpx.AsyncClient:
    """Another browser, connecting from another address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://local")


async def test_concurrent_guesses_cannot_get_past_the_limit(desk):
    """Attempts are counted before the password is checked, so 30 guesses sent at once get
    at most the limit (5) checked; the rest are refused unchecked."""
    app, http = desk
    token = await _form_token(http)
    answers = await asyncio.gather(
        *(_post_sign_in(http, token, f"guess number {n}") for n in range(30))
    )
    codes = [answer.status_code for answer in answers]
    failures = codes.count(401)
    assert failures <= 5 and failures + codes.count(429) == 30, codes
    # (attempts made together may refuse each other: fewer than 5 may have been checked)
    for n in range(failures, 5):
        assert (await sign_in(http, password=f"one more guess {n}")).status_code == 401
    assert (await sign_in(http)).status_code == 429
    actions = [row for (row,) in (await _audit_rows(app, AuditEntry.actor == "alice"))]
    assert actions.count("sign_in_failed") == 5


async def test_a_guesser_elsewhere_does_not_lock_the_coordinator_out(desk):
    app, http = desk
    async with _from_address(app, "203.0.113.7") as guesser:
        for n in range(5):
            assert (await sign_in(guesser, password=f"guess {n} guess")).status_code == 401
        assert (await sign_in(guesser)).status_code == 429
    # The coordinator's own browser, at another address, still signs in.
    assert (await sign_in(http)).status_code == 303


async def test_guesses_spread_over_addresses_lock_only_unknown_browsers(desk):
    """20 failures on one username from several addresses lock that username for browsers
    it never signed in from; a browser it signed in from before still gets in."""
    app, http = desk
    assert (await sign_in(http)).status_code == 303  # trusted from now on
    assert "triage_device" in http.cookies
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"):
        async with _from_address(app, address) as guesser:
            for n in range(5):
                answer = await sign_in(guesser, password=f"guess {n} from {address}")
                assert answer.status_code == 401
    async with _from_address(app, "198.51.100.99") as stranger:
        assert (await sign_in(stranger)).status_code == 429
    http.cookies.delete("triage_coordinator")  # signed out; the device cookie stays
    assert (await sign_in(http)).status_code == 303


# ---------------------------------------------------------------------- review and tags


async def test_review_tags_and_their_filters(desk):
    """Issue 12, item 7: a turn the NLU did not understand (or the safety net raised)
    marks its conversation "needs review" until a coordinator reviews it; tags are free
    text with a list of the ones in use; the list filters by review, tag, category,
    intent, channel and language. Every change is audited."""
    app, http = desk
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    puzzling, patient_headers = await patient(http, "blah blah qwerty zxcv")
    yellow, _ = await patient(http, "my eyes look kind of yellow")

    async def ids(**params) -> set[str]:
        response = await http.get("/api/coordinator/conversations", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids(review="needs_review") == {puzzling}
    assert await ids(review="not_reviewed") == {puzzling, yellow}
    base = f"/api/coordinator/conversations/{puzzling}"
    turn = next(
        m
        for m in (await http.get(base, headers=headers)).json()["messages"]
        if m["role"] == "patient"
    )
    assert turn["needs_review"] == "not_understood"

    reviewed = (await http.post(f"{base}/review", json={}, headers=headers)).json()
    assert reviewed["needs_review"] is False and reviewed["reviewed_by"] == "alice"
    assert await ids(review="needs_review") == set()
    assert await ids(review="reviewed") == {puzzling}
    again = await http.post(  # a new puzzling turn after the review asks for another look
        f"/api/conversations/{puzzling}/messages",
        json={"text": "qwerty asdf zxcv"},
        headers=patient_headers,
    )
    assert again.status_code == 200
    assert await ids(review="needs_review") == {puzzling}
    assert await ids(review="reviewed") == {puzzling}  # reviewed before, but look again

    tagged = await http.put(
        f"{base}/tags",
        json={"tags": ["Wrong timing", "wrong  timing", " new phrase "]},
        headers=headers,
    )
    assert tagged.json() == {"tags": ["new phrase", "Wrong timing"]}
    await http.put(
        f"/api/coordinator/conversations/{yellow}/tags",
        json={"tags": ["new phrase"]},
        headers=headers,
    )
    used = (await http.get("/api/coordinator/tags", headers=headers)).json()["tags"]
    assert used == [
        {"tag": "new phrase", "conversations": 2},
        {"tag": "Wrong timing", "conversations": 1},
    ]
    assert await ids(tag="Wrong timing") == {puzzling}
    for bad in (["x" * 41], ["a,b"], [f"t{n}" for n in range(11)], ["bell\x07"]):
        response = await http.put(f"{base}/tags", json={"tags": bad}, headers=headers)
        assert response.status_code == 422, bad
    assert (
        await http.put(
            "/api/coordinator/conversations/nope/tags", json={"tags": ["a"]}, headers=headers
        )
    ).status_code == 404
    assert (
        await http.post("/api/coordinator/conversations/nope/review", headers=headers)
    ).status_code == 404

    assert await ids(category="liver") == {yellow}
    assert await ids(intent="report_symptom") == {yellow}
    assert await ids(channel="widget", lang="en") == {puzzling, yellow}
    assert await ids(channel="rest") == set()
    for bad in ({"category": "Liver;"}, {"review": "maybe"}, {"lang": "english"}):
        response = await http.get("/api/coordinator/conversations", params=bad, headers=headers)
        assert response.status_code == 422, bad

    entries = (await http.get("/api/coordinator/audit", headers=headers)).json()["entries"]
    actions = {entry["action"] for entry in entries}
    assert {"review", "tag"} <= actions

    await signed_in_csrf(http)
    listing = (await http.get("/coordinator/conversations", params={"tag": "new phrase"})).text
    assert puzzling[:8] in listing and yellow[:8] in listing
    page = (await http.get(f"/coordinator/conversations/{puzzling}")).text
    assert "Reviewed by alice" in page and "Wrong timing" in page and "needs review" in page
    csrf = csrf_of(await http.get(f"/coordinator/conversations/{puzzling}"))
    done = await http.post(
        f"/coordinator/conversations/{puzzling}/review", data={"csrf_token": csrf, "reviewed": "1"}
    )
    assert done.status_code == 303
    assert await ids(review="needs_review") == set()


# ---------------------------------------------------------------------- insight


async def test_insight_counts_alerts_turns_and_handling_times(desk):
    """Issue 12, item 8: per-day alerts by severity and turns by level, the share not
    understood, per-week time to acknowledge and resolve, categories alerted; the same
    figures as CSV; a chosen range, refused when backwards or too long."""
    app, http = desk
    headers = {"Authorization": f"Bearer {await api_token(app)}"}
    await patient(http, "I'm at my infusion and have hives everywhere")
    await patient(http, "my eyes look kind of yellow", "flibber wobble snorkel")
    await patient(http, "a bit tired today")
    await http.post("/api/coordinator/alerts/1/acknowledge", json={}, headers=headers)
    await http.post("/api/coordinator/alerts/1/resolve", json={}, headers=headers)

    response = await http.get("/api/coordinator/insight", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data["days"]) == 30  # the last 30 days by default
    today = data["days"][-1]
    assert today["day"] == data["until"]
    assert today["alerts"] == {"critical": 1, "high": 1, "normal": 0}
    assert today["turns"]["emergency"] == 1 and today["turns"]["urgent"] >= 1
    assert today["turns"]["routine"] >= 1
    assert today["not_understood"] == 1
    assert today["not_understood_rate"] == round(1 / sum(today["turns"].values()), 4)
    assert sum(day["alerts"]["critical"] for day in data["days"]) == 1
    week = data["weeks"][-1]
    assert week["alerts"] == 2
    assert week["acknowledge_minutes_median"] is not None and week["acknowledge_minutes_median"] < 5
    assert week["resolve_minutes_p90"] is not None
    assert data["categories"] == {"infusion_reaction": 1, "liver": 1}

    exported = await http.get("/api/coordinator/insight.csv", headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["series", "period", "key", "value"]
    assert ["alerts", data["until"], "critical", "1"] in rows
    assert ["categories_alerted", f"{data['since']}..{data['until']}", "liver", "1"] in rows

    one_day = await http.get(
        "/api/coordinator/insight",
        params={"since": data["until"], "until": data["until"]},
        headers=headers,
    )
    assert [d["day"] for d in one_day.json()["days"]] == [data["until"]]
    for bad in (
        {"since": "2026-12-03", "until": "2026-12-01"},
        {"since": "2020-01-01", "until": "2026-01-01"},
        {"since": "yesterday"},
    ):
        refused = await http.get("/api/coordinator/insight", params=bad, headers=headers)
        assert refused.status_code == 422, bad

    await signed_in_csrf(http)
    page = (await http.get("/coordinator/insight")).text
    assert page.count("<svg") == 4 and "infusion_reaction" in page
    assert "<style" not in page and "<script" not in page.split("</head>")[1]  # CSP-safe


async def test_insight_and_review_filters_on_both_databases(triager, database_url):
    """The day grouping and the JSON reads behind insight and the list's filters work on
    PostgreSQL as on SQLite."""
    async with running_app(triager, database_url) as (app, http):
        await add_coordinator(app)
        headers = {"Authorization": f"Bearer {await api_token(app)}"}
        await patient(http, "my eyes look kind of yellow", "flibber wobble snorkel")
        data = (await http.get("/api/coordinator/insight", headers=headers)).json()
        assert data["days"][-1]["turns"]["urgent"] >= 1
        assert data["days"][-1]["not_understood"] == 1
        listed = await http.get(
            "/api/coordinator/conversations",
            params={"category": "liver", "intent": "report_symptom", "review": "needs_review"},
            headers=headers,
        )
        assert listed.json()["total"] == 1


# ---------------------------------------------------------------------- accounts


async def test_an_admin_manages_accounts_in_the_dashboard(desk, tmp_path):
    """Issue 12, item 10: roles; only an admin sees the accounts page; adding, disabling
    (signed out at once), enabling, resetting a password (old one refused, API tokens
    revoked) and changing a role, each audited; no admin can lock the clinic out."""
    app, http = desk
    async with app.state.conversations.sessionmaker() as session, session.begin():
        await accounts.add_coordinator(session, "root", PASSWORD, "admin")
    await signed_in_csrf(http)  # alice: a coordinator
    assert (await http.get("/coordinator/accounts")).status_code == 403
    assert "Accounts</a>" not in (await http.get("/coordinator")).text

    admin = httpx.AsyncClient(transport=http._transport, base_url=http.base_url)
    assert (await sign_in(admin, "root")).status_code == 303
    page = await admin.get("/coordinator/accounts")
    assert page.status_code == 200 and "alice" in page.text and "Accounts</a>" in page.text
    csrf = csrf_of(page)

    added = await admin.post(
        "/coordinator/accounts",
        data={"csrf_token": csrf, "username": "bob", "password": "bob's long password"},
    )
    assert added.status_code == 303
    short = await admin.post(
        "/coordinator/accounts", data={"csrf_token": csrf, "username": "eve", "password": "short"}
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text
    bob = httpx.AsyncClient(transport=http._transport, base_url=http.base_url)
    assert (await sign_in(bob, "bob", "bob's long password")).status_code == 303
    bob_token = await api_token(app, "bob")

    disabled = await admin.post(
        "/coordinator/accounts/bob/active", data={"csrf_token": csrf, "active": "0"}
    )
    assert disabled.status_code == 303
    assert (await bob.get("/coordinator")).status_code == 303  # signed out at once
    assert (await sign_in(bob, "bob", "bob's long password")).status_code == 401
    await admin.post("/coordinator/accounts/bob/active", data={"csrf_token": csrf, "active": "1"})
    assert (await sign_in(bob, "bob", "bob's long password")).status_code == 303
    bob_token = await api_token(app, "bob")
    reset = await admin.post(
        "/coordinator/accounts/bob/password",
        data={"csrf_token": csrf, "password": "a brand new password"},
    )
    assert reset.status_code == 303
    assert (await bob.get("/coordinator")).status_code == 303
    assert (
        await http.get("/api/coordinator/me", headers={"Authorization": f"Bearer {bob_token}"})
    ).status_code == 401
    assert (await sign_in(bob, "bob", "bob's long password")).status_code == 401
    assert (await sign_in(bob, "bob", "a brand new password")).status_code == 303

    myself = await admin.post(
        "/coordinator/accounts/root/active", data={"csrf_token": csrf, "active": "0"}
    )
    assert myself.status_code == 422 and "your own account" in myself.text
    last = await admin.post(
        "/coordinator/accounts/root/role", data={"csrf_token": csrf, "role": "coordinator"}
    )
    assert last.status_code == 422 and "last active admin" in last.text
    await admin.post("/coordinator/accounts/bob/role", data={"csrf_token": csrf, "role": "admin"})
    assert (await bob.get("/coordinator/accounts")).status_code == 200  # bob is an admin now

    entries = (await admin.get("/coordinator/audit")).text
    for action in (
        "account_add",
        "account_disable",
        "account_enable",
        "account_reset_password",
        "account_role_admin",
    ):
        assert action in entries, action
    await admin.aclose()
    await bob.aclose()
