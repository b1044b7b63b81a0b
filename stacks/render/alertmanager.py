"""alertmanager.yml from the one routing definition, and the Alertmanager command line."""

from __future__ import annotations

from collections.abc import Sequence

from stacks.config.settings import (
    EMAIL_FIELDS,
    PAGERDUTY_FIELDS,
    SLACK_FIELDS,
    Alerting,
    InhibitRule,
    Receiver,
    Route,
    StackSettings,
)
from stacks.content.model import Content
from stacks.layout import ALERTMANAGER
from stacks.render.spec import ContainerSpec, ReloadSpec, service_spec
from stacks.syntax.yaml_io import to_yaml

# Where templates/*.tmpl go: templates/ beside alertmanager.yml, which Alertmanager resolves a relative path from.
TEMPLATES = "templates"
TEMPLATES_DIR = f"{ALERTMANAGER.config_path.rpartition('/')[0]}/{TEMPLATES}"


def render_alertmanager_config(alerting: Alerting, templates: Sequence[str] = ()) -> str:
    """The text holds webhook URLs and keys: the component sends it as a Pulumi secret. `templates`: the file names
    of the notification templates to load (in templates/ beside it), each by name: a file delivered earlier and
    since deleted stays in the running container (stacks/reload.py), and must not be loaded."""
    config: dict = {"global": {"resolve_timeout": "5m"}}
    if alerting.smtp:
        config["global"].update(
            {"smtp_smarthost": alerting.smtp.smarthost, "smtp_from": alerting.smtp.from_, "smtp_require_tls": True}
        )
        if alerting.smtp.username:
            config["global"]["smtp_auth_username"] = alerting.smtp.username
            config["global"]["smtp_auth_password"] = alerting.smtp.password
    if templates:
        config["templates"] = [f"{TEMPLATES}/{name}" for name in sorted(templates)]
    config["route"] = route_tree(alerting.route)
    config["receivers"] = [_receiver(r) for r in alerting.receivers]
    if alerting.inhibit_rules:
        config["inhibit_rules"] = [_inhibit_rule(rule) for rule in alerting.inhibit_rules]
    return to_yaml(config)


def route_tree(route: Route, matchers=lambda ms: [m.alertmanager() for m in ms], name=lambda key: key) -> dict:
    """The route and its children as alertmanager.yml writes them; `matchers` and `name` (of each snake_case key)
    give another tree the same shape in its own terms (the operator's AlertmanagerConfig)."""
    out: dict = {}
    if route.receiver:
        out["receiver"] = route.receiver
    if route.matchers:
        out["matchers"] = matchers(route.matchers)
    if route.group_by is not None:
        out[name("group_by")] = list(route.group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if getattr(route, key):
            out[name(key)] = getattr(route, key)
    if route.continue_:
        out["continue"] = True
    if route.routes:
        out["routes"] = [route_tree(child, matchers, name) for child in route.routes]
    return out


def _receiver(receiver: Receiver) -> dict:
    out: dict = {"name": receiver.name}
    if receiver.webhooks:
        out["webhook_configs"] = [
            {"url": w.url, "send_resolved": w.send_resolved, **({"max_alerts": w.max_alerts} if w.max_alerts else {})}
            for w in receiver.webhooks
        ]
    if receiver.slack:
        out["slack_configs"] = [
            {"api_url": s.url, "send_resolved": s.send_resolved, **target_fields(s.fields, SLACK_FIELDS)}
            for s in receiver.slack
        ]
    if receiver.pagerduty:
        out["pagerduty_configs"] = [
            {
                ("routing_key" if p.routing_key else "service_key"): p.key,
                "send_resolved": p.send_resolved,
                **target_fields(p.fields, PAGERDUTY_FIELDS),
            }
            for p in receiver.pagerduty
        ]
    if receiver.email:
        out["email_configs"] = [
            {"to": e.to, "send_resolved": e.send_resolved, **target_fields(e.fields, EMAIL_FIELDS)}
            for e in receiver.email
        ]
    return out


def target_fields(fields: tuple[tuple[str, str], ...], keys: dict[str, str], name=lambda key: key) -> dict:
    """A target's optional template fields under their alertmanager.yml keys (`name`: another tree's key for one);
    an email's subject as its Subject header."""
    out: dict = {name(keys[key]): text for key, text in fields if key != "subject"}
    subject = dict(fields).get("subject")
    if subject:
        out["headers"] = {"Subject": subject}
    return out


def _inhibit_rule(rule: InhibitRule) -> dict:
    out = {
        "source_matchers": [m.alertmanager() for m in rule.source_matchers],
        "target_matchers": [m.alertmanager() for m in rule.target_matchers],
    }
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def alertmanager_command(settings: StackSettings) -> list[str]:
    return [
        f"--config.file={ALERTMANAGER.config_path}",
        f"--storage.path={ALERTMANAGER.data_path}",
        f"--web.listen-address=:{ALERTMANAGER.port}",
        f"--web.external-url={settings.public_url('alertmanager')}",
        "--web.route-prefix=/",
        "--cluster.listen-address=",  # one replica: no gossip port, no cluster warnings
    ]


def container_spec(settings: StackSettings, content: Content, docker_socket_group: str | None) -> ContainerSpec:
    return service_spec(
        ALERTMANAGER,
        settings,
        command=alertmanager_command(settings),
        files={
            ALERTMANAGER.config_path: render_alertmanager_config(
                settings.alerting, [t.file_name for t in content.templates]
            ),
            **{f"{TEMPLATES_DIR}/{t.file_name}": t.text for t in content.templates},
        },
        secret=True,  # receiver URLs and keys
        # Loads the config as Alertmanager does, templates included. /bin/amtool in prom/alertmanager too.
        check=["/bin/amtool", "check-config", ALERTMANAGER.config_path],
        # httpserver/httpserver.go and config/coordinator.go (v0.35.0): POST /-/reload reloads the config and the
        # templates; silences and the notification log are untouched.
        reload=ReloadSpec(
            success_metric="alertmanager_config_last_reload_successful",
            timestamp_metric="alertmanager_config_last_reload_success_timestamp_seconds",
            failure_log="Loading configuration file failed",
        ),
    )
