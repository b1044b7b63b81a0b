"""Lint rule `schema`: a dashboard's JSON against Grafana's dashboard schema, as grafana-foundation-sdk models it.

The SDK (Apache-2.0, pure Python, pinned in requirements.txt) ships Python models generated from Grafana's
dashboard kind and from the panel and query plugins' schemas, but no JSON Schema, and it does not validate:
`Dashboard.from_json` copies whatever it is given (tests/unit/test_dashboard_schema.py shows it). So `schema_problems`
walks the JSON along the models: field names as the models' `to_json` writes them, types from their annotations
(str, int, enums, literals, lists, nested models), panel options and field config by the panel plugin's model,
queries by the datasource plugin's model, both found by the plugin's type. It reports wrong types, values
outside an enum or literal, fields no model has, unknown panel types and panels without a type. Every field of the
models has a default, so they cannot say which fields are required: a panel's `type` is the only one checked for
presence.

The schema is the classic dashboard model (`models.dashboard`), the JSON the program sends through the provider's
`config_json`; the SDK's dashboardv2 models are the other, Kubernetes-style API's. 0.0.21 carries Grafana 12's
schema, one major behind the Grafana the stack runs (tests/unit/test_dashboard_schema.py says why and checks the gap).
"""

from __future__ import annotations

import enum
import functools
import importlib
import json
import types
import typing
import warnings
from collections.abc import Iterator
from typing import Any

with warnings.catch_warnings():
    # The classic model's class body deprecates it for dashboardv2. Classic JSON is what the program sends, so the
    # classic model stays the schema, and the warning would only be noise in every preview.
    warnings.filterwarnings("ignore", "Prefer using dashboardv2.Dashboard instead", DeprecationWarning)
    from grafana_foundation_sdk.cog import runtime as cogruntime
    from grafana_foundation_sdk.cog import variants as cogvariants
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import dashboard as sdk

# Panel type -> the SDK module of its options and field config models, and datasource type -> that of its query
# models. The SDK's register_default_plugins() imports all 38 modules, which made the program ~10% slower on the
# shipped content (benchmarks/program_eval.py) for plugins no dashboard here uses: a module is imported the first
# time a dashboard names its type. tests/unit/test_dashboard_schema.py checks both tables against the SDK's registry.
PANEL_PLUGINS = {
    "annolist": "annotationslist",
    "dashlist": "dashboardlist",
    "nodeGraph": "nodegraph",
    "state-timeline": "statetimeline",
    "status-history": "statushistory",
    **{name: name for name in "barchart bargauge candlestick canvas datagrid debug gauge geomap heatmap".split()},
    **{name: name for name in "histogram logs news piechart stat table text timeseries trend xychart".split()},
}
QUERY_PLUGINS = {
    "__expr__": "expr",
    "cloud-monitoring": "googlecloudmonitoring",
    "grafana-athena-datasource": "athena",
    "grafana-azure-monitor-datasource": "azuremonitor",
    "grafana-bigquery-datasource": "bigquery",
    **{name: name for name in "cloudwatch datasource elasticsearch grafanapyroscope loki parca".split()},
    **{name: name for name in "prometheus tempo testdata".split()},
}

NOT_A_FIELD = "not a field of "
# What build_dashboard (stacks/content/dashboards.py) removes before the model is sent: not checked, as not sent.
NOT_SENT = ("id", "version", "__inputs")

# Fields the schema does not have that a dashboard may carry anyway: (SDK model, JSON field) -> why. The 10.1 schema
# needed four (AnnotationQuery.builtIn, VariableModel.definition, bar gauge namePlacement and sizing); Grafana 12's
# has them all.
ACCEPTED_UNKNOWN_FIELDS: dict[tuple[str, str], str] = {
    ("dashboard.Dashboard", "style"): (
        'a dashboard theme ("dark") Grafana had not used for years when it left the schema in 2023 (grafana/grafana'
        "#73879); exports from before carry it: dashboards/MindHit/api-overview.json, and so the copies of it that "
        "benchmarks/program_eval.py generates"
    ),
}

