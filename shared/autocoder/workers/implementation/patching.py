"""A fix turned into a patch: made on a scratch copy of the target, read back as a unified diff
that ``git apply`` takes, and applied again to a fresh copy when it is verified.

The fix edits a scratch copy (:func:`autocoder.engine.scratch.scratch_copy`), never the user's
checkout; a second, untouched copy of the same files is what the diff is made against, so it
says exactly what the fix changed at that commit. The diff is git's format: ``diff --git``
headers, ``a/`` and ``b/`` prefixes, ``/dev/null`` for an added or removed file, and ``\\ No
newline at end of file`` where a file ends without one.

A fix runs in a thread of its own with a deadline (``RunOptions.tool_timeout_s``): past it the
worker raises FixerError and goes on. Python cannot stop a thread, so a pure-Python codemod stuck
on a huge file keeps its thread until it returns (the copy it edits is removed under it); what a
fixer runs as a process goes through the sandbox, whose own timeout kills the process group.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autocoder.engine import sandbox
from autocoder.engine.perspective import RunOptions
from autocoder.engine.scratch import safe_parts, scratch_copy
from autocoder.errors import FixerError, PatchError, ToolError
from autocoder.workers.implementation.workitem import WorkItem

if TYPE_CHECKING:  # the fixer families import this module's callers, never this module
    from autocoder.workers.implementation.fixers.base import Fix

NO_NEWLINE = "\\ No newline at end of file\n"
_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")  # lines ending in "\n" only (never "\r" or "\x0c")
_UNQUOTED = re.compile(r'^[^\x00-\x1f\x7f"\\]+$')  # paths git writes without quoting them
MAX_GIT_SAYS = 600  # characters of git's message kept in a PatchError


@dataclass(frozen=True)
class Patch:
    """One change to the target at ``base_commit``: its files and their new texts, and the diff."""

    id: str  # "patch-" + 16 hex of the item, the base commit and the diff
    item_id: str
    base_commit: str | None
    fixer: str
    files: tuple[str, ...]  # repo-relative, sorted
    diff: str
    new_texts: dict[str, str]  # file -> its whole new text ("" for a removed file)

    @property
    def added(self) -> list[str]:
        """The files the diff creates (``new file mode``), in diff order: read from the change
        itself at its base commit, not from whatever the checkout holds now."""
        added, current = [], ""
        for line in self.diff.splitlines():
            if line.startswith("diff --git a/"):
                current = line.split(" b/", 1)[-1]
            elif line.startswith("new file mode") and current:
                added.append(current)
        return added


def patch_id(item_id: str, base_commit: str | None, diff: str) -> str:
    digest = hashlib.sha256(f"{item_id}\0{base_commit or ''}\0{diff}".encode()).hexdigest()
    return "patch-" + digest[:16]


def make_patch(
    root: Path,
    commit: str | None,
    item: WorkItem,
    fix: Fix,
    options: RunOptions,
    scratch_dir: Path,
) -> Patch:
    """Run ``fix`` on a scratch copy of ``root`` at ``commit`` and return what it changed.

    Raises FixerError (naming the fixer) when it crashed or ran past the deadline, reported a
    file outside the tree, changed a file that is not UTF-8 text, or changed nothing."""
    with (
        scratch_copy(root, commit, scratch_dir, max_file_bytes=options.max_file_bytes,
                     timeout_s=options.tool_timeout_s,
                     memory_mb=options.tool_memory_mb) as original,
        tempfile.TemporaryDirectory(prefix="autocoder-fix-", dir=scratch_dir) as work,
    ):  # fmt: skip
        tree = Path(work).resolve() / "tree"  # resolved: paths are checked against it
        shutil.copytree(original, tree, symlinks=True)
        reported = _run_fix(fix, tree, options.tool_timeout_s)
        files = sorted({_inside(fix, tree, path) for path in reported})
        old = {f: _text(fix, original, f) for f in files}
        new = {f: _text(fix, tree, f) for f in files}
        changed = [f for f in files if old[f] != new[f]]
        if not changed:
            said = f" (it reported {', '.join(files)} but left them as they were)" if files else ""
            raise FixerError(f"fixer {fix.fixer} ({fix.title}) changed nothing{said}")
        diff = "".join(
            file_diff(f, old[f], new[f], _mode(original / f), _mode(tree / f)) for f in changed
        )
    texts = {f: new[f] or "" for f in changed}
    return Patch(patch_id(item.id, commit, diff), item.id, commit, fix.fixer, tuple(changed),
                 diff, texts)  # fmt: skip


def _run_fix(fix: Fix, tree: Path, timeout_s: float) -> list[str]:
    """The files ``fix.apply`` reports, or FixerError when it raised or ran past ``timeout_s``
    (its thread is then left to end on its own: see the module)."""
    outcome: dict[str, object] = {}

    def apply() -> None:
        try:
            outcome["files"] = fix.apply(tree)
        except BaseException as e:  # whatever it raised becomes a FixerError
            outcome["error"] = e

    worker = threading.Thread(target=apply, name=f"fixer {fix.fixer}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise FixerError(
            f"fixer {fix.fixer} ({fix.title}) ran longer than {timeout_s:.0f}s; raise "
            "AUTOCODER_TOOL_TIMEOUT_S if the target's files are that large"
        )
    if "error" in outcome:
        error = outcome["error"]
        said = str(error).strip().splitlines()[-1][:MAX_GIT_SAYS] if str(error).strip() else ""
        raise FixerError(
            f"fixer {fix.fixer} ({fix.title}) failed: {type(error).__name__}"
            + (f": {said}" if said else "")
        ) from None
    files = outcome.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise FixerError(f"fixer {fix.fixer} returned {files!r}, not a list of changed files")
    return files


def _inside(fix: Fix, tree: Path, path: str) -> str:
    """``path`` (as the fixer reported it) as a repo-relative path in the tree, or FixerError."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(tree)
        except ValueError:
            raise FixerError(
                f"fixer {fix.fixer} reported {path!r}, which is outside the tree it was given"
            ) from None
    rel = candidate.as_posix().removeprefix("./")
    parts = safe_parts(rel)
    real = os.path.realpath(tree / rel)
    if parts is None or os.path.commonpath([str(tree), real]) != str(tree):
        raise FixerError(f"fixer {fix.fixer} reported {path!r}, which is outside the tree")
    if not _UNQUOTED.match(rel):
        raise FixerError(f"fixer {fix.fixer} changed {rel!r}: a name git would have to quote")
    if (tree / rel).is_symlink():
        raise FixerError(f"fixer {fix.fixer} changed {rel!r}, a symbolic link, not a file")
    return rel


