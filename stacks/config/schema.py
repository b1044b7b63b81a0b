"""The config schema in Pulumi.yaml (every key's type, description and default) and reading raw config
values against it: defaults, Pulumi's string encoding, unknown keys and wrong types, each named by its key."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.errors import Problems
from stacks.layout import SERVICE_BY_NAME
from stacks.reader import Reader
from stacks.syntax.yaml_io import parse_yaml

PROJECT = "monitoring"
PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"
# An http(s) URL with a host and no whitespace: every URL setting (a URL that Alertmanager reads as a template
# may hold spaces inside its {{ }}, so stacks/config/receivers.py matches its beginning only).
HTTP_URL = re.compile(r"https?://[^/\s]+\S*")
_SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def load_schema(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """The `config:` block of Pulumi.yaml: key -> {type, description, default}."""
    return parse_yaml(project_file.read_text())["config"]


def short_key(key: str) -> str:
    return key[len(PROJECT) + 1 :] if key.startswith(f"{PROJECT}:") else key


def with_defaults(raw: Mapping[str, Any], schema: Mapping[str, Mapping[str, Any]], problems: Problems) -> dict:
    """Raw config merged over the schema defaults, with unknown keys, missing keys and wrong types reported."""
    values: dict[str, Any] = {}
    for full_key, value in raw.items():
        namespace, _, _ = full_key.rpartition(":")
        if namespace and namespace != PROJECT:
            continue  # provider settings such as docker:host are not ours to check
        key = short_key(full_key)
        if key not in schema:
            hint = difflib.get_close_matches(key, list(schema), n=1)
            problems.add(f"{PROJECT}:{key}", "unknown config key" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            continue
        values[key] = value
    for key, spec in schema.items():
        if key not in values:
            if "default" not in spec:
                problems.add(key, f"is required: {spec.get('description', '')}".rstrip(": "))
                values[key] = None
                continue
            values[key] = spec["default"]
        expected = _SCHEMA_TYPES[spec["type"]]
        value = values[key] = _decode(values[key], spec["type"])
        if value is not None and (not isinstance(value, expected) or isinstance(value, bool) != (expected is bool)):
            problems.add(key, f"must be of type {spec['type']}, got {type(value).__name__} {value!r}")
            values[key] = spec.get("default", expected())
    return values


def _decode(value: Any, kind: str) -> Any:
    """Pulumi hands every config value to the program as a string; objects and arrays as JSON."""
    if not isinstance(value, str) or kind == "string":
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "boolean":
            return {"true": True, "false": False}[value.lower()]
        return json.loads(value)
    except (ValueError, KeyError):
        return value  # reported as a wrong type by the caller


def object_reader(key: str, value: Any, schema: Mapping, problems: Problems, optional: tuple[str, ...] = ()) -> Reader:
    """A reader of an object setting, with the keys the stack left out taken from the schema default; `optional`:
    keys it may have that have no default (left out, the program derives them)."""
    defaults = schema[key]["default"]
    given = value if isinstance(value, dict) else {}
    return Reader({**defaults, **given}, key, problems, [*defaults, *optional])


@dataclass(frozen=True)
class RawConfig:
    """What every section parser of stacks/config/load.py reads: the stack's config over the schema's defaults,
    the keys given as secrets, and where the problems go."""

    values: Mapping[str, Any]
    schema: Mapping[str, Mapping[str, Any]]
    problems: Problems
    secrets: frozenset[str]

    def reader(self, key: str, optional: tuple[str, ...] = ()) -> Reader:
        return object_reader(key, self.values[key], self.schema, self.problems, optional)

    def changed(self, key: str) -> bool:
        return self.values[key] != self.schema[key].get("default")


def per_service(r: Reader, services: tuple[str, ...]) -> list[str]:
    """The keys of a per-service map (`images`, `ports`, ...) that name a service the stack runs; a known
    service the stack does not run is reported (its setting would do nothing), unknown keys by the reader."""
    for name in sorted(set(r.value) & set(r.known) & set(SERVICE_BY_NAME) - set(services)):
        r.add(name, f"{name} is not in services, so this setting would do nothing")
    return [name for name in services if name in r.value]


# An image reference: [registry[:port]/]path[:tag][@sha256:digest], as Docker parses it.
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def checked_image(r: Reader, key: str) -> str | None:
    """An image reference with a pinned tag or digest (never `latest`, never none), or None after a problem."""
    reference = r.str(
        key, pattern=_IMAGE, expected="an image reference such as registry.example.com/prom/prometheus:v3.16.0"
    )
    match = _IMAGE.fullmatch(reference)  # "" when missing, null, empty or no image reference
    if not match:
        return None
    if not (match["tag"] or match["digest"]):
        r.add(key, f"must name a tag or a digest (a tagless reference means latest), got {reference!r}")
        return None
    if match["tag"] == "latest" and not match["digest"]:
        r.add(key, f"must pin a version, not latest: got {reference!r}")
        return None
    return reference
