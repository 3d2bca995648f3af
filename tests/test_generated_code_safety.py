"""No value from a hostile target becomes code in the generated tests (issue 9; issue 12).

The hostile target below names a folder with a newline followed by code, gives modules names
that are no Python names, and fills literals, defaults, docstrings, env var names, paths, flags
and CI commands with quotes, newlines, NUL and line separators. Every written test must compile,
collecting the written tree must run nothing of it, and what is no subject is reported so.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from autocoder.cli import main
from autocoder.errors import UnsafeName
from autocoder.schema import TestSpec
from autocoder.store.reader import LocalReader, latest_per_perspective
from autocoder.workers.test_planning.codegen import (
    ESCAPED,
    comment,
    comments,
    dotted,
    identifier,
    literal,
)
from autocoder.workers.test_planning.inventory import build_inventory
from autocoder.workers.test_planning.perspectives.backwards_compatibility import (
    BackwardsCompatibility,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.spec import test_planning_spec as planning_spec
from autocoder.workers.test_planning.specs import make_spec
from autocoder.workers.test_planning.testtree import readme_text, write_run_files, write_tests
from autocoder.workers.test_planning.verify import CONFTEST, subject_roots

from perspectivekit import context, write_target

DATASET = "autocoder-test-planning-results"
MARKER = "MARKER"  # what the injected code creates, relative to the folder pytest runs in
CODE = f"\nimport os; open({MARKER!r}, 'w')#"
OUTER = "outer" + CODE  # not a package: ``pkg.mod`` below it is a subject, its path is hostile
INVALID = "pkg" + CODE  # a package: its modules have no valid dotted name
OPS = r'''import argparse
import json
import os
import sqlite3
import subprocess


def clean(text: str = "a\"\"\"\n\r\x00\u2028b", limit: int = 3) -> str:
    """Strips text: a docstring holding \"\"\", \n, \r and \x00."""
    if text == '"""\nimport os; open("MARKER", "w")\r\u2028\x00':
        raise ValueError("bad\"\"\"\nimport os")
    if len(text) > limit:
        return text.strip()
    return text


def load(name: str) -> dict:
    with open(f"/srv/conf\"'\n/{name}") as handle:
        return json.load(handle)


def token() -> str:
    return os.environ["TOKEN\"]\nimport os#"]


def folder() -> str:
    return os.environ.get("HOME\"\nimport os#", "x")


def shell(cmd: str) -> int:
    return subprocess.call(cmd, shell=True)


def run_query(conn, name: str) -> None:
    conn.execute(f"SELECT '{name}' \"\n")
    conn.execute("DELETE FROM t")
    conn.commit()


def save(path: str, data: str) -> None:
    with open(path, "w") as handle:
        handle.write(data)


def quiet(path: str) -> str:
    try:
        return open(path).read()
    except Exception:
        return ""


def guarded(mode: str) -> str:
    if mode == 'x"""\n':
        raise KeyError(mode)
    return mode


def pairs(items: list) -> int:
    found = 0
    for a in items:
        for b in items:
            if a["key\"\n"] == b["key\"\n"]:
                found += 1
    return found


def encode(value: str) -> str:
    return value[::-1]


def decode(value: str) -> str:
    return value[::-1]


class Ünïcode:
    def run(self, λ: int, match: int = 0, case: str = "x", type: int = 1, _: int = 2) -> int:
        if λ > 3:
            raise KeyError(λ)
        return λ + match + type + _


def main(argv=None):
    parser = argparse.ArgumentParser(description="x\"\"\"\n")
    parser.add_argument("--mode", choices=["a\"\"\"\nimport os#", "b"], required=True)
    parser.add_argument("--count", type=int, default=1)
    args = parser.parse_args(argv)
    if args.count < 0:
        print("negative \"\"\"\n count")
        return 3
    return 0
