"""End to end on the real engine: `pulumi preview/up/destroy` of the dev stack's containers on Docker.

The dev stack with what this machine may run (engine_stack.PERMITTED_SERVICES): Prometheus and Alertmanager from
their local builds, selected through `images`, without Loki, Promtail, Grafana or its content (their source, and the
Grafana plugin's, is AGPL: docs/building-without-registries.md, "Never built or downloaded"). Through the real
Pulumi engine, the docker plugin and the real servers. The tests run in order on one deployment.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from engine_stack import (
    PERMITTED_SERVICES,
    Stack,
    alert_active_at,
    deployed_dev_stack,
    docker,
    largest_scrape_gap,
    pending_alert_rules,
    wait_for_component_targets,
)
from polling import http_json, wait_for

pytestmark = pytest.mark.engine

PREFIX = "monitoring-e2e"
# Ports of their own, so a developer's dev stack on the same host is left alone.
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 25191, "alertmanager": 25193}
SERVICES = tuple(PORTS)
SCRAPED_BEFORE_DESTROY: list[str] = []  # the destroy test's query for a sample, for the up that follows


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, webhooks):
    def webhook_url(path: str) -> str:
        return webhooks.url(path, host="host.docker.internal")

    # dev's own empty passphrase, which scripts/up uses (the killed-update test runs it).
    for stack in deployed_dev_stack(
        tmp_path_factory.mktemp("project"), tmp_path_factory.mktemp("state"), PREFIX, PORTS, webhook_url, passphrase=""
    ):
        (stack.workdir / "rules/e2e-pending.yml").write_text(pending_alert_rules("E2EPendingFiveMinutes"))
        # The receivers' URLs as staging and prod hold theirs: secret leaves of `alerting` (Pulumi.prod.yaml).
        receivers = yaml.safe_load(stack.stack_file.read_text())["config"]["monitoring:alerting"]["receivers"]
        for index, receiver in enumerate(receivers):
            key = f"monitoring:alerting.receivers[{index}].webhooks[0].url"
            stack.set_config(key, receiver["webhooks"][0]["url"], secret=True, path=True)
        yield stack


@pytest.fixture(scope="module")
def stack(deployment) -> Stack:
    return deployment


def url(service: str, path: str = "") -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


def changes(steps: list[dict]) -> list[tuple[str, str]]:
    """The steps that would change something (a refresh only reads)."""
    return sorted((s["op"], s["urn"].split("::")[-1]) for s in steps if s["op"] not in ("same", "refresh"))


def test_preview_lists_the_expected_creates(stack):
    steps = stack.preview_steps()
    creates = {(s["newState"]["type"], s["urn"].split("::")[-1]) for s in steps if s["op"] == "create"}
    for service in SERVICES:
        assert ("docker:index/container:Container", f"monitoring-{service}-container") in creates
        assert ("docker:index/volume:Volume", f"monitoring-{service}-data") in creates
    assert ("docker:index/network:Network", "monitoring-network") in creates
    assert {s["op"] for s in steps} == {"create"}
    assert not {
        name for _, name in creates if name.startswith(("monitoring-loki", "monitoring-promtail", "monitoring-grafana"))
    }


def test_up_brings_every_service_healthy_with_its_configuration(stack):
    stack.up()
    for service in SERVICES:
        inspect = json.loads(docker("inspect", f"{PREFIX}-{service}").stdout)[0]
        assert inspect["State"]["Health"]["Status"] == "healthy", service
        assert inspect["Config"]["Image"] == PERMITTED_SERVICES["images"][service]
        bindings = inspect["HostConfig"]["PortBindings"]
        assert [b["HostIp"] for ports in bindings.values() for b in ports] == ["127.0.0.1"]

    wait_for_component_targets(url("prometheus"), SERVICES)
    groups = {g["name"] for g in http_json(url("prometheus", "/api/v1/rules"))["data"]["groups"]}
    assert {"mindhit-api", "mindhit-worker", "platform-watchdog", "platform-availability"} <= groups
    status = http_json(url("alertmanager", "/api/v2/status"))
    assert "receiver: watchdog" in status["config"]["original"]
    assert stack.outputs()["urls"] == {service: url(service) for service in SERVICES}


def test_second_up_changes_nothing(stack):
    assert changes(stack.preview_steps("--refresh")) == []
    stack.pulumi("up", "--yes", "--refresh", "--expect-no-changes")


def test_a_rule_edit_is_reloaded_in_place_without_a_gap_or_a_lost_pending_alert(stack):
    """promtool checks the new files in a container of its own, then they go into the running Prometheus, which
    reloads: same container, no scrape missed, and the pending alert keeps the time it became active."""
    server = _container_id(f"{PREFIX}-prometheus")
    pending = wait_for(lambda: alert_active_at(url("prometheus"), "E2EPendingFiveMinutes"), 60, "the pending alert")
    edited_at = time.time()

    path = stack.workdir / "rules/mindhit.yml"
    path.write_text(path.read_text().replace("> 100\n", "> 200\n"))
    planned = changes(stack.preview_steps())
    assert planned == [("replace", "monitoring-prometheus-check"), ("update", "monitoring-prometheus-config")], planned
    took = stack.up()

    assert _container_id(f"{PREFIX}-prometheus") == server
    assert _rule_query("HighQueueBacklog").endswith("> 200")
    assert alert_active_at(url("prometheus"), "E2EPendingFiveMinutes") == pending
    time.sleep(2 * SCRAPE_INTERVAL)  # scrapes after the reload, to be in the window
    gap = largest_scrape_gap(url("prometheus"), edited_at - 30)
    assert gap <= 1.5 * SCRAPE_INTERVAL, gap
    print(f"\nrule edit: `pulumi up` {took:.1f} s, largest interval between samples of up {gap:.1f} s")


SCRAPE_INTERVAL = 5  # seconds: deployed_dev_stack's scrapeInterval


def _rule_query(alert: str) -> str:
    rules = http_json(url("prometheus", "/api/v1/rules"))["data"]["groups"]
    return next(r for g in rules for r in g["rules"] if r["name"] == alert)["query"]


def _silence(alertname: str) -> dict:
    now = time.time()
    return {
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": False, "isEqual": True}],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
        "createdBy": "e2e",
        "comment": "made just before a change of Alertmanager",
    }


def _make_silences(prefix: str, count: int = 2000) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda i: http_json(url("alertmanager", "/api/v2/silences"), data=_silence(f"{prefix}{i}")),
                range(count),
            )
        )


def _silenced_alertnames() -> set[str]:
    silences = http_json(url("alertmanager", "/api/v2/silences"), timeout=30)
    return {s["matchers"][0]["value"] for s in silences if s["status"]["state"] == "active"}


def test_a_routing_edit_is_reloaded_in_place_and_silences_made_just_before_survive(stack):
    server = _container_id(f"{PREFIX}-alertmanager")
    _make_silences("E2ERoutingEdit")
    stack.edit_config(lambda config: config["monitoring:alerting"]["route"].update(groupInterval="7s"))
    planned = changes(stack.preview_steps())
    assert planned == [("replace", "monitoring-alertmanager-check"), ("update", "monitoring-alertmanager-config")], (
        planned
    )
    stack.up()
    assert _container_id(f"{PREFIX}-alertmanager") == server
    assert "group_interval: 7s" in http_json(url("alertmanager", "/api/v2/status"))["config"]["original"]
    assert {f"E2ERoutingEdit{i}" for i in range(2000)} <= _silenced_alertnames()


def test_silences_made_just_before_an_image_change_survive_the_replaced_alertmanager(stack):
    """A new image replaces the container: it is stopped with time to write its silences to the volume."""
    server = _container_id(f"{PREFIX}-alertmanager")
    image = PERMITTED_SERVICES["images"]["alertmanager"]
    retagged = f"{image}-e2e"  # the same image under another reference: a change of `image`
    docker("tag", image, retagged)
    _make_silences("E2EImageChange")
    stack.edit_config(lambda config: config["monitoring:images"].update(alertmanager=retagged))
    stack.up()
    assert _container_id(f"{PREFIX}-alertmanager") != server
    silenced = _silenced_alertnames()
    assert {f"E2EImageChange{i}" for i in range(2000)} <= silenced
    assert {f"E2ERoutingEdit{i}" for i in range(2000)} <= silenced
    # And back to the image scripts/up selects (the later tests run it): replaced again, nothing lost again.
    stack.edit_config(lambda config: config["monitoring:images"].update(alertmanager=image))
    stack.up()
    assert {f"E2EImageChange{i}" for i in range(2000)} <= _silenced_alertnames()
    docker("rmi", retagged)


def _sample_before(service: str = "alertmanager") -> str:
    """A query for a successful scrape Prometheus made before now, once it has one. A failed one does not do: right
    after `service` was replaced, the latest sample may be a scrape of it while it was down (up 0)."""

    def scraped_up() -> str | None:
        query = urllib.parse.urlencode({"query": f'up{{job="{service}"}}', "time": f"{time.time():.3f}"})
        result = http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"]
        return query if result and result[0]["value"][1] == "1" else None

    return wait_for(scraped_up, 60, f"a successful scrape of {service}")


@pytest.mark.parametrize("fault", ["rm", "kill"])
def test_a_container_removed_or_stopped_by_hand_is_put_back_by_the_next_up(stack, fault):
    """`docker rm -f` or `docker kill` (which unless-stopped does not undo): the next `pulumi up` refreshes
    (Pulumi.yaml options.refresh), sees it, and brings the container back healthy, its data kept."""
    query = _sample_before()
    target = f"{PREFIX}-prometheus"
    docker(*(["rm", "-f"] if fault == "rm" else ["kill"]), target)
    took = stack.up()
    inspect = json.loads(docker("inspect", target).stdout)[0]
    assert inspect["State"]["Running"] and inspect["State"]["Health"]["Status"] == "healthy"
    result = wait_for(
        lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 60, "old sample"
    )
    assert result[0]["value"][1] == "1"
    stack.pulumi("preview", "--expect-no-changes")
    _no_orphans(stack)
    print(f"\n{fault}: recovered by `pulumi up` in {took:.1f} s")


FAULTS_BY_HAND = {  # what is done by hand; what scripts/up must find, on stderr, before its update
    "none": ([], "Docker has what the state holds"),
    "kill": (["kill", f"{PREFIX}-prometheus"], "monitoring-prometheus-container is not running"),
    "disconnect": (
        ["network", "disconnect", f"{PREFIX}-network", f"{PREFIX}-alertmanager"],
        "monitoring-alertmanager-container is not on monitoring-e2e-network",
    ),
}


@pytest.mark.parametrize("fault", FAULTS_BY_HAND)
def test_scripts_up_skips_the_refresh_only_when_docker_has_what_the_state_holds(stack, fault):
    """scripts/up compares Docker with the state first (scripts/recover.py): it skips the refresh, whose network read
    alone takes 2 s, only when they match, and a change by hand is still put right by its update."""
    command, found = FAULTS_BY_HAND[fault]
    if command:
        docker(*command)
    run = _scripts_up(stack, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = run.communicate(timeout=900)
    assert run.returncode == 0, output[-3000:]
    assert found in output, output[-3000:]
    assert ("skips its refresh" in output) == (fault == "none"), output[-3000:]
    for service in SERVICES:
        inspect = json.loads(docker("inspect", f"{PREFIX}-{service}").stdout)[0]
        assert inspect["State"]["Running"] and f"{PREFIX}-network" in inspect["NetworkSettings"]["Networks"]
        assert inspect["State"]["Health"]["Status"] == "healthy"  # the provider waits for it (`wait`)
    stack.pulumi("preview", "--expect-no-changes")
    _no_orphans(stack)


def test_the_watchdog_goes_through_alertmanager_to_its_receiver(stack, webhooks):
    wait_for(lambda: "Watchdog" in webhooks.alertnames("/watchdog"), 120, "the Watchdog at /watchdog")


def test_no_secret_is_in_plaintext_in_the_state(stack, webhooks):
    state = stack.state()
    assert '"ciphertext"' in state  # alertmanager.yml, with the receiver URLs, is there, encrypted
    for receiver in ("/default", "/critical", "/watchdog"):
        assert webhooks.url(receiver, host="host.docker.internal") not in state


def _set_retention(stack: Stack, retention: str) -> None:
    """A change of Prometheus' command line, which replaces its container (a rule change no longer does)."""
    stack.edit_config(lambda config: config["monitoring:prometheus"].update(retentionTime=retention))


