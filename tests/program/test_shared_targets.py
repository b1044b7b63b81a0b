"""Each stack watches its own targets (issue 25): preview warns on a scrape target that another stack file of the
project also scrapes. Staging scraped host.docker.internal:9000, dev's MindHit on the same Docker host, so its
alerts and panels read dev's deployment."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import STACKS, configured_stack
from mockstack import run_program
from rendering import stack_settings

from stacks.config.settings import ScrapeTarget
from stacks.preflight import shared_target_warnings


def shared_target_lines(logged_warnings: list[str], stack: str, config: dict, secrets: list[str]) -> list[str]:
    """The shared-target warnings preview logs for this config."""
    run_program(stack, config, secrets)
    return [w for w in logged_warnings if " is also a target of " in w]


@pytest.mark.parametrize("stack", STACKS)
def test_no_shipped_stack_scrapes_another_ones_target(logged_warnings, stack):
    assert shared_target_lines(logged_warnings, stack, *configured_stack(stack)) == []


def test_staging_scraping_devs_mindhit_is_warned_of(logged_warnings):
    config, secrets = configured_stack("staging")
    config["monitoring:scrapeTargets"][0]["targets"] = ["host.docker.internal:9000"]  # as staging had it
    assert shared_target_lines(logged_warnings, "staging", config, secrets) == [
        "scrapeTargets[0].targets[0]: host.docker.internal:9000 is also a target of Pulumi.dev.yaml (job "
        "mindhit-api) on the same Docker host (dockerHost unset in both): both stacks watch one deployment, and this "
        "stack's alerts and panels read the other's; give this stack its own deployment's address, or set "
        "dockerHost where the two stacks run on different hosts"
    ]


def test_the_docker_hosts_own_address_is_shared_only_on_the_same_docker_host():
    settings = stack_settings("staging")
    devs = replace(settings, scrape_targets=(ScrapeTarget("mindhit-api", ("HOST.docker.internal:9000",)),))
    (warning,) = shared_target_warnings(devs, "staging")  # addresses compare without case
    assert "is also a target of Pulumi.dev.yaml" in warning
    elsewhere = replace(devs, docker_host="ssh://deploy@staging.example.com")
    assert shared_target_warnings(elsewhere, "staging") == []


def test_any_other_address_is_one_process_whatever_the_docker_host(tmp_path):
    (tmp_path / "Pulumi.a.yaml").write_text(
        "config:\n  monitoring:dockerHost: ssh://deploy@a.example.com\n"
        "  monitoring:scrapeTargets:\n    - {job: shop-api, targets: ['10.0.0.5:8081']}\n"
    )
    (tmp_path / "Pulumi.cluster.yaml").write_text(  # a Kubernetes stack scrapes through its monitors
        "config:\n  monitoring:kubernetes: {namespace: monitoring}\n"
        "  monitoring:scrapeTargets:\n    - {job: shop-api, targets: ['10.0.0.6:8081']}\n"
    )
    settings = replace(
        stack_settings("dev"),
        docker_host="ssh://deploy@b.example.com",
        scrape_targets=(
            ScrapeTarget("mindhit-api", ("host.docker.internal:9000",)),
            ScrapeTarget("shop", ("10.0.0.6:8081", "10.0.0.5:8081")),
        ),
    )
    assert shared_target_warnings(settings, "b", root=tmp_path) == [
        "scrapeTargets[1].targets[1]: 10.0.0.5:8081 is also a target of Pulumi.a.yaml (job shop-api): both stacks "
        "watch one deployment, and this stack's alerts and panels read the other's; give this stack its own "
        "deployment's address"
    ]
    assert shared_target_warnings(settings, "a", root=tmp_path) == []  # a stack's own file is not another's


def test_two_files_naming_one_docker_host_share_its_own_address(tmp_path):
    (tmp_path / "Pulumi.a.yaml").write_text(
        "config:\n  monitoring:dockerHost: ssh://deploy@a.example.com\n"
        "  monitoring:scrapeTargets:\n    - {job: shop-api, targets: ['host.docker.internal:9000']}\n"
    )
    mine = (ScrapeTarget("mindhit-api", ("host.docker.internal:9000",)),)
    same = replace(stack_settings("dev"), docker_host="ssh://deploy@a.example.com", scrape_targets=mine)
    assert shared_target_warnings(same, "b", root=tmp_path) == [
        "scrapeTargets[0].targets[0]: host.docker.internal:9000 is also a target of Pulumi.a.yaml (job shop-api) on "
        "the same Docker host (dockerHost ssh://deploy@a.example.com in both): both stacks watch one deployment, and "
        "this stack's alerts and panels read the other's; give this stack its own deployment's address, or set "
        "dockerHost where the two stacks run on different hosts"
    ]
    assert shared_target_warnings(replace(same, docker_host=""), "b", root=tmp_path) == []