'''
RAW = 'RAW = "x\u2028y\x0cz\u202e"\n'  # raw separators in a literal: legal Python source
CHECK = "def check(n: int) -> int:\n    if n < 0:\n        raise ValueError(n)\n    return n\n"
PYPROJECT = '[project]\nname = "hostile"\nversion = "0"\n\n[project.scripts]\n'
PYPROJECT += '"ho\\"stile\\nimport os#" = "calc.ops:main"\n'
WORKFLOW = "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
WORKFLOW += '      - run: pip install -e .\n      - run: "pytest -q # \\"\\"\\" \\nimport os"\n'
INVALID_FILES = {f"{INVALID}/mod.py", "calc/we'ird\nname.py", "my-tools/x.py", "my tools/x.py",
                 "class/x.py"}  # fmt: skip


def hostile_target(tmp_path: Path) -> Path:
    return write_target(tmp_path, {
        "calc/__init__.py": "", "calc/ops.py": OPS + "\n" + RAW,
        f"{OUTER}/pkg/__init__.py": "", f"{OUTER}/pkg/mod.py": CHECK,
        f"{INVALID}/__init__.py": "", "class/__init__.py": "", "paquete_ñ/mod.py": CHECK,
        **dict.fromkeys(INVALID_FILES, CHECK),
        "pyproject.toml": PYPROJECT, ".github/workflows/ci.yml": WORKFLOW,
    })  # fmt: skip


def _run_and_write(root: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    data, out = tmp_path / "data", tmp_path / "written"
    once = ["once", "test-planning", "--target", str(root), "--data-dir", str(data)]
    assert main([*once, "--iterations", "15"]) == 0
    assert main(["tests", "--write", str(out), "--data-dir", str(data)]) == 0
    return data, sorted(out.rglob("*.py"))


def _collect(out: Path, cwd: Path, *source_roots: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         str(out)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": ":".join(map(str, source_roots)), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def _hidden_characters(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) in ESCAPED and c != "\n"}


@pytest.fixture
def written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path, list[Path]]:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    root = hostile_target(tmp_path)
    data, files = _run_and_write(root, tmp_path)
    capsys.readouterr()
    return root, data, files


def test_a_target_folder_name_cannot_add_settings_to_the_written_pytest_ini(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    hostile = "x\naddopts = -p evil_plugin\n[pytest]\nx"
    specs = [
        {"repo": str(repo), "subject": "pkg.mod:f", "file": f"{hostile}/pkg/mod.py"},
        {"repo": str(repo), "subject": "good.mod:g", "file": "src/good/mod.py"},
    ]
    out = tmp_path / "out"
    out.mkdir()
    for spec in specs:
        spec.update(test_code="def test_x():\n    pass\n", status="passed")
    write_run_files(out, specs)
    ini = (out / "pytest.ini").read_text()
    assert "evil_plugin" not in ini and ini.count("addopts") == 1  # only the tree's own
    assert ini.count("[pytest]") == 1 and "src" in ini  # the plain folder is still on the path


def test_a_newline_in_a_folder_name_runs_nothing_when_the_written_tests_are_collected(
    written: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    root, _, files = written
    out = tmp_path / "written"
    tests = [f for f in files if f.name != "conftest.py"]
    assert len(tests) > 30 and (out / "conftest.py").read_text() == CONFTEST
    assert any("(outer\\nimport os; open('MARKER', 'w')#/pkg/mod.py:1)" in f.read_text()
               for f in tests)  # the path, escaped on its line  # fmt: skip
    for file in tests:
        source = file.read_text(encoding="utf-8")
        compile(source, str(file), "exec", dont_inherit=True)
        assert not _hidden_characters(source), file
        header = source.split("\n\n", 1)[0].splitlines()
        assert all(line.startswith("#") for line in header), file
    done = _collect(out, tmp_path, root, root / OUTER)
    assert not (tmp_path / MARKER).exists(), done.stdout
    assert done.returncode == 0 and f"\n{len(tests)} tests collected" in done.stdout, (
        done.stdout + done.stderr
    )


def test_multi_line_inputs_stay_in_the_header_comment(
    written: tuple[Path, Path, list[Path]],
) -> None:
    ci = [f for f in written[2] if "ci_cd_integration" in str(f)]
    assert ci, [str(f) for f in written[2]]
    header = ci[0].read_text().split("\n\n", 1)[0]
    assert "# Inputs: name: tests and autocoder gate\n#   on: [push, pull_request]\n" in header
    assert ast.parse(ci[0].read_text()).body  # the workflow is comment lines, the code follows


def test_folders_that_are_no_python_names_give_no_subject_and_are_reported(
    written: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    root, data, _ = written
    subjects = {s.id for s in build_inventory(context(root, tmp_path)).subjects}
    assert {"pkg.mod:check", "paquete_ñ.mod:check", "calc.ops:Ünïcode.run"} <= subjects
    assert not [s for s in subjects if "\n" in s or " " in s or "-" in s or "class" in s]
    records = latest_per_perspective(LocalReader(data / DATASET))
    assert len(records) == 15
    for record in records.values():
        reason = record["analysis"]["skipped"]["subjects"]
        assert reason.startswith("7 files give no subject, their module name is not a dotted")
        assert "'pkg\\nimport os; open('MARKER', 'w')#/mod.py' (module 'pkg\\nimport os;" in reason
        assert (
            "'calc/we'ird\\nname.py' (module 'calc.we'ird\\nname': 'we'ird\\nname' is not" in reason
        )
        assert "(module 'class.x': 'class' is a Python keyword)" in reason
        assert "'my-tools' is not a Python identifier" in reason and "'my tools' is not" in reason
        assert record["analysis"]["metrics"]["invalid_subject_names"]["files"] == 7


def test_every_perspective_keeps_only_code_that_compiles_with_nothing_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    root = hostile_target(tmp_path)
    made: dict[str, int] = {}
    for perspective in planning_spec().registry:
        result = perspective.run(context(root, tmp_path))
        specs = [s for s in result.items if isinstance(s, TestSpec)]
        made[perspective.name] = len(specs)
        for spec in specs:
            compile(spec.test_code, spec.id, "exec", dont_inherit=True)
            assert not _hidden_characters(spec.test_code), (perspective.name, spec.test_code)
        assert "uncompilable specs" not in result.skipped, result.skipped
    assert {name for name, n in made.items() if n} >= {
        "Failure Mode Analysis", "Integration Points", "Edge Case Discovery",
        "Performance Impact", "Data Integrity", "Error Handling", "User Experience",
        "Security Analysis", "Test Pyramid", "Mocking Strategy", "CI/CD Integration",
    }, made  # fmt: skip
    # these two rank what to test and say which inputs a test must choose; they write no test
    assert made["What Are We Testing?"] == made["Test Coverage Strategy"] == 0


def test_an_old_contract_with_quotes_and_hostile_module_names_compiles(tmp_path: Path) -> None:
    root = hostile_target(tmp_path)
    old = {"calc.ops:clean": "(text='\"\"\"\\n', limit=3)", f"{INVALID}.mod:gone": "(n)",
           "calc.ops:gone": '(x="""")'}  # fmt: skip
    ctx = dataclasses.replace(context(root, tmp_path), previous_state={"api": old, "commit": None})
    specs = [s for s in BackwardsCompatibility().run(ctx).items if isinstance(s, TestSpec)]
    assert sorted(s.subject for s in specs) == ["calc.ops:clean", "calc.ops:gone",
                                                 f"{INVALID}.mod:gone"]  # fmt: skip
    for spec in specs:
        tree = ast.parse(spec.test_code)
        assert [type(n).__name__ for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom)
                ] in (["FunctionDef"], ["For", "FunctionDef"]), spec.test_code  # fmt: skip


def test_code_that_does_not_compile_is_dropped_and_counted(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"calc.py": CHECK})
    ctx = context(root, tmp_path)
    inventory = build_inventory(ctx)
    good, bad = (
        make_spec(perspective="P", perspective_id="p", subject=inventory.subjects[0],
                  kind="unit", key=key, rationale="r", inputs="i", expected="e",
                  test_code=code, inventory=inventory)
        for key, code in (("good", "def test_x():\n    assert len([1]) == 1\n"), ("bad", "def test_y(:\n"))
    )  # fmt: skip
    result = finish(ctx, [good, bad], "summary")
    assert result.items == [good]
    assert result.metrics["uncompilable_specs"] == 1
    assert result.skipped["uncompilable specs"] == (
        f"1 dropped, not kept: '{bad.id}' (calc:check: SyntaxError: invalid syntax (line 1))"
    )


def test_the_written_tree_skips_rows_that_would_escape_or_not_compile(
    written: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    _, data, files = written
    shards = sorted((data / DATASET / "data" / "specs").rglob("*.jsonl"))
    rows = [json.loads(line) for line in shards[-1].read_text().splitlines()]
    escaping = {**rows[0], "id": "../../../escaped"}
    broken = {**rows[0], "id": "f" * 16, "test_code": "def test_(:\n"}
    loud = {**rows[0], "id": "e" * 16, "inputs": "x\nimport os; open('MARKER', 'w')\r\x00y"}
    rows = [*rows, escaping, broken, loud]
    shards[-1].write_text("".join(json.dumps(r) + "\n" for r in rows))
    skipped: dict[str, str] = {}
    again = write_tests(LocalReader(data / DATASET), tmp_path / "again", skipped)
    tests = [f for f in files if f.name != "conftest.py"]
    assert len(again) == len(tests) + 1  # ``loud`` too; the conftest is written, not listed
    assert skipped.pop("../../../escaped") == "its id '../../../escaped' is not 16 hex digits"
    assert skipped.pop("f" * 16).startswith("SyntaxError: invalid syntax (line ")
    assert not skipped and not list(tmp_path.rglob("*escaped*"))
    [loud_file] = [f for f in again if f.name.endswith(f"{'e' * 16}.py")]
    assert "# Inputs: x\n#   import os; open('MARKER', 'w')\n#   \\x00y\n" in loud_file.read_text()


@pytest.mark.parametrize(
    "text", ["a\nimport os", "a\rimport os", "a\r\nb", "\x00", "\x0b\x0c\x1c\x1d\x1e\x85",
             "\u2028import os", "\u2029", "\u202eevil", "\ud800"],
)  # fmt: skip
def test_a_comment_never_ends_before_its_line(text: str) -> None:
    for written_comment in (comment(text), comments(text)):
        code = f"{written_comment}\nx = 1\n"
        assert [type(n).__name__ for n in ast.parse(code).body] == ["Assign"], code
        assert not _hidden_characters(written_comment)


@pytest.mark.parametrize(
    "value", ['"""', "'''", 'a"b\'c', "\\", "x\n\r\x00\u2028", "ünï ✓", b"\x00'\"", pytest.param(10**5000, id="huge"),
              float("inf"), -0.0, None, True, ("a",), ["x", 1], {"k": {"v"}}, frozenset({1})],
)  # fmt: skip
def test_a_literal_is_always_the_value_itself(value: object) -> None:
    source = literal(value)
    namespace: dict[str, object] = {}
    exec(compile(f"value = {source}", "<literal>", "exec"), {}, namespace)
    assert namespace["value"] == value and type(namespace["value"]) is type(value)


