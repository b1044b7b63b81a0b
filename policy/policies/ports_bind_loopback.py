"""ports-bind-loopback: published ports bind to loopback, or to an address the stack's policy config allows."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ._shared import CONTAINER, PolicySpec, Resource, as_list


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _number(value: Any) -> Any:
    """3010.0 -> 3010: numbers reach a policy as floats (protobuf Struct)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def ports_bind_loopback(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type != CONTAINER:
        return []
    problems = []
    allowed = set()
    for entry in config.get("allowedBindAddresses") or []:
        address = _address(str(entry))
        if address is None:
            problems.append(f"allowedBindAddresses: '{entry}' is not an IP address: fix this stack's policy config.")
        else:
            allowed.add(address)
    for port in as_list(resource.props.get("ports")):
        ip = (port.get("ip") or "0.0.0.0") if isinstance(port, Mapping) else "0.0.0.0"  # Docker's default
        address = _address(ip)
        if address is not None and (address.is_loopback or address in allowed):
            continue
        problems.append(
            f"port {_number(port.get('external'))} (container port {_number(port.get('internal'))}) "
            f"is published on {ip}, "
            f"not on loopback: set bindAddress: 127.0.0.1 in Pulumi.<stack>.yaml, or allow {ip} for this "
            f'stack in policy/config/<stack>.json ("ports-bind-loopback": {{"allowedBindAddresses": ["{ip}"]}}).'
        )
    return problems


POLICY = PolicySpec(
    "ports-bind-loopback",
    "Published ports bind to loopback unless the stack's policy config allows another address.",
    ports_bind_loopback,
    {"allowedBindAddresses": {"type": "array", "items": {"type": "string"}, "default": []}},
)
