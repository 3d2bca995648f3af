"""Proof, hostile targets: each one gives a clear error or a record with the reason, and the
worker goes on.

Every target is built in tmp_path (see :mod:`hostilekit`) and driven the way a user drives it,
through ``autocoder once``. A target the command cannot use at all (missing, a file, a git URL
that cannot be reached) ends with exit status 2 and one line naming the value and the fix,
before any record is written. Any other target gives one record per iteration, each parsed back by
the store's reader: ``ok`` with the files it could not read counted with the reason, or
``skipped`` with the reason; the next iteration runs. Code in the target that writes a marker
when imported never runs with the default settings, in any perspective of any worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autocoder.engine.sources import OUTSIDE
from autocoder.errors import TargetError, TaskRejected
from autocoder.workers.analysis.perspectives.architecture import ArchitectureReview
from autocoder.workers.implementation.tasks import new_task, read_tasks_file

from hostilekit import (
    BAD_FILES,
    FLAGGED,
    PACKAGE,
    PERSPECTIVES,
    bad_file,
    closed_port,
    every_worker,
    files_holding,
    importing_target,
    iterations_with_the_target_gone_for_the_second,
    loads,
    many_files,
    marker_files,
    once,
    outside_link_target,
    refused,
    rewriting,
    rows,
    skipped_files,
    went_on,
)
from perspectivekit import context, write_files
from proofkit import full_run, proof_row, scaled

Row = Callable[[str, object], None]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No lookups on the network and no cache shared with other tests: the default settings."""
    for name in ("AUTOCODER_RUN_TARGET_TESTS", "AUTOCODER_CACHE_DIR", "AUTOCODER_HF_REPO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")


UNUSABLE = ["missing path", "plain file", "file:// of a missing path", "127.0.0.1 on a closed port"]


