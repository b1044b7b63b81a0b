"""Prometheus-style durations ("30s", "5m", "1h30m", "15d").

Grafana and Alertmanager read durations with Prometheus' model.Duration and write them back in
its canonical form, so we write them that way too: a second `pulumi up` then sees no change.
"""

from __future__ import annotations

import re

_UNITS_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_SIZE = re.compile(r"^\d+(B|KB|MB|GB|TB|PB|EB)$")


def parse_duration(text: str) -> int:
    """Milliseconds in a Prometheus duration; ValueError when it is not one. As model.ParseDuration (module
    github.com/prometheus/common): "0" alone needs no unit, and the total must fit Go's time.Duration (about 292
    years in nanoseconds)."""
    if text == "0":
        return 0
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not text or not match or not any(match.groups()):
        raise ValueError(f"must look like '15d', '5m' or '1h30m', got {text!r}")
    values = match.groups()[1::2]
    ms = sum(int(v) * _UNITS_MS[u] for v, u in zip(values, _UNITS_MS, strict=True) if v)
    if ms * 1_000_000 > _MAX_NANOSECONDS:
        raise ValueError(f"{text!r} is out of range: durations end at about 292 years")
    return ms


_MAX_NANOSECONDS = 2**63 - 1


def canonical_duration(text: str) -> str:
    """The form Prometheus' model.Duration prints: '60s' -> '1m', '168h' -> '1w', '15d' -> '15d'. Years and
    weeks only when they divide it exactly ("easier to read 90d than 12w6d", model/time.go String)."""
    ms = parse_duration(text)
    if ms == 0:
        return "0s"
    out = []
    for unit, size in _UNITS_MS.items():
        if unit in ("y", "w") and ms % size:
            continue
        count, ms = divmod(ms, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def is_size(text: str) -> bool:
    """A Prometheus storage size such as '10GB' (what --storage.tsdb.retention.size takes)."""
    return isinstance(text, str) and bool(_SIZE.match(text))