# Schema violations in shipped dashboards, left as they are: (uid, JSON path) -> why. Keyed by uid, so that a copy
# under another uid is checked in full.
KNOWN_VIOLATIONS = {
    ("kerp-business", "$.panels[14].options.footer.fields"): (
        'Grafana\'s table editor writes "fields": "" when no footer field is chosen; the table schema says string[]'
    ),
}


def schema_findings(model: dict) -> Iterator[tuple[str, str]]:
    """The rule's check: the problems of what the program sends for this model, less the known violations."""
    uid = model.get("uid")
    for path, message in schema_problems({k: v for k, v in model.items() if k not in NOT_SENT}):
        if (uid, path) not in KNOWN_VIOLATIONS:
            yield path, message


def schema_problems(model: Any) -> list[tuple[str, str]]:
    """(JSON path, message) for each place a dashboard's JSON departs from the SDK's dashboard schema."""
    walk = _Walk()
    walk.value(model, shape(sdk.Dashboard), "$")
    if not walk.problems:  # what passes the walk, the SDK's own decoder and encoder must take too
        try:
            json.dumps(sdk.Dashboard.from_json(model), cls=JSONEncoder)
        except Exception as error:  # noqa: BLE001 - any failure of the SDK is the finding
            walk.problems.append(("$", f"the SDK cannot decode it: {type(error).__name__}: {error}"))
    return walk.problems


# ---------------------------------------------------------------- the models as shapes, worked out once per class

# What each SDK annotation asks of a JSON value, as (kind, detail, annotation), so that the walk dispatches on a
# string instead of taking typing's annotations apart at every value (api-overview.json has ~170 of them; taking
# them apart at each one made the walk 3 times slower):
#   ("any", None, _)                    Any or object: anything goes
#   ("scalar", types, _)                str, int, float, bool: the JSON value's exact type is one of `types`
#   ("one of", {(type, v)}, _)          a Literal or an enum: one of these values, of this type (1 is not True)
#   ("list"|"dict", item, _)            an array or object whose items have the shape `item`
#   ("union", (options, nullable), _)   what one of the options' shapes takes, or null when nullable
#   ("model", cls, _)                   an SDK model class: an object of its fields (`fields(cls)`)
#   ("query", None, _)                  a query, whose model the datasource's type chooses
Shape = tuple[str, Any, Any]
# JSON numbers: an int is a float too; a bool is neither, although Python's bool is an int.
_SCALARS = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


class _Field:
    def __init__(self, attribute: str) -> None:
        self.attribute = attribute


@functools.cache
def fields(model: type) -> dict[str, Shape]:
    """JSON field -> shape of an SDK model's field, as the model's own to_json names the fields.

    The generated to_json is the only place that maps attributes to JSON names (`id_val` -> `id`, `type_val` ->
    `type`, camelCase): a probe whose every attribute is a marker shows which name each one is written under."""
    hints = typing.get_type_hints(model)
    probe = model.__new__(model)
    for attribute in hints:
        setattr(probe, attribute, _Field(attribute))
    return {key: shape(hints[field.attribute]) for key, field in probe.to_json().items()}


