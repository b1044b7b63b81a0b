"""Running the whole program (__main__.py) under Pulumi mocks and recording what it registers."""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

ROOT = Path(__file__).resolve().parent.parent
SECRET_SIG = rpc._special_sig_key  # inputs that are secrets arrive wrapped: {SECRET_SIG: <secret sig>, "value": v}


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    inputs: dict
    parent: str
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    provider: str


@dataclass
class Recorder(pulumi.runtime.Mocks):
    """The mocks: every resource's inputs echoed back as its state, plus the outputs a real provider computes."""

    registrations: list[Registration] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "grafana:oss/dashboard:Dashboard":
            state["url"] = f"http://grafana.test/d/{args.name}"
        if args.typ == "grafana:oss/folder:Folder":
            state["url"] = f"http://grafana.test/dashboards/f/{args.name}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}

    def by_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str) -> Registration:
        found = [r for r in self.registrations if r.type == type_ and r.name == name]
        assert len(found) == 1, f"expected one {type_} named {name}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.registrations if r.urn == urn)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps the registration request fields that MockResourceArgs leaves out (parent, options, dependencies)."""

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.mocks.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    provider=request.provider,
                )
            )
        return response


@dataclass
class ProgramRun:
    recorder: Recorder
    outputs: dict[str, Any]


def stack_config(stack: str) -> dict[str, Any]:
    """The config of Pulumi.<stack>.yaml, as the engine hands it to the program (strings, objects as JSON)."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return dict(config)


def run_program(
    stack: str, config: dict[str, Any], secret_keys: list[str] = (), recorder: Recorder | None = None
) -> ProgramRun:
    """Run __main__.py under mocks with this config; raise what the program raises."""
    recorder = recorder or Recorder()
    monitor = RecordingMonitor(recorder)
    pulumi.runtime.set_mocks(recorder, project="monitoring", stack=stack, preview=False, monitor=monitor)
    as_strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    pulumi.runtime.set_all_config(as_strings, list(secret_keys))
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run():
        namespace = runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        stack_component = namespace["stack"]
        return pulumi.Output.all(
            urls=stack_component.urls,
            dashboards={uid: d.url for uid, d in stack_component.content.dashboards.items()}
            if stack_component.content
            else {},
        ).apply(exported.update)

    run()
    return ProgramRun(recorder=recorder, outputs=exported)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == rpc._special_secret_sig


def secret_on_path(value: Any, *path: str | int) -> bool:
    """Whether the value at this path is protected by a secret wrapper at some level on the way down."""
    for key in path:
        if is_secret(value):
            return True
        value = value[key]
    return is_secret(value)


def unwrap(value: Any) -> Any:
    """The plain value of a (possibly secret, possibly nested) input."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value
