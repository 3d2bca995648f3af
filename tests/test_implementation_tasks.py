"""Tasks a team hands the implementation worker through tasks.json: checked on the way in, served
by a fixer when a finding backs them, failed with the reason when they need a language model,
and kept in the dataset's tasks config, newest state last."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main
from autocoder.errors import TaskRejected
from autocoder.store.dataset import LocalDataset
from autocoder.store.tasklog import latest_tasks
from autocoder.workers.implementation.taskboard import LLM_NEEDED
from autocoder.workers.implementation.tasks import new_task, read_tasks_file

from patchkit import git

IMPLEMENTATION = "autocoder-implementation-results"
TASKS = [
    {"type": "bug_fix", "priority": 1, "file": "pkg/config.py",
     "issue": "B506: loading YAML can build arbitrary objects"},
    {"type": "feature", "priority": 2, "description": "add a --verbose flag"},
    {"type": "bug_fix", "priority": 1, "file": "../etc/passwd", "issue": "x"},
    {"type": "bug_fix", "priority": 1, "file": "pkg/missing.py", "issue": "x"},
    {"type": "content", "priority": 9, "content_type": "docstring", "context": "pkg.config"},
    {"type": "refactor", "priority": 1},
    {"type": "feature", "description": "typo'd key", "descripton": "x"},
]  # fmt: skip


@pytest.fixture
def target(analysed_target: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the analysed target with TASKS in its tasks.json, committed; the analysis
    dataset copied with it (the tasks.json commit is the one the analysis must be at)."""
    root, data = tmp_path / "target", tmp_path / "data"
    shutil.copytree(analysed_target[0], root)
    (root / "tasks.json").write_text(json.dumps(TASKS))
    (root / "escape").symlink_to("/etc")
    git(root, "add", "tasks.json")
    git(root, "commit", "-q", "-m", "tasks")
    assert main(["once", "analysis", "--target", str(root), "--data-dir", str(data),
                 "--iterations", "6"]) == 0  # fmt: skip
    return root, data


def once(root: Path, data: Path, iterations: int) -> None:
    argv = ["once", "implementation", "--target", str(root), "--data-dir", str(data),
            "--iterations", str(iterations)]  # fmt: skip
    assert main(argv) == 0


def tasks(data: Path) -> dict[str, Any]:
    return {t.description: t for t in latest_tasks(LocalDataset(data / IMPLEMENTATION)).values()}


