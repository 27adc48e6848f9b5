"""Proxy headers: believed only from the proxies named in TRIAGE_TRUSTED_PROXIES, so a
client cannot pick its own address for the sign-in throttle (a real uvicorn server)."""

from __future__ import annotations

import re

import httpx

from app.cli import proxy_options
from app.settings import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_forwarded_for_from_an_untrusted_client_is_ignored(service):
    with httpx.Client(base_url=service.url, timeout=30) as http:
        token = CSRF.search(http.get("/coordinator/sign-in").text).group(1)
        codes = []
        for n in range(6):
            answer = http.post(
                "/coordinator/sign-in",
                data={"username": "alice", "password": f"wrong guess {n}", "csrf_token": token},
                headers={"X-Forwarded-For": f"192.0.2.{n + 1}"},
            )
            codes.append(answer.status_code)
            token = CSRF.search(answer.text).group(1)  # each answer's form has a new token
    # Every guess counted against the one real address: the sixth is refused.
    assert codes == [401] * 5 + [429], codes


def test_proxy_headers_are_on_only_for_named_proxies():
    assert proxy_options(Settings(trusted_proxies=[]))["proxy_headers"] is False
    options = proxy_options(Settings(trusted_proxies=["10.0.0.2", "10.0.0.3"]))
    assert options == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.2,10.0.0.3"}
