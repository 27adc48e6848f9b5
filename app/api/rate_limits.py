"""Per-client request limits on the public patient endpoints, with the `limits` library:
beyond them a clear 429 with Retry-After, and nothing is stored.

The counters live in memory, per process, by default; `TRIAGE_RATE_LIMIT_STORAGE` set to a
Redis URL (`redis://host:6379`) shares them between processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

# For the OpenAPI schema of every limited route.
RATE_LIMITED: dict[int | str, dict[str, object]] = {
    429: {
        "description": "Too many requests from this address: `Retry-After` says when to try again."
    }
}


class TooManyRequests(Exception):
    """A client went over one of its limits; `retry_after` seconds until it may go on."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what} from this address: try again in {retry_after} s")
        self.retry_after = retry_after


class RateLimits:
    """Named limits ("conversations": "30/minute;300/day") checked per key."""

    def __init__(self, storage: str, rules: dict[str, str]) -> None:
        # limits' asyncio storages are named "async+<scheme>" ("async+memory://").
        uri = storage if storage.startswith("async+") else f"async+{storage}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._rules: dict[str, list[RateLimitItem]] = {
            name: parse_many(spec) for name, spec in rules.items() if spec.strip()
        }

    async def check(self, rule: str, *keys: str) -> None:
        """Count one request of `rule` for `keys`; raise TooManyRequests beyond a limit."""
        for item in self._rules.get(rule, ()):
            if not await self._limiter.hit(item, rule, *keys):
                stats = await self._limiter.get_window_stats(item, rule, *keys)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(rule, wait)


def client_of(request: Request) -> str:
    """The client's address (a proxy's X-Forwarded-For only from TRIAGE_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


def limited(rule: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency counting one request of `rule` for the client's address (and for
    the conversation, when the route has one)."""

    async def check(request: Request) -> None:
        limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
        if limits is None:
            return
        await limits.check(rule, client_of(request))
        conversation = request.path_params.get("conversation_id")
        if conversation:
            await limits.check(f"{rule}_per_conversation", str(conversation))

    return check
