"""/metrics in Prometheus format: turns, alerts and their delivery, request times under
route templates, sign-in failures; never patient text, ids or addresses."""

from __future__ import annotations

import re

from tests.conftest import eventually, running_app
from tests.test_alerts import Receiver
from tests.test_coordinator import add_coordinator, sign_in


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_count_turns_alerts_deliveries_and_sign_in_failures(triager, tmp_path):
    receiver = Receiver()
    receiver.start()
    try:
        async with running_app(
            triager, f"sqlite+aiosqlite:///{tmp_path}/m.db", alert_webhook_url=receiver.url
        ) as (app, http):
            await add_coordinator(app)
            created = (await http.post("/api/conversations", json={})).json()
            headers = {"Authorization": f"Bearer {created['token']}"}
            url = f"/api/conversations/{created['id']}/messages"
            await http.post(
                url, json={"text": "my eyes look kind of yellow okapi"}, headers=headers
            )
            await http.post(url, json={"text": "thanks"}, headers=headers)
            assert (await sign_in(http, password="not the password")).status_code == 401

            async def delivered():
                text = (await http.get("/metrics")).text
                return (
                    text
                    if sample(text, "triagebot_alert_deliveries_total", outcome="delivered")
                    else None
                )

            text = await eventually(delivered)
    finally:
        receiver.stop()
    assert sample(text, "triagebot_turns_total", channel="widget", level="urgent") == 1
    assert sample(text, "triagebot_turns_total", channel="widget", level="none") == 1
    assert sample(text, "triagebot_alerts_raised_total", level="urgent") == 1
    assert sample(text, "triagebot_alert_delivery_delay_seconds_count") == 1
    assert sample(text, "triagebot_sign_in_failures_total", outcome="wrong_password") == 1
    template = "/api/conversations/{conversation_id}/messages"
    assert (
        sample(
            text,
            "triagebot_request_duration_seconds_count",
            method="POST",
            route=template,
            status="200",
        )
        == 2
    )
    assert created["id"] not in text and "okapi" not in text and "127.0.0.1" not in text
