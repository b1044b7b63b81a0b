"""Only permissively licensed parts: no script, workflow or go.mod names a module marked not-to-use (Grafana,
Loki and the other AGPL code among them), and every Python package the program and tests install is under
a licence this project may build on."""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from repo import FIXTURES, ROOT, project_files

LIST = FIXTURES / "not-to-use-go-modules.tsv"
# The env entry's package list, newer than the copy above when present (on this project's machines).
LIVE_LIST = Path("/work/.library/env/packages/go-partial.tsv")
# Where build and download steps live: every script, workflow, CI entry, benchmark and test, and go.mod files.
SCANNED = ("scripts", "offline", ".ci", ".github", "benchmarks", "tests", "policy", "examples")
PERMISSIVE = re.compile(r"\b(MIT|BSD|Apache|ISC|MPL|PSF|Python Software Foundation|0BSD|Unlicense)\b", re.I)
# Packages whose metadata names no licence; what their own LICENSE file says.
LICENCE_FILES = {"promql-parser": "MIT"}


def not_to_use(*lists: Path) -> dict[str, str]:
    """Module path -> why it may not be used, from the lists' `not-to-use` rows."""
    found = {}
    for path in lists:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            if line.startswith("#") or len(fields) < 2:
                continue
            if fields[1] == "not-to-use" or path == LIST:
                found[fields[0]] = fields[-1]
    return found


def pattern(module: str, reason: str) -> re.Pattern:
    """The module path as a whole token. For AGPL code, every module of the same repository counts
    (github.com/grafana/loki/pkg/push is Loki too); otherwise only that module (nomad/api has its own row)."""
    repository = "/".join(module.split("/")[:3]) if "AGPL" in reason else module
    tail = r"(?:/[\w.\-/]*)?" if "AGPL" in reason else ""
    return re.compile(rf"(?<![\w.\-/]){re.escape(repository)}{tail}(?![\w.\-/])")


def mentions(text: str, banned: dict[str, str]) -> list[tuple[int, str]]:
    """(line number, module) for each line that names a banned module outside a comment."""
    compiled: dict[str, re.Pattern] = {}  # one pattern per repository of AGPL code, named by its first module
    for module in sorted(banned):
        regex = pattern(module, banned[module])
        if regex.pattern not in {r.pattern for r in compiled.values()}:
            compiled[module] = regex
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("#", "//")):
            continue
        found += [(number, module) for module, regex in compiled.items() if regex.search(line)]
    return found


def scanned_files() -> list[Path]:
    tracked = project_files()
    return [
        ROOT / name
        for name in tracked
        if (name.startswith(SCANNED) or name.endswith(("go.mod", "go.sum")))
        and (ROOT / name).is_file()
        and ROOT / name != LIST
        and ROOT / name != Path(__file__).resolve()
    ]


def test_the_list_holds_the_agpl_modules_this_project_was_told_about():
    banned = not_to_use(LIST)
    assert {"github.com/grafana/grafana", "github.com/grafana/loki/v3"} <= set(banned)
    assert all("AGPL" in banned[m] for m in ("github.com/grafana/grafana", "github.com/grafana/loki/v3"))


def test_no_script_workflow_or_go_mod_names_a_not_to_use_module():
    banned = not_to_use(LIST, LIVE_LIST)
    problems = []
    for path in scanned_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        problems += [f"{path.relative_to(ROOT)}:{line}: {module}" for line, module in mentions(text, banned)]
    assert problems == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("go mod download github.com/grafana/grafana@v1.9.2", ["github.com/grafana/grafana"]),
        ("LOKI_MODULE=github.com/grafana/loki/v3", ["github.com/grafana/loki/v3"]),
        ('fresh_copy github.com/grafana/loki/pkg/push "$v"', ["github.com/grafana/loki/v3"]),
        ("\tgithub.com/grafana/grafana/apps/dashboard v0.0.0-2026 // indirect", ["github.com/grafana/grafana"]),
        ("go install go.k6.io/k6@v1.0.0", ["go.k6.io/k6"]),
        ("require github.com/grafana/grafana-foundation-sdk/go v0.0.22", []),
        ("github.com/hashicorp/nomad/api v0.0.0-2025", []),
        ("# we never build github.com/grafana/grafana: it is AGPL", []),
    ],
)
def test_the_scan_finds_a_step_naming_a_banned_module_and_nothing_else(text, found):
    banned = not_to_use(LIST)
    assert [module for _, module in mentions(text, banned)] == found


