"""scripts/mutation.py reads mutmut's results into a score per module: the caught, the tried, the survivors."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from repo import ROOT

spec = importlib.util.spec_from_file_location("mutation", ROOT / "scripts/mutation.py")
mutation = importlib.util.module_from_spec(spec)
sys.modules["mutation"] = mutation  # its dataclasses look their module up there
spec.loader.exec_module(mutation)


def _functions(**exit_codes: dict) -> dict:
    """A module's record: function -> its mutants' verdicts, 3 mutants each unless more are decided."""
    return {
        name: {"hash": "h", "mutants": max(3, *map(int, codes or {"0": 0})), "exit_codes": codes}
        for name, codes in exit_codes.items()
    }


def test_a_module_whose_every_mutant_is_decided_scores_exactly_and_names_its_survivors():
    # mutmut's exit codes: 1 killed, 36 timeout (caught); 0 survived, 33 no tests (missed); 34 skipped (not tried).
    functions = _functions(x_parse={"1": 1, "2": 0, "3": 36}, x_size={"1": 33, "2": 1, "3": 34})
    score = mutation.module_score(functions, 40)
    assert (score.mutants, score.decided, score.caught, score.tried) == (6, 5, 3, 5)
    assert score.exact is False  # x_size__mutmut_3 was skipped: not decided
    functions["x_size"]["exit_codes"]["3"] = 1
    score = mutation.module_score(functions, 40)
    assert (score.caught, score.tried, score.exact) == (4, 6, True)
    assert score.survivors == ["x_parse__mutmut_2 (survived)", "x_size__mutmut_1 (no tests)"]
    assert score.interval() == (4 / 6, 4 / 6)


def test_a_module_not_finished_is_scored_on_its_sample_with_an_interval():
    functions = _functions(x_a={}, x_b={}, x_c={}, x_d={})  # 12 mutants, none decided
    drawn = mutation.sample(functions, 5)
    assert drawn == mutation.sample(functions, 5)  # the same on every run
    assert mutation.sample(functions, 8)[:5] == drawn  # a larger sample extends a smaller one
    assert len(set(drawn)) == 5 and drawn != mutation.mutants_of(functions)[:5]  # drawn, not the first ones
    for function, number in drawn[:4]:
        functions[function]["exit_codes"][number] = 1
    outside = next(m for m in mutation.mutants_of(functions) if m not in drawn)
    functions[outside[0]]["exit_codes"][outside[1]] = 0  # decided, but outside the sample: not counted
    score = mutation.module_score(functions, 5)
    assert (score.decided, score.caught, score.tried, score.survivors, score.exact) == (5, 4, 4, [], False)
    # Wilson's interval for 4 of 4: 51.0 % to 100 % (written out, from its formula).
    low, high = score.interval()
    assert round(low, 3) == 0.510 and round(high, 3) == 1.0
    # What a sampled run tries: the sample's mutants without a verdict, and its survivors again.
    functions[drawn[0][0]]["exit_codes"][drawn[0][1]] = 0
    assert mutation.untried(functions, 5) == [
        f"{drawn[0][0]}__mutmut_{drawn[0][1]}",
        f"{drawn[4][0]}__mutmut_{drawn[4][1]}",
    ]


def test_a_record_without_counts_counts_to_its_highest_mutant():
    assert mutation.mutants_of({"x_f": {"hash": "h", "exit_codes": {"2": 1, "4": 0}}}) == [
        ("x_f", "1"),
        ("x_f", "2"),
        ("x_f", "3"),
        ("x_f", "4"),
    ]


def test_the_core_modules_exist_and_the_copy_config_names_them():
    assert all((ROOT / module).is_file() for module in mutation.CORE_MODULES)
    files = [
        "stacks/syntax/durations.py",
        "tests/unit/test_settings.py",
        "rules/kerp.yml",
        "Pulumi.dev.yaml",
        ".github/x.yml",
    ]
    config = mutation.mutmut_config(["stacks/syntax/durations.py"], files)
    assert 'only_mutate = ["stacks/syntax/durations.py"]' in config
    assert 'also_copy = [".github/", "Pulumi.dev.yaml", "rules/"]' in config
    assert "--timeout=120" in config and "not live" in config
    assert '\nprocess_isolation = "forkserver"\n' in config  # no worker inherits a clean run's cached programs
    # The tests that read the package's source would "catch" every mutant of a string.
    for test in mutation.SOURCE_READERS:
        assert f'"--deselect", "{test}"' in config
        path, _, name = test.partition("::")  # a whole file, or one test of it
        source = (ROOT / path).read_text()  # a renamed test or file would be deselected no more
        assert not name or f"\ndef {name}(" in source


def test_the_run_finds_the_corpus_and_orders_tests_by_mutmut_s_record_of_their_times():
    corpus, work = str(ROOT.parent / "shared" / "corpus"), Path("/w")
    assert mutation.run_environment({"PATH": "/bin", "MONITORING_TEST_DURATIONS": "/x"}, work) == {
        "PATH": "/bin",
        "MONITORING_CORPUS": corpus,
        "MONITORING_TEST_DURATIONS": "/w/mutants/mutmut-stats.json",
    }
    assert mutation.run_environment({"MONITORING_CORPUS": "/c"}, work)["MONITORING_CORPUS"] == "/c"


def _program_runs_per_test(environment: dict[str, str]) -> str:
    """What tests/support/mockstack.py decides in a fresh process with this environment."""
    code = "import mockstack; print(mockstack.PER_TEST_RUNS, mockstack.shared_scope('f', None))"
    env = {**{k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}, **environment}
    env["PYTHONPATH"] = str(ROOT / "tests/support")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_tests_run_the_program_each_while_mutmut_maps_them_and_share_runs_otherwise():
    assert _program_runs_per_test({"MUTANT_UNDER_TEST": "stats"}) == "True function\n"
    for phase in ({}, {"MUTANT_UNDER_TEST": ""}, {"MUTANT_UNDER_TEST": "stacks.errors.x_fail__mutmut_1"}):
        assert _program_runs_per_test(phase) == "False module\n"


def test_a_map_made_with_shared_runs_is_refused():
    first, second = mutation.SHARED_RUN_READERS
    per_test = {"stacks.config.load.x_load_settings": [first, second, "tests/unit/t::a"], "stacks.e.x_f": ["u::b"]}
    assert mutation.mapped_per_test(per_test)
    assert mutation.mapped_per_test({"stacks.syntax.durations.x_f": ["tests/unit/t::a"]})  # no program run reaches it
    assert not mutation.mapped_per_test({"stacks.config.load.x_load_settings": [first, "tests/unit/t::a"]})
    assert not mutation.mapped_per_test({"stacks.config.load.x_load_settings": [second]})
    # Both readers are tests of the shared run as the suite has them.
    source = (ROOT / "tests/program/test_program_mocks.py").read_text()
    for test in mutation.SHARED_RUN_READERS:
        name = test.split("::")[1].removesuffix("[dev]")
        body = source.split(f"\ndef {name}(stack):\n")[1].split("\ndef ")[0]
        assert body.lstrip().startswith(
            ("types = sorted((r.type, r.name) for r in program(stack)", "rec = program(stack)")
        )


def test_with_mutmut_s_test_times_the_fastest_tests_run_first(tmp_path):
    (tmp_path / "test_order.py").write_text(
        "def test_slow():\n    pass\n\n\ndef test_fast():\n    pass\n\n\ndef test_new():\n    pass\n"
    )
    stats = {"duration_by_test": {"test_order.py::test_slow": 9.0, "test_order.py::test_fast": 0.1}}
    (tmp_path / "stats.json").write_text(json.dumps(stats))
    (tmp_path / "conftest.py").write_text(  # the suite's hook
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('suite_conftest', {str(ROOT / 'tests/conftest.py')!r})\n"
        "suite = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(suite)\n"
        "pytest_collection_modifyitems = suite.pytest_collection_modifyitems\n"
    )
    # While mutmut times the tests, its record does not exist yet: the tests run in their order.
    for record in (None, "none.json", "stats.json"):
        env = {k: v for k, v in os.environ.items() if k != "MONITORING_TEST_DURATIONS"}
        if record:
            env["MONITORING_TEST_DURATIONS"] = str(tmp_path / record)
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-v", "test_order.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        order = re.findall(r"test_order.py::(test_\w+) PASSED", run.stdout)
        # A test mutmut has no time for (added since its stats) counts as instant.
        timed = record == "stats.json"
        assert order == (["test_new", "test_fast", "test_slow"] if timed else ["test_slow", "test_fast", "test_new"])


def test_the_test_map_is_read_from_mutmut_s_stats(tmp_path):
    (tmp_path / "mutants").mkdir()
    stats = {"tests_by_mangled_function_name": {"stacks.syntax.durations.x_is_size": ["t::b", "t::a"]}, "other": 1}
    (tmp_path / "mutants" / "mutmut-stats.json").write_text(json.dumps(stats))
    assert mutation.test_map(tmp_path) == {"stacks.syntax.durations.x_is_size": ["t::a", "t::b"]}
    assert mutation.test_map(tmp_path / "none") == {}


def test_the_output_names_the_tree_it_scored(tmp_path):
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    assert mutation.tree_name(tmp_path) == "no commit"
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    commit = subprocess.run([*git, "log", "-1", "--format=%h"], capture_output=True, text=True).stdout.strip()
    assert mutation.tree_name(tmp_path) == commit
    (tmp_path / "a.py").write_text("x = 2\n")
    assert mutation.tree_name(tmp_path) == f"{commit} + changes"


def test_a_kept_copy_is_copied_into_again(tmp_path, monkeypatch):
    source = tmp_path / "tree"
    (source / "policy/.venv").mkdir(parents=True)
    (source / "policy/PulumiPolicy.yaml").write_text("runtime: python\n")
    (source / "a.py").write_text("x = 1\n")
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "a.py", "policy/PulumiPolicy.yaml"], check=True)
    monkeypatch.setattr(mutation, "ROOT", source)
    copy = tmp_path / "copy"
    copy.mkdir()
    assert mutation.tracked_copy(copy) == ["a.py", "policy/PulumiPolicy.yaml"]
    (source / "a.py").write_text("x = 2\n")
    assert mutation.tracked_copy(copy) == ["a.py", "policy/PulumiPolicy.yaml"]
    assert (copy / "a.py").read_text() == "x = 2\n"
    assert (copy / "policy/.venv").resolve() == source / "policy/.venv"


RECORD = {
    "stacks/syntax/durations.py": {
        "x_parse_duration": {"hash": "aa", "exit_codes": {"1": 1, "2": 0}},
        "x_is_size": {"hash": "bb", "exit_codes": {"1": 36}},
    }
}


def test_recorded_survivors_are_named_as_mutmut_names_them():
    record = {"stacks/syntax/durations.py": RECORD["stacks/syntax/durations.py"], "stacks/errors.py": {}}
    assert mutation.survivor_names(record, ["stacks/syntax/durations.py", "stacks/errors.py"]) == [
        "stacks.syntax.durations.x_parse_duration__mutmut_2"
    ]


def test_recorded_verdicts_are_seeded_as_mutmut_s_meta_files_once(tmp_path):
    assert mutation.seed_verdicts(tmp_path, RECORD, ["stacks/syntax/durations.py", "stacks/errors.py"]) == [
        "stacks/syntax/durations.py"
    ]
    meta = json.loads((tmp_path / "mutants/stacks/syntax/durations.py.meta").read_text())
    # The keys and fields mutmut 3.8.1's SourceFileMutationData.load reads, and nothing else (it asserts so).
    assert meta == {
        "exit_code_by_key": {
            "stacks.syntax.durations.x_parse_duration__mutmut_1": 1,
            "stacks.syntax.durations.x_parse_duration__mutmut_2": 0,
            "stacks.syntax.durations.x_is_size__mutmut_1": 36,
        },
        "hash_by_function_name": {"x_parse_duration": "aa", "x_is_size": "bb"},
        "durations_by_key": {},
        "estimated_durations_by_key": {},
    }
    assert not (tmp_path / "mutants/stacks/errors.py.meta").exists()  # nothing recorded for it
    # A kept copy resuming has its own, newer verdicts: they are not overwritten.
    (tmp_path / "mutants/stacks/syntax/durations.py.meta").write_text("{}")
    assert mutation.seed_verdicts(tmp_path, RECORD, ["stacks/syntax/durations.py"]) == []
    assert (tmp_path / "mutants/stacks/syntax/durations.py.meta").read_text() == "{}"


def test_a_run_s_decided_verdicts_replace_the_recorded_ones_of_its_modules_only(tmp_path):
    other = {"stacks/errors.py": {"x_fail": {"hash": "cc", "exit_codes": {"3": 1}}}}
    meta = {
        "exit_code_by_key": {
            "stacks.syntax.durations.x_parse_duration__mutmut_1": 1,
            "stacks.syntax.durations.x_parse_duration__mutmut_2": None,  # not tried yet: not recorded
            "stacks.syntax.durations.x_parse_duration__mutmut_10": 0,
            "stacks.syntax.durations.x_is_size__mutmut_1": None,
        },
        "hash_by_function_name": {"x_parse_duration": "a2", "x_is_size": "bb"},
        "durations_by_key": {"stacks.syntax.durations.x_parse_duration__mutmut_1": 0.5},
        "estimated_durations_by_key": {},
    }
    (tmp_path / "mutants/stacks/syntax").mkdir(parents=True)
    (tmp_path / "mutants/stacks/syntax/durations.py.meta").write_text(json.dumps(meta))
    updated = mutation.recorded_verdicts(
        tmp_path, {**RECORD, **other}, ["stacks/syntax/durations.py", "stacks/config/alerting.py"]
    )
    assert updated == {
        "stacks/syntax/durations.py": {
            "x_is_size": {"hash": "bb", "mutants": 1, "exit_codes": {}},  # kept, undecided: it counts in the score
            "x_parse_duration": {"hash": "a2", "mutants": 3, "exit_codes": {"1": 1, "10": 0}},
        },
        "stacks/errors.py": {"x_fail": {"hash": "cc", "exit_codes": {"3": 1}}},
    }
    record = tmp_path / "record.json"
    mutation.save_record(record, updated)
    assert mutation.load_record(record) == updated
    assert '    "x_fail": {"hash": "cc", "exit_codes": {"3": 1}}\n' in record.read_text()  # a line per function
    assert mutation.load_record(tmp_path / "none.json") == {}


def test_the_tracked_record_names_core_modules_only():
    assert set(mutation.load_record(mutation.RECORD)) <= set(mutation.CORE_MODULES)


def test_save_records_the_modules_the_run_mutated_as_its_copy_names_them(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    (run / "mutants/stacks").mkdir(parents=True)
    (run / "pyproject.toml").write_text(mutation.mutmut_config(["stacks/gone.py"], []))  # moved since the run began
    meta = {
        "exit_code_by_key": {"stacks.gone.x_f__mutmut_1": 1, "stacks.gone.x_f__mutmut_2": 0},
        "hash_by_function_name": {"x_f": "h"},
        "durations_by_key": {},
        "estimated_durations_by_key": {},
    }
    (run / "mutants/stacks/gone.py.meta").write_text(json.dumps(meta))
    monkeypatch.setattr(mutation, "RECORD", tmp_path / "record.json")
    monkeypatch.setattr(sys, "argv", ["mutation.py", "--save", str(run), "stacks/syntax/durations.py"])
    assert mutation.main() == 0
    assert mutation.load_record(tmp_path / "record.json") == {
        "stacks/gone.py": {"x_f": {"hash": "h", "mutants": 2, "exit_codes": {"1": 1, "2": 0}}}
    }
    assert "stacks/syntax/durations.py" in capsys.readouterr().out  # the table, of the modules asked for
