"""Coordinator accounts, sign-in sessions, API tokens and sign-in throttling.

Passwords are hashed with Argon2 (pwdlib); session keys and API tokens are random and
only their SHA-256 is stored, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.service import aware, hash_token, now_utc
from app.store.models import (
    ApiToken,
    Coordinator,
    CoordinatorSession,
    SignInFailure,
    TrustedDevice,
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12

password_hash = PasswordHash.recommended()
# Verifying against this when the username is unknown keeps both answers equally slow.
_DUMMY_HASH = password_hash.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    """Who is making this request, and the CSRF token of their browser session."""

    username: str
    coordinator_id: int
    csrf_token: str | None  # None for API-token requests (no cookies, no CSRF)
    via: str  # "dashboard" or "api"
    role: str = "coordinator"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def check_new_account(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise AccountError(
            "username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


async def add_coordinator(
    session: AsyncSession, username: str, password: str, role: str = "coordinator"
) -> Coordinator:
    check_new_account(username, password)
    check_role(role)
    exists = await session.scalar(select(Coordinator.id).where(Coordinator.username == username))
    if exists is not None:
        raise AccountError(f"coordinator {username!r} already exists")
    coordinator = Coordinator(
        username=username,
        password_hash=password_hash.hash(password),
        active=True,
        role=role,
        created_at=now_utc(),
    )
    session.add(coordinator)
    await session.flush()
    return coordinator


async def set_password(session: AsyncSession, username: str, password: str) -> None:
    check_new_account(username, password)
    coordinator = await _existing(session, username)
    coordinator.password_hash = password_hash.hash(password)
    # A new password signs every browser out, revokes every API token (a leaked password
    # may have minted them) and no browser is trusted any more.
    await _signed_out(session, coordinator)
    await session.execute(
        delete(TrustedDevice).where(TrustedDevice.coordinator_id == coordinator.id)
    )


ADMIN = "admin"
ROLES = ("coordinator", ADMIN)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")


async def _signed_out(session: AsyncSession, coordinator: Coordinator) -> None:
    """Every browser session and API token of the account ends."""
    for table in (CoordinatorSession, ApiToken):
        await session.execute(delete(table).where(table.coordinator_id == coordinator.id))


async def list_coordinators(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Coordinator).order_by(Coordinator.username))
    return [
        {
            "username": row.username,
            "role": row.role,
            "active": row.active,
            "created_at": aware(row.created_at).isoformat() if row.created_at else None,
        }
        for row in rows
    ]


async def _existing(session: AsyncSession, username: str) -> Coordinator:
    coordinator = await _by_name(session, username)
    if coordinator is None:
        raise AccountError(f"no coordinator {username!r}")
    return coordinator


async def _other_admins(session: AsyncSession, coordinator: Coordinator) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Coordinator)
            .where(
                Coordinator.role == ADMIN,
                Coordinator.active.is_(True),
                Coordinator.id != coordinator.id,
            )
        )
        or 0
    )


async def set_active(session: AsyncSession, username: str, active: bool) -> None:
    """Disable (signed out everywhere, cannot sign in) or enable an account; the last
    active admin cannot be disabled, so someone can always manage the accounts."""
    coordinator = await _existing(session, username)
    if not active and coordinator.role == ADMIN and not await _other_admins(session, coordinator):
        raise AccountError("the last active admin cannot be disabled")
    coordinator.active = active
    if not active:
        await _signed_out(session, coordinator)


async def set_role(session: AsyncSession, username: str, role: str) -> None:
    check_role(role)
    coordinator = await _existing(session, username)
    if (
        role != ADMIN
        and coordinator.role == ADMIN
        and not await _other_admins(session, coordinator)
    ):
        raise AccountError("the last active admin cannot stop being one")
    coordinator.role = role


async def _by_name(session: AsyncSession, username: str) -> Coordinator | None:
    return await session.scalar(select(Coordinator).where(Coordinator.username == username))


async def verify_password(
    session: AsyncSession, username: str, password: str
) -> Coordinator | None:
    coordinator = await _by_name(session, username)
    # Argon2 takes tens of milliseconds of CPU on purpose: in a worker thread, so sign-ins
    # never stall the event loop (patients' turns, health checks).
    if coordinator is None or not coordinator.active:
        await asyncio.to_thread(password_hash.verify, password, _DUMMY_HASH)
        return None
    if not await asyncio.to_thread(password_hash.verify, password, coordinator.password_hash):
        return None
    return coordinator


# ---------------------------------------------------------------------- throttling
# Every attempt is written down, and committed, before its password is checked: attempts
# made at the same moment then count each other, so no more than the limit are checked.
# Failures count per username and source (the client's address, or the trusted browser
# it signs in from), per address over all usernames, and per username from browsers that
# never signed in as that user, so a guesser elsewhere cannot lock the coordinator out.

CLIENT_FAILURE_FACTOR = 10  # a shared clinic address may serve several coordinators
USERNAME_FAILURE_FACTOR = 4  # guesses spread over several addresses
DEVICE_DAYS = 90
DEVICE_SOURCE_PREFIX = "device:"


@dataclass(frozen=True)
class Throttle:
    """How many attempts one key may fail within the window, and the rows it counts."""

    limit: int
    where: ColumnElement[bool]


async def record_attempt(session: AsyncSession, username: str, source: str) -> int:
    attempt = SignInFailure(username=username[:64], client=source[:64], at=now_utc())
    session.add(attempt)
    await session.flush()
    return attempt.id


async def throttled_until(
    session: AsyncSession,
    *,
    attempt: int,
    username: str,
    source: str,
    client: str,
    trusted: bool,
    window: timedelta,
    limit: int,
) -> datetime | None:
    """When this attempt may be made again, or None when it may be made now. The other
    attempts in the window count: failures, and attempts being checked at this moment."""
    throttles = [
        Throttle(limit, (SignInFailure.username == username) & (SignInFailure.client == source)),
        Throttle(limit * CLIENT_FAILURE_FACTOR, SignInFailure.client == client),
    ]
    if not trusted:
        throttles.append(
            Throttle(limit * USERNAME_FAILURE_FACTOR, SignInFailure.username == username)
        )
    since = now_utc() - window
    for throttle in throttles:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(SignInFailure.at)).where(
                    SignInFailure.at > since, SignInFailure.id != attempt, throttle.where
                )
            )
        ).one()
        if count >= throttle.limit:
            return (aware(oldest) or now_utc()) + window
    return None


async def forget_attempt(session: AsyncSession, attempt: int) -> None:
    """The attempt was refused unchecked, or its password was right: it is no failure."""
    await session.execute(delete(SignInFailure).where(SignInFailure.id == attempt))


async def clear_failures(session: AsyncSession, username: str, source: str) -> None:
    """After the right password: the failures from the same source are forgiven (a
    guesser's failures from elsewhere still count)."""
    await session.execute(
        delete(SignInFailure).where(
            SignInFailure.username == username, SignInFailure.client == source
        )
    )


async def trust_device(session: AsyncSession, coordinator: Coordinator) -> str:
    """A cookie value marking this browser as one the coordinator signed in from."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    session.add(
        TrustedDevice(
            token_hash=hash_token(token),
            coordinator_id=coordinator.id,
            created_at=now,
            expires_at=now + timedelta(days=DEVICE_DAYS),
        )
    )
    return token


async def device_trusted(session: AsyncSession, token: str, username: str) -> bool:
    if not token:
        return False
    row = await session.get(TrustedDevice, hash_token(token))
    return (
        row is not None
        and aware(row.expires_at) > now_utc()
        and row.coordinator.username == username
    )


def device_source(token: str) -> str:
    return DEVICE_SOURCE_PREFIX + hash_token(token)[:16]


# ---------------------------------------------------------------------- sessions


async def open_session(
    session: AsyncSession, coordinator: Coordinator, lifetime: timedelta
) -> tuple[str, str]:
    """A new browser session: (cookie key, CSRF token)."""
    key = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = now_utc()
    session.add(
        CoordinatorSession(
            key_hash=hash_token(key),
            coordinator_id=coordinator.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    # Expired sessions are of no use to anyone; drop them while we are here.
    await session.execute(delete(CoordinatorSession).where(CoordinatorSession.expires_at < now))
    return key, csrf


async def session_for(session: AsyncSession, key: str) -> SignedIn | None:
    row = await session.get(CoordinatorSession, hash_token(key))
    if row is None or aware(row.expires_at) <= now_utc() or not row.coordinator.active:
        return None
    coordinator = row.coordinator
    return SignedIn(
        coordinator.username, row.coordinator_id, row.csrf_token, "dashboard", coordinator.role
    )


async def close_session(session: AsyncSession, key: str) -> None:
    await session.execute(
        delete(CoordinatorSession).where(CoordinatorSession.key_hash == hash_token(key))
    )


# ---------------------------------------------------------------------- API tokens


async def issue_token(
    session: AsyncSession, username: str, lifetime: timedelta
) -> tuple[str, datetime]:
    coordinator = await _existing(session, username)
    token = "tbc_" + secrets.token_urlsafe(32)
    expires = now_utc() + lifetime
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            coordinator_id=coordinator.id,
            created_at=now_utc(),
            expires_at=expires,
        )
    )
    return token, expires


async def token_for(session: AsyncSession, token: str) -> SignedIn | None:
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or aware(row.expires_at) <= now_utc() or not row.coordinator.active:
        return None
    return SignedIn(row.coordinator.username, row.coordinator_id, None, "api", row.coordinator.role)
