"""Rate limits on the shared cache (Redis in production), as DRF throttle classes.

DRF's stock throttles read a history list, decide, then write it back: concurrent requests
all read the same history and 11–19 of 100 pass a limit of 10. Here every request counts
itself with one atomic increment on a fixed-window counter (`cache.add` creates the window,
`cache.incr` is Redis INCR), so the number of requests let through in a window can never
exceed the limit, however many arrive at once.

Scopes (limits from `settings.RATE_LIMITS`, "N/sec|min|hour|day"):
- `user`: every authenticated request, per user;
- `ip`: every request, per client address (several accounts behind one address);
- `auth`: POSTs to the views that declare `throttle_scope = "auth"` (sign-in, registration,
  token refresh), per client address (password guessing);
- `upload`: POSTs to the views that declare `throttle_scope = "upload"` (starting uploads,
  sending chunks, completing), per user (or address).
A view declares its scope itself, so a new or moved URL cannot slip out of its limit.

Sign-in forms count failed passwords with the same counters (accounts/signin_limits.py) and
raise `RateLimited`, which the API and the pages answer with 429 and Retry-After.

The client address is REMOTE_ADDR unless proxies are configured: `TRUSTED_PROXIES` (addresses
or networks) or `NUM_PROXIES` (how many proxies append to X-Forwarded-For). A client-sent
X-Forwarded-For is never trusted by default, so it cannot reset a per-address limit.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
PERIODS |= {"hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int


@lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """`"30/min"` → Rate(30, 60); also `"5/10s"`-style multiples: `"100/5min"`."""
    count, _, per = text.partition("/")
    match = re.fullmatch(r"(\d*)\s*([a-z]+)", per.strip().lower())
    if not count.strip().isdigit() or not match or match.group(2) not in PERIODS:
        raise ValueError(f"A rate looks like '30/min', not {text!r}.")
    multiple = int(match.group(1) or 1)
    return Rate(limit=int(count), period=multiple * PERIODS[match.group(2)])


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client, trusting X-Forwarded-For only as far as configured."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [part.strip() for part in forwarded.split(",") if part.strip()]
    chain = [*hops, remote]
    trusted = tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    if trusted:
        networks = _trusted_networks(trusted)
        # Walk back from the nearest hop; the first address no trusted proxy vouches for wins.
        for address in reversed(chain):
            if not _is_trusted(address, networks):
                return address
        return chain[0]
    proxies = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    # Each proxy appends the address it saw; anything further left is client-written.
    return chain[-(proxies + 1)] if len(chain) > proxies else chain[0]


def _counter_error(exc: Exception) -> bool:
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a hard dependency
        return False
    return isinstance(exc, redis.exceptions.RedisError)


class RateLimited(Exception):
    """Raised outside DRF's throttles (e.g. by a sign-in form) when a limit is reached; the API
    answers 429 RATE_LIMITED and pages a 429 page, both with Retry-After."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class Usage:
    """One request counted against a window; `rollback` takes it back (e.g. a sign-in that
    turned out to be no failure)."""

    cache_key: str
    count: int
    seconds_left: float

    def rollback(self) -> None:
        try:
            cache.decr(self.cache_key)
        except ValueError:
            pass  # the window has ended meanwhile: nothing left to take back


def _cache_down() -> Exception:
    # Imported here: common.api imports DRF's views, which import these throttles.
    from common.api import ApiError
    from common.errors import ErrorCode

    return ApiError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "The service is briefly unavailable. Please try again in a few seconds.",
        headers={"Retry-After": "5"},
    )


def _window(key: str, rate: Rate) -> tuple[str, float]:
    now = time.time()
    window = int(now // rate.period)
    return f"{settings.RATE_LIMIT_NAMESPACE}:{key}:{window}", (window + 1) * rate.period - now


def consume(key: str, rate: Rate) -> Usage:
    """Count one request against `key` in the current window of `rate`."""
    cache_key, seconds_left = _window(key, rate)
    timeout = rate.period + 1
    try:
        for _ in range(3):
            cache.add(cache_key, 0, timeout)
            try:
                return Usage(cache_key, cache.incr(cache_key), seconds_left)
            except ValueError:
                continue  # the window expired between add and incr: create it again
        raise RuntimeError(f"could not count a request against {cache_key}")
    except Exception as exc:
        if _counter_error(exc):
            raise _cache_down() from exc
        raise


def forget(key: str, rate: Rate) -> None:
    """Drop the current window's count of `key`."""
    try:
        cache.delete(_window(key, rate)[0])
    except Exception as exc:
        if _counter_error(exc):
            raise _cache_down() from exc
        raise


def hit(key: str, rate: Rate) -> tuple[int, float]:
    """Count one request against `key`; returns (requests in this window, seconds left)."""
    usage = consume(key, rate)
    return usage.count, usage.seconds_left


class CacheRateThrottle(BaseThrottle):
    """A scope's limit on the shared cache; subclasses say when it applies and to whom."""

    scope = ""

    def __init__(self) -> None:
        self.seconds_left: float | None = None

    def applies(self, request: Any, view: Any) -> bool:
        return True

    def identity(self, request: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def allow_request(self, request: Any, view: Any) -> bool:
        if not settings.RATE_LIMIT_ENABLED or not self.applies(request, view):
            return True
        rate = parse_rate(settings.RATE_LIMITS[self.scope])
        count, seconds_left = hit(f"{self.scope}:{self.identity(request)}", rate)
        if count <= rate.limit:
            return True
        self.seconds_left = seconds_left
        return False

    def wait(self) -> float | None:
        return math.ceil(self.seconds_left) if self.seconds_left is not None else None


class UserRateThrottle(CacheRateThrottle):
    scope = "user"

    def applies(self, request: Any, view: Any) -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)


class IPRateThrottle(CacheRateThrottle):
    scope = "ip"

    def identity(self, request: Any) -> str:
        return f"ip:{client_ip(request)}"


class ViewScopeMixin:
    """Applies to POSTs of the views whose `throttle_scope` names this throttle's scope."""

    scope = ""

    def applies(self, request: Any, view: Any) -> bool:
        return request.method == "POST" and getattr(view, "throttle_scope", None) == self.scope


class AuthRateThrottle(ViewScopeMixin, IPRateThrottle):
    scope = "auth"


class UploadRateThrottle(ViewScopeMixin, CacheRateThrottle):
    scope = "upload"
