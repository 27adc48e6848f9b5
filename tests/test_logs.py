"""The service's own process writes structured logs: one JSON object per line, each
request's lines with its id (echoed in X-Request-ID) and conversation, no patient text."""

from __future__ import annotations

import json
import time

import httpx

from app.observability.logs import REQUEST_ID
from tests.browser_support import LiveService

SECRET = "zqxv my eyes look kind of yellow"


def log_lines(service: LiveService) -> list[dict]:
    lines = [line for line in service.log.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


def logged(service: LiveService, request_id: str) -> dict:
    """The access line of `request_id` (written just after the response is sent)."""
    deadline = time.monotonic() + 5
    while True:
        for line in log_lines(service):
            if line["event"] == "request" and line.get("request_id") == request_id:
                return line
        assert time.monotonic() < deadline, f"no access line for {request_id}"
        time.sleep(0.05)


def test_each_request_is_one_json_line_with_its_ids_and_no_patient_text(service: LiveService):
    with httpx.Client(base_url=service.url, timeout=10) as http:
        created = http.post("/api/conversations", json={}, headers={"X-Request-ID": "qa-1"})
        assert created.headers["x-request-id"] == "qa-1"
        conversation, token = created.json()["id"], created.json()["token"]
        turn = http.post(
            f"/api/conversations/{conversation}/messages",
            json={"text": SECRET},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "qa-2"},
        )
        assert turn.status_code == 200
        search = http.get(
            "/api/coordinator/conversations",
            params={"q": "yellow"},
            headers={"Authorization": f"Bearer {service.token}", "X-Request-ID": "qa-3"},
        )
        assert search.status_code == 200
        # A stranger's guess at the conversation is logged under the id it tried.
        stranger = http.get(
            f"/api/conversations/{conversation}/messages",
            headers={"Authorization": "Bearer wrong", "X-Request-ID": "qa-4"},
        )
        assert stranger.status_code in (401, 404)

    by_request = {rid: logged(service, rid) for rid in ("qa-1", "qa-2", "qa-3", "qa-4")}
    assert by_request["qa-1"]["conversation_id"] == conversation
    assert by_request["qa-2"] == by_request["qa-2"] | {
        "route": "/api/conversations/{conversation_id}/messages",
        "status": 200,
        "conversation_id": conversation,
        "level": "info",
    }
    assert by_request["qa-3"]["route"] == "/api/coordinator/conversations"
    assert by_request["qa-4"]["conversation_id"] == conversation
    assert by_request["qa-4"]["status"] in (401, 404)
    text = service.log.read_text()
    assert "yellow" not in text and "zqxv" not in text
    assert all(line["timestamp"].endswith("Z") for line in log_lines(service))


def test_a_request_id_that_could_forge_a_log_line_is_replaced(service: LiveService):
    forged = 'x" , "level": "critical'
    for given in (forged, "a" * 65, ""):
        response = httpx.get(f"{service.url}/widget.js", headers={"X-Request-ID": given})
        issued = response.headers["x-request-id"]
        assert issued != given and len(issued) == 32
        assert logged(service, issued)["route"] == "/widget.js"
    assert all(
        REQUEST_ID.fullmatch(line["request_id"])
        for line in log_lines(service)
        if "request_id" in line
    )


def test_probes_are_not_logged_while_they_succeed(service: LiveService):
    assert httpx.get(f"{service.url}/healthz", headers={"X-Request-ID": "probe-1"}).is_success
    missing = httpx.get(f"{service.url}/no-such-page", headers={"X-Request-ID": "qa-404"})
    assert missing.status_code == 404
    assert logged(service, "qa-404")["route"] == "unmatched"
    assert "probe-1" not in {line.get("request_id") for line in log_lines(service)}
