"""The stack's outputs, the contract with application projects: names and shapes in one place.

`__main__.py` exports `stack_outputs(...)`; an application reads them through a StackReference with
`MonitoringOutputs.from_stack_reference(ref)`, so neither side spells an output name by hand.

Outputs (camelCase, as `pulumi stack output` shows them):
- `environment`: "dev", "staging" or "prod".
- `urls`: service -> published URL, for the services the stack runs (prometheus, alertmanager, and those
  of loki, promtail and grafana in its `services`).
- `network`: the Docker network name. An application attaches its containers to it, so that
  Prometheus reaches them (Promtail ships every container's logs to Loki, on the network or not).
- `scrapeLabels`: the container label names an application sets to be scraped, by role:
  `scrape` (value "true"), `port` (required), `path` (default /metrics), `job` (default: the container name).
- `grafana`: {`url`, `folderUids` (title -> uid), `datasourceUids` (prometheus/loki/alertmanager -> uid)};
  `url` is the stack's Grafana or the existing one it pushes content to, empty when there is none; both
  maps are empty when the stack leaves Grafana's content alone (`grafanaContent: false`).
- `grafanaToken` (secret): a service account token for applications' own Grafana provider, Viewer with Edit
  on the stack's folders (their dashboards and alert rules go there);
  only with Grafana content.
- `dashboardUrls`: dashboard uid -> URL; only with Grafana content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from stacks.layout import JOB_NAME

if TYPE_CHECKING:
    import pulumi

ENVIRONMENT = "environment"
URLS = "urls"
NETWORK = "network"
SCRAPE_LABELS = "scrapeLabels"
GRAFANA = "grafana"
GRAFANA_TOKEN = "grafanaToken"
DASHBOARD_URLS = "dashboardUrls"
REQUIRED_OUTPUTS = (ENVIRONMENT, URLS, NETWORK, SCRAPE_LABELS, GRAFANA)
GRAFANA_CONTENT_OUTPUTS = (GRAFANA_TOKEN, DASHBOARD_URLS)
"""Exported only when the stack pushes Grafana's content."""


@dataclass(frozen=True)
class ScrapeLabelNames:
    """The container labels that register a scrape target with Prometheus's Docker discovery."""

    scrape: str = "monitoring.scrape"
    port: str = "monitoring.port"
    path: str = "monitoring.path"
    job: str = "monitoring.job"

    def as_output(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


LABELS = ScrapeLabelNames()


def network_name(name_prefix: str) -> str:
    """The stack's Docker network, the one applications join to be scraped."""
    return f"{name_prefix}-network"


def scrape_labels(
    names: Mapping[str, str], port: int, path: str | None = None, job: str | None = None
) -> dict[str, str]:
    """The labels a container sets to be scraped on `port` (and `path`, as `job`), given the stack's label names."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be a port number from 1 to 65535, got {port!r}")
    if path is not None and not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    if job is not None and not JOB_NAME.match(job):
        raise ValueError(f"job must be a job name such as 'orders-api', got {job!r}")
    labels = {names["scrape"]: "true", names["port"]: str(port)}
    if path is not None:
        labels[names["path"]] = path
    if job is not None:
        labels[names["job"]] = job
    return labels


def stack_outputs(
    environment: str,
    urls: Mapping[str, Any],
    network: Any,
    grafana_url: str,
    folder_uids: Mapping[str, Any] | None = None,
    datasource_uids: Mapping[str, Any] | None = None,
    grafana_token: Any = None,
    dashboard_urls: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every output by name, as __main__.py exports them. Values may be Outputs; the token must be a secret one.
    Without Grafana content: no folders or datasources, no token, no dashboard URLs."""
    outputs: dict[str, Any] = {
        ENVIRONMENT: environment,
        URLS: dict(urls),
        NETWORK: network,
        SCRAPE_LABELS: LABELS.as_output(),
        GRAFANA: {
            "url": grafana_url,
            "folderUids": dict(folder_uids or {}),
            "datasourceUids": dict(datasource_uids or {}),
        },
    }
    if grafana_token is not None:
        outputs[GRAFANA_TOKEN] = grafana_token
    if dashboard_urls is not None:
        outputs[DASHBOARD_URLS] = dict(dashboard_urls)
    return outputs


@dataclass(frozen=True)
class MonitoringOutputs:
    """The monitoring stack's outputs as an application reads them: one Output per contract output.

    `grafana_token` and `dashboard_urls` resolve to None when the stack has no Grafana content;
    `grafana_token` stays a secret.
    """

    environment: pulumi.Output[str]
    urls: pulumi.Output[dict[str, str]]
    network: pulumi.Output[str]
    scrape_labels: pulumi.Output[dict[str, str]]
    grafana: pulumi.Output[dict[str, Any]]
    grafana_token: pulumi.Output[str | None]
    dashboard_urls: pulumi.Output[dict[str, str] | None]

    @classmethod
    def from_stack_reference(cls, ref: pulumi.StackReference) -> MonitoringOutputs:
        """Read every output; a missing required one fails the app's run, naming it."""

        def required(name: str) -> pulumi.Output:
            def present(value: Any) -> Any:
                if value is None:
                    raise ValueError(
                        f"the referenced stack has no output {name!r}: is it a monitoring stack, deployed with "
                        "this version of stacks/outputs.py?"
                    )
                return value

            return ref.get_output(name).apply(present)

        return cls(
            environment=required(ENVIRONMENT),
            urls=required(URLS),
            network=required(NETWORK),
            scrape_labels=required(SCRAPE_LABELS),
            grafana=required(GRAFANA),
            grafana_token=ref.get_output(GRAFANA_TOKEN),
            dashboard_urls=ref.get_output(DASHBOARD_URLS),
        )

    def container_labels(
        self, port: int, path: str | None = None, job: str | None = None
    ) -> pulumi.Output[dict[str, str]]:
        """The labels that get a container scraped, with the label names of the deployed stack (not of this
        module's copy, which an application may pin at another version)."""
        scrape_labels(LABELS.as_output(), port, path, job)  # a bad port fails here, where the app calls this
        return self.scrape_labels.apply(lambda names: scrape_labels(names, port, path, job))