def _text(fix: Fix, tree: Path, file: str) -> str | None:
    """The file's text; None when there is no file (added or removed); FixerError when it is
    not UTF-8 text, which a diff in a JSON row cannot carry."""
    try:
        data = (tree / file).read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise FixerError(f"fixer {fix.fixer} reported {file!r}, a folder") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FixerError(f"fixer {fix.fixer} changed {file!r}, which is not UTF-8") from None
    if "\0" in text:
        raise FixerError(f"fixer {fix.fixer} changed {file!r}, which is binary")
    return text


def _mode(path: Path) -> str:
    try:
        return "100755" if path.stat().st_mode & stat.S_IXUSR else "100644"
    except FileNotFoundError:
        return ""


def file_diff(file: str, old: str | None, new: str | None, old_mode: str, new_mode: str) -> str:
    """git's diff of one file from ``old`` to ``new`` text (None: the file does not exist)."""
    header = [f"diff --git a/{file} b/{file}\n"]
    if old is None:
        header.append(f"new file mode {new_mode}\n")
    elif new is None:
        header.append(f"deleted file mode {old_mode}\n")
    elif old_mode != new_mode:
        header += [f"old mode {old_mode}\n", f"new mode {new_mode}\n"]
    before, after = _LINES.findall(old or ""), _LINES.findall(new or "")
    if before == after:
        return "".join(header)  # an empty file added or removed, or only its mode changed
    body = difflib.unified_diff(
        before, after, "/dev/null" if old is None else f"a/{file}",
        "/dev/null" if new is None else f"b/{file}",
    )  # fmt: skip
    return "".join(header) + "".join(
        line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in body
    )


@contextlib.contextmanager
def applied_copy(
    root: Path, commit: str | None, patch: Patch, options: RunOptions, scratch_dir: Path
) -> Iterator[Path]:
    """A fresh scratch copy of ``root`` at ``commit`` with ``patch`` applied by ``git apply``
    (all of it or nothing); PatchError with git's message when it does not apply."""
    with scratch_copy(
        root, commit, scratch_dir, max_file_bytes=options.max_file_bytes,
        timeout_s=options.tool_timeout_s, memory_mb=options.tool_memory_mb,
    ) as tree:  # fmt: skip
        git_apply(tree, patch.diff, options, what=patch.id)
        yield tree


def git_apply(tree: Path, diff: str, options: RunOptions, what: str) -> None:
    """``git apply`` of ``diff`` in ``tree``, a folder that is no repository: git is stopped
    from finding one above it (``GIT_CEILING_DIRECTORIES``), which would make it apply the
    paths from that repository's top instead."""
    with tempfile.TemporaryDirectory(prefix="autocoder-patch-", dir=tree.parent) as tmp:
        diff_file = Path(tmp) / "change.diff"
        diff_file.write_text(diff, encoding="utf-8")
        try:
            done = sandbox.run_git(
                ["apply", "--whitespace=nowarn", str(diff_file)], cwd=tree,
                timeout_s=options.tool_timeout_s, memory_mb=options.tool_memory_mb,
                env={"GIT_CEILING_DIRECTORIES": str(tree.parent)},
            )  # fmt: skip
        except ToolError as e:
            raise PatchError(f"{what} could not be applied: {e}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().replace(str(diff_file), "the patch")
        raise PatchError(
            f"{what} does not apply to the target at this commit (git apply: "
            f"{said[-MAX_GIT_SAYS:] or f'exit code {done.returncode}'}); the file changed "
            "since the patch was made: make it again from the current commit"
        )
