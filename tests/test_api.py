"""HTTP contract of the triage core: /api/triage, /model/parse, /healthz, bad input."""

from __future__ import annotations

import pytest

from app.nlu.pipeline import MAX_MESSAGE_CHARS


async def test_health(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_triage_contract_shape(client):
    response = await client.post("/api/triage", json={"text": "my eyes look kind of yellow"})
    assert response.status_code == 200
    body = response.json()
    assert body["level"] == "urgent"
    assert body["categories"] == ["liver"]
    [symptom] = body["symptoms"]
    assert symptom["concept"] == "jaundice" and symptom["category"] == "liver"
    text = "my eyes look kind of yellow"
    assert text[symptom["start"] : symptom["end"]] == symptom["text"]
    for flag in ("negated", "hypothetical", "historical", "family"):
        assert symptom[flag] is False
    assert symptom["uncertain"] is True  # "kind of": a hedged report, which still counts
    assert body["intent"]["name"] == "report_symptom"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["guidance"] and all(line["text"] and line["source"] for line in body["guidance"])
    assert body["guidance"][0]["text"].startswith("Do not take your next natalizumab dose")
    assert body["questions"] == []


async def test_emergency_guidance_starts_with_the_action(client):
    body = (
        await client.post(
            "/api/triage", json={"text": "I'm at my infusion and I'm covered in itchy bumps"}
        )
    ).json()
    assert body["level"] == "emergency"
    assert body["categories"][0] == "infusion_reaction"
    assert "infusion nurse" in body["guidance"][0]["text"]
    # Stateless: no alert is raised here, so the patient is not told of one.
    assert not any("alerted" in line["text"] for line in body["guidance"])


async def test_hives_without_timing_asks_about_the_infusion(client):
    body = (await client.post("/api/triage", json={"text": "I've got hives all over"})).json()
    assert body["level"] == "urgent"
    assert body["categories"] == ["allergic_reaction"]
    assert body["questions"] == ["infusion_window"]


async def test_parse_has_rasa_shape(client):
    text = "no fever, just a headache"
    body = (await client.post("/model/parse", json={"text": text})).json()
    assert body["text"] == text
    assert set(body["intent"]) == {"name", "confidence"}
    assert body["intent_ranking"][0] == body["intent"] or body["intent"]["name"] == "nlu_fallback"
    entities = {e["value"]: e for e in body["entities"]}
    assert entities["fever"]["negated"] is True and entities["headache"]["negated"] is False
    for entity in body["entities"]:
        assert {"entity", "value", "start", "end", "confidence_entity", "extractor"} <= set(entity)
        assert text[entity["start"] : entity["end"]] == entity["text"]


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   "},
        {"text": 5},
        {"text": None},
        {"text": ["hives"]},
        {},
        {"text": "hives", "lang": "fr"},
        [],
        "just a string",
    ],
)
@pytest.mark.parametrize("route", ["/api/triage", "/model/parse"])
async def test_bad_bodies_get_422(client, route, payload):
    response = await client.post(route, json=payload)
    assert response.status_code == 422
    assert "detail" in response.json()


@pytest.mark.parametrize("route", ["/api/triage", "/model/parse"])
async def test_malformed_json_gets_422(client, route):
    for raw in (b"{bad json", b"", b"[1, 2"):
        response = await client.post(
            route, content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, raw


@pytest.mark.parametrize("route", ["/api/triage", "/model/parse"])
async def test_binary_body_gets_a_client_error(client, route):
    raw = b"\xff\xfe\x00binary\x89PNG"
    response = await client.post(route, content=raw, headers={"content-type": "application/json"})
    assert response.status_code in {400, 422}
    assert response.json()["detail"]
    assert (await client.get("/healthz")).status_code == 200


async def test_a_100_kb_message_gets_413(client):
    response = await client.post("/api/triage", json={"text": "a" * 100_000})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


async def test_a_message_over_the_character_limit_gets_413(client):
    text = "tired " * (MAX_MESSAGE_CHARS // 6 + 10)
    assert len(text.encode()) < 64 * 1024
    response = await client.post("/api/triage", json={"text": text})
    assert response.status_code == 413


async def test_html_in_a_message_is_only_text(client):
    text = "<img src=x onerror=alert(1)> my eyes are yellow"
    body = (await client.post("/api/triage", json={"text": text})).json()
    assert body["level"] == "urgent"
    assert all("<img" not in line["text"] for line in body["guidance"])


async def test_chinese_is_triaged_and_answered_in_chinese(client):
    response = await client.post("/api/triage", json={"text": "刚输完Tysabri，皮肤有点发黄"})
    assert response.status_code == 200
    body = response.json()
    assert body["lang"] == "zh"  # detected: English drug names inside Chinese text
    assert body["level"] == "urgent" and body["categories"][0] == "liver"
    assert body["guidance"] and all(
        any("\u4e00" <= c <= "\u9fff" for c in line["text"]) for line in body["guidance"]
    )
    assert all(line["source"] for line in body["guidance"])  # the English source sections


async def test_a_language_without_a_model_is_refused(client):
    response = await client.post("/api/triage", json={"text": "j'ai mal", "lang": "fr"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": NaN}',
        b'{"text": Infinity}',
        b'{"text": "\\ud800 my eyes are yellow"}',
        b'{"text": ["my eyes are yellow"]}',
        b'{"text": {"said": "my eyes are yellow"}}',
    ],
)
async def test_bad_values_get_a_reason_and_never_the_text_back(client, body):
    for path, key in (("/api/triage", "text"), ("/webhooks/rest/webhook", "message")):
        payload = body.replace(b'"text"', f'"sender": "p", "{key}"'.encode())
        if path == "/api/triage":
            payload = body
        response = await client.post(
            path, content=payload, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (path, response.text)
        assert "yellow" not in response.text and response.json()["detail"][0]["loc"]