@functools.cache
def shape(annotation: Any) -> Shape:
    """What an SDK annotation asks of a JSON value (see Shape above), worked out once per annotation."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return ("any", None, annotation)
    if origin in (typing.Union, types.UnionType):
        options = tuple(shape(a) for a in args if a is not type(None))
        return ("union", (options, len(options) < len(args)), annotation)
    if origin is typing.Literal:
        return ("one of", frozenset((type(a), a) for a in args), annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return ("one of", frozenset((type(m.value), m.value) for m in annotation), annotation)
    if origin in (list, dict):
        return (origin.__name__, shape(args[-1]), annotation)
    if annotation is cogvariants.Dataquery:
        return ("query", None, annotation)
    if isinstance(annotation, type) and annotation.__module__.startswith("grafana_foundation_sdk.models."):
        if callable(getattr(annotation, "to_json", None)):
            return ("model", annotation, annotation)
    if annotation in _SCALARS:
        return ("scalar", _SCALARS[annotation], annotation)
    # A new SDK release annotating with something this walk does not know: fail loudly rather than pass.
    raise TypeError(f"no rule for the SDK annotation {annotation!r}")


@functools.cache
def _by_type(options: tuple[Shape, ...], kind: Any) -> tuple[Shape, ...]:
    """The models a JSON object of this `type` decodes to, as the SDK's decoding maps choose (row -> RowPanel)."""

    def literal(option: Shape) -> tuple:
        annotation = fields(option[1]).get("type", (None, None, None))[2]
        return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()

    named = tuple(o for o in options if kind in literal(o))
    return named or tuple(o for o in options if not literal(o)) or options


@functools.cache
def panel_plugin(kind: str) -> cogruntime.PanelCfgConfig | None:
    """A panel type's options and field config models; registered with the SDK's runtime too, for its decoder."""
    if kind not in PANEL_PLUGINS:
        return None
    config = importlib.import_module(f"grafana_foundation_sdk.models.{PANEL_PLUGINS[kind]}").variant_config()
    cogruntime.register_panelcfg_variant(config)
    return config


@functools.cache
def query_shape(kind: str) -> Shape | None:
    """The shape of a query on a datasource of this type, or None (any object) for a type the SDK does not know.

    Most decoders are a model's from_json. Those of expressions and CloudWatch are lambdas that choose the model
    by a field of the query (`type`, `queryMode`) from a map they close over: a union of the map's models, which
    a `type` literal narrows as it does for panels."""
    if kind not in QUERY_PLUGINS:
        return None
    config = importlib.import_module(f"grafana_foundation_sdk.models.{QUERY_PLUGINS[kind]}").variant_config()
    cogruntime.register_dataquery_variant(config)
    hook = config.from_json_hook
    if isinstance(getattr(hook, "__self__", None), type):
        return shape(hook.__self__)
    maps = [cell.cell_contents for cell in hook.__closure__ or () if isinstance(cell.cell_contents, dict)]
    models = tuple(model for each in maps for model in each.values())
    return ("union", (tuple(map(shape, models)), False), None) if models else None


@functools.cache
def model_name(model: type) -> str:
    return f"{model.__module__.rsplit('.', 1)[-1]}.{model.__name__}"


def _expected(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin is list:
        return "an array"
    if origin is dict:
        return "an object"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return f"one of {[m.value for m in annotation]} ({annotation.__name__})"
    if shape(annotation)[0] == "model":
        return f"an object ({model_name(annotation)})"
    names = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}
    return names.get(annotation, repr(annotation))


