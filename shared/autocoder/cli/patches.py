"""``autocoder patches`` and ``autocoder apply``: the implementation worker's patches, listed,
and one of them applied to a checkout with git.

``apply`` changes nothing until three checks pass: DIR is a git work tree, it has no uncommitted
change to a tracked file (so the patch is the only change to review; untracked files are left
alone, and git refuses to overwrite one), and its HEAD is the patch's base commit. Then
``git apply --check`` says whether the diff applies, with git's reason when it does not, and
``git apply`` applies it to the work tree only: nothing is staged or committed, and new files
are marked intent-to-add, so ``git diff`` shows the whole change. A patch labelled ``failed`` is
applied only with ``--force``. git runs through the sandbox (no hooks, no fsmonitor, no pager:
:data:`autocoder.engine.sandbox.GIT_SAFE_CONFIG`), and nothing of the target is run.
"""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from autocoder.cli.common import Repo, SourceDataDir
from autocoder.cli.results import read_dataset
from autocoder.engine.git import git
from autocoder.errors import AutocoderError, PatchError, StoreError
from autocoder.schema import PATCHES, PatchRow, PatchStatus
from autocoder.store.dataset import Dataset
from autocoder.store.reader import read_shard
from autocoder.workers.catalog import worker_info

WORKER = "implementation"
GIT_TIMEOUT_S = 120.0
FILES_SHOWN = 3  # in the table's files column; the rest are counted


def newest_patches(dataset: Dataset) -> list[PatchRow]:
    """The newest row of each patch id (a later iteration's row of the same patch wins), the
    most recently written first."""
    newest: dict[str, PatchRow] = {}
    for path in dataset.list_files(PATCHES.folder):  # sorted: oldest iteration first
        for row in read_shard(dataset, path):
            patch = _patch_row(row, dataset, path)
            newest.pop(patch.id, None)
            newest[patch.id] = patch
    return list(reversed(newest.values()))


def _patch_row(row: dict[str, Any], dataset: Dataset, path: str) -> PatchRow:
    try:
        return PatchRow.model_validate(row)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StoreError(
            f"{dataset.location}/{path}: the row of patch {row.get('id')!r} is not a patch row "
            f"({where}: {first['msg']}); a newer autocoder may have written it"
        ) from None


def find_patch(patches: list[PatchRow], wanted: str, location: str) -> PatchRow:
    """The patch whose id is ``wanted`` or starts with it (``patch-`` may be left out); else a
    PatchError naming the ids it may have meant."""
    ids = [p.id for p in patches]
    starts = [p for p in patches if p.id.startswith((wanted, f"patch-{wanted}"))]
    exact = [p for p in patches if p.id == wanted]
    if exact or len(starts) == 1:
        return (exact or starts)[0]
    if starts:
        shown = ", ".join(p.id for p in starts[:5])
        raise PatchError(f"{wanted!r} starts {len(starts)} patch ids ({shown}); give more of it")
    if not ids:
        raise PatchError(f"{location} has no patches yet; run `autocoder once {WORKER}`")
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`autocoder patches` lists them"
    raise PatchError(f"there is no patch {wanted!r} in {location}; {hint}")


def _files_cell(files: list[str]) -> str:
    more = len(files) - FILES_SHOWN
    return ", ".join(files[:FILES_SHOWN]) + (f" (+{more})" if more > 0 else "")


def _cells(p: PatchRow) -> tuple[str, ...]:
    base = (p.base_commit or "-")[:12]
    files = _files_cell(p.files)
    return (p.id, p.status, p.fixer, files, p.item_id, base, p.failed_step or "-")


