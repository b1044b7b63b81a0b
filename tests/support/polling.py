"""Waiting on servers: poll a check until it holds, and read a JSON API (Prometheus's, Alertmanager's)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from base64 import b64encode


def http_json(url: str, auth: tuple[str, str] | None = None, data: dict | None = None, timeout: float = 10):
    request = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def wait_for(check, timeout: float, what: str, interval: float = 1.0):
    """Poll until check() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (OSError, urllib.error.URLError, KeyError, ValueError) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")
