"""The pack's test helper: drive the policy pack the way the engine does, one resource at a time.

It starts the real pack (`policy/.venv/bin/python policy`), configures it as `--policy-pack-config`
would, and sends resources over the Analyzer gRPC protocol (Configure, Analyze, AnalyzeStack), with
secrets wrapped as the engine wraps them. Tests use it instead of calling validate functions on a
hand-made ResourceValidationArgs because pulumi_policy cannot be imported where the tests run (the program's .venv;
see policy/requirements.txt), and a real request also exercises how the pack reads what the engine sends.

It needs only what the program's .venv has: grpcio and pulumi's generated analyzer stubs.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from repo import ROOT

POLICY_DIR = ROOT / "policy"
PACK_PYTHON = POLICY_DIR / ".venv" / "bin" / "python"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
LEVEL_NAMES = {number: name for name, number in LEVELS.items()}


def secret(value: Any) -> dict:
    """A value as the engine sends a Pulumi secret."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:test::monitoring::{type_}::{name}"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    message: str
    """The policy's description, a newline, then what the check reported."""
    urn: str


@dataclass
class StackResource:
    """A resource of an AnalyzeStack call: its outputs, and its parent's URN."""

    type: str
    name: str
    props: dict
    parent: str = ""
    urn: str = field(default="")

    def __post_init__(self):
        self.urn = self.urn or urn_of(self.type, self.name)


class PolicyPackProcess:
    """The pack, running in its own process and virtualenv. Use as a context manager."""

    def __init__(self, pack_dir: Path = POLICY_DIR, python: Path = PACK_PYTHON):
        if not python.exists():
            raise FileNotFoundError(
                f"{python}: the policy pack's virtualenv is missing; run offline/toolchain/build.sh"
            )
        self._stderr = tempfile.TemporaryFile()
        # The CLI passes the engine's address; this pack never calls the engine back.
        self._process = subprocess.Popen(
            [str(python), "-u", str(pack_dir), "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self._channel = None
        try:
            line = self._process.stdout.readline()
            if not line.strip().isdigit():
                self._stderr.seek(0)
                raise RuntimeError(f"the policy pack did not start: {line!r}\n{self._stderr.read().decode()[-3000:]}")
            self._channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self.info = self._stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            self.policies = {p.name: p for p in self.info.policies}
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._process.kill()
        self._process.wait(timeout=10)
        self._process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def configure(self, config: Mapping[str, Any]) -> None:
        """Apply a --policy-pack-config document as the CLI does: each policy's schema defaults, then
        "all", then each policy's own level and properties."""
        levels = {name: LEVEL_NAMES[p.enforcementLevel] for name, p in self.policies.items()}
        properties: dict[str, dict] = {}
        for name, p in self.policies.items():
            schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
            properties[name] = {k: v["default"] for k, v in schema.items() if "default" in v}
        if isinstance(config.get("all"), str):
            levels = dict.fromkeys(levels, config["all"])
        for name, value in config.items():
            if name == "all":
                continue
            if name not in self.policies:
                raise KeyError(f"no policy named {name!r} in the pack (has {sorted(self.policies)})")
            if isinstance(value, str):
                levels[name] = value
            else:
                value = dict(value)
                levels[name] = value.pop("enforcementLevel", levels[name])
                properties[name].update(value)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name in self.policies:
            entry = request.policyConfig[name]
            entry.enforcementLevel = LEVELS[levels[name]]
            entry.properties.update(properties[name])
        self._stub.Configure(request)

    def analyze(self, type_: str, name: str, props: Mapping[str, Any], parent: str = "") -> list[Violation]:
        """What the pack reports for one resource's inputs (as Analyze gets them during preview)."""
        request = analyzer_pb2.AnalyzeRequest(
            type=type_,
            name=name,
            urn=urn_of(type_, name),
            properties=_struct(props),
            options=analyzer_pb2.AnalyzerResourceOptions(parent=parent),
        )
        return _violations(self._stub.Analyze(request), urn_of(type_, name))

    def analyze_stack(self, resources: list[StackResource]) -> list[Violation]:
        """What the pack's stack policies report for these resources (as AnalyzeStack gets them)."""
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    name=r.name,
                    urn=r.urn,
                    properties=_struct(r.props),
                    parent=r.parent,
                    options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
                )
                for r in resources
            ]
        )
        return _violations(self._stub.AnalyzeStack(request), "")


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(props))
    return message


def _violations(response, urn: str) -> list[Violation]:
    return [
        Violation(policy=d.policyName, level=LEVEL_NAMES[d.enforcementLevel], message=d.message, urn=d.urn or urn)
        for d in response.diagnostics
    ]
