"""Unreadable shards in a local dataset folder: found at start, told one way, moved aside.

A shard is unreadable when one of its lines is not a JSON object (a garbage line, a truncated
write from another tool, undecodable bytes, NaN or Infinity). ``datasets.load_dataset`` then
fails on the whole config, so every place that meets one (a worker starting, ``gate``,
``sarif``, ``tests --write``) says the same line, :meth:`BadShard.message`, naming the file and
the fix. :func:`parse_shard` is the one reading of a shard: the commands
(:mod:`autocoder.store.reader`), the dashboard's tail (:mod:`autocoder.store.tail`) and repair
all use it, so they agree on what is unreadable.

:func:`repair` moves each bad shard to ``quarantine/<its path>`` inside the dataset folder: the
card's configs only read ``data/<config>/*/*.jsonl``, so the folder loads again and nothing is
deleted. A shard with some good lines is rewritten with those lines (in their order) and the
original, whole, goes to quarantine: no readable row is lost. It moves shards holding the
folder's :func:`~autocoder.store.layout.dataset_lock`, which a worker's store holds for each
append, so it is safe while the workers run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autocoder.errors import StoreError
from autocoder.store.layout import CARD_PATH, atomic_write, dataset_lock

DATA_DIR = "data"
QUARANTINE_DIR = "quarantine"


@dataclass(frozen=True)
class BadShard:
    """One unreadable shard: its path in the dataset, the first bad line, and the good lines."""

    root: Path
    path: str  # inside the dataset folder, e.g. data/findings/0000/000000003.jsonl
    line: int  # 1-based number of the first bad line
    why: str
    good: tuple[bytes, ...]  # the lines that parse, newline-terminated, in file order

    @property
    def file(self) -> Path:
        return self.root / self.path

    def message(self, data_dir: Path | None = None) -> str:
        """The one line every reader prints for this shard."""
        where = data_dir if data_dir is not None else self.root.parent
        return (
            f"unreadable shard {self.file}: line {self.line} {self.why}; run "
            f"`autocoder repair --data-dir {where}` to move it aside into "
            f"{self.root / QUARANTINE_DIR}"
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def shard_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The lines of a shard that are not blank, with their 1-based numbers.

    Lines end at ``\\n`` only: shards are written with ``ensure_ascii=False``, so a U+2028,
    U+2029 or U+0085 inside a string value is a raw character of its line, not a line break
    (``str.splitlines`` would split there).
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield number, line


def parse_line(line: bytes) -> dict[str, Any] | str:
    """The row ``line`` holds, or why it is not a row: not UTF-8, not JSON, not an object, or
    holding NaN or Infinity (``load_dataset`` cannot read those)."""
    try:
        row = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except json.JSONDecodeError as e:
        return f"is not valid JSON ({e.msg} at column {e.colno})"
    except ValueError as e:  # NaN, Infinity, -Infinity
        return f"is not valid JSON ({e})"
    return row if isinstance(row, dict) else "is not a JSON object"


@dataclass(frozen=True)
class ParsedShard:
    """A shard's readable rows and lines, and its first unreadable line (None: it has none)."""

    rows: list[dict[str, Any]]
    good: tuple[bytes, ...]  # the lines that parse, newline-terminated, in file order
    bad: tuple[int, str] | None  # (1-based line number, why) of the first bad line


def parse_shard(data: bytes) -> ParsedShard:
    """The one reading of a shard that every reader (commands, tail, repair) shares."""
    rows: list[dict[str, Any]] = []
    good: list[bytes] = []
    first: tuple[int, str] | None = None
    for number, line in shard_lines(data):
        parsed = parse_line(line)
        if isinstance(parsed, dict):
            rows.append(parsed)
            good.append(line + b"\n")
        elif first is None:
            first = (number, parsed)
    return ParsedShard(rows=rows, good=tuple(good), bad=first)


def bad_shard(root: Path, path: str, parsed: ParsedShard) -> BadShard | None:
    """``parsed`` (the shard ``root/path``) as a :class:`BadShard`, or None when it is readable."""
    if parsed.bad is None:
        return None
    line, why = parsed.bad
    return BadShard(root=root, path=path, line=line, why=why, good=parsed.good)


def check_shard(root: Path, path: str) -> BadShard | None:
    """The shard ``root/path`` as a :class:`BadShard`, or None when every line is a row."""
    return bad_shard(root, path, parse_shard((root / path).read_bytes()))


def _shard_paths(root: Path) -> Iterator[str]:
    base = root / DATA_DIR
    if not base.is_dir():
        return
    for file in sorted(base.rglob("*.jsonl")):
        if file.is_file():
            yield file.relative_to(root).as_posix()


def bad_shards(root: Path) -> list[BadShard]:
    """Every unreadable shard under ``root/data``, in path order (the whole folder is read)."""
    found = (check_shard(root, path) for path in _shard_paths(root))
    return [bad for bad in found if bad is not None]


