"""Service settings, read once from the environment (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from limits import parse_many
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.clinic import ClinicHours

MIN_REST_TOKEN_CHARS = 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # SQLite file by default (zero set-up); PostgreSQL: postgresql+asyncpg://user@host/db
    database_url: str = Field(
        default="sqlite+aiosqlite:///./triagebot.db",
        validation_alias=AliasChoices("DATABASE_URL", "TRIAGE_DATABASE_URL"),
    )
    # Run Alembic migrations to head at start-up (the schema only changes through them).
    auto_migrate: bool = True
    # Where alerts are POSTed; empty: kept in the database (and the dashboard) only.
    alert_webhook_url: str = Field(
        default="", validation_alias=AliasChoices("ALERT_WEBHOOK_URL", "TRIAGE_ALERT_WEBHOOK_URL")
    )
    alert_retry_base_seconds: float = 1.0
    alert_retry_max_seconds: float = 300.0
    alert_poll_seconds: float = 2.0
    alert_timeout_seconds: float = 5.0
    # Alerts POSTed at the same time (most severe first).
    alert_concurrency: int = Field(default=16, ge=1, le=64)
    # PostgreSQL connections each process keeps open (10 more may open under a burst).
    db_pool_size: int = Field(default=20, ge=1, le=200)
    # Largest request body accepted; bigger ones get 413 before any parsing.
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    # `triagebot serve` writes one JSON object per log line; "console" for reading by eye.
    log_format: Literal["json", "console"] = "json"
    # Coordinator sign-in: how long a browser stays signed in, and the throttle on failed
    # sign-ins (per username; ten times as many per client address) in a sliding window.
    coordinator_session_hours: float = 12.0
    sign_in_max_failures: int = 5
    sign_in_window_minutes: float = 15.0
    # Reverse proxies whose X-Forwarded-For / -Proto are believed (uvicorn's
    # forwarded_allow_ips), e.g. ["10.0.0.2"]. Empty: the connecting address is the client,
    # so nobody can pick their own address for the sign-in throttle by sending the header.
    trusted_proxies: list[str] = []
    # Per-address limits on the public patient endpoints ("N/second|minute|hour|day", several
    # joined by ";"; empty turns one off): creating widget conversations, posting messages
    # (also per conversation) and /api/triage + /model/parse. Counted in memory per process,
    # or shared between processes through Redis: TRIAGE_RATE_LIMIT_STORAGE=redis://host:6379.
    rate_limit_storage: str = "memory://"
    rate_limit_conversations: str = "30/minute;500/day"
    rate_limit_messages: str = "120/minute"
    rate_limit_messages_per_conversation: str = "30/minute"
    rate_limit_triage: str = "300/minute"
    # Mark cookies Secure (HTTPS only). Turn on in production behind TLS.
    secure_cookies: bool = False
    # Origins allowed to embed the widget (CORS for /api/conversations); "*" means any.
    widget_origins: list[str] = ["*"]
    # Rasa's REST channel (/webhooks/rest/webhook) has no authentication of its own: anyone
    # who knows a sender id could write into that conversation. "off" (default: the widget is
    # the public entry point), "token" (callers send `Authorization: Bearer TRIAGE_REST_TOKEN`,
    # for a trusted front end or QA), or "open" (local testing only).
    rest_channel: Literal["off", "token", "open"] = "off"
    rest_token: str = ""
    # When a care coordinator answers: told to the patient with every alert and handoff.
    # Days and times like "Mon-Fri 08:00-18:00; Sat 09:00-12:00", in clinic_timezone.
    clinic_hours: str = "Mon-Fri 08:00-18:00"
    clinic_timezone: str = "UTC"
    clinic_reply_minutes: int = 60

    @model_validator(mode="after")
    def _check(self) -> Settings:
        self.clinic()  # a clear error at start-up, not at the first alert
        for name, spec in self.rate_limits().items():
            try:
                parse_many(spec) if spec.strip() else None
            except ValueError:
                raise ValueError(
                    f"TRIAGE_RATE_LIMIT_{name.upper()}: {spec!r} is not like '30/minute;500/day'"
                ) from None
        if self.rest_channel == "token" and len(self.rest_token) < MIN_REST_TOKEN_CHARS:
            raise ValueError(
                f"TRIAGE_REST_CHANNEL=token needs TRIAGE_REST_TOKEN of at least "
                f"{MIN_REST_TOKEN_CHARS} characters"
            )
        return self

    def rate_limits(self) -> dict[str, str]:
        return {
            "conversations": self.rate_limit_conversations,
            "messages": self.rate_limit_messages,
            "messages_per_conversation": self.rate_limit_messages_per_conversation,
            "triage": self.rate_limit_triage,
        }

    def clinic(self) -> ClinicHours:
        return ClinicHours.parse(self.clinic_hours, self.clinic_timezone, self.clinic_reply_minutes)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