@pytest.mark.parametrize("kind", UNUSABLE)
def test_a_target_the_command_cannot_use_is_refused_in_one_line_naming_it(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = {"file:// of a missing path": f"file://{tmp_path}/missing.git",
              "127.0.0.1 on a closed port": f"http://127.0.0.1:{closed_port()}/team/repo.git",
              }.get(kind, str(tmp_path / "nowhere"))  # fmt: skip
    if kind == "plain file":
        Path(target).write_text("x = 1\n")
    code, err = once(capsys, "analysis", target, tmp_path / "data")
    refused(code, err, target)
    assert rows(tmp_path / "data", "analysis") == []
    said = err.strip().replace(str(tmp_path), "<tmp>")[:120]
    proof_row(record_property, "hostile", f"target: {kind}", "exit 2, one line, 0 records", said)


def test_a_target_removed_under_a_running_worker_gives_an_error_record_and_the_worker_goes_on(
    tmp_path: Path, record_property: Row
) -> None:
    target = write_files(tmp_path / "target", {**PACKAGE, **FLAGGED})
    asyncio.run(iterations_with_the_target_gone_for_the_second(target, tmp_path / "data"))
    first, gone, back = rows(tmp_path / "data", "analysis")
    assert (first["status"], back["status"], gone["status"]) == ("ok", "ok", "error")
    said = f"{str(target)!r} does not exist; give a directory or a git URL (https://...)"
    assert gone["error"] == f"--target {said}"
    assert back["iteration"] == 3
    proof_row(record_property, "hostile", "target removed under a running worker",
              "error record with the reason, next iteration ok",
              gone["error"].replace(str(tmp_path), "<tmp>"))  # fmt: skip


def test_an_empty_directory_gives_records_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    (tmp_path / "empty").mkdir()
    iterations = scaled(short=2, full=PERSPECTIVES["analysis"])
    assert once(capsys, "analysis", tmp_path / "empty", tmp_path / "data", iterations)[0] == 0
    records = went_on(tmp_path / "data", "analysis", iterations)
    assert loads(tmp_path / "data", "analysis") == iterations
    said = "; ".join(r["error"] or r["status"] for r in records).replace(str(tmp_path), "<tmp>")
    proof_row(record_property, "hostile", "empty directory", "records with the reason", said)


def test_a_repository_without_python_gives_records_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = write_files(tmp_path / "web", {
        "index.js": "module.exports = () => 1;\n", "package.json": '{"name": "web"}\n',
        "README.md": "# web\n", "src/main.rs": "fn main() {}\n",
    })  # fmt: skip
    assert once(capsys, "analysis", target, tmp_path / "data", 2)[0] == 0
    records = went_on(tmp_path / "data", "analysis", 2)
    skipped = [r for r in records if r["status"] == "skipped"]
    assert skipped and all("no Python" in r["error"] for r in skipped), records
    proof_row(record_property, "hostile", "non-Python repository", "skipped with the reason",
              "; ".join(r["error"] for r in skipped).replace(str(tmp_path), "<tmp>"))  # fmt: skip


def test_syntax_errors_are_reported_and_the_rest_is_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = write_files(tmp_path / "target", {
        **PACKAGE, "pkg/broken.py": "def f(:\n    pass\n", "pkg/tabs.py": "if x:\n\tpass\n  y\n",
    })  # fmt: skip
    assert once(capsys, "analysis", target, tmp_path / "data", 1)[0] == 0
    (quality,) = went_on(tmp_path / "data", "analysis", 1)
    findings = rows(tmp_path / "data", "analysis", "data/findings")
    broken = {f["file"] for f in findings if "syntax" in json.dumps(f).lower()}
    assert {"pkg/broken.py", "pkg/tabs.py"} <= broken, findings
    assert quality["status"] == "ok"
    proof_row(record_property, "hostile", "syntax errors", "reported as findings, rest analysed")


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_file_that_cannot_be_read_is_skipped_with_the_reason_and_the_rest_analysed(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    name, _, reason = BAD_FILES[kind]
    bad_file(kind, write_files(tmp_path / "target", {**PACKAGE, **FLAGGED}) / name)
    assert once(capsys, "analysis", tmp_path / "target", tmp_path / "data", 2)[0] == 0
    records = went_on(tmp_path / "data", "analysis", 2)
    assert skipped_files(records) == {name: reason}
    findings = rows(tmp_path / "data", "analysis", "data/findings")
    assert ("pkg/flagged.py", "F401") in {(f["file"], f["rule"]) for f in findings}
    assert all(p.stat().st_size < 2_000_000 for p in (tmp_path / "data").rglob("*.jsonl"))
    proof_row(record_property, "hostile", kind, "skipped with the reason, rest analysed", reason)


def test_a_symlink_out_of_the_target_is_never_read_into_any_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    secret = "outside-" + "mark" * 3 + "-51c0"
    target = outside_link_target(tmp_path / "target", tmp_path / "outside", secret)
    data = tmp_path / "data"
    for worker in ("analysis", "test-planning"):
        iterations = scaled(short=2, full=PERSPECTIVES[worker])
        assert once(capsys, worker, target, data, iterations)[0] == 0
        went_on(data, worker, iterations)
    records = rows(data, "analysis")
    assert skipped_files(records) == dict.fromkeys(["app/creds.py", "app/lib", "notes.txt"],
                                                   OUTSIDE)  # fmt: skip
    assert files_holding(data, secret) == []
    scanned = f"{len(list(data.rglob('*')))} paths scanned"
    proof_row(record_property, "hostile", "symlink out of the target", "never read", scanned)


def test_twenty_thousand_tiny_files_are_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    count, iterations = scaled(short=1_000, full=20_000), scaled(short=1, full=2)
    target = many_files(tmp_path / "target", count)
    assert once(capsys, "analysis", target, tmp_path / "data", iterations)[0] == 0
    records = went_on(tmp_path / "data", "analysis", iterations)
    assert {r["status"] for r in records} == {"ok"}
    assert records[0]["analysis"]["metrics"]["python_files"] == count + count // 500
    seen = ", ".join(f"{r['perspective_name']} {r['duration_s']} s" for r in records)
    proof_row(record_property, "hostile", f"{count:,} tiny files", "analysed", seen)


@pytest.mark.parametrize("name", ["new\nline.py", "caf\u00e9_\u65e5\u672c.py", " lead -x.py"])
def test_odd_file_names_are_analysed_and_the_dataset_loads(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = write_files(tmp_path / "target", {
        **PACKAGE, f"pkg/{name}": "import os\n\n\ndef f(items=[]):\n    return items\n",
    })  # fmt: skip
    assert once(capsys, "analysis", target, tmp_path / "data", 1)[0] == 0
    went_on(tmp_path / "data", "analysis", 1)
    flagged = {f["file"] for f in rows(tmp_path / "data", "analysis", "data/findings")}
    assert f"pkg/{name}" in flagged, flagged
    assert loads(tmp_path / "data", "analysis") == 1
    proof_row(record_property, "hostile", f"file name {name!r}", "analysed, dataset loads")


@pytest.fixture(scope="module")
def import_sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every worker run on a target whose module, conftest.py and setup.py each write a marker
    when imported: every perspective (short form: the first iterations of each worker)."""
    base = tmp_path_factory.mktemp("import-sweep")
    markers, data = base / "markers", base / "data"
    target = importing_target(base / "target", markers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOCODER_NETWORK", "0")
        patch.delenv("AUTOCODER_RUN_TARGET_TESTS", raising=False)
        patch.delenv("AUTOCODER_CACHE_DIR", raising=False)
        runs = every_worker(target, data, lambda w: PERSPECTIVES[w] if full_run() else 1)
    yield {"markers": markers, "data": data, "runs": runs}


def test_the_marker_code_does_write_its_marker_when_run_the_ordinary_way(
    tmp_path: Path,
) -> None:
    """The control: what the sweep expects never to happen does happen when the code runs."""
    target = importing_target(tmp_path / "target", tmp_path / "markers")
    program = "import conftest, pkg.module; import runpy; runpy.run_path('setup.py')"
    subprocess.run([sys.executable, "-c", program, "--version"], cwd=target, check=True,
                   capture_output=True)  # fmt: skip
    names = {name.rsplit("-", 1)[0] for name in marker_files(tmp_path / "markers")}
    assert names == {"module", "conftest", "setup"}


@pytest.mark.parametrize("marker", ["module", "conftest", "setup"])
def test_code_that_writes_a_marker_when_imported_never_runs_with_the_default_settings(
    marker: str, import_sweep: dict[str, Any], record_property: Row
) -> None:
    data: Path = import_sweep["data"]
    ran: list[str] = []
    for worker, (code, iterations) in import_sweep["runs"].items():
        assert code == 0, worker
        records = rows(data, worker)
        assert len(records) == iterations
        assert all(r["error"] for r in records if r["status"] != "ok"), worker
        ran.extend(r["perspective_name"] for r in records if r["status"] == "ok")
    if full_run():  # every stage had the item (the yaml.load finding) to work on
        stages = [r["perspective_name"] for r in rows(data, "implementation")]
        assert ran[-len(stages) :] == stages
    assert [m for m in marker_files(import_sweep["markers"]) if m.startswith(marker)] == []
    proof_row(record_property, "hostile", f"{marker}.py writes a marker when imported",
              "marker never written", f"{len(ran)} perspectives and stages ran")  # fmt: skip


def test_a_repository_that_changes_while_it_is_analysed_gives_records_each_iteration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = write_files(tmp_path / "target", PACKAGE)
    iterations = scaled(short=3, full=18)
    with rewriting(target) as rewriter:
        code, err = once(capsys, "analysis", target, tmp_path / "data", iterations)
    assert code == 0, err
    records = rows(tmp_path / "data", "analysis")
    assert [r["iteration"] for r in records] == list(range(1, iterations + 1))
    failed = [r for r in records if r["status"] == "error"]
    assert all(r["error"] and "\n" not in r["error"] for r in failed)
    assert not [r["error"] for r in failed if "Errno" in r["error"] or "autocoder-" in r["error"]]
    assert loads(tmp_path / "data", "analysis") == iterations
    proof_row(record_property, "hostile", "repository changing during analysis",
              f"{iterations} records, {len(failed)} errors with the reason",
              f"{rewriter.rounds} rewrites; " + "; ".join(r["error"] for r in failed))  # fmt: skip


def test_a_module_removed_under_the_architecture_review_is_named_in_a_clear_error(
    tmp_path: Path, record_property: Row
) -> None:
    """What a rewrite between the file listing and the import graph gave: grimp's
    FileNotFoundError on a temporary mirror path, and a traceback in the log."""
    root = write_files(tmp_path / "target", {**PACKAGE, "pkg/gone.py": "import pkg.config\n"})
    stale = context(root, tmp_path)  # the listing, made before the file goes
    (root / "pkg" / "gone.py").unlink()
    with pytest.raises(TargetError) as raised:
        ArchitectureReview().run(stale)
    assert str(raised.value).startswith("pkg/gone.py was removed while the import graph was read")
    proof_row(record_property, "hostile", "a module removed mid-review", "clear error, no trace",
              str(raised.value)[:90])  # fmt: skip


TRAVERSALS = {"relative ../../etc/passwd": "../../etc/passwd", "absolute /etc/passwd": "/etc/passwd",
              "symlink out": "pkg/passwd.py"}  # fmt: skip


@pytest.mark.parametrize("kind", list(TRAVERSALS))
def test_a_task_whose_path_leaves_the_repository_is_refused_with_the_reason(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Row
) -> None:
    target = write_files(tmp_path / "target", PACKAGE)
    os.symlink("/etc/passwd", target / "pkg" / "passwd.py")
    path = TRAVERSALS[kind]
    entries = [{"type": "bug_fix", "file": path, "issue": "B506 yaml.load"},
               {"type": "optimization", "target": f"{path}:main", "goal": "faster"}]  # fmt: skip
    (target / "tasks.json").write_text(json.dumps(entries))
    tasks, rejected = read_tasks_file(target)
    assert tasks == [] and len(rejected) == 2 and all(repr(path) in why for why in rejected)
    with pytest.raises(TaskRejected, match="repository"):  # what the task API answers
        new_task(entries[0], target, "api")
    data = tmp_path / "data"
    assert once(capsys, "implementation", target, data, 2)[0] == 0
    records = went_on(data, "implementation", 2)
    assert all(why in records[0]["error"] for why in rejected), records[0]["error"]
    assert rows(data, "implementation", "data/tasks") == []
    line = Path("/etc/passwd").read_text().splitlines()[0]
    assert files_holding(data, line) == []
    proof_row(record_property, "hostile", f"tasks.json path: {kind}", "refused with the reason",
              rejected[0][:90])  # fmt: skip
