"""The engine's test-suite runner: test files or folders against a source root, in the sandbox,
each test's outcome from pytest's junit report; and a patch verified on a scratch copy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autocoder.engine.scratch import scratch_copy
from autocoder.engine.testrun import NO_TESTS_COLLECTED, run_tests
from autocoder.errors import ToolTimeout

from perspectivekit import write_files

CALC = "def add(a: int, b: int) -> int:\n    return a + b\n"
TESTS = {
    "tests/test_calc.py": (
        "import pytest\n\nfrom calc import add\n\n\n"
        "def test_adds():\n    assert add(1, 2) == 3\n\n\n"
        "def test_wrong():\n    assert add(1, 1) == 3\n\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture broke')\n\n\n"
        "def test_errors(broken):\n    pass\n\n\n"
        "@pytest.mark.skip(reason='not today')\ndef test_skipped():\n    pass\n"
    ),
    "tests/test_unimportable.py": "import not_installed_anywhere\n",
}


def _target(tmp_path: Path) -> Path:
    return write_files(tmp_path / "target", {"src/calc.py": CALC, **TESTS})


def test_a_test_folder_runs_against_a_source_root_with_each_outcome(tmp_path: Path) -> None:
    root = _target(tmp_path)
    run = run_tests([root / "tests"], source_root=root / "src", rootdir=root, timeout_s=120,
                    extra_args=["--continue-on-collection-errors"])  # fmt: skip
    outcomes = {(o.classname, o.name): (o.status, o.detail) for o in run.outcomes}
    assert outcomes[("tests.test_calc", "test_adds")] == ("passed", "")
    assert outcomes[("tests.test_calc", "test_wrong")][0] == "failed"
    assert "add(1, 1)" in outcomes[("tests.test_calc", "test_wrong")][1]  # its last E line
    assert outcomes[("tests.test_calc", "test_errors")] == ("error", "RuntimeError: fixture broke")
    assert outcomes[("tests.test_calc", "test_skipped")] == ("skipped", "not today")
    assert outcomes[("", "tests.test_unimportable")] == (
        "error", "ModuleNotFoundError: No module named 'not_installed_anywhere'"
    )  # fmt: skip
    assert run.summary() == {"passed": 1, "failed": 1, "error": 2, "skipped": 1, "total": 5}
    assert run.exit_code == 1


def test_a_module_that_does_not_collect_stops_the_run_unless_asked_to_go_on(
    tmp_path: Path,
) -> None:
    root = _target(tmp_path)
    run = run_tests([root / "tests"], source_root=root / "src", rootdir=root, timeout_s=120)
    assert run.exit_code == 2 and [o.status for o in run.outcomes] == ["error"]


def test_listed_files_run_and_nothing_is_written_into_the_tree(tmp_path: Path) -> None:
    root = _target(tmp_path)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    run = run_tests([root / "tests" / "test_calc.py"], source_root=root / "src", rootdir=root,
                    timeout_s=120)  # fmt: skip
    assert run.summary()["total"] == 4 and run.exit_code == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # no cache, no pyc


def test_collect_only_counts_the_tests_and_runs_none(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {
        "mod.py": CALC,
        "test_mod.py": (
            "import pathlib\n\nimport pytest\n\n\n@pytest.mark.parametrize('n', [1, 2, 3])\n"
            f"def test_n(n):\n    pathlib.Path({str(tmp_path / 'ran')!r}).touch()\n"
        ),
    })  # fmt: skip
    run = run_tests([root], source_root=root, timeout_s=120, collect_only=True)
    assert run.collected == 3 and run.outcomes == ()
    assert not (tmp_path / "ran").exists()


def test_the_tests_see_no_credential_and_a_home_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "site_settings")
    root = write_files(tmp_path / "target", {"test_env.py": (
        "import os\n\n\ndef test_env():\n    assert 'HF_TOKEN' not in os.environ\n"
        "    assert os.environ['DJANGO_SETTINGS_MODULE'] == 'site_settings'\n"
        f"    assert os.environ['HOME'] != {str(Path.home())!r}\n"
    )})  # fmt: skip
    run = run_tests([], source_root=root, timeout_s=120)
    assert [o.status for o in run.outcomes] == ["passed"], run.output


def test_without_tests_named_the_root_configuration_decides(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {
        "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['checks']\n",
        "checks/test_a.py": "def test_a():\n    pass\n",
        "other/test_b.py": "def test_b():\n    pass\n",
    })  # fmt: skip
    assert [o.name for o in run_tests([], source_root=root, timeout_s=120).outcomes] == ["test_a"]
    empty = write_files(tmp_path / "empty", {"mod.py": CALC})
    assert run_tests([], source_root=empty, timeout_s=120).exit_code == NO_TESTS_COLLECTED


def test_a_hung_suite_is_killed_at_the_timeout(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {
        "test_hang.py": "import time\n\n\ndef test_hang():\n    time.sleep(60)\n"
    })  # fmt: skip
    with pytest.raises(ToolTimeout, match="ran longer than"):
        run_tests([root], source_root=root, timeout_s=3, per_test_timeout_s=None)


def test_one_hung_test_fails_alone_with_a_per_test_timeout(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {"test_two.py": (
        "import time\n\n\ndef test_hang():\n    time.sleep(60)\n\n\ndef test_ok():\n    pass\n"
    )})  # fmt: skip
    run = run_tests([root], source_root=root, timeout_s=120, per_test_timeout_s=1)
    assert {o.name: o.status for o in run.outcomes} == {"test_hang": "failed", "test_ok": "passed"}
    assert "Timeout" in next(o.detail for o in run.outcomes if o.name == "test_hang")


def test_under_coverage_the_data_file_measures_the_source_root(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {
        "calc.py": CALC, "test_calc.py": "from calc import add\n\n\ndef test_add():\n"
        "    assert add(1, 2) == 3\n",
    })  # fmt: skip
    data = tmp_path / "coverage.data"
    run = run_tests([], source_root=root, timeout_s=120, coverage_data=data)
    assert run.summary()["passed"] == 1 and data.exists()


def test_a_patch_is_verified_on_a_scratch_copy_and_the_checkout_stays_as_it_was(
    tmp_path: Path,
) -> None:
    root = write_files(tmp_path / "repo", {
        "calc.py": "def add(a, b):\n    return a - b\n",
        "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
    })  # fmt: skip
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(root), "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bug"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    before = run_tests([], source_root=root, timeout_s=120)
    with scratch_copy(root, head, tmp_path / "scratch") as copy:
        (copy / "calc.py").write_text("def add(a, b):\n    return a + b\n")
        after = run_tests([], source_root=copy, timeout_s=120)
    assert [o.status for o in before.outcomes] == ["failed"]
    assert [o.status for o in after.outcomes] == ["passed"]
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, env=env, check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    assert status == ""


def test_each_failure_names_the_file_and_exception_where_it_was_raised(tmp_path: Path) -> None:
    root = write_files(tmp_path / "target", {
        "calc.py": "def boom():\n    raise KeyError('k')\n",
        "tests/test_where.py": (
            "from calc import boom\n\n\ndef test_in_the_code():\n    boom()\n\n\n"
            "def test_in_the_test():\n    boom(1)\n\n\n"
            "def test_a_verdict():\n    assert 1 == 2\n"
        ),
    })  # fmt: skip
    run = run_tests([root / "tests"], source_root=root, timeout_s=120)
    where = {o.name: (Path(o.where).name, o.raised) for o in run.outcomes}
    assert where == {
        "test_in_the_code": ("calc.py", "KeyError"),
        "test_in_the_test": ("test_where.py", "TypeError"),
        "test_a_verdict": ("test_where.py", "AssertionError"),
    }
