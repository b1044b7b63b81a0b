"""Which properties the engine sent as Pulumi secrets: what a pulumi_policy validate function cannot see.

The engine marshals a resource's inputs for the Analyze call with secrets kept (each one wrapped as
{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}), but
pulumi_policy 1.21.0 unwraps them before calling `validate` (deserialize_properties(...) without
proxy_secrets), so a policy sees plain values with no mark of their secretness
(pulumi/pulumi-policy#241, open: "It's not currently possible to check if a stack config value or
property is a secret from policies"). The usual workaround, checking `opts.additional_secret_outputs`,
would not prove it either: additionalSecretOutputs only wraps a resource's *outputs* (engine
step_executor.go), while its inputs, where these values are written, stay in the state as they were sent.

So the pack reads the secret marks from the request itself: `SecretAwareServicer.Analyze` records the
paths of the wrapped values for the thread that runs the policies, then lets pulumi_policy do the rest.
That needs pulumi_policy's analyzer class (private, hence the exact pin in requirements.txt);
tests/program/test_policy.py drives the pack over gRPC with secret and plain values, so a pulumi_policy that
changes this breaks a test rather than passing every resource.
"""

from __future__ import annotations

import threading
from typing import Any

from google.protobuf import json_format
from pulumi_policy import policy as _pulumi_policy

SIG_KEY = "4dabf18193072939515e22adb298388d"  # the wire format's signature key (pulumi.runtime.rpc)
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

_seen = threading.local()


def secret_paths(value: Any, path: tuple = ()) -> frozenset:
    """Paths of the secret-wrapped values in properties as the engine sent them (nested secrets too)."""
    found: set = set()
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            found.add(path)
            found |= secret_paths(value.get("value"), path)
        else:
            for key, item in value.items():
                found |= secret_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= secret_paths(item, path + (index,))
    return frozenset(found)


def current() -> frozenset:
    """The secret paths of the resource the running policy is checking."""
    return getattr(_seen, "paths", frozenset())


class SecretAwareServicer(_pulumi_policy._PolicyAnalyzerServicer):
    def Analyze(self, request, context):
        _seen.paths = secret_paths(json_format.MessageToDict(request.properties))
        try:
            return super().Analyze(request, context)
        finally:
            _seen.paths = frozenset()


def install() -> None:
    """Make PolicyPack serve through SecretAwareServicer (PolicyPack looks the class up when it starts)."""
    _pulumi_policy._PolicyAnalyzerServicer = SecretAwareServicer