def test_every_installed_python_package_has_a_permissive_licence():
    """The program's and the tests' virtualenv: every distribution under MIT, BSD, Apache, ISC, MPL or PSF."""
    refused = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        classifiers = [c for c in dist.metadata.get_all("Classifier") or [] if c.startswith("License ::")]
        text = " ".join(
            [dist.metadata.get("License-Expression") or "", (dist.metadata.get("License") or "")[:200], *classifiers]
        ).strip()
        text = text or LICENCE_FILES.get(name.lower().replace("_", "-"), "")
        if re.search(r"\bA?GPL\b|General Public License", text) or not PERMISSIVE.search(text):
            refused.append(f"{name} {dist.version}: {text.strip() or 'no licence in its metadata'}")
    assert refused == []


def test_the_healthcheck_wget_of_the_local_images_works():
    """offline/images/wget replaces busybox (GPL) in the local images: its own Go tests, run for real."""
    result = subprocess.run(
        ["go", "test", "./..."],
        cwd=ROOT / "offline/images/wget",
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def go_module_caches() -> list[Path]:
    """The module caches of the builds scripts/setup.sh ran (toolchain, images, Kubernetes), where they are."""
    toolchain = Path(os.environ.get("MONITORING_TOOLCHAIN_DIR", Path.home() / ".cache" / "monitoring-toolchain"))
    images = Path(os.environ.get("MONITORING_IMAGES_CACHE", Path.home() / ".cache" / "monitoring-images"))
    kubernetes = Path(os.environ.get("MONITORING_K8S_CACHE", Path.home() / ".cache" / "monitoring-kubernetes"))
    return [cache / "go" / "mod" for cache in (toolchain, images, kubernetes) if (cache / "go" / "mod").is_dir()]


def copyleft_licence_files(cache: Path) -> list[str]:
    """Licence files of the modules extracted in a Go module cache that are GPL, LGPL or AGPL. MPL-2.0 texts
    name the GPL as a secondary licence, so they do not count."""
    gpl = re.compile(r"GNU (AFFERO |LESSER )?GENERAL PUBLIC LICENSE|GNU (Affero |Lesser )?General Public License")
    found = []
    for path in cache.rglob("*"):
        if "cache/download" in path.as_posix() or not path.name.upper().startswith(("LICENSE", "COPYING")):
            continue
        if path.is_file():
            text = path.read_text(errors="replace")
            if gpl.search(text) and "Mozilla Public License" not in text:
                found.append(path.relative_to(cache).as_posix())
    return found


def test_every_go_module_built_here_is_free_of_gpl_and_agpl_code():
    """Every module the toolchain and image builds extracted (the CLI, the docker plugin and their
    dependencies, Prometheus, Alertmanager): no licence file of the GPL family."""
    caches = go_module_caches()
    assert caches, "no Go module cache: run scripts/setup.sh"
    assert [file for cache in caches for file in copyleft_licence_files(cache)] == []


def test_the_go_licence_scan_finds_a_gpl_module_and_passes_an_mpl_one(tmp_path):
    (tmp_path / "example.com/gpl@v1.0.0").mkdir(parents=True)
    (tmp_path / "example.com/gpl@v1.0.0/COPYING").write_text("GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3")
    (tmp_path / "example.com/mpl@v1.0.0").mkdir(parents=True)
    (tmp_path / "example.com/mpl@v1.0.0/LICENSE").write_text(
        "Mozilla Public License Version 2.0\n... GNU General Public License, Version 2.0 ..."
    )
    assert copyleft_licence_files(tmp_path) == ["example.com/gpl@v1.0.0/COPYING"]