def test_a_literal_refuses_objects_whose_repr_could_be_code() -> None:
    class Sneaky:
        def __repr__(self) -> str:
            return "__import__('os').system('x')"

    with pytest.raises(TypeError):
        literal(Sneaky())


@pytest.mark.parametrize(
    "name", ["pkg\nimport os", "my-tools", "my tools", "class", "a.def", "", "a..b", "1x", "a;b"]
)
def test_names_that_are_no_python_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeName, match="is not a"):
        dotted(name)
    with pytest.raises(UnsafeName):
        identifier(name)


def test_non_ascii_and_soft_keyword_names_are_names() -> None:
    assert dotted("paquete_ñ.Ünïcode") == "paquete_ñ.Ünïcode"
    assert [identifier(n) for n in ("λ", "match", "case", "type", "_")] == [
        "λ", "match", "case", "type", "_"
    ]  # fmt: skip


RUNNABLE = {
    "src/tidy/__init__.py": "",
    "src/tidy/core.py": "def clamp(n: int) -> int:\n    if n < 0:\n        raise ValueError('negative')"
    "\n    return n\n",
    "scripts/report.py": "def total(xs: list[int]) -> int:\n    if not xs:\n"
    "        raise ValueError('empty')\n    return sum(xs)\n",
}  # a src layout, and a top-level folder without __init__.py: importable only from the root


