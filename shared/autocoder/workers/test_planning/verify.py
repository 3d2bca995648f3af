"""Running generated tests against the unmodified target, in a subprocess, outside its tree.

Only with ``AUTOCODER_RUN_TARGET_TESTS=1``: it executes the target's code. A generated test that
fails is kept with status ``failed`` ("this fails today: possible bug"), never dropped; one whose
subject this environment cannot import is ``blocked``. Each says why in ``status_detail``. The
subjects' source folders go on ``PYTHONPATH``; a conftest sets Django up when
``DJANGO_SETTINGS_MODULE`` is set. pytest runs in the :mod:`autocoder.engine.sandbox`: of the
worker's environment it sees only ``DJANGO_SETTINGS_MODULE`` (and PYTHONPATH), never a token, and
its HOME is a temporary folder.
"""

from __future__ import annotations

import ast
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine import sandbox
from autocoder.errors import ToolError, ToolTimeout
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.specs import BLOCKED

PER_TEST_TIMEOUT_S = 30  # pytest-timeout: one hung generated test cannot stall the batch
MAX_DETAIL = 300
CONFTEST = '''"""Written by autocoder next to its generated tests: set up what the target configures
by environment, as the target's own test configuration would (Django: DJANGO_SETTINGS_MODULE)."""

import os
import warnings


def pytest_configure(config):
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        try:
            import django

            django.setup()
        except Exception as error:  # the tests that need it are then blocked, with the reason
            warnings.warn(f"django.setup() failed: {error!r}", stacklevel=1)
'''


def _write_tests(folder: Path, specs: list[TestSpec]) -> None:
    (folder / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    for spec in specs:
        (folder / f"test_{spec.id}.py").write_text(spec.test_code, encoding="utf-8")


def source_roots(root: Path, specs: list[TestSpec]) -> list[Path]:
    """The folders the subjects import from: ``shared/`` for ``shared/pkg/mod.py`` named
    ``pkg.mod``; the checkout itself for a flat layout."""
    roots: dict[Path, None] = {root: None}
    for spec in specs:
        module = spec.subject.partition(":")[0]
        parts = Path(spec.file).with_suffix("").parts
        depth = len(module.split(".")) + (parts[-1:] == ("__init__",))
        roots[root.joinpath(*parts[:-depth])] = None
    return list(roots)


def _pytest(
    root: Path,
    folder: Path,
    args: list[str],
    timeout_s: float,
    specs: list[TestSpec],
    memory_mb: int,
) -> subprocess.CompletedProcess[str]:
    """pytest over ``folder`` in the sandbox: the subjects' source roots (and the worker's own
    PYTHONPATH) importable, no token in the environment, a temporary HOME."""
    paths = [*source_roots(root, specs), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    env = {"PYTHONDONTWRITEBYTECODE": "1",
           "HYPOTHESIS_STORAGE_DIRECTORY": str(folder / ".hypothesis")}  # fmt: skip
    options = ["-p", "no:cacheprovider", "--rootdir", str(folder), "-o", "addopts=",
               "-o", f"timeout={PER_TEST_TIMEOUT_S}", "-q"]  # fmt: skip
    try:
        return sandbox.run_python(
            "pytest", [*options, *args, str(folder)],
            cwd=folder,  # the target is on the path, but its checkout is never the working folder
            timeout_s=timeout_s, memory_mb=memory_mb, import_paths=[str(p) for p in paths if p],
            env=env, pass_env=sandbox.TARGET_TEST_ENV,
        )  # fmt: skip
    except ToolTimeout:
        raise ToolError(f"generated tests ran longer than {timeout_s:.0f}s in {root}") from None


def _spec_id_of(case: ET.Element) -> str:
    """The spec a junit test case came from: its module ``test_<id>``, or for a module-level
    skip or collection error (empty classname) the file named in the case's name."""
    module = case.get("classname", "").rsplit(".", 1)[-1]
    if not module:
        module = Path(case.get("name", "").split("::")[0]).stem
    return module.removeprefix("test_")


def _outcome(case: ET.Element) -> tuple[str, str]:
    """(status, detail) of one junit test case: the detail is the exception or skip reason."""
    for tag, status in (("failure", "failed"), ("error", "error"), ("skipped", "not_run")):
        found = case.find(tag)
        if found is not None:
            detail = _detail(found)
            return ("blocked" if BLOCKED in detail else status), detail
    return "passed", ""


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


def run_generated_tests(
    root: Path,
    specs: list[TestSpec],
    timeout_s: float,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
) -> list[TestSpec]:
    """The specs with ``status`` set from running their tests (a spec's worst test wins)."""
    if not specs:
        return specs
    order = {"passed": 0, "not_run": 1, "blocked": 2, "failed": 3, "error": 4}
    with tempfile.TemporaryDirectory(prefix="autocoder-generated-") as tmp:
        folder = Path(tmp)
        _write_tests(folder, specs)
        junit = folder / "junit.xml"
        options = [f"--junitxml={junit}", "--continue-on-collection-errors"]
        _pytest(root, folder, options, timeout_s, specs, memory_mb)
        status: dict[str, tuple[str, str]] = {}
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
                spec_id = _spec_id_of(case)
                outcome = _outcome(case)
                if order[outcome[0]] >= order[status.get(spec_id, ("passed", ""))[0]]:
                    status[spec_id] = outcome
    missing = ("error", "pytest reported nothing for this test (crashed or timed out)")
    updates = {s.id: status.get(s.id, missing) for s in specs}
    return [
        s.model_copy(update={"status": updates[s.id][0], "status_detail": updates[s.id][1]})
        for s in specs
    ]


@dataclass(frozen=True)
class Collection:
    """What ``pytest --collect-only`` made of the generated tests (nothing is run)."""

    items: int  # test items collected
    blocked: dict[str, str]  # spec id -> why the environment cannot import its subject
    errors: dict[str, str]  # spec id -> why its test module does not collect
    output: str


def collect_generated_tests(
    root: Path,
    specs: list[TestSpec],
    timeout_s: float = 300,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
) -> Collection:
    """Collect the specs' tests: how many items, which specs the environment blocks, and which
    fail to collect (read from pytest's junit report, not from its console summary)."""
    blocked: dict[str, str] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="autocoder-collect-") as tmp:
        folder = Path(tmp)
        _write_tests(folder, specs)
        junit = folder / "junit.xml"
        options = ["--collect-only", f"--junitxml={junit}", "--continue-on-collection-errors"]
        done = _pytest(root, folder, options, timeout_s, specs, memory_mb)
        cases = ET.parse(junit).getroot().iter("testcase") if junit.exists() else iter(())  # noqa: S314
        for case in cases:
            status, detail = _outcome(case)
            found = blocked if status == "blocked" else errors if status == "error" else {}
            found[_spec_id_of(case)] = detail
    items = sum(1 for line in done.stdout.splitlines() if line.startswith("test_") and "::" in line)
    return Collection(items, blocked, errors, done.stdout + done.stderr)
