"""Unreadable shards in a local dataset folder: found at start, told one way, moved aside.

A shard is unreadable when one of its lines is not a JSON object (a garbage line, a truncated
write from another tool, undecodable bytes). ``datasets.load_dataset`` then fails on the whole
config, so every place that meets one (a worker starting, ``gate``, ``sarif``, ``tests
--write``) says the same line, :meth:`BadShard.message`, naming the file and the fix.

:func:`repair` moves each bad shard to ``quarantine/<its path>`` inside the dataset folder: the
card's configs only read ``data/<config>/*/*.jsonl``, so the folder loads again and nothing is
deleted. A shard with some good lines is rewritten with those lines (in their order) and the
original, whole, goes to quarantine: no readable row is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from autocoder.store.layout import CARD_PATH, atomic_write

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


def _line_problem(line: bytes) -> str | None:
    """Why ``line`` is not a row of a shard, or None when it is one."""
    try:
        row = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except json.JSONDecodeError as e:
        return f"is not valid JSON ({e.msg} at column {e.colno})"
    return None if isinstance(row, dict) else "is not a JSON object"


def check_shard(root: Path, path: str) -> BadShard | None:
    """The shard ``root/path`` as a :class:`BadShard`, or None when every line is a row."""
    lines = (root / path).read_bytes().splitlines(keepends=True)
    first: tuple[int, str] | None = None
    good: list[bytes] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem = _line_problem(line)
        if problem is None:
            good.append(line if line.endswith(b"\n") else line + b"\n")
        elif first is None:
            first = (number, problem)
    if first is None:
        return None
    return BadShard(root=root, path=path, line=first[0], why=first[1], good=tuple(good))


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


def refresh_card_sizes(root: Path) -> None:
    """Set each config's ``dataset_size`` in the card to the bytes its shards hold now:
    ``datasets`` keys its cache of a local folder on the card, so without this a repaired
    folder would still load as the rows cached before the repair."""
    card = root / CARD_PATH
    if not card.is_file():
        return
    _, front, body = card.read_text(encoding="utf-8").split("---\n", 2)
    header = yaml.safe_load(front)
    globs = {c["config_name"]: c["data_files"][0]["path"] for c in header.get("configs", [])}
    for info in header.get("dataset_info", []):
        if info.get("config_name") in globs:
            files = root.glob(globs[info["config_name"]])
            info["dataset_size"] = sum(f.stat().st_size for f in files if f.is_file())
    text = f"---\n{yaml.safe_dump(header, sort_keys=False)}---\n{body}"
    atomic_write(root, CARD_PATH, text.encode())


def repair(root: Path) -> list[Repaired]:
    """Quarantine every unreadable shard of the dataset folder ``root``; the card's sizes
    follow when anything moved."""
    done = [quarantine(bad) for bad in bad_shards(root)]
    if done:
        refresh_card_sizes(root)
    return done