def test_the_written_tree_says_how_to_run_it_and_imports_every_subject_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: no README, and 156 tests of this repository skipped on "No module named 'bench'"
    # because only the checkout's packages, not a top-level folder's parent, were importable.
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    root = write_target(tmp_path, RUNNABLE)
    _, files = _run_and_write(root, tmp_path)
    out = tmp_path / "written"
    subjects = {f.read_text().split("# Subject: ")[1].split(":")[0] for f in files
                if f.name != "conftest.py"}  # fmt: skip
    assert {"tidy.core", "scripts.report"} <= subjects
    assert f"pythonpath = {Path('..') / root.name} {Path('..') / root.name / 'src'}" in (
        (out / "pytest.ini").read_text().splitlines()
    )
    readme = (out / "README.md").read_text()
    assert f"PYTHONPATH={root}:{root / 'src'} python -m pytest -p no:cacheprovider {out}" in readme
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(out)],
        cwd=elsewhere, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(elsewhere)},
    )  # fmt: skip
    assert "No module named" not in ran.stdout and ran.returncode == 0, ran.stdout[-3000:]


def test_a_tree_of_a_remote_target_says_to_run_it_from_a_checkout() -> None:
    spec = {"repo": "https://github.com/o/r", "subject": "pkg.mod:f", "file": "shared/pkg/mod.py",
            "test_code": "def test_f():\n    pass\n", "status": "not_run"}  # fmt: skip
    readme = readme_text(Path("out"), "https://github.com/o/r", subject_roots([("pkg.mod:f",
                     "shared/pkg/mod.py")]), None, [spec])  # fmt: skip
    assert "From the root of a checkout of https://github.com/o/r" in readme
    assert "PYTHONPATH=.:shared python -m pytest -p no:cacheprovider out" in readme


def test_the_written_pytest_ini_keeps_a_checkout_path_with_spaces_whole(tmp_path: Path) -> None:
    import shlex

    repo = tmp_path / "my projects" / "repo"
    (repo / "src" / "good").mkdir(parents=True)
    out = tmp_path / "out"
    out.mkdir()
    spec = {"repo": str(repo), "subject": "good.mod:g", "file": "src/good/mod.py",
            "test_code": "def test_x():\n    pass\n", "status": "passed"}  # fmt: skip
    write_run_files(out, [spec])
    line = next(
        x for x in (out / "pytest.ini").read_text().splitlines() if x.startswith("pythonpath")
    )
    paths = shlex.split(line.partition("=")[2])  # as pytest reads a "paths" setting
    assert {(out / p).resolve() for p in paths} == {repo.resolve(), (repo / "src").resolve()}
