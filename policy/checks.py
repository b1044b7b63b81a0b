"""The policies as pure functions: what a resource must look like, and what to change when it does not.

Each check takes a `Resource` (or, for the stack check, every resource) and the policy's config, and
returns violation messages. Nothing here imports pulumi_policy: `__main__.py` wires these checks into
the pack, and `props` may be pulumi_policy's proxies (read lazily, so an unknown value only stops the
checks that need it) or plain dicts and lists.

Messages name the property (never a secret's value) and say what to change in this project.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
CONFIG_RELOAD = "pulumi-python:dynamic/monitoring:ConfigReload"  # a server's files, delivered in place
GRAFANA_PROVIDER = "pulumi:providers:grafana"
# The Prometheus Operator's objects a Kubernetes stack registers, and the ConfigMaps of its dashboards.
OPERATOR_OBJECTS = {
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": "PrometheusRule",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": "ServiceMonitor",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor": "PodMonitor",
    "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig": "AlertmanagerConfig",
}
CONFIGMAP = "kubernetes:core/v1:ConfigMap"

# What ServiceComponent reports about its data volume: retain_on_delete itself never reaches a policy
# pack (the engine's AnalyzerResourceOptions carry protect, not retainOnDelete).
RETAINED_OUTPUT = "dataVolumeRetained"

Path = tuple  # a property path: keys and list indexes, e.g. ("uploads", 0, "content")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]
    """Inputs as the engine sent them, secrets unwrapped (as pulumi_policy hands them to a policy)."""
    secret_paths: frozenset = frozenset()
    """Paths of the properties that arrived as Pulumi secrets (see secrets_on_wire.py)."""
    urn: str = ""
    parent: Resource | None = None

    def is_secret(self, path: Path) -> bool:
        """A value is a secret when it, or anything that contains it, was sent as one."""
        return any(path[:i] in self.secret_paths for i in range(len(path) + 1))


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str = ""
    """Which resource a stack policy's violation is about (empty: the resource being checked)."""


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(value: Any) -> list:
    return list(value) if _is_list(value) else []


# --- images-pinned ----------------------------------------------------------------------------------


def image_pin_problem(reference: str) -> str | None:
    """Why an image reference is not pinned to a version, or None when it is (a tag other than latest,
    a digest, or an image id)."""
    if not reference.strip():
        return "is empty"
    if "@" in reference or reference.startswith("sha256:"):
        return None
    last = reference.rsplit("/", 1)[-1]  # a registry host may carry a port: registry:5000/grafana
    if ":" not in last:
        return "has no tag, so Docker uses 'latest'"
    if last.split(":", 1)[1].lower() == "latest":
        return "uses the tag 'latest'"
    return None


