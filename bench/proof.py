"""The proof table: every promise of the README checked under faults, hostile input, secrets,
access and load, printed as ONE table (section | check | result | figure) and a totals line.

It runs ``pytest tests/test_proof_*.py`` with ``AUTOCODER_PROOF=full`` (``--short``: the CI
size) and a JUnit XML report, takes the rows each test recorded with ``proofkit.proof_row``,
adds every failed or skipped test (with its reason) and every passed test that recorded no row,
then runs the load bench (``proof_load.py``: full, 10k and 100k records and 50 viewers; short,
300 records and 5 viewers) and adds its rows. ``tests/test_proof_load.py`` is left out of the
pytest run: the load bench itself runs here, at the size of the run.

Exit status 0 only when every check passed (a skipped check is not a pass; ``--allow-skipped``
accepts them). ``--markdown`` prints the table as Markdown, for the README's reliability section.

Run: ``.venv/bin/python bench/proof.py [--short] [--markdown] [--allow-skipped]`` from the repo.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from proofkit import PROOF_ENV, ROW_PROPERTY  # noqa: E402

NOT_PROOFS = {"test_proof_load.py", "test_proof_runner.py"}  # run here / tests of this script
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
SIZES = {"full": ([10_000, 100_000], 50, 20), "short": ([300], 5, 3)}  # records, viewers, rounds
REASON_CHARS = 160


@dataclass(frozen=True)
class Row:
    """One line of the table; ``status`` is passed, failed or skipped."""

    section: str
    check: str
    result: str
    figure: str
    status: str

    def cells(self) -> list[str]:
        return [self.section, self.check, self.result, self.figure]


def proof_files(tests: Path = TESTS) -> list[Path]:
    """The proof test modules, without the load test and the tests of this script."""
    return sorted(p for p in tests.glob("test_proof_*.py") if p.name not in NOT_PROOFS)


def run_pytest(paths: list[Path], junit: Path, full: bool, cwd: Path = ROOT) -> int:
    """pytest over ``paths`` at the size of the run, writing ``junit``; its exit status.

    ``junit_family=xunit1``: pytest's default (xunit2) has no per-test properties, and
    ``record_property`` then warns, which the repo's ``filterwarnings = error`` makes an error."""
    env = {**os.environ, PROOF_ENV: "full" if full else "short"}
    argv = [sys.executable, "-m", "pytest", *map(str, paths), "-q", "-p", "no:cacheprovider",
            f"--junitxml={junit}", "-o", "junit_family=xunit1"]  # fmt: skip
    # pytest's progress goes to stderr: stdout is the table alone (``--markdown > table.md``)
    return subprocess.run(argv, cwd=cwd, env=env, stdout=sys.stderr, check=False).returncode


def _reason(element: ET.Element) -> str:
    """The first line of a failure's or skip's message, short enough for a table cell."""
    text = (element.get("message") or element.text or "").strip()
    first = text.splitlines()[0] if text else element.tag
    return first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1] + "…"


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag, status in (("failure", FAILED), ("error", FAILED), ("skipped", SKIPPED)):
        found = case.find(tag)
        if found is not None:
            return status, _reason(found)
    return PASSED, ""


def _section(case: ET.Element) -> str:
    """``tests.test_proof_faults`` -> ``faults``: the section of a test that recorded no row."""
    module = (case.get("classname") or "").split(".")
    name = next((part for part in module if part.startswith("test_")), module[-1])
    return name.removeprefix("test_proof_").removeprefix("test_") or "other"


def case_rows(case: ET.Element) -> list[Row]:
    """The rows one test case recorded, marked with its outcome; one row if it recorded none."""
    status, reason = _outcome(case)
    recorded = [
        json.loads(prop.get("value") or "{}")
        for prop in case.iter("property")
        if prop.get("name") == ROW_PROPERTY
    ]
    if not recorded:
        said = {PASSED: "passed", FAILED: f"FAILED: {reason}", SKIPPED: f"skipped: {reason}"}
        return [Row(_section(case), case.get("name", "?"), said[status], "", status)]
    rows = []
    for row in recorded:
        result = row.get("result", "")
        if status != PASSED:
            result = f"{'FAILED' if status == FAILED else 'skipped'}: {reason}"
        rows.append(Row(row.get("section", _section(case)), row.get("check", "?"), result,
                        row.get("figure", ""), status))  # fmt: skip
    return rows


def rows_from_junit(path: Path) -> list[Row]:
    """Every test case's rows in the JUnit XML report at ``path``, in the order they ran."""
    if not path.exists():
        return [Row("runner", "pytest", "FAILED: no JUnit report was written", "", FAILED)]
    return [row for case in ET.parse(path).getroot().iter("testcase") for row in case_rows(case)]


def load_rows(size: str, base: Path) -> list[Row]:
    """The load bench's rows at ``size`` (full or short); one failed row if it cannot run."""
    records, viewers, rounds = SIZES[size]
    try:
        import proof_load

        found = proof_load.run(records, viewers, rounds, 1.0, base)
    except Exception as e:  # an app that does not start is a failed check, not a crash
        return [Row("load", "load bench", f"FAILED: {type(e).__name__}: {e}"[:200], "", FAILED)]
    rows = [r for m in found for r in proof_load.rows_of(m)]
    return [Row(r["section"], r["check"], r["result"], r["figure"],
                PASSED if r["passed"] else FAILED) for r in rows]  # fmt: skip


def _cell(text: str, markdown: bool) -> str:
    one_line = " ".join(text.split())
    return one_line.replace("|", "\\|") if markdown else one_line


def table(rows: list[Row], markdown: bool = False) -> str:
    """The one table: Markdown, or plain columns padded to their widest cell."""
    head = ["section", "check", "result", "figure"]
    body = [[_cell(c, markdown) for c in row.cells()] for row in rows]
    if markdown:
        marked = [f"| {' | '.join(head)} |", "|---|---|---|---|"]
        return "\n".join([*marked, *(f"| {' | '.join(cells)} |" for cells in body)])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [head, ["-" * w for w in widths], *body]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in lines)  # fmt: skip


def totals(rows: list[Row], size: str, seconds: float) -> str:
    count = {s: sum(r.status == s for r in rows) for s in (PASSED, FAILED, SKIPPED)}
    return (f"{len(rows)} checks: {count[PASSED]} passed, {count[FAILED]} failed, "
            f"{count[SKIPPED]} skipped ({size} run, {seconds:.0f} s)")  # fmt: skip


def exit_status(rows: list[Row], allow_skipped: bool = False) -> int:
    """0 only when every check passed (or was skipped, with ``allow_skipped``) and there is one."""
    accepted = {PASSED, SKIPPED} if allow_skipped else {PASSED}
    return 0 if rows and all(r.status in accepted for r in rows) else 1


def collect(size: str, base: Path) -> list[Row]:
    """The proof tests' rows, then the load bench's."""
    junit = base / "proof-junit.xml"
    files = proof_files()
    rows = []
    if files:
        run_pytest(files, junit, full=size == "full")
        rows = rows_from_junit(junit)
    return [*rows, *load_rows(size, base)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI size, not the README's")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--allow-skipped", action="store_true", help="a skipped check passes")
    args = parser.parse_args(argv)
    size, started = ("short" if args.short else "full"), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proof-") as tmp:
        rows = collect(size, Path(tmp))
    print("\n" + table(rows, args.markdown) + "\n")
    print(totals(rows, size, time.monotonic() - started))
    return exit_status(rows, args.allow_skipped)


if __name__ == "__main__":
    raise SystemExit(main())
