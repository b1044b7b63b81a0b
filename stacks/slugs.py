"""Grafana uids made from names (folders, contact points), and the names that would share one."""

from __future__ import annotations

import re
from collections.abc import Iterable


def slug(text: str) -> str:
    """A Grafana uid from a file or folder name: lowercase, '-' separated, at most 40 characters."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "dashboard"


def slug_collisions(names: Iterable[str]) -> list[tuple[str, str, str]]:
    """(first name, second name, shared slug) for every pair of distinct names that slug alike."""
    seen: dict[str, str] = {}
    found = []
    for name in names:
        key = slug(name)
        if key in seen and seen[key] != name:
            found.append((seen[key], name, key))
        seen.setdefault(key, name)
    return found
