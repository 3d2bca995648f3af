"""Running a test suite: pytest in the :mod:`.sandbox` and the target's throwaway
:mod:`.testenv` environment, each test's outcome read from its junit report, never from its
console summary.

It executes the code under test, so callers run it only when the user opted in
(``AUTOCODER_RUN_TARGET_TESTS=1``). pytest runs as ``python -P -s -m pytest`` from the throwaway
environment's interpreter, with the target's folders first on the path (ahead of every installed
package, so the target's source shadows an installed copy of itself), no credential in its
environment (of the worker's variables only ``DJANGO_SETTINGS_MODULE``), a PATH of the
environment's ``bin`` and the system's, a temporary HOME and working folder (never the checkout),
a memory limit and a timeout that ends the whole process group. What pytest itself would write
goes to a temporary folder: its cache plugin is off, bytecode is not written, Hypothesis keeps
its examples there, and so does the junit report. The worker's own site folders are fingerprinted
before and after: a change is an error, never a quiet "1 skipped". A test suite is named by
files or folders (or nothing: the ``testpaths`` the root's configuration names).
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import re
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine import sandbox, testenv
from autocoder.errors import ToolError

PER_TEST_TIMEOUT_S = 30.0  # pytest-timeout: one hung test cannot stall the whole run
MAX_DETAIL = 300  # characters of a failure's most telling line
STATUSES = ("passed", "failed", "error", "skipped")
MESSAGE_CHARS = 2000  # of a failure's message kept: enough for its first lines
NO_TESTS_COLLECTED = 5  # pytest's exit code when it found no test
_NODE_ID = re.compile(r"^\S+\.py::")  # a line of ``pytest --collect-only -q``
_LOCATION = re.compile(r"^(\S[^:]*\.py):\d+: (.*)$")  # a traceback entry's location line
_MISSING = re.compile(r"No module named '([\w.]+)'")  # an ImportError's message


@dataclass(frozen=True)
class TestOutcome:
    """One junit test case: a test, or a module that failed to collect or was skipped whole."""

    __test__ = False  # not a pytest test class

    classname: str  # dotted module (and class) of the test; "" for a module-level report
    name: str  # the test's name; for a module-level report the module's dotted name or path
    status: str  # one of STATUSES
    detail: str  # the exception's last line or the skip reason; "" when it passed
    where: str = ""  # the file of the frame that raised (a failure or error), as pytest names it
    raised: str = ""  # the exception's type name there (``TypeError``, ``AssertionError``)
    message: str = ""  # the whole exception message, its first lines too (capped)


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
    cache_dir: Path | None = None,
) -> TestRun:
    """Run the test files or folders ``tests`` (none: the ``testpaths`` the configuration
    names, else the whole root) against the tree at ``source_root`` and return every outcome.

    ``import_paths`` (default :func:`import_roots` of ``source_root``) come first on the path,
    ahead of every installed package. pytest's ``--rootdir`` is ``rootdir`` when given, else
    ``source_root``; its working folder is an empty temporary one, never the checkout. It runs in
    the target's :mod:`.testenv` environment (kept under ``cache_dir``, else a temporary one).
    ``coverage_data`` runs it under ``coverage run`` measuring ``source_root``. Any exit code is
    returned (see :data:`NO_TESTS_COLLECTED`); raises ToolTimeout after ``timeout_s`` (the process
    group is killed), ToolError when the memory limit was hit, and ToolError when the worker's
    own site folders changed while the tests ran (never ignore it: the worker needs reinstalling).
    """
    root = rootdir or source_root
    paths = list(import_paths) if import_paths is not None else import_roots(source_root)
    with (
        tempfile.TemporaryDirectory(prefix="autocoder-testrun-") as tmp,
        testenv.test_environment(cache_dir, root) as environment,
    ):
        junit, cwd = Path(tmp) / "junit.xml", Path(tmp) / "cwd"
        cwd.mkdir()
        options = ["-p", "no:cacheprovider", "-q", f"--junitxml={junit}", "--rootdir", str(root)]
        if per_test_timeout_s is not None:
            options += ["-o", f"timeout={per_test_timeout_s:g}"]
        options += plugin_options()
        if collect_only:
            options.append("--collect-only")
        module, head = "pytest", []
        if coverage_data is not None:
            module = "coverage"
            head = ["run", "--data-file", str(coverage_data), "--source", str(source_root),
                    "-m", "pytest"]  # fmt: skip
        targets = [str(t) for t in tests] or [str(t) for t in configured_testpaths(root)]
        sites = testenv.worker_site_dirs()
        before = testenv.fingerprint(sites)
        done = sandbox.run_python(
            module, [*head, *options, *extra_args, *targets], cwd=cwd, timeout_s=timeout_s,
            memory_mb=memory_mb, import_paths=paths, python=environment.python,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": environment.path_variable,
                 "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(tmp) / "hypothesis"), **(env or {})},
            pass_env=sandbox.TARGET_TEST_ENV,
        )  # fmt: skip
        if changed := testenv.changes(before, testenv.fingerprint(sites)):
            raise ToolError(
                f"the tests of {root} changed the worker's own environment ({len(changed)} "
                f"entries: {'; '.join(changed[:10])}); reinstall the worker before trusting it"
            )
        outcomes = read_junit(junit) if junit.exists() else ()
    return TestRun(outcomes, done.returncode, done.stdout, done.stderr)


def missing_modules(output: str) -> list[str]:
    """The top-level modules a run could not import (``No module named 'x.y'`` -> ``x``),
    sorted: what the tests need and the environment lacks."""
    return sorted({name.split(".")[0] for name in _MISSING.findall(output)})


def plugin_options() -> list[str]:
    """What keeps the worker's pytest and plugins, newer than the target's own, from failing a
    suite whose ``filterwarnings = error`` turns their deprecation warnings into errors: a
    target pinned to an older pytest (``parametrize`` of an iterator), pytest-asyncio's unset
    loop scope. Warnings of the target's own code still count."""
    options = ["-W", "ignore::pytest.PytestDeprecationWarning"]
    if importlib.util.find_spec("pytest_asyncio") is not None:
        options += ["-o", "asyncio_default_fixture_loop_scope=function"]
    return options