def _scripts_up(stack: Stack, **kwargs):
    return subprocess.Popen(["bash", "scripts/up", "dev"], cwd=stack.workdir, env=stack.env, text=True, **kwargs)


@pytest.mark.parametrize("delay", [5, 10, 20])
def test_a_second_scripts_up_waits_for_the_first_and_removes_nothing_of_it(stack, delay):
    """Two scripts/up, the second `delay` seconds after the first, whose update replaces Prometheus. The second
    waits for the first to end (nor would its recovery step run while the first's `pulumi` holds the stack's
    lock): the container the first has just created, not yet in the state, is never taken for a leftover. Then
    the second runs its own update, and both succeed."""
    server = _container_id(f"{PREFIX}-prometheus")
    _set_retention(stack, f"{96 + delay}d")  # 101, 106, 116: no whole weeks, which Prometheus would print as such
    first = _scripts_up(stack, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(delay)
        first_running = first.poll() is None
        second = _scripts_up(stack, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        second_output, _ = second.communicate(timeout=900)
    finally:
        first_output, _ = first.communicate(timeout=900)
    assert first.returncode == 0, first_output[-3000:]
    assert second.returncode == 0, second_output[-3000:]
    assert "[recover] removed" not in second_output, second_output[-3000:]
    if first_running:
        assert "[up] another scripts/up of dev runs" in second_output, second_output[-3000:]
    if delay == 5:  # the first is still at work then: the case this is about
        assert first_running
    stack.pulumi("preview", "--expect-no-changes")
    _no_orphans(stack)
    inspect = json.loads(docker("inspect", f"{PREFIX}-prometheus").stdout)[0]
    assert inspect["Id"] != server and inspect["State"]["Health"]["Status"] == "healthy"
    flags = http_json(url("prometheus", "/api/v1/status/flags"))["data"]
    assert flags["storage.tsdb.retention.time"] == f"{96 + delay}d"


# A regex Go's RE2 refuses ("invalid repeat count": nested repeats above 1000). Preview refuses it too
# (stacks/syntax/promql.py, regex_error), exactly as the server does: to show what the last line does when preview
# misses something (a gap not yet known, an image of another release), the test takes that check out of its own
# copy of the program, and the rule reaches `up` as one only the server refuses (docs/operations.md, "Configuration the
# servers refuse").
ONLY_THE_SERVER_REFUSES = 'instance=~"(a{30}){40}", '
PREVIEW_REGEX_CHECK = "return disabled_feature(expr) or regex_error(expr)"


def _with_a_rule_only_the_server_refuses(path: Path) -> str:
    """The rule file edited to hold ONLY_THE_SERVER_REFUSES; what it held before."""
    good = path.read_text()
    anchor = 'mindhit_worker_jobs_in_queue{job=~"mindhit-.+", '
    assert anchor in good
    path.write_text(good.replace(anchor, anchor + ONLY_THE_SERVER_REFUSES))
    return good


def test_a_rule_only_the_server_refuses_stops_up_and_the_old_prometheus_keeps_serving(stack):
    """The last line: promtool, from the Prometheus image, checks the new files in a container of its own
    before the running Prometheus is removed. It refuses them, so `up` fails with its message and the old
    Prometheus, its rules and its data stay as they were."""
    promql = stack.workdir / "stacks/syntax/promql.py"
    program = promql.read_text()
    assert PREVIEW_REGEX_CHECK in program
    promql.write_text(program.replace(PREVIEW_REGEX_CHECK, "return disabled_feature(expr)"))
    query = _sample_before()
    server_before = json.loads(docker("inspect", f"{PREFIX}-prometheus").stdout)[0]["Id"]
    path = stack.workdir / "rules/mindhit.yml"
    good = _with_a_rule_only_the_server_refuses(path)
    stack.pulumi("preview")  # the first line, without its regex check, lets it through

    started = time.monotonic()
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    took = time.monotonic() - started
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-3000:]
    assert "the new configuration fails `/bin/promtool check config" in output, output[-3000:]
    assert "invalid repeat count" in output, output[-3000:]

    inspect = json.loads(docker("inspect", f"{PREFIX}-prometheus").stdout)[0]
    assert inspect["Id"] == server_before and inspect["State"]["Health"]["Status"] == "healthy"
    rules = http_json(url("prometheus", "/api/v1/rules"))["data"]["groups"]
    backlog = next(r for g in rules for r in g["rules"] if r["name"] == "HighQueueBacklog")
    assert "a{30}" not in backlog["query"] and backlog["query"].endswith("> 200")
    result = http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"]
    assert result[0]["value"][1] == "1"

    path.write_text(good)  # fixed: the next up converges, and Prometheus was never replaced
    promql.write_text(program)
    stack.up()
    stack.pulumi("preview", "--expect-no-changes")
    assert json.loads(docker("inspect", f"{PREFIX}-prometheus").stdout)[0]["Id"] == server_before
    print(f"\nrefused by promtool before delivery: `pulumi up` failed in {took:.1f} s, Prometheus untouched")


PROMTOOL_CHECK = '        check=["/bin/promtool", "check", "config", PROMETHEUS.config_path],\n'


def test_a_reload_the_server_refuses_fails_up_with_its_log_and_it_runs_on_its_old_files(stack):
    """Past both lines (preview's regex check taken out of this copy of the program, and its check container
    made to run `promtool --version` instead), the rule reaches the running Prometheus, which refuses to reload it:
    `up` fails with the server's own log lines, the files it had are put back, and it runs on, on its old rules,
    in the same container."""
    promql, renderer = stack.workdir / "stacks/syntax/promql.py", stack.workdir / "stacks/render/prometheus.py"
    program, rendering = promql.read_text(), renderer.read_text()
    assert PREVIEW_REGEX_CHECK in program and PROMTOOL_CHECK in rendering
    promql.write_text(program.replace(PREVIEW_REGEX_CHECK, "return disabled_feature(expr)"))
    renderer.write_text(
        rendering.replace(
            PROMTOOL_CHECK, PROMTOOL_CHECK.replace('"check", "config", PROMETHEUS.config_path', '"--version"')
        )
    )
    server = _container_id(f"{PREFIX}-prometheus")
    path = stack.workdir / "rules/mindhit.yml"
    good = _with_a_rule_only_the_server_refuses(path)
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-3000:]
    assert "prometheus refused the new configuration on reload, and runs on the files it had" in output, output[-3000:]
    assert 'msg="Error reloading config"' in output and "invalid repeat count" in output, output[-3000:]

    assert _container_id(f"{PREFIX}-prometheus") == server
    assert "a{30}" not in _rule_query("HighQueueBacklog")
    # The files on disk are the old ones again: a reload of them succeeds.
    reloaded_before = _metric("prometheus_config_last_reload_success_timestamp_seconds")
    urllib.request.urlopen(urllib.request.Request(url("prometheus", "/-/reload"), method="POST"), timeout=60).close()
    wait_for(
        lambda: _metric("prometheus_config_last_reload_success_timestamp_seconds") > reloaded_before,
        30,
        "a reload of the restored files",
        interval=0.2,
    )
    assert _metric("prometheus_config_last_reload_successful") == 1

    path.write_text(good)
    promql.write_text(program)
    renderer.write_text(rendering)
    stack.up()
    stack.pulumi("preview", "--expect-no-changes")
    assert _container_id(f"{PREFIX}-prometheus") == server