def dataset_folders(data_dir: Path) -> list[Path]:
    """The dataset folders of ``data_dir`` (those with a ``data`` folder), or ``data_dir``
    itself when it is one."""
    if (data_dir / DATA_DIR).is_dir():
        return [data_dir]
    if not data_dir.is_dir():
        return []
    return sorted(p for p in data_dir.iterdir() if (p / DATA_DIR).is_dir())


@dataclass(frozen=True)
class Repaired:
    """What :func:`repair` did to one shard."""

    shard: BadShard
    moved_to: Path
    kept: int  # good lines rewritten in place (0: the shard is gone from data/)

    def describe(self) -> str:
        kept = f", kept its {self.kept} readable rows in place" if self.kept else ""
        return (
            f"moved {self.shard.file} to {self.moved_to} "
            f"(line {self.shard.line} {self.shard.why}){kept}"
        )


def _free_name(target: Path) -> Path:
    """``target``, or ``target.N`` when an earlier repair already put a file there."""
    candidate, n = target, 1
    while candidate.exists():
        candidate = target.with_name(f"{target.name}.{n}")
        n += 1
    return candidate


def quarantine(bad: BadShard) -> Repaired:
    """Move ``bad`` into the quarantine folder, then rewrite its good lines in its place."""
    moved_to = _free_name(bad.root / QUARANTINE_DIR / bad.path)
    moved_to.parent.mkdir(parents=True, exist_ok=True)
    os.replace(bad.file, moved_to)
    if bad.good:
        atomic_write(bad.root, bad.path, b"".join(bad.good))
    return Repaired(shard=bad, moved_to=moved_to, kept=len(bad.good))


def _card_error(card: Path, why: str) -> StoreError:
    return StoreError(
        f"cannot update the dataset card {card}: {why}; nothing was moved. Restore its YAML "
        "front matter (or delete it: the worker writes a new one when it starts), then run "
        "`autocoder repair` again"
    )


def _read_card(card: Path) -> tuple[dict[str, Any], str, dict[str, str]]:
    """The card's front matter, its body, and each config's ``data_files`` glob; a card that is
    not one autocoder can update is a :class:`StoreError` naming it and the fix."""
    try:
        parts = card.read_text(encoding="utf-8").split("---\n", 2)
    except UnicodeDecodeError as e:
        raise _card_error(card, f"it is not UTF-8 text ({e.reason} at byte {e.start})") from e
    if len(parts) != 3 or parts[0]:
        raise _card_error(card, "it does not start with a `---` YAML front matter block")
    try:
        header = yaml.safe_load(parts[1])
    except yaml.YAMLError as e:
        raise _card_error(
            card, f"its front matter is not valid YAML ({e})".replace("\n", " ")
        ) from e
    if not isinstance(header, dict):
        raise _card_error(card, "its front matter is not a mapping")
    globs: dict[str, str] = {}
    for config in header.get("configs") or []:
        files = config.get("data_files") if isinstance(config, dict) else None
        first = files[0] if isinstance(files, list) and files else None
        if not isinstance(first, dict) or not isinstance(first.get("path"), str):
            name = config.get("config_name") if isinstance(config, dict) else config
            raise _card_error(card, f"config {name!r} has no data_files list of {{split, path}}")
        globs[str(config.get("config_name"))] = first["path"]
    if not isinstance(header.get("dataset_info") or [], list):
        raise _card_error(card, "its dataset_info is not a list")
    return header, parts[2], globs


def refresh_card_sizes(root: Path) -> None:
    """Set each config's ``dataset_size`` in the card to the bytes its shards hold now:
    ``datasets`` keys its cache of a local folder on the card, so without this a repaired
    folder would still load as the rows cached before the repair."""
    card = root / CARD_PATH
    if not card.is_file():
        return
    header, body, globs = _read_card(card)
    for info in header.get("dataset_info") or []:
        if isinstance(info, dict) and info.get("config_name") in globs:
            files = root.glob(globs[info["config_name"]])
            info["dataset_size"] = sum(f.stat().st_size for f in files if f.is_file())
    text = f"---\n{yaml.safe_dump(header, sort_keys=False)}---\n{body}"
    atomic_write(root, CARD_PATH, text.encode())


def _still_bad(root: Path, path: str) -> BadShard | None:
    try:
        return check_shard(root, path)
    except FileNotFoundError:
        return None


def repair(root: Path) -> list[Repaired]:
    """Quarantine every unreadable shard of the dataset folder ``root``; the card's sizes
    follow when anything moved.

    The folder is read without the lock; then, holding :func:`dataset_lock` (which a
    ``LocalStore`` takes for each append), each bad shard is read again and moved, so no row a
    running worker writes meanwhile is lost. A card that cannot be updated stops the repair
    before anything moves.
    """
    found = bad_shards(root)
    if not found:
        return []
    with dataset_lock(root):
        if (root / CARD_PATH).is_file():
            _read_card(root / CARD_PATH)
        now = (_still_bad(root, bad.path) for bad in found)
        done = [quarantine(bad) for bad in now if bad is not None]
        if done:
            refresh_card_sizes(root)
    return done
