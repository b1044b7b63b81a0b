"""The scripts under scripts/ (what users run) and offline/ (the build pipeline) hold only shell: code in another
language is a file of its own beside them, and every shell script passes shellcheck."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from repo import ROOT, project_files

HEREDOC = re.compile(r"<<-?\s*['\"]?[A-Za-z_]+['\"]?")  # `<<'EOF'`, `<<EOF`, `<<-END`; not a `<<<` here-string


def shell_scripts() -> list[Path]:
    tracked = project_files("scripts", "offline")
    scripts = []
    for name in tracked:
        path = ROOT / name
        if path.suffix == ".sh" or (
            path.suffix == "" and path.read_text(errors="replace").startswith("#!/usr/bin/env bash")
        ):
            scripts.append(path)
    return scripts


def heredocs(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if HEREDOC.search(line.replace("<<<", ""))]


def test_the_scripts_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert {"scripts/up", "scripts/test", "scripts/setup.sh", "offline/toolchain/build.sh", "offline/lib.sh"} <= names


def test_no_script_embeds_code_in_a_heredoc():
    found = {p.relative_to(ROOT).as_posix(): lines for p in shell_scripts() if (lines := heredocs(p.read_text()))}
    assert found == {}


@pytest.mark.parametrize(
    ("line", "is_heredoc"),
    [
        ("cat >\"$dir/x.go\" <<'EOF'", True),
        ('python3 - "$f" <<EOF', True),
        ("cat <<-END", True),
        ('dir="$(sed -n \'s/x/y/p\' <<<"$json")"', False),
        ("echo $((1 << 2))", False),
    ],
)
def test_the_heredoc_check_tells_a_heredoc_from_a_here_string(line, is_heredoc):
    assert bool(heredocs(line)) == is_heredoc


def test_every_shell_script_passes_shellcheck():
    result = subprocess.run(
        ["shellcheck", "-x", "-S", "warning", *map(str, shell_scripts())], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