def test_a_bug_fix_backed_by_a_finding_is_served_and_completes_with_its_patch(
    target: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    once(*target, 7)  # the six stages, then a Deep Understanding with nothing left to do
    done = tasks(target[1])["bug fix in pkg/config.py: B506: loading YAML can build arbitrary "
                            "objects"]  # fmt: skip
    assert done.status == "completed", done.error_detail
    assert done.source == "tasks.json" and len(done.patch_ids) == 1
    assert done.record_iterations == [1, 2, 3, 4, 5, 6]
    patches = LocalDataset(target[1] / IMPLEMENTATION).list_files("data/patches")
    assert len(patches) == 1  # the finding the task was served by is not patched again
    assert len(tasks(target[1])) == 2  # the tasks.json entries are read again, not added again


def test_a_feature_without_a_model_fails_saying_what_to_set_and_bad_entries_are_rejected(
    target: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    once(*target, 1)
    found = tasks(target[1])
    assert set(found) == {
        "bug fix in pkg/config.py: B506: loading YAML can build arbitrary objects",
        "add a --verbose flag",
    }
    feature = found["add a --verbose flag"]
    assert feature.status == "failed" and feature.error_detail == f"a feature task {LLM_NEEDED}"
    record = json.loads(next((target[1] / IMPLEMENTATION / "data/records").rglob("*.jsonl"))
                        .read_text().splitlines()[0])  # fmt: skip
    rejected = record["analysis"]["details"]["tasks"]["rejected"]
    assert rejected == [
        "tasks.json entry 3: path '../etc/passwd' leaves the repository; give a repo-relative path",
        "tasks.json entry 4: file 'pkg/missing.py' does not exist in the repository",
        "tasks.json entry 5: priority 9 must be a whole number from 1 (first) to 5",
        "tasks.json entry 6: type 'refactor' is not one of: feature, bug_fix, optimization, "
        "content",
        "tasks.json entry 7: a feature task has no field 'descripton'; its fields are type, "
        "priority, description",
    ]


def test_a_path_through_a_symlink_out_of_the_repository_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link.py").symlink_to(tmp_path / "outside.txt")
    entry = {"type": "bug_fix", "file": "link.py", "issue": "x"}
    with pytest.raises(TaskRejected, match=r"'link\.py' is a symlink out of the repository"):
        new_task(entry, root, "api")


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"type": [], "issue": "x"}, "type [] is not one of"),
        ({"type": "bug_fix", "file": "pkg/\x00core.py", "issue": "x"}, "is not a file of the"),
        ({"type": "bug_fix", "file": ".git/config", "issue": "x"}, "is not a file of the"),
    ],
)
def test_hostile_entries_are_rejected_with_a_reason_not_a_crash(
    tmp_path: Path, entry: dict[str, Any], said: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    with pytest.raises(TaskRejected, match=re.escape(said)):
        new_task(entry, tmp_path, "api")


def test_a_tasks_file_nested_too_deep_is_one_rejection(tmp_path: Path) -> None:
    (tmp_path / "tasks.json").write_text("[" * 200_000 + "]" * 200_000)
    assert read_tasks_file(tmp_path) == (
        None, ["tasks.json is not valid JSON (nested too deep); fix it and commit"])  # fmt: skip


def test_a_bug_fix_whose_issue_names_no_finding_is_not_served_by_another_one_in_the_file(
    target: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    unrelated = {"type": "bug_fix", "file": "pkg/config.py",
                 "issue": "load_config crashes when the name key is missing"}  # fmt: skip
    root, data = target
    (root / "tasks.json").write_text(json.dumps([unrelated]))
    git(root, "commit", "-qam", "another task")
    assert main(["once", "analysis", "--target", str(root), "--data-dir", str(data),
                 "--iterations", "6"]) == 0  # fmt: skip
    once(root, data, 1)
    (task,) = [t for t in tasks(data).values() if "name key" in t.description]
    assert task.status == "failed" and "names no rule" in task.error_detail


def test_a_pending_task_whose_entry_was_edited_is_dropped_not_served(
    target: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two bug fixes the finding serves: the first is taken, the second waits; the team then
    edits the second's issue, so the old text is failed and the edited entry is a new task."""
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    root, data = target
    first = {"type": "bug_fix", "priority": 1, "file": "pkg/config.py", "issue": "B506 first"}
    second = {**first, "priority": 2, "issue": "B506 second"}
    (root / "tasks.json").write_text(json.dumps([first, second]))
    git(root, "commit", "-qam", "two tasks")
    assert main(["once", "analysis", "--target", str(root), "--data-dir", str(data),
                 "--iterations", "6"]) == 0  # fmt: skip
    once(root, data, 1)
    assert tasks(data)["bug fix in pkg/config.py: B506 second"].status == "pending"
    edited = {**second, "issue": "B506 second, reworded"}
    (root / "tasks.json").write_text(json.dumps([first, edited]))
    git(root, "commit", "-qam", "reworded")
    assert main(["once", "analysis", "--target", str(root), "--data-dir", str(data),
                 "--iterations", "6"]) == 0  # fmt: skip
    once(root, data, 6)  # the rest of the first task's chain, then Deep Understanding again
    found = tasks(data)
    old = found["bug fix in pkg/config.py: B506 second"]
    assert old.status == "failed" and "no longer in tasks.json" in old.error_detail
    assert "bug fix in pkg/config.py: B506 second, reworded" in found
