"""Mutation score of the core modules: how many small, realistic bugs the fast tests catch.

Runs mutmut (requirements-mutation.txt) over a copy of the tracked tree, so that the checkout is left alone,
against the unit, mocks, bad-input and tools tiers (the live, containers, engine and Kubernetes tiers start
servers and wait on deadlines, which a mutant can stretch to minutes). Prints, per module, the mutants killed
of those tried and the score, then every survivor with its diff.

On demand, not in CI: 2 cores take hours over every core module. Pass modules to score fewer:

    .venv-mutation/bin/python scripts/mutation.py                     # every core module
    .venv-mutation/bin/python scripts/mutation.py stacks/syntax/durations.py stacks/render/alertmanager.py

`bash scripts/mutation.sh` makes the virtualenv and runs this with the same arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The core modules (issue 24): the config parsing, the content checks, the renderers, the Grafana content
# builder, the secrets paths and the Kubernetes renderer.
CORE_MODULES = (
    "stacks/config/load.py",
    "stacks/config/settings.py",
    "stacks/config/grafana.py",
    "stacks/config/hosts.py",
    "stacks/config/kubernetes.py",
    "stacks/config/remote_write.py",
    "stacks/config/scraping.py",
    "stacks/config/schema.py",
    "stacks/config/alerting.py",
    "stacks/config/receivers.py",
    "stacks/syntax/durations.py",
    "stacks/errors.py",
    "stacks/reader.py",
    "stacks/content/ownership.py",
    "stacks/content/silence.py",
    "stacks/content/log_labels.py",
    "stacks/content/contract.py",
    "stacks/content/dashboard_lint.py",
    "stacks/content/dashboards.py",
    "stacks/content/model.py",
    "stacks/content/queries.py",
    "stacks/content/grafana_rules.py",
    "stacks/content/prometheus_rules.py",
    "stacks/content/systems.py",
    "stacks/content/templates.py",
    "stacks/content/retention.py",
    "stacks/preflight.py",
    "stacks/render/alertmanager.py",
    "stacks/render/prometheus.py",
    "stacks/render/agents.py",
    "stacks/render/grafana.py",
    "stacks/render/kubernetes.py",
    "stacks/render/credentials.py",
    "stacks/resources/grafana_content.py",
    "stacks/grafana_names.py",
)
TESTS = "not containers and not engine and not kubernetes and not live"
# Tests that read the package's source (its messages, its citations of the docs, its imports and sizes): in mutmut's
# copy they would read every mutant's strings and lines too, and "catch" a mutant by what it never produced.
SOURCE_READERS = (
    "tests/unit/test_messages.py::test_every_validation_message_is_asserted_by_a_test",
    "tests/unit/test_docs.py::test_every_cited_section_is_a_heading_of_the_cited_file",
    "tests/unit/test_import_graph.py",
)


def tracked_copy(destination: Path) -> list[str]:
    """The tracked files (and new ones git does not ignore) as they are in the working tree; their paths."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    # The policy pack's own virtualenv, which tests/program/test_policy.py starts; already there when a kept copy
    # resumes.
    if (ROOT / "policy/.venv").is_dir() and not (destination / "policy/.venv").is_symlink():
        (destination / "policy/.venv").symlink_to(ROOT / "policy/.venv")
    # A repository of its own: some tests list the project's files with `git ls-files` (tests/support/repo.py), run
    # in mutmut's mutants/ copy, which nothing ignores.
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run(["git", "add", "-A"], cwd=destination, check=True)
    return files


def mutmut_config(modules: list[str], files: list[str]) -> str:
    """mutmut's settings for these modules; `files`, the tree's: what the tests read besides stacks/ and tests/
    (the content, the stack files, the scripts) goes beside them in mutmut's copy."""
    top = sorted({name.split("/")[0] + ("/" if "/" in name else "") for name in files} - {"stacks/", "tests/"})
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["stacks/"]',
        f"only_mutate = {json.dumps(modules)}",
        f"also_copy = {json.dumps(top)}",
        # Each mutant's worker forks from a process that has run no test: with the default ("fork"), workers fork
        # from the process that ran the clean tests, and inherit the program runs those tests cached, unmutated.
        'process_isolation = "forkserver"',
        # A mutant can make a test wait forever (an exception inside Pulumi's mocked runtime): a hang is a kill.
        f'pytest_add_cli_args = ["-m", "{TESTS}", "-p", "no:cacheprovider", "--timeout=120"'
        + "".join(f', "--deselect", "{test}"' for test in SOURCE_READERS)
        + "]",
    ]
    return "\n".join(lines) + "\n"


