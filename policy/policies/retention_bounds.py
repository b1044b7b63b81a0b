"""retention-bounds: Prometheus and Loki set their retention, within the stack's bounds (1d-400d by default)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from ._shared import CONTAINER, PolicySpec, Resource, as_list, image_name

_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNIT_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def duration_seconds(text: str) -> float | None:
    """Seconds in a Prometheus/Loki duration ("15d", "1d12h", "720h"), or None if it is not one."""
    text = str(text).strip()
    if not text or _DURATION.sub("", text):
        return None
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(text))


def _flag(command: list, name: str) -> str | None:
    for arg in command:
        if isinstance(arg, str) and arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _bounds_problem(what: str, value: str, config: Mapping[str, Any], fix: str) -> str | None:
    low, high = config.get("minDays", 1), config.get("maxDays", 400)
    seconds = duration_seconds(value)
    if seconds is None:
        return f"{what} '{value}' is not a duration like 15d or 720h: {fix}."
    if not low * 86400 <= seconds <= high * 86400:
        return f"{what} is {value}, outside {low:g}d-{high:g}d: {fix}."
    return None


def _is_one_shot(resource: Resource) -> bool:
    """A container that runs to completion (the image's own config check), not the server: it keeps no data."""
    return resource.props.get("attach") is True and resource.props.get("mustRun") is False


def retention_bounds(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type != CONTAINER or _is_one_shot(resource):
        return []
    image = image_name(resource.props.get("image") or "")
    command = as_list(resource.props.get("command"))
    if image == "prometheus":
        fix = "set prometheus.retentionTime in Pulumi.<stack>.yaml"
        value = _flag(command, "--storage.tsdb.retention.time")
        if value is None:
            return [f"--storage.tsdb.retention.time is not set (Prometheus would keep 15d by default): {fix}."]
        problem = _bounds_problem("--storage.tsdb.retention.time", value, config, fix)
        return [problem] if problem else []
    if image == "loki":
        return _loki_retention(resource, command, config)
    return []


def _loki_retention(resource: Resource, command: list, config: Mapping[str, Any]) -> list[str]:
    fix = "set loki.retentionPeriod in Pulumi.<stack>.yaml"
    config_path = _flag(command, "-config.file") or "/etc/loki/local-config.yaml"
    uploads = {
        u.get("file"): u.get("content") for u in as_list(resource.props.get("uploads")) if isinstance(u, Mapping)
    }
    if config_path not in uploads:
        return [f"{config_path} is not uploaded, so Loki runs its image's config without retention: {fix}."]
    try:
        loki = yaml.safe_load(uploads[config_path] or "") or {}
    except yaml.YAMLError as error:
        return [f"{config_path} is not valid YAML ({error.__class__.__name__}): check stacks/render/loki.py."]
    period = (loki.get("limits_config") or {}).get("retention_period") if isinstance(loki, Mapping) else None
    if period is None:
        return [f"{config_path}: limits_config.retention_period is not set (Loki keeps logs forever): {fix}."]
    problems = []
    problem = _bounds_problem(f"{config_path}: limits_config.retention_period", str(period), config, fix)
    if problem:
        problems.append(problem)
    if (loki.get("compactor") or {}).get("retention_enabled") is not True:
        problems.append(
            f"{config_path}: compactor.retention_enabled is not true, so retention_period is never applied: "
            "enable it in stacks/render/loki.py."
        )
    return problems


POLICY = PolicySpec(
    "retention-bounds",
    "Prometheus and Loki retention are set and within bounds (1d-400d by default).",
    retention_bounds,
    {
        "minDays": {"type": "number", "minimum": 0, "default": 1},
        "maxDays": {"type": "number", "minimum": 0, "default": 400},
    },
)