def import_roots(root: Path) -> list[Path]:
    """Where a checkout's code imports from: ``src/`` of a src layout first, then the root."""
    src = root / "src"
    return [src, root] if src.is_dir() and not (src / "__init__.py").exists() else [root]


def configured_testpaths(root: Path) -> list[Path]:
    """The ``testpaths`` of the root's pytest configuration (the file pytest itself would read
    first), globs expanded; the root itself when none names them. Passed explicitly, since
    pytest reads ``testpaths`` only when started in the rootdir, which the tests never are."""
    names: list[str] = []
    for file, section in _CONFIGS:
        found = _testpaths_in(root / file, section)
        if found is not None:
            names = found
            break
    paths = [p for name in names for p in sorted(root.glob(name)) if p.exists()]
    return paths or [root]


_CONFIGS = (("pytest.ini", "pytest"), (".pytest.ini", "pytest"), ("pyproject.toml", ""),
            ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))  # fmt: skip


def _testpaths_in(file: Path, section: str) -> list[str] | None:
    """The file's ``testpaths`` ([] when it configures pytest without them), or None when it
    does not configure pytest (or cannot be read)."""
    try:
        text = file.read_text(encoding="utf-8")
        if not section:
            table = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options")
            if not isinstance(table, dict):
                return None
            value = table.get("testpaths", [])
            return [value] if isinstance(value, str) else [str(v) for v in value]
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
    except (OSError, UnicodeDecodeError, ValueError, configparser.Error):
        return None
    if not parser.has_section(section):
        return None
    return parser.get(section, "testpaths", fallback="").split()


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
    status, detail, where, message = "passed", "", ("", ""), ""
    for tag, found_status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            status, detail = found_status, _detail(found)
            where = _raised_in(found.text or "") if found_status != "skipped" else ("", "")
            message = (found.get("message") or "")[:MESSAGE_CHARS]
            break
    return TestOutcome(
        case.get("classname", ""), case.get("name", ""), status, detail, *where, message
    )


def _raised_in(text: str) -> tuple[str, str]:
    """The file of a traceback's last entry and the exception's name there (``path.py:12:
    TypeError``; ``""`` for an entry in the middle, ``path.py:12: in f``)."""
    found = [m for m in map(_LOCATION.match, text.splitlines()) if m]
    if not found:
        return "", ""
    said = found[-1].group(2)
    return found[-1].group(1), "" if said.startswith("in ") else said.split(".")[-1].strip()


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