def images_pinned(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    prop = {CONTAINER: "image", REMOTE_IMAGE: "name"}.get(resource.type)
    if prop is None:
        return []
    reference = resource.props.get(prop) or ""
    problem = image_pin_problem(reference)
    if problem is None:
        return []
    return [
        f"{prop} '{reference}' {problem}: pin a version tag or a digest (e.g. grafana/grafana:10.4.2) "
        "in stacks/versions.py."
    ]


# --- the Grafana container: admin password, anonymous access and sign-up -----------------------------

GRAFANA_IMAGES = frozenset({"grafana", "grafana-oss", "grafana-enterprise"})
ADMIN_PASSWORD = "GF_SECURITY_ADMIN_PASSWORD"
KNOWN_DEFAULT_PASSWORDS = frozenset({"", "admin", "password"})


def _image_name(reference: str) -> str:
    """grafana/grafana:10.0.0 -> grafana; registry:5000/prom/prometheus@sha256:... -> prometheus."""
    last = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def container_env(resource: Resource) -> dict[str, tuple[int, str]]:
    """NAME -> (index in envs, value) of a container's environment."""
    env = {}
    for index, entry in enumerate(_items(resource.props.get("envs"))):
        name, _, value = str(entry).partition("=")
        env[name] = (index, value)
    return env


def is_grafana(resource: Resource) -> bool:
    if resource.type != CONTAINER:
        return False
    if _image_name(resource.props.get("image") or "") in GRAFANA_IMAGES:
        return True
    return any(name.startswith("GF_") for name in container_env(resource))


def grafana_admin_password(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if not is_grafana(resource):
        return []
    env = container_env(resource)
    if ADMIN_PASSWORD not in env:
        return [
            f"{ADMIN_PASSWORD} is not set, so Grafana starts with admin/admin: set grafanaAdminPassword "
            "with `pulumi config set --secret grafanaAdminPassword <password>`."
        ]
    index, value = env[ADMIN_PASSWORD]
    problems = []
    if value.strip().lower() in KNOWN_DEFAULT_PASSWORDS:
        problems.append(
            f"{ADMIN_PASSWORD} is a known default ('admin', 'password' or empty): set another one with "
            "`pulumi config set --secret grafanaAdminPassword <password>`."
        )
    if not resource.is_secret(("envs", index)):
        problems.append(
            f"{ADMIN_PASSWORD} is in envs, which is not a Pulumi secret, so the password is stored in plain "
            "text: pass Grafana's environment through pulumi.Output.secret() (stacks/grafana.py)."
        )
    return problems


GRAFANA_OFF_SWITCHES = {
    "GF_AUTH_ANONYMOUS_ENABLED": "anonymous users could read every dashboard",
    "GF_USERS_ALLOW_SIGN_UP": "anyone who reaches Grafana could create an account",
}


def grafana_no_anonymous_or_signup(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if not is_grafana(resource):
        return []
    env = container_env(resource)
    problems = []
    for name, risk in GRAFANA_OFF_SWITCHES.items():
        if name not in env:
            problems.append(
                f"{name} is not set: set it to false explicitly (stacks/render/grafana.py), so that no "
                f"grafana.ini in the image can turn it on ({risk})."
            )
        elif env[name][1].strip().lower() != "false":
            problems.append(f"{name} is '{env[name][1]}': set it to false (stacks/render/grafana.py); {risk}.")
    return problems


# --- secrets-are-secret -----------------------------------------------------------------------------

SECRET_ENV_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL|WEBHOOK")
# Keys of uploaded YAML configuration (alertmanager.yml's receivers and global, any basic_auth or
# authorization block) whose values are credentials or URLs with a credential in them.
SECRET_CONFIG_KEYS = frozenset(
    {
        "api_url",
        "slack_api_url",
        "webhook_url",
        "service_key",
        "routing_key",
        "api_key",
        "opsgenie_api_key",
        "victorops_api_key",
        "wechat_api_secret",
        "user_key",
        "token",
        "bot_token",
        "bearer_token",
        "password",
        "auth_password",
        "auth_secret",
        "smtp_auth_password",
        "smtp_auth_secret",
        "credentials",
        "secret_access_key",
        "client_secret",
    }
)
# Webhook receivers: the URL is the credential (a token in the path or query).
SECRET_URL_PARENTS = frozenset({"webhook_configs"})
# Grafana contact point integrations (webhooks, slacks, pagerduties, ...): fields holding credentials.
SECRET_CONTACT_FIELDS = frozenset(
    {
        "url",
        "token",
        "integrationKey",
        "apiKey",
        "apiToken",
        "botToken",
        "webhookUrl",
        "password",
        "basicAuthPassword",
        "authorizationCredentials",
        "secret",
        "routingKey",
        "userKey",
    }
)


def _secret_keys_in(value: Any, path: tuple, parent_key: str = "") -> Iterator[tuple]:
    """Paths inside parsed YAML whose key holds a credential and whose value is not empty."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            secret = key in SECRET_CONFIG_KEYS or (key == "url" and parent_key in SECRET_URL_PARENTS)
            if secret and item not in (None, "") and not isinstance(item, (Mapping, list)):
                yield path + (key,)
            else:
                yield from _secret_keys_in(item, path + (key,), key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_keys_in(item, path + (index,), parent_key)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unsecret_container_values(resource: Resource) -> Iterator[str]:
    for index, entry in enumerate(_items(resource.props.get("envs"))):
        name, _, value = str(entry).partition("=")
        if value and SECRET_ENV_NAME.search(name) and not resource.is_secret(("envs", index)):
            yield f"envs[{index}] ({name})"
    for index, upload in enumerate(_items(resource.props.get("uploads"))):
        if isinstance(upload, Mapping) and not resource.is_secret(("uploads", index, "content")):
            yield from _unsecret_file(f"uploads[{index}].content", upload.get("file"), upload.get("content"))


def _unsecret_delivered_files(resource: Resource) -> Iterator[str]:
    files = resource.props.get("files")
    for path, content in files.items() if isinstance(files, Mapping) else ():
        if not resource.is_secret(("files", path)):
            yield from _unsecret_file(f"files[{path!r}]", path, content)


def _unsecret_file(where: str, path: Any, content: Any) -> Iterator[str]:
    """`where`, when the file is YAML with a key that holds a secret."""
    if not isinstance(content, str):
        return
    try:
        parsed = yaml.safe_load(content)
    except yaml.YAMLError:
        return  # not YAML: nothing this policy can read keys from
    keys = [_dotted(p) for p in _secret_keys_in(parsed, ())]
    if keys:
        shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        yield f"{where} ({path}: {shown})"


def _unsecret_contact_values(resource: Resource) -> Iterator[str]:
    for kind, integrations in resource.props.items():
        for index, integration in enumerate(_items(integrations)):
            if not isinstance(integration, Mapping):
                continue
            for key, value in integration.items():
                if key in SECRET_CONTACT_FIELDS and value and not resource.is_secret((kind, index, key)):
                    yield f"{kind}[{index}].{key}"


def secrets_are_secret(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type == CONTAINER:
        found = list(_unsecret_container_values(resource))
    elif resource.type == CONFIG_RELOAD:
        found = list(_unsecret_delivered_files(resource))
    elif resource.type == CONTACT_POINT:
        found = list(_unsecret_contact_values(resource))
    elif resource.type == GRAFANA_PROVIDER:
        found = ["auth"] if resource.props.get("auth") and not resource.is_secret(("auth",)) else []
    else:
        found = []
    return [
        f"{where} holds a password, key or webhook URL but is not a Pulumi secret, so it is stored in plain "
        "text: wrap it in pulumi.Output.secret() in the program and set its config key with "
        "`pulumi config set --secret`."
        for where in found
    ]


# --- ports-bind-loopback ----------------------------------------------------------------------------


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
    for port in _items(resource.props.get("ports")):
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


# --- retention-bounds -------------------------------------------------------------------------------

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
    image = _image_name(resource.props.get("image") or "")
    command = _items(resource.props.get("command"))
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
    uploads = {u.get("file"): u.get("content") for u in _items(resource.props.get("uploads")) if isinstance(u, Mapping)}
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


# --- data-volumes-retained (a stack policy: it needs each volume's parent component) --------------


def data_volumes_retained(resources: list[Resource], config: Mapping[str, Any]) -> list[Violation]:
    violations = []
    for volume in resources:
        if volume.type != VOLUME:
            continue
        name = volume.props.get("name") or volume.name
        parent = volume.parent
        declared = parent.props.get(RETAINED_OUTPUT) if parent is not None else None
        if declared is True:
            continue
        if declared is None:
            message = (
                f"data volume {name} does not say whether it is retained (its parent reports no "
                f"'{RETAINED_OUTPUT}' output): create data volumes through stacks.service.ServiceComponent."
            )
        else:
            message = (
                f"data volume {name} is not retained: `pulumi destroy` or a replacement would delete its data; "
                "set protectVolumes: true in Pulumi.<stack>.yaml."
            )
        violations.append(Violation(message, volume.urn))
    return violations


# --- operator-objects-selected --------------------------------------------------------------------------


def operator_objects_selected(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """Each object carries labels, and the ones the stack's policy config says its operator selects on."""
    kind = OPERATOR_OBJECTS.get(resource.type)
    if kind is None:
        return []
    metadata = resource.props.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    wanted = dict((config.get("labels") or {}).get(kind) or {})
    name = metadata.get("name") or resource.name
    missing = sorted(f"{k}={v}" for k, v in wanted.items() if labels.get(k) != v)
    if missing:
        return [
            f"{kind} {name} lacks {', '.join(missing)}, which the operator's selector matches, so it would be "
            "ignored: set them in kubernetes (ruleLabels, monitorLabels, alertmanagerConfigLabels) in "
            "Pulumi.<stack>.yaml."
        ]
    selecting = {k: v for k, v in labels.items() if not k.startswith("app.kubernetes.io/")}
    if not selecting:
        return [
            f"{kind} {name} carries no label an operator's selector could match: set kubernetes.ruleLabels, "
            "monitorLabels or alertmanagerConfigLabels in Pulumi.<stack>.yaml."
        ]
    return []


# --- no-secrets-in-configmaps -----------------------------------------------------------------------------

# What gives a credential away in a ConfigMap's text: a URL with a password, a Slack webhook, a bearer token, a
# key or password field with a value. Dashboards hold none; routing secrets go into a Secret.
_CREDENTIAL = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@"
    r"|hooks\.slack\.com/services/"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{16,}"
    r"|\"(password|api_?key|token|secret|routing_?key|service_?key)\"\s*:\s*\"[^\"$]+\"",
    re.IGNORECASE,
)


def no_secrets_in_configmaps(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type != CONFIGMAP:
        return []
    name = (resource.props.get("metadata") or {}).get("name") or resource.name
    return [
        f"ConfigMap {name}: data.{key} holds what looks like a credential, and a ConfigMap is stored and shown in "
        "plain text: move it into a Secret (as the AlertmanagerConfig's receivers are)."
        for key, value in sorted((resource.props.get("data") or {}).items())
        if isinstance(value, str) and _CREDENTIAL.search(value)
    ]


@dataclass(frozen=True)
class PolicySpec:
    name: str
    description: str
    check: Any
    config_schema: dict = field(default_factory=dict)
    stack: bool = False


POLICIES = (
    PolicySpec(
        "images-pinned", "Container images are pinned to a version (no 'latest', no missing tag).", images_pinned
    ),
    PolicySpec(
        "grafana-admin-password",
        "Grafana's admin password is set, is not a known default and is a Pulumi secret.",
        grafana_admin_password,
    ),
    PolicySpec("secrets-are-secret", "Passwords, API keys and webhook URLs are Pulumi secrets.", secrets_are_secret),
    PolicySpec(
        "ports-bind-loopback",
        "Published ports bind to loopback unless the stack's policy config allows another address.",
        ports_bind_loopback,
        {"allowedBindAddresses": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    PolicySpec(
        "data-volumes-retained",
        "Data volumes are retained when Pulumi deletes or replaces them.",
        data_volumes_retained,
        stack=True,
    ),
    PolicySpec(
        "retention-bounds",
        "Prometheus and Loki retention are set and within bounds (1d-400d by default).",
        retention_bounds,
        {
            "minDays": {"type": "number", "minimum": 0, "default": 1},
            "maxDays": {"type": "number", "minimum": 0, "default": 400},
        },
    ),
    PolicySpec(
        "grafana-no-anonymous-or-signup",
        "Grafana anonymous access and sign-up are off.",
        grafana_no_anonymous_or_signup,
    ),
    PolicySpec(
        "operator-objects-selected",
        "PrometheusRules, monitors and AlertmanagerConfigs carry the labels the operator selects.",
        operator_objects_selected,
        {"labels": {"type": "object", "default": {}}},
    ),
    PolicySpec(
        "no-secrets-in-configmaps",
        "No password, key or webhook URL sits in a plain ConfigMap.",
        no_secrets_in_configmaps,
    ),
)