def _got(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    kinds |= {list: "an array", dict: "an object"}
    shown = json.dumps(value) if isinstance(value, (str, int, float)) else ""
    return kinds.get(type(value), "null") + (f" {shown}" if shown and len(shown) <= 40 else "")


# ---------------------------------------------------------------- the walk


class _Walk:
    """Problems of one JSON value against an SDK annotation's shape, as (JSON path, message)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def wrong(self, path: str, annotation: Any, value: Any) -> None:
        self.problems.append((path, f"expected {_expected(annotation)}, got {_got(value)}"))

    def value(self, value: Any, of: Shape, path: str, panel_type: Any = None, datasource_type: Any = None) -> None:
        """`panel_type` and `datasource_type`: of the panel around, which choose its options' and queries' models."""
        kind, detail, annotation = of
        if kind == "model":
            self.model(value, detail, path, panel_type, datasource_type)
        elif kind == "union":
            self.union(value, *detail, path, panel_type, datasource_type)
        elif kind == "scalar":
            if type(value) not in detail:
                self.wrong(path, annotation, value)
        elif kind == "one of":
            if isinstance(value, (list, dict)) or (type(value), value) not in detail:
                self.wrong(path, annotation, value)
        elif kind in ("list", "dict"):
            if type(value).__name__ != kind:
                self.wrong(path, annotation, value)
                return
            for key, each in enumerate(value) if kind == "list" else value.items():
                where = f"{path}[{key}]" if kind == "list" else f"{path}.{key}"
                self.value(each, detail, where, panel_type, datasource_type)
        elif kind == "query":
            self.query(value, path, datasource_type)

    def union(self, value: Any, options: tuple, nullable: bool, path: str, panel_type: Any, datasource_type: Any):
        """Fine when one option takes the value; else the closest option's problems (all when none is closer)."""
        if value is None and nullable:
            return
        if isinstance(value, dict) and all(o[0] == "model" for o in options) and _hashable(value.get("type")):
            options = _by_type(options, value.get("type"))
        if len(options) == 1:  # Optional[X], or a panel once its type chose: X's problems as they are
            self.value(value, options[0], path, panel_type, datasource_type)
            return
        trials = []
        for option in options:
            trial = _Walk()
            trial.value(value, option, path, panel_type, datasource_type)
            if not trial.problems:
                return
            trials.append(trial.problems)
        if all(t == [(path, t[0][1])] for t in trials):
            expected = " or ".join(_expected(o[2]) for o in options)
            self.problems.append((path, f"expected {expected}, got {_got(value)}"))
        else:
            self.problems += min(trials, key=len)

    def query(self, value: Any, path: str, panel_datasource_type: Any) -> None:
        """A query by its datasource's model, chosen as the SDK's runtime does; unknown datasources: any object."""
        if not isinstance(value, dict):
            self.problems.append((path, f"expected an object (a query), got {_got(value)}"))
            return
        datasource = value.get("datasource")
        kind = datasource.get("type") if isinstance(datasource, dict) else None
        kind = kind or panel_datasource_type
        of = query_shape(kind) if isinstance(kind, str) else None
        if of is not None:
            self.value(value, of, path)

    def model(self, value: Any, model: type, path: str, panel_type: Any, datasource_type: Any) -> None:
        if not isinstance(value, dict):
            self.wrong(path, model, value)
            return
        if model in (sdk.Panel, sdk.RowPanel):
            panel_type = value.get("type")
            datasource = value.get("datasource")
            datasource_type = datasource.get("type") if isinstance(datasource, dict) else None
            if "type" not in value:
                self.problems.append((f"{path}.type", "missing: every panel needs a type"))
            elif model is sdk.Panel and not (isinstance(panel_type, str) and panel_plugin(panel_type)):
                known = ", ".join(sorted(["row", *PANEL_PLUGINS]))
                self.problems.append((f"{path}.type", f"unknown panel type {panel_type!r}; the schema knows {known}"))
        plugin = panel_plugin(panel_type) if isinstance(panel_type, str) else None
        table = fields(model)
        for key, each in value.items():
            of = table.get(key)
            if of is None:
                if (model_name(model), key) not in ACCEPTED_UNKNOWN_FIELDS:
                    self.problems.append((f"{path}.{key}", f"{NOT_A_FIELD}{model_name(model)}"))
                continue
            # `options` and `fieldConfig.defaults.custom` are `object` in the panel model: the plugin's model says.
            if model is sdk.Panel and key == "options" and plugin and plugin.options_from_json_hook:
                of = shape(plugin.options_from_json_hook.__self__)
            if model is sdk.FieldConfig and key == "custom" and plugin and plugin.field_config_from_json_hook:
                of = shape(plugin.field_config_from_json_hook.__self__)
            self.value(each, of, f"{path}.{key}", panel_type, datasource_type)


def _hashable(value: Any) -> bool:
    return not isinstance(value, (list, dict))
