"""Prometheus metrics (prometheus-client) at /metrics: what an operator watches — turns,
alerts, their delivery, request times, sign-in failures. Labels are levels, channels and
route templates: never patient text, ids or addresses.

Each app has its own registry; with several processes, each is scraped on its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# Seconds: an alert should reach the receiver within a couple of seconds.
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "triagebot_turns",
            "Patient turns answered, by channel and the turn's triage level.",
            ["channel", "level"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "triagebot_alerts_raised",
            "Alerts raised or changed by a turn, by the turn's triage level.",
            ["level"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "triagebot_alert_deliveries",
            "Alert delivery attempts, by outcome (delivered, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.delivery_delay = Histogram(
            "triagebot_alert_delivery_delay_seconds",
            "From an alert being raised to its delivery.",
            buckets=DELIVERY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Histogram(
            "triagebot_request_duration_seconds",
            "HTTP request time, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.sign_ins = Counter(
            "triagebot_sign_in_failures",
            "Coordinator sign-ins refused, by outcome (wrong password, throttled).",
            ["outcome"],
            registry=self.registry,
        )
