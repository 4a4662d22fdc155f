"""Who is in a project right now (API.md "Editing together", presence), kept in the cache.

Each open project socket has an entry of its own (`presence:<project>:<channel>`) that expires
unless its consumer refreshes it, and the project has an index of its sockets' channel names.
The cache is Redis in production, so every daphne process sees the same presence; a process
that dies takes its entries with it once they expire. The index is changed only under a short
lock (`cache.add` is atomic); playhead updates write the socket's own entry and need none.

A user with several tabs open is one person: the list shows them once, with the state of the
tab that moved last.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

# An entry lives this long unless refreshed; consumers refresh it every ENTRY_TTL / 3.
ENTRY_TTL = 60
INDEX_TTL = 24 * 3600
LOCK_TTL = 5
LOCK_WAIT = 2.0
# What one presence:update may carry.
MAX_SELECTION = 200
MAX_MESSAGE_CHARS = 16 * 1024

# Distinct on light and dark themes; a user keeps one colour everywhere (picked from their id).
COLORS = (
    "#e8590c",
    "#1c7ed6",
    "#2f9e44",
    "#ae3ec9",
    "#f08c00",
    "#0c8599",
    "#e03131",
    "#5f3dc4",
)


def _index_key(project_id: Any) -> str:
    return f"presence:{project_id}"


def _entry_key(project_id: Any, channel: str) -> str:
    return f"presence:{project_id}:{channel}"


def _lock_key(project_id: Any) -> str:
    return f"presence:{project_id}:lock"


def color_for(user_id: Any) -> str:
    digest = hashlib.sha256(str(user_id).encode()).digest()
    return COLORS[digest[0] % len(COLORS)]


def user_entry(user: Any) -> dict[str, Any]:
    """A user as presence shows them (realtime reads the user it is given, never its model)."""
    name = getattr(user, "name", "") or str(getattr(user, "email", "")).split("@")[0] or "Someone"
    return {
        "id": str(user.pk),
        "name": name,
        "avatar_url": getattr(user, "avatar_url", "") or "",
        "color": color_for(user.pk),
        "playhead": 0,
        "selection": [],
    }


class _Lock:
    """A best-effort lock around the index: after LOCK_WAIT the change goes ahead anyway (a
    lost index entry costs one missing avatar, never an error)."""

    def __init__(self, project_id: Any) -> None:
        self.key = _lock_key(project_id)
        self.held = False

    def __enter__(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT
        while not cache.add(self.key, 1, LOCK_TTL):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        self.held = True

    def __exit__(self, *exc: object) -> None:
        if self.held:
            cache.delete(self.key)


def _live_entries(project_id: Any, index: dict[str, str]) -> dict[str, dict[str, Any]]:
    keys = {_entry_key(project_id, channel): channel for channel in index}
    found = cache.get_many(list(keys))
    return {keys[key]: entry for key, entry in found.items()}


def presence_join(*, project_id: Any, channel: str, user: Any) -> dict[str, Any]:
    """Record a socket; returns its user's entry."""
    now = time.time()
    entry = {**user_entry(user), "at": now, "first": now}
    cache.set(_entry_key(project_id, channel), entry, ENTRY_TTL)
    with _Lock(project_id):
        index: dict[str, str] = cache.get(_index_key(project_id)) or {}
        live = _live_entries(project_id, index)
        # Sockets of dead processes drop out of the index here.
        index = {ch: uid for ch, uid in index.items() if ch in live}
        index[channel] = entry["id"]
        cache.set(_index_key(project_id), index, INDEX_TTL)
    return _public(entry)


def presence_leave(*, project_id: Any, channel: str, user_id: Any) -> bool:
    """Forget a socket; True if its user has no other socket left in the project."""
    cache.delete(_entry_key(project_id, channel))
    with _Lock(project_id):
        index: dict[str, str] = cache.get(_index_key(project_id)) or {}
        index.pop(channel, None)
        live = _live_entries(project_id, index)
        index = {ch: uid for ch, uid in index.items() if ch in live}
        if index:
            cache.set(_index_key(project_id), index, INDEX_TTL)
        else:
            cache.delete(_index_key(project_id))
    return str(user_id) not in index.values()


def presence_update(
    *, project_id: Any, channel: str, user: Any, playhead: float, selection: list[str]
) -> None:
    entry = cache.get(_entry_key(project_id, channel)) or {**user_entry(user), "first": time.time()}
    entry.update(playhead=playhead, selection=selection, at=time.time())
    cache.set(_entry_key(project_id, channel), entry, ENTRY_TTL)


def presence_refresh(*, project_id: Any, channel: str, user: Any) -> None:
    """Keep a quiet socket's entry alive (re-created if the cache lost it)."""
    if not cache.touch(_entry_key(project_id, channel), ENTRY_TTL):
        now = time.time()
        entry = {**user_entry(user), "at": now, "first": now}
        cache.set(_entry_key(project_id, channel), entry, ENTRY_TTL)


def presence_users(*, project_id: Any) -> list[dict[str, Any]]:
    """Everyone in the project, once each, in the order they came."""
    index: dict[str, str] = cache.get(_index_key(project_id)) or {}
    by_user: dict[str, dict[str, Any]] = {}
    for entry in _live_entries(project_id, index).values():
        known = by_user.get(entry["id"])
        if known is None or entry.get("at", 0) > known.get("at", 0):
            by_user[entry["id"]] = entry
    return [_public(e) for e in sorted(by_user.values(), key=lambda e: e.get("first", e["at"]))]


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        key: entry[key] for key in ("id", "name", "avatar_url", "color", "playhead", "selection")
    }


def parse_update(content: dict[str, Any]) -> tuple[float, list[str]] | None:
    """The playhead and selection of a client's presence:update, or None if it is not one
    (numbers only, a bounded list of segment ids)."""
    playhead = content.get("playhead", 0)
    selection = content.get("selection", [])
    if isinstance(playhead, bool) or not isinstance(playhead, int | float):
        return None
    if not math.isfinite(playhead) or playhead < 0:
        return None
    playhead = min(float(playhead), float(settings.TIMELINE_MAX_DURATION))
    if not isinstance(selection, list) or len(selection) > MAX_SELECTION:
        return None
    ids: list[str] = []
    for item in selection:
        if not isinstance(item, str) or len(item) > 64:
            return None
        try:
            ids.append(str(uuid.UUID(item)))
        except ValueError:
            return None
    return round(playhead, 3), list(dict.fromkeys(ids))
