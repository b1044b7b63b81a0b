"""The Grafana section of a stack's config (grafana, grafanaContent, grafanaToken, grafanaAdminPassword): which
Grafana the content goes to and how it is reached, and what that Grafana will not get from the stack."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stacks.config.schema import HTTP_URL, RawConfig, per_service
from stacks.config.settings import INHIBITION_SINCE, KubernetesSettings, StackSettings
from stacks.grafana_names import UID_CHARACTERS
from stacks.layout import DATASOURCE_SERVICES, published_url
from stacks.layout import SERVICES as SERVICE_LAYOUT
from stacks.reader import Reader

DEV_ADMIN_PASSWORD = "admin"  # the seed's dev default; refused outside dev
_VERSION = re.compile(r"v?(\d+)\.(\d+)(\.\d+)?([-+][0-9A-Za-z.+-]*)?")


def parse_grafana(
    config: RawConfig,
    *,
    environment: str,
    services: tuple[str, ...],
    images: Mapping[str, str],
    kubernetes: KubernetesSettings | None,
    bind_address: str,
    ports: Mapping[str, int],
) -> dict[str, Any]:
    """The StackSettings fields of the Grafana the content goes to: the stack's own, an existing one (through
    the provider, with a token) or none (ConfigMaps for the cluster's Grafana, or grafanaContent false)."""
    problems, secrets = config.problems, config.secrets
    grafana = config.reader("grafana")
    admin_user = grafana.str("adminUser", required=True, expected="a non-empty string")
    grafana_url = grafana.str("url", pattern=HTTP_URL, expected="an http(s) URL")
    grafana_content = config.values["grafanaContent"]
    runs_grafana = "grafana" in services
    configmaps = kubernetes is not None and kubernetes.grafana == "configmaps"
    external_grafana = grafana_content and not runs_grafana and not configmaps
    if external_grafana and not grafana_url:
        grafana.add(
            "url",
            "is required when grafana is not in services and grafanaContent is true: the URL of the existing "
            "Grafana the content goes to (or grafanaContent false for no Grafana at all)",
        )
    datasource_urls = _datasource_urls(grafana, services, external_grafana)
    stack_id = grafana.number("stackId", valid=lambda n: n == int(n) >= 0, expected="a Grafana Cloud stack id") or 0
    if stack_id and not external_grafana:
        grafana.add("stackId", "is for an existing Grafana Cloud stack (grafana not in services, grafanaContent true)")
    name_prefix, version, multiple_policies = _grafana_target(
        grafana, runs_grafana, grafana_content and not configmaps, images.get("grafana", "")
    )
    org_id = grafana.number("orgId", valid=lambda n: n == int(n) >= 1, expected="a Grafana org id (1 or more)") or 1
    if org_id != 1 and not external_grafana:
        grafana.add("orgId", "is for an existing Grafana's token (grafana not in services, grafanaContent true)")
    own_policy = grafana.bool("ownNotificationPolicy", False)
    if own_policy and not external_grafana:
        grafana.add(
            "ownNotificationPolicy",
            "is for an existing Grafana (grafana not in services, grafanaContent true): the stack's own Grafana's "
            "notification policy tree is always the stack's",
        )
    token = config.values["grafanaToken"]
    if external_grafana and not token:
        problems.add(
            "grafanaToken",
            "is required for an existing Grafana: pulumi config set --secret grafanaToken <service account token>",
        )
    elif token and not external_grafana:
        problems.add(
            "grafanaToken", "is used only for an existing Grafana (grafana not in services, grafanaContent true)"
        )
    elif token and "grafanaToken" not in secrets:
        problems.add("grafanaToken", "must be a secret: pulumi config set --secret grafanaToken <token>")
    return {
        "grafana_admin_user": admin_user,
        "grafana_admin_password": _admin_password(config, environment, runs_grafana),
        "grafana_url": grafana_url or (published_url(bind_address, ports["grafana"]) if "grafana" in ports else ""),
        "grafana_content": grafana_content,
        "grafana_token": token,
        "grafana_stack_id": int(stack_id),
        "grafana_owns_policy": not external_grafana or own_policy,
        "grafana_name_prefix": name_prefix,
        "grafana_version": version,
        "grafana_multiple_policies": multiple_policies,
        "grafana_org_id": int(org_id),
        "datasource_urls": datasource_urls,
    }


def _admin_password(config: RawConfig, environment: str, runs_grafana: bool) -> str:
    """The own Grafana's admin password: a secret outside dev, never a well-known default there."""
    password = config.values["grafanaAdminPassword"]
    problems = config.problems
    if not runs_grafana:
        if password:
            problems.add("grafanaAdminPassword", "is for the stack's own Grafana, and grafana is not in services")
        return ""
    if environment == "dev":
        return password or DEV_ADMIN_PASSWORD
    if not password:
        problems.add(
            "grafanaAdminPassword",
            f"is required in {environment}: pulumi config set --secret grafanaAdminPassword <password>",
        )
    elif "grafanaAdminPassword" not in config.secrets:
        problems.add(
            "grafanaAdminPassword",
            "must be a secret: pulumi config set --secret grafanaAdminPassword <password>",
        )
    elif password in ("admin", "password"):
        problems.add("grafanaAdminPassword", f"must not be a well-known default in {environment}")
    return password


def _grafana_target(
    grafana: Reader, runs_grafana: bool, through_provider: bool, image: str
) -> tuple[str, tuple[int, int] | None, bool]:
    """grafana.namePrefix, the Grafana's (major, minor) version and grafana.alertingMultiplePolicies."""
    prefix = grafana.str("namePrefix", pattern=UID_CHARACTERS, expected="letters, digits, '-' or '_'")
    if prefix and not through_provider:
        grafana.add("namePrefix", "names what the stack pushes through the Grafana provider, and it pushes nothing")
    given = grafana.str("version", pattern=_VERSION, expected="a Grafana version such as 13.1.0")
    tag = image.partition("@")[0].rpartition("/")[2].partition(":")[2] if runs_grafana else ""
    match = _VERSION.fullmatch(given or tag)
    multiple_policies = grafana.bool("alertingMultiplePolicies", False)
    return prefix, (int(match[1]), int(match[2])) if match else None, multiple_policies


def _datasource_urls(grafana: Reader, services: tuple[str, ...], external: bool) -> dict[str, str]:
    """Where Grafana reaches each of the stack's datasources: configured, or on the stack network."""
    r = grafana.child("datasourceUrls", grafana.mapping("datasourceUrls"), DATASOURCE_SERVICES)
    urls = {}
    for name in per_service(r, services):
        url = r.str(name, pattern=HTTP_URL, expected="an http(s) URL")
        if url:
            urls[name] = url
    for service in SERVICE_LAYOUT:
        if service.name not in DATASOURCE_SERVICES or service.name not in services or service.name in r.value:
            continue
        if external:
            r.add(
                service.name,
                f"is required for an existing Grafana: where that Grafana reaches this stack's {service.name}",
            )
        else:
            urls[service.name] = service.internal_url
    return urls


def grafana_warnings(settings: StackSettings, grafana_rules: bool) -> list[str]:
    """What a Grafana does not get from the stack, or may refuse: its policy tree kept, inhibition not applied
    (to Grafana-managed rules, `grafana_rules`), names that an existing Grafana may hold already."""
    if not settings.grafana_content or not (settings.external_grafana or settings.runs("grafana")):
        return []
    found = []
    where = f"the Grafana at {settings.grafana_url}"
    if settings.external_grafana and not settings.grafana_name_prefix:
        found.append(
            f"grafana.namePrefix: empty, so in {where} the stack's datasources are named Prometheus, Alertmanager and "
            "Loki (uids prometheus, alertmanager, loki), its service account applications, and its folders and "
            "dashboards keep their files' uids: Grafana refuses any of them it holds already and adopts nothing."
            " Give this stack's objects their own names: pulumi config set --path grafana.namePrefix <stack>"
        )
    if settings.external_grafana and not settings.grafana_owns_policy:
        found.append(
            f"grafana.ownNotificationPolicy: {where} keeps its own notification policy tree: the stack pushes its "
            "contact points, but not its route nor its inhibition rules (inhibition applies in Alertmanager only), "
            "so Grafana-managed alerts reach those contact points only through that Grafana's own policies. To have "
            "this stack replace the org's tree (and leave Grafana's default one on destroy): "
            "pulumi config set --path grafana.ownNotificationPolicy true"
        )
    if not (settings.grafana_owns_policy and settings.alerting.inhibit_rules and grafana_rules):
        return found
    not_inhibited = "its inhibit rules apply in Alertmanager only, and Grafana-managed alerts are not inhibited"
    version = settings.grafana_version
    if settings.grafana_org_id != 1 and not settings.grafana_stack_id:
        found.append(
            f"grafana.orgId: the token is of org {settings.grafana_org_id}, and the provider reaches the inhibition "
            f"rule API of org 1 only (it takes no org_id with a token), so {not_inhibited}"
        )
    elif version is None:
        found.append(
            f"grafana.version: the version of {where} is not known, so {not_inhibited}. Say which Grafana it is "
            "(13.1 is the first to serve inhibition rules): pulumi config set --path grafana.version <version>"
        )
    elif version < INHIBITION_SINCE:
        found.append(
            f"grafana.version: {where} is Grafana {version[0]}.{version[1]}, which has no inhibition rules (13.1 is "
            f"the first), so {not_inhibited}"
        )
    elif not settings.grafana_multiple_policies:
        how = (
            "turn it on in the stack's Grafana"
            if settings.runs("grafana")
            else "once that Grafana's [feature_toggles] enables it"
        )
        found.append(
            f"grafana.alertingMultiplePolicies: off, and Grafana applies inhibition rules only with that "
            f"experimental feature toggle, so {not_inhibited}. To {how}: "
            "pulumi config set --path grafana.alertingMultiplePolicies true"
        )
    return found