def _metric(name: str) -> float:
    """From Prometheus' own /metrics, as it is now (not a scrape of it)."""
    with urllib.request.urlopen(url("prometheus", "/metrics"), timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} is not in Prometheus' /metrics")


def _up_in_background(stack: Stack, **output) -> subprocess.Popen:
    """`pulumi up` of the stack, running while the test goes on."""
    command = ["pulumi", "up", "--yes", "--skip-preview", "--stack", stack.name, "--non-interactive"]
    return subprocess.Popen(command, cwd=stack.workdir, env=stack.env, **output)


def _container_id(name: str) -> str | None:
    found = docker("ps", "-a", "-q", "--no-trunc", "--filter", f"name=^/{name}$").stdout.split()
    return found[0] if found else None


def _no_orphans(stack: Stack) -> None:
    """Every container carrying the stack's project label is one the state holds."""
    state = json.loads(stack.state())["deployment"]
    known = {r["id"] for r in state["resources"] if r["type"] == "docker:index/container:Container"}
    labelled = docker("ps", "-a", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={PREFIX}").stdout
    assert set(labelled.split()) == known
    assert not state.get("pending_operations")


def test_an_update_killed_mid_replace_is_recovered_by_the_next_scripts_up(stack):
    """SIGKILL to the CLI while Prometheus is being replaced: Docker has created the new container, the
    state never hears of it, and the lock stays. The next scripts/up removes the lock (its owner is gone),
    the unknown container and the pending create, then converges."""
    query = _sample_before()
    server = f"{PREFIX}-prometheus"
    before = _container_id(server)
    _set_retention(stack, "40d")
    helpers_before = _orphaned_pulumi_helpers()
    update = _up_in_background(stack, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # the new container exists (created, not yet healthy): the provider has not answered the engine
        wait_for(lambda: _container_id(server) not in (None, before), 120, "the new Prometheus", interval=0.1)
    finally:
        update.kill()
        update.wait()

    # What the killed CLI leaves running (docs/operations.md, "An update killed midway"), ended as that section says.
    def orphaned() -> dict[str, str] | None:
        """The helpers the killed CLI left, from one listing, once both are there."""
        found = {group: name for group, name in _orphaned_pulumi_helpers().items() if group not in helpers_before}
        return found if {"pulumi-language-python", "pulumi-resource-docker"} <= set(found.values()) else None

    left = wait_for(orphaned, 30, "the orphaned language host and docker plugin")
    for group in left:  # one may have ended by itself since the listing
        subprocess.run(["kill", "--", f"-{group}"], check=False)
    wait_for(lambda: not (_orphaned_pulumi_helpers().keys() & left), 30, "the helpers to end", interval=0.2)
    assert _locked(stack)
    refused = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and "locked" in refused.stdout + refused.stderr

    started = time.monotonic()
    recovered = subprocess.run(
        ["bash", "scripts/up", "dev"], cwd=stack.workdir, env=stack.env, capture_output=True, text=True, timeout=900
    )
    took = time.monotonic() - started
    output = recovered.stdout + recovered.stderr
    assert recovered.returncode == 0, output[-4000:]
    assert f"[recover] removed the lock of update pid {update.pid}" in output, output[-4000:]
    assert f"[recover] removed the container {server}: it carries" in output, output[-4000:]
    assert "[recover] cleared the pending creating of monitoring-prometheus-container" in output, output[-4000:]

    stack.pulumi("preview", "--expect-no-changes")
    _no_orphans(stack)
    inspect = json.loads(docker("inspect", server).stdout)[0]
    assert inspect["State"]["Health"]["Status"] == "healthy"
    result = wait_for(lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 60, "old data")
    assert result[0]["value"][1] == "1"
    assert http_json(url("prometheus", "/api/v1/status/flags"))["data"]["storage.tsdb.retention.time"] == "40d"
    print(f"\nkilled mid-replace: recovered by scripts/up in {took:.1f} s (toolchain and image checks included)")


def _orphaned_pulumi_helpers() -> dict[str, str]:
    """Process group -> program name, of each line that section's command finds:
    ps -A -ww -o pid,ppid,pgid,etime,args | awk '$2 == 1 && /pulumi-(language|resource)-/'"""
    out = subprocess.run(
        ["bash", "-c", "ps -A -ww -o pid,ppid,pgid,etime,args | awk '$2 == 1 && /pulumi-(language|resource)-/'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    helpers = {}
    for line in out.splitlines():
        _pid, _ppid, group, _elapsed, *args = line.split()
        program = next(Path(arg).name for arg in args if "pulumi-" in arg)
        helpers[group] = program
    return helpers


def _alive(pid: str) -> bool:
    """The process runs (a zombie, gone but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_docker_daemon_restart_brings_the_services_back_by_themselves(stack):
    """dockerd stopped and started again: unless-stopped brings the containers back healthy with their data,
    and the stack has not drifted (the next refresh finds nothing to change)."""
    query = _sample_before()
    # The default daemon's own pid file: another dockerd (the two-host test's second one) is not this one.
    daemon = Path("/var/run/docker.pid").read_text().strip()
    subprocess.run(["kill", daemon], check=True)
    wait_for(lambda: not _alive(daemon), 60, "dockerd to stop", interval=0.2)
    started = time.monotonic()
    subprocess.run(["bash", "offline/docker/start.sh"], cwd=stack.workdir, check=True, capture_output=True)

    def healthy():
        states = [json.loads(docker("inspect", f"{PREFIX}-{s}").stdout)[0]["State"] for s in SERVICES]
        return all(state["Running"] and state.get("Health", {}).get("Status") == "healthy" for state in states)

    wait_for(healthy, 120, "the services healthy again", interval=0.2)
    took = time.monotonic() - started
    result = wait_for(lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 60, "old data")
    assert result[0]["value"][1] == "1"
    stack.pulumi("preview", "--expect-no-changes")  # with the refresh of Pulumi.yaml's options
    _no_orphans(stack)
    print(f"\ndocker daemon restart: services healthy again {took:.1f} s after dockerd was started")


def _locked(stack: Stack) -> bool:
    """Whether an update holds the stack's lock in the file backend (.pulumi/locks/...)."""
    backend = Path(stack.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return any(path.suffix == ".json" for path in (backend / ".pulumi" / "locks").rglob("*"))


def test_destroy_removes_containers_and_network_and_keeps_retained_volumes(stack):
    stack.edit_config(lambda config: config.update({"monitoring:protectVolumes": True}))
    assert changes(stack.preview_steps()) == []  # retaining is an option of the volumes, not a change
    stack.up()
    SCRAPED_BEFORE_DESTROY.append(_sample_before())
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert docker("ps", "-a", "-q", "--filter", f"name={PREFIX}").stdout.strip() == ""
    assert docker("network", "ls", "-q", "--filter", f"name={PREFIX}").stdout.strip() == ""
    volumes = set(docker("volume", "ls", "-q", "--filter", f"name={PREFIX}").stdout.split())
    assert volumes == {f"{PREFIX}-{s}-data" for s in SERVICES}


def test_up_after_destroy_finds_the_retained_data(stack):
    """The volumes outlived the destroy: the next `pulumi up` adopts them, and what Prometheus scraped before
    is queryable again."""
    (query,) = SCRAPED_BEFORE_DESTROY
    took = stack.up()
    result = wait_for(lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 90, "old data")
    assert result[0]["value"][1] == "1"
    stack.pulumi("preview", "--expect-no-changes")
    _no_orphans(stack)
    print(f"\nup after destroy, retained volumes: {took:.1f} s")
