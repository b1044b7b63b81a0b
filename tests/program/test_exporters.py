"""Exporters for the systems' datastores (the `exporters` key): one container each on the stack network, its
connection a Pulumi secret, scraped as a job its system declares; and the bad input preview stops on.

The exporters' images cannot be built here: the Go module proxy refuses github.com/prometheus-community/
postgres_exporter and github.com/oliver006/redis_exporter (403, "This module version is not available"), so
these are checked under mocks and with promtool, not run (docs/testing.md, "What is proven, and by what")."""

from __future__ import annotations

import pytest
import yaml
from conftest import configured_stack
from mockstack import Recorder, is_secret, run_program, unwrap

from stacks.errors import InputError

CONTAINER = "docker:index/container:Container"
POSTGRES_URI = "postgresql://wealist:pg-Secret-1@db:5432/wealist?sslmode=disable"
EXPORTERS = [
    {"system": "wealist", "kind": "postgres", "address": POSTGRES_URI},
    {"system": "wealist", "kind": "redis", "address": "redis://redis:6379", "password": "redis-Secret-1"},
]


def run(exporters: list, secret: bool = True, stack: str = "dev"):
    config, secret_keys = configured_stack(stack)
    config["monitoring:exporters"] = exporters
    return run_program(stack, config, [*secret_keys, "monitoring:exporters"] if secret else secret_keys)


def error(exporters: list, secret: bool = True, stack: str = "dev") -> str:
    config, secret_keys = configured_stack(stack)
    config["monitoring:exporters"] = exporters
    recorder = Recorder()
    with pytest.raises(InputError) as raised:
        run_program(stack, config, [*secret_keys, "monitoring:exporters"] if secret else secret_keys, recorder)
    assert recorder.registrations == []
    return str(raised.value)


def test_each_exporter_is_a_container_on_the_stack_network_with_its_connection_secret():
    program = run(EXPORTERS)
    postgres = program.recorder.one(CONTAINER, "monitoring-wealist-postgres-exporter-container")
    redis = program.recorder.one(CONTAINER, "monitoring-wealist-redis-exporter-container")
    assert program.recorder.one("monitoring:index:Exporter", "monitoring-wealist-postgres-exporter")
    for registration, image, envs in (
        (postgres, "quay.io/prometheuscommunity/postgres-exporter:v0.20.1", [f"DATA_SOURCE_NAME={POSTGRES_URI}"]),
        (redis, "oliver006/redis_exporter:v1.91.1", ["REDIS_ADDR=redis://redis:6379", "REDIS_PASSWORD=redis-Secret-1"]),
    ):
        inputs = registration.inputs
        assert unwrap(inputs["image"]) == image
        assert is_secret(inputs["envs"]) and unwrap(inputs["envs"]) == envs
        assert not unwrap(inputs).get("ports")  # scraped on the stack network, never published
        (network,) = unwrap(inputs["networksAdvanced"])
        assert network["aliases"] == [unwrap(inputs["name"]).removeprefix("monitoring-dev-")]


def test_an_exporter_runs_the_image_it_names():
    """A user's registry mirror, or another release: pinned, as every image the stack runs."""
    image = "registry.example.com/oliver006/redis_exporter:v1.80.0"
    program = run([{**EXPORTERS[1], "image": image}])
    redis = program.recorder.one(CONTAINER, "monitoring-wealist-redis-exporter-container")
    assert unwrap(redis.inputs["image"]) == image


def test_prometheus_scrapes_each_exporter_as_its_systems_job():
    program = run(EXPORTERS)
    prometheus = unwrap(program.recorder.one(CONTAINER, "monitoring-prometheus-container").inputs)
    text = next(u["content"] for u in prometheus["uploads"] if u["file"] == "/etc/prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in yaml.safe_load(text)["scrape_configs"]}
    assert jobs["wealist-postgres-exporter"]["static_configs"] == [{"targets": ["wealist-postgres-exporter:9187"]}]
    assert jobs["wealist-redis-exporter"]["static_configs"] == [{"targets": ["wealist-redis-exporter:9121"]}]


@pytest.mark.parametrize(
    ("exporters", "expected"),
    [
        ([{"system": "wealist", "kind": "postgres"}], "exporters[0].address: is required: a connection URI such as"),
        (
            [{"system": "wealist", "kind": "redis", "address": "redis:6379"}],
            "exporters[0].address: must be an address such as redis://redis:6379, got 'redis:6379'",
        ),
        (
            [{"system": "wealist", "kind": "mysql", "address": "x"}],
            "exporters[0].kind: must be one of postgres, redis, got 'mysql'",
        ),
        (
            [{"system": "mindhit", "kind": "postgres", "address": POSTGRES_URI}],
            "exporters[0]: is scraped as job mindhit-postgres-exporter, which systems/mindhit.yml does not declare "
            "(mindhit-api)",
        ),
        (
            [{"system": "billing", "kind": "redis", "address": "redis://r:6379"}],
            "exporters[0].system: 'billing' is not a system this stack deploys",
        ),
        (EXPORTERS + EXPORTERS[:1], "exporters: two exporters would both be scraped as job wealist-postgres-exporter"),
        (
            [{"system": "wealist", "address": "redis://redis:6379"}],
            "- exporters[0].kind: is required: postgres or redis\n1 error",
        ),
        (
            [
                {
                    "system": "wealist",
                    "kind": "redis",
                    "address": "redis://r:6379",
                    "image": "oliver006/redis_exporter:latest",
                }
            ],
            "exporters[0].image: must pin a version, not latest",
        ),
    ],
)
def test_bad_exporters_stop_preview_naming_the_key(exporters, expected):
    assert expected in error(exporters)


def test_credentials_that_are_not_secrets_stop_preview_without_showing_them():
    message = error(EXPORTERS, secret=False)
    assert (
        "exporters[0].address: holds credentials: pulumi config set --secret --path 'exporters[0].address'" in message
    )
    assert "exporters[1].password: holds credentials" in message
    assert "pg-Secret-1" not in message and "redis-Secret-1" not in message


def test_an_exporter_of_a_system_the_stack_does_not_deploy_stops_preview():
    """Staging deploys MindHit only: weAlist's exporters would feed panels and rules it does not have."""
    assert "exporters[0].system: 'wealist' is not a system this stack deploys" in error(EXPORTERS[:1], stack="staging")
