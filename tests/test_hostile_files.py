"""Hostile files in a target: links out of it, link loops, files too big or too deep to parse.

Each hostile target is built here, in tmp_path: a copy of the ``shop`` fixture (known defects)
plus files that tried to read outside the target (a ``shop/creds.py`` link to a password file,
links to /etc/passwd and /etc/shadow, a linked folder), loops, a 50 MB module, expressions nested
2,000 deep, a 100,000-term chain, bytes that are not UTF-8 and a binary ``.py``. Before the fix the
outside password was published, ruff and deptry crashed, 14 of 15 test planning perspectives
failed with RecursionError, and the 50 MB module took the machine's memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main
from autocoder.engine.cache import ResultCache
from autocoder.engine.parsing import TOO_DEEP, VERDICT_TOOL, VERDICT_VERSION
from autocoder.engine.sources import LOOP, OUTSIDE, SourceFiles, too_large
from autocoder.schema import FINDINGS, RECORDS, SPECS
from autocoder.store.reader import LocalReader, read_shard

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "outside-" + "pw" * 4 + "-7e21c9"  # the password literal of the file outside
OUTSIDE_FUNCTION = "exfiltrated_" + "helper_4b9d"  # a name only the files outside define
BIG_BYTES = 50_000_000
LINKS_OUT = ["config/settings.ini", "notes/shadow", "shop/creds.py", "shop/passwd.py",
             "shop/vendored"]  # fmt: skip
LOOPS = ["shop/loop.py", "shop/ring_a.py", "shop/ring_b.py"]
TOO_DEEP_FILES = ["shop/deep_list.py", "shop/deep_parens.py", "shop/flat_chain.py"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def _outside(tmp_path: Path) -> Path:
    """Files the target links to: a password module, a folder of code, an ini with a password."""
    outside = tmp_path / "outside"
    (outside / "lib").mkdir(parents=True)
    module = (
        f'DB_PASSWORD = "{SECRET}"\n\n\n'
        f"def {OUTSIDE_FUNCTION}(amount: int) -> int:\n"
        "    if amount < 0:\n        raise ValueError('negative')\n    return amount * 2\n"
    )
    (outside / "creds.py").write_text(module)
    (outside / "lib" / "stolen.py").write_text(
        module.replace(OUTSIDE_FUNCTION, OUTSIDE_FUNCTION + "_2")
    )
    (outside / "settings.ini").write_text(f"[db]\npassword = {SECRET}\n")
    return outside


def _write_big_module(path: Path, size: int) -> None:
    """A valid Python module of ``size`` bytes, written a megabyte at a time."""
    chunk = "VALUE = 1\n" * 100_000
    with path.open("w") as fh:
        for _ in range(size // len(chunk)):
            fh.write(chunk)


def build_hostile_target(tmp_path: Path, big_bytes: int = BIG_BYTES, git: bool = True) -> Path:
    """The shop fixture with every hostile file of this module added (see the module)."""
    outside = _outside(tmp_path)
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "shop", target)
    (target / "config").mkdir()
    (target / "notes").mkdir()
    shop = target / "shop"
    links = {"shop/creds.py": outside / "creds.py", "shop/passwd.py": Path("/etc/passwd"),
             "notes/shadow": Path("/etc/shadow"), "config/settings.ini": outside / "settings.ini",
             "shop/vendored": outside / "lib", "shop/loop.py": Path("loop.py"),
             "shop/ring_a.py": Path("ring_b.py"), "shop/ring_b.py": Path("ring_a.py")}  # fmt: skip
    for name, points_to in links.items():
        (target / name).symlink_to(points_to)
    (shop / "deep_parens.py").write_text("x = " + "(" * 2000 + "1" + ")" * 2000 + "\n")
    (shop / "flat_chain.py").write_text("x = " + "+".join(["1"] * 100_000) + "\n")
    (shop / "deep_list.py").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    (shop / "latin.py").write_bytes(b"NAME = 'caf\xe9 \xff\xfe'\n")
    (shop / "blob.py").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    _write_big_module(shop / "huge.py", big_bytes)
    if git:
        _git(target, "init", "-q", "-b", "main")
        _git(target, "add", "-A")
        _git(target, "commit", "-q", "-m", "hostile")
    return target


def expected_skips(limit: int) -> dict[str, str]:
    return {
        **dict.fromkeys(LINKS_OUT, OUTSIDE), **dict.fromkeys(LOOPS, LOOP),
        **dict.fromkeys(TOO_DEEP_FILES, TOO_DEEP), "shop/huge.py": too_large(limit),
        "shop/latin.py": "not valid UTF-8", "shop/blob.py": "binary (NUL bytes)",
    }  # fmt: skip


@pytest.mark.parametrize("git", [True, False], ids=["git-ls-files", "folder-walk"])
def test_discovery_drops_links_out_loops_big_and_unparseable_files_with_the_reason(
    tmp_path: Path, git: bool
) -> None:
    target = build_hostile_target(tmp_path, big_bytes=2_000_000, git=git)
    sources = SourceFiles.discover(target, max_file_bytes=1_000_000)
    assert sources.skipped == expected_skips(1_000_000)
    assert not set(sources.files) & set(expected_skips(1_000_000))
    assert {"shop/orders.py", "shop/storage.py", "pyproject.toml"} <= set(sources.files)
    assert not any(f.startswith("shop/vendored/") for f in sources.files)
    assert sources.skipped_summary().startswith(
        "14 skipped: 5 symlink outside the target, 3 nesting deeper than 100, 3 symlink loop, "
    )
    assert sources.lines("shop/creds.py") == []  # what is skipped cannot be read either
    assert sources.parse("shop/creds.py") is None


def test_a_link_inside_the_target_is_kept_and_read_at_its_real_path(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "core.py").write_text("def f():\n    return 1\n")
    (tmp_path / "alias.py").symlink_to("pkg/core.py")
    sources = SourceFiles.discover(tmp_path)
    assert sources.files == ["alias.py", "pkg/core.py"]
    assert sources.path("alias.py") == (tmp_path / "pkg" / "core.py").resolve()
    assert sources.skipped == {}


def test_a_plain_syntax_error_is_kept_for_ruff_and_parse_says_why_it_gives_none(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "fine.py").write_text("x = [[[1]]]\n")
    sources = SourceFiles.discover(tmp_path)
    assert sources.python == ["broken.py", "fine.py"]
    assert sources.parse("broken.py") is None
    assert sources.unparsed["broken.py"].startswith("SyntaxError: ")
    assert sources.parse("fine.py") is not None


def test_a_syntax_error_with_a_chain_that_would_crash_ruff_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "chain.py").write_text("x = " + "+".join(["1"] * 6000) + "\ndef f(:\n")
    (tmp_path / "short.py").write_text("x = " + "+".join(["1"] * 900) + "\ndef f(:\n")
    sources = SourceFiles.discover(tmp_path)
    assert sources.skipped == {
        "chain.py": "does not parse and chains more than 1000 operators in one statement"
    }
    assert sources.python == ["short.py"]


def test_verdicts_are_kept_for_unchanged_files_and_checked_again_when_they_change(
    tmp_path: Path,
) -> None:
    root, deep = tmp_path / "target", "x = " + "-" * 150 + "1\n"
    root.mkdir()
    (root / "a.py").write_text("y = 1" + "0" * (len(deep) - 6) + "\n")
    (root / "b.py").write_text("z = 1\n")
    cache = ResultCache(tmp_path / "cache.sqlite3")
    first = SourceFiles.discover(root, cache=cache)
    assert first.files == ["a.py", "b.py"]
    kept = (root / "a.py").stat()
    (root / "a.py").write_text(deep)  # same size, and its time put back: the old verdict stands
    os.utime(root / "a.py", ns=(kept.st_atime_ns, kept.st_mtime_ns))
    (root / "b.py").write_text(deep)
    second = SourceFiles.discover(root, first, cache=cache)
    assert second.files == ["a.py"]
    assert second.skipped == {"b.py": TOO_DEEP}
    assert cache.get(VERDICT_TOOL, VERDICT_VERSION, second.digest("b.py")) == TOO_DEEP
    assert SourceFiles.discover(root).skipped == {"a.py": TOO_DEEP, "b.py": TOO_DEEP}


def test_the_mirror_for_folder_tools_holds_only_listed_files(tmp_path: Path) -> None:
    target = build_hostile_target(tmp_path, big_bytes=2_000_000, git=False)
    sources = SourceFiles.discover(target)
    mirror = tmp_path / "mirror"
    sources.mirror(mirror, [*sources.files, *sources.skipped])
    mirrored = sorted(p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_symlink())
    assert mirrored == sources.files
    root = str(target.resolve())
    assert all(os.path.realpath(mirror / f).startswith(root + os.sep) for f in mirrored)


def _written(data: Path) -> list[Path]:
    return [p for p in data.rglob("*") if p.is_file() and not p.is_symlink()]


def _rows(folder: Path, config: str) -> list[dict[str, Any]]:
    reader = LocalReader(folder)
    return [row for path in reader.list_files(config) for row in read_shard(reader, path)]


@pytest.mark.slow
def test_hostile_target_leaks_nothing_and_every_perspective_still_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = build_hostile_target(tmp_path)
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    monkeypatch.delenv("AUTOCODER_CACHE_DIR", raising=False)
    data = tmp_path / "data"
    for worker, iterations in (("analysis", "6"), ("test-planning", "15")):
        args = ["once", worker, "--target", str(target), "--data-dir", str(data)]
        assert main([*args, "--iterations", iterations]) == 0
    capsys.readouterr()
    analysis = data / "autocoder-analysis-results"
    planning = data / "autocoder-test-planning-results"
    records = _rows(analysis, RECORDS.folder) + _rows(planning, RECORDS.folder)
    assert len(records) == 21
    assert [r["perspective_name"] for r in records if r["status"] == "error"] == []
    assert all(r["error"] for r in records if r["status"] == "skipped")  # with the reason
    said = "14 skipped: 5 symlink outside the target, 3 nesting deeper than 100, 3 symlink loop, "
    for record in (r for r in records if r["status"] == "ok"):
        assert record["analysis"]["skipped"]["files"].startswith(said), record["perspective_name"]
        counted = record["analysis"]["metrics"]["skipped_files"]
        assert counted["total"] == 14 and counted["by_reason"][too_large(1_000_000)] == 1
    tools = {r["perspective_name"]: r["analysis"].get("tools", {}) for r in records}
    assert {"ruff", "radon"} <= set(tools["Code Quality Analysis"])  # no crash on deep files
    assert "deptry" in tools["Dependency Analysis"]  # ran on a mirror of the listed files
    assert {"bandit", "detect-secrets"} <= set(tools["Security Audit"])
    skipped = set(expected_skips(1_000_000))
    findings = _rows(analysis, FINDINGS.folder)
    specs = _rows(planning, SPECS.folder)
    assert not {f["file"] for f in findings} & skipped
    assert not {s["file"] for s in specs} & skipped
    assert ("shop/orders.py", "cyclomatic-complexity") in {(f["file"], f["rule"]) for f in findings}
    assert ("shop/storage.py", "B307") in {(f["file"], f["rule"]) for f in findings}
    assert any(s["subject"].startswith("shop.") for s in specs)
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0].encode()
    for path in _written(data):
        content = path.read_bytes()
        assert SECRET.encode() not in content, path
        assert OUTSIDE_FUNCTION.encode() not in content, path
        assert passwd_line not in content, path
        if path.suffix == ".jsonl":
            assert len(content) < 2_000_000, path