def patch_table(patches: list[PatchRow]) -> str:
    """One line per patch under a header, columns as wide as their longest cell."""
    header = ("ID", "STATUS", "FIXER", "FILES", "ITEM", "BASE", "FAILED STEP")
    rows = [header] + [_cells(p) for p in patches]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def list_patches(
    ctx: typer.Context,
    data_dir: SourceDataDir = None,
    repo: Repo = None,
    status: Annotated[
        PatchStatus | None,
        typer.Option(
            metavar="STATUS",
            help="verified|checked|failed|unverified: only the patches so labelled",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the rows as a JSON list, diffs included")
    ] = False,
) -> None:
    _settings, reader = read_dataset(ctx, worker_info(WORKER).dataset, data_dir, repo)
    if reader.head() is None:
        raise AutocoderError(f"{reader.location} does not exist; run `autocoder once {WORKER}`")
    patches = newest_patches(reader)
    shown = [p for p in patches if status is None or p.status == status]
    if as_json:
        print(json.dumps([p.model_dump(mode="json") for p in shown], indent=2))
        return
    if shown:
        print(patch_table(shown))
    which = f" {status}" if status else ""
    print(f"{len(shown)}{which} of {len(patches)} patches in {reader.location}")


@dataclass(frozen=True)
class Checkout:
    """A git work tree the user gave with ``--to``: where git runs and how to name it."""

    folder: Path
    given: str  # as the user typed it, for messages
    prefix: str  # the folder's path inside its repository ("" at the top)

    def run(self, *args: str) -> tuple[int, str, str]:
        done = git(list(args), cwd=self.folder, where=f"in {self.given}", timeout_s=GIT_TIMEOUT_S)
        return done.returncode, done.stdout, done.stderr.strip()


def open_checkout(folder: Path) -> Checkout:
    """``folder`` as a work tree, or a PatchError that says what it is instead."""
    given = str(folder)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise PatchError(f"--to {given!r} {what}; give the checkout of the target to patch")
    probe = Checkout(folder, given, "")
    code, out, err = probe.run("rev-parse", "--show-prefix")
    if code != 0:
        raise PatchError(
            f"--to {given!r} is not a git work tree (git: {err}); give the target's git checkout"
        )
    return Checkout(folder, given, out.strip())


def require_clean(checkout: Checkout) -> None:
    code, out, err = checkout.run("status", "--porcelain", "--untracked-files=no")
    if code != 0:
        raise PatchError(f"git status failed in {checkout.given}: {err}")
    changed = [line[3:] for line in out.splitlines() if line.strip()]
    if changed:
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        raise PatchError(
            f"{checkout.given} has uncommitted changes ({', '.join(changed[:5])}{more}); commit "
            "or stash them first, so the patch is the only change to review"
        )


def require_base(checkout: Checkout, patch: PatchRow) -> None:
    """HEAD is the patch's base commit; a patch with no base (the target was not a git checkout)
    is let through with a warning, since ``git apply --check`` still checks every hunk."""
    code, out, err = checkout.run("rev-parse", "--verify", "HEAD")
    if code != 0:
        raise PatchError(f"{checkout.given} has no commit yet (git: {err}); commit first")
    head, base = out.strip(), patch.base_commit
    if base is None:
        print(
            f"autocoder: warning: {patch.id} has no base commit (its target was not a git "
            f"checkout); applying it to {head[:12]} if every hunk applies",
            file=sys.stderr,
        )
        return
    if head == base or (len(base) >= 7 and head.startswith(base)):
        return
    known = checkout.run("cat-file", "-e", f"{base}^{{commit}}")[0] == 0
    missing = "" if known else " (a commit this repository does not have: fetch it first)"
    raise PatchError(
        f"{checkout.given} is at {head[:12]} but {patch.id} was made at {base[:12]}{missing}; "
        f"check out the base (`git -C {checkout.given} switch -c autocoder/{patch.id} "
        f"{base[:12]}`) or run the {WORKER} worker on {head[:12]}"
    )


def apply_diff(checkout: Checkout, patch: PatchRow) -> list[str]:
    """Apply the diff to the work tree; the changed files as ``path (+added -deleted)``."""
    with tempfile.TemporaryDirectory(prefix="autocoder-apply-") as scratch:
        diff = Path(scratch) / f"{patch.id}.diff"
        diff.write_text(patch.diff, encoding="utf-8")
        where = [f"--directory={checkout.prefix.rstrip('/')}"] if checkout.prefix else []
        code, _out, err = checkout.run("apply", "--check", *where, str(diff))
        if code != 0:
            raise PatchError(
                f"{patch.id} does not apply to {checkout.given}: {err or 'git apply failed'}"
            )
        _code, listing, _err = checkout.run("apply", "--numstat", "--summary", *where, str(diff))
        code, _out, err = checkout.run("apply", *where, str(diff))
        if code != 0:
            raise PatchError(f"git apply failed in {checkout.given} after its check: {err}")
    lines = listing.splitlines()
    created = [line.split(maxsplit=3)[3] for line in lines if line.startswith(" create mode ")]
    if created:  # so that `git diff` shows them; git apply --intent-to-add mangles the index
        checkout.run("add", "--intent-to-add", "--", *(f":/{path}" for path in created))
    return [_stat_line(line, checkout.prefix) for line in lines if "\t" in line]


def _stat_line(line: str, prefix: str) -> str:
    added, deleted, path = line.split("\t", 2)
    return f"{path.removeprefix(prefix)} (+{added} -{deleted})"


def apply_patch(
    ctx: typer.Context,
    patch_id: Annotated[
        str, typer.Argument(metavar="PATCH_ID", help="a patch id, or its start, from `patches`")
    ],
    to: Annotated[Path, typer.Option(metavar="DIR", help="the git checkout to change")],
    data_dir: SourceDataDir = None,
    repo: Repo = None,
    force: Annotated[
        bool, typer.Option("--force", help="apply a patch labelled failed too")
    ] = False,
) -> None:
    _settings, reader = read_dataset(ctx, worker_info(WORKER).dataset, data_dir, repo)
    patch = find_patch(newest_patches(reader), patch_id, reader.location)
    if patch.status == "failed" and not force:
        raise PatchError(
            f"{patch.id} failed its verification at {patch.failed_step or 'a step'}; "
            "`autocoder patches --json` shows why; pass --force to apply it anyway"
        )
    checkout = open_checkout(to)
    require_clean(checkout)
    require_base(checkout, patch)
    changed = apply_diff(checkout, patch)
    print(f"applied {patch.id} ({patch.fixer}, {patch.status}) to {checkout.given}:")
    for line in changed:
        print(f"  {line}")
    print(f"nothing is staged or committed: review it with `git -C {checkout.given} diff`")


def register(app: typer.Typer) -> None:
    app.command("patches", help="list the implementation worker's patches")(list_patches)
    app.command("apply", help="apply one patch to a clean git checkout at its base")(apply_patch)
