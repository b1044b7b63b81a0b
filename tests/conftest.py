"""Shared fixtures: the repository root and the tests' helpers (tests/support/) on sys.path, stack configs with
test secrets."""

from __future__ import annotations

import json
import os
import shutil
import stat as stat_module
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The helpers are imported as top-level modules (`from repo import ROOT`), and this file as `conftest`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from mockstack import stack_config  # noqa: E402
from servers import stack_build_dir  # noqa: E402

# promtool and amtool are the releases the stack deploys (Prometheus 3.16, Alertmanager 0.35), built beside their
# servers by scripts/setup.sh, ahead of any other on PATH (Debian's are 2.42 and 0.25): the tools tier proves
# what the deployed servers accept. tests/tools/test_tools.py checks which release answers.
os.environ["PATH"] = os.pathsep.join(
    [str(stack_build_dir("prometheus")), str(stack_build_dir("alertmanager")), os.environ.get("PATH", "")]
)


def pytest_collection_modifyitems(config, items):
    """Under the mutation score (scripts/mutation.py sets MONITORING_TEST_DURATIONS to mutmut's stats), the
    fastest tests first: mutmut stops a mutant's run at its first failing test, and gives the tests in no order."""
    durations = os.environ.get("MONITORING_TEST_DURATIONS")
    if durations and Path(durations).is_file():  # none yet while mutmut times the tests
        seconds = json.loads(Path(durations).read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: seconds.get(item.nodeid, 0.0))


STACKS = ("dev", "staging", "prod")
KUBERNETES_STACKS = ("cluster",)  # stacks with a `kubernetes` block: the operator's objects, no containers

_PROD_RECEIVERS = {
    "alerting.receivers[0].slack[0].url": "https://hooks.slack.test/services/PROD/KERP",
    "alerting.receivers[1].slack[0].url": "https://hooks.slack.test/services/PROD/CRITICAL",
    "alerting.receivers[1].pagerduty[0].routingKey": "pdv2Prod0001IntegrationKey000001",
    "alerting.receivers[2].slack[0].url": "https://hooks.slack.test/services/PROD/WARNING",
    "alerting.receivers[3].webhooks[0].url": "https://deadman.test/ping/prod-0001",
    "alerting.receivers[4].webhooks[0].url": "https://mindhit.test/webhooks/alerts",
    "alerting.receivers[5].webhooks[0].url": "https://mindhit.test/webhooks/alerts/critical",
    "alerting.receivers[6].slack[0].url": "https://hooks.slack.test/services/PROD/PLATFORM",
    "alerting.receivers[7].slack[0].url": "https://hooks.slack.test/services/PROD/PLATFORM-CRITICAL",
    "alerting.receivers[7].pagerduty[0].routingKey": "pdv2Prod0002IntegrationKey000002",
    "alerting.smtp.password": "prod-Smtp-pw-1",
}

# Values an operator sets once that are no secrets (their keys are, as parts of a secret object).
_PROD_SETTINGS = {
    "alerting.receivers[5].email[0].to": "mindhit-oncall@mail.test",
    "alerting.smtp.smarthost": "smtp.mail.test:587",
    "alerting.smtp.from": "monitoring-prod@mail.test",
    "alerting.smtp.username": "monitoring-prod",
}
TEST_SETTINGS = {"prod": _PROD_SETTINGS, "cluster": _PROD_SETTINGS}

# Values an operator would set with `pulumi config set --secret`; fake, but shaped like the real ones.
TEST_SECRETS = {
    "staging": {
        "grafanaAdminPassword": "staging-Secret-pw-1",
        "alerting.receivers[0].slack[0].url": "https://hooks.slack.test/services/STAGING/DEFAULT",
        "alerting.receivers[1].slack[0].url": "https://hooks.slack.test/services/STAGING/CRITICAL",
        "alerting.receivers[2].webhooks[0].url": "https://deadman.test/ping/staging-0001",
        "alerting.receivers[3].slack[0].url": "https://hooks.slack.test/services/STAGING/OBSERVER",
    },
    "prod": {
        "grafanaAdminPassword": "prod-Secret-pw-1",
        **_PROD_RECEIVERS,
        "alerting.receivers[8].slack[0].url": "https://hooks.slack.test/services/PROD/OBSERVER",
        "alerting.receivers[9].slack[0].url": "https://hooks.slack.test/services/PROD/OBSERVER-CRITICAL",
        "alerting.receivers[9].pagerduty[0].routingKey": "pdv2Prod0003IntegrationKey000003",
        "exporters[0].address": "postgresql://monitor:prod-Pg-pw-1@host.docker.internal:5432/kerp?sslmode=disable",
        "exporters[1].password": "prod-Redis-pw-1",
    },
    "cluster": _PROD_RECEIVERS,  # prod's routing but Observer's on the cluster, with no Grafana of its own
}


def _set_path(config: dict, path: str, value: str) -> None:
    """`pulumi config set --path` semantics for the paths used above."""
    head, *parts = path.replace("]", "").replace("[", ".").split(".")
    key = f"monitoring:{head}"
    if not parts:
        config[key] = value
        return
    node = config[key]
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value


def configured_stack(stack: str) -> tuple[dict, list[str]]:
    """A stack's config with its secrets set, and the secret keys, as `pulumi up` would see them."""
    config = stack_config(stack)
    for path, value in TEST_SETTINGS.get(stack, {}).items():
        _set_path(config, path, value)
    secret_keys = set()
    for path, value in TEST_SECRETS.get(stack, {}).items():
        _set_path(config, path, value)
        secret_keys.add(f"monitoring:{path.split('.')[0].split('[')[0]}")
    return config, sorted(secret_keys)


@pytest.fixture
def content_copy(tmp_path, monkeypatch):
    """A copy of dashboards/, rules/, systems/ and templates/ that a test may break; the program reads it instead."""
    import stacks.content

    for name in ("dashboards", "rules", "systems", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.setattr(stacks.content, "ROOT", tmp_path)
    return tmp_path


def fake_group(monkeypatch, path: str | Path, gid: int) -> None:
    """os.stat reports `path` in group `gid`: a group no file of the machine has, as root or not, so that a test
    sees the value the code read, not one it could have guessed."""
    real_stat = os.stat

    def stat(name, *args, **kwargs):
        result = real_stat(name, *args, **kwargs)
        if str(name) != str(path):
            return result
        fields = list(result)
        fields[stat_module.ST_GID] = gid
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", stat)


@pytest.fixture(scope="module")
def webhooks():
    """A webhook receiver that containers reach through host.docker.internal (over the Docker bridge)."""
    from webhooks import WebhookReceiver

    hooks = WebhookReceiver("0.0.0.0")
    yield hooks
    hooks.close()


@pytest.fixture
def processes():
    """start(*command, log=path): a process stopped when the test ends."""
    started: list[subprocess.Popen] = []

    def start(*command: str, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def logged_warnings(monkeypatch) -> list[str]:
    """The warnings the program logs (pulumi.log.warn), as preview would print them."""
    import pulumi

    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    return warnings