# The verdicts so far, tracked: mutmut keeps its verdicts in mutants/ of one copy, which a new machine does not have,
# and the whole run takes longer than a session. mutmut's own rule applies to them: a verdict is kept while its
# function's code hashes the same (StrykerJS commits its incremental file for the same reason).
RECORD = ROOT / "scripts/mutation-verdicts.json"
STATS = "mutants/mutmut-stats.json"  # mutmut's record of each test's time and of which tests call which function


# mutmut 3.8.1's names for the exit codes it records (mutmut/stats.py status_by_exit_code); any other is "suspicious".
STATUS_BY_EXIT_CODE = {0: "survived", 1: "killed", 3: "killed", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS_BY_EXIT_CODE |= dict.fromkeys((36, 24, -24, 152, 255), "timeout")
CAUGHT = ("killed", "timeout")  # a test failed, or the mutant made the tests hang past their timeout
NOT_TRIED = ("skipped",)
DEFAULT_SAMPLE = 40


def verdicts(functions: Mapping[str, dict]) -> dict[tuple[str, str], str]:
    """(function, number) -> status of a module's mutants that were tried. A mutant no test reaches ("no tests")
    is a survivor: that bug would go unnoticed too."""
    return {
        (function, number): STATUS_BY_EXIT_CODE.get(code, "suspicious")
        for function, entry in functions.items()
        for number, code in entry["exit_codes"].items()
        if STATUS_BY_EXIT_CODE.get(code) not in NOT_TRIED
    }


def mutants_of(functions: Mapping[str, dict]) -> list[tuple[str, str]]:
    """Every mutant of a module's recorded functions, as (function, number): mutmut numbers each function's from 1."""
    return [
        (function, str(number))
        for function, entry in functions.items()
        for number in range(1, entry.get("mutants", max(map(int, entry["exit_codes"]), default=0)) + 1)
    ]


def sample(functions: Mapping[str, dict], size: int) -> list[tuple[str, str]]:
    """`size` of a module's mutants, drawn at random but the same on every run and machine (by a hash of their
    names), so that runs in different sessions add to one sample, and a larger size extends a smaller one."""
    by_hash = sorted(mutants_of(functions), key=lambda m: hashlib.sha256(f"{m[0]}__mutmut_{m[1]}".encode()).hexdigest())
    return by_hash[:size]


@dataclass
class Score:
    mutants: int  # all the module's mutants, as recorded
    decided: int  # those with a verdict
    caught: int  # in the scope: every mutant once all are decided, else the sample's decided ones
    tried: int
    survivors: list[str]  # "function__mutmut_N (status)", in the scope
    exact: bool  # every mutant decided

    def interval(self) -> tuple[float, float]:
        """Wilson's 95 % interval of the score, from a sample; the score itself when exact."""
        if self.exact or not self.tried:
            point = self.caught / self.tried if self.tried else 0.0
            return (point, point) if self.tried else (0.0, 1.0)
        n, p, z = self.tried, self.caught / self.tried, 1.96
        centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def module_score(functions: Mapping[str, dict], sample_size: int) -> Score:
    """A module's score from its record: over every mutant once all are decided, else over the decided ones of its
    sample (mutmut tries a function's mutants in the order of its tests' times, so the decided ones of a module not
    finished are no random sample of it)."""
    tried = verdicts(functions)
    every = mutants_of(functions)
    exact = bool(every) and all(mutant in tried for mutant in every)
    scope = [m for m in (every if exact else sample(functions, sample_size)) if m in tried]
    survivors = [f"{f}__mutmut_{n} ({tried[f, n]})" for f, n in scope if tried[f, n] not in CAUGHT]
    return Score(len(every), len(tried), len(scope) - len(survivors), len(scope), survivors, exact)


def untried(functions: Mapping[str, dict], sample_size: int) -> list[str]:
    """The mutants of a module's sample without a verdict, and its survivors (tried again, against today's
    tests), as function__mutmut_N."""
    tried = verdicts(functions)
    return [f"{f}__mutmut_{n}" for f, n in sample(functions, sample_size) if tried.get((f, n)) not in CAUGHT]


def tree_name(root: Path = ROOT) -> str:
    """The commit of this checkout, with "+ changes" when the working tree differs from it."""
    git = ["git", "-C", str(root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
    return f"{commit or 'no commit'}{' + changes' if changed else ''}"


def meta_path(work: Path, module: str) -> Path:
    """mutmut's file of one module's verdicts and function hashes in the copy `work`."""
    return work / "mutants" / f"{module}.meta"


def load_record(path: Path) -> dict:
    """Module -> function -> {"hash", "mutants" (how many mutmut makes of it), "exit_codes" (mutant number ->
    mutmut's exit code, for those decided)}; {} before any run."""
    return json.loads(path.read_text()) if path.is_file() else {}


def seed_verdicts(work: Path, record: dict, modules: list[str]) -> list[str]:
    """Writes the recorded verdicts as mutmut's meta files in a copy that has none; the modules seeded. mutmut
    then keeps a verdict where its function's code hashes as recorded, and tries the rest."""
    seeded = []
    for module in modules:
        functions = record.get(module)
        if not functions or meta_path(work, module).exists():
            continue
        prefix = module.removesuffix(".py").replace("/", ".")
        meta = {
            "exit_code_by_key": {
                f"{prefix}.{function}__mutmut_{number}": code
                for function, entry in functions.items()
                for number, code in entry["exit_codes"].items()
            },
            "hash_by_function_name": {function: entry["hash"] for function, entry in functions.items()},
            "durations_by_key": {},
            "estimated_durations_by_key": {},
        }
        meta_path(work, module).parent.mkdir(parents=True, exist_ok=True)
        meta_path(work, module).write_text(json.dumps(meta))
        seeded.append(module)
    return seeded


MAPPED_WITH_SHARED_RUNS = (
    "mutmut mapped tests to functions with shared program runs, so survivors may be false; nothing recorded. "
    'tests/support/mockstack.py expects mutmut to name its mapping phase "stats" in MUTANT_UNDER_TEST, as the '
    "pinned mutmut 3.8.1 does: check that pin (requirements-mutation.txt)."
)
_MUTANT_KEY = re.compile(r"^.*\.(\w+)__mutmut_(\d+)$")


def recorded_verdicts(work: Path, record: dict, modules: list[str]) -> dict:
    """The record with the functions of `modules` in the copy `work`, their mutants and decided verdicts, in place
    of the recorded ones."""
    updated = dict(record)
    for module in modules:
        if not meta_path(work, module).is_file():
            continue
        meta = json.loads(meta_path(work, module).read_text())
        functions = {
            name: {"hash": digest, "mutants": 0, "exit_codes": {}}
            for name, digest in meta["hash_by_function_name"].items()
        }
        for key, code in meta["exit_code_by_key"].items():
            match = _MUTANT_KEY.match(key)
            if match and match[1] in functions:
                functions[match[1]]["mutants"] += 1
                if code is not None:
                    functions[match[1]]["exit_codes"][match[2]] = code
        updated[module] = {name: entry for name, entry in sorted(functions.items()) if entry["mutants"]}
    return {module: updated[module] for module in sorted(updated) if updated[module]}


def save_record(path: Path, record: dict) -> None:
    """One line per function, so that a diff of the record shows which functions' verdicts changed."""
    lines = []
    for module, functions in record.items():
        entries = [f"    {json.dumps(name)}: {json.dumps(entry)}" for name, entry in functions.items()]
        lines.append(f"  {json.dumps(module)}: {{\n" + ",\n".join(entries) + "\n  }")
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def run_environment(environ: Mapping[str, str], work: Path) -> dict[str, str]:
    """The tests' environment in the copy `work`: the corpus beside this checkout (the copy has none beside it), and
    MONITORING_TEST_DURATIONS, mutmut's record of each test's time, by which tests/conftest.py runs a mutant's tests
    fastest first."""
    corpus = environ.get("MONITORING_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    return {**environ, "MONITORING_CORPUS": corpus, "MONITORING_TEST_DURATIONS": str(work / STATS)}


def test_map(work: Path) -> dict:
    """mutmut's record of which tests call which function (mutants/mutmut-stats.json); {} before it has one."""
    if not (work / STATS).is_file():
        return {}
    stats = json.loads((work / STATS).read_text())
    return {name: sorted(tests) for name, tests in stats["tests_by_mangled_function_name"].items()}


# Two tests that read the same program run (test_program_mocks.py's shared_run of the dev stack) and call nothing of
# the package themselves: with the run shared, only the first of them would be mapped to the functions it calls.
SHARED_RUN_READERS = (
    "tests/program/test_program_mocks.py::test_every_resource_type_and_name[dev]",
    "tests/program/test_program_mocks.py::test_children_are_parented_to_their_component[dev]",
)


def mapped_per_test(tests_by_function: Mapping[str, list[str]]) -> bool:
    """Whether each test that reads a shared program run was mapped to the functions that run calls
    (tests/support/mockstack.py runs the program per test while mutmut maps): else a bug that another of them
    catches counts as survived."""
    first, second = (
        {name for name, tests in tests_by_function.items() if test in tests} for test in SHARED_RUN_READERS
    )
    return first == second


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def survivor_names(record: Mapping[str, dict], modules: list[str]) -> list[str]:
    """The recorded survivors of `modules`, as mutmut names them."""
    return [
        f"{dotted(module)}.{function}__mutmut_{number}"
        for module in modules
        for (function, number), status in verdicts(record.get(module, {})).items()
        if status not in CAUGHT
    ]


def print_table(record: Mapping[str, dict], modules: list[str], sample_size: int) -> dict[str, Score]:
    """The score of each module: exact once every mutant is decided, else from its sample, with the 95 % interval."""
    print(f"\n{'module':<38} {'mutants':>7} {'decided':>7} {'caught':>7} {'score':>7} {'95 % interval':>15}  of")
    table = {module: module_score(record.get(module, {}), sample_size) for module in modules}
    for module, score in table.items():
        low, high = score.interval()
        figures = f"{'-':>8} {'-':>15}"
        if score.tried:
            figures = f"{100 * score.caught / score.tried:6.1f} % {100 * low:6.1f} - {100 * high:5.1f} %"
        of = "all" if score.exact else f"sample of {sample_size}"
        print(f"{module:<38} {score.mutants:>7} {score.decided:>7} {score.caught:>7}/{score.tried:<4}{figures}  {of}")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to score (default: the core modules)")
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and leave it (mutmut browse there)")
    parser.add_argument("--save", metavar="DIR", help="record the verdicts of the run in DIR so far, and stop")
    parser.add_argument("--table", action="store_true", help="print the scores of the recorded verdicts, and stop")
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="try only the mutants of a fixed random sample of N per module, and its survivors again (default: try "
        f"every mutant); the table scores a module not finished on its sample of N (default {DEFAULT_SAMPLE})",
    )
    arguments = parser.parse_args()
    modules = arguments.modules or list(CORE_MODULES)
    sample_size = arguments.sample or DEFAULT_SAMPLE
    for module in modules:
        if not (ROOT / module).is_file():
            parser.error(f"no module {module}")
    if arguments.save:  # the modules that run mutated, as its copy names them
        ran = tomllib.loads((Path(arguments.save) / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
        if not mapped_per_test(test_map(Path(arguments.save))):
            print(MAPPED_WITH_SHARED_RUNS)
            return 1
        save_record(RECORD, recorded_verdicts(Path(arguments.save), load_record(RECORD), ran))
        arguments.table = True
    if arguments.table:
        print_table(load_record(RECORD), modules, sample_size)
        return 0
    record = load_record(RECORD)
    # The mutants to try: every one by default (mutmut keeps the verdicts of unchanged functions); with --sample,
    # those of each module's sample without a verdict and its survivors, and every mutant of a module never run.
    names = []
    if arguments.sample:
        names = [f"{dotted(m)}.{name}" for m in modules if m in record for name in untried(record[m], sample_size)]
        names += [f"{dotted(m)}.*" for m in modules if m not in record]
        if not names:
            print(f"every mutant of each module's sample of {sample_size} has a verdict")
            print_table(record, modules, sample_size)
            return 0
    # The tree the figures are about, first: a score read later against a newer tree would mislead.
    print(f"tree: {tree_name()}", flush=True)
    work = Path(arguments.keep or tempfile.mkdtemp(prefix="mutation-"))
    work.mkdir(parents=True, exist_ok=True)
    files = tracked_copy(work)
    with (work / "pyproject.toml").open("a") as pyproject:
        pyproject.write(mutmut_config(modules, files))
    seeded = seed_verdicts(work, record, modules)
    if seeded:
        print(f"verdicts recorded in {RECORD.relative_to(ROOT)} kept where the code is unchanged: {seeded}")
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    mutmut_run = [mutmut, "run", "--max-children", str(os.cpu_count() or 2)]
    env = run_environment(os.environ, work)
    # A survivor's verdict predates the tests added since: mutmut keeps it while its function is unchanged, so
    # the survivors are tried again at the end (named mutants, as a sample's are, mutmut always tries).
    earlier_survivors = set(survivor_names(recorded_verdicts(work, {}, modules), modules))
    # One run of mutmut: it maps tests to functions, every test running the program itself there, then tries each
    # mutant in a process of its own, where the tests share program runs, since all of them see the same mutant. A
    # survivor's tests run about twice as fast so (grafana_content._rule's 187: 58 s against 133 s).
    run = subprocess.run([*mutmut_run, *names], cwd=work, env=env)
    retry = [
        name for name in survivor_names(recorded_verdicts(work, {}, modules), modules) if name in earlier_survivors
    ]
    if run.returncode == 0 and retry and not names:
        run = subprocess.run([*mutmut_run, *retry], cwd=work, env=env)
    if not mapped_per_test(test_map(work)):
        print(MAPPED_WITH_SHARED_RUNS)
        return 1
    save_record(RECORD, recorded_verdicts(work, load_record(RECORD), modules))
    table = print_table(load_record(RECORD), modules, sample_size)
    for module, score in table.items():
        for survivor in score.survivors:
            print(f"survived: {dotted(module)}.{survivor}")
            name = f"{dotted(module)}.{survivor.split()[0]}"
            print(subprocess.run([mutmut, "show", name], cwd=work, env=env, capture_output=True, text=True).stdout)
    if not arguments.keep:
        shutil.rmtree(work, ignore_errors=True)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
