"""Running a test suite: pytest in the :mod:`.sandbox`, each test's outcome read from its junit
report, never from its console summary.

It executes the code under test, so callers run it only when the user opted in
(``AUTOCODER_RUN_TARGET_TESTS=1``). pytest runs as ``python -P -s -m pytest`` with exactly the
given folders importable, no credential in its environment (of the worker's variables only
``DJANGO_SETTINGS_MODULE``), a temporary HOME, a memory limit and a timeout that ends the whole
process group. What pytest itself would write goes to a temporary folder: its cache plugin is
off, bytecode is not written, Hypothesis keeps its examples there, and so does the junit report.
A test suite is named by files or folders (or nothing: the suite the root's configuration names).
"""

from __future__ import annotations

import ast
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine import sandbox

PER_TEST_TIMEOUT_S = 30.0  # pytest-timeout: one hung test cannot stall the whole run
MAX_DETAIL = 300  # characters of a failure's most telling line
STATUSES = ("passed", "failed", "error", "skipped")
NO_TESTS_COLLECTED = 5  # pytest's exit code when it found no test
_NODE_ID = re.compile(r"^\S+\.py::")  # a line of ``pytest --collect-only -q``


@dataclass(frozen=True)
class TestOutcome:
    """One junit test case: a test, or a module that failed to collect or was skipped whole."""

    __test__ = False  # not a pytest test class

    classname: str  # dotted module (and class) of the test; "" for a module-level report
    name: str  # the test's name; for a module-level report the module's dotted name or path
    status: str  # one of STATUSES
    detail: str  # the exception's last line or the skip reason; "" when it passed


@dataclass(frozen=True)
class TestRun:
    """What one pytest run did: each test's outcome, its exit code and its console output."""

    __test__ = False

    outcomes: tuple[TestOutcome, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def collected(self) -> int:
        """Test items a ``collect_only`` run listed (pytest's junit report names none of them)."""
        return sum(1 for line in self.stdout.splitlines() if _NODE_ID.match(line))

    def summary(self) -> dict[str, int]:
        """Tests per status (every status present, zeros included) and the ``total``."""
        counts = Counter(outcome.status for outcome in self.outcomes)
        return {**{status: counts[status] for status in STATUSES}, "total": len(self.outcomes)}


def run_tests(
    tests: Sequence[Path],
    *,
    source_root: Path,
    timeout_s: float,
    import_paths: Sequence[Path | str] | None = None,
    rootdir: Path | None = None,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
    per_test_timeout_s: float | None = PER_TEST_TIMEOUT_S,
    collect_only: bool = False,
    extra_args: Sequence[str] = (),
    coverage_data: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> TestRun:
    """Run the test files or folders ``tests`` (none: what the configuration names) against the
    tree at ``source_root`` and return every test's outcome.

    ``import_paths`` (default ``[source_root]``) are the only folders on the path besides the
    interpreter's own packages. pytest runs in ``rootdir`` (``--rootdir`` and working folder)
    when given, else in ``source_root`` with the root's own configuration. ``coverage_data``
    runs it under ``coverage run`` measuring ``source_root``. Any exit code is returned (see
    :data:`NO_TESTS_COLLECTED`); raises ToolTimeout after ``timeout_s`` (the process group is
    killed) and ToolError when the memory limit was hit.
    """
    with tempfile.TemporaryDirectory(prefix="autocoder-testrun-") as tmp:
        junit = Path(tmp) / "junit.xml"
        options = ["-p", "no:cacheprovider", "-q", f"--junitxml={junit}"]
        if rootdir is not None:
            options += ["--rootdir", str(rootdir)]
        if per_test_timeout_s is not None:
            options += ["-o", f"timeout={per_test_timeout_s:g}"]
        if collect_only:
            options.append("--collect-only")
        module, head = "pytest", []
        if coverage_data is not None:
            module = "coverage"
            head = ["run", "--data-file", str(coverage_data), "--source", str(source_root),
                    "-m", "pytest"]  # fmt: skip
        done = sandbox.run_python(
            module, [*head, *options, *extra_args, *(str(t) for t in tests)],
            cwd=rootdir or source_root, timeout_s=timeout_s, memory_mb=memory_mb,
            import_paths=list(import_paths) if import_paths is not None else [source_root],
            env={"PYTHONDONTWRITEBYTECODE": "1", "HYPOTHESIS_STORAGE_DIRECTORY":
                 str(Path(tmp) / "hypothesis"), **(env or {})},
            pass_env=sandbox.TARGET_TEST_ENV,
        )  # fmt: skip
        outcomes = read_junit(junit) if junit.exists() else ()
    return TestRun(outcomes, done.returncode, done.stdout, done.stderr)


def read_junit(report: Path) -> tuple[TestOutcome, ...]:
    """The test cases of a pytest junit report; none when it is not XML. The tests under run
    could rewrite it: expat (2.4 and later) refuses the entity expansions that would make parsing
    it blow up, and a broken report reads as "pytest reported nothing"."""
    try:
        cases = ET.parse(report).getroot().iter("testcase")  # noqa: S314
    except ET.ParseError:
        return ()
    return tuple(_outcome(case) for case in cases)


def _outcome(case: ET.Element) -> TestOutcome:
    status, detail = "passed", ""
    for tag, found_status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            status, detail = found_status, _detail(found)
            break
    return TestOutcome(case.get("classname", ""), case.get("name", ""), status, detail)


def _detail(element: ET.Element) -> str:
    """The most telling line: the last ``E   `` line of a traceback, the reason of a skip (a
    module-level skip's text is the repr of ``(file, line, reason)``), else the message."""
    text = (element.text or "").strip()
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if errors:
        return errors[-1][:MAX_DETAIL]
    try:
        where = ast.literal_eval(text) if text.startswith("(") else None
    except (ValueError, SyntaxError):
        where = None
    if isinstance(where, tuple) and len(where) == 3:
        return str(where[2]).removeprefix("Skipped: ")[:MAX_DETAIL]
    return (element.get("message") or text)[:MAX_DETAIL]
