"""Tasks a team hands the implementation worker: entries of ``tasks.json`` at the target's root,
or submissions through the task API, checked and turned into :class:`TaskRow` s.

An entry is ``{"type": ..., "priority": 1-5, ...}`` with the fields of its type (a feature's
``description``, a bug fix's ``file`` and ``issue``, an optimization's ``target`` and
``goal``, a content task's ``content_type`` and ``context``). Anything else is rejected with the
reason: an unknown type or key, a missing or empty field, a priority out of range, and a path
that does not exist or leaves the repository (absolute, ``..``, a symlink out). The target's
files are only looked at, never run.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path, PurePosixPath
from typing import Any

from autocoder.errors import TaskRejected
from autocoder.schema import TaskRow, TaskSource, utc_timestamp

TASKS_FILE = "tasks.json"
MAX_TASKS_FILE_BYTES = 1_000_000
MAX_FIELD_CHARS = 10_000
DEFAULT_PRIORITY = 3
FIELDS: dict[str, tuple[str, ...]] = {  # the fields each type needs, besides type and priority
    "feature": ("description",),
    "bug_fix": ("file", "issue"),
    "optimization": ("target", "goal"),
    "content": ("content_type", "context"),
}
PATH_FIELDS = ("file", "target")  # repo-relative paths (an optimization's target may add :name)


def new_task(entry: Any, root: Path, source: TaskSource, *, task_id: str | None = None) -> TaskRow:
    """``entry`` as a pending task of ``source``, or TaskRejected saying what is wrong."""
    if not isinstance(entry, dict):
        raise TaskRejected(f"a task is a JSON object, not {type(entry).__name__}: {entry!r:.80}")
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise TaskRejected(f"type {kind!r} is not one of: {', '.join(FIELDS)}")
    needed = FIELDS[str(kind)]
    unknown = sorted(set(entry) - {"type", "priority", *needed})
    if unknown:
        raise TaskRejected(
            f"a {kind} task has no field {', '.join(map(repr, unknown))}; its fields are "
            f"type, priority, {', '.join(needed)}"
        )
    values = {name: _text(entry, name, str(kind)) for name in needed}
    for name in PATH_FIELDS:
        if name in values:
            inside_repo(root, values[name].split(":", 1)[0] if name == "target" else values[name])
    now = utc_timestamp()
    return TaskRow.model_validate({
        "id": task_id or ("task-" + secrets.token_hex(8)), "type": kind,
        "priority": _priority(entry), **values,
        "description": values.get("description") or _summary(str(kind), values),
        "source": source, "status": "pending", "created_at": now, "updated_at": now,
        "iteration": 0, "worker": "implementation", "repo": "", "commit": None,
    })  # fmt: skip


def read_tasks_file(root: Path) -> tuple[list[TaskRow] | None, list[str]]:
    """The tasks of ``root/tasks.json`` (each with an id from its content, so the same entry is
    the same task on every read) and why each other entry was rejected; ([], []) without one,
    and (None, [why]) for a file that could not be read as a list of tasks."""
    path = root / TASKS_FILE
    if path.is_symlink():
        return None, [f"{TASKS_FILE} is a symlink: not read"]
    if not path.is_file():
        return [], []
    if path.stat().st_size > MAX_TASKS_FILE_BYTES:
        return None, [f"{TASKS_FILE} is larger than {MAX_TASKS_FILE_BYTES} bytes: not read"]
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deep
        why = "nested too deep" if isinstance(e, RecursionError) else str(e)
        return None, [f"{TASKS_FILE} is not valid JSON ({why}); fix it and commit"]
    if not isinstance(entries, list):
        return None, [f"{TASKS_FILE} holds a {type(entries).__name__}; it must be a list of tasks"]
    tasks, rejected = [], []
    for number, entry in enumerate(entries, start=1):
        try:
            tasks.append(new_task(entry, root, "tasks.json", task_id=file_task_id(entry)))
        except TaskRejected as e:
            rejected.append(f"{TASKS_FILE} entry {number}: {e}")
        except (ValueError, RecursionError):  # a value no task has (nested too deep)
            rejected.append(f"{TASKS_FILE} entry {number}: not a task object of plain values")
    return tasks, rejected


def file_task_id(entry: Any) -> str:
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    return "task-" + hashlib.sha256(f"tasks.json\0{canonical}".encode()).hexdigest()[:16]


def inside_repo(root: Path, relative: str) -> Path:
    """``root/relative`` when it is an existing file inside the repository, else TaskRejected."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith(("/", "\\")) or ".." in pure.parts:
        raise TaskRejected(f"path {relative!r} leaves the repository; give a repo-relative path")
    if "\0" in relative or (pure.parts and pure.parts[0] == ".git"):
        raise TaskRejected(f"path {relative!r} is not a file of the repository's tree")
    path = root / relative
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise TaskRejected(f"file {relative!r} does not exist in the repository") from None
    if not resolved.is_relative_to(root.resolve()):
        raise TaskRejected(f"path {relative!r} is a symlink out of the repository; not read")
    if not resolved.is_file():
        raise TaskRejected(f"path {relative!r} is not a file of the repository")
    return path


def _text(entry: dict[str, Any], name: str, kind: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TaskRejected(f"a {kind} task needs {name!r} as non-empty text, not {value!r:.60}")
    if len(value) > MAX_FIELD_CHARS:
        raise TaskRejected(f"{name!r} is longer than {MAX_FIELD_CHARS} characters")
    return value.strip()


def _priority(entry: dict[str, Any]) -> int:
    value = entry.get("priority", DEFAULT_PRIORITY)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise TaskRejected(f"priority {value!r} must be a whole number from 1 (first) to 5")
    return value


def _summary(kind: str, values: dict[str, str]) -> str:
    if kind == "bug_fix":
        return f"bug fix in {values['file']}: {values['issue']}"
    if kind == "optimization":
        return f"optimize {values['target']}: {values['goal']}"
    return f"{values['content_type']}: {values['context']}"
